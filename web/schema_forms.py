"""HTML form fields built from a task's JSON schema, and the POST read back into data.

Only presentation lives here: the submitted data is validated by the same service as
the API (``services.complete_task`` with the schema), whose per-field errors are shown
next to the fields. Reading the POST only turns browser strings into JSON types; a
value that cannot be converted is left out and reported here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.utils import timezone

from bpmn.form_labels import option_label
from bpmn.form_values import RFC3339_TIME, local_clock
from core.errors import field_error
from workflows.forms import date_bounds

YES, NO = "true", "false"
TEXTAREA_FROM = 300  # strings allowed to be longer than this get a text area


@dataclass
class Field:
    name: str
    label: str
    widget: str  # text, textarea, select, yesno, checkbox, date, datetime, time, integer, number
    required: bool
    category: str
    value: str = ""
    options: list[tuple[str, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    max_length: int | None = None
    minimum: float | None = None
    maximum: float | None = None
    # A date's or date-time's first and last value as the input's min and max (the phone's
    # picker offers no other): the field's range (``date_range``), as the form validates it.
    first: str = ""
    last: str = ""

    @property
    def html_id(self) -> str:
        return f"field-{self.name}"


def _kind(prop: dict) -> str:
    kind = prop.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "string")
    return kind or "string"


def _widget(prop: dict, required: bool) -> str:
    kind = _kind(prop)
    if "enum" in prop:
        return "select"
    if kind == "boolean":
        return "yesno" if required else "checkbox"
    if kind in ("integer", "number"):
        return kind
    if prop.get("format") == "date":
        return "date"
    if prop.get("format") == "date-time":
        return "datetime"
    if prop.get("format") == "time":
        return "time"
    if (prop.get("maxLength") or 0) > TEXTAREA_FROM:
        return "textarea"
    return "text"


def _as_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return YES if value else NO
    return str(value)


def _bounds(prop: dict, widget: str) -> tuple[str, str]:
    """The ``min`` and ``max`` of a date or date-time input (the field's range), else none."""
    if widget not in ("date", "datetime"):
        return "", ""
    first, last = date_bounds(prop)
    return (first, last) if widget == "date" else (f"{first}T00:00", f"{last}T23:59")


def _date_time(text: str) -> datetime | None:
    """The date and time ``text`` names (a date alone names no time: None)."""
    if len(text) <= 10 or text[10] not in "Tt ":
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def _local_input(text: str) -> str:
    """A date-time as a ``datetime-local`` input shows it: local wall-clock time to the minute
    (the form's value has an offset); a text that is no date-time as it is."""
    moment = _date_time(text)
    if moment is None:
        return text
    if timezone.is_aware(moment):
        try:
            moment = timezone.localtime(moment)
        except OverflowError:  # the first or last hours of the years 1-9999
            return text
    return moment.replace(tzinfo=None).isoformat(timespec="seconds" if moment.second else "minutes")


def _from_local_input(text: str) -> str:
    """A ``datetime-local`` input's text (``2026-12-07T10:30``, the local time without an
    offset) as the form's date-time (RFC 3339, with the local offset); a text that is no
    date-time as it is, for the form to refuse."""
    moment = _date_time(text)
    if moment is None:
        return text
    try:
        if timezone.is_naive(moment):
            moment = timezone.make_aware(moment)
        return moment.isoformat(timespec="seconds" if not moment.microsecond else "microseconds")
    except (ValueError, OverflowError):
        return text


# --- times of day ------------------------------------------------------------------------------
# A form's ``time`` is RFC 3339's full-time (``09:00:00+01:00``: jsonschema checks it so, and
# the API takes nothing else), a caseworker's a wall-clock time in Oslo (``09:00``, what a
# ``time`` input sends). Which offset Oslo has depends on the day (+01:00 in winter, +02:00 in
# summer): the task page sends a time with the offset of the day the task is done, in Oslo
# (``timezone.localdate``: not the server's UTC date, which is the day before from midnight to
# 01:00 or 02:00). A stored time with one of Oslo's own offsets is shown as the wall-clock time
# it was written as (``09:00:00+01:00`` stays 09:00 in June: a meeting at nine is at nine the
# whole year); one with another offset (``08:00:00Z`` from an API client) is shown in Oslo's time
# on the day it is read for (the task's day, else today): ``bpmn.form_values.local_clock``, which
# the case file of the archive reads them with too.

LOCAL_TIME = re.compile(r"\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?")


def _offset_text(offset: timedelta) -> str:
    sign, minutes = ("-", -offset) if offset < timedelta(0) else ("+", offset)
    hours, rest = divmod(int(minutes.total_seconds()) // 60, 60)
    return f"{sign}{hours:02d}:{rest:02d}"


def time_with_offset(text: str, day: date | None = None) -> str | None:
    """A ``time`` input's local ``HH:MM`` (or ``HH:MM:SS``) as an RFC 3339 time with the
    offset Oslo has at that time on ``day`` (today in Oslo when not given): ``09:00`` on
    2027-03-27 is ``09:00:00+01:00``, on 2027-03-28 (summer time from 02:00) ``09:00:00+02:00``.
    A time that is RFC 3339 already keeps its own offset; None for a text that is no time."""
    if RFC3339_TIME.fullmatch(text):
        return text if local_clock(text, day) is not None else None
    if not LOCAL_TIME.fullmatch(text):
        return None
    try:
        clock = time.fromisoformat(text)
    except ValueError:  # 24:00, 09:60
        return None
    # At a time the clocks skip (02:30 on the last Sunday of March) the offset before the
    # change; at one they pass twice (02:30 on the last Sunday of October) the first.
    offset = datetime.combine(day or timezone.localdate(), clock, tzinfo=timezone.get_current_timezone()).utcoffset()
    assert offset is not None
    return clock.isoformat(timespec="seconds" if not clock.microsecond else "microseconds") + _offset_text(offset)


def _local_time_input(text: str, day: date | None) -> str:
    """A stored time as a ``time`` input shows it: Oslo's wall-clock time to the minute (to the
    second where it has seconds); a text that is no RFC 3339 time as it is."""
    clock = local_clock(text, day)
    if clock is None:
        return text
    return clock.isoformat(timespec="seconds" if clock.second else "minutes")


def fields_for(
    schema: dict | None, values: dict | None = None, errors: list[dict] | None = None, day: date | None = None
) -> list[Field]:
    """One ``Field`` per schema property, in schema order, with values and errors (whose
    messages are in the user's language already: ``web.pages.field_errors``). A stored time is
    shown in Oslo's time of ``day`` (the task's day; today when not given)."""
    if not schema:
        return []
    values = values or {}
    required = set(schema.get("required") or [])
    by_field: dict[str, list[str]] = {}
    for error in errors or []:
        name = str(error.get("field", "")).split(".")[0]
        by_field.setdefault(name, []).append(str(error.get("message", "")))
    fields = []
    for name, prop in (schema.get("properties") or {}).items():
        # A field's schema may be ``true`` or ``false`` (the editor's preview draws a form before
        # the deploy's checks refuse that), and its labels anything: drawn as a plain text field.
        prop = prop if isinstance(prop, dict) else {}
        labels = prop.get("x-enum-labels")  # value -> label, e.g. the outcome kinds
        labels = labels if isinstance(labels, dict) else {}
        widget = _widget(prop, name in required)
        value = _as_text(values.get(name))
        first, last = _bounds(prop, widget)
        fields.append(
            Field(
                name=name,
                label=prop.get("title") or option_label(name),
                widget=widget,
                required=name in required,
                category=prop.get("x-category", "restricted"),
                value=_shown_in_input(widget, value, day),
                options=[(str(v), labels.get(str(v)) or option_label(v)) for v in prop.get("enum") or []],
                errors=by_field.pop(name, []),
                max_length=prop.get("maxLength"),
                minimum=prop.get("minimum"),
                maximum=prop.get("maximum"),
                first=first,
                last=last,
            )
        )
    return fields


def _shown_in_input(widget: str, value: str, day: date | None) -> str:
    if value and widget == "datetime":
        return _local_input(value)
    if value and widget == "time":
        return _local_time_input(value, day)
    return value


def form_level_errors(errors: list[dict] | None, fields: list[Field]) -> list[str]:
    """Errors that name no field of the form (shown above it)."""
    names = {f.name for f in fields}
    return [str(e.get("message")) for e in errors or [] if str(e.get("field", "")).split(".")[0] not in names]


def data_from_post(schema: dict | None, post, day: date | None = None) -> tuple[dict, list[dict], dict]:
    """(data for the service, conversion errors, raw values to show again). A time is sent
    with Oslo's offset on ``day``, the day the form is sent for (today in Oslo when not given)."""
    data: dict[str, Any] = {}
    errors: list[dict[str, Any]] = []
    raw: dict[str, str] = {}
    if not schema:
        return data, errors, raw
    required = set(schema.get("required") or [])
    for name, prop in (schema.get("properties") or {}).items():
        prop = prop or {}
        widget = _widget(prop, name in required)
        text = (post.get(name) or "").strip()
        raw[name] = text
        if widget == "checkbox":
            data[name] = text in ("on", YES)
            raw[name] = YES if data[name] else NO
            continue
        if text == "":
            continue  # left out: the schema's "required" reports it
        if widget == "yesno":
            if text in (YES, NO):
                data[name] = text == YES
            else:
                errors.append(field_error(name, "input.yes_no"))
        elif widget == "integer":
            try:
                data[name] = int(text)
            except ValueError:
                errors.append(field_error(name, "input.whole_number"))
        elif widget == "number":
            try:
                data[name] = float(text.replace(",", "."))
            except ValueError:
                errors.append(field_error(name, "input.number"))
        elif widget == "datetime":
            data[name] = _from_local_input(text)
        elif widget == "time":
            sent = time_with_offset(text, day)
            if sent is None:
                errors.append(field_error(name, "input.time"))
            else:
                data[name] = sent
        else:
            data[name] = text
    return data, errors, raw
