"""A note of category ``safety`` is a warning for staff, and lapses as a safety field does
(domain.md: minimal, factual, time-limited).

``SAFETY_WARNING_DAYS`` Oslo days after it was written, corrected or last confirmed, the other
participants are told only that a warning lapsed, and when: no text, no history, and no
access-log row of a read of it. Its agency and the case's coordinator keep it
(``rules.decide_lapsed_warning``, the rule of fields), confirm it again or withdraw it. Until
h-safetynotes a warning note labelled the person to every participant for ever."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from permissions import policy
from permissions.models import AccessLog, Role
from tests.api.test_safety_warnings import warning_case, warning_people
from tests.clients import api, web
from workflows import services
from workflows.models import Event, EventKind
from workflows.notes import Note

pytestmark = pytest.mark.django_db

WARNING = "Slo etter saksbehandler med stol under møtet"
CORRECTED = "Truet saksbehandler muntlig under møtet"


@pytest.fixture
def people(agencies, django_user_model):
    return warning_people(django_user_model, agencies, "notatvarsel")


@pytest.fixture
def case(people, agencies):
    return warning_case(people, agencies, "Proc_note_warn")


def _warning_note(people, case, *, days_ago=400, text=WARNING) -> Note:
    note = services.add_note(actor=people["recorder"], case=case.pk, text=text, category="safety")
    Note.objects.filter(pk=note.pk).update(created_at=timezone.now() - datetime.timedelta(days=days_ago))
    return Note.objects.get(pk=note.pk)


def _note_as(user, case, note) -> dict:
    listed = api(user).get(reverse("api-case-notes", args=[case.pk]))
    assert listed.status_code == 200, listed.content
    one = api(user).get(reverse("api-case-note", args=[case.pk, note.pk]))
    assert one.status_code == 200, one.content
    (entry,) = [n for n in listed.json()["results"] if n["id"] == note.pk]
    assert entry == one.json()
    return entry


def _safety_reads(case) -> int:
    return AccessLog.objects.filter(case=case, category="safety", action="read").count()


def test_a_lapsed_warning_note_tells_another_agency_only_that_it_lapsed(people, case):
    note = _warning_note(people, case)
    lapsed_on = policy.lapses_on(note.created_at, 365)
    reads = _safety_reads(case)

    shown = _note_as(people["other"], case, note)
    assert (shown["visible"], shown["text"], shown["author"], shown["history"]) == (False, None, None, [])
    assert shown["lapsed_on"] == str(lapsed_on)
    assert shown["confirmable"] is False
    assert _safety_reads(case) == reads  # nothing was read

    page = web(people["other"]).get(reverse("case", args=[case.pk])).content.decode()
    assert WARNING not in page
    assert "En advarsel som utløp" in page
    assert reverse("note-confirm", args=[case.pk, note.pk]) not in page
    assert WARNING not in web(people["other"]).get(reverse("case-notes", args=[case.pk])).content.decode()

    for keeper in ("recorder", "coordinator"):
        kept = _note_as(people[keeper], case, note)
        assert (kept["visible"], kept["text"], kept["lapsed_on"], kept["confirmable"]) == (
            True,
            WARNING,
            str(lapsed_on),
            True,
        ), keeper
        page = web(people[keeper]).get(reverse("case", args=[case.pk])).content.decode()
        assert WARNING in page and reverse("note-confirm", args=[case.pk, note.pk]) in page, keeper
    assert _safety_reads(case) > reads


def test_a_warning_note_in_force_says_until_when(people, case):
    note = _warning_note(people, case, days_ago=10)
    shown = _note_as(people["other"], case, note)
    assert (shown["visible"], shown["text"], shown["lapsed_on"]) == (True, WARNING, None)
    assert shown["valid_until"] == str(policy.lapses_on(note.created_at, 365) - datetime.timedelta(days=1))


def test_confirming_a_warning_note_renews_it_for_everyone(people, case):
    note = _warning_note(people, case)
    url = reverse("api-note-confirm", args=[case.pk, note.pk])

    refused = api(people["other"]).post(url, {"version": note.version}, format="json")
    assert refused.status_code == 403, refused.content
    assert WARNING not in refused.content.decode()
    assert _note_as(people["other"], case, note)["text"] is None

    answer = api(people["recorder"]).post(url, {"version": note.version}, format="json")
    assert answer.status_code == 200, answer.content
    assert answer.json()["lapsed_on"] is None and answer.json()["valid_until"]

    assert _note_as(people["other"], case, note)["text"] == WARNING
    event = Event.objects.get(case=case, kind=EventKind.SAFETY_CONFIRMED)
    assert (event.actor, event.agency_id, event.detail) == (
        people["recorder"],
        note.agency_id,
        {"note": note.pk, "category": "safety"},
    )
    writes = AccessLog.objects.filter(case=case, item=f"note:{note.pk}", action="write", user=people["recorder"])
    assert writes.count() == 2  # written, then confirmed
    assert (writes.latest("id").category, writes.latest("id").basis) == ("safety", "own-data")


def test_the_coordinator_confirms_on_the_case_page_and_a_note_of_another_category_is_400(people, case):
    note = _warning_note(people, case)
    answer = web(people["coordinator"]).post(
        reverse("note-confirm", args=[case.pk, note.pk]), {"version": note.version}, follow=True
    )
    assert answer.status_code == 200
    assert "Advarselen er bekreftet" in answer.content.decode()
    assert _note_as(people["other"], case, note)["text"] == WARNING

    plain = services.add_note(actor=people["recorder"], case=case.pk, text="Møte avtalt", category="coordination")
    wrong = api(people["coordinator"]).post(reverse("api-note-confirm", args=[case.pk, plain.pk]), {}, format="json")
    assert wrong.status_code == 400, wrong.content
    assert wrong.json()["errors"][0]["field"] == "note"


def test_a_correction_renews_the_warning_and_its_lapsed_text_stays_hidden(people, case):
    note = _warning_note(people, case)
    answer = api(people["recorder"]).post(
        reverse("api-note-correct", args=[case.pk, note.pk]), {"text": CORRECTED, "version": 1}, format="json"
    )
    assert answer.status_code == 200, answer.content

    shown = _note_as(people["other"], case, note)
    assert shown["text"] == CORRECTED
    assert shown["lapsed_on"] is None
    assert WARNING not in str(shown)  # the earlier text lapsed when it would have
    assert WARNING in str(_note_as(people["recorder"], case, note)["history"])


def test_the_coordinator_withdraws_another_agency_s_warning_note_but_does_not_rewrite_it(people, case):
    note = _warning_note(people, case)
    rewrite = api(people["coordinator"]).post(
        reverse("api-note-correct", args=[case.pk, note.pk]), {"text": "Rolig", "version": 1}, format="json"
    )
    assert rewrite.status_code == 403, rewrite.content
    refused = api(people["other"]).post(reverse("api-note-withdraw", args=[case.pk, note.pk]), {}, format="json")
    assert refused.status_code == 403, refused.content

    answer = api(people["coordinator"]).post(
        reverse("api-note-withdraw", args=[case.pk, note.pk]), {"version": 1}, format="json"
    )
    assert answer.status_code == 200, answer.content
    assert Note.objects.get(pk=note.pk).is_withdrawn
    event = Event.objects.get(case=case, kind=EventKind.NOTE_WITHDRAWN)
    assert (event.actor, event.detail.get("by_coordinator")) == (people["coordinator"], True)


def test_the_archive_keeps_a_lapsed_warning_note_marked_as_lapsed(people, case, settings):
    from retention import archive, case_file_notes
    from retention.rules import rules_for_process

    settings.BROBYGGER = {
        **settings.BROBYGGER,
        "RETENTION_CASE_FILE_CATEGORIES": ("identity", "housing", "coordination", "safety"),
    }
    note = _warning_note(people, case)
    fresh = _warning_note(people, case, days_ago=3, text=CORRECTED)
    notes = list(archive.iter_case_file_notes(case, rules_for_process(case.process_key)))
    assert [(n.text, n.lapsed_on) for n in notes] == [
        (WARNING, policy.lapses_on(note.created_at, 365)),
        (CORRECTED, None),
    ]
    assert fresh.created_at > note.created_at
    _shown, xml, _categories = case_file_notes.build(notes, case.reference)
    case_file_notes.validate_notes(xml)
    assert f"<advarselUtlopt>{policy.lapses_on(note.created_at, 365).isoformat()}</advarselUtlopt>" in xml.decode()


def test_the_timeline_names_the_writer_of_a_lapsed_warning_note_only_to_its_keepers(people, case):
    """The list shows another agency no author of a lapsed warning note; until h-safety3 the
    API's timeline named them on the note's event all the same."""
    note = _warning_note(people, case)

    def actor_as(user):
        answer = api(user).get(reverse("api-case-timeline", args=[case.pk]))
        assert answer.status_code == 200, answer.content
        (added,) = [e for e in answer.json()["results"] if e["kind"] == "note_added" and e["detail"]["note"] == note.pk]
        return added["actor"]

    assert actor_as(people["other"]) is None
    assert actor_as(people["coordinator"]) == people["recorder"].get_username()
    fresh = _warning_note(people, case, days_ago=3, text=CORRECTED)
    answer = api(people["other"]).get(reverse("api-case-timeline", args=[case.pk]))
    (added,) = [e for e in answer.json()["results"] if e["kind"] == "note_added" and e["detail"]["note"] == fresh.pk]
    assert added["actor"] == people["recorder"].get_username()  # in force: named, as in the list


def test_a_note_corrected_out_of_safety_into_a_masked_category_shows_no_confirmation(people, case):
    """NAV is shown the prison's justice note masked (no version, no time of correction); a
    note corrected out of ``safety`` kept in NAV's timeline each time it was confirmed as a
    warning, naming it (until h-safety4): left out by the note's id, as its corrections are."""
    note = _warning_note(people, case, days_ago=3)
    services.confirm_safety_note(actor=people["recorder"], case=case.pk, note_id=note.pk)
    services.correct_note(
        actor=people["recorder"], case=case.pk, note_id=note.pk, text="Dom sonet", version=2, category="justice"
    )

    def kinds_as(user):
        answer = api(user).get(reverse("api-case-timeline", args=[case.pk]))
        assert answer.status_code == 200, answer.content
        events = answer.json()["results"]
        return [e["kind"] for e in events if e["kind"] in ("note_corrected", "safety_confirmed")]

    assert kinds_as(people["other"]) == []
    assert kinds_as(people["recorder"]) == ["safety_confirmed", "note_corrected"]
    page = web(people["other"]).get(reverse("case-section", args=[case.pk, "events"])).content.decode()
    assert "Advarsel bekreftet" not in page and "Notat rettet" not in page


