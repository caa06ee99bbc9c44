"""Notes on a case through the services and selectors, as the demo cast.

The prison case has prison (kari), NAV (nils, nora), health (helga) and housing (bjorn,
the coordinator) taking part; the hospital (siri) and the municipality (mona) do not; ada
(process admin), aud (auditor) and oscar (no agency) see no case data.
"""

import pytest

from core.errors import Conflict, Forbidden, InvalidInput, NotFound
from permissions.models import AccessAction, AccessLog
from tests.threads import all_at_once
from tests.workflows.helpers import start_prison_case
from workflows import note_selectors, services
from workflows.models import CaseStatus, Event, EventKind
from workflows.notes import Note

SECRET = "Har 40 000 kr i gjeld til Lindorff"
HEALTH_SECRET = "Innlagt på avrusning i mars"


@pytest.fixture
def case(users, agencies, shipped):
    return start_prison_case(users, agencies)


def shown(user, case):
    """{note id: (visible, text, reason)} as ``user`` sees the case's notes."""
    return {
        view.item.pk: (view.visible, view.text, view.reason)
        for view in note_selectors.notes_for_case(actor=user, case=case.pk)
    }


def field_codes(excinfo):
    return {(error["field"], error["code"]) for error in excinfo.value.errors}


def test_a_nav_note_is_economy_seen_by_nav_and_the_coordinator_and_masked_for_others(users, case):
    note = services.add_note(actor=users["nils"], case=case.pk, text=SECRET)
    assert note.category == "economy" and note.agency.kind == "nav"

    assert shown(users["nils"], case)[note.pk] == (True, SECRET, None)
    assert shown(users["nora"], case)[note.pk][:2] == (True, SECRET)  # same agency: own service
    assert shown(users["bjorn"], case)[note.pk][:2] == (True, SECRET)  # coordinator sees economy
    for name in ("helga", "kari"):
        visible, text, reason = shown(users[name], case)[note.pk]
        assert (visible, text) == (False, None)
        assert "samtykke" in reason or "consent" in reason
        assert SECRET not in reason


def test_consent_opens_a_note_and_its_withdrawal_closes_it_at_once(users, agencies, case, consent_basis):
    note = services.add_note(actor=users["helga"], case=case.pk, text=HEALTH_SECRET)
    assert note.category == "health"
    assert shown(users["nils"], case)[note.pk][0] is False
    assert shown(users["bjorn"], case)[note.pk][0] is False  # the coordinator sees no health without consent

    consent = services.record_consent(
        actor=users["bjorn"],
        case=case.pk,
        agency=agencies["nav"].pk,
        categories=["health"],
        purpose="Oppfølging",
        legal_basis=consent_basis,
    )
    assert shown(users["nils"], case)[note.pk] == (True, HEALTH_SECRET, None)
    row = AccessLog.objects.filter(user=users["nils"], item="notes").latest("id")
    assert (row.category, row.basis, row.consent_id) == ("health", f"consent:{consent.pk}", consent.pk)

    services.revoke_consent(actor=users["bjorn"], consent_id=consent.pk)
    assert shown(users["nils"], case)[note.pk][:2] == (False, None)


def test_every_read_of_a_visible_note_is_logged_and_masked_reads_are_not(users, case):
    services.add_note(actor=users["nils"], case=case.pk, text=SECRET)
    services.add_note(actor=users["nils"], case=case.pk, text="Søknad om depositum sendt")
    before = AccessLog.objects.count()

    note_selectors.notes_for_case(actor=users["bjorn"], case=case.pk)
    rows = list(AccessLog.objects.order_by("id")[before:])
    # one row per category and basis of one answer, as for case data
    assert [(r.username, r.category, r.basis, r.action, r.item) for r in rows] == [
        ("bjorn", "economy", "coordinator", AccessAction.READ, "notes")
    ]

    note_selectors.notes_for_case(actor=users["bjorn"], case=case.pk)
    assert AccessLog.objects.count() == before + 2  # every read, not only the first

    note_selectors.notes_for_case(actor=users["helga"], case=case.pk)  # all masked
    assert AccessLog.objects.count() == before + 2


def test_writing_a_note_is_logged_and_on_the_timeline_without_its_text(users, case):
    note = services.add_note(actor=users["nils"], case=case.pk, text=SECRET)
    event = Event.objects.get(case=case, kind=EventKind.NOTE_ADDED)
    assert event.detail == {"note": note.pk, "category": "economy"}
    assert event.agency.kind == "nav" and event.actor == users["nils"]
    assert SECRET not in str(event.detail)
    row = AccessLog.objects.get(action=AccessAction.WRITE, item=f"note:{note.pk}")
    assert (row.username, row.category) == ("nils", "economy")


