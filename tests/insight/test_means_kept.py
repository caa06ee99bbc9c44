"""Means read month after month: a mean times its count is a total, and two totals of the
same group a few tasks apart are those few tasks' time.

"Mean days held" (per agency, per agency and task) and the heatmap's days count the year so
far: each month that ends adds its tasks. A leader who kept March's export (10 tasks, 1.0
days on average) and April's (11 tasks, 3.0 days) knows that the one task completed in
March was held 3.0 x 11 - 1.0 x 10 = 23 days: one person's case, to the day. Each test reads
the figures as the months go by, as a leader does, and works out what the readings together
give away.
"""

import csv
import datetime
import io
import itertools

import pytest
from django.urls import reverse

from insight import figures, periods
from insight.models import WHOLE_MUNICIPALITY, CaseFlow, TaskTime
from insight.privacy import SMALL

YEAR = datetime.date.today().year - 1  # a finished year
DAY = 86400
ECONOMY, REGISTER = "Task_economy_assessment", "Task_register_referral"


def reading_at(monkeypatch, first_unfinished: datetime.date) -> None:
    monkeypatch.setattr(periods, "finished_before", lambda *_: first_unfinished)


def month(number: int) -> datetime.date:
    return datetime.date(YEAR, number, 1)


@pytest.fixture
def tasks_held(db, shipped, agencies):
    """Per month: (element, agency, tasks completed, days they were held in all)."""
    CaseFlow.objects.create(scope=WHOLE_MUNICIPALITY, month=month(1), process_key="x", opened=9)
    plan = {
        1: [(ECONOMY, "nav", 10, 10), (REGISTER, "housing", 12, 24)],
        2: [(ECONOMY, "nav", 1, 23), (REGISTER, "housing", 6, 12)],  # one NAV task of 23 days
        3: [(ECONOMY, "nav", 6, 6), (REGISTER, "housing", 2, 30)],  # two housing tasks, 30 days
        4: [(ECONOMY, "nav", 5, 5), (REGISTER, "housing", 5, 5)],
    }
    definition = shipped["housing_referral"]
    TaskTime.objects.bulk_create(
        TaskTime(
            scope=WHOLE_MUNICIPALITY,
            month=month(n),
            definition=definition,
            element_id=element,
            agency=agencies[agency],
            completed=completed,
            seconds=days * DAY,
            with_deadline=completed,
            late=0,
        )
        for n, rows in plan.items()
        for element, agency, completed, days in rows
    )
    return definition


def number(text: str) -> float | None:
    try:
        return float(text.replace("\u00a0", "").removesuffix(" d").replace(",", "."))
    except ValueError:
        return None  # "<5", the hidden mark, the dash


def export_means(client, key: str) -> dict[str, tuple[float, float]]:
    """Row label -> (tasks, mean days) where the CSV shows both."""
    response = client.get(reverse("insight-export", args=[key, "csv"]), {"year": YEAR})
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    shown = {}
    for row in rows[2:-1]:
        if len(row) == 3 and number(row[1]) is not None and number(row[2]) is not None:
            shown[row[0]] = (number(row[1]), number(row[2]))
    return shown


def isolated(readings: list[dict[str, tuple[float, float]]]) -> list[tuple[str, int, float]]:
    """What an attacker holding the readings works out: the days of a group of fewer than
    five tasks, as the difference of two totals (mean x count) of the same row."""
    found = []
    for earlier, later in itertools.combinations(readings, 2):
        for label in earlier.keys() & later.keys():
            (n1, mean1), (n2, mean2) = earlier[label], later[label]
            if 0 < abs(n2 - n1) < SMALL:
                found.append((label, int(abs(n2 - n1)), round(abs(n2 * mean2 - n1 * mean1), 1)))
    return found


def test_mean_days_held_read_month_after_month_give_no_task_away(client, tasks_held, users, monkeypatch):
    """Before: February's reading (NAV: 10 tasks, 1.0 days) and March's (11 tasks, 3.0 days)
    gave the one task of February away, 23.0 days; the housing office's two tasks of March,
    30 days, likewise. Now an open period's count, and so its mean, is shown only where it
    is the same as, or five or more away from, every earlier reading's."""
    client.force_login(users["leif"])
    by_agency, by_task = [], []
    for first_unfinished in range(2, 6):
        reading_at(monkeypatch, month(first_unfinished))
        by_agency.append(export_means(client, "ball_by_agency"))
        by_task.append(export_means(client, "ball_by_task"))
    assert isolated(by_agency) == []
    assert isolated(by_task) == []
    # Not by hiding everything: the year's means are shown where five or more tasks came in.
    assert len(by_agency[-1]) == 2 and len(by_task[-1]) == 2


def test_the_heatmap_read_month_after_month_gives_no_task_away(tasks_held, agencies, monkeypatch):
    """The heatmap's days per element (all agencies, and one agency's) likewise."""
    readings: dict = {None: [], agencies["nav"].pk: [], agencies["housing"].pk: []}
    for first_unfinished in range(2, 6):
        reading_at(monkeypatch, month(first_unfinished))
        family = figures.task_family(WHOLE_MUNICIPALITY)
        for agency in readings:
            heats = figures.heatmap(family, tasks_held.pk, YEAR, agency)
            readings[agency].append(
                {
                    heat.element_id: (float(heat.count), heat.mean_days)
                    for heat in heats
                    if heat.mean_days is not None and number(heat.count) is not None
                }
            )
    for agency, found in readings.items():
        assert isolated(found) == [], agency
    assert readings[None][-1]  # something is drawn


