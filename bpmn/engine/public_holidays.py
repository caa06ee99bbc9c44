"""Norway's public holidays (offentlige høytidsdager: helligdagsfredloven § 2 and lov om
1. og 17. mai som høgtidsdager), computed: the fixed days and those that follow Easter.

Computed rather than read from the ``holidays`` package on PyPI: the list is short and set
by law, the Easter rule is fixed, and the engine stays free of a dependency the deployments
would otherwise have to keep updated (README, "Added dependencies").
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import cache

# Days after Easter Sunday: Skjærtorsdag, Langfredag, 1. and 2. påskedag,
# Kristi himmelfartsdag, 1. and 2. pinsedag.
_EASTER_OFFSETS = (-3, -2, 0, 1, 39, 49, 50)
# 1. nyttårsdag, 1. mai, 17. mai, 1. and 2. juledag.
_FIXED = ((1, 1), (5, 1), (5, 17), (12, 25), (12, 26))


def easter_sunday(year: int) -> date:
    """Easter Sunday of the Gregorian calendar (the anonymous Gregorian algorithm, as in
    Meeus, *Astronomical Algorithms*)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    g = (8 * b + 13) // 25
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    weekday_shift = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 19 * weekday_shift) // 433
    month = (h + weekday_shift - 7 * m + 90) // 25
    day = (h + weekday_shift - 7 * m + 33 * month + 19) % 32
    return date(year, month, day)


@cache
def norwegian_public_holidays(year: int) -> frozenset[date]:
    easter = easter_sunday(year)
    return frozenset(
        [date(year, month, day) for month, day in _FIXED] + [easter + timedelta(days=n) for n in _EASTER_OFFSETS]
    )


def is_norwegian_public_holiday(day: date) -> bool:
    return day in norwegian_public_holidays(day.year)
