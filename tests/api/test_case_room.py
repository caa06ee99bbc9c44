"""What a user adds to a case is bounded (notes, their characters and corrections, sharings;
files already were): over the API a refusal is 400 with a code, in bokmål for a client that
asks for it, naming the field, and nothing of it is written. Two writers at once never
overshoot a limit: the room is read with the case row held."""

import pytest

from core.errors import InvalidInput
from permissions.models import AccessLog, Consent
from tests.english import english_in
from tests.threads import all_at_once, meet_after
from workflows import services
from workflows.models import Event
from workflows.notes import Note
from workflows.services import notes as note_service

pytestmark = pytest.mark.django_db


def _counts(case):
    return (
        Note.objects.filter(case=case).count(),
        Consent.objects.filter(case=case).count(),
        Event.objects.filter(case=case).count(),
        AccessLog.objects.filter(case=case, action="write").count(),
    )


def test_a_note_over_the_agency_s_room_is_400_in_bokmal_naming_text(client_for, prison_case, settings):
    settings.NOTE_CASE_MAX_COUNT = 1
    client = client_for("bjorn")
    url = f"/api/v1/cases/{prison_case.pk}/notes/"
    assert client.post(url, {"text": "Første"}, format="json").status_code == 201
    before = _counts(prison_case)
    answer = client.post(url, {"text": "Andre"}, format="json", HTTP_ACCEPT_LANGUAGE="nb")
    assert answer.status_code == 400
    (error,) = answer.json()["errors"]
    assert (error["field"], error["code"]) == ("text", "note.case_count_full")
    # One, not "1 notater og rettinger" (the plural whatever the number).
    assert error["message"] == (
        "virksomheten din har skrevet 1 notat eller retting i saken, så mange som én virksomhet kan skrive i en sak"
    )
    assert "Andre" not in answer.content.decode() and english_in(error["message"]) == []
    assert _counts(prison_case) == before
    (error,) = client.post(url, {"text": "Andre"}, format="json").json()["errors"]
    assert error["message"].startswith("your agency has written 1 note or correction in the case")
    settings.NOTE_CASE_MAX_COUNT = 2
    assert client.post(url, {"text": "Andre"}, format="json").status_code == 201
    (error,) = client.post(url, {"text": "Tredje"}, format="json", HTTP_ACCEPT_LANGUAGE="nb").json()["errors"]
    assert error["message"].startswith("virksomheten din har skrevet 2 notater og rettinger i saken")


def test_a_sharing_over_the_case_s_room_is_400_naming_agency(
    client_for, prison_case, agencies, settings, consent_basis
):
    settings.CONSENT_CASE_MAX_COUNT = 1
    client = client_for("bjorn")
    url = f"/api/v1/cases/{prison_case.pk}/consents/"
    body = {"agency": agencies["nav"].pk, "categories": ["housing"], "purpose": "Bolig"}
    body["legal_basis"] = consent_basis.pk
    first = client.post(url, body, format="json")
    assert first.status_code == 201, first.json()
    Consent.objects.filter(case=prison_case).update(revoked_at=prison_case.opened_at)  # revoked ones count too
    before = _counts(prison_case)
    answer = client.post(url, body, format="json", HTTP_ACCEPT_LANGUAGE="nb")
    assert answer.status_code == 400
    (error,) = answer.json()["errors"]
    assert (error["field"], error["code"]) == ("agency", "consent.case_full")
    assert error["message"].startswith("saken har 1 registrerte delinger")
    assert _counts(prison_case) == before


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_notes_at_once_never_overshoot_the_room(monkeypatch, users, agencies, shipped, settings):
    """Both writers finish their checks before either takes the case: the second reads the
    room after the first committed, and is refused."""
    from tests.workflows.helpers import start_prison_case

    case = start_prison_case(users, agencies)
    settings.NOTE_CASE_MAX_COUNT = 1
    meet_after(monkeypatch, note_service, "writer_agency")
    outcomes = all_at_once([lambda: services.add_note(actor=users["bjorn"], case=case.pk, text="Samtidig")] * 2)
    written = [outcome for outcome in outcomes if isinstance(outcome, Note)]
    refused = [outcome for outcome in outcomes if isinstance(outcome, InvalidInput)]
    assert len(written) == 1 and len(refused) == 1, outcomes
    assert refused[0].errors[0]["code"] == "note.case_count_full"
    assert Note.objects.filter(case=case).count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_sharings_at_once_never_overshoot_the_room(monkeypatch, users, agencies, shipped, settings, consent_basis):
    from tests.workflows.helpers import start_prison_case
    from workflows.services import consents as consent_service

    case = start_prison_case(users, agencies)
    settings.CONSENT_CASE_MAX_COUNT = 1
    meet_after(monkeypatch, consent_service, "_valid_expiry")  # checked once, before the lock

    def record(kind):
        return services.record_consent(
            actor=users["bjorn"],
            case=case.pk,
            agency=agencies[kind].pk,
            categories=["housing"],
            purpose="Bolig",
            legal_basis=consent_basis,
        )

    outcomes = all_at_once([lambda: record("nav"), lambda: record("health")])
    refused = [outcome for outcome in outcomes if isinstance(outcome, InvalidInput)]
    assert len(refused) == 1 and refused[0].errors[0]["code"] == "consent.case_full", outcomes
    assert Consent.objects.filter(case=case).count() == 1
