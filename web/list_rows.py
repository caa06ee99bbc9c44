"""The rows of the long lists (the inbox's tabs, the case list) made ready in Python.

Drawn by the template, each row of 50 reversed two URLs (``{% url %}``, about 40 µs each),
formatted two dates (``|time_tag``, about 45 µs each: Django's ``dateformat`` translates the
month's name every time) and translated its phrases: two thirds of the page's Python at a
million tasks (README "Read paths at scale"). Here each row's links and dates are made
once (the URL pattern reversed once a page), the dates' text once per day, and the phrases
once per page; the template only writes the values out (``tests/web/test_list_rows.py``
checks the same text as the tags and filters they replace).
"""

from __future__ import annotations

import datetime
import html
from collections.abc import Callable

from django.urls import reverse
from django.utils import formats, timezone
from django.utils.dateformat import format as format_date
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from core import public_ids

_STANDIN = 918273645  # an id no page shows, to find where a row's own id goes in its URL


def id_links(name: str, kind: str | None = None) -> Callable[[int], str]:
    """``reverse(name, args=[pk])`` for the rows of a page: the URL pattern (one ``<int:pk>``)
    reversed once with a stand-in id, then each row's id written in its place (``reverse``
    per row checks the pattern and quotes the URL each time)."""
    if kind is not None:  # a route of public ids (``core.public_ids``): the stand-in is one
        before, after = reverse(name, args=[public_ids.decode(kind, _STANDIN)]).split(str(_STANDIN))
        return lambda pk: f"{before}{public_ids.encode(kind, pk)}{after}"
    before, after = reverse(name, args=[_STANDIN]).split(str(_STANDIN))
    return lambda pk: f"{before}{int(pk)}{after}"


def shown(value) -> str:
    """``{{ value }}`` in a template that escapes: safe text as it is, any other value as
    escaped text, the same characters as Django's ``conditional_escape``. Not that function
    itself: it goes through a lazy-string wrapper and makes a ``SafeString`` per value, on a
    path written for the Python calls a row costs (``web.tasks.inbox_row_html``);
    ``tests/web/test_list_rows.py`` compares the rows with the template's, hostile text too."""
    return value if hasattr(value, "__html__") else html.escape(str(value))


class TimeTags:
    """``|time_tag`` for the rows of one page: the same ``<time>`` elements, with the
    language's formats and the time zone read once and each day's text made once."""

    def __init__(self) -> None:
        self.zone = timezone.get_current_timezone()
        self.day_format = formats.get_format("DATE_FORMAT")
        self.moment_format = formats.get_format("DATETIME_FORMAT")
        self._days: dict[datetime.date, str] = {}
        # A moment is its day and the time of day ("j. F Y H:i" in bokmål): then its text is
        # the day's, made once a day, and the hour and minute written here (Django's
        # ``dateformat`` per row was a fifth of the inbox's Python for a page of 50 rows).
        self._day_and_time = self.moment_format == f"{self.day_format} H:i"

    def _local(self, value: datetime.datetime) -> datetime.datetime:
        return value.astimezone(self.zone) if timezone.is_aware(value) else value

    def day(self, value: datetime.datetime | None) -> SafeString:
        """``value|time_tag:"day"``: "3. desember 2026", its moment in ``datetime``."""
        if value is None:
            return mark_safe("")
        local = self._local(value)
        date = local.date()
        text = self._days.get(date)
        if text is None:
            text = self._days[date] = escape(format_date(date, self.day_format))
        return mark_safe(f'<time datetime="{local.isoformat()}">{text}</time>')  # noqa: S308 (escaped; isoformat is digits)

    def moment(self, value: datetime.datetime | None) -> SafeString:
        """``value|time_tag``: "3. desember 2026 09:00" in local time."""
        if value is None:
            return mark_safe("")
        local = self._local(value)
        if self._day_and_time:
            date = local.date()
            day = self._days.get(date)
            if day is None:
                day = self._days[date] = escape(format_date(date, self.day_format))
            text = f"{day} {local.hour:02d}:{local.minute:02d}"
        else:
            text = escape(format_date(local, self.moment_format))
        return mark_safe(f'<time datetime="{local.isoformat()}">{text}</time>')  # noqa: S308 (escaped; isoformat is digits)
