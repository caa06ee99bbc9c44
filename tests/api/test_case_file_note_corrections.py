"""The case file handed to the archive tells no more of a note it leaves out than the timeline
tells a reader who is shown the note masked (``tests/api/test_timeline_note_corrections.py``):
no note of economy is in the case file (identity, housing and coordination by default), yet it
listed each time NAV corrected its economy note, with the moment and NAV's name. A note of a
category the case file holds keeps its corrections there."""

import pytest
from django.utils import timezone

from retention import archive
from tests.api.test_notes_api import notes_url, post_note
from tests.api.test_timeline_note_corrections import _corrected, people  # noqa: F401 (a fixture)
from tests.retention.pdfa import text_of
from workflows.models import Case

pytestmark = pytest.mark.django_db


def _events_in_the_case_file(case) -> str:
    return text_of(archive.case_file(Case.objects.get(pk=case.pk), timezone.now())[0])


def test_the_case_file_lists_no_correction_of_a_note_it_leaves_out(people, prison_case):  # noqa: F811
    _corrected(people, prison_case, times=3)  # NAV's economy note, corrected three times
    coordinator = people["housing"]
    note = post_note(coordinator, prison_case, category="coordination").json()
    answer = coordinator.post(
        f"{notes_url(prison_case)}{note['id']}/correct/", {"text": "Rettet", "version": 1}, format="json"
    )
    assert answer.status_code == 200, answer.json()

    text = _events_in_the_case_file(prison_case)
    assert text.count("Notat skrevet") == 2, text  # both notes were written
    assert text.count("Notat rettet") == 1, text  # the coordination note's correction only (old: 4)
