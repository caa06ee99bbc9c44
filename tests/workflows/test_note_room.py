"""A case holds a bounded number of notes, characters of notes and corrections per agency,
as it does files: a participant (or a script with a token) could write 4,000-character note
after note, or correct one note back and forth, each write a row, a timeline event and an
access-log row, until the database's disk, which every agency shares, was full. A refusal
is 400 naming ``text`` and writes nothing."""

import pytest

from core.errors import InvalidInput
from permissions.models import AccessLog
from workflows import services
from workflows.models import Event
from workflows.notes import Note, NoteRevision

from .helpers import start_prison_case

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(users, agencies, shipped):
    return start_prison_case(users, agencies)


def _write(users, case, text="Ringte utleier; visning avtalt", name="bjorn"):
    return services.add_note(actor=users[name], case=case.pk, text=text)


def _written(case) -> tuple[int, int, int, int]:
    return (
        Note.objects.filter(case=case).count(),
        NoteRevision.objects.filter(note__case=case).count(),
        Event.objects.filter(case=case).count(),
        AccessLog.objects.filter(case=case, action="write").count(),
    )


def _refused(call) -> tuple[list, str]:
    with pytest.raises(InvalidInput) as refused:
        call()
    return [(error["field"], error["code"]) for error in refused.value.errors], refused.value.errors[0]["message"]


def test_an_agency_writes_at_most_so_many_notes_in_a_case_withdrawn_ones_too(users, case, settings):
    settings.NOTE_CASE_MAX_COUNT = 2
    first = _write(users, case)
    services.withdraw_note(actor=users["bjorn"], case=case.pk, note_id=first.pk)
    _write(users, case)
    before = _written(case)
    codes, message = _refused(lambda: _write(users, case))
    assert codes == [("text", "note.case_count_full")] and "2" in message
    assert _written(case) == before  # no note, no event, no log row


def test_corrections_count_as_texts_written(users, case, settings):
    """A correction is a row, an event and an access-log row like a new note: one note
    corrected back and forth filled the database as fast as new notes did."""
    settings.NOTE_CASE_MAX_COUNT = 3
    note = _write(users, case, text="v1")
    for version in (1, 2):
        text = f"v{version + 1}"
        services.correct_note(actor=users["bjorn"], case=case.pk, note_id=note.pk, text=text, version=version)
    before = _written(case)
    assert _refused(lambda: _write(users, case))[0] == [("text", "note.case_count_full")]
    refusal = lambda: services.correct_note(  # noqa: E731
        actor=users["bjorn"], case=case.pk, note_id=note.pk, text="v4", version=3
    )
    assert _refused(refusal)[0] == [("text", "note.case_count_full")]
    assert _written(case) == before


def test_the_room_is_each_agency_s_own(users, case, settings):
    settings.NOTE_CASE_MAX_COUNT = 1
    _write(users, case, name="kari")  # the prison's
    _write(users, case)  # the housing contact's own first note, whatever the prison wrote
    assert _refused(lambda: _write(users, case))[0] == [("text", "note.case_count_full")]


def test_an_agency_s_notes_hold_at_most_so_many_characters_earlier_versions_included(users, case, settings):
    settings.NOTE_CASE_MAX_CHARS = 100
    note = _write(users, case, text="a" * 60)
    # A correction keeps the old text: 60 kept + 40 now = 100, the most.
    services.correct_note(actor=users["bjorn"], case=case.pk, note_id=note.pk, text="b" * 40, version=1)
    before = _written(case)
    assert _refused(lambda: _write(users, case, text="c"))[0] == [("text", "note.case_chars_full")]
    refusal = lambda: services.correct_note(  # noqa: E731
        actor=users["bjorn"], case=case.pk, note_id=note.pk, text="d", version=2
    )
    assert _refused(refusal)[0] == [("text", "note.case_chars_full")]
    assert _written(case) == before
    assert Note.objects.get(pk=note.pk).text == "b" * 40
    # Withdrawing moves the text to the history: it frees nothing, and is never refused.
    services.withdraw_note(actor=users["bjorn"], case=case.pk, note_id=note.pk)
    assert _refused(lambda: _write(users, case, text="e"))[0] == [("text", "note.case_chars_full")]


def test_a_note_is_corrected_at_most_so_many_times(users, case, settings):
    settings.NOTE_MAX_CORRECTIONS = 2
    note = _write(users, case, text="v1")
    for version in (1, 2):
        text = f"v{version + 1}"
        services.correct_note(actor=users["bjorn"], case=case.pk, note_id=note.pk, text=text, version=version)
    before = _written(case)
    codes, message = _refused(
        lambda: services.correct_note(actor=users["bjorn"], case=case.pk, note_id=note.pk, text="v4", version=3)
    )
    assert codes == [("text", "note.corrections_full")] and "2" in message
    assert _written(case) == before and Note.objects.get(pk=note.pk).text == "v3"
    services.withdraw_note(actor=users["bjorn"], case=case.pk, note_id=note.pk)  # still possible