def test_a_leader_of_two_agencies_reading_month_after_month_gets_no_task_away(db, shipped, agencies, monkeypatch):
    """Two scopes read together (``privacy.joint``), month after month: NAV's cases hold the
    housing office's and two more tasks. Each figure of one scope less the same of the other
    is five or more, and so is each month's growth of each; but the growth of one less the
    growth of the other is the two tasks of February in NAV's cases and not the housing
    office's, and the means gave away their 30 days."""
    nav, housing = agencies["nav"].pk, agencies["housing"].pk
    CaseFlow.objects.create(scope=nav, month=month(1), process_key="x", opened=9)
    definition = shipped["housing_referral"]
    # scope -> month -> (tasks NAV completed, days held in all)
    plan = {nav: {1: (10, 10), 2: (7, 35), 3: (5, 5)}, housing: {1: (5, 5), 2: (5, 5), 3: (5, 5)}}
    TaskTime.objects.bulk_create(
        TaskTime(
            scope=scope,
            month=month(n),
            definition=definition,
            element_id=ECONOMY,
            agency=agencies["nav"],
            completed=completed,
            seconds=days * DAY,
        )
        for scope, months in plan.items()
        for n, (completed, days) in months.items()
    )
    readings: dict[int, list] = {nav: [], housing: []}
    for first_unfinished in range(2, 5):
        reading_at(monkeypatch, month(first_unfinished))
        for scope, other in ((nav, housing), (housing, nav)):
            family = figures.task_family(scope, together=(other,))
            shown = {}
            for figure in figures.task_figures(family, YEAR)[:2]:
                for label, count, mean in (row for row in figure.table() if len(row) == 3):
                    if number(count) is not None and number(mean) is not None:
                        shown[figure.key, label] = (number(count), number(mean))
            readings[scope].append(shown)
    found = []
    for (a1, a2), (b1, b2) in zip(
        itertools.combinations(readings[nav], 2), itertools.combinations(readings[housing], 2), strict=True
    ):
        for label in a1.keys() & a2.keys() & b1.keys() & b2.keys():
            n = a2[label][0] - a1[label][0] - b2[label][0] + b1[label][0]
            if 0 < abs(n) < SMALL:
                total = sum(
                    sign * count * mean
                    for sign, (count, mean) in zip(
                        (1, -1, -1, 1), (a2[label], a1[label], b2[label], b1[label]), strict=True
                    )
                )
                found.append((label, n, round(total, 1)))
    for pair in (readings[nav], readings[housing]):
        assert isolated(pair) == []
    for at in range(3):
        assert isolated([readings[nav][at], readings[housing][at]]) == []
    assert found == []
    # Not by hiding everything: both scopes' January and the housing office's every month are
    # shown. NAV's year so far stays hidden from February on (its growth less the housing
    # office's was 2 then, and January's is shown for good): the price of deciding each
    # reading against every earlier one. Until 2026-12-07 this asked for NAV's March, which
    # only a complement chosen by size gave (a strict xfail since ``_smallest`` chose by place;
    # the checks above passed then too).
    assert readings[nav][0] and all(readings[housing])


def test_a_count_of_the_year_so_far_read_month_after_month_gives_no_small_count_away(db, outcome_kinds, monkeypatch):
    """The counts behind the means have the same hole: outcomes by form of tenure count the
    year so far, with no month of their own, so January's reading (6 housed in private
    rentals) and February's (7) told that one case was housed so in February, a count of 1."""
    rows = []
    plan = {
        1: {"kommunal_utleiebolig": 9, "privat_leie": 6},
        2: {"kommunal_utleiebolig": 8, "privat_leie": 1},
        3: {"kommunal_utleiebolig": 9, "privat_leie": 6},
    }
    for n, tenures in plan.items():
        rows.append(CaseFlow(scope=WHOLE_MUNICIPALITY, month=month(n), process_key="housing_referral", opened=20))
        rows += [
            CaseFlow(
                scope=WHOLE_MUNICIPALITY,
                month=month(n),
                process_key="housing_referral",
                outcome="bosatt",
                tenure=tenure,
                closed=closed,
            )
            for tenure, closed in tenures.items()
        ]
    CaseFlow.objects.bulk_create(rows)
    readings = []
    for first_unfinished in range(2, 5):
        reading_at(monkeypatch, month(first_unfinished))
        figure = figures.outcomes_by_tenure(figures.case_flow(WHOLE_MUNICIPALITY), YEAR)
        readings.append(
            {
                (row[0], figure.header[column]): number(text)
                for row in figure.table()
                for column, text in enumerate(row[1:], start=1)
                if number(text) is not None
            }
        )
    found = [
        (key, later[key] - earlier[key])
        for earlier, later in itertools.combinations(readings, 2)
        for key in earlier.keys() & later.keys()
        if 0 < abs(later[key] - earlier[key]) < SMALL
    ]
    assert found == []
    assert readings[-1]
