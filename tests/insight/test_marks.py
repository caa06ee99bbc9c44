"""What the marks tell an attacker who knows how they are chosen (the code is open).

A count from 1 to 4 is shown "<5"; so a number shown as the hidden mark was hidden for
another reason (to protect a small count beside it) and is 0 or 5 and up, unless the ledger
relabelled a small count (``Ledger._protect``), which the marks do not tell. Six cases as
"hidden" and "<5" are five and one. The attacker here takes every hidden mark as 0 or 5 and
up (a relabelled count as anything from 0, which is what the ledger takes), every "<5" as 1
to 4, every shown number as exact, and tries the values the sums allow.
"""

import csv
import datetime
import io
import itertools

import pytest
from django.urls import reverse

from insight import figures
from insight.models import CaseFlow
from insight.privacy import COMPLEMENTARY, HIDDEN_MARK, PRIMARY, SMALL, Ledger
from tests.insight.test_scopes import leader_of

MARKED = [0, *range(SMALL, 40)]  # a hidden mark: 0 or 5 and up


def test_a_hidden_count_beside_a_small_one_is_not_read_as_five():
    """Overdue tasks now: one agency with five, another with one, six in all."""
    ledger, cells, total = figures._overdue_ledger({1: 5, 2: 1}, {1: "A", 2: "B"})
    ledger.suppress()
    five, one = cells[1], cells[2]
    assert ledger.shown(one) == "<5"
    shown = {cell: ledger.shown(cell) for cell in (five, one, total)}
    domain = {
        cell: range(1, SMALL) if text == "<5" else MARKED if text == HIDDEN_MARK else [int(text)]
        for cell, text in shown.items()
    }
    fits = [(a, b) for a in domain[five] for b in domain[one] if a + b in domain[total]]
    assert len({b for _a, b in fits}) > 1, shown  # "\u00d7", "<5", "6" was five and one


def test_a_count_of_0_is_not_hidden_to_protect_a_small_one():
    """A 0 shown as the hidden mark beside a "<5" in a sum under 5 is 0, and the small count
    the rest: it protects nothing, so a number of 5 or more is hidden instead."""
    ledger = Ledger()
    cells = [ledger.count(value) for value in (3, 0, 7)]
    total = ledger.total(cells)
    ledger.suppress()
    assert [ledger.shown(cell) for cell in cells] == ["<5", "0", HIDDEN_MARK]
    assert ledger.shown(total) in ("10", HIDDEN_MARK)


def shown_row(row: list[int]) -> list[str]:
    """A row of counts and its total, as the ledger shows them."""
    ledger = Ledger()
    cells = [ledger.count(value) for value in row]
    total = ledger.total(cells)
    ledger.suppress()
    return [ledger.shown(cell) for cell in [*cells, total]]


def rows_shown_so(row: list[int], shows: list[str], cap: int = 12) -> list[tuple[int, ...]]:
    """The rows (counts up to ``cap``) an attacker who knows the whole of how the ledger
    chooses what to hide (the code is open) allows for ``shows``: those that the marks and
    the sum allow, and that the ledger would show the same way."""
    domain = [
        range(1, SMALL)
        if text == "<5"
        else range(0, cap + 1)  # a relabelled count: "\u00d7" alone
        if text == HIDDEN_MARK and 0 < value < SMALL
        else [0, *range(SMALL, cap + 1)]
        if text == HIDDEN_MARK
        else [int(text)]
        for value, text in zip(row, shows, strict=False)
    ]
    total = shows[-1]
    sums = range(1, SMALL) if total == "<5" else None if total == HIDDEN_MARK else [int(total)]
    return [
        each
        for each in itertools.product(*domain)
        if (sums is None or sum(each) in sums) and shown_row(list(each)) == shows
    ]


def test_which_number_is_hidden_beside_a_small_one_tells_nothing_of_it():
    """5, 4 and 5, and 14: were the smallest shown number hidden as the complement, "\u00d7", "<5",
    "5", "14" would say the "\u00d7" is at most the 5 beside it, and 5 or more (a hidden mark):
    5, and the "<5" 4."""
    shows = shown_row([5, 4, 5])
    assert shows[1] == "<5"
    assert len({each[1] for each in rows_shown_so([5, 4, 5], shows)}) > 1, shows


