"""Deploy-time handling of BPMN timer expressions.

SpiffWorkflow evaluates the text of ``bpmn:timeDate``, ``bpmn:timeDuration`` and
``bpmn:timeCycle`` as a Python expression and then parses the resulting string as
ISO-8601. Modelers such as Camunda write the ISO text directly (``P14D``), which is a
NameError (or, for ``R3/P30D``, a division) at run time. ``normalize_timer_expressions``
turns such literals into quoted Python string literals, validates them with
SpiffWorkflow's own ISO parsers (so deploy and run time agree), and refuses what would
misbehave later: dates without a time zone (Spiff would silently use the server's
offset at start-up), dates outside the dates a timer may have (``date_range``: a typo's
year 1 or 2300 stopped the case on an incident when the timer started), cycles that
repeat forever, and text that is neither ISO-8601 nor a Python expression.
"""

from __future__ import annotations

import ast
import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition

from .date_range import DATE_MAX, DATE_MIN
from .errors import ValidationIssue
from .timefuncs import MAX_REPEATS

BPMN_MODEL_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
_NS = {"bpmn": BPMN_MODEL_NS}

TIMER_KINDS = ("timeDate", "timeDuration", "timeCycle")

# Longest duration accepted. SpiffWorkflow walks a duration month by month, so an absurd
# value such as P100000000Y would stall a worker; nothing in case work waits a century.
MAX_DURATION_YEARS = 100
# The most rounds a cycle timer may run (as ``repeat()`` allows from data): every round adds
# tasks to the tree, R999999/PT1S made each step slower until the state cap stopped the case.
MAX_CYCLE_ROUNDS = MAX_REPEATS
_MAX_DURATION = timedelta(days=366 * MAX_DURATION_YEARS)

_NUM = r"\d+(?:[.,]\d+)?"
_DURATION_RE = re.compile(
    rf"^P(?=[\dT])(?:{_NUM}Y)?(?:{_NUM}M)?(?:{_NUM}W)?(?:{_NUM}D)?"
    rf"(?:T(?=\d)(?:{_NUM}H)?(?:{_NUM}M)?(?:{_NUM}S)?)?$",
    re.IGNORECASE,
)
# Loose shapes, used only to decide that a text is meant as an ISO literal (and not as a
# Python expression); the strict check comes after.
# "P" or "PT" alone, or P[T] followed by a digit: a broken duration rather than a name.
_LOOKS_DURATION_RE = re.compile(r"^(?:PT?|[Pp][Tt]?\d[0-9A-Za-z.,]*)$")
_LOOKS_DATE_RE = re.compile(r"^\d{4}(?:-?\d{2}|-?W\d)", re.IGNORECASE)
_LOOKS_CYCLE_RE = re.compile(r"^R-?\d*(?:/|--)[0-9A-Z:+\-.,/]+$", re.IGNORECASE)
_WEEK_RE = re.compile(r"(\d{4})W(\d{2})(\d)(T.+)?")


class TimerValueError(ValueError):
    """An ISO-8601 timer value that SpiffWorkflow would mishandle.

    ``code`` is the validation issue code; the message is a reason in plain English,
    written to follow "timer 'X' ...".
    """

    def __init__(self, code: str, reason: str, **params: str):
        self.code = code
        self.params = params  # the message's own, besides the timer's kind and value
        super().__init__(reason)


# --- plain helpers -----------------------------------------------------------------------


def _parse_duration_dict(text: str) -> dict[str, Any]:
    if not isinstance(text, str) or not _DURATION_RE.match(text):
        raise TimerValueError(
            "invalid-timer",
            f"{text!r} is not an ISO-8601 duration (write it like P14D, PT1H or P1Y2M)",
        )
    try:
        parsed: dict[str, Any] = TimerEventDefinition.parse_iso_duration(text)
    except Exception as exc:  # Spiff raises a bare Exception
        raise TimerValueError(
            "invalid-timer",
            f"{text!r} is not an ISO-8601 duration (write it like P14D, PT1H or P1Y2M)",
        ) from exc
    months = parsed.get("years", 0) * 12 + parsed.get("months", 0)
    if months > 12 * MAX_DURATION_YEARS:
        raise TimerValueError(
            "invalid-timer",
            f"the duration {text!r} is longer than {MAX_DURATION_YEARS} years",
        )
    return parsed


