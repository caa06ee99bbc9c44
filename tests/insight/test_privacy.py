"""An attacker with the page and both exports tries to recover a hidden count, and fails.

The figures of a year are read as a leader reads them: the table on the page, its CSV and
its XLSX. The attacker knows how the table adds up (each row to its total, each column to
the year's total row), that "<5" is 1 to 4 and the hidden mark anything from 0, and tries every value
the sums allow for the hidden cells. A hidden count is recovered when only one value fits.
"""

import csv
import datetime
import io
import re
from html import unescape

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from insight.models import WHOLE_MUNICIPALITY, CaseFlow, HousingTime, TaskTime
from insight.privacy import Ledger

YEAR = datetime.date.today().year
# Cases closed per month and outcome: small counts among large ones, in every row and column.
CLOSED = {
    1: {"bosatt": 3, "ikke_bosatt": 12, "utkastet": 7},
    2: {"bosatt": 9, "ikke_bosatt": 2, "utkastet": 6},
    3: {"bosatt": 8, "ikke_bosatt": 10, "utkastet": 1},
}


@pytest.fixture
def figures_with_small_counts(db, outcome_kinds, shipped):
    rows = []
    for month, closed in CLOSED.items():
        day = datetime.date(YEAR, month, 1)
        rows.append(CaseFlow(scope=WHOLE_MUNICIPALITY, month=day, process_key="housing_referral", opened=30))
        for kind, count in closed.items():
            rows.append(
                CaseFlow(
                    scope=WHOLE_MUNICIPALITY, month=day, process_key="housing_referral", outcome=kind, closed=count
                )
            )
    CaseFlow.objects.bulk_create(rows)