def _prison_withdrawn(people, agencies, case):
    from workflows.models import Task

    task = Task.objects.get(case=case, element_id="T_warn")
    services.complete_task(actor=people["recorder"], task_id=task.pk, data={"trussel": "Ingen"})
    services.withdraw_agency(
        actor=people["coordinator"], case=case.pk, agency=agencies["prison"].pk, reason="Løslatt, ferdig"
    )


def test_the_coordinator_confirms_and_withdraws_the_warning_note_of_an_agency_withdrawn_from_the_case(
    people, case, agencies, django_user_model
):
    """The coordinator keeps every warning of the case (``rules.decide_lapsed_warning``), that of
    an agency withdrawn from it too: they answer for it alone once its agency is gone (until
    h-safety4 both answered 404, as to the withdrawn agency's own people). Nobody else gains it:
    another participant, or a member of the coordinating agency who is no coordinator, 403."""
    from tests.api.test_safety_warnings import _worker

    note = _warning_note(people, case)
    _prison_withdrawn(people, agencies, case)
    housing_member = _worker(django_user_model, agencies["housing"], Role.MEMBER, "bolig-medlem-notatvarsel")
    confirm = reverse("api-note-confirm", args=[case.pk, note.pk])
    withdraw = reverse("api-note-withdraw", args=[case.pk, note.pk])
    for user in (people["other"], housing_member):
        for url in (confirm, withdraw):
            refused = api(user).post(url, {"version": note.version}, format="json")
            assert refused.status_code == 403, (user, url, refused.content)
            assert WARNING not in refused.content.decode()
    assert api(people["recorder"]).post(confirm, {}, format="json").status_code == 404  # withdrawn: sees no case

    kept = _note_as(people["coordinator"], case, note)
    assert (kept["text"], kept["confirmable"]) == (WARNING, True)
    answer = api(people["coordinator"]).post(confirm, {"version": note.version}, format="json")
    assert answer.status_code == 200, answer.content  # old: 404
    assert _note_as(people["other"], case, note)["text"] == WARNING  # in force again
    confirmed = Event.objects.get(case=case, kind=EventKind.SAFETY_CONFIRMED)
    assert confirmed.agency_id == agencies["housing"].pk

    answer = web(people["coordinator"]).post(
        reverse("note-withdraw", args=[case.pk, note.pk]), {"version": note.version + 1}, follow=True
    )
    assert answer.status_code == 200  # old: 404
    assert Note.objects.get(pk=note.pk).is_withdrawn
    event = Event.objects.get(case=case, kind=EventKind.NOTE_WITHDRAWN)
    assert (event.actor, event.detail.get("by_coordinator")) == (people["coordinator"], True)