def parse_iso_duration_text(text: str, *, start: datetime | None = None) -> timedelta:
    """Parse an ISO-8601 duration (``P5D``, ``PT1H``, ``P1Y2M``) the way SpiffWorkflow does.

    Years and months are counted in calendar months from ``start`` (default: now, UTC),
    as SpiffWorkflow does at run time. Raises ``TimerValueError`` (a ``ValueError``)
    with the reason in plain English.
    """
    parsed = _parse_duration_dict(text.strip() if isinstance(text, str) else text)
    if start is None:
        start = datetime.now(UTC)
    try:
        delta: timedelta = TimerEventDefinition.get_timedelta_from_start(dict(parsed), start)
    except (OverflowError, ValueError) as exc:
        raise TimerValueError("invalid-timer", f"the duration {text!r} is too long") from exc
    if delta > _MAX_DURATION:
        raise TimerValueError("invalid-timer", f"the duration {text!r} is longer than {MAX_DURATION_YEARS} years")
    return delta


def _week_date_to_isoformat(text: str) -> str:
    # Mirrors TimerEventDefinition.parse_iso_week, without the local-zone default.
    match = _WEEK_RE.match(text.upper().replace("-", ""))
    if not match:
        raise ValueError(text)
    year, week, day, time_part = match.groups()
    date_part = datetime.fromisocalendar(int(year), int(week), int(day)).strftime("%Y-%m-%d")
    return date_part + (time_part or "")


def parse_iso_datetime_text(text: str) -> datetime:
    """Parse an ISO-8601 date-time that carries a time zone, as SpiffWorkflow does.

    Returns an aware datetime in UTC. A date or time without an offset or ``Z`` raises
    ``TimerValueError`` with code ``naive-timer-date``; anything else that is not a
    date raises it with code ``invalid-timer``.
    """
    if not isinstance(text, str) or not text.strip():
        raise TimerValueError("invalid-timer", "the date is empty")
    text = text.strip()
    invalid = TimerValueError(
        "invalid-timer",
        f"{text!r} is not an ISO-8601 date and time (write it like 2026-12-01T09:00:00+01:00)",
    )
    if text.upper().startswith("P"):
        raise invalid
    try:
        iso = _week_date_to_isoformat(text) if "W" in text.upper() else text
        value = datetime.fromisoformat(iso)
    except (ValueError, TypeError) as exc:
        raise invalid from exc
    if value.tzinfo is None or value.utcoffset() is None:
        raise TimerValueError(
            "naive-timer-date",
            f"has the date {text} without a time zone; write it with an offset such as +01:00",
        )
    # The date as written (in its own offset), as the engine checks a computed one
    # (``date_range.check_timer_due``): refused here, not on an incident when the timer starts.
    if not DATE_MIN <= value.date() <= DATE_MAX:
        minimum, maximum = DATE_MIN.isoformat(), DATE_MAX.isoformat()
        raise TimerValueError(
            "timer-date-out-of-range",
            f"has the date {text}, outside {minimum} to {maximum}, the dates a timer may have; write a date in "
            "that range",
            minimum=minimum,
            maximum=maximum,
        )
    try:
        spiff_value = TimerEventDefinition.parse_time_or_duration(text)
    except Exception as exc:
        raise invalid from exc
    if not isinstance(spiff_value, datetime):
        raise invalid
    return spiff_value.astimezone(UTC)


