"""A scope's figures version moves only when a period a leader may read changes.

The figures count finished periods only (``periods.finished_before``) and a step counts in
periods that have not ended (``periods.counted_in``), so a step in the middle of a month
changes no figure anyone can read: it leaves the versions alone. Bumping them on every step
made every counted step of the municipality queue on scope 0's version row from its batch
to its commit (2.2 ms of waiting a completion under `make bench-http`'s eight clients), and
every page compute its figures again. In the last hour of a month (``VERSION_MARGIN``) a
step bumps them, so a figure cached just after the month ends never misses a step that
committed after it."""

import datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.cache import cache
from django.utils import timezone

from insight import figures
from insight.models import WHOLE_MUNICIPALITY, CaseFlow, FiguresVersion, HousingTime, TaskTime
from insight.periods import month_of, quarter_of
from insight.recording import Tally
from tests.insight.conftest import PRISON_PARTICIPANTS, start
from tests.workflows.helpers import complete, open_tasks

from .test_cache import tables_drawn

OSLO = ZoneInfo("Europe/Oslo")
TODAY = datetime.date.today()
MIDDLE_OF_MONTH = datetime.datetime(TODAY.year, TODAY.month, 15, 12, 0, tzinfo=OSLO)
NEXT_MONTH = month_of(TODAY.replace(day=28) + datetime.timedelta(days=5))
END_OF_MONTH = datetime.datetime.combine(NEXT_MONTH, datetime.time(), tzinfo=OSLO)


@pytest.fixture
def clock(monkeypatch):
    """``timezone.now()`` (and so the local date) at a moment a test sets."""
    moment = {"now": MIDDLE_OF_MONTH}
    monkeypatch.setattr(timezone, "now", lambda: moment["now"].astimezone(datetime.UTC))
    return moment


@pytest.fixture(autouse=True)
def no_figures_cached():
    cache.clear()  # keys repeat across tests: each starts from version 0


def versions() -> dict[int, int]:
    return dict(FiguresVersion.objects.values_list("scope", "version"))


def completed(scope: int) -> int:
    return sum(TaskTime.objects.filter(scope=scope).values_list("completed", flat=True))


def test_a_step_in_the_middle_of_a_month_leaves_every_version_alone(shipped, users, agencies, clock):
    case = start(users, agencies, "prison_release_to_housing", "kari", PRISON_PARTICIPANTS, "01010012437")
    before, counted = versions(), completed(WHOLE_MUNICIPALITY)
    complete(open_tasks(case)[0])
    assert completed(WHOLE_MUNICIPALITY) == counted + 1  # counted, in this month
    assert versions() == before  # and no figure anyone can read changed


def test_a_page_cached_in_the_middle_of_a_month_stays_in_use_after_a_step(client, shipped, users, agencies, clock):
    client.force_login(users["leif"])
    every = tables_drawn(client)
    assert tables_drawn(client) == 1  # overdue now, live; the others from the cache
    case = start(users, agencies, "prison_release_to_housing", "kari", PRISON_PARTICIPANTS, "01010012437")
    complete(open_tasks(case)[0])
    assert tables_drawn(client) == 1 < every


def test_a_step_in_the_last_hour_of_a_month_bumps_the_version_of_each_scope_it_counts_in(
    shipped, users, agencies, clock
):
    clock["now"] = END_OF_MONTH - datetime.timedelta(minutes=30)
    case = start(users, agencies, "prison_release_to_housing", "kari", PRISON_PARTICIPANTS, "01010012437")
    before = versions()
    complete(open_tasks(case)[0])
    after = versions()
    scopes = {WHOLE_MUNICIPALITY, *(agencies[kind].pk for kind in PRISON_PARTICIPANTS)}
    assert {scope for scope in after if after[scope] != before.get(scope, 0)} == scopes


def test_a_figure_read_after_the_month_ended_counts_a_step_of_its_last_minutes(shipped, users, agencies, clock):
    clock["now"] = END_OF_MONTH + datetime.timedelta(minutes=1)
    counted = figures.task_family(WHOLE_MUNICIPALITY)  # read and cached
    clock["now"] = END_OF_MONTH - datetime.timedelta(minutes=1)  # a step that began before midnight
    case = start(users, agencies, "prison_release_to_housing", "kari", PRISON_PARTICIPANTS, "01010012437")
    complete(open_tasks(case)[0])
    clock["now"] = END_OF_MONTH + datetime.timedelta(minutes=2)
    now_counted = figures.task_family(WHOLE_MUNICIPALITY)
    assert completed_in_year(now_counted) == completed_in_year(counted) + 1 == 1


def completed_in_year(family, year: int = TODAY.year) -> int:
    cell = family.per_year.get(year)
    return 0 if cell is None else family.ledger.values[cell]


def tally(model, period: datetime.date) -> Tally:
    counted = Tally()
    if model is HousingTime:
        counted.add(HousingTime, [WHOLE_MUNICIPALITY], (period, "prison_release_to_housing", 20), (1,))
    else:
        counted.add(CaseFlow, [WHOLE_MUNICIPALITY], (period, "prison_release_to_housing", "", ""), (1, 0))
    return counted


@pytest.mark.parametrize(
    ("model", "period", "moment", "shown"),
    [
        # A month: read once it has ended, or within the margin of its end.
        (CaseFlow, month_of(TODAY), MIDDLE_OF_MONTH, False),
        (CaseFlow, month_of(TODAY), END_OF_MONTH - datetime.timedelta(minutes=61), False),
        (CaseFlow, month_of(TODAY), END_OF_MONTH - datetime.timedelta(minutes=59), True),
        (CaseFlow, month_of(MIDDLE_OF_MONTH.date() - datetime.timedelta(days=20)), MIDDLE_OF_MONTH, True),
        # A quarter: the end of a month inside it does not end it.
        (HousingTime, quarter_of(TODAY), MIDDLE_OF_MONTH, False),
        (HousingTime, quarter_of(quarter_of(TODAY) - datetime.timedelta(days=1)), MIDDLE_OF_MONTH, True),
    ],
)
def test_which_rows_change_figures_a_leader_may_read(model, period, moment, shown):
    assert tally(model, period).changes_shown_figures(moment) is shown


def test_the_months_end_inside_a_quarter_leaves_the_quarters_rows_alone():
    october_end = datetime.datetime(2026, 11, 1, tzinfo=OSLO) - datetime.timedelta(minutes=30)
    assert not tally(HousingTime, datetime.date(2026, 10, 1)).changes_shown_figures(october_end)
    assert tally(HousingTime, datetime.date(2026, 10, 1)).changes_shown_figures(
        datetime.datetime(2027, 1, 1, tzinfo=OSLO) - datetime.timedelta(minutes=30)
    )
    assert tally(CaseFlow, datetime.date(2026, 10, 1)).changes_shown_figures(october_end)
