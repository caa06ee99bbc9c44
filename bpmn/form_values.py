"""How a form's values and the case's times read to people: a date as "10. januar 2027", a
moment in Oslo's time as "10. januar 2027 09:00", a time of day as "09:00", yes and no in words,
a choice by its label. Shared by the pages (``web``) and the archive's case file
(``retention.archive``), which must read the same; it sits here, below both, so that each
imports it and neither copies it (tests/test_architecture.py).

The language's own ``DATE_FORMAT``, ``DATETIME_FORMAT`` and ``TIME_FORMAT`` (bokmål's
"j. F Y", "j. F Y H:i", "H:i") and the current time zone (``TIME_ZONE``, Europe/Oslo) decide:
no caller spells a format.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta

from django.utils import formats, timezone
from django.utils.translation import gettext_lazy

from bpmn.form_labels import option_label

# --- times of day ------------------------------------------------------------------------------
# A form's ``time`` is RFC 3339's full-time (``09:00:00+01:00``: jsonschema checks it so, and
# the API takes nothing else), a caseworker's a wall-clock time in Oslo (``09:00``, what a
# ``time`` input sends). Which offset Oslo has depends on the day (+01:00 in winter, +02:00 in
# summer). A stored time with one of Oslo's own offsets is shown as the wall-clock time it was
# written as (``09:00:00+01:00`` stays 09:00 in June: a meeting at nine is at nine the whole
# year); one with another offset (``08:00:00Z`` from an API client) is shown in Oslo's time on
# the day it is read for (the task's day, the day the case closed for its case file, else today).

RFC3339_TIME = re.compile(r"\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?(?:[Zz]|[+-]\d{2}:\d{2})")
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# A code without a label ("uten_bolig"): lower-case words joined by underscores. Any other text
# with an underscore (an e-mail address, a reference "NAV_2026_1234", a link) is shown as
# written: until review2 it was turned into words, in the archive's case file too.
CODE = re.compile(r"[a-zæøå0-9]+(?:_[a-zæøå0-9]+)+")
ISO_DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([Zz]|[+-]\d{2}:\d{2})")


def _zone_offsets(year: int) -> set[timedelta]:
    """The offsets the local time zone has in ``year`` (Oslo's: +01:00 and +02:00)."""
    zone = timezone.get_current_timezone()
    return {offset for month in (1, 7) if (offset := datetime(year, month, 1, 12, tzinfo=zone).utcoffset()) is not None}


def local_clock(text: str, day: date | None = None) -> time | None:
    """The local wall-clock time (naive) an RFC 3339 time names, read for ``day`` (today in
    Oslo when not given); None for a text that is no such time."""
    if not isinstance(text, str) or not RFC3339_TIME.fullmatch(text):
        return None
    try:
        moment = time.fromisoformat(text.upper())
    except ValueError:  # 25:00:00Z, 09:61:00+01:00, an offset of 24 hours or more
        return None
    day = day or timezone.localdate()
    if moment.utcoffset() in _zone_offsets(day.year):
        return moment.replace(tzinfo=None)
    try:
        local = timezone.localtime(datetime.combine(day, moment))
    except OverflowError:  # the first or last hours of the years 1-9999
        return None
    return local.time().replace(tzinfo=None)


def moment_of(text: str) -> datetime | None:
    """``text`` as the moment it names in Oslo's time, when it is a date-time with an offset (RFC
    3339, as the forms' ``date-time`` format keeps it); else None (a text without an offset names
    no moment, one outside the years 1-9999 in Oslo's time none a page shows)."""
    if not ISO_DATE_TIME.fullmatch(text):
        return None
    try:
        return timezone.localtime(datetime.fromisoformat(text.replace("z", "Z")))
    except ValueError:  # "2027-02-30T09:00Z": shaped like one, no such day
        return None
    except OverflowError:  # "9999-12-31T23:00:00-05:00": in Oslo's time after the year 9999
        return None


# --- dates and moments -------------------------------------------------------------------------


def _as_date_or_time(value):
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return None
    return value if isinstance(value, date) else None


def day_text(value) -> str:
    """A date (or the local date of a moment; an ISO date's text) as "3. desember 2026"; "" for
    no date."""
    value = _as_date_or_time(value)
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = timezone.localtime(value) if timezone.is_aware(value) else value
    return formats.date_format(value, "DATE_FORMAT")


def moment_text(value) -> str:
    """A moment in local time as "3. desember 2026 09:00" (a date alone as ``day_text``); ""
    for none."""
    if not isinstance(value, datetime):
        return day_text(value)
    return formats.date_format(timezone.localtime(value) if timezone.is_aware(value) else value, "DATETIME_FORMAT")


# --- a form's values ---------------------------------------------------------------------------


def display_value(value, day: date | None = None, choices: dict | None = None) -> str:
    """A value of the case's data as people read it: yes and no in words, a choice by its label
    (``choices``: the form's ``x-enum-labels`` of the field), a code by its words, a date
    (``format: date``) as "28. november 2026", a date-time (``format: date-time``, RFC 3339) in
    Oslo's time as "10. januar 2027 09:00", a time of day (``format: time``) in Oslo's time as
    "09:00" (``local_clock``: read for ``day``, else today); any other text as it is."""
    if isinstance(value, bool):
        return str(gettext_lazy("Yes") if value else gettext_lazy("No"))
    if value is None:
        return "\u2013"
    if isinstance(value, list | tuple):
        return ", ".join(display_value(v, day, choices) for v in value)
    if isinstance(value, str) and choices and isinstance(choices.get(value), str):
        return choices[value]
    if isinstance(value, str) and (clock := local_clock(value, day)) is not None:
        return formats.time_format(clock, "TIME_FORMAT")
    if isinstance(value, str) and CODE.fullmatch(value):
        return option_label(value)
    if isinstance(value, str) and ISO_DATE.fullmatch(value):
        return day_text(value) or value  # "2026-11-28" as "28. november 2026", as dates are everywhere
    if isinstance(value, str) and (moment := moment_of(value)) is not None:
        # A date-time field's RFC 3339 text ("2027-01-10T08:00:00Z") in Oslo's time, as the
        # page's other times: "10. januar 2027 09:00".
        return moment_text(moment)
    return str(value)
