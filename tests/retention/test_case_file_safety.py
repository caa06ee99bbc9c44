"""The case file handed to the archive and the safety warnings of its case.

Its timeline (``hendelser.xml``) tells no more of a note it leaves out than the API's timeline
tells a reader who is shown the note masked: no "note corrected" and no "safety confirmed"
event of it, decided by the note's id and its category now (``safety`` is not in the default
case file). Until h-safety4 each confirmation of a safety note stood there with its time and
agency, and a note corrected out of ``safety`` into a category the case file leaves out kept
its confirmations there. A warning the case file holds is kept as the record stood, its
corrections and confirmations with it (the coordinator keeps a lapsed warning too).

And a closed case's file says what was in force when the case closed, not on the day it is
made: until h-safety4 a warning in force at the close was marked lapsed in a case file made
(or made again, after a correction) a year later."""

import datetime

import pytest
from django.utils import timezone
from lxml import etree

from permissions import policy
from retention import archive
from retention.case_file_timeline import EVENTS_NAMESPACE
from retention.rules import rules_for_process
from tests.api.test_safety_warnings import warning_case, warning_people
from workflows import services
from workflows.models import Case, CaseStatus, Task
from workflows.notes import Note

pytestmark = pytest.mark.django_db

WORDS = "Truet saksbehandler i resepsjonen"
WITH_SAFETY = ("identity", "housing", "coordination", "safety")


@pytest.fixture
def people(agencies, django_user_model):
    return warning_people(django_user_model, agencies, "arkivvarsel")


@pytest.fixture
def case(people, agencies):
    return warning_case(people, agencies, "Proc_file_warn")


def _kinds_in_case_file(case) -> list[str]:
    """The kinds of the events of the case file's ``hendelser.xml``, in order."""
    made = archive.case_file_package(Case.objects.get(pk=case.pk), timezone.now())
    root = etree.fromstring(made.events)
    return [element.text for element in root.iter(f"{{{EVENTS_NAMESPACE}}}type")]


def _safety_note(people, case, *, days_ago=0) -> Note:
    note = services.add_note(actor=people["recorder"], case=case.pk, text=WORDS, category="safety")
    if days_ago:
        Note.objects.filter(pk=note.pk).update(created_at=timezone.now() - datetime.timedelta(days=days_ago))
    return Note.objects.get(pk=note.pk)


def _confirm(people, case, note, times=1):
    for _ in range(times):
        services.confirm_safety_note(actor=people["recorder"], case=case.pk, note_id=note.pk)


def test_the_case_file_lists_no_confirmation_of_a_safety_note_it_leaves_out(people, case):
    note = _safety_note(people, case)
    _confirm(people, case, note, times=2)
    kinds = _kinds_in_case_file(case)
    assert kinds.count("note_added") == 1  # the note was written: told, as a masked note is
    assert "safety_confirmed" not in kinds  # old: twice, with the time and the agency


def test_a_note_corrected_out_of_safety_into_a_category_left_out_keeps_no_confirmation_there(people, case):
    note = _safety_note(people, case)
    _confirm(people, case, note)
    note = Note.objects.get(pk=note.pk)
    services.correct_note(
        actor=people["recorder"],
        case=case.pk,
        note_id=note.pk,
        text="Dom sonet",
        version=note.version,
        category="justice",
    )
    kinds = _kinds_in_case_file(case)
    assert "note_corrected" not in kinds and "safety_confirmed" not in kinds  # old: the confirmation


def test_a_note_corrected_into_safety_shows_no_correction_in_the_case_file(people, case):
    note = services.add_note(actor=people["recorder"], case=case.pk, text="Møte avtalt", category="coordination")
    services.correct_note(
        actor=people["recorder"], case=case.pk, note_id=note.pk, text=WORDS, version=1, category="safety"
    )
    _confirm(people, case, note)
    kinds = _kinds_in_case_file(case)
    assert "note_corrected" not in kinds and "safety_confirmed" not in kinds


def test_a_case_file_holding_safety_keeps_a_lapsed_warning_s_corrections_and_confirmations(people, case, settings):
    settings.BROBYGGER = {**settings.BROBYGGER, "RETENTION_CASE_FILE_CATEGORIES": WITH_SAFETY}
    note = _safety_note(people, case)
    services.correct_note(actor=people["recorder"], case=case.pk, note_id=note.pk, text=WORDS + ".", version=1)
    _confirm(people, case, note)
    Note.objects.filter(pk=note.pk).update(
        created_at=timezone.now() - datetime.timedelta(days=800),
        corrected_at=timezone.now() - datetime.timedelta(days=700),
        confirmed_at=timezone.now() - datetime.timedelta(days=600),
    )
    kinds = _kinds_in_case_file(case)
    assert (kinds.count("note_corrected"), kinds.count("safety_confirmed")) == (1, 1)
    (kept,) = archive.iter_case_file_notes(case, rules_for_process(case.process_key))
    assert kept.text == WORDS + "." and kept.lapsed_on is not None  # kept, marked lapsed


def _closed_days_ago(case, days: int) -> Case:
    Case.objects.filter(pk=case.pk).update(
        status=CaseStatus.COMPLETED, closed_at=timezone.now() - datetime.timedelta(days=days)
    )
    return Case.objects.get(pk=case.pk)


def _fields_in_case_file(case) -> dict[str, str]:
    entries = archive.case_file_fields(case, rules_for_process(case.process_key))
    return {title: read for _category, title, _words, read in entries}


def test_a_closed_case_s_file_says_which_warnings_were_in_force_at_the_close(people, case, settings):
    settings.BROBYGGER = {**settings.BROBYGGER, "RETENTION_CASE_FILE_CATEGORIES": WITH_SAFETY}
    task = Task.objects.get(case=case, element_id="T_warn")
    services.complete_task(actor=people["recorder"], task_id=task.pk, data={"trussel": WORDS})
    in_force = _safety_note(people, case, days_ago=400)  # 300 days old at the close: in force then
    lapsed = _safety_note(people, case, days_ago=500)  # 400 days old at the close: lapsed then
    Case.objects.filter(pk=case.pk).update(
        data_recorded_at={"trussel": (timezone.now() - datetime.timedelta(days=400)).isoformat()}
    )
    closed = _closed_days_ago(case, 100)

    notes = {
        n.written_at: n.lapsed_on for n in archive.iter_case_file_notes(closed, rules_for_process("Proc_file_warn"))
    }
    assert notes[in_force.created_at] is None  # old: marked lapsed, by today's date
    assert notes[lapsed.created_at] == policy.lapses_on(lapsed.created_at, 365)
    assert "advarsel utløpt" not in str(_fields_in_case_file(closed))  # old: marked lapsed

    Case.objects.filter(pk=case.pk).update(
        data_recorded_at={"trussel": (timezone.now() - datetime.timedelta(days=500)).isoformat()}
    )
    closed = Case.objects.get(pk=case.pk)
    assert "advarsel utløpt" in str(_fields_in_case_file(closed))  # lapsed before the close: marked
