"""A finished period never moves: a date entered late (a discharge or a move-in back-dated
into a month or quarter that has ended) is counted in the period it was recorded in, so a
leader who noted last year's figures learns nothing by reading them again (README "Insight
for leaders", "A finished period never moves")."""

import datetime

import pytest
from django.urls import reverse

from insight import backfill
from insight.models import WHOLE_MUNICIPALITY, CaseFlow, DischargeWait, HousingTime
from insight.recording import month_of, quarter_of
from retention import services as retention_services
from retention.erasure import erase_case
from retention.models import ErasureTrigger
from tests.retention.helpers import age, archived

from .conftest import discharge_case
from .test_finished_months import _sheet
from .test_recording import snapshot

TODAY = datetime.date.today()
LAST_YEAR = TODAY.year - 1
# Figures read for a year: the page's tables, both exports of each, the annual report.
FIGURES = ("discharge", "housing_time")


def months_since_last_year() -> list[datetime.date]:
    """The first day of every month from January last year until this one (not included)."""
    months, month = [], datetime.date(LAST_YEAR, 1, 1)
    while month < month_of(TODAY):
        months.append(month)
        month = (month + datetime.timedelta(days=31)).replace(day=1)
    return months


@pytest.fixture
def finished_periods(db):
    """Discharges (seven a month, three days' wait each) and moves (six a quarter after 20
    days) in every month and quarter since last January that has ended: figures a leader
    has read, none of them hidden."""
    months = months_since_last_year()
    process = "institution_discharge_to_housing"
    CaseFlow.objects.bulk_create(
        CaseFlow(scope=WHOLE_MUNICIPALITY, month=month, process_key=process, opened=9) for month in months
    )
    DischargeWait.objects.bulk_create(
        DischargeWait(scope=WHOLE_MUNICIPALITY, month=month, discharges=7, days=21) for month in months
    )
    HousingTime.objects.bulk_create(
        HousingTime(
            scope=WHOLE_MUNICIPALITY,
            quarter=quarter,
            process_key=process,
            days=20,
            cases=6,
        )
        for quarter in sorted({quarter_of(month) for month in months} - {quarter_of(TODAY)})
    )


def read_year(client, year: int) -> dict:
    query = {"year": str(year)}
    html = client.get(reverse("insight"), query).content.decode()
    seen = {"annual": client.get(reverse("insight-annual"), query).content.decode().split("<main")[1]}
    for key in FIGURES:
        seen["page", key] = html.split(f'id="figure-{key}"')[1].split("</table>")[0]
        for fmt in ("csv", "xlsx"):
            response = client.get(reverse("insight-export", args=[key, fmt]), query)
            assert response.status_code == 200
            seen[key, fmt] = response.content if fmt == "csv" else _sheet(response.content)
    return seen


def finished_rows() -> dict:
    """Every summary row of a period that has ended (months before this one, quarters
    before this one)."""
    return {
        name: [row for row in rows if row[1] < (quarter_of(TODAY) if name == "HousingTime" else month_of(TODAY))]
        for name, rows in snapshot().items()
    }


@pytest.mark.parametrize(
    "back_dated",
    [datetime.date(LAST_YEAR, 3, 15), month_of(TODAY) - datetime.timedelta(days=10)],
    ids=["last-year", "last-month"],
)
def test_a_date_back_dated_into_a_finished_period_moves_nothing_of_it(
    client, finished_periods, outcome_kinds, shipped, users, agencies, back_dated
):
    client.force_login(users["leif"])
    before, rows_before = read_year(client, back_dated.year), finished_rows()
    assert ";7;" in before["discharge", "csv"].decode("utf-8-sig")  # the period's figures are shown
    # Discharged from a psychiatric ward (ready 14 days before) and housed that day, in a
    # period that has ended, entered today.
    discharge_case(users, agencies, ready=back_dated - datetime.timedelta(days=14), discharged=back_dated)
    after = read_year(client, back_dated.year)
    assert [key for key in before if before[key] != after[key]] == []
    assert finished_rows() == rows_before
    # Counted once, in the period it was recorded in: this month, and this quarter moved in
    # (the quarter of the move itself if it has not ended).
    (wait,) = DischargeWait.objects.filter(scope=WHOLE_MUNICIPALITY, month=month_of(TODAY))
    assert (wait.discharges, wait.days) == (1, 14)
    moved = HousingTime.objects.filter(scope=WHOLE_MUNICIPALITY, quarter__gte=quarter_of(TODAY))
    assert [(row.quarter, row.days, row.cases) for row in moved] == [(quarter_of(TODAY), 24, 1)]


def test_the_leader_is_told_where_a_late_date_is_counted(client, finished_periods, users):
    client.force_login(users["leif"])
    query = {"year": str(LAST_YEAR)}
    html = client.get(reverse("insight"), query).content.decode()
    assert "En utskrivning som ble ført inn etter at måneden var over, telles i måneden den ble ført inn." in html
    assert "En innflytting som ble ført inn etter at kvartalet var over, telles i kvartalet den ble ført inn." in html
    exported = client.get(reverse("insight-export", args=["discharge", "csv"]), query).content.decode("utf-8-sig")
    assert "telles i måneden den ble ført inn" in exported


def test_a_date_of_the_current_period_counts_where_it_belongs(outcome_kinds, shipped, users, agencies):
    """Live: a discharge this month counts in this month (and its move in this quarter)."""
    discharged = max(month_of(TODAY), TODAY - datetime.timedelta(days=1))
    discharge_case(users, agencies, ready=discharged - datetime.timedelta(days=3), discharged=discharged)
    (wait,) = DischargeWait.objects.filter(scope=WHOLE_MUNICIPALITY)
    assert (wait.month, wait.discharges, wait.days) == (month_of(TODAY), 1, 3)
    (row,) = HousingTime.objects.filter(scope=WHOLE_MUNICIPALITY)
    assert (row.quarter, row.days) == (quarter_of(TODAY), 13)


def test_the_rebuild_counts_a_late_date_where_the_step_did(outcome_kinds, shipped, users, agencies):
    discharge_case(users, agencies, ready=datetime.date(LAST_YEAR, 3, 1), discharged=datetime.date(LAST_YEAR, 3, 15))
    live = snapshot()
    assert [row[1] for row in live["DischargeWait"]] == [month_of(TODAY)] * len(live["DischargeWait"])
    backfill.rebuild()
    assert snapshot() == live


def test_a_correction_or_an_erasure_restates_no_figure(finished_periods, outcome_kinds, shipped, users, agencies):
    """The figures hold no personal data: correcting the date (art. 16) corrects the case
    file, erasing the case (art. 17) empties it, and neither moves a count (restating a
    finished month would tell the leader which month the one corrected case moved from)."""
    case = discharge_case(users, agencies, ready=datetime.date(LAST_YEAR, 3, 1), discharged=TODAY)
    counted = snapshot()
    retention_services.correct_value(
        actor=users["siri"],
        case_id=case.pk,
        field="discharge_date",
        value=datetime.date(LAST_YEAR, 4, 2).isoformat(),
        reason="Feil dato ført inn",
    )
    assert snapshot() == counted
    age(case, 12)
    archived(case)
    assert erase_case(case.pk, trigger=ErasureTrigger.RETENTION) is not None
    assert snapshot() == counted
