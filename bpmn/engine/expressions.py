"""Restricted evaluation of BPMN conditions and scripts for SpiffWorkflow.

SpiffWorkflow's default ``TaskDataEnvironment`` runs every gateway condition, timer
expression, message correlation and script task with plain ``eval``/``exec`` and the
real builtins. This module replaces it with a small sandbox:

1. the source is parsed with :mod:`ast` and checked against a whitelist of node types,
   names, called functions and attribute names (``validate_expression``);
2. the tree is rewritten so that every operation that can grow memory or run long
   (``*``, ``**``, ``<<``, ``+``, ``%``, slices, f-strings, method calls, loops and
   comprehensions) goes through a guard that checks the size of the result *before*
   computing it, and charges an iteration, allocation and wall-clock budget;
3. the rewritten tree is compiled once (bounded LRU cache per ``(source, mode)``) and
   run with empty ``__builtins__`` and a fixed dictionary of safe functions.

The plug point is the *environment*, not the engine, because message correlation and
ad-hoc subprocess conditions call ``script_engine.environment.evaluate`` directly.

Plain Python: this module must never import Django.
"""

from __future__ import annotations

import ast
import calendar
import contextvars
import copy
import functools
import re
import time
import types
from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine.python_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import (
    BasePythonScriptEngineEnvironment,
)

from bpmn.engine.errors import EngineError, ExpressionError, UnsafeExpressionError
from bpmn.engine.timefuncs import TIMER_FUNCTIONS

__all__ = [
    "ALLOWED_ATTRIBUTES",
    "ALLOWED_METHODS",
    "MAX_ALLOCATED_ITEMS",
    "MAX_INT_BITS",
    "MAX_ITERATIONS",
    "MAX_SEQUENCE_LEN",
    "SAFE_FUNCTION_NAMES",
    "SCRIPT_ENGINE",
    "TIMEZONE",
    "TIME_LIMIT_SECONDS",
    "ExpressionNameError",
    "ExpressionSyntaxError",
    "RestrictedEnvironment",
    "RestrictedScriptEngine",
    "expression_error_of",
    "validate_expression",
]

# --------------------------------------------------------------------------- limits

TIMEZONE = ZoneInfo("Europe/Oslo")
MAX_SOURCE_CHARS = 100_000  # longest expression or script accepted
MAX_INT_BITS = 4096  # largest integer an operation may produce
MAX_SEQUENCE_LEN = 1_000_000  # longest str/list/tuple an operation may produce
MAX_TEXT_ITEMS = 100_000  # largest container str()/f-string/% may turn into text
MAX_FORMAT_WIDTH = 10_000  # largest width/precision in a format spec or %-format
MAX_ROUND_DIGITS = 1_000
MAX_ITERATIONS = 100_000  # loop and comprehension iterations per execution, in total
MAX_ALLOCATED_ITEMS = 10_000_000  # items created by guarded operations per execution
TIME_LIMIT_SECONDS = 0.5  # wall clock per execution, checked in loops and guards
CACHE_SIZE = 2048  # compiled (source, mode) entries kept

_HELPER_PREFIX = "__bb_"


# --------------------------------------------------------------------------- errors


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


# --------------------------------------------------------------------------- budget


class _Budget:
    __slots__ = ("allocated", "deadline", "iterations", "max_allocated", "max_iterations",
                 "time_limit")

    def __init__(self, time_limit: float, max_iterations: int, max_allocated: int):
        self.time_limit = time_limit
        self.deadline = time.monotonic() + time_limit
        self.iterations = 0
        self.max_iterations = max_iterations
        self.allocated = 0
        self.max_allocated = max_allocated

    def check_time(self) -> None:
        if time.monotonic() > self.deadline:
            raise ExpressionError(f"run time exceeds the limit of {self.time_limit} s")

    def tick(self) -> None:
        self.iterations += 1
        if self.iterations > self.max_iterations:
            raise ExpressionError(
                f"loop iterations exceed the limit of {self.max_iterations:,} per execution"
            )
        self.check_time()

    def charge(self, items: int) -> None:
        self.allocated += items
        if self.allocated > self.max_allocated:
            raise ExpressionError(
                f"data created exceeds the limit of {self.max_allocated:,} items per execution"
            )
        self.check_time()


_BUDGET: contextvars.ContextVar[_Budget | None] = contextvars.ContextVar(
    "brobygger_expression_budget", default=None
)


def _charge(items: int) -> None:
    budget = _BUDGET.get()
    if budget is not None:
        budget.charge(items)


