"""Expressions that build a small structure of shared references (``[[[0]*1000]*1000]*1000``
is 6,000 items made, a billion as seen through its references) and then hand it to
something that walks every reference in C, out of reach of the sandbox's clock: a
comparison, a hash (dict and set lookups), sorting, an error message that quotes it.
Each must stop on an ExpressionError in bounded time (resource-exhaustion review).

No database: ``.venv/bin/pytest tests/bpmn/engine/test_expression_exhaustion.py``
"""

import pytest

from bpmn.engine.errors import ExpressionError
from bpmn.engine.expressions import SCRIPT_ENGINE
from tests.timing import cpu_time

ENV = SCRIPT_ENGINE.environment
BIG = "[[[[7]*1000]*1000]*1000]*1000"  # 10**12 items through its references
BIG_TUPLE = "((((7,)*1000,)*1000,)*1000,)*1000"
TEXTS = "[[['x'*1000]*1000]*1000]"  # 10**9 characters through its references


@pytest.mark.parametrize(
    "expression",
    [
        f"{BIG} == {BIG}",
        f"{BIG} < {BIG}",
        f"{BIG} in [{BIG}]",
        f"{BIG_TUPLE} in {{1: 2}}",
        f"{BIG_TUPLE} in {{1, 2}}",
        f"{{{BIG_TUPLE}: 1}}",
        f"{{{BIG_TUPLE}}}",
        f"d[{BIG_TUPLE}]",
        f"d.get({BIG_TUPLE})",
        f"set([{BIG_TUPLE}])",
        f"dict([({BIG_TUPLE}, 1)])",
        f"{{t: 1 for t in [{BIG_TUPLE}]}}",
        f"{{t for t in [{BIG_TUPLE}]}}",
        f"sorted({BIG})",
        f"max({BIG}, {BIG})",
        f"min([{BIG}, {BIG}])",
        f"[{BIG}].count({BIG})",
        f"[1].index({BIG})",
        f"[1].index({TEXTS})",
        f"months_before({BIG}, 1)",
        f"repeat({BIG}, 'P1D')",
    ],
)
def test_a_structure_of_shared_references_is_refused_before_c_walks_it(expression):
    with cpu_time() as used, pytest.raises(ExpressionError) as raised:
        ENV.evaluate(expression, {"x": 1, "d": {1: 2}})
    assert used.seconds < 1  # before: minutes to hours, or gigabytes for the message
    assert len(str(raised.value)) < 1000


def test_a_script_comparing_shared_references_in_a_loop_stops_on_the_budget():
    script = "a = [[[7]*1000]*1000]\nb = [[[7]*1000]*1000]\nsame = 0\nfor i in range(10000):\n    same += a == b\n"
    with cpu_time() as used, pytest.raises(ExpressionError):
        ENV.execute(script, {})
    assert used.seconds < 2


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("items == [3, 1, 2]", True),
        ("a == b", True),
        ("items < other", True),
        ("(1, 2) in {(1, 2): 'x'}", True),
        ("d[(1, 2)]", "x"),
        ("d.get((1, 2))", "x"),
        ("sorted(items)", [1, 2, 3]),
        ("max(items)", 3),
        ("{k: 1 for k in items}", {3: 1, 1: 1, 2: 1}),
        ("len(set(tags))", 2),
        ("status in ('a', 'b')", True),
        ("items.count(1)", 1),
        ("t in d", True),
    ],
)
def test_ordinary_comparisons_and_lookups_still_work(expression, expected):
    context = {
        "items": [3, 1, 2],
        "a": {"x": [1, 2], "y": "z"},
        "b": {"y": "z", "x": [1, 2]},
        "d": {(1, 2): "x"},
        "t": (1, 2),
        "other": [3, 2],
        "tags": ["a", "b", "a"],
        "status": "a",
    }
    assert ENV.evaluate(expression, context) == expected


def test_comparing_large_ordinary_data_is_allowed():
    rows = [{"id": i, "name": f"rad {i}"} for i in range(20_000)]  # 60,000 items, as case data can be
    assert ENV.evaluate("rows == copy", {"rows": rows, "copy": [dict(row) for row in rows]}) is True