def is_timezone_aware_iso(text: str) -> bool:
    """True when ``text`` is an ISO-8601 date-time with an offset or ``Z``."""
    try:
        parse_iso_datetime_text(text)
    except TimerValueError:
        return False
    return True


def parse_iso_cycle_text(text: str) -> tuple[int, datetime, timedelta]:
    """Parse a bounded ISO-8601 repeating interval (``R3/P30D``, ``R3/<date>/P1D``).

    Returns ``(count, first_time, interval)`` as SpiffWorkflow computes them. Refuses an
    unbounded count (``R/...``, ``R-1/...``) and dates without a time zone.
    """
    if not isinstance(text, str) or not text.strip():
        raise TimerValueError("invalid-timer", "the cycle is empty")
    text = text.strip()
    invalid = TimerValueError(
        "invalid-timer",
        f"{text!r} is not an ISO-8601 repeating interval (write it like R3/P30D or R3/2026-12-01T09:00:00+01:00/P1D)",
    )
    components = text.upper().replace("--", "/").split("/")
    if len(components) not in (2, 3) or not components[0].startswith("R"):
        raise invalid
    count_text = components[0][1:]
    if count_text == "" or count_text.startswith("-"):
        raise TimerValueError(
            "unbounded-timer-cycle",
            f"has the cycle {text} which repeats forever; Brobygger needs a bounded count such as R3/P30D",
        )
    if not (count_text.isascii() and count_text.isdigit()):  # "²" is a digit to isdigit, not to int
        raise invalid
    # More digits than any bound is past it, and not read (5,000 digits are past what ``int``
    # reads from text: a ValueError, a 500 at deploy until h-attack28).
    if len(count_text) > 9 or int(count_text) > MAX_CYCLE_ROUNDS:
        raise TimerValueError(
            "long-timer-cycle",
            f"has the cycle {text} which repeats more than {MAX_CYCLE_ROUNDS} times; every round leaves tasks in "
            "the case's state, so Brobygger runs a cycle at most that often",
        )
    parts = text.replace("--", "/").split("/")[1:]
    kinds = []
    for part in parts:
        if part.upper().startswith("P"):
            _parse_duration_dict(part)
            kinds.append("duration")
        else:
            parse_iso_datetime_text(part)  # refuses naive dates with their own code
            kinds.append("date")
    if kinds.count("duration") != 1:
        raise invalid
    try:
        count, first, interval = TimerEventDefinition.parse_iso_recurring_interval(text)
    except Exception as exc:
        raise invalid from exc
    if interval > _MAX_DURATION:
        raise TimerValueError("invalid-timer", f"the interval of {text!r} is longer than {MAX_DURATION_YEARS} years")
    return count, first, interval


def check_timer_value(kind: str, value: str) -> None:
    """Validate the evaluated (string) value of a timer of ``kind`` (timeDate, ...)."""
    if kind == "timeDuration":
        if not value.upper().startswith("P"):
            raise TimerValueError(
                "invalid-timer",
                f"is a duration timer but {value!r} is not an ISO-8601 duration (write it like "
                "P14D or PT1H; use timeDate for a date)",
            )
        parse_iso_duration_text(value)
    elif kind == "timeDate":
        if value.upper().startswith("P"):
            raise TimerValueError(
                "invalid-timer",
                f"is a date timer but {value!r} is a duration; use timeDuration for a duration "
                "or give a date such as 2026-12-01T09:00:00+01:00",
            )
        parse_iso_datetime_text(value)
    elif kind == "timeCycle":
        if not value.upper().startswith("R"):
            raise TimerValueError(
                "invalid-timer",
                f"is a cycle timer but {value!r} is not an ISO-8601 repeating interval (write it like R3/P30D)",
            )
        parse_iso_cycle_text(value)
    else:  # pragma: no cover - callers pass one of TIMER_KINDS
        raise ValueError(kind)


