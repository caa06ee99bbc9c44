"""The long lists' rows are made in Python (``web.list_rows``): the same text as the
template filters they replace."""

import datetime
import zoneinfo

import pytest
from django.utils import timezone, translation

from web.list_rows import TimeTags
from web.templatetags.ui import time_tag

UTC = datetime.UTC
MOMENTS = [
    datetime.datetime(2026, 12, 3, 9, 5, tzinfo=UTC),
    datetime.datetime(2026, 12, 31, 23, 30, tzinfo=UTC),  # already 1 January in Oslo
    datetime.datetime(2026, 3, 29, 0, 59, 59, 999999, tzinfo=UTC),  # the hour summer time starts
    datetime.datetime(2026, 10, 25, 1, 0, tzinfo=UTC),  # winter time again
    datetime.datetime(2026, 5, 17, 12, 0, tzinfo=zoneinfo.ZoneInfo("America/New_York")),
]


@pytest.mark.parametrize("language", ["nb", "en"])
def test_the_rows_dates_are_those_of_time_tag(language):
    with translation.override(language), timezone.override("Europe/Oslo"):
        times = TimeTags()
        for moment in MOMENTS * 2:  # the second round from the days already made
            assert times.day(moment) == time_tag(moment, "day")
            assert times.moment(moment) == time_tag(moment)
        assert times.day(None) == time_tag(None, "day") == ""
        assert times.moment(None) == ""


def test_a_day_across_midnight_is_the_local_day():
    with translation.override("nb"), timezone.override("Europe/Oslo"):
        assert ">1. januar 2027</time>" in TimeTags().day(MOMENTS[1])


@pytest.mark.parametrize("name", ["case", "task"])
def test_the_rows_links_are_those_reverse_makes(name):
    from django.urls import reverse

    from web.list_rows import id_links

    link = id_links(name, "task" if name == "task" else None)  # tasks: by public id
    for pk in (1, 9, 10, 918273645, 2**62 if name == "case" else 2**52 - 1):
        assert link(pk) == reverse(name, args=[pk])
