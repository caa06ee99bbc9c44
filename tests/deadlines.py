"""Moving task deadlines in a test, as no user can: the rows, and the case's earliest open
deadline (``Case.next_due_at``) written by the function every step uses."""

from __future__ import annotations

from workflows.models import Case
from workflows.steps import rows


def set_due(tasks, due_at) -> None:
    """Set ``due_at`` on the queryset ``tasks`` and refresh their cases' next deadline."""
    case_ids = set(tasks.values_list("case_id", flat=True))
    tasks.update(due_at=due_at)
    refresh_next_due(case_ids)


def refresh_next_due(case_ids) -> None:
    batch = rows.Batch()
    for case in Case.objects.filter(pk__in=case_ids):
        rows.refresh_next_due(batch, case)
    batch.flush()
