"""Parse, validate, rewrite and compile a source once (bounded LRU cache).

Plain Python: this module must never import Django.
"""

from __future__ import annotations

import ast
import functools
import types
from typing import NamedTuple

from ..errors import UnsafeExpressionError
from .exceptions import ExpressionSyntaxError
from .limits import CACHE_SIZE, MAX_SOURCE_CHARS
from .rewrite import _Guarder
from .validate import _validate_tree


class _Compiled(NamedTuple):
    code: types.CodeType
    needs_budget: bool  # uses guard helpers (loops, size checks)
    needs_namespace: bool  # comprehensions read data as globals: needs one merged dict


def _parse(source: str, mode: str) -> ast.AST:
    if mode not in ("eval", "exec"):
        raise ValueError(f"mode must be 'eval' or 'exec', not {mode!r}")
    if not isinstance(source, str):
        raise UnsafeExpressionError(f"expected the expression as text, got {type(source).__name__}")
    if len(source) > MAX_SOURCE_CHARS:
        raise UnsafeExpressionError(
            f"an expression of {len(source):,} characters exceeds the limit of {MAX_SOURCE_CHARS:,}",
        ).with_code("source-limit", limit_items=MAX_SOURCE_CHARS)
    text = source.strip() if mode == "eval" else source
    try:
        return ast.parse(text, filename="<string>", mode=mode)
    except SyntaxError as err:
        error = ExpressionSyntaxError(f"line {err.lineno}, column {err.offset}: syntax error: {err.msg}")
        error.lineno, error.offset, error.text = err.lineno, err.offset, err.text
        raise error from None
    except (RecursionError, MemoryError):
        raise UnsafeExpressionError("the expression is nested too deeply").with_code("nested-too-deeply") from None


def validate_expression(source: str, *, mode: str = "eval") -> None:
    """Check a condition (``mode="eval"``) or script (``mode="exec"``) at deploy time.

    Raises :class:`UnsafeExpressionError` naming the refused construct and its line and
    column, or :class:`ExpressionSyntaxError` (an ``ExpressionError``) if it does not parse.
    """
    _compile(source, mode)


@functools.lru_cache(maxsize=CACHE_SIZE)
def _compile(source: str, mode: str) -> _Compiled:
    tree = _parse(source, mode)
    validator = _validate_tree(tree, mode)
    guarder = _Guarder()
    try:
        tree = ast.fix_missing_locations(guarder.visit(tree))
        # The tree was checked against the whitelist above and only calls the guards and
        # safe functions; it runs with empty __builtins__ (see RestrictedEnvironment).
        code = compile(tree, "<string>", mode, dont_inherit=True)
    except (RecursionError, MemoryError):
        raise UnsafeExpressionError("the expression is nested too deeply").with_code("nested-too-deeply") from None
    return _Compiled(code, guarder.used, mode == "exec" or validator.has_comprehension)