def _check_len(length: int, what: str) -> None:
    if length > MAX_SEQUENCE_LEN:
        raise ExpressionError(
            f"{what} of {length:,} items exceeds the limit of {MAX_SEQUENCE_LEN:,}"
        )


def _check_int(value: Any, what: str) -> Any:
    if isinstance(value, int) and value.bit_length() > MAX_INT_BITS:
        raise ExpressionError(f"{what} exceeds the limit of {MAX_INT_BITS} bits")
    return value


_SEQUENCES = (str, list, tuple)
_SCALARS = frozenset({str, int, float, bool, type(None), date, datetime, timedelta})


def _check_text_size(value: Any) -> None:
    """Refuse to turn a container into text when the text would be huge.

    Shared references make ``[[0] * 10**5] * 10**5`` cheap to build and 10**10
    characters long as text, so walk it (bounded) before ``str``/``repr``/format.
    """
    if type(value) in _SCALARS:
        return
    count = chars = 0
    stack = [value]
    while stack:
        item = stack.pop()
        count += 1
        if count > MAX_TEXT_ITEMS:
            raise ExpressionError(
                f"converting a structure of more than {MAX_TEXT_ITEMS:,} items to text "
                "exceeds the limit"
            )
        if isinstance(item, str):
            chars += len(item)
            if chars > MAX_SEQUENCE_LEN:
                _check_len(chars, "text")
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list | tuple | set | frozenset):
            stack.extend(item)


# --------------------------------------------------------------------------- operator guards


def _int_too_big(operator: str) -> ExpressionError:
    return ExpressionError(
        f"integer result of '{operator}' exceeds the limit of {MAX_INT_BITS} bits"
    )


def _g_add(a: Any, b: Any) -> Any:
    if type(a) is int and type(b) is int:
        return _check_int(a + b, "integer result of '+'")
    if isinstance(a, _SEQUENCES) and isinstance(b, _SEQUENCES):
        _check_len(len(a) + len(b), "result of '+'")
        result = a + b
        _charge(len(result))
        return result
    return _check_int(a + b, "integer result of '+'")


def _repeat_len(seq: Any, times: int) -> int:
    return len(seq) * max(times, 0)


def _g_mul(a: Any, b: Any) -> Any:
    if isinstance(a, int) and isinstance(b, int):
        if a.bit_length() + b.bit_length() > MAX_INT_BITS + 1:
            raise _int_too_big("*")
        return _check_int(a * b, "integer result of '*'")
    if isinstance(a, _SEQUENCES) and isinstance(b, int):
        _check_len(_repeat_len(a, b), "result of '*'")
    elif isinstance(b, _SEQUENCES) and isinstance(a, int):
        _check_len(_repeat_len(b, a), "result of '*'")
    else:
        return a * b
    result = a * b
    _charge(len(result))
    return result


def _g_pow(a: Any, b: Any) -> Any:
    if isinstance(a, int) and isinstance(b, int):
        if b > 0 and abs(a) > 1 and (a.bit_length() - 1) * b + 1 > MAX_INT_BITS:
            raise _int_too_big("**")
        return _check_int(a**b, "integer result of '**'")
    return a**b


def _g_lshift(a: Any, b: Any) -> Any:
    ints = isinstance(a, int) and isinstance(b, int)
    if ints and a and b > 0 and a.bit_length() + b > MAX_INT_BITS:
        raise _int_too_big("<<")
    return a << b


_PERCENT_SPEC = re.compile(r"%(?:\([^)]*\))?[#0\- +]*(\*|\d+)?(?:\.(\*|\d+))?[hlL]?(.|$)", re.S)


def _check_width(text: str | None, what: str) -> None:
    if text == "*":
        raise ExpressionError(f"'*' width or precision in {what} is not supported")
    if text and int(text) > MAX_FORMAT_WIDTH:
        raise ExpressionError(
            f"width or precision {int(text):,} in {what} exceeds the limit of {MAX_FORMAT_WIDTH:,}"
        )


def _g_mod(a: Any, b: Any) -> Any:
    if not isinstance(a, str):
        return a % b
    for match in _PERCENT_SPEC.finditer(a):
        _check_width(match.group(1), "a %-format")
        _check_width(match.group(2), "a %-format")
    if isinstance(b, tuple):
        for item in b:
            _check_text_size(item)
    elif isinstance(b, Mapping):
        for item in b.values():
            _check_text_size(item)
    else:
        _check_text_size(b)
    result = a % b
    _charge(len(result))
    return result