def page_table(html: str, key: str) -> list[list[str]]:
    section = re.search(rf'id="figure-{key}".*?</table>', html, re.S).group(0)
    head = [unescape(cell) for cell in re.findall(r"<th scope=\"col\">(.*?)</th>", section)]
    body = [
        [unescape(re.sub(r"<.*?>", "", cell)).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
        for row in re.findall(r"<tr>(.*?)</tr>", section.split("<tbody>")[1], re.S)
    ]
    return [head, *body]


def csv_table(content: bytes) -> list[list[str]]:
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig")), delimiter=";"))
    return [row for row in rows[1:-1] if row]


def xlsx_table(content: bytes) -> list[list[str]]:
    sheet = load_workbook(io.BytesIO(content)).active
    rows = [["" if v is None else str(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    return [row for row in rows[1:-2]]


def solutions(table: list[list[str]], limit: int = 200) -> dict[tuple[int, int], set[int]]:
    """Every value each hidden cell can take so that rows and columns add up (exhaustive)."""
    body = table[1:]
    grid = [row[1:] for row in body]  # drop the row labels; last column and last row are totals
    hidden = [(r, c) for r, row in enumerate(grid) for c, text in enumerate(row) if not text.isdigit()]
    domain = {cell: range(1, 5) if grid[cell[0]][cell[1]] == "<5" else range(0, limit) for cell in hidden}
    lines = [[(r, c) for c in range(len(grid[r]))] for r in range(len(grid))]
    lines += [[(r, c) for r in range(len(grid))] for c in range(len(grid[0]))]
    found = {cell: set() for cell in hidden}

    def consistent(values, complete):
        for line in lines:
            known = [values.get(cell, None if cell in domain else int(grid[cell[0]][cell[1]])) for cell in line]
            if None in known:
                if complete:
                    return False
                partial = sum(v for v in known[:-1] if v is not None)
                if known[-1] is not None and partial > known[-1]:
                    return False
                continue
            if sum(known[:-1]) != known[-1]:
                return False
        return True

    def search(index, values):
        if index == len(hidden):
            if consistent(values, True):
                for cell, value in values.items():
                    found[cell].add(value)
            return
        cell = hidden[index]
        for value in domain[cell]:
            values[cell] = value
            if consistent(values, False):
                search(index + 1, values)
            del values[cell]

    search(0, {})
    return found


def test_no_hidden_count_can_be_recovered_from_the_page_or_the_exports(client, figures_with_small_counts, users):
    client.force_login(users["leif"])
    query = {"year": YEAR}
    html = client.get(reverse("insight"), query).content.decode()
    shown = page_table(html, "closed_by_outcome")
    exported_csv = csv_table(client.get(reverse("insight-export", args=["closed_by_outcome", "csv"]), query).content)
    exported_xlsx = xlsx_table(client.get(reverse("insight-export", args=["closed_by_outcome", "xlsx"]), query).content)
    assert shown == exported_csv == exported_xlsx  # the same cells, hidden the same way

    small = [(r, c) for r, row in enumerate(shown[1:]) for c, text in enumerate(row[1:]) if text == "<5"]
    assert len(small) == 3  # the three counts under five: 3, 2 and 1
    assert not any(text in ("1", "2", "3", "4") for row in shown[1:] for text in row[1:])
    for cell, values in solutions(shown).items():
        assert len(values) > 1, f"hidden cell {cell} can only be {values}"


def test_an_obvious_table_would_give_a_count_away():
    """The attack works on a table hidden only where the count is small (so the test can fail)."""
    table = [["", "a", "b", "Total"], ["jan", "<5", "9", "12"], ["Total", "<5", "9", "12"]]
    assert solutions(table)[(0, 0)] == {3}


def test_the_ledger_hides_a_complement_in_each_sum_with_one_hidden_number():
    ledger = Ledger()
    cells = [ledger.count(value) for value in (3, 9, 12)]
    total = ledger.total(cells)
    ledger.suppress()
    assert ledger.shown(cells[0]) == "<5" and sum(ledger.is_hidden(c) for c in [*cells, total]) >= 2


# Completed tasks of one agency: one task of a kind among ten of another, in the same month.
HELD_DAYS = {"Task_economy_assessment": (10, 2), "Task_rent_support": (1, 30)}  # element: (tasks, days each)
# Housed in the first quarter: ten through one process, one through another.
HOUSED = {"housing_referral": [(20 + day, 1) for day in range(10)], "prison_release_to_housing": [(200, 1)]}


@pytest.fixture
def figures_with_one_small_group(db, shipped, agencies):
    month = datetime.date(YEAR, 1, 1)
    TaskTime.objects.bulk_create(
        TaskTime(
            scope=WHOLE_MUNICIPALITY,
            month=month,
            definition=shipped["housing_referral"],
            element_id=element,
            agency=agencies["nav"],
            completed=tasks,
            seconds=tasks * days * 86400,
        )
        for element, (tasks, days) in HELD_DAYS.items()
    )
    HousingTime.objects.bulk_create(
        HousingTime(scope=WHOLE_MUNICIPALITY, quarter=month, process_key=key, days=days, cases=cases)
        for key, histogram in HOUSED.items()
        for days, cases in histogram
    )


@pytest.mark.parametrize("key", ["ball_by_task", "housing_time"])
def test_no_time_is_shown_for_a_group_whose_count_is_hidden(client, figures_with_one_small_group, users, key):
    """A count hidden so that a small one beside it cannot be worked out hides its days too:
    the mean (or median) of the ten, beside that of all eleven, would tell the one's."""
    client.force_login(users["leif"])
    html = client.get(reverse("insight"), {"year": YEAR}).content.decode()
    exported = csv_table(client.get(reverse("insight-export", args=[key, "csv"]), {"year": YEAR}).content)
    for table in (page_table(html, key), exported):
        rows = table[1:]
        assert any(row[1] == "\u00d7" for row in rows)  # the ten are hidden to protect the one
        for row in rows:
            if not row[1].isdigit():
                assert all(cell == "\u2013" for cell in row[2:]), row