def test_no_small_count_of_a_row_can_be_worked_out_from_which_cells_are_hidden():
    """Every row of three counts (0, 1, 2, 4, 5, 6 and 9) with its total, read by the attacker
    who knows the whole of how the ledger chooses (``rows_shown_so``), where it hid one number
    at most beside each "<5". (Where it hid more, a sum or a relabelled count, because the
    first hiding still gave a count away, that it did says so, and some rows are then still
    given away ("0", "<5", "\u00d7", "\u00d7" is 0, 1 and 5): known, and open, README.)"""
    found = []
    for row in itertools.product((0, 1, 2, 4, 5, 6, 9), repeat=3):
        shows = shown_row(list(row))
        if shows.count(HIDDEN_MARK) > shows.count("<5"):
            continue
        small = [i for i, value in enumerate(row) if shows[i] == "<5"]
        allowed = rows_shown_so(list(row), shows) if small else []
        if any(len({each[i] for each in allowed}) < 2 for i in small):
            found.append((row, shows))
    assert not found, f"{len(found)} rows give a small count away, e.g. {found[:3]}"


# --- every small table ------------------------------------------------------------------


def table(grid: list[list[int]]) -> tuple[Ledger, list[list[int]]]:
    """A table of counts with its row totals, column totals and grand total, suppressed as
    the insight pages' tables are; its cells laid out with the totals last."""
    ledger = Ledger()
    cells = [[ledger.count(value) for value in row] for row in grid]
    rows = [ledger.total(row) for row in cells]
    columns = [ledger.total([row[c] for row in cells]) for c in range(len(grid[0]))]
    grand = ledger.total(rows)
    ledger.equation([(cell, 1) for cell in columns] + [(grand, -1)])
    ledger.suppress()
    return ledger, [[*row, total] for row, total in zip(cells, rows, strict=True)] + [[*columns, grand]]


def domains(ledger: Ledger, layout, cap: int, marked: bool = True) -> dict[tuple[int, int], list[int]]:
    """What the attacker allows each cell of the layout (an inner cell up to ``cap``, which
    only narrows what they allow: the test is stricter, never laxer); ``marked``: reading a
    hidden mark as 0 or 5 and up (else as anything from 0, as the ledger did before)."""
    R, C = len(layout) - 1, len(layout[0]) - 1
    found = {}
    for r, row in enumerate(layout):
        for c, cell in enumerate(row):
            most = cap * (C if c == C else 1) * (R if r == R else 1)
            value, text = ledger.values[cell], ledger.shown(cell)
            if text == "<5":
                found[r, c] = list(range(1, SMALL))
            elif text == HIDDEN_MARK and (0 < value < SMALL or not marked):  # relabelled: "\u00d7" alone
                found[r, c] = list(range(0, most + 1))
            elif text == HIDDEN_MARK:
                found[r, c] = [0, *range(SMALL, most + 1)]
            else:
                found[r, c] = [int(text)]
    return narrowed(found, R, C)


def narrowed(domain, R, C):
    """``domain`` narrowed by the bounds each row and column sum carries (loses no table)."""
    lines = [([(r, c) for c in range(C)], (r, C)) for r in range(R + 1)]
    lines += [([(r, c) for r in range(R)], (R, c)) for c in range(C + 1)]
    changed = True
    while changed:
        changed = False
        for parts, total in lines:
            lows, highs = [domain[p][0] for p in parts], [domain[p][-1] for p in parts]
            sums = [x for x in domain[total] if sum(lows) <= x <= sum(highs)]
            changed |= sums != domain[total]
            domain[total] = sums
            for i, part in enumerate(parts):
                low, high = sums[0] - (sum(highs) - highs[i]), sums[-1] - (sum(lows) - lows[i])
                values = [x for x in domain[part] if low <= x <= high]
                changed |= values != domain[part]
                domain[part] = values
    return domain


def another_value(domain, R, C, target, value) -> bool:
    """Whether a table the attacker allows has ``target`` other than ``value``."""
    inner = [(r, c) for r in range(R) for c in range(C)]
    # The cells summed into the target first, so that a wrong branch ends early.
    inner.sort(key=lambda k: (k != target and not (target[0] in (R, k[0]) and target[1] in (C, k[1])), len(domain[k])))
    sets = {k: set(d) for k, d in domain.items()}
    lines = {k: ([(k[0], c) for c in range(C)], (k[0], C), [(r, k[1]) for r in range(R)], (R, k[1])) for k in inner}

    def fits(values, parts, total):
        if all(p in values for p in parts):
            return sum(values[p] for p in parts) in sets[total]
        low = sum(values[p] if p in values else domain[p][0] for p in parts)
        high = sum(values[p] if p in values else domain[p][-1] for p in parts)
        return high >= domain[total][0] and low <= domain[total][-1]

    def search(i, values):
        if i == len(inner):
            full = dict(values)
            full.update({(r, C): sum(values[r, c] for c in range(C)) for r in range(R)})
            full.update({(R, c): sum(values[r, c] for r in range(R)) for c in range(C + 1) if c < C})
            full[R, C] = sum(full[r, C] for r in range(R))
            return all(full[k] in sets[k] for k in full) and full[target] != value
        k = inner[i]
        row, row_total, column, column_total = lines[k]
        for v in domain[k]:
            if k == target and v == value:
                continue
            values[k] = v
            if fits(values, row, row_total) and fits(values, column, column_total) and search(i + 1, values):
                return True
            del values[k]
        return False

    return search(0, {})