def _inplace(guard: Callable[[Any, Any], Any], op: Callable[[Any, Any], Any]):
    """Checked in-place operator: refuse like ``guard`` would, then keep list identity."""

    def run(a: Any, b: Any) -> Any:
        if isinstance(a, list):
            # In place (other references to the list see the change), sized first.
            if isinstance(b, int):  # list *= n
                _check_len(_repeat_len(a, b), "result of '*='")
            elif isinstance(b, _SEQUENCES):
                _check_len(len(a) + len(b), "result of '+='")
            result = op(a, b)
            _charge(len(result))
            return result
        return guard(a, b)

    return run


def _iadd(a: Any, b: Any) -> Any:
    a += b
    return a


def _imul(a: Any, b: Any) -> Any:
    a *= b
    return a


_g_iadd = _inplace(_g_add, _iadd)
_g_imul = _inplace(_g_mul, _imul)


def _g_slice(obj: Any, lower: Any, upper: Any, step: Any) -> Any:
    result = obj[lower:upper:step]
    if isinstance(result, _SEQUENCES):
        _charge(len(result))
    return result


def _g_format(value: Any, conversion: int, spec: str) -> str:
    _check_text_size(value)
    if conversion == 115:  # !s
        value = str(value)
    elif conversion == 114:  # !r
        value = repr(value)
    elif conversion == 97:  # !a
        value = ascii(value)
    if spec:
        if len(spec) > 200:
            raise ExpressionError("format spec longer than 200 characters exceeds the limit")
        for digits in re.findall(r"\d+", spec):
            _check_width(digits, "a format spec")
    result = format(value, spec)
    _charge(len(result))
    return result


def _guard_iter(iterable: Any):
    budget = _BUDGET.get()
    if budget is None:  # only reachable if a generator outlives its execution
        raise ExpressionError("a generator cannot be used outside the expression that made it")
    for item in iterable:
        budget.tick()
        yield item


# --------------------------------------------------------------------------- methods


def _str_join(sep: str, iterable: Any) -> str:
    items = iterable if isinstance(iterable, list | tuple) else list(iterable)
    _check_len(len(items), "join input")
    total = len(sep) * max(len(items) - 1, 0)
    for item in items:
        if isinstance(item, str):
            total += len(item)
    _check_len(total, "result of join")
    result = sep.join(items)
    _charge(len(result))
    return result


def _str_replace(text: str, old: str, new: str, count: int = -1, /) -> str:
    if isinstance(old, str) and isinstance(new, str):
        hits = len(text) + 1 if old == "" else text.count(old)
        if isinstance(count, int) and count >= 0:
            hits = min(hits, count)
        _check_len(len(text) + hits * max(len(new) - len(old), 0), "result of replace")
    result = text.replace(old, new, count)
    _charge(len(result))
    return result


def _charged(name: str) -> Callable[..., Any]:
    def run(text: str, *args: Any, **kwargs: Any) -> Any:
        result = getattr(text, name)(*args, **kwargs)
        _charge(len(result))
        return result

    return run


_STR_GUARDS: dict[str, Callable[..., Any]] = {
    "join": _str_join,
    "replace": _str_replace,
    "split": _charged("split"),
    "lower": _charged("lower"),
    "upper": _charged("upper"),
    "strip": _charged("strip"),
}

_STR_METHODS = frozenset(
    {"lower", "upper", "strip", "startswith", "endswith", "split", "join", "replace",
     "count", "index"}
)
_DICT_METHODS = frozenset({"get", "keys", "values", "items"})
_SEQ_METHODS = frozenset({"count", "index"})
_DATE_METHODS = frozenset({"isoformat", "weekday"})
_DATETIME_METHODS = _DATE_METHODS | {"date"}

# Exact type first (fast); subclasses are matched in this order (datetime before date).
_METHODS_BY_TYPE: dict[type, frozenset[str]] = {
    str: _STR_METHODS,
    dict: _DICT_METHODS,
    list: _SEQ_METHODS,
    tuple: _SEQ_METHODS,
    datetime: _DATETIME_METHODS,
    date: _DATE_METHODS,
}
_ATTRS_BY_TYPE: dict[type, frozenset[str]] = {
    datetime: frozenset({"year", "month", "day", "hour", "minute", "second"}),
    date: frozenset({"year", "month", "day"}),
    timedelta: frozenset({"days", "seconds"}),
}

ALLOWED_METHODS: frozenset[str] = frozenset().union(*_METHODS_BY_TYPE.values())
DATA_ATTRIBUTES: frozenset[str] = frozenset().union(*_ATTRS_BY_TYPE.values())
ALLOWED_ATTRIBUTES: frozenset[str] = ALLOWED_METHODS | DATA_ATTRIBUTES