def test_the_writer_chooses_among_the_categories_its_agency_may_write(users, agencies, case, consent_basis):
    form = note_selectors.note_form_for(actor=users["nils"], case=case.pk)
    nav = agencies["nav"].pk
    assert form.defaults[nav] == "economy"
    assert form.categories[nav] == ["economy", "coordination", "safety", "restricted"]
    coordinator = note_selectors.note_form_for(actor=users["bjorn"], case=case.pk)
    assert coordinator.categories[agencies["housing"].pk] == [
        "housing",
        "economy",
        "coordination",
        "safety",
        "restricted",
    ]

    with pytest.raises(InvalidInput) as refused:
        services.add_note(actor=users["nils"], case=case.pk, text="Går til lege", category="health")
    assert field_codes(refused) == {("category", "note.category_not_allowed")}
    for bad in ("identity", "secret", 7):
        with pytest.raises(InvalidInput) as refused:
            services.add_note(actor=users["nils"], case=case.pk, text="x", category=bad)
        assert field_codes(refused) == {("category", "note.unknown_category")}
    assert not Note.objects.exists()

    services.record_consent(
        actor=users["bjorn"], case=case.pk, agency=nav, categories=["health"], purpose="P", legal_basis=consent_basis
    )
    assert "health" in note_selectors.note_form_for(actor=users["nils"], case=case.pk).categories[nav]
    assert services.add_note(actor=users["nils"], case=case.pk, text="Går til lege", category="health")


def test_a_restricted_note_is_for_the_writer_and_the_coordinator_only(users, case):
    note = services.add_note(actor=users["helga"], case=case.pk, text="Internt", category="restricted")
    assert shown(users["helga"], case)[note.pk][:2] == (True, "Internt")
    assert shown(users["bjorn"], case)[note.pk][:2] == (True, "Internt")
    visible, text, reason = shown(users["nils"], case)[note.pk]
    assert (visible, text) == (False, None) and "bare etaten som skrev det" in reason


def test_nobody_writes_for_an_agency_they_do_not_act_for(users, agencies, case):
    with pytest.raises(InvalidInput) as refused:
        services.add_note(actor=users["nils"], case=case.pk, text="x", agency=agencies["health"].pk)
    assert field_codes(refused) == {("agency", "note.agency_not_yours")}


@pytest.mark.parametrize(
    "text, code",
    [
        ("", "field.required"),
        ("   ", "field.required"),
        (None, "field.required"),
        (["x"], "field.required"),
        ("x" * 4001, "field.too_long"),
        ("a\x00b", "field.nul"),
    ],
)
def test_bad_text_is_refused_naming_the_field(users, case, text, code):
    with pytest.raises(InvalidInput) as refused:
        services.add_note(actor=users["nils"], case=case.pk, text=text)
    assert field_codes(refused) == {("text", code)}
    assert not Note.objects.exists()


@pytest.mark.parametrize("name", ["ada", "aud", "oscar", "siri", "mona"])
def test_outsiders_and_roles_without_case_data_neither_read_nor_write(users, case, name):
    note = services.add_note(actor=users["nils"], case=case.pk, text=SECRET)
    with pytest.raises(NotFound):
        services.add_note(actor=users[name], case=case.pk, text="x")
    with pytest.raises(NotFound):
        note_selectors.notes_for_case(actor=users[name], case=case.pk)
    with pytest.raises(NotFound):
        note_selectors.note_for(actor=users[name], case=case.pk, note_id=note.pk)
    with pytest.raises(NotFound):
        services.correct_note(actor=users[name], case=case.pk, note_id=note.pk, text="y", version=1)
    with pytest.raises(NotFound):
        services.withdraw_note(actor=users[name], case=case.pk, note_id=note.pk)
    assert Note.objects.get().text == SECRET


def test_a_note_of_another_case_is_not_found_through_this_one(users, agencies, case):
    other = start_prison_case(users, agencies, person={"name": "Per", "national_id": "29822099635"})
    note = services.add_note(actor=users["nils"], case=other.pk, text=SECRET)
    with pytest.raises(NotFound):
        note_selectors.note_for(actor=users["nils"], case=case.pk, note_id=note.pk)
    with pytest.raises(NotFound):
        services.correct_note(actor=users["nils"], case=case.pk, note_id=note.pk, text="y", version=1)


def test_only_the_author_corrects_and_the_old_text_is_kept(users, case):
    note = services.add_note(actor=users["nils"], case=case.pk, text="Første tekst")
    for name in ("nora", "bjorn", "kari"):  # same agency, the coordinator, another agency
        with pytest.raises(Forbidden):
            services.correct_note(actor=users[name], case=case.pk, note_id=note.pk, text="Endret", version=1)

    corrected = services.correct_note(actor=users["nils"], case=case.pk, note_id=note.pk, text="Rettet", version=1)
    assert (corrected.text, corrected.version) == ("Rettet", 2)
    view = note_selectors.note_for(actor=users["bjorn"], case=case.pk, note_id=note.pk)
    assert view.text == "Rettet"
    assert [(r.version, r.text, r.change) for r in view.history] == [(1, "Første tekst", "corrected")]
    assert Event.objects.filter(case=case, kind=EventKind.NOTE_CORRECTED).get().detail == {
        "note": note.pk,
        "category": "economy",
    }

    with pytest.raises(Conflict) as stale:
        services.correct_note(actor=users["nils"], case=case.pk, note_id=note.pk, text="Gammel visning", version=1)
    assert stale.value.code == "note.changed"
    with pytest.raises(InvalidInput) as refused:
        services.correct_note(actor=users["nils"], case=case.pk, note_id=note.pk, text="x", version=None)
    assert field_codes(refused) == {("version", "note.version_required")}


