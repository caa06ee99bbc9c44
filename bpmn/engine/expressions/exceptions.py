"""Exceptions raised by the expression sandbox, and how to find them behind Spiff's.

Plain Python: this module must never import Django.
"""

from __future__ import annotations

from ..errors import EngineError, ExpressionError


class ExpressionNameError(ExpressionError, NameError):
    """Unknown name. Also a ``NameError`` so SpiffWorkflow adds its "did you mean" hint."""


class ExpressionSyntaxError(ExpressionError, SyntaxError):
    """Source that does not parse. Also a ``SyntaxError`` so SpiffWorkflow (and its DMN
    engine, which probes ``validate`` for ``SyntaxError``) keep working."""


def expression_error_of(exc: BaseException | None) -> EngineError | None:
    """Return the engine error behind ``exc``, following ``__cause__``/``__context__``.

    ``WorkflowTaskException`` does not keep the wrapped exception object (only its class
    name in ``error_type``); the original is its ``__context__``. Use this to tell an
    :class:`UnsafeExpressionError` apart from a run-time :class:`ExpressionError`.
    """
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, EngineError):
            return exc
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return None
