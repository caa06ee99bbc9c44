"""The periods the leaders' figures count in (months and quarters, Oslo time), and which of
them have ended: a period's figures are shown only once it has ended, so that no figure a
leader has read moves afterwards (README "Insight for leaders", "A finished period never
moves"). The writer of the summary rows (``insight.recording``) and their reader
(``insight.figures``) both ask here."""

from __future__ import annotations

import datetime

from django.utils import timezone


def month_of(day: datetime.date) -> datetime.date:
    return day.replace(day=1)


def quarter_of(day: datetime.date) -> datetime.date:
    return datetime.date(day.year, (day.month - 1) // 3 * 3 + 1, 1)


def finished_before(moment: datetime.datetime | None = None) -> datetime.date:
    """The first day of the month of ``moment`` (now if not given): the figures count the
    months before it, and the quarters before its quarter.

    A live month lets a leader read a cell before and after one case they know of closes and
    see which outcome moved; a finished month no longer moves when a case closes today.
    """
    return timezone.localdate(moment).replace(day=1)


def counted_in(period_of, carried: datetime.date, recorded: datetime.date) -> datetime.date:
    """The period a fact is counted in: that of the date it carries (``carried``), unless
    that period had already ended on the day it was recorded (``recorded``, Oslo time): a
    date entered late is then counted in the period it was recorded in. A period's figures
    are shown only once it has ended (``finished_before``), so no figure a leader has seen
    moves afterwards: subtracting this year's reading of last year from last year's would
    otherwise tell about the one case entered late (README "Insight for leaders", "A
    finished period never moves")."""
    return max(period_of(carried), period_of(recorded))
