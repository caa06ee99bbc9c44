"""Methods and attributes reachable from expressions, by value type, and their guards.

Plain Python: this module must never import Django.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

from ..errors import ExpressionError
from .guards import _charge, _check_len, _check_walked


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

_COMPARING_METHODS = frozenset({"count", "index", "get"})
_STR_METHODS = frozenset(
    {"lower", "upper", "strip", "startswith", "endswith", "split", "join", "replace", "count", "index"}
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
        raise ExpressionError(
            f"a {type(obj).__name__} value has no method {name!r} here",
            code="no-method",
            type=type(obj).__name__,
            name=name,
        )
    if isinstance(obj, str) and name in _STR_GUARDS:
        return _STR_GUARDS[name](obj, *args, **kwargs)
    if isinstance(obj, list | tuple | dict) and name in _COMPARING_METHODS:
        # list.count/index compare the argument with every item (and list.index quotes it
        # when it is missing); dict.get hashes it.
        if not isinstance(obj, dict):
            _check_walked(obj)
        for arg in args:
            _check_walked(arg)
        if name == "index":
            try:
                return getattr(obj, name)(*args, **kwargs)
            except ValueError:
                # list.index quotes what it looked for ("('P', 'a', ...) is not in list"): a
                # value the model computed from case data, in the incident's text.
                raise ValueError(f"the value is not in the {type(obj).__name__}") from None
    return getattr(obj, name)(*args, **kwargs)


def _g_attr(obj: Any, name: str) -> Any:
    if name not in _lookup(_ATTRS_BY_TYPE, obj):
        raise ExpressionError(
            f"a {type(obj).__name__} value has no attribute {name!r} here",
            code="no-attribute",
            type=type(obj).__name__,
            name=name,
        )
    return getattr(obj, name)
