"""A safety note or attachment out of time tells the participants who do not keep it only that
a warning lapsed, and when (h-safety3): no file name, type, size, writer or uploader. What
happened to it afterwards, or before, does not tell them either (h-attack35):

- a lapsed safety file its uploader withdraws (a new one added in its place) was listed again
  with its uploader, and the timeline gave its type, size and uploader back, as for a file
  that never was a warning;
- a safety note confirmed again by its writer named the writer in the timeline's
  ``safety_confirmed`` event once it lapsed again;
- a note written under another category and corrected into ``safety`` named its writer in
  its ``note_added`` event once it lapsed;
- a lapsed safety note's ``note_corrected`` events stood in the timeline and on the case page
  with their times (until h-lapsedcorr), though the note list gives the others no version
  and no time of correction: NAV counted how often, and read when, the prison rewrote it.

Its agency and the case's coordinator keep all of it."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.api.test_safety_attachments import _listed, _warning_file
from tests.api.test_safety_attachments import case as case
from tests.api.test_safety_attachments import people as people
from tests.clients import api, web
from workflows import services
from workflows.models import Event
from workflows.notes import Note

pytestmark = pytest.mark.django_db

WARNING = "Truet saksbehandler med kniv i resepsjonen"
LONG_AGO = datetime.timedelta(days=400)


def _timeline(user, case) -> list[dict]:
    answer = api(user).get(reverse("api-case-timeline", args=[case.pk]))
    assert answer.status_code == 200, answer.content
    return answer.json()["results"]


def _events_of(user, case, key, pk) -> dict[str, dict]:
    return {event["kind"]: event for event in _timeline(user, case) if event["detail"].get(key) == pk}


def test_a_lapsed_safety_file_withdrawn_tells_the_others_no_more_than_before(people, case):
    attachment = _warning_file(people, case)
    services.withdraw_attachment(actor=people["recorder"], case=case.pk, attachment_id=attachment.pk)
    uploader = people["recorder"]
    nav = people["other"]

    entry = _listed(nav, case, attachment)
    assert (entry["visible"], entry["uploaded_by"], entry["size"], entry["filename"]) == (False, None, None, None)
    html = web(nav).get(reverse("case", args=[case.pk])).content.decode()
    assert uploader.first_name not in html

    events = _events_of(nav, case, "attachment", attachment.pk)
    added, withdrawn = events["attachment_added"], events["attachment_withdrawn"]
    assert "content_type" not in added["detail"] and "size" not in added["detail"], added
    assert added["actor"] is None and withdrawn["actor"] is None, events

    for keeper in ("recorder", "coordinator"):
        entry = _listed(people[keeper], case, attachment)
        assert (entry["visible"], entry["uploaded_by"]) == (True, uploader.username), keeper
        kept = _events_of(people[keeper], case, "attachment", attachment.pk)
        assert kept["attachment_added"]["actor"] == uploader.username, keeper
        assert kept["attachment_added"]["detail"]["size"] > 0, keeper


def test_a_lapsed_safety_note_confirmed_by_its_writer_does_not_name_the_writer(people, case):
    writer = people["recorder"]
    note = services.add_note(actor=writer, case=case.pk, text=WARNING, category="safety")
    services.confirm_safety_note(actor=writer, case=case.pk, note_id=note.pk)
    long_ago = timezone.now() - LONG_AGO
    Note.objects.filter(pk=note.pk).update(created_at=long_ago, confirmed_at=long_ago)
    Event.objects.filter(case=case, detail__note=note.pk).update(created_at=long_ago)

    # Nor when, nor how often, it was kept: the confirmation is not in their timeline at all.
    others = _events_of(people["other"], case, "note", note.pk)
    assert "safety_confirmed" not in others and others["note_added"]["actor"] is None, others
    for keeper in ("recorder", "coordinator"):
        kept = _events_of(people[keeper], case, "note", note.pk)["safety_confirmed"]
        assert kept["actor"] == writer.username, keeper


def test_a_note_corrected_into_safety_does_not_name_its_writer_once_lapsed(people, case):
    writer = people["recorder"]
    note = services.add_note(actor=writer, case=case.pk, text="Møte avtalt", category="coordination")
    services.correct_note(
        actor=writer, case=case.pk, note_id=note.pk, text=WARNING, category="safety", version=note.version
    )
    long_ago = timezone.now() - LONG_AGO
    Note.objects.filter(pk=note.pk).update(created_at=long_ago, corrected_at=long_ago)
    Event.objects.filter(case=case, detail__note=note.pk).update(created_at=long_ago)

    events = _events_of(people["other"], case, "note", note.pk)
    assert events["note_added"]["actor"] is None and "note_corrected" not in events, events
    for keeper in ("recorder", "coordinator"):
        kept = _events_of(people[keeper], case, "note", note.pk)
        assert kept["note_added"]["actor"] == writer.username, keeper


def _lapsed_corrected_note(writer, case) -> Note:
    note = services.add_note(actor=writer, case=case.pk, text=WARNING, category="safety")
    services.correct_note(actor=writer, case=case.pk, note_id=note.pk, text=f"{WARNING}!", version=1)
    long_ago = timezone.now() - LONG_AGO
    Note.objects.filter(pk=note.pk).update(created_at=long_ago, corrected_at=long_ago)
    Event.objects.filter(case=case, detail__note=note.pk).update(created_at=long_ago)
    return note


def _corrections_on_page(user, case) -> int:
    html = web(user).get(reverse("case-section", args=[case.pk, "events"])).content.decode()
    return html.count("Notat rettet")


def _note_kinds(user, case, note) -> list[str]:
    return [event["kind"] for event in _timeline(user, case) if event["detail"].get("note") == note.pk]


def test_a_lapsed_safety_notes_corrections_are_not_in_the_others_timeline(people, case):
    writer = people["recorder"]
    note = services.add_note(actor=writer, case=case.pk, text=WARNING, category="safety")
    for version in (1, 2):
        services.correct_note(
            actor=writer, case=case.pk, note_id=note.pk, text=f"{WARNING} ({version})", version=version
        )
    # In force, every participant reads the warning, and its corrections.
    in_force = ["note_added", "note_corrected", "note_corrected"]
    for reader in ("other", "recorder", "coordinator"):
        assert _note_kinds(people[reader], case, note) == in_force, reader
        assert _corrections_on_page(people[reader], case) == 2, reader

    long_ago = timezone.now() - LONG_AGO
    Note.objects.filter(pk=note.pk).update(created_at=long_ago, corrected_at=long_ago)
    Event.objects.filter(case=case, detail__note=note.pk).update(created_at=long_ago)

    nav = people["other"]
    listed = api(nav).get(reverse("api-case-notes", args=[case.pk])).json()["results"]
    (entry,) = [n for n in listed if n["id"] == note.pk]
    assert (entry["visible"], entry["version"], entry["corrected_at"]) == (False, None, None)
    assert entry["lapsed_on"] is not None
    # Lapsed: the others are told that it was written, not how often or when it was rewritten.
    assert _note_kinds(nav, case, note) == ["note_added"]
    assert _corrections_on_page(nav, case) == 0
    for keeper in ("recorder", "coordinator"):
        assert _note_kinds(people[keeper], case, note) == in_force, keeper
        assert _corrections_on_page(people[keeper], case) == 2, keeper


def test_leaving_out_lapsed_corrections_reads_no_more_per_note(people, case):
    """One statement finds the lapsed notes whatever their number: none per note or event."""
    nav, writer = people["other"], people["recorder"]

    def counted() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as timeline:
            assert api(nav).get(reverse("api-case-timeline", args=[case.pk])).status_code == 200
        with CaptureQueriesContext(connection) as page:
            assert web(nav).get(reverse("case-section", args=[case.pk, "events"])).status_code == 200
        return len(timeline), len(page)

    notes = [_lapsed_corrected_note(writer, case)]
    counted()  # the first reads fill the process's caches
    one = counted()
    notes += [_lapsed_corrected_note(writer, case) for _ in range(3)]
    assert counted() == one
    assert all(_note_kinds(nav, case, note) == ["note_added"] for note in notes)
