"""The sandbox counts the data a script leaves as it will be saved: shared references count
each time they occur (issue 11, finding 6)."""

import pytest

from bpmn.engine.errors import ExpressionError
from bpmn.engine.expressions import RestrictedEnvironment
from bpmn.engine.expressions.saved_size import expanded_size
from tests.timing import cpu_time

ENV = RestrictedEnvironment()


def test_the_issues_example_is_counted_as_ten_million_items_and_nothing_is_kept():
    context = {"kept": 1}
    with pytest.raises(ExpressionError, match=r"more than 1,000,000 items when saved") as raised:
        ENV.execute("a = [0] * 1000\nb = [a] * 1000\nc = [b] * 10", context)
    assert context == {"kept": 1}  # refused before any of it reached the task data
    # Said by its code with the limit only: the size is measured from the data (a count typed
    # into a form makes it), so it is never in the text.
    assert (raised.value.code, raised.value.params) == ("saved-limit", {"limit_items": 1_000_000})
    a = [0] * 1000
    assert expanded_size([[a] * 1000] * 10, "c") == 10_010_011  # ten million zeros, each counted


@pytest.mark.parametrize(
    "script",
    [
        "a = [0]\nfor i in range(60):\n    a = [a, a]",  # 2**60 items, built in 60 steps
        "s = 'x' * 10**6\nd = {}\nfor i in range(10**4):\n    d[i] = s",  # one text, ten thousand times
        "row = {'note': 'x' * 1000}\nrows = [row] * 5000",
    ],
)
def test_shared_structures_are_refused_quickly(script):
    with cpu_time() as used, pytest.raises(ExpressionError, match="when saved"):
        ENV.execute(script, {})
    assert used.seconds < 0.5


def test_data_that_contains_itself_or_nests_too_deep_is_refused():
    with pytest.raises(ExpressionError, match="contains itself"):
        ENV.execute("d = {}\nd['me'] = d", {})
    with pytest.raises(ExpressionError, match="nested more than 100 levels"):
        ENV.execute("a = []\nfor i in range(150):\n    a = [a]", {})


def test_ordinary_data_passes_and_is_written_back():
    context = {"items": [1, 2, 3]}
    ENV.execute("rows = [{'n': i, 'name': 'x' * 10} for i in range(1000)]\nshared = [items] * 100", context)
    assert len(context["rows"]) == 1000 and context["shared"][99] == [1, 2, 3]
