"""The dates case work can have, for forms and timers alike.

A form's date field accepts a date from ``DATE_MIN`` to ``DATE_MAX`` unless its schema says
otherwise (``formatMinimum``/``formatMaximum``, ISO dates, as ajv and the JSON Schema
format-assertion proposal call them): the oldest person's birth date and a release date
decades out pass, a typo such as ``0001-01-01`` or ``9999-12-31`` does not. Such a date used
to reach a timer (``months_before(expected_release_date, 2)``) and stop the whole
cross-agency case on an expression error until a process admin stepped in (h-dates).

A timer whose computed time falls outside the same range (a date a script computed, a date
of a form that widened its range, an overflow past the year 9999) stops on its own incident
naming the timer: ``TimerDateOutOfRange``.

Plain Python: this module must never import Django.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any

from .errors import ExpressionError
from .expressions.exceptions import expression_error_of

DATE_MIN = date(1900, 1, 1)
DATE_MAX = date(2199, 12, 31)
# The schema keywords that set a field's own range (inclusive ISO dates).
MINIMUM_KEYWORD = "formatMinimum"
MAXIMUM_KEYWORD = "formatMaximum"
DATE_FORMATS = ("date", "date-time")


def bound_date(value: object) -> date | None:
    """The date a ``formatMinimum``/``formatMaximum`` names, None when it names none."""
    if isinstance(value, str) and len(value) <= 64:
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    return None


def bound(schema: object, keyword: str, default: date) -> date:
    """The field's own bound, or ``default`` when it sets none it can have (a bound that is
    no ISO date is refused at deploy, ``lint/forms``; here it falls back to the default)."""
    day = bound_date(schema.get(keyword)) if isinstance(schema, dict) else None
    return default if day is None else day


def date_of(value: str, form_format: str) -> date | None:
    """The date a field's text names (a date-time's own date), None when it names none: the
    ``format`` keyword reports that."""
    if len(value) > 64:
        return None
    try:
        if form_format == "date":
            return date.fromisoformat(value)
        return datetime.fromisoformat(value.replace("z", "Z")).date()
    except ValueError:
        return None


def date_range(schema: dict[str, Any]) -> tuple[date, date]:
    """The dates a field of ``format`` date or date-time accepts."""
    return bound(schema, MINIMUM_KEYWORD, DATE_MIN), bound(schema, MAXIMUM_KEYWORD, DATE_MAX)


# --------------------------------------------------------------------------- timers


class TimerDateOutOfRange(ExpressionError):
    """A timer's computed time is outside ``DATE_MIN``-``DATE_MAX`` (or past what a date can
    be). Names the timer and the range, never the date: it comes from case data."""

    def __init__(self, element_id: str, task: Any = None):
        self.task = task  # the waiting timer's task, as SpiffWorkflow's own errors carry it
        minimum, maximum = DATE_MIN.isoformat(), DATE_MAX.isoformat()
        super().__init__(
            f"the timer '{element_id}' falls due on a date outside {minimum} to {maximum}, the dates a timer may "
            "have; the date it is computed from is wrong: correct it in the case and retry",
            element_id=element_id,
        )
        # said in the reader's language as "engine.<code>" (core.messages)
        self.with_code("timer-date-out-of-range", element=element_id, minimum=minimum, maximum=maximum)


_YEAR_OUT_OF_RANGE = re.compile(r"^(year -?\d+ is out of range|date value out of range)")


def _out_of_range(exc: BaseException) -> bool:
    """Whether ``exc`` (or what it wraps) is a date past what Python's dates can be."""
    engine = expression_error_of(exc)
    if engine is not None and engine.code == "date-out-of-range":
        return True
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, OverflowError):
            return True
        if isinstance(current, ValueError) and _YEAR_OUT_OF_RANGE.match(str(current)):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


@contextmanager
def timer_dates(task: Any) -> Iterator[None]:
    """Around computing the time of the timer waiting in ``task``: a date past what Python's
    dates can be is the timer's out-of-range incident, not an expression or engine error
    (raised without its cause: SpiffWorkflow's text of it quotes the expression's values)."""
    try:
        yield
    except TimerDateOutOfRange:
        raise
    except Exception as exc:
        if _out_of_range(exc):
            raise TimerDateOutOfRange(task.task_spec.bpmn_id, task) from None
        raise


def check_timer_due(task: Any, due: object) -> None:
    """Raise ``TimerDateOutOfRange`` when ``due`` (the computed due time of the timer waiting
    in ``task``) is outside the range."""
    if isinstance(due, datetime) and not DATE_MIN <= due.date() <= DATE_MAX:
        raise TimerDateOutOfRange(task.task_spec.bpmn_id, task)