def _lookup(table: dict[type, frozenset[str]], obj: Any) -> frozenset[str]:
    names = table.get(type(obj))
    if names is not None:
        return names
    for kind, kind_names in table.items():
        if isinstance(obj, kind):
            return kind_names
    return frozenset()


def _g_method(obj: Any, name: str, /, *args: Any, **kwargs: Any) -> Any:
    if name not in _lookup(_METHODS_BY_TYPE, obj):
        raise ExpressionError(f"a {type(obj).__name__} value has no method {name!r} here")
    if isinstance(obj, str) and name in _STR_GUARDS:
        return _STR_GUARDS[name](obj, *args, **kwargs)
    return getattr(obj, name)(*args, **kwargs)


def _g_attr(obj: Any, name: str) -> Any:
    if name not in _lookup(_ATTRS_BY_TYPE, obj):
        raise ExpressionError(f"a {type(obj).__name__} value has no attribute {name!r} here")
    return getattr(obj, name)


# --------------------------------------------------------------------------- safe functions


def _bounded_range(*args: int) -> range:
    result = range(*args)
    try:
        length = len(result)
    except OverflowError:
        length = MAX_SEQUENCE_LEN + 1
    _check_len(length, "range")
    return result


def _collect(kind: type) -> Callable[..., Any]:
    def build(*args: Any, **kwargs: Any) -> Any:
        if args and hasattr(args[0], "__len__"):
            _check_len(len(args[0]), f"{kind.__name__}() input")
        result = kind(*args, **kwargs)
        _charge(len(result))
        return result

    build.__name__ = kind.__name__
    return build


def _safe_sorted(iterable: Any, /, *, key: Any = None, reverse: bool = False) -> list:
    result = sorted(iterable, key=key, reverse=reverse)
    _check_len(len(result), "sorted() result")
    _charge(len(result))
    return result


def _safe_sum(iterable: Any, /, start: Any = 0) -> Any:
    if not isinstance(start, int | float):
        raise ExpressionError("sum() adds numbers only; use join() for text")
    return _check_int(sum(iterable, start), "integer result of sum()")


def _safe_round(number: Any, ndigits: int | None = None) -> Any:
    if ndigits is not None and isinstance(ndigits, int) and abs(ndigits) > MAX_ROUND_DIGITS:
        raise ExpressionError(f"round() digits exceed the limit of {MAX_ROUND_DIGITS}")
    return round(number) if ndigits is None else round(number, ndigits)


def _safe_str(value: Any = "") -> str:
    _check_text_size(value)
    result = str(value)
    _charge(len(result))
    return result


def _safe_int(value: Any = 0, base: int | None = None) -> int:
    if isinstance(value, str) and len(value) > 5000:
        raise ExpressionError("int() of text longer than 5,000 characters exceeds the limit")
    result = int(value) if base is None else int(value, base)
    return _check_int(result, "int() result")


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=TIMEZONE) if moment.tzinfo is None else moment


def parse_date(text: str) -> date:
    """ISO-8601 calendar date, e.g. ``'2024-05-17'``."""
    if not isinstance(text, str) or len(text) > 64:
        raise ExpressionError("parse_date() expects an ISO-8601 date text")
    return date.fromisoformat(text.strip())


def parse_datetime(text: str) -> datetime:
    """ISO-8601 date and time; always aware (no offset means Europe/Oslo local time)."""
    if not isinstance(text, str) or len(text) > 64:
        raise ExpressionError("parse_datetime() expects an ISO-8601 date-time text")
    return _aware(datetime.fromisoformat(text.strip()))


def add_months(value: date, months: int) -> date:
    """Add calendar months, clamping the day (31 January + 1 month = 28/29 February)."""
    if not isinstance(value, date) or not isinstance(months, int):
        raise ExpressionError("add_months() expects a date and a whole number of months")
    index = value.year * 12 + value.month - 1 + months
    year, month = divmod(index, 12)
    if not 1 <= year <= 9999:
        raise ExpressionError("add_months() result is outside the supported years 1-9999")
    day = min(value.day, calendar.monthrange(year, month + 1)[1])
    return value.replace(year=year, month=month + 1, day=day)


def now() -> datetime:
    """The current time, aware, in Europe/Oslo."""
    return datetime.now(TIMEZONE)


def today() -> date:
    """Today's date in Europe/Oslo."""
    return datetime.now(TIMEZONE).date()


def _aware_datetime(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0,
    microsecond: int = 0,
) -> datetime:
    return datetime(year, month, day, hour, minute, second, microsecond, tzinfo=TIMEZONE)


_aware_datetime.__name__ = "datetime"

