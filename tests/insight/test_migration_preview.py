"""The migration preview's counts hidden as the leaders' figures are (``insight.privacy``):
no database, the plan built by hand."""

from insight.migration_preview import _suppressed
from workflows.services.versions import HIDDEN_COMPLEMENTARY, HIDDEN_SMALL, Count, MigrationPlan, ProblemRow, WaitingRow

HIDDEN = Count(None, HIDDEN_COMPLEMENTARY)
UNDER = Count(None, HIDDEN_SMALL)


def plan(total, movable, waiting=(), problems=()):
    return MigrationPlan(
        key="p",
        from_version=1,
        to_version=2,
        cases=Count(total),
        movable=Count(movable),
        refused=Count(total - movable),
        waiting=[WaitingRow(element, element, element, (), Count(n)) for element, n in waiting],
        problems=[ProblemRow(element, reason, Count(n)) for element, reason, n in problems],
    )


def test_large_counts_are_shown_as_they_are():
    shown = _suppressed(plan(20, 12, [("Task_a", 12), ("Task_b", 8)], [("Task_b", "waiting-element-removed", 8)]))
    assert (shown.cases, shown.movable, shown.refused) == (Count(20), Count(12), Count(8))
    assert [row.cases for row in shown.waiting] == [Count(12), Count(8)]
    assert [row.cases for row in shown.problems] == [Count(8)]


def test_a_small_count_is_under_five_and_its_complement_beside_the_total_is_hidden():
    shown = _suppressed(plan(20, 17, [("Task_a", 17), ("Task_b", 3)], [("Task_b", "waiting-element-removed", 3)]))
    assert shown.cases == Count(20)  # the process page's number: shown there anyway
    assert shown.refused == UNDER and shown.movable == HIDDEN  # 20 less 17 would say 3
    assert [row.cases for row in shown.waiting] == [HIDDEN, UNDER]  # so would 20 less Task_a's 17
    assert [row.cases for row in shown.problems] == [UNDER]


def test_small_reasons_hide_the_split_of_the_cases_that_can_move_and_cannot():
    """Four cannot move (two and two): under 5, and so the seven that can (11 less 7)."""
    shown = _suppressed(
        plan(
            11,
            7,
            [("Task_a", 7), ("Task_b", 2), ("Task_c", 2)],
            [("Task_b", "waiting-element-removed", 2), ("Task_c", "lane-without-participant", 2)],
        )
    )
    assert shown.movable.value is None and shown.refused.value is None
    assert [row.cases.value for row in shown.waiting] == [None, None, None]
    assert [row.cases for row in shown.problems] == [UNDER, UNDER]
