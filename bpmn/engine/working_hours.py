"""Timers and task deadlines due "in days" fall due at a working hour, not at the moment
they were started.

SpiffWorkflow adds a duration to the moment a timer starts: ``P1D`` started at 03:39 is
due at 03:39 the next night, and a cycle such as ``R6/P1M`` repeats that moment, each
time a fixed number of seconds later (so a monthly visit drifts by days and, across a
daylight-saving change, by an hour). Case work counts in days, so:

* a duration of whole days, weeks, months or years (``P1D``, ``P2W``, ``P1M``, ``P1Y2M``)
  is due at the working hour (default 09:00) in the working time zone (default
  Europe/Oslo) on the calendar day it names, counted in that zone; a day that falls on a
  Saturday or Sunday moves to the Monday after (``skip_weekends``), and a Norwegian public
  holiday (``skip_public_holidays``: 17 May, Skjærtorsdag, 2. juledag ...) to the next
  working day;
* a cycle of such a duration without a start date (``R6/P1M``) is due on the days the
  duration names counted from the day it started (1, 2, 3 ... months on, day of month
  clamped), each at the working hour; an occurrence a weekend move would put on or
  before the one before it moves on to the next working day after that one;
* durations with a time part (``PT2H``, ``P1DT12H``), explicit dates and cycles with a
  start or end date stay exact, as SpiffWorkflow computes them.

A user task's ``dueIn`` deadline follows the duration rule (``due_in_days``): a task due
in ``P5D`` is due at the working hour five days on, as a timer of ``P5D`` would fire.

The engine has no settings of its own: the application passes ``WorkingHours`` to
``configure`` at start-up (``configure(None)``: every duration exact). The timer classes
here replace SpiffWorkflow's under the same serializer type names (``runtime``), so a
stored definition or state is read as before and plain SpiffWorkflow still reads ours.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import SpiffWorkflow.bpmn.specs.event_definitions.timer as spiff_timer
from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition,
    DurationTimerEventDefinition,
    TimeDateEventDefinition,
    TimerEventDefinition,
)

from .date_range import check_timer_due, timer_dates
from .errors import ExpressionError
from .public_holidays import is_norwegian_public_holiday
from .timefuncs import MAX_REPEATS

_DATE_PARTS = ("years", "months", "weeks", "days")


@dataclass(frozen=True)
class DayDuration:
    """A duration of whole calendar units: months (years included) and days (weeks included)."""

    months: int
    days: int

    def after(self, start: date, times: int = 1) -> date:
        """``start`` plus ``times`` of this duration: months first (day clamped), then days."""
        index = start.year * 12 + start.month - 1 + self.months * times
        year, month = divmod(index, 12)
        if not 1 <= year <= 9999:
            raise ValueError("the timer falls due outside the years 1-9999")
        day = min(start.day, calendar.monthrange(year, month + 1)[1])
        return date(year, month + 1, day) + timedelta(days=self.days * times)


def day_duration(text: object) -> DayDuration | None:
    """The whole-day duration ``text`` names (``P1D``, ``P2W``, ``P1M``, ``P1Y2M``), or None
    for anything else (a time part, a fraction, zero, not a duration)."""
    if not isinstance(text, str) or not text.strip().upper().startswith("P"):
        return None
    try:
        parsed = TimerEventDefinition.parse_iso_duration(text.strip())
    except Exception:  # SpiffWorkflow raises a bare Exception; it reports the error itself
        return None
    if not parsed or any(key not in _DATE_PARTS for key in parsed):
        return None
    if not all(isinstance(value, int) for value in parsed.values()):
        return None
    months = parsed.get("years", 0) * 12 + parsed.get("months", 0)
    days = parsed.get("weeks", 0) * 7 + parsed.get("days", 0)
    if months == 0 and days == 0:
        return None
    return DayDuration(months, days)


@dataclass(frozen=True)
class WorkingHours:
    """When a timer due "in days" falls due: ``at`` o'clock in ``zone``, weekdays only
    when ``skip_weekends``, never on a Norwegian public holiday when ``skip_public_holidays``."""

    at: time = time(9, 0)
    zone: str = "Europe/Oslo"
    skip_weekends: bool = True
    skip_public_holidays: bool = True

    def __post_init__(self) -> None:
        ZoneInfo(self.zone)  # an unknown zone fails at start-up, not when a timer starts
        if self.at.tzinfo is not None:
            raise ValueError("the working hour is a wall-clock time, without a time zone")

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.zone)

    def is_closed(self, day: date) -> bool:
        return (self.skip_weekends and day.weekday() >= 5) or (
            self.skip_public_holidays and is_norwegian_public_holiday(day)
        )

    def working_day(self, day: date) -> date:
        """``day``, or the first day after it that is neither a weekend day nor a public
        holiday (as configured): Easter's Thursday to Monday is one stretch of four."""
        while self.is_closed(day):
            day += timedelta(days=1)
        return day

    def on(self, day: date) -> datetime:
        """The working hour on ``day`` (or the next working day after it), in UTC."""
        local = datetime.combine(self.working_day(day), self.at, tzinfo=self.tz)
        # Through UTC: a wall-clock time the spring change skips becomes a real instant.
        return local.astimezone(UTC)

    def local_day(self, moment: datetime) -> date:
        return moment.astimezone(self.tz).date()

    def due_after(self, start: datetime, duration: DayDuration) -> datetime:
        """When a timer of ``duration`` started at ``start`` falls due."""
        return self.on(duration.after(self.local_day(start)))