_SAFE_FUNCTIONS: dict[str, Any] = {
    "len": len,
    "min": min,
    "max": max,
    "abs": abs,
    "round": _safe_round,
    "int": _safe_int,
    "float": float,
    "str": _safe_str,
    "bool": bool,
    "sum": _safe_sum,
    "any": any,
    "all": all,
    "sorted": _safe_sorted,
    "list": _collect(list),
    "dict": _collect(dict),
    "set": _collect(set),
    "tuple": _collect(tuple),
    "range": _bounded_range,
    "date": date,
    "datetime": _aware_datetime,
    "timedelta": timedelta,
    "parse_date": parse_date,
    "parse_datetime": parse_datetime,
    "add_months": add_months,
    "now": now,
    "today": today,
    # Deadlines relative to case data, as aware ISO text (timers.py, timefuncs.py).
    **TIMER_FUNCTIONS,
}
SAFE_FUNCTION_NAMES: frozenset[str] = frozenset(_SAFE_FUNCTIONS)

_HELPERS: dict[str, Any] = {
    _HELPER_PREFIX + "add": _g_add,
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
_GLOBALS: dict[str, Any] = {**_SAFE_FUNCTIONS, **_HELPERS, "__builtins__": _NO_BUILTINS}

# --------------------------------------------------------------------------- validation

_REFUSED_NAMES = {
    ast.Import: "import",
    ast.ImportFrom: "import",
    ast.While: "a while loop",
    ast.FunctionDef: "a function definition",
    ast.AsyncFunctionDef: "a function definition",
    ast.Lambda: "lambda",
    ast.ClassDef: "a class definition",
    ast.Global: "global",
    ast.Nonlocal: "nonlocal",
    ast.With: "with",
    ast.AsyncWith: "with",
    ast.Try: "try",
    ast.TryStar: "try",
    ast.Raise: "raise",
    ast.Assert: "assert",
    ast.Return: "return",
    ast.Yield: "yield",
    ast.YieldFrom: "yield",
    ast.Await: "await",
    ast.AsyncFor: "async for",
    ast.Starred: "a starred expression (*x)",
    ast.NamedExpr: "an assignment expression (:=)",
    ast.Match: "a match statement",
}

_BINOPS = {
    ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//",
    ast.Mod: "%", ast.Pow: "**", ast.LShift: "<<", ast.RShift: ">>", ast.BitAnd: "&",
    ast.BitOr: "|", ast.BitXor: "^",
}

_COMMON_NODES = frozenset({
    ast.Constant, ast.Name, ast.Load, ast.Store, ast.Tuple, ast.List, ast.Set, ast.Dict,
    ast.Compare, ast.BoolOp, ast.And, ast.Or, ast.BinOp, ast.UnaryOp, ast.Not, ast.USub,
    ast.UAdd, ast.Invert, ast.IfExp, ast.Subscript, ast.Slice, ast.JoinedStr,
    ast.FormattedValue, ast.Call, ast.Attribute, ast.keyword, ast.ListComp, ast.SetComp,
    ast.DictComp, ast.GeneratorExp, ast.comprehension,
    ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.In, ast.NotIn, ast.Is, ast.IsNot,
    *_BINOPS,
})
_EVAL_NODES = _COMMON_NODES | {ast.Expression}
_EXEC_NODES = _COMMON_NODES | {
    ast.Module, ast.Expr, ast.Assign, ast.AugAssign, ast.AnnAssign, ast.If, ast.For,
    ast.Pass, ast.Break, ast.Continue, ast.Delete, ast.Del,
}
_CONSTANT_TYPES = (str, int, float, bool, type(None))
_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)


