"""The timeline tells no more of a masked note than the note list does. The list gives a note
the reader sees masked no version and no time of correction (when and how often its writer
rewrote it is the writer's history: ``NoteSerializer``), yet every "note corrected" event stood
in the timeline and on the case page, with its time: the health service counted there how
often, and read when, NAV rewrote its masked note on the person's debt. And a note moved out
of a category the reader may not read named that category (``from_category``, and the
category of its "note added"), which the note's history keeps from them
(``notes_policy.notes_for``)."""

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from permissions import rules
from permissions.models import ALL_CATEGORIES, AccessLog, Membership, Role
from tests.api.test_notes_api import notes_url, post_note
from workflows.services import record_consent, revoke_consent

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(agencies, client_for, users):
    """A NAV caseworker who writes, a health worker who reads NAV's notes masked, and a housing
    coordinator who reads them (made here: no demo user)."""
    made = {}
    for name, kind, role in (
        ("nav-skriver", "nav", Role.MEMBER),
        ("helse-leser", "health", Role.MEMBER),
        ("bolig-koord", "housing", Role.COORDINATOR),
    ):
        user = get_user_model().objects.create_user(name, password="x")
        Membership.objects.create(user=user, agency=agencies[kind], role=role)
        users[name] = user
        made[kind] = client_for(name)
    return made


def _note_events(client, case):
    timeline = client.get(reverse("api-case-timeline", args=[case.pk])).json()["results"]
    return [(event["kind"], event["detail"]) for event in timeline if event["kind"].startswith("note_")]


def _corrected(people, case, times=2, **body):
    nav = people["nav"]
    note = post_note(nav, case).json()
    assert note["category"] == "economy"
    base = f"{notes_url(case)}{note['id']}/"
    for version in range(1, times + 1):
        answer = nav.post(f"{base}correct/", {"text": f"Rettet {version}", "version": version, **body}, format="json")
        assert answer.status_code == 200, answer.json()
    return note


def test_a_masked_notes_corrections_are_not_in_the_timeline(people, prison_case):
    note = _corrected(people, prison_case)
    masked = people["health"].get(notes_url(prison_case)).json()["results"][0]
    assert (masked["visible"], masked["version"], masked["corrected_at"]) == (False, None, None)
    # Its category is in the list (masked); the timeline names none it may not read.
    assert _note_events(people["health"], prison_case) == [("note_added", {"note": note["id"]})]
    # Who reads the note reads its corrections, there as in the list.
    kinds = [kind for kind, _detail in _note_events(people["housing"], prison_case)]
    assert kinds == ["note_added", "note_corrected", "note_corrected"]
    assert [kind for kind, _detail in _note_events(people["nav"], prison_case)] == kinds


def test_a_masked_notes_corrections_are_not_on_the_case_page(people, users, prison_case):
    _corrected(people, prison_case, times=3)
    page = Client()
    page.force_login(users["helse-leser"])
    html = page.get(reverse("case-section", args=[prison_case.pk, "events"])).content.decode()
    assert html.count("Notat skrevet") == 1 and "Notat rettet" not in html
    page.force_login(users["bolig-koord"])
    html = page.get(reverse("case-section", args=[prison_case.pk, "events"])).content.decode()
    assert html.count("Notat skrevet") == 1 and html.count("Notat rettet") == 3


def test_a_note_moved_out_of_a_category_the_reader_may_not_read_does_not_name_it(people, prison_case):
    """NAV moves its economy note to coordination: health reads it now, but not that it was
    filed under economy (its earlier text is not in health's history either)."""
    note = _corrected(people, prison_case, times=1, category="coordination")
    shown = people["health"].get(notes_url(prison_case)).json()["results"][0]
    assert (shown["visible"], shown["history"]) == (True, [])
    assert _note_events(people["health"], prison_case) == [
        ("note_added", {"note": note["id"]}),
        ("note_corrected", {"note": note["id"], "category": "coordination"}),
    ]
    # The coordinator, who reads economy, is told where it came from.
    assert _note_events(people["housing"], prison_case) == [
        ("note_added", {"note": note["id"], "category": "economy"}),
        ("note_corrected", {"note": note["id"], "category": "coordination", "from_category": "economy"}),
    ]


def _statements(client, url) -> tuple[object, str]:
    with CaptureQueriesContext(connection) as queries:
        answer = client.get(url)
    assert answer.status_code == 200
    return answer, " ".join(query["sql"] for query in queries.captured_queries)


def test_a_reader_whose_standing_opens_every_category_reads_no_consent_for_notes_or_timeline(
    people, users, agencies, client_for, prison_case
):
    """A caseworker in every agency of the case (the coordinator's among them) sees every
    category by their standing: no consent can change what they are shown, so none is read.
    Until 2026-12-07 the notes and the timeline of a case with a corrected note read the
    person's consents for them on every answer."""
    reader = get_user_model().objects.create_user("alle-etater", password="x")
    for kind in ("prison", "nav", "health", "housing"):
        Membership.objects.create(user=reader, agency=agencies[kind], role=Role.MEMBER)
    users[reader.username] = reader
    access = rules.case_access(reader, prison_case)
    assert all(rules.decide_category(access, category, ()) for category in ALL_CATEGORIES)
    _corrected(people, prison_case)
    restricted = post_note(people["nav"], prison_case, category="restricted").json()
    assert restricted["category"] == "restricted"

    api = client_for(reader.username)
    timeline, sql = _statements(api, reverse("api-case-timeline", args=[prison_case.pk]))
    kinds = [event["kind"] for event in timeline.json()["results"] if event["kind"].startswith("note_")]
    assert kinds == ["note_added", "note_corrected", "note_corrected", "note_added"]
    assert "permissions_consent" not in sql
    notes, sql = _statements(api, notes_url(prison_case))
    assert [note["visible"] for note in notes.json()["results"]] == [True, True]
    assert "permissions_consent" not in sql
    page = Client()
    page.force_login(reader)
    events, sql = _statements(page, reverse("case-section", args=[prison_case.pk, "events"]))
    assert events.content.decode().count("Notat rettet") == 2
    assert "permissions_consent" not in sql


def test_a_consent_opens_a_masked_notes_corrections_in_the_timeline_and_list(
    people, users, agencies, consent_basis, prison_case
):
    """The reader who needs the person's consent: the consents are read for them, and decide
    as before (the note, its history and its corrections shown on the consent's grounds)."""
    note = _corrected(people, prison_case)
    health = people["health"]
    assert _note_events(health, prison_case) == [("note_added", {"note": note["id"]})]
    consent = record_consent(
        actor=users["bolig-koord"],
        case=prison_case.pk,
        agency=agencies["health"].pk,
        categories=["economy"],
        purpose="Oppfølging av gjeld",
        legal_basis=consent_basis,
    )
    shown, sql = _statements(health, notes_url(prison_case))
    assert "permissions_consent" in sql
    shown = shown.json()["results"][0]
    assert (shown["visible"], shown["version"], len(shown["history"])) == (True, 3, 2)
    row = AccessLog.objects.filter(user=users["helse-leser"], item="notes").latest("id")
    assert (row.category, row.basis, row.consent_id) == ("economy", f"consent:{consent.pk}", consent.pk)
    assert [kind for kind, _detail in _note_events(health, prison_case)] == [
        "note_added",
        "note_corrected",
        "note_corrected",
    ]
    revoke_consent(actor=users["bolig-koord"], consent_id=consent.pk)
    assert _note_events(health, prison_case) == [("note_added", {"note": note["id"]})]
    assert health.get(notes_url(prison_case)).json()["results"][0]["visible"] is False
