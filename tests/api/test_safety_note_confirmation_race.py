"""Two confirmations of one version of a safety note at once (PostgreSQL): exactly one is
made (one event, one access-log row, one new version), the other answered 409, as two
corrections of one version are."""

import pytest

from core.errors import Conflict
from permissions.models import AccessLog
from tests.api.test_safety_notes import _warning_note, case, people  # noqa: F401 (fixtures)
from tests.threads import all_at_once, meet_after
from workflows import services
from workflows.models import Event, EventKind
from workflows.notes import Note
from workflows.services import notes as note_services

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_two_confirmations_of_one_version_make_exactly_one(people, case, monkeypatch):  # noqa: F811
    note = _warning_note(people, case)
    # Both have read the note and passed every check before either takes the lock.
    meet_after(monkeypatch, note_services, "_note_of")

    outcomes = all_at_once(
        [
            lambda: services.confirm_safety_note(
                actor=people["recorder"], case=case.pk, note_id=note.pk, version=note.version
            ),
            lambda: services.confirm_safety_note(
                actor=people["coordinator"], case=case.pk, note_id=note.pk, version=note.version
            ),
        ]
    )

    made = [o for o in outcomes if isinstance(o, Note)]
    refused = [o for o in outcomes if isinstance(o, Conflict)]
    assert len(made) == 1 and len(refused) == 1, outcomes
    assert refused[0].code == "note.changed"
    assert Note.objects.get(pk=note.pk).version == note.version + 1
    assert Event.objects.filter(case=case, kind=EventKind.SAFETY_CONFIRMED).count() == 1
    assert AccessLog.objects.filter(case=case, item=f"note:{note.pk}", action="write", category="safety").count() == 2