class _Validator(ast.NodeVisitor):
    def __init__(self, mode: str):
        self.allowed = _EXEC_NODES if mode == "exec" else _EVAL_NODES
        self.position = (1, 0)
        self.has_comprehension = False

    # -- reporting
    def refuse(self, node: ast.AST | None, what: str, why: str = "") -> None:
        line, col = (
            (node.lineno, node.col_offset) if node is not None and hasattr(node, "lineno")
            else self.position
        )
        message = f"line {line}, column {col + 1}: {what} is not allowed"
        raise UnsafeExpressionError(f"{message} ({why})" if why else message)

    def visit(self, node: ast.AST) -> None:
        if hasattr(node, "lineno"):
            self.position = (node.lineno, node.col_offset)
        kind = type(node)
        if kind in _REFUSED_NAMES:
            self.refuse(node, _REFUSED_NAMES[kind])
        if kind not in self.allowed:
            self.refuse(node, f"{kind.__name__} ({ast.dump(node)[:40]})")
        super().visit(node)

    # -- names and constants
    def visit_Name(self, node: ast.Name) -> None:
        if node.id.startswith("_"):
            self.refuse(node, f"the name {node.id!r}", "names starting with '_' are reserved")
        if not isinstance(node.ctx, ast.Load) and node.id in SAFE_FUNCTION_NAMES:
            self.refuse(node, f"assigning to {node.id!r}", "it is a built-in function name")

    def visit_Constant(self, node: ast.Constant) -> None:
        if not isinstance(node.value, _CONSTANT_TYPES):
            self.refuse(node, f"a {type(node.value).__name__} literal")
        if isinstance(node.value, int) and node.value.bit_length() > MAX_INT_BITS:
            self.refuse(node, "an integer literal this large", f"limit {MAX_INT_BITS} bits")

    # -- attributes and calls
    def at_attr(self, node: ast.Attribute) -> None:
        """Report refusals at the attribute name itself, not at the start of ``obj.attr``."""
        if node.end_lineno == node.lineno and node.end_col_offset is not None:
            self.position = (node.lineno, node.end_col_offset - len(node.attr))
        else:
            self.position = (node.lineno, node.col_offset)

    def check_attribute_name(self, node: ast.Attribute) -> None:
        self.at_attr(node)
        if node.attr.startswith("_"):
            self.refuse(None, f"the attribute {node.attr!r}",
                        "names starting with '_' are never accessible")
        if node.attr in ("format", "format_map"):
            self.refuse(None, f"the method {node.attr!r}",
                        "format strings can reach attributes of their arguments; "
                        "use an f-string")

    def visit_Attribute(self, node: ast.Attribute) -> None:
        self.visit(node.value)  # innermost problem first: report `__class__` before `mro`
        self.check_attribute_name(node)
        if not isinstance(node.ctx, ast.Load):
            self.refuse(None, f"assigning to the attribute {node.attr!r}")
        if node.attr in ALLOWED_METHODS and node.attr not in DATA_ATTRIBUTES:
            self.refuse(None, f"using the method {node.attr!r} without calling it")
        if node.attr not in DATA_ATTRIBUTES:
            self.refuse(None, f"the attribute {node.attr!r}",
                        f"allowed: {', '.join(sorted(DATA_ATTRIBUTES))}")

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        if isinstance(func, ast.Name):
            self.visit(func)
            if func.id not in SAFE_FUNCTION_NAMES:
                self.refuse(node, f"calling {func.id!r}",
                            f"callable functions: {', '.join(sorted(SAFE_FUNCTION_NAMES))}")
        elif isinstance(func, ast.Attribute):
            self.visit(func.value)  # innermost problem first
            self.check_attribute_name(func)
            if func.attr not in ALLOWED_METHODS:
                self.refuse(None, f"calling the method {func.attr!r}",
                            f"callable methods: {', '.join(sorted(ALLOWED_METHODS))}")
        else:
            self.visit(func)  # e.g. report `lambda` in `(lambda: 1)()`
            self.refuse(node, "calling the result of an expression")
        for arg in node.args:
            self.visit(arg)
        for keyword in node.keywords:
            if keyword.arg is None:
                self.refuse(keyword, "**-unpacking in a call")
            self.visit(keyword.value)

    # -- operators
    def visit_BinOp(self, node: ast.BinOp) -> None:
        if type(node.op) not in _BINOPS:
            self.refuse(node, f"the operator {type(node.op).__name__}")
        self.generic_visit(node)

    def visit_Dict(self, node: ast.Dict) -> None:
        if any(key is None for key in node.keys):
            self.refuse(node, "**-unpacking in a dict")
        self.generic_visit(node)

    # -- comprehensions
    def check_comprehension(self, node: ast.AST) -> None:
        self.has_comprehension = True
        generators = node.generators  # type: ignore[attr-defined]
        if len(generators) != 1:
            self.refuse(node, "a comprehension with more than one 'for'")
        if generators[0].is_async:
            self.refuse(node, "an async comprehension")
        self.check_target(generators[0].target, allow_subscript=False)
        self.generic_visit(node)

    visit_ListComp = visit_SetComp = visit_DictComp = visit_GeneratorExp = check_comprehension

    # -- statements (exec mode)
    def check_target(self, target: ast.AST, *, allow_subscript: bool = True) -> None:
        if isinstance(target, ast.Name):
            return
        if isinstance(target, ast.Tuple | ast.List):
            for element in target.elts:
                self.check_target(element, allow_subscript=allow_subscript)
            return
        if isinstance(target, ast.Subscript) and allow_subscript:
            if isinstance(target.slice, ast.Slice):
                self.refuse(target, "assigning to a slice")
            return
        if isinstance(target, ast.Attribute):
            self.refuse(target, f"assigning to the attribute {target.attr!r}")
        if isinstance(target, ast.Starred):
            self.refuse(target, _REFUSED_NAMES[ast.Starred])
        self.refuse(target, f"assigning to {type(target).__name__}")

    def visit_Assign(self, node: ast.Assign) -> None:
        for target in node.targets:
            self.check_target(target)
        self.generic_visit(node)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        if type(node.op) not in _BINOPS:
            self.refuse(node, f"the operator {type(node.op).__name__}")
        if not isinstance(node.target, ast.Name | ast.Subscript):
            self.refuse(node.target, "augmented assignment to this target")
        self.check_target(node.target)
        self.generic_visit(node)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if not isinstance(node.target, ast.Name | ast.Subscript):
            self.refuse(node.target, "annotated assignment to this target")
        self.check_target(node.target)
        self.generic_visit(node)

    def visit_For(self, node: ast.For) -> None:
        self.check_target(node.target, allow_subscript=False)
        self.generic_visit(node)

    def visit_Delete(self, node: ast.Delete) -> None:
        for target in node.targets:
            if not isinstance(target, ast.Name):
                self.refuse(target, "deleting anything but a variable")
        self.generic_visit(node)


