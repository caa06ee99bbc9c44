"""The process admin's preview of moving running cases to another version, in counts with
the small ones hidden as the leaders' figures hide them (``insight.privacy``).

A process admin sees no case data, but makes the models: a version whose gateway sends each
case one way or the other by a value of its data (a health note's first letter) turns "which
element each case waits on" into that value. So the preview names no case (its reference,
its id) and says how many cases wait on each element and how many each reason keeps from
moving, with a count from 1 to 4 shown as "under 5" and any number that would let such a
count be worked out hidden too. The move itself (``services.migrate_instances``), a write
audited and shown on each case's timeline, still names the cases it refused.
"""

from __future__ import annotations

from dataclasses import replace

from insight.privacy import PRIMARY, Ledger
from workflows.services import versions
from workflows.services.versions import HIDDEN_COMPLEMENTARY, HIDDEN_SMALL, Count, MigrationPlan


def preview_migration(*, actor, key: str, from_version, to_version=None) -> MigrationPlan:
    """``versions.migration_counts`` as it may be shown. Writes nothing."""
    counts = versions.migration_counts(actor=actor, key=key, from_version=from_version, to_version=to_version)
    return _suppressed(counts)


def _suppressed(plan: MigrationPlan) -> MigrationPlan:
    """The plan with a count from 1 to 4 hidden, and then whatever would let one be worked
    out from the numbers around it (``Ledger.suppress``). What the admin can tie together:
    the cases are those that can move and those that cannot; a row counts some of the cases
    (a reason, some of those that cannot move) and is listed only where a case is counted.
    A model can split the cases two ways (treated on one branch, untreated on the other),
    so what the cases less one row's count leave is kept from being worked out as a number
    from 1 to 4 as well (``Ledger.remainder``). The number of cases is the process page's
    (running cases per version, shown exactly there): decided before, never hidden here."""
    ledger = Ledger()
    total = ledger.count(plan.cases.value or 0)
    ledger.fixed = 1
    movable, refused = ledger.count(plan.movable.value or 0), ledger.count(plan.refused.value or 0)
    ledger.equation([(movable, 1), (refused, 1), (total, -1)])
    waiting = [ledger.count(row.cases.value or 0) for row in plan.waiting]
    problems = [ledger.count(row.cases.value or 0) for row in plan.problems]
    for cell in waiting:
        ledger.at_least_one([cell])
        ledger.remainder(total, [cell])
    for cell in problems:
        ledger.at_least_one([cell])
        ledger.remainder(total, [cell])
        ledger.remainder(refused, [cell])
    ledger.suppress()

    def shown(cell: int) -> Count:
        if not ledger.is_hidden(cell):
            return Count(ledger.values[cell])
        return Count(None, HIDDEN_SMALL if ledger.hidden[cell] == PRIMARY else HIDDEN_COMPLEMENTARY)

    return replace(
        plan,
        cases=shown(total),
        movable=shown(movable),
        refused=shown(refused),
        waiting=[replace(row, cases=shown(cell)) for row, cell in zip(plan.waiting, waiting, strict=True)],
        problems=[replace(row, cases=shown(cell)) for row, cell in zip(plan.problems, problems, strict=True)],
    )
