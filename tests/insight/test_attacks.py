"""Attacks on the leaders' figures that use what the sums of a table do not say: an
inequality between two figures (tasks completed late are among the tasks completed), and
a time figure that is one person's own (the longest wait of a small group).

Each test reads the figures as a leader does (the CSV exports) and works as an attacker would.
"""

import csv
import datetime
import io
import itertools

import pytest
from django.urls import reverse

from insight.models import WHOLE_MUNICIPALITY, CaseFlow, HousingTime, TaskTime
from insight.privacy import HIDDEN_MARK
from tests.insight.conftest import task_times

YEAR = datetime.date.today().year - 1  # a finished year


@pytest.fixture(autouse=True)
def a_year_of_figures(db):
    """The year is one the filter offers (it has cases)."""
    CaseFlow.objects.create(scope=WHOLE_MUNICIPALITY, month=datetime.date(YEAR, 1, 1), process_key="x", opened=9)


def export(client, key: str) -> list[list[str]]:
    """The figure's rows as its CSV gives them (title, header and note left out)."""
    response = client.get(reverse("insight-export", args=[key, "csv"]), {"year": YEAR})
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    return [row for row in rows[2:-1] if row]


# --- tasks completed late are among those completed -------------------------------------------


@pytest.fixture
def late_tasks(db, shipped, agencies):
    """NAV completed 19 tasks, every one of them late; the housing office one, in time."""
    task_times(
        shipped["housing_referral"],
        agencies,
        YEAR,
        [
            (1, "Task_economy_assessment", "nav", 10, 10),
            (2, "Task_economy_assessment", "nav", 9, 9),
            (1, "Task_register_referral", "housing", 1, 0),
        ],
    )


def test_tasks_completed_late_do_not_tell_a_hidden_count_of_tasks_completed(client, late_tasks, users):
    """The attacker knows that an agency completed at least as many tasks as it completed
    late: with the year's total and each "<5" being 1 or more, that pinned the hidden counts
    of tasks completed (the housing office's one task)."""
    client.force_login(users["leif"])
    ball = {row[0]: row[1] for row in export(client, "ball_by_agency")}
    overdue = export(client, "overdue")
    header = client.get(reverse("insight-export", args=["overdue", "csv"]), {"year": YEAR})
    names = list(csv.reader(io.StringIO(header.content.decode("utf-8-sig")), delimiter=";"))[1][1:-1]
    late_total = dict(zip(names, overdue[-1][1:-1], strict=True))
    total = ball.pop("Totalt")
    agencies = list(ball)
    assert not all(text.isdigit() for text in ball.values())  # something is hidden

    # Every value each agency's count can take: the shown counts exactly, "<5" 1-4, hidden from
    # its tasks completed late up, all adding up to the total where it is shown.
    def values(name):
        text = ball[name]
        low = int(late_total[name]) if late_total[name].isdigit() else 0
        if text.isdigit():
            return {int(text)}
        return {v for v in (range(1, 5) if text == "<5" else range(0, 100) if text == HIDDEN_MARK else ()) if v >= low}

    first, second = agencies
    pairs = [(a, b) for a in values(first) for b in values(second) if not total.isdigit() or a + b == int(total)]
    for index, name in enumerate(agencies):
        if not ball[name].isdigit():
            assert len({pair[index] for pair in pairs}) > 1, f"{name} completed {pairs[0][index]} tasks"


# --- a percentile of a small group is one person's days ---------------------------------------


@pytest.fixture
def one_long_wait(db, shipped):
    """Five people moved in in the first quarter; one of them had waited 400 days."""
    HousingTime.objects.bulk_create(
        HousingTime(
            scope=WHOLE_MUNICIPALITY, quarter=datetime.date(YEAR, 1, 1), process_key="housing_referral", days=d, cases=1
        )
        for d in (20, 30, 40, 50, 400)
    )


def test_no_percentile_is_the_wait_of_one_person(client, one_long_wait, users):
    """Nearest-rank percentiles of a handful of cases are single people's waits: the 90th
    percentile of five is the longest wait, which a leader who knows who waited longest reads
    to the day. A percentile is shown only where at least five waited that long or longer and
    at least five that long or shorter."""
    client.force_login(users["leif"])
    rows = export(client, "housing_time")
    assert rows and all(row[1] == "5" for row in rows)  # the count is shown ...
    shown = {text for row in rows for text in row[2:]}
    assert not any("400" in text or "50" in text or "20" in text for text in shown), rows  # ... no one's days


# --- the same finished months read month after month --------------------------------------------

# Cases opened, and closed as housed, not housed and evicted, per month of the year.
MONTHS = {1: (40, (9, 3, 9)), 2: (3, (0, 2, 5)), 3: (3, (3, 9, 9)), 4: (2, (3, 2, 5)), 5: (1, (5, 1, 2))}
MONTHLY = ("opened", "opened_month", "closed", "closed_month", "open_end")  # the same cells in every reading


