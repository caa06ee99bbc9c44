"""The process admin's preview of moving running cases to another version, in counts with
the small ones hidden as the leaders' figures hide them (``insight.privacy``).

A process admin sees no case data, but makes the models: a version whose gateway sends each
case one way or the other by a value of its data (a health note's first letter) turns "which
element each case waits on" into that value. So the preview names no case (its reference,
its id) and says how many cases stand alike (wait on the same elements, going to the same
elements, kept back by the same reasons: ``versions.StandingRow``, each case in one row),
with a count from 1 to 4 shown as "under 5" and any number that would let such a count be
worked out hidden too. The move itself (``services.migrate_instances``), a write audited
and shown on each case's timeline, still names the cases it refused.
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


def ledger_of(plan: MigrationPlan) -> tuple[Ledger, int, int, int, list[int]]:
    """The plan's numbers and what ties them, not yet suppressed: the ledger and its cells of
    the cases, those that can move, those that cannot, and each row.

    The rows are a partition of the cases (each case in the one row of its standing), so the
    sums an admin can form are: the rows add up to the cases; those without a reason to the
    cases that can move; those with one to the cases that cannot (and those two to the
    cases). Nothing else ties them: an admin who made both versions knows which standings
    the models allow, not how the cases fall among them; a standing no case has is no row
    (and no cell: its zero is not shown), so each row counts 1 or more. What the cases less
    one row leave (the cases of every other row, a group the model could have made one
    branch of) is kept from being worked out as 1 to 4 as well (``Ledger.remainder``), and so
    is what the cases that can move (cannot) less one of their rows leave. The number of
    cases is the process page's (running cases per version, shown exactly there): decided
    before, never hidden here."""
    ledger = Ledger()
    total = ledger.count(plan.cases.value or 0)
    ledger.fixed = 1
    movable, refused = ledger.count(plan.movable.value or 0), ledger.count(plan.refused.value or 0)
    rows = [ledger.count(row.cases.value or 0) for row in plan.standings]
    side = [movable if row.possible else refused for row in plan.standings]
    ledger.equation([(movable, 1), (refused, 1), (total, -1)])
    ledger.equation([(cell, 1) for cell in rows] + [(total, -1)])
    for whole in (movable, refused):
        ledger.equation([(cell, 1) for cell, of in zip(rows, side, strict=True) if of == whole] + [(whole, -1)])
    for cell, whole in zip(rows, side, strict=True):
        ledger.at_least_one([cell])
        ledger.remainder(total, [cell])
        ledger.remainder(whole, [cell])
    return ledger, total, movable, refused, rows


def _suppressed(plan: MigrationPlan) -> MigrationPlan:
    """The plan with a count from 1 to 4 hidden, and then whatever would let one be worked
    out from the numbers around it (``ledger_of`` says which sums those are)."""
    ledger, total, movable, refused, rows = ledger_of(plan)
    # A row (or the cases that can move, or cannot) shown "hidden" is read as 5 or more (a
    # count from 1 to 4 shows "under 5"): the ledger reads its marks so itself
    # (``Ledger._marked``), as the leaders' figures are read.
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
        standings=[replace(row, cases=shown(cell)) for row, cell in zip(plan.standings, rows, strict=True)],
    )
