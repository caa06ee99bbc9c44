"""The safe functions exposed to expressions: bounded builtins and date helpers.

Plain Python: this module must never import Django.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

from bpmn.engine.errors import ExpressionError
from bpmn.engine.expressions.guards import _charge, _check_int, _check_len, _check_text_size, _check_walked
from bpmn.engine.expressions.limits import MAX_ROUND_DIGITS, MAX_SEQUENCE_LEN, TIMEZONE
from bpmn.engine.timefuncs import TIMER_FUNCTIONS, add_months


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


def _walked_items(iterable: Any, what: str) -> list[Any]:
    """The items of ``iterable`` as a list, checked before C compares or hashes them."""
    items = list(iterable)
    _check_len(len(items), what)
    _check_walked(items)
    return items


def _hashing(kind: type) -> Callable[..., Any]:
    """``set()`` and ``dict()``: their items are hashed (and compared) in C."""

    def build(*args: Any, **kwargs: Any) -> Any:
        if args:
            args = (_walked_items(args[0], f"{kind.__name__}() input"), *args[1:])
        result = kind(*args, **kwargs)
        _charge(len(result))
        return result

    build.__name__ = kind.__name__
    return build


def _safe_sorted(iterable: Any, /, *, key: Any = None, reverse: bool = False) -> list[Any]:
    result = _walked_items(iterable, "sorted() input")
    result.sort(key=key, reverse=reverse)
    _charge(len(result))
    return result


def _extreme(pick: Callable[..., Any]) -> Callable[..., Any]:
    """``min()`` and ``max()``: they compare their items in C."""

    def run(*args: Any, **kwargs: Any) -> Any:
        items = _walked_items(args[0], f"{pick.__name__}() input") if len(args) == 1 else list(args)
        _check_walked(items)
        return pick(items, **kwargs)

    run.__name__ = pick.__name__
    return run


def _safe_sum(iterable: Any, /, start: Any = 0) -> Any:
    if not isinstance(start, int | float):
        raise ExpressionError("sum() adds numbers only; use join() for text", code="sum-numbers")
    return _check_int(sum(iterable, start), "integer result of sum()")


def _safe_round(number: Any, ndigits: int | None = None) -> Any:
    if ndigits is not None and isinstance(ndigits, int) and abs(ndigits) > MAX_ROUND_DIGITS:
        raise ExpressionError(
            f"round() digits exceed the limit of {MAX_ROUND_DIGITS}", code="round-limit", limit=MAX_ROUND_DIGITS
        )
    return round(number) if ndigits is None else round(number, ndigits)


def _safe_str(value: Any = "") -> str:
    _check_text_size(value)
    result = str(value)
    _charge(len(result))
    return result


def _safe_int(value: Any = 0, base: int | None = None) -> int:
    if isinstance(value, str) and len(value) > 5000:
        raise ExpressionError(
            "int() of text longer than 5,000 characters exceeds the limit", code="int-text-limit", limit=5000
        )
    result = int(value) if base is None else int(value, base)
    _check_int(result, "int() result")
    return result


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=TIMEZONE) if moment.tzinfo is None else moment


def parse_date(text: str) -> date:
    """ISO-8601 calendar date, e.g. ``'2024-05-17'``."""
    if not isinstance(text, str) or len(text) > 64:
        raise ExpressionError("parse_date() expects an ISO-8601 date text", code="expects-date-text")
    return date.fromisoformat(text.strip())


def parse_datetime(text: str) -> datetime:
    """ISO-8601 date and time; always aware (no offset means Europe/Oslo local time)."""
    if not isinstance(text, str) or len(text) > 64:
        raise ExpressionError("parse_datetime() expects an ISO-8601 date-time text", code="expects-datetime-text")
    return _aware(datetime.fromisoformat(text.strip()))


def now() -> datetime:
    """The current time, aware, in Europe/Oslo."""
    return datetime.now(TIMEZONE)


def today() -> date:
    """Today's date in Europe/Oslo."""
    return datetime.now(TIMEZONE).date()


def _aware_datetime(
    year: int,
    month: int,
    day: int,
    hour: int = 0,
    minute: int = 0,
    second: int = 0,
    microsecond: int = 0,
) -> datetime:
    return datetime(year, month, day, hour, minute, second, microsecond, tzinfo=TIMEZONE)


_aware_datetime.__name__ = "datetime"

_SAFE_FUNCTIONS: dict[str, Any] = {
    "len": len,
    "min": _extreme(min),
    "max": _extreme(max),
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
    "dict": _hashing(dict),
    "set": _hashing(set),
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
