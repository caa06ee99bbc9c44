"""Every refusal of the expression sandbox carries an engine code (``ENGINE_CODES``) with its
params, so that a deploy error or an incident says it in the reader's language; a code that
is not listed cannot be raised. No database."""

import pytest

from bpmn.engine.errors import ENGINE_CODES, ExpressionError, UnsafeExpressionError
from bpmn.engine.expressions import SCRIPT_ENGINE, validate_expression

BIG_LITERAL = "1" + "0" * 1300


@pytest.mark.parametrize(
    ("source", "mode", "code", "params"),
    [
        ("import os", "exec", "unsafe-construct", {"construct": "import"}),
        ("while True:\n    pass", "exec", "unsafe-construct", {"construct": "while"}),
        ("(y := 1)", "eval", "unsafe-construct", {"construct": ":="}),
        ("lambda: 1", "eval", "unsafe-construct", {"construct": "lambda"}),
        ("__import__", "eval", "unsafe-name", {"name": "__import__"}),
        ("len = 1", "exec", "unsafe-function-assignment", {"name": "len"}),
        ("b'x'", "eval", "unsafe-literal", {"type": "bytes"}),
        (BIG_LITERAL, "eval", "unsafe-integer-literal", {"limit": 4096}),
        ("x.__class__", "eval", "unsafe-private-attribute", {"name": "__class__"}),
        ("'{}'.format(x)", "eval", "unsafe-format-method", {"name": "format"}),
        ("x.foo = 1", "exec", "unsafe-attribute-assignment", {"name": "foo"}),
        ("x.upper", "eval", "unsafe-method-value", {"name": "upper"}),
        ("open('f')", "eval", "unsafe-call", {"name": "open"}),
        ("x.foo()", "eval", "unsafe-method-call", {"name": "foo"}),
        ("x[0]()", "eval", "unsafe-call-result", {}),
        ("len(**x)", "eval", "unsafe-unpacking", {}),
        ("{**x}", "eval", "unsafe-unpacking", {}),
        ("[a for a in x for b in x]", "eval", "unsafe-comprehension-fors", {}),
        ("x[1:2] = [1]", "exec", "unsafe-slice-assignment", {}),
        ("for x[0] in y:\n    pass", "exec", "unsafe-target", {}),
        ("del x[0]", "exec", "unsafe-delete", {}),
        ("x @ y", "eval", "unsafe-operator", {"operator": "@"}),
    ],
)
def test_each_refusal_of_the_sandbox_has_its_code_and_where(source, mode, code, params):
    with pytest.raises(UnsafeExpressionError) as refused:
        validate_expression(source, mode=mode)
    error = refused.value
    assert error.code == code and error.code in ENGINE_CODES
    assert {name: error.params[name] for name in params} == params
    assert (error.params["line"], error.params["column"]) >= (1, 1)


def test_a_limit_at_run_time_has_its_code_and_the_limit_only():
    with pytest.raises(ExpressionError) as raised:
        SCRIPT_ENGINE.environment.evaluate("[0] * n", {"n": 9_999_999})
    assert (raised.value.code, raised.value.params) == ("sequence-limit", {"limit_items": 1_000_000})
    assert "9,999,999" not in str(raised.value)


def test_a_code_not_listed_cannot_be_raised():
    with pytest.raises(ValueError, match="ENGINE_CODES"):
        ExpressionError("the model is wrong", code="brand-new-limit")