# --------------------------------------------------------------------------- rewriting


def _helper(name: str, node: ast.AST) -> ast.Name:
    return ast.copy_location(ast.Name(id=_HELPER_PREFIX + name, ctx=ast.Load()), node)


def _as_load(target: ast.expr) -> ast.expr:
    loaded = copy.deepcopy(target)
    for child in ast.walk(loaded):
        if hasattr(child, "ctx"):
            child.ctx = ast.Load()
    return loaded


_GUARDED_BINOPS = {ast.Add: "add", ast.Mult: "mul", ast.Pow: "pow", ast.LShift: "lshift",
                   ast.Mod: "mod"}
_GUARDED_AUGOPS = {ast.Add: "iadd", ast.Mult: "imul", ast.Pow: "pow", ast.LShift: "lshift",
                   ast.Mod: "mod"}


class _Guarder(ast.NodeTransformer):
    """Route every operation that can grow memory or time through a guard helper."""

    def __init__(self) -> None:
        self.used = False

    def call(self, name: str, node: ast.AST, args: list[ast.expr],
             keywords: list[ast.keyword] | None = None) -> ast.Call:
        self.used = True
        return ast.copy_location(
            ast.Call(func=_helper(name, node), args=args, keywords=keywords or []), node
        )

    def visit_BinOp(self, node: ast.BinOp) -> ast.expr:
        self.generic_visit(node)
        name = _GUARDED_BINOPS.get(type(node.op))
        return self.call(name, node, [node.left, node.right]) if name else node

    def visit_AugAssign(self, node: ast.AugAssign) -> ast.stmt:
        self.generic_visit(node)
        name = _GUARDED_AUGOPS.get(type(node.op))
        if name is None:
            return node
        value = self.call(name, node, [_as_load(node.target), node.value])
        return ast.copy_location(ast.Assign(targets=[node.target], value=value), node)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> ast.stmt:
        self.generic_visit(node)
        if node.value is None:
            return ast.copy_location(ast.Pass(), node)
        return ast.copy_location(ast.Assign(targets=[node.target], value=node.value), node)

    def visit_For(self, node: ast.For) -> ast.stmt:
        self.generic_visit(node)
        node.iter = self.call("iter", node.iter, [node.iter])
        return node

    def visit_comprehension(self, node: ast.comprehension) -> ast.comprehension:
        self.generic_visit(node)
        node.iter = self.call("iter", node.iter, [node.iter])
        return node

    def visit_Call(self, node: ast.Call) -> ast.expr:
        if not isinstance(node.func, ast.Attribute):
            self.generic_visit(node)
            return node
        obj = self.visit(node.func.value)
        args = [self.visit(arg) for arg in node.args]
        keywords = [self.visit(keyword) for keyword in node.keywords]
        return self.call("method", node, [obj, ast.Constant(node.func.attr), *args], keywords)

    def visit_Attribute(self, node: ast.Attribute) -> ast.expr:
        self.generic_visit(node)
        return self.call("attr", node, [node.value, ast.Constant(node.attr)])

    def visit_Subscript(self, node: ast.Subscript) -> ast.expr:
        self.generic_visit(node)
        if not isinstance(node.ctx, ast.Load) or not isinstance(node.slice, ast.Slice):
            return node
        part = node.slice
        bounds = [bound or ast.Constant(None) for bound in (part.lower, part.upper, part.step)]
        return self.call("slice", node, [node.value, *bounds])

    def visit_FormattedValue(self, node: ast.FormattedValue) -> ast.expr:
        self.generic_visit(node)
        spec = node.format_spec or ast.Constant("")
        value = self.call("format", node, [node.value, ast.Constant(node.conversion), spec])
        return ast.copy_location(
            ast.FormattedValue(value=value, conversion=-1, format_spec=None), node
        )


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
            f"an expression of {len(source):,} characters exceeds the limit of {MAX_SOURCE_CHARS:,}"
        )
    text = source.strip() if mode == "eval" else source
    try:
        return ast.parse(text, filename="<string>", mode=mode)
    except SyntaxError as err:
        error = ExpressionSyntaxError(
            f"line {err.lineno}, column {err.offset}: syntax error: {err.msg}"
        )
        error.lineno, error.offset, error.text = err.lineno, err.offset, err.text
        raise error from None
    except (RecursionError, MemoryError):
        raise UnsafeExpressionError("the expression is nested too deeply") from None


