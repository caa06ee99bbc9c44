"""A leader of two agencies reads both agencies' figures: subtracting one from the other must
not tell a count from 1 to 4, nor narrow a hidden count of either to one value.

The NAV office takes part in some of the housing office's cases (here: every NAV case also
has the housing office, which an attacker may know from the processes). Each scope's own
suppression keeps its own hidden counts safe; the figures one user reads are suppressed
together (``insight.privacy.joint``).
"""

import csv
import datetime
import io

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from insight import figures
from insight.models import CaseFlow
from permissions.models import Membership, Role

YEAR = datetime.date.today().year - 1  # a finished year
# Cases closed per month and outcome in the NAV office's cases, and the housing office's: the
# same cases and a few without NAV (2 evicted in January, 4 evicted in February, 3 housed in
# March). Each scope alone has one count under five (February, not housed: 2).
NAV = {
    1: {"bosatt": 9, "ikke_bosatt": 12, "utkastet": 7},
    2: {"bosatt": 9, "ikke_bosatt": 2, "utkastet": 6},
    3: {"bosatt": 8, "ikke_bosatt": 10, "utkastet": 6},
}
HOUSING = {
    1: {"bosatt": 9, "ikke_bosatt": 12, "utkastet": 9},
    2: {"bosatt": 9, "ikke_bosatt": 2, "utkastet": 10},
    3: {"bosatt": 11, "ikke_bosatt": 10, "utkastet": 6},
}


@pytest.fixture
def two_scopes(db, outcome_kinds, shipped, agencies):
    rows = []
    for kind, closed_per_month in (("nav", NAV), ("housing", HOUSING)):
        scope = agencies[kind].pk
        for month, closed in closed_per_month.items():
            day = datetime.date(YEAR, month, 1)
            rows.append(CaseFlow(scope=scope, month=day, process_key="housing_referral", opened=sum(closed.values())))
            for outcome, count in closed.items():
                rows.append(
                    CaseFlow(scope=scope, month=day, process_key="housing_referral", outcome=outcome, closed=count)
                )
    CaseFlow.objects.bulk_create(rows)
    return agencies["nav"].pk, agencies["housing"].pk


def leader_of(agencies, *kinds):
    user = get_user_model().objects.create_user(username="leder-" + "-".join(kinds), password="x")
    for kind in kinds:
        Membership.objects.create(user=user, agency=agencies[kind], role=Role.LEADER)
    return user


def closed_table(client, scope: int) -> list[list[str]]:
    """The table "cases closed per month, by outcome" of a scope, as the CSV export gives it."""
    query = {"scope": scope, "year": YEAR}
    response = client.get(reverse("insight-export", args=["closed_by_outcome", "csv"]), query)
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    return [row[1:] for row in rows[2:-1] if row]  # the counts: months, then the total row


