"""The SpiffWorkflow environment and script engine that run the compiled code.

The plug point is the *environment*, not the engine, because message correlation and
ad-hoc subprocess conditions call ``script_engine.environment.evaluate`` directly.

Plain Python: this module must never import Django.
"""

from __future__ import annotations

import types
from collections.abc import Mapping
from typing import Any, NoReturn

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine.python_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import (
    BasePythonScriptEngineEnvironment,
)

from ..errors import EngineError, ExpressionError, UnsafeExpressionError
from .compiler import _compile, _Compiled, validate_expression
from .exceptions import ExpressionNameError
from .functions import _SAFE_FUNCTIONS
from .guards import (
    _BUDGET,
    _Budget,
    _g_add,
    _g_bounded,
    _g_format,
    _g_iadd,
    _g_imul,
    _g_lshift,
    _g_mod,
    _g_mul,
    _g_pow,
    _g_slice,
    _guard_iter,
)
from .limits import MAX_ALLOCATED_ITEMS, MAX_ITERATIONS, TIME_LIMIT_SECONDS
from .methods import _g_attr, _g_method
from .rewrite import _HELPER_PREFIX
from .saved_size import check_saved_size

_HELPERS: dict[str, Any] = {
    _HELPER_PREFIX + "add": _g_add,
    _HELPER_PREFIX + "bounded": _g_bounded,
    _HELPER_PREFIX + "mul": _g_mul,
    _HELPER_PREFIX + "pow": _g_pow,
    _HELPER_PREFIX + "lshift": _g_lshift,
    _HELPER_PREFIX + "mod": _g_mod,
    _HELPER_PREFIX + "iadd": _g_iadd,
    _HELPER_PREFIX + "imul": _g_imul,
    _HELPER_PREFIX + "slice": _g_slice,
    _HELPER_PREFIX + "format": _g_format,
    _HELPER_PREFIX + "iter": _guard_iter,
    _HELPER_PREFIX + "method": _g_method,
    _HELPER_PREFIX + "attr": _g_attr,
}
_HELPER_NAMES = frozenset(_HELPERS)
_NO_BUILTINS: dict[str, Any] = {}
_MAX_MESSAGE_CHARS = 500
_GLOBALS: dict[str, Any] = {**_SAFE_FUNCTIONS, **_HELPERS, "__builtins__": _NO_BUILTINS}


def _visible_items(source: Mapping[str, Any]) -> list[tuple[str, Any]]:
    return [(key, value) for key, value in source.items() if isinstance(key, str) and not key.startswith("_")]


def _is_data(value: Any) -> bool:
    return not callable(value) and not isinstance(value, types.GeneratorType)