_configured: WorkingHours | None = WorkingHours()


def configure(hours: WorkingHours | None) -> None:
    """Set the working hours every timer started from now on uses (None: exact durations)."""
    global _configured
    _configured = hours


def configured() -> WorkingHours | None:
    return _configured


def due_in_days(text: object, started: datetime) -> datetime | None:
    """When something due ``text`` after ``started`` falls due if ``text`` is a whole-day
    duration and working hours are on: the working hour on that day. None otherwise (the
    caller counts the duration exactly). Timers and user tasks' ``dueIn`` deadlines both
    ask here, so a deadline and a timer of the same duration fall due together."""
    hours, days = _configured, day_duration(text)
    if hours is None or days is None:
        return None
    return hours.due_after(started, days)


def now() -> datetime:
    """The moment SpiffWorkflow's timers read (``clock.moved_clock`` and tests move it)."""
    moment: datetime = spiff_timer.datetime.now(UTC)
    return moment


class WorkingDayDurationTimer(DurationTimerEventDefinition):
    """A duration timer whose whole-day durations fall due at the working hour."""

    def has_fired(self, my_task: Any) -> bool:
        if my_task._get_internal_data("event_value") is None:
            with timer_dates(my_task):
                expression = my_task.workflow.script_engine.evaluate(my_task, self.expression)
                started = now()
                due = due_in_days(expression, started)
                if due is None:  # as SpiffWorkflow computes it (and fails on a bad value the same way)
                    parsed = TimerEventDefinition.parse_iso_duration(expression)
                    due = started + TimerEventDefinition.get_timedelta_from_start(parsed, started)
            check_timer_due(my_task, due)
            my_task._set_internal_data(event_value=due.isoformat())
        fired: bool = super().has_fired(my_task)
        return fired


class CheckedDateTimer(TimeDateEventDefinition):
    """SpiffWorkflow's date timer, whose computed date outside the dates a timer may have
    (``date_range``: a typo's year 1 or 9999, an overflow) stops on the timer's own incident
    instead of an expression error, or an engine error on every later step."""

    def has_fired(self, my_task: Any) -> bool:
        if my_task._get_internal_data("event_value") is None:
            with timer_dates(my_task):
                value = my_task.workflow.script_engine.evaluate(my_task, self.expression)
                due = TimerEventDefinition.parse_time_or_duration(value) if isinstance(value, str) else None
            check_timer_due(my_task, due)
            my_task._set_internal_data(event_value=value)
        fired: bool = super().has_fired(my_task)
        return fired


