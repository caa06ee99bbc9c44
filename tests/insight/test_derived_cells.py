"""Numbers never shown but worked out by subtraction: a figure less a part of it that the
same page (or another page, or an export) shows. Tasks completed less tasks completed late
are the tasks completed on time: 20 completed and 19 late tell that exactly one was on time.

Each test reads the figures as a leader does (the CSV exports) and subtracts as an attacker
would.
"""

import csv
import datetime
import io

import pytest
from django.urls import reverse

from insight.models import WHOLE_MUNICIPALITY, CaseFlow
from tests.insight.conftest import task_times

YEAR = datetime.date.today().year - 1  # a finished year


def export(client, key: str, year: int = YEAR) -> list[list[str]]:
    """The figure's header and rows as its CSV gives them (title and note left out)."""
    response = client.get(reverse("insight-export", args=[key, "csv"]), {"year": year})
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    return [row for row in rows[1:-1] if row]


@pytest.fixture(autouse=True)
def a_year_of_figures(db):
    """The year is one the filter offers (it has cases)."""
    CaseFlow.objects.create(scope=WHOLE_MUNICIPALITY, month=datetime.date(YEAR, 1, 1), process_key="x", opened=9)


@pytest.fixture
def almost_all_late(db, shipped, agencies):
    """NAV completed 20 tasks, 19 of them late (one on time); the housing office 10, all late."""
    task_times(
        shipped["housing_referral"],
        agencies,
        YEAR,
        [
            (1, "Task_economy_assessment", "nav", 10, 10),
            (2, "Task_economy_assessment", "nav", 10, 9),
            (1, "Task_register_referral", "housing", 5, 5),
            (3, "Task_register_referral", "housing", 5, 5),
        ],
    )


def on_time_shown(client) -> dict[str, int]:
    """Tasks completed less tasks completed late, per agency and in total, where both are shown."""
    ball = {row[0]: row[1] for row in export(client, "ball_by_agency")[1:]}
    header, *overdue = export(client, "overdue")
    late = dict(zip(header[1:], overdue[-1][1:], strict=True))  # the year's row
    late["Totalt"] = late.pop("Totalt")
    return {
        name: int(ball[name]) - int(late[name])
        for name in ball
        if name in late and ball[name].isdigit() and late[name].isdigit()
    }


def test_tasks_completed_on_time_are_not_told_by_subtraction(client, almost_all_late, users):
    """Tasks completed and tasks completed late were both shown: their difference, the tasks
    completed on time, was never protected (one task on time is one person's work)."""
    client.force_login(users["leif"])
    on_time = on_time_shown(client)
    assert on_time  # something is still shown
    assert all(not 0 < difference < 5 for difference in on_time.values()), on_time


@pytest.fixture
def one_more_on_time(db, shipped, agencies):
    """NAV completed 10 tasks in January, none late, and 10 in February, 9 late: a reading in
    February shows 10 completed and 0 late, one in March 20 and 9. The tasks completed on
    time went from 10 to 11: one in February."""
    task_times(
        shipped["housing_referral"],
        agencies,
        YEAR,
        [
            (1, "Task_economy_assessment", "nav", 10, 0),
            (2, "Task_economy_assessment", "nav", 10, 9),
            (1, "Task_register_referral", "housing", 10, 0),
            (2, "Task_register_referral", "housing", 10, 0),
        ],
    )


def test_tasks_completed_on_time_since_an_earlier_reading_are_not_told(client, one_more_on_time, users, monkeypatch):
    """A leader keeps February's reading and March's: the tasks completed on time in the year so
    far, worked out in each, differ by the tasks completed on time in February (one)."""
    from insight import periods

    client.force_login(users["leif"])
    readings = []
    for first_unfinished in (2, 3):
        monkeypatch.setattr(periods, "finished_before", lambda *_, m=first_unfinished: datetime.date(YEAR, m, 1))
        readings.append(on_time_shown(client))
    february, march = readings
    moved = {name: march[name] - february[name] for name in february if name in march}
    assert all(not 0 < abs(change) < 5 for change in moved.values()), (february, march)


def test_the_cases_closed_otherwise_are_not_told_by_the_annual_report(db, outcome_kinds):
    """The annual report shows the cases housed (rented, owned), who kept their home, the
    evicted and every case closed: closed less the four lines are the cases closed otherwise
    (not housed, no outcome), here 2 and 2, each hidden as "<5" but 4 together."""
    from insight import figures

    closed = {("bosatt", "kommunal_utleiebolig"): 10, ("bolig_beholdt", ""): 10, ("utkastet", ""): 10}
    closed |= {("ikke_bosatt", ""): 2, ("", ""): 2}
    CaseFlow.objects.bulk_create(
        CaseFlow(
            scope=WHOLE_MUNICIPALITY,
            month=datetime.date(YEAR, 3, 1),
            process_key="housing_referral",
            outcome=kind,
            tenure=tenure,
            closed=count,
        )
        for (kind, tenure), count in closed.items()
    )
    *lines, total = (row[1] for row in figures.report_lines(figures.case_flow(WHOLE_MUNICIPALITY), YEAR).table())
    if total.isdigit() and all(text.isdigit() for text in lines):
        assert not 0 < int(total) - sum(int(text) for text in lines) < 5, (lines, total)
