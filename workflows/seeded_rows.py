"""The rows the data migrations seed, put back when they are missing.

``manage.py flush`` empties every table, the standard outcome kinds and the list of legal
bases included, and migrations do not run again on a database they have already migrated:
after a flush no case could close with an outcome and no consent could name its basis.
``seed_demo`` calls ``restore_seeded_rows`` so that the demo works again after a flush.

The data itself stays in the migrations (``workflows`` 0008, ``permissions`` 0008): what a
migration seeded is what is restored, with no second copy to drift from it. Only missing
rows are created, so an admin's later change (a kind retired, a provision reworded) stays.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from django.apps import apps

from permissions.models import LegalBasis
from workflows.outcomes import OutcomeKind

# Migration modules' names start with a digit: they are imported by name.
OUTCOME_KINDS_MIGRATION = "workflows.migrations.0008_seed_outcome_kinds"
LEGAL_BASES_MIGRATION = "permissions.migrations.0008_seed_legal_bases"


@dataclass(frozen=True)
class Restored:
    outcome_kinds: int
    legal_bases: int


def restore_seeded_rows() -> Restored:
    """Create each seeded outcome kind and legal basis that is missing; returns how many."""
    return Restored(outcome_kinds=_restore_outcome_kinds(), legal_bases=_restore_legal_bases())


def _restore_outcome_kinds() -> int:
    # Not the migration's own step: it would also overwrite the kinds an admin has changed.
    standard = importlib.import_module(OUTCOME_KINDS_MIGRATION).STANDARD_KINDS
    created = 0
    for position, (code, label, has_home, needs_tenure, needs_reason, description) in enumerate(standard):
        _kind, new = OutcomeKind.objects.get_or_create(
            code=code,
            defaults={
                "label": label,
                "has_home": has_home,
                "needs_tenure": needs_tenure,
                "needs_reason": needs_reason,
                "description": description,
                "position": (position + 1) * 10,  # as the migration placed it
                "active": True,
            },
        )
        created += new
    return created


def _restore_legal_bases() -> int:
    # The migration's own step: it creates each missing provision and leaves the others.
    before = LegalBasis.objects.count()
    importlib.import_module(LEGAL_BASES_MIGRATION).seed(apps, None)
    return LegalBasis.objects.count() - before