class WorkingDayCycleTimer(CycleTimerEventDefinition):
    """A cycle timer whose whole-day interval without a start date falls due at the working
    hour on the days it names from the day it started.

    Its state adds ``anchor`` (the local day it started), ``interval`` (the duration's
    text) and ``index`` (the occurrence ``next`` is) to SpiffWorkflow's ``cycles``,
    ``next`` and ``duration``; a state without them (started before) runs as SpiffWorkflow's.
    """

    def cycle_complete(self, my_task: Any) -> bool:
        with timer_dates(my_task):
            ready = self._cycle_complete(my_task)
            value = my_task._get_internal_data("event_value")
            if isinstance(value, dict) and isinstance(value.get("next"), str):
                try:
                    check_timer_due(my_task, datetime.fromisoformat(value["next"]))
                except Exception:
                    my_task.internal_data.pop("event_value", None)  # a retry computes it again
                    raise
        return ready

    def _cycle_complete(self, my_task: Any) -> bool:
        value = my_task._get_internal_data("event_value")
        if value is None:
            expression = my_task.workflow.script_engine.evaluate(my_task, self.expression)
            _check_rounds(expression)
            value = _first_occurrence(expression)
            if value is None:
                return bool(super().cycle_complete(my_task))
            my_task._set_internal_data(event_value=value)
        if not isinstance(value, dict) or "anchor" not in value:
            return bool(super().cycle_complete(my_task))
        ready = False
        if value["cycles"] != 0:
            current = datetime.fromisoformat(value["next"])
            if current < now():
                value["index"], due = _occurrence_after(value, current)
                value["next"] = due.isoformat()
                value["cycles"] -= 1
                ready = True
        else:
            my_task.internal_data.pop("event_value", None)
            my_task.internal_data["event_fired"] = True
        my_task._set_internal_data(event_value=value)
        return ready


def _hours() -> WorkingHours:
    # A cycle started with working hours keeps them if they are switched off later.
    return _configured or WorkingHours()


def _check_rounds(expression: object) -> None:
    """Refuse a computed cycle that repeats without end or more than ``MAX_REPEATS`` times (a
    literal one is refused at deploy, ``timers.parse_iso_cycle_text``): every round leaves
    tasks in the state. The count comes from case data: the message gives the limit only."""
    if not isinstance(expression, str):
        return
    count = expression.strip().upper().split("/", 1)[0][1:]
    # ASCII digits, and few (see ``timers.parse_iso_cycle_text``): "²" or 5,000 digits from the
    # case's data stopped the case on an engine error, not this one (until h-attack28).
    if not (count.isascii() and count.isdigit()) or len(count) > 9 or int(count) > MAX_REPEATS:
        raise ExpressionError(
            f"the cycle repeats without end or more than {MAX_REPEATS} times, more than the limit; "
            "give a bounded count such as R3/P30D, or use repeat()",
            code="cycle-limit",
            limit=MAX_REPEATS,
        )


def _first_occurrence(expression: object) -> dict[str, Any] | None:
    """The state of a new ``R<n>/<whole-day duration>`` cycle, or None for SpiffWorkflow's."""
    hours = _configured
    if hours is None or not isinstance(expression, str):
        return None
    parts = expression.strip().upper().replace("--", "/").split("/")
    if len(parts) != 2 or not parts[0].startswith("R"):
        return None
    days = day_duration(parts[1])
    if days is None:
        return None
    cycles, _start, duration = TimerEventDefinition.parse_iso_recurring_interval(expression.strip())
    anchor = hours.local_day(now())
    return {
        "cycles": cycles,
        "next": hours.on(days.after(anchor, 1)).isoformat(),
        "duration": duration.total_seconds(),
        "anchor": anchor.isoformat(),
        "interval": parts[1],
        "index": 1,
    }


def _occurrence_after(value: dict[str, Any], current: datetime) -> tuple[int, datetime]:
    """The index and due time of the occurrence after ``current``: strictly later, so two
    weekend days moved to the same Monday do not fire twice."""
    hours = _hours()
    days = day_duration(value["interval"])
    if days is None:  # pragma: no cover - only whole-day intervals get an anchor
        raise ValueError(f"cycle interval {value['interval']!r} is not whole days")
    anchor = date.fromisoformat(value["anchor"])
    index = int(value["index"]) + 1
    due = hours.on(days.after(anchor, index))
    while due <= current:
        index += 1
        due = hours.on(days.after(anchor, index))
    return index, due