def test_a_note_moved_to_a_closer_category_no_longer_shows_its_old_text_to_the_wider_audience(
    users, agencies, case, consent_basis
):
    services.record_consent(
        actor=users["bjorn"],
        case=case.pk,
        agency=agencies["nav"].pk,
        categories=["health"],
        purpose="P",
        legal_basis=consent_basis,
    )
    note = services.add_note(actor=users["nils"], case=case.pk, text=HEALTH_SECRET, category="coordination")
    assert shown(users["kari"], case)[note.pk][1] == HEALTH_SECRET  # coordination: every participant
    services.correct_note(
        actor=users["nils"], case=case.pk, note_id=note.pk, text=HEALTH_SECRET, category="health", version=1
    )

    kari = note_selectors.note_for(actor=users["kari"], case=case.pk, note_id=note.pk)
    assert (kari.visible, kari.text, kari.history) == (False, None, ())
    helga = note_selectors.note_for(actor=users["helga"], case=case.pk, note_id=note.pk)
    assert helga.text == HEALTH_SECRET and [r.category for r in helga.history] == ["coordination"]
    event = Event.objects.get(case=case, kind=EventKind.NOTE_CORRECTED)
    assert event.detail == {"note": note.pk, "category": "health", "from_category": "coordination"}


def test_a_withdrawn_note_shows_no_text_keeps_it_in_history_and_cannot_be_withdrawn_twice(users, case):
    note = services.add_note(actor=users["nils"], case=case.pk, text=SECRET)
    services.withdraw_note(actor=users["nils"], case=case.pk, note_id=note.pk)
    assert Note.objects.get(pk=note.pk).text == ""
    view = note_selectors.note_for(actor=users["bjorn"], case=case.pk, note_id=note.pk)
    assert view.text is None and view.item.is_withdrawn
    assert [(r.text, r.change) for r in view.history] == [(SECRET, "withdrawn")]
    assert note_selectors.note_for(actor=users["helga"], case=case.pk, note_id=note.pk).history == ()

    with pytest.raises(Conflict) as twice:
        services.withdraw_note(actor=users["nils"], case=case.pk, note_id=note.pk)
    assert twice.value.code == "note.withdrawn"
    with pytest.raises(Conflict):
        services.correct_note(actor=users["nils"], case=case.pk, note_id=note.pk, text="x", version=2)


def test_no_notes_are_added_to_a_closed_case(users, case):
    case.status = CaseStatus.COMPLETED
    case.save(update_fields=["status"])
    with pytest.raises(Conflict) as closed:
        services.add_note(actor=users["nils"], case=case.pk, text="x")
    assert closed.value.code == "note.case_closed"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_of_two_corrections_at_once_exactly_one_wins(users, agencies, shipped):
    case = start_prison_case(users, agencies)
    note = services.add_note(actor=users["nils"], case=case.pk, text="Start")

    def correct(text):
        return lambda: services.correct_note(actor=users["nils"], case=case.pk, note_id=note.pk, text=text, version=1)

    outcomes = all_at_once([correct("A"), correct("B"), correct("C")])
    winners = [o for o in outcomes if isinstance(o, Note)]
    assert len(winners) == 1
    assert all(isinstance(o, Conflict) and o.code == "note.changed" for o in outcomes if o not in winners)
    stored = Note.objects.get(pk=note.pk)
    assert (stored.text, stored.version) == (winners[0].text, 2)
    assert stored.revisions.count() == 1


@pytest.mark.parametrize("change", ["correct", "withdraw"])
def test_a_note_is_not_changed_for_an_agency_withdrawn_while_the_change_waited(
    users, agencies, case, monkeypatch, change
):
    # The race: nils's change has found him the note's author in NAV, then the coordinator's
    # withdrawal of NAV commits (it holds the case) before the change takes the case's lock.
    from permissions import rules

    note = services.add_note(actor=users["nils"], case=case.pk, text=SECRET)
    may_change = rules.can_change_note

    def withdrawn_meanwhile(user, item):
        allowed = may_change(user, item)
        services.withdraw_agency(actor=users["bjorn"], case=case.pk, agency=agencies["nav"].pk, reason="Ferdig")
        return allowed

    monkeypatch.setattr(rules, "can_change_note", withdrawn_meanwhile)
    with pytest.raises(NotFound):
        if change == "correct":
            services.correct_note(actor=users["nils"], case=case.pk, note_id=note.pk, text="Endret", version=1)
        else:
            services.withdraw_note(actor=users["nils"], case=case.pk, note_id=note.pk)
    note.refresh_from_db()
    assert (note.text, note.version, note.withdrawn_at) == (SECRET, 1, None)
    assert not Event.objects.filter(kind__in=[EventKind.NOTE_CORRECTED, EventKind.NOTE_WITHDRAWN]).exists()