def pinned(nav: list[list[str]], housing: list[list[str]], limit: int = 500) -> dict:
    """The hidden cells of either table that only one value fits, so that both tables add up
    (each row to its total, each column to the total row) and no NAV number exceeds the
    housing office's (their cases are among its cases). Exact: for each hidden cell, one
    solution, then a search for another with that cell at a different value (bounds carried
    through the sums, then trying each value of the narrowest cell)."""
    grids = {"nav": nav, "housing": housing}
    cells = [(t, r, c) for t, grid in grids.items() for r, row in enumerate(grid) for c in range(len(row))]
    start = {}
    for t, r, c in cells:
        text = grids[t][r][c]
        start[t, r, c] = (int(text), int(text)) if text.isdigit() else (1, 4) if text == "<5" else (0, limit)
    hidden = [cell for cell in cells if start[cell][0] < start[cell][1]]
    lines = []
    for t, grid in grids.items():
        lines += [[(t, r, c) for c in range(len(grid[r]))] for r in range(len(grid))]
        lines += [[(t, r, c) for r in range(len(grid))] for c in range(len(grid[0]))]
    pairs = [(("nav", r, c), ("housing", r, c)) for r in range(len(nav)) for c in range(len(nav[0]))]

    def narrowed(bounds):
        changed = True
        while changed:
            changed = False
            for line in lines:
                *parts, total = line
                low, high = sum(bounds[p][0] for p in parts), sum(bounds[p][1] for p in parts)
                news = {total: (max(bounds[total][0], low), min(bounds[total][1], high))}
                for p in parts:
                    others = (low - bounds[p][0], high - bounds[p][1])
                    low_p, high_p = bounds[total][0] - others[1], bounds[total][1] - others[0]
                    news[p] = (max(bounds[p][0], low_p), min(bounds[p][1], high_p))
                for cell, new in news.items():
                    if new[0] > new[1]:
                        return None
                    if new != bounds[cell]:
                        bounds[cell], changed = new, True
            for small, large in pairs:
                new_small = (bounds[small][0], min(bounds[small][1], bounds[large][1]))
                new_large = (max(bounds[large][0], bounds[small][0]), bounds[large][1])
                if new_small[0] > new_small[1] or new_large[0] > new_large[1]:
                    return None
                if (new_small, new_large) != (bounds[small], bounds[large]):
                    bounds[small], bounds[large], changed = new_small, new_large, True
        return bounds

    def solution(bounds):
        bounds = narrowed(dict(bounds))
        if bounds is None:
            return None
        open_cells = [cell for cell in hidden if bounds[cell][0] < bounds[cell][1]]
        if not open_cells:
            return bounds
        cell = min(open_cells, key=lambda cell: bounds[cell][1] - bounds[cell][0])
        for candidate in range(bounds[cell][0], bounds[cell][1] + 1):
            found = solution({**bounds, cell: (candidate, candidate)})
            if found is not None:
                return found
        return None

    first = solution(start)
    assert first is not None  # the true figures fit
    found = {}
    for cell in hidden:
        value = first[cell][0]
        below = value > start[cell][0] and solution({**start, cell: (start[cell][0], value - 1)})
        above = value < start[cell][1] and solution({**start, cell: (value + 1, start[cell][1])})
        if not below and not above:
            found[cell] = value
    return found


def test_a_leader_of_two_agencies_learns_no_small_count_by_subtracting(client, two_scopes, agencies):
    nav_scope, housing_scope = two_scopes
    client.force_login(leader_of(agencies, "nav", "housing"))
    nav, housing = closed_table(client, nav_scope), closed_table(client, housing_scope)
    assert len(nav) == len(housing) == 4 and nav[1][1] == housing[1][1] == "<5"
    # No figure of one less the same figure of the other is a count from 1 to 4 ...
    assert small_differences(nav, housing) == []
    # ... and no hidden count of either is worked out from both tables.
    assert pinned(nav, housing) == {}


def alone(scope: int) -> list[list[str]]:
    """The table as the scope's own suppression shows it (to a leader of that scope only)."""
    closed = next(f for f in figures.flow_figures(figures.case_flow(scope), YEAR) if f.key == "closed_by_outcome")
    return [row[1:] for row in closed.table()]


def small_differences(nav: list[list[str]], housing: list[list[str]]) -> list[tuple[int, int]]:
    return [
        (r, c)
        for r, row in enumerate(nav)
        for c, text in enumerate(row)
        if text.isdigit() and housing[r][c].isdigit() and 0 < int(housing[r][c]) - int(text) < 5
    ]


def test_the_subtraction_works_on_each_scope_suppressed_alone(two_scopes):
    """The attack above on each scope's own suppression (what a leader of both read before):
    the differences give away a few cases without NAV, so the test can fail."""
    nav, housing = (alone(scope) for scope in two_scopes)
    assert small_differences(nav, housing) or pinned(nav, housing)


@pytest.mark.parametrize("kind", ["nav", "housing"])
def test_a_leader_of_one_agency_sees_what_they_saw_before(client, two_scopes, agencies, kind):
    """Suppressing together is for those who read both: a leader of one sees their scope's
    figures suppressed alone, as before."""
    scope = agencies[kind].pk
    client.force_login(leader_of(agencies, kind))
    table = closed_table(client, scope)
    assert table == alone(scope)
    assert sum(text == "<5" for row in table for text in row) == 1  # February's 2 not housed
    assert pinned(table, table) == {}  # and still safe on its own
