"""The migration preview's counts hidden as the leaders' figures are (``insight.privacy``):
no database, the plan built by hand.

The rows are the cases' standings (the elements they wait on, the reasons that keep them),
each case in one row: the rows add up to the cases, those that can move to the cases that
can move, the others to those that cannot. Before (h-preview) a row per element and one per
reason counted the same cases twice and their sums were not in the ledger: with cases split
7 / 2 / 6 over three elements, 15 less 7 less 6 gave the hidden 2 away, and a reason's row
could be hidden while the row of its element showed the same number."""

from itertools import product

import pytest

from insight.migration_preview import _suppressed, ledger_of
from insight.privacy import SMALL
from workflows.services.versions import (
    HIDDEN_COMPLEMENTARY,
    HIDDEN_SMALL,
    Count,
    MigrationPlan,
    Problem,
    StandingRow,
    Waiting,
)

HIDDEN = Count(None, HIDDEN_COMPLEMENTARY)
UNDER = Count(None, HIDDEN_SMALL)
REMOVED = "waiting-element-removed"


def plan(*rows):
    """``rows``: (element, reason or None, count), each a standing of its own."""
    total = sum(n for _element, _reason, n in rows)
    movable = sum(n for _element, reason, n in rows if reason is None)
    return MigrationPlan(
        key="p",
        from_version=1,
        to_version=2,
        cases=Count(total),
        movable=Count(movable),
        refused=Count(total - movable),
        standings=[
            StandingRow(
                (Waiting(element, element, None if reason else element, ()),),
                (Problem(element, reason),) if reason else (),
                Count(n),
            )
            for element, reason, n in rows
        ],
    )


def counts(shown):
    return [row.cases for row in shown.standings]


def test_large_counts_are_shown_as_they_are():
    shown = _suppressed(plan(("Task_a", None, 12), ("Task_b", REMOVED, 8)))
    assert (shown.cases, shown.movable, shown.refused) == (Count(20), Count(12), Count(8))
    assert counts(shown) == [Count(12), Count(8)]


def test_a_small_count_is_under_five_and_its_complement_beside_the_total_is_hidden():
    shown = _suppressed(plan(("Task_a", None, 17), ("Task_b", REMOVED, 3)))
    assert shown.cases == Count(20)  # the process page's number: shown there anyway
    assert shown.refused == UNDER and shown.movable == HIDDEN  # 20 less 17 would say 3
    assert counts(shown) == [HIDDEN, UNDER]  # so would 20 less Task_a's 17


def test_a_three_way_split_keeps_the_small_one_from_the_total_less_the_others():
    """7 / 2 / 6 over three elements: before, 7 and 6 were shown beside the 15 cases."""
    shown = _suppressed(plan(("Task_a", None, 7), ("Task_b", None, 2), ("Task_c", None, 6)))
    assert shown.cases == Count(15)
    a, b, c = counts(shown)
    assert b == UNDER and HIDDEN in (a, c)
    assert not _pinned(shown)


def test_a_waiting_element_and_its_reason_are_one_row():
    """Before, "waits on Task_b" and "Task_b removed" were two rows over the same cases: one
    could be hidden while the other showed its number. Now they are one row, one count."""
    shown = _suppressed(plan(("Task_a", None, 9), ("Task_b", REMOVED, 6)))
    (movable, refused) = shown.standings
    assert refused.problems == (Problem("Task_b", REMOVED),) and refused.waiting[0].element_id == "Task_b"
    assert refused.cases == shown.refused == Count(6) and movable.cases == shown.movable == Count(9)


@pytest.mark.parametrize("split", [(5, 1), (5, 1, 5)])
def test_a_hidden_count_is_not_read_as_five_or_more_to_pin_the_small_one(split):
    """Six cases, five at one element, one at another: "hidden" beside "under 5" says five
    or more (a listed row counts a case; 1 to 4 would show "under 5"), so 5 and 1 (as the
    preview showed them before). Now nothing pins them."""
    shown = _suppressed(plan(*[(f"Task_{i}", None, n) for i, n in enumerate(split)]))
    assert not _pinned(shown)
    assert [row.cases for row in shown.standings] != [HIDDEN, UNDER]