def looks_like_iso_literal(text: str) -> bool:
    """True when ``text`` is meant as an unquoted ISO-8601 value rather than Python."""
    text = text.strip()
    return bool(_LOOKS_DURATION_RE.match(text) or _LOOKS_DATE_RE.match(text) or _LOOKS_CYCLE_RE.match(text))


# --- the tree walk -----------------------------------------------------------------------


def _timer_owner(definition: etree._Element) -> etree._Element:
    parent = definition.getparent()
    if parent is not None and parent.get("id"):
        return parent
    return definition


def _describe(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def normalize_timer_expressions(root: etree._Element, *, filename: str) -> list[ValidationIssue]:
    """Quote ISO-8601 timer literals in place and return the problems found.

    Mutates ``root``: an unquoted ISO literal becomes a JSON/Python string literal, a
    quoted literal is rewritten without surrounding white space; an expression is kept
    (surrounding white space removed, which ``eval`` would otherwise reject).
    """
    issues: list[ValidationIssue] = []
    for definition in root.iter(f"{{{BPMN_MODEL_NS}}}timerEventDefinition"):
        owner = _timer_owner(definition)
        element_id = owner.get("id") or definition.get("id")
        line = owner.sourceline

        def issue(
            code: str, reason: str, *, _id: str | None = element_id, _line: int | None = line, **params: str
        ) -> None:
            # ``params``: the model's words, to say it in the user's language (the reason is English).
            issues.append(ValidationIssue(code, f"timer '{_id}' {reason}", _id, _line, filename, params=params))

        children = [child for kind in TIMER_KINDS for child in definition.findall(f"bpmn:{kind}", _NS)]
        if not children:
            issue(
                "empty-timer",
                "has no timeDate, timeDuration or timeCycle; give the time it waits for",
            )
            continue
        if len(children) > 1:
            found = ", ".join(etree.QName(child).localname for child in children)
            issue(
                "invalid-timer",
                f"has more than one time specification ({found}); give one",
                variant="several",
                found=found,
            )
            continue
        child = children[0]
        kind = etree.QName(child).localname
        text = (child.text or "").strip()
        if not text:
            issue("empty-timer", f"has an empty {kind}; give the time it waits for")
            continue

        try:
            if looks_like_iso_literal(text):
                check_timer_value(kind, text)
                child.text = json.dumps(text)
                continue
            try:
                tree = ast.parse(text, mode="eval")
            except SyntaxError as exc:
                issue(
                    "invalid-timer",
                    f"has the {kind} {_describe(text)!r}, which is neither an ISO-8601 value "
                    f"(such as P14D, 2026-12-01T09:00:00+01:00 or R3/P30D) nor a valid "
                    f"expression: {exc.msg}; write one of those (a cron expression is not understood)",
                    variant="value",
                    kind=kind,
                    value=_describe(text),
                )
                continue
            body = tree.body
            if isinstance(body, ast.Constant):
                if not isinstance(body.value, str):
                    issue(
                        "invalid-timer",
                        f"has the {kind} {text}, which is not text; write an ISO-8601 value such as P14D",
                        variant="value",
                        kind=kind,
                        value=_describe(text),
                    )
                    continue
                value = body.value.strip()
                if not value:
                    issue("empty-timer", f"has an empty {kind}; give the time it waits for")
                    continue
                check_timer_value(kind, value)
                child.text = json.dumps(value)
                continue
            # An expression: evaluated by the restricted environment at run time.
            child.text = text
        except TimerValueError as exc:
            reason = str(exc)
            if not reason.startswith(("has ", "is ")):
                reason = f"has the {kind} {_describe(text)!r}: {reason}"
            if exc.code == "invalid-timer":
                issue(exc.code, reason, variant="value", kind=kind, value=_describe(text))
            else:
                params = {"kind": kind, "value": _describe(text), **exc.params}
                issues.append(
                    ValidationIssue(
                        exc.code, f"timer '{element_id}' {reason}", element_id, line, filename, params=params
                    )
                )
    return issues
