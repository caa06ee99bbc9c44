"""Safe functions for timer expressions relative to case data.

SpiffWorkflow parses a ``timeDate`` value with ``datetime.fromisoformat`` and gives a
naive value the *server's* offset at start-up (engine-notes 9). These helpers always
return aware ISO-8601 text in Europe/Oslo (or the zone asked for), so a deadline such as
"two months before the release date at 09:00" lands on the right local hour on both
sides of a daylight-saving change:

    local_datetime(months_before(expected_release_date, 2), "09:00")
"""

from __future__ import annotations

import calendar
import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bpmn.engine.errors import ExpressionError

DEFAULT_ZONE = "Europe/Oslo"
# Whole days, weeks, months or years (at least a day: visits, not a busy loop).
_DAY_DURATION = re.compile(r"^P(?:[1-9]\d{0,2}[DWMY])$")
_ZONES = {DEFAULT_ZONE: ZoneInfo(DEFAULT_ZONE), "UTC": ZoneInfo("UTC")}


def _kind(value: object, *, number: bool = False) -> str:
    """What a refused value is, without quoting it: "a list", "a text of 40 characters"."""
    if isinstance(value, str):
        return f"a text of {len(value)} characters"
    if number and isinstance(value, int) and not isinstance(value, bool):
        return "a number outside that range"
    return f"a value of type {type(value).__name__}"


def _as_date(value: object, what: str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str) and len(value) <= 64:
        try:
            return date.fromisoformat(value.strip()[:10])
        except ValueError:
            pass
    # The value is never quoted: it is case data, and its repr can be huge (shared references).
    raise ExpressionError(
        f"{what} expects a date or an ISO-8601 date text such as '2027-03-01', got {_kind(value)}",
        code="expects-date",
        function=what,
    )


def _zone(name: str) -> ZoneInfo:
    if not isinstance(name, str) or len(name) > 64:
        raise ExpressionError("the time zone must be a name such as 'Europe/Oslo'", code="time-zone-name")
    zone = _ZONES.get(name)
    if zone is None:
        try:
            zone = ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ExpressionError(f"unknown time zone {name!r}", code="time-zone-unknown") from exc
    return zone


def add_months(value: date, months: int) -> date:
    """Add calendar months, clamping the day (31 January + 1 month = 28/29 February).

    ``True`` is not a month count, though Python says ``True == 1``."""
    if not isinstance(value, date) or not isinstance(months, int) or isinstance(months, bool):
        raise ExpressionError("add_months() expects a date and a whole number of months", code="months-expected")
    if abs(months) > 12 * 100:
        raise ExpressionError("the number of months must be a whole number up to 1200", code="months-limit", limit=1200)
    index = value.year * 12 + value.month - 1 + months
    year, month = divmod(index, 12)
    if not 1 <= year <= 9999:
        raise ExpressionError("the date is outside the supported years 1-9999", code="date-out-of-range")
    day = min(value.day, calendar.monthrange(year, month + 1)[1])
    return value.replace(year=year, month=month + 1, day=day)


def months_before(value: object, months: int) -> str:
    """The date ``months`` calendar months before ``value`` (day clamped), as ISO text."""
    return add_months(_as_date(value, "months_before()"), -months).isoformat()


def months_after(value: object, months: int) -> str:
    """The date ``months`` calendar months after ``value`` (day clamped), as ISO text."""
    return add_months(_as_date(value, "months_after()"), months).isoformat()


def days_before(value: object, days: int) -> str:
    if not isinstance(days, int) or isinstance(days, bool) or abs(days) > 36600:
        raise ExpressionError(
            "days_before() expects a whole number of days up to 36600",
            code="days-limit",
            function="days_before()",
            limit=36600,
        )
    return _shifted(_as_date(value, "days_before()"), -days)


def days_after(value: object, days: int) -> str:
    if not isinstance(days, int) or isinstance(days, bool) or abs(days) > 36600:
        raise ExpressionError(
            "days_after() expects a whole number of days up to 36600",
            code="days-limit",
            function="days_after()",
            limit=36600,
        )
    return _shifted(_as_date(value, "days_after()"), days)


def _shifted(day: date, days: int) -> str:
    try:
        return (day + timedelta(days=days)).isoformat()
    except OverflowError:  # past 9999-12-31 or before 0001-01-01
        raise ExpressionError("the date is outside the supported years 1-9999", code="date-out-of-range") from None


def local_datetime(value: object, clock: str = "00:00", zone: str = DEFAULT_ZONE) -> str:
    """The wall-clock time ``clock`` (HH:MM) on date ``value`` in ``zone``, as aware ISO text.

    A wall-clock time that does not exist (skipped by the spring change) moves forward by
    the gap; an ambiguous one (the autumn change) is the first occurrence.
    """
    day = _as_date(value, "local_datetime()")
    if not isinstance(clock, str) or len(clock) > 8:
        raise ExpressionError("local_datetime() expects the time as 'HH:MM'", code="clock-expected")
    try:
        at = time.fromisoformat(clock.strip())
    except ValueError as exc:
        # Not the text given: it can be case data.
        raise ExpressionError("local_datetime() expects the time as 'HH:MM'", code="clock-expected") from exc
    tz = _zone(zone)
    moment = datetime.combine(day, at.replace(tzinfo=None), tzinfo=tz)
    # Round trip through UTC normalises a non-existent local time to a real instant.
    try:
        return moment.astimezone(ZoneInfo("UTC")).astimezone(tz).isoformat()
    except OverflowError:  # the first or last hours of the years 1-9999
        raise ExpressionError("the date is outside the supported years 1-9999", code="date-out-of-range") from None


# A cycle repeats at most this often: follow-up visits for a few years, not a loop
# (engine-notes 11: the task tree grows with every round).
MAX_REPEATS = 52


def repeat(times: object, every: object) -> str:
    """A bounded cycle ``R<times>/<every>`` from case data, e.g. visits the housing contact
    plans: ``repeat(visit_count, visit_interval)`` -> ``"R6/P14D"``.

    Refuses what a form should never let through (an unbounded or runaway count, an
    interval that is not an ISO-8601 duration of at least a day), so a cycle read from
    data cannot spin: the step stops on an incident instead.
    """
    if not isinstance(times, int) or isinstance(times, bool) or not 1 <= times <= MAX_REPEATS:
        raise ExpressionError(
            f"repeat() expects a whole number of times from 1 to {MAX_REPEATS}, got {_kind(times, number=True)}",
            code="repeat-times",
            limit=MAX_REPEATS,
        )
    if not isinstance(every, str) or not _DAY_DURATION.match(every.strip()):
        raise ExpressionError(
            f"repeat() expects an interval such as 'P14D', 'P2W' or 'P1M', got {_kind(every)}", code="repeat-interval"
        )
    return f"R{times}/{every.strip()}"


TIMER_FUNCTIONS = {
    "repeat": repeat,
    "local_datetime": local_datetime,
    "months_before": months_before,
    "months_after": months_after,
    "days_before": days_before,
    "days_after": days_after,
}