def _compositions(total, parts):
    if parts == 1:
        yield (total,)
        return
    for first in range(1, total - parts + 2):
        for rest in _compositions(total - first, parts - 1):
            yield (first, *rest)


def _fits(count, value, strong):
    if count.value is not None:
        return value == count.value
    if count.hidden == HIDDEN_SMALL:
        return 1 <= value < SMALL
    return value >= SMALL if strong else value >= 0


def _pinned(shown, truth=None):
    """What an admin can pin to 1 to 4 from what the preview shows (a row's count, the cases
    that can move or cannot, the cases less one row, those that can move or cannot less one
    row of theirs), by trying every split of the cases over the rows listed (each 1 or
    more): "under 5" is 1 to 4, a shown count itself, "hidden" 5 or more where that fits
    what is shown, else anything. ``truth``: the counts (to check a pinned value is true)."""
    total, possible = shown.cases.value, [row.possible for row in shown.standings]
    if total is None:
        raise AssertionError("the number of cases is shown")

    def figures(split):
        movable = sum(n for n, ok in zip(split, possible, strict=True) if ok)
        side = [movable if ok else total - movable for ok in possible]
        return {
            **{("row", i): n for i, n in enumerate(split)},
            "movable": movable,
            "refused": total - movable,
            **{("others", i): total - n for i, n in enumerate(split)},
            **{("side others", i): side[i] - n for i, n in enumerate(split)},
        }

    def fits(split, strong):
        f = figures(split)
        rows = all(_fits(row.cases, n, strong) for row, n in zip(shown.standings, split, strict=True))
        return rows and _fits(shown.movable, f["movable"], strong) and _fits(shown.refused, f["refused"], strong)

    splits = list(_compositions(total, len(possible)))
    seen = [split for split in splits if fits(split, True)] or [split for split in splits if fits(split, False)]
    found = [figures(split) for split in seen]
    true = figures(truth) if truth is not None else None
    # What the rows listed and the number of cases pin whatever is shown (two cases, two
    # rows: one each; every row able to move: they all can) is told by the listing itself.
    listed = [figures(split) for split in splits]
    return {
        name: value
        for name, value in found[0].items()
        if 0 < value < SMALL
        and all(each[name] == value for each in found)
        and (true is None or true[name] == value)
        and not all(each[name] == value for each in listed)
    }


def test_no_split_of_up_to_twelve_cases_over_two_to_four_rows_pins_a_small_count():
    """Every split of 2 to 12 cases over 2 and 3 rows, each row able to move or not, and over
    4 rows up to 9 cases: nothing the preview shows pins a count from 1 to 4."""
    leaks = []
    for parts, most in ((2, 12), (3, 12), (4, 9)):
        for total in range(parts, most + 1):
            for split in _compositions(total, parts):
                for refused in product((False, True), repeat=parts):
                    rows = [(f"Task_{i}", REMOVED if no else None, n) for i, (n, no) in enumerate(zip(split, refused))]
                    shown = _suppressed(plan(*rows))
                    if pinned := _pinned(shown, split):
                        leaks.append((split, refused, pinned))
    assert leaks == [], leaks[:5]


@pytest.mark.parametrize("split", [(7, 2, 6), (1, 1, 9), (3, 3, 3, 8), (6, 2, 1, 7)])
def test_the_ledger_itself_finds_no_hidden_count_pinned(split):
    """The ledger's own check after suppression: no hidden cell it can narrow to one value
    from 1 to 4."""
    built = plan(*[(f"Task_{i}", None, n) for i, n in enumerate(split)])
    ledger, _total, _movable, _refused, rows = ledger_of(built)
    ledger.suppress()
    assert ledger.exposed(combined=True) == []
    assert not any(not ledger.is_hidden(cell) and 0 < ledger.values[cell] < SMALL for cell in rows)
