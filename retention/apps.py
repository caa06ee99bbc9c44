from collections.abc import Collection, Iterable
from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RetentionConfig(AppConfig):
    name = "retention"
    verbose_name = _("Retention")

    def ready(self):
        from retention.jobs import run_archive_export_job, run_erasure_job
        from retention.services import note_changing_after_close
        from workflows import selectors
        from workflows.jobs import handlers
        from workflows.models import JobKind
        from workflows.services import notes

        handlers.register(JobKind.ERASURE, run_erasure_job)
        handlers.register(JobKind.ARCHIVE_EXPORT, run_archive_export_job)
        # A corrected value stays in errors written before it was corrected: shown, they are
        # scrubbed of it too (and of a national id asked for).
        # A note or an attachment corrected or withdrawn after the close: the archive gets the
        # case file that lists it (docs/data-protection.md, "Archive export").
        if note_changing_after_close not in notes.CLOSED_CASE_CHANGES:
            notes.CLOSED_CASE_CHANGES.append(note_changing_after_close)
        if corrections_held not in selectors.HELD_BEFORE:
            selectors.HELD_BEFORE.append(corrections_held)


_CORRECTIONS_SQL = (
    "SELECT case_id, field, old_value, new_value FROM retention_correction WHERE case_id = ANY(%s::bigint[])"
    " ORDER BY corrected_at DESC, id DESC"
)


def corrections_held(case_ids: Collection[int]) -> list[tuple[int, str, object]]:
    """``(case id, field, value)`` of each value the cases' corrections replaced or asked for."""
    from django.db import connection

    from retention.models import Correction
    from workflows.selectors import json_column, rows_by_ids

    rows: Iterable[tuple[Any, ...]]
    if connection.vendor == "postgresql":  # the ids as one array (``selectors.rows_by_ids``), in the same order
        rows = [
            (case_id, field, json_column(old), json_column(new))
            for case_id, field, old, new in rows_by_ids(_CORRECTIONS_SQL, list(case_ids))
        ]
    else:
        rows = Correction.objects.filter(case_id__in=list(case_ids)).values_list(
            "case_id", "field", "old_value", "new_value"
        )
    return [(case_id, field, value) for case_id, field, old, new in rows for value in (old, new) if value is not None]
