"""An erasure takes the times of the case's safety warnings with its data (h-attack34).

``Case.data_recorded_at`` (h-safety) holds, per safety field, when its warning was recorded or
last confirmed. The erasure emptied the case's data, sources and the values every case's
steps left, but not this column: the erased case still said that a warning about its person
was recorded (the field's name, ``trussel``) and when."""

import pytest

from retention import erasure
from retention.models import ErasureTrigger
from tests.api.test_safety_warnings import people, warned  # noqa: F401 (fixtures)
from workflows import services
from workflows.models import Case, CaseStatus, Task
from workflows.notes import Note

pytestmark = pytest.mark.django_db


def test_an_erased_case_keeps_no_time_of_its_safety_warning(warned, people, monkeypatch):  # noqa: F811
    for element, worker in (("T_nav", "other"), ("T_home", "coordinator")):
        task = Task.objects.get(case=warned, element_id=element)
        services.complete_task(actor=people[worker], task_id=task.pk, data={"notert": True})
    assert Case.objects.get(pk=warned.pk).status == CaseStatus.COMPLETED
    assert "trussel" in Case.objects.get(pk=warned.pk).data_recorded_at
    # The archive has its case file (what the archive endpoint's tests do end to end).
    monkeypatch.setattr(erasure, "unmet_archive_duty", lambda case: ())

    record = erasure.erase_case(
        warned.pk, trigger=ErasureTrigger.REQUEST, actor=people["coordinator"], reason="Personen ba om det"
    )

    assert record is not None
    erased = Case.objects.get(pk=warned.pk)
    assert erased.data == {}
    assert erased.data_recorded_at == {}


def test_an_erased_case_keeps_no_time_a_safety_note_was_confirmed_or_a_warning_reminded(
    warned,  # noqa: F811
    people,  # noqa: F811
    monkeypatch,
):
    """``Note.confirmed_at`` (h-safetynotes) said when a safety note's warning was kept again,
    ``Case.safety_reminded`` when its keepers were told a warning lapses: both outlived the
    erasure until h-safety3, as the fields' times did until h-attack34."""
    note = services.add_note(actor=people["recorder"], case=warned.pk, text="Truet med kniv", category="safety")
    services.confirm_safety_note(actor=people["recorder"], case=warned.pk, note_id=note.pk)
    Case.objects.filter(pk=warned.pk).update(safety_reminded={"trussel": "2026-01-01T00:00:00+00:00"})
    assert Note.objects.get(pk=note.pk).confirmed_at is not None
    for element, worker in (("T_nav", "other"), ("T_home", "coordinator")):
        task = Task.objects.get(case=warned, element_id=element)
        services.complete_task(actor=people[worker], task_id=task.pk, data={"notert": True})
    monkeypatch.setattr(erasure, "unmet_archive_duty", lambda case: ())

    record = erasure.erase_case(
        warned.pk, trigger=ErasureTrigger.REQUEST, actor=people["coordinator"], reason="Personen ba om det"
    )

    assert record is not None
    erased = Note.objects.get(pk=note.pk)
    assert (erased.text, erased.confirmed_at) == ("", None)
    assert Case.objects.get(pk=warned.pk).safety_reminded == {}