def pinned(grid: list[list[int]]) -> tuple | None:
    """A hidden count from 1 to 4 of the table that the attacker narrows to one value."""
    ledger, layout = table(grid)
    R, C = len(grid), len(grid[0])
    small = [
        (r, c)
        for r, row in enumerate(layout)
        for c, cell in enumerate(row)
        if ledger.is_hidden(cell) and 0 < ledger.values[cell] < SMALL
    ]
    if not small:
        return None
    domain = domains(ledger, layout, cap=8)
    for r, c in small:
        if not another_value(domain, R, C, (r, c), ledger.values[layout[r][c]]):
            return grid, (r, c), [[ledger.shown(cell) for cell in row] for row in layout]
    return None


def test_no_small_count_of_a_two_by_two_table_can_be_worked_out_from_the_marks():
    """Every 2x2 table of counts 0 to 7, with its totals."""
    found = [pinned([list(v[:2]), list(v[2:])]) for v in itertools.product(range(8), repeat=4)]
    found = [each for each in found if each]
    assert not found, f"{len(found)} tables give a small count away, e.g. {found[:3]}"


def test_no_small_count_of_a_two_by_three_table_can_be_worked_out_from_the_marks():
    """Every 2x3 table of counts 0, 1 and 4 (the ends of "<5") and 5, with its totals."""
    found = [pinned([list(v[:3]), list(v[3:])]) for v in itertools.product((0, 1, 4, 5), repeat=6)]
    found = [each for each in found if each]
    assert not found, f"{len(found)} tables give a small count away, e.g. {found[:3]}"


def test_the_attack_finds_a_count_the_marks_give_away():
    """The search works (so the sweep can fail): "\u00d7", "<5", "6" over "\u00d7", "\u00d7", "15", with the
    columns' "12", "9" and "21" (five and one, seven and eight), as the ledger hid it before a
    hidden mark was read as 0 or 5 and up; read as anything from 0, the "<5" stays open."""
    ledger = Ledger()
    cells = [ledger.count(value) for value in (5, 1, 6, 7, 8, 15, 12, 9, 21)]
    ledger.hidden = {cells[0]: COMPLEMENTARY, cells[1]: PRIMARY, cells[3]: COMPLEMENTARY, cells[4]: COMPLEMENTARY}
    layout = [cells[0:3], cells[3:6], cells[6:9]]
    assert not another_value(domains(ledger, layout, cap=8), 2, 2, (0, 1), 1)
    assert another_value(domains(ledger, layout, cap=8, marked=False), 2, 2, (0, 1), 1)


# --- the page and its export ---------------------------------------------------------------

PAGE_YEAR = datetime.date.today().year - 1  # a finished year


@pytest.fixture
def five_and_one(db, outcome_kinds, shipped, agencies):
    """Cases of NAV's scope closed in one month: five housed, one not."""
    month = datetime.date(PAGE_YEAR, 3, 1)
    scope = agencies["nav"].pk
    CaseFlow.objects.create(scope=scope, month=month, process_key="housing_referral", opened=6)
    for kind, count in {"bosatt": 5, "ikke_bosatt": 1}.items():
        CaseFlow.objects.create(scope=scope, month=month, process_key="housing_referral", outcome=kind, closed=count)
    return scope


def test_the_exported_table_gives_no_small_count_away_to_one_who_reads_the_marks(client, five_and_one, agencies):
    """The CSV of "cases closed per month, by outcome", as a leader of NAV downloads it."""
    client.force_login(leader_of(agencies, "nav"))
    query = {"scope": five_and_one, "year": PAGE_YEAR}
    response = client.get(reverse("insight-export", args=["closed_by_outcome", "csv"]), query)
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    texts = [row[1:] for row in rows[2:-1] if row]  # the counts: months, then the total row
    R, C = len(texts) - 1, len(texts[0]) - 1
    domain = {
        (r, c): list(range(1, SMALL))
        if text == "<5"
        else [0, *range(SMALL, 8 * (C if c == C else 1) * (R if r == R else 1) + 1)]
        if text == HIDDEN_MARK
        else [int(text)]
        for r, row in enumerate(texts)
        for c, text in enumerate(row)
    }
    small = [cell for cell, values in domain.items() if values == list(range(1, SMALL))]
    assert small, texts  # the one not housed
    domain = narrowed(domain, R, C)
    for cell in small:
        assert all(domain.values()) and another_value(domain, R, C, cell, domain[cell][0]), texts
        assert another_value(domain, R, C, cell, domain[cell][-1]), texts