class RestrictedEnvironment(BasePythonScriptEngineEnvironment):
    """SpiffWorkflow script environment that evaluates only whitelisted Python.

    Stateless apart from its limits: one instance can be shared between threads.
    """

    def __init__(
        self,
        *,
        time_limit: float = TIME_LIMIT_SECONDS,
        max_iterations: int = MAX_ITERATIONS,
        max_allocated: int = MAX_ALLOCATED_ITEMS,
    ) -> None:
        super().__init__({})
        self.time_limit = time_limit
        self.max_iterations = max_iterations
        self.max_allocated = max_allocated

    # -- SpiffWorkflow API
    def evaluate(
        self, expression: str, context: Mapping[str, Any], external_context: Mapping[str, Any] | None = None
    ) -> Any:
        compiled = _compile(expression, "eval")
        if (
            not compiled.needs_namespace
            and not external_context
            and type(context) is dict
            and (not compiled.needs_budget or _HELPER_NAMES.isdisjoint(context))
        ):
            # Fast path: task data as the locals mapping, no copy. Names in the code never
            # start with '_', so private data keys stay unreachable.
            return self._run(compiled, compiled.code, _GLOBALS, context, mode="eval")
        namespace = self._namespace(context, external_context)
        return self._run(compiled, compiled.code, namespace, None, mode="eval")

    def execute(self, script: str, context: dict[str, Any], external_context: Mapping[str, Any] | None = None) -> bool:
        compiled = _compile(script, "exec")
        namespace = self._namespace(context, external_context)
        visible = {key for key, _ in _visible_items(context)}
        external = set(external_context or ())
        written: dict[str, Any] = {}
        try:
            self._run(compiled, compiled.code, namespace, None, mode="exec")
        finally:
            # Same semantics as TaskDataEnvironment: changes made before an error stay.
            for key in visible - namespace.keys():
                context.pop(key, None)
            for key, value in namespace.items():
                if key.startswith("_") or (key not in visible and (key in _GLOBALS or key in external)):
                    continue
                if _is_data(value):
                    written[key] = value
                elif key in context:
                    del context[key]
            # Measured as saved before any of it reaches the task data: too much is never kept.
            check_saved_size(written.values())
            context.update(written)
        return True

    def call_service(self, context: Mapping[str, Any], **kwargs: Any) -> NoReturn:
        raise UnsafeExpressionError(
            "service tasks are not run by the script engine: the application runs them as "
            f"jobs and completes the task (operation {kwargs.get('operation_name')!r})"
        )

    # -- internals
    @staticmethod
    def _namespace(context: Any, external_context: Mapping[str, Any] | None) -> dict[str, Any]:
        if not isinstance(context, Mapping):
            raise ExpressionError(f"task data must be a mapping, not {type(context).__name__}")
        namespace = dict(_GLOBALS)
        if external_context:
            namespace.update(_visible_items(external_context))
        namespace.update(_visible_items(context))
        namespace["__builtins__"] = _NO_BUILTINS
        return namespace

    def _run(
        self,
        compiled: _Compiled,
        code: types.CodeType,
        namespace: dict[str, Any],
        local_map: Mapping[str, Any] | None,
        *,
        mode: str,
    ) -> Any:
        token = None
        if compiled.needs_budget:
            token = _BUDGET.set(_Budget(self.time_limit, self.max_iterations, self.max_allocated))
        try:
            if mode == "eval":
                # Vetted, rewritten AST with empty __builtins__; see _compile.
                return eval(code, namespace, local_map)  # noqa: S307
            exec(code, namespace)  # noqa: S102 - same vetted code object, see _compile
            return None
        except EngineError:
            raise
        except NameError as err:
            raise ExpressionNameError(str(err)).with_traceback(err.__traceback__) from err
        except Exception as err:
            message = f"{type(err).__name__}: {_without_value(err)}"
            if len(message) > _MAX_MESSAGE_CHARS:  # Python's own texts quote values (KeyError, float())
                message = message[:_MAX_MESSAGE_CHARS] + " [...]"
            raise ExpressionError(message).with_traceback(err.__traceback__) from err
        finally:
            if token is not None:
                _BUDGET.reset(token)


def _without_value(err: Exception) -> str:
    """The text of ``err`` without a value the model computed. A ``KeyError``'s text is the
    repr of its key: a name (``data['health_notes']`` misspelt) says what failed and stays,
    for the scrub to keep when the model has it; any other key (a tuple of the characters of a
    health note, a list of digits) is said by its type only, as each item of it was a single
    character or digit the scrub keeps (h-attack25)."""
    if isinstance(err, KeyError) and len(err.args) == 1:
        key = err.args[0]
        if not (isinstance(key, str) and key.isidentifier()):
            return f"no such key (a key of type {type(key).__name__})"
    return str(err)


class RestrictedScriptEngine(PythonScriptEngine):
    """``PythonScriptEngine`` running everything through :class:`RestrictedEnvironment`."""

    def __init__(self, environment: RestrictedEnvironment | None = None) -> None:
        super().__init__(environment=environment or RestrictedEnvironment())

    def validate(self, expression: str) -> None:
        """Used by the DMN engine: must raise ``SyntaxError`` for text that does not parse."""
        validate_expression(expression, mode="eval")

    def call_service(self, task: Any, **kwargs: Any) -> Any:
        try:
            return self.environment.call_service(task.data, **kwargs)
        except Exception as err:
            raise WorkflowTaskException(f"{type(err).__name__}: {err}", task=task, exception=err) from err


SCRIPT_ENGINE = RestrictedScriptEngine()