def _validate_tree(tree: ast.AST, mode: str) -> _Validator:
    validator = _Validator(mode)
    try:
        validator.visit(tree)
    except RecursionError:
        raise UnsafeExpressionError("the expression is nested too deeply") from None
    return validator


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
        raise UnsafeExpressionError("the expression is nested too deeply") from None
    return _Compiled(code, guarder.used, mode == "exec" or validator.has_comprehension)


# --------------------------------------------------------------------------- environment


def _visible_items(source: Mapping) -> list[tuple[str, Any]]:
    return [
        (key, value) for key, value in source.items()
        if isinstance(key, str) and not key.startswith("_")
    ]


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
    ):
        super().__init__({})
        self.time_limit = time_limit
        self.max_iterations = max_iterations
        self.max_allocated = max_allocated

    # -- SpiffWorkflow API
    def evaluate(self, expression: str, context: Mapping, external_context: Mapping | None = None):
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

    def execute(self, script: str, context: dict, external_context: Mapping | None = None) -> bool:
        compiled = _compile(script, "exec")
        namespace = self._namespace(context, external_context)
        visible = {key for key, _ in _visible_items(context)}
        external = set(external_context or ())
        try:
            self._run(compiled, compiled.code, namespace, None, mode="exec")
        finally:
            # Same semantics as TaskDataEnvironment: changes made before an error stay.
            for key in visible - namespace.keys():
                context.pop(key, None)
            for key, value in namespace.items():
                if key.startswith("_") or (key not in visible and (
                    key in _GLOBALS or key in external
                )):
                    continue
                if _is_data(value):
                    context[key] = value
                elif key in context:
                    del context[key]
        return True

    def call_service(self, context: Mapping, **kwargs: Any):
        raise UnsafeExpressionError(
            "service tasks are not run by the script engine: the application runs them as "
            f"jobs and completes the task (operation {kwargs.get('operation_name')!r})"
        )

    # -- internals
    @staticmethod
    def _namespace(context: Any, external_context: Mapping | None) -> dict[str, Any]:
        if not isinstance(context, Mapping):
            raise ExpressionError(f"task data must be a mapping, not {type(context).__name__}")
        namespace = dict(_GLOBALS)
        if external_context:
            namespace.update(_visible_items(external_context))
        namespace.update(_visible_items(context))
        namespace["__builtins__"] = _NO_BUILTINS
        return namespace

    def _run(self, compiled: _Compiled, code: types.CodeType, namespace: dict,
             local_map: Mapping | None, *, mode: str) -> Any:
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
            message = f"{type(err).__name__}: {err}"
            raise ExpressionError(message).with_traceback(err.__traceback__) from err
        finally:
            if token is not None:
                _BUDGET.reset(token)


class RestrictedScriptEngine(PythonScriptEngine):
    """``PythonScriptEngine`` running everything through :class:`RestrictedEnvironment`."""

    def __init__(self, environment: RestrictedEnvironment | None = None):
        super().__init__(environment=environment or RestrictedEnvironment())

    def validate(self, expression: str) -> None:
        """Used by the DMN engine: must raise ``SyntaxError`` for text that does not parse."""
        validate_expression(expression, mode="eval")

    def call_service(self, task, **kwargs: Any):
        try:
            return self.environment.call_service(task.data, **kwargs)
        except Exception as err:
            raise WorkflowTaskException(
                f"{type(err).__name__}: {err}", task=task, exception=err
            ) from err


SCRIPT_ENGINE = RestrictedScriptEngine()