def test_readings_month_after_month_give_no_small_count_away(db, outcome_kinds, monkeypatch):
    """A leader who saves the figures at the start of each month (the finished months never
    change) keeps every number any reading showed: the earlier readings' numbers fill in what
    a later reading hides."""
    from collections import defaultdict

    from insight import figures, periods
    from insight.privacy import PRIMARY, Ledger

    rows = []
    for month, (opened, closed) in MONTHS.items():
        day = datetime.date(YEAR, month, 1)
        rows.append(CaseFlow(scope=WHOLE_MUNICIPALITY, month=day, process_key="housing_referral", opened=opened))
        for kind, count in zip(("bosatt", "ikke_bosatt", "utkastet"), closed, strict=True):
            tenure = "kommunal_utleiebolig" if kind == "bosatt" else ""
            rows.append(
                CaseFlow(
                    scope=WHOLE_MUNICIPALITY,
                    month=day,
                    process_key="housing_referral",
                    outcome=kind,
                    tenure=tenure,
                    closed=count,
                )
            )
    CaseFlow.objects.filter(month__year=YEAR).delete()
    CaseFlow.objects.bulk_create(rows)
    readings = []
    for first_unfinished in range(3, 7):
        monkeypatch.setattr(periods, "finished_before", lambda *_, m=first_unfinished: datetime.date(YEAR, m, 1))
        readings.append(figures.case_flow(WHOLE_MUNICIPALITY).ledger)
    # Every reading, as the attacker holds them: each with its sums, a month's number the same in all.
    known, same = Ledger(), defaultdict(list)
    for ledger in readings:
        offset = len(known.values)
        known.values += ledger.values
        known.is_count += ledger.is_count
        known.equations += [[(cell + offset, coef) for cell, coef in terms] for terms in ledger.equations]
        known.hidden.update({cell + offset: kind for cell, kind in ledger.hidden.items()})
        known.bounds.update({cell + offset: bounds for cell, bounds in ledger.bounds.items()})
        for (name, key), cell in ledger.keys.items():
            if name in MONTHLY:
                same[name, key].append(cell + offset)
    for cells in same.values():
        for first, second in itertools.pairwise(cells):
            known.equation([(first, 1), (second, -1)])
    for index, terms in enumerate(known.equations):
        for cell, _ in terms:
            known._equations_of[cell].append(index)
    pinned = [
        known.values[cell]
        for cell, (low, high) in known.ranges(combined=True).items()
        if low >= high and known.hidden[cell] == PRIMARY
    ]
    assert pinned == []


# --- the heatmap of a version that few cases ran on -------------------------------------------


def test_the_heatmap_does_not_trace_the_path_of_the_few_cases_on_a_version(client, shipped, users, agencies):
    """A process admin reads on the process page how many cases ran on each version (here one:
    moving a version's only running case to a new version makes one). The heatmap of that
    version showed which tasks were passed, "<5" each: the path of that one case. A version
    with fewer than five cases is refused when chosen (400 naming it), and not drawn by default."""
    from tests.insight.conftest import discharge_case

    today = datetime.date.today()
    discharge_case(users, agencies, ready=today - datetime.timedelta(days=12), discharged=today)
    definition = shipped["institution_discharge_to_housing"]
    TaskTime.objects.create(
        scope=WHOLE_MUNICIPALITY,
        month=datetime.date(YEAR, 3, 1),
        definition=definition,
        element_id="Task_escalation_waiting",
        agency=agencies["hospital"],
        completed=1,
        seconds=86400,
    )
    client.force_login(users["ada"])  # a process admin
    query = {"process": definition.key, "year": YEAR}
    chosen = client.get(reverse("insight-heatmap"), {**query, "version": definition.version})
    assert chosen.status_code == 400
    assert "version" in chosen.content.decode()
    default = client.get(reverse("insight-heatmap"), query)
    assert default.status_code == 200
    assert default.context["heats"] == []


def test_a_version_is_drawn_from_its_fifth_case_without_counting_them_all(client, shipped, users, agencies):
    """Four cases on a version: not drawn; the fifth draws it. Whether there is a fifth is read
    from the index on the version (``figures.versions_with_five_cases``): counting every case
    of every version took 150 ms at 300,000 cases (``make bench-scale``), and grew with them."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from insight.figures import versions_with_five_cases
    from tests.insight.conftest import discharge_case

    today = datetime.date.today()
    definition = shipped["institution_discharge_to_housing"]
    for _ in range(4):
        discharge_case(users, agencies, ready=today, discharged=today)
    assert versions_with_five_cases(definition.key) == set()
    discharge_case(users, agencies, ready=today, discharged=today)
    assert versions_with_five_cases(definition.key) == {definition.version}
    client.force_login(users["ada"])
    with CaptureQueriesContext(connection) as queries:
        page = client.get(reverse("insight-heatmap"), {"process": definition.key, "year": YEAR})
    assert page.status_code == 200 and page.context["version"] == definition.version
    counted = [
        q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"] and "workflows_processinstance" in q["sql"]
    ]
    assert counted == []


# --- the days of a month in which one patient waited -----------------------------------------


def test_the_days_waiting_for_discharge_are_not_those_of_one_patient(client, shipped, users, agencies, monkeypatch):
    """Five discharges in a month, four of them on the day the patient was ready: the month's
    days (and their cost) were the one patient's who waited, to the day. The days are now
    shown only where five or more patients waited."""
    from insight import periods
    from tests.insight.conftest import discharge_case

    today = datetime.date.today()
    for waited in (0, 0, 0, 0, 40):
        discharge_case(users, agencies, ready=today - datetime.timedelta(days=waited), discharged=today)
    next_month = (today.replace(day=1) + datetime.timedelta(days=32)).replace(day=1)
    monkeypatch.setattr(periods, "finished_before", lambda *_: next_month)  # this month has ended
    client.force_login(users["leif"])
    response = client.get(reverse("insight-export", args=["discharge", "csv"]), {"year": today.year})
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    month = next(row for row in rows[2:] if row and row[1] == "5")  # the five discharges are shown
    assert month[2] != "40" and "40" not in month[3] and "229" not in month[3], month
