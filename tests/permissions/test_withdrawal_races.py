"""An agency withdrawn from the case while one of its people opens an emergency access,
records or revokes a consent (PostgreSQL).

Each write checks the writer's standing, then takes the case's lock to write; the
coordinator's withdrawal holds the case too. A withdrawal that committed in between was
once not seen: a withdrawn agency's member opened a break-glass access, recorded a sharing
or revoked a consent in a case they no longer see, and a consent was recorded for a
recipient that no longer took part. Each is checked again under the lock and answered as
it would be after the withdrawal. The interleaving is forced: the write waits after its
checks until the withdrawal has committed."""

import threading

import pytest

from core.errors import InvalidInput, NotFound
from permissions import rules
from permissions.models import AccessLog, BreakGlass, CaseParticipant, Consent
from tests.threads import all_at_once
from workflows.models import Event, EventKind
from workflows.services import open_break_glass, record_consent, revoke_consent, withdraw_agency

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

REASON = "Trusler om selvmord i telefonsamtale; må vite om behandlingsopplegg nå"
PURPOSE = "Boligsøknad og oppfølging etter løslatelse"


def _while_withdrawn(monkeypatch, users, agencies, case, kind, checked_by, write):
    """Run ``write`` while the coordinator withdraws the agency of ``kind``: ``write`` waits
    after ``rules.<checked_by>`` (its last check) until the withdrawal has committed.
    Returns (the write's outcome, the withdrawal's)."""
    checked, withdrawn = threading.Event(), threading.Event()
    check = getattr(rules, checked_by)

    def checked_then_wait(*args, **kwargs):
        found = check(*args, **kwargs)
        if not checked.is_set():
            checked.set()
            assert withdrawn.wait(timeout=30)
        return found

    monkeypatch.setattr(rules, checked_by, checked_then_wait)

    def withdraw():
        assert checked.wait(timeout=30)
        try:
            return withdraw_agency(actor=users["bjorn"], case=case.pk, agency=agencies[kind].pk, reason="Ferdig")
        finally:
            withdrawn.set()

    return all_at_once([write, withdraw])


def test_no_emergency_access_opens_for_an_agency_withdrawn_meanwhile(monkeypatch, users, agencies, prison_case):
    opened, withdrawal = _while_withdrawn(
        monkeypatch,
        users,
        agencies,
        prison_case,
        "nav",
        "break_glass_categories",
        lambda: open_break_glass(actor=users["nils"], case=prison_case.pk, category="health", reason=REASON),
    )
    assert isinstance(withdrawal, Event), withdrawal
    assert isinstance(opened, NotFound) and opened.code == "case.not_found", opened
    assert not BreakGlass.objects.filter(case=prison_case).exists()
    assert not AccessLog.objects.filter(case=prison_case, break_glass__isnull=False).exists()


def test_no_consent_is_recorded_for_a_recipient_withdrawn_meanwhile(
    monkeypatch, users, agencies, prison_case, consent_basis
):
    recorded, withdrawal = _while_withdrawn(
        monkeypatch,
        users,
        agencies,
        prison_case,
        "nav",
        "sharing_recorder",
        lambda: record_consent(
            actor=users["bjorn"],
            case=prison_case.pk,
            agency_kind="nav",
            categories=["housing"],
            purpose=PURPOSE,
            legal_basis=consent_basis.pk,
        ),
    )
    assert isinstance(withdrawal, Event), withdrawal
    assert isinstance(recorded, InvalidInput), recorded
    assert [error["field"] for error in recorded.errors] == ["agency_kind"]
    assert not Consent.objects.filter(case=prison_case).exists()
    assert not Event.objects.filter(case=prison_case, kind=EventKind.CONSENT_GIVEN).exists()


def test_no_consent_is_recorded_by_an_agency_withdrawn_meanwhile(
    monkeypatch, users, agencies, prison_case, consent_basis
):
    # helga's health service holds the health data: it records sharing it with NAV
    recorded, withdrawal = _while_withdrawn(
        monkeypatch,
        users,
        agencies,
        prison_case,
        "health",
        "sharing_recorder",
        lambda: record_consent(
            actor=users["helga"],
            case=prison_case.pk,
            agency=agencies["nav"].pk,
            categories=["health"],
            purpose=PURPOSE,
            legal_basis=consent_basis.pk,
        ),
    )
    assert isinstance(withdrawal, Event), withdrawal
    assert isinstance(recorded, NotFound) and recorded.code == "case.not_found", recorded
    assert not Consent.objects.filter(case=prison_case).exists()


def test_no_consent_is_revoked_by_an_agency_withdrawn_meanwhile(
    monkeypatch, users, agencies, prison_case, consent_basis
):
    consent = record_consent(
        actor=users["bjorn"],
        case=prison_case.pk,
        agency_kind="health",
        categories=["housing"],
        purpose=PURPOSE,
        legal_basis=consent_basis.pk,
    )
    revoked, withdrawal = _while_withdrawn(
        monkeypatch,
        users,
        agencies,
        prison_case,
        "nav",
        "can_revoke_consent",
        lambda: revoke_consent(actor=users["nils"], consent_id=consent.pk),
    )
    assert isinstance(withdrawal, Event), withdrawal
    assert not CaseParticipant.objects.filter(case=prison_case, agency=agencies["nav"]).exists()
    assert isinstance(revoked, NotFound) and revoked.code == "consent.not_found", revoked
    consent.refresh_from_db()
    assert consent.revoked_at is None
    assert not Event.objects.filter(case=prison_case, kind=EventKind.CONSENT_REVOKED).exists()


def test_no_emergency_access_is_reviewed_by_an_auditor_whose_agency_is_withdrawn_meanwhile(
    monkeypatch, users, agencies, prison_case
):
    from django.contrib.auth import get_user_model

    from permissions.models import Membership, Role
    from workflows.services import review_break_glass

    auditor = get_user_model().objects.create_user("nav-revisor")
    Membership.objects.create(user=auditor, agency=agencies["nav"], role=Role.AUDITOR)
    grant = open_break_glass(actor=users["helga"], case=prison_case.pk, category="economy", reason=REASON)
    reviewed, withdrawal = _while_withdrawn(
        monkeypatch,
        users,
        agencies,
        prison_case,
        "nav",
        "can_review_break_glass",
        lambda: review_break_glass(actor=auditor, grant_id=grant.pk, note="Sett"),
    )
    assert isinstance(withdrawal, Event), withdrawal
    assert isinstance(reviewed, NotFound) and reviewed.code == "break_glass.not_found", reviewed
    grant.refresh_from_db()
    assert grant.reviewed_at is None and grant.reviewed_by is None


def _consent_revoked_while(monkeypatch, users, agencies, case, consent_basis, write):
    """Run ``write`` (a NAV note or file in ``health``, which only the person's consent opens
    to NAV) while the consent is withdrawn: ``write`` waits after its choice of category was
    checked until the withdrawal has committed. Returns (the write's outcome, the withdrawal's)."""
    consent = record_consent(
        actor=users["helga"],
        case=case.pk,
        agency=agencies["nav"].pk,
        categories=["health"],
        purpose=PURPOSE,
        legal_basis=consent_basis.pk,
    )
    checked, revoked = threading.Event(), threading.Event()
    categories = rules.note_categories

    def checked_then_wait(*args, **kwargs):
        found = categories(*args, **kwargs)
        if not checked.is_set():
            checked.set()
            assert revoked.wait(timeout=30)
        return found

    monkeypatch.setattr(rules, "note_categories", checked_then_wait)

    def revoke():
        assert checked.wait(timeout=30)
        try:
            return revoke_consent(actor=users["bjorn"], consent_id=consent.pk)
        finally:
            revoked.set()

    return all_at_once([write, revoke])


def test_no_note_is_written_in_a_category_whose_consent_is_withdrawn_meanwhile(
    monkeypatch, users, agencies, prison_case, consent_basis
):
    from workflows.notes import Note
    from workflows.services import add_note

    written, revocation = _consent_revoked_while(
        monkeypatch,
        users,
        agencies,
        prison_case,
        consent_basis,
        lambda: add_note(actor=users["nils"], case=prison_case.pk, text="Går på LAR", category="health"),
    )
    assert isinstance(revocation, Consent), revocation
    assert isinstance(written, InvalidInput), written
    assert [error["field"] for error in written.errors] == ["category"]
    assert not Note.objects.filter(case=prison_case).exists()


def test_no_file_is_attached_in_a_category_whose_consent_is_withdrawn_meanwhile(
    monkeypatch, users, agencies, prison_case, consent_basis
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from workflows.notes import Attachment, AttachmentBlob
    from workflows.services import add_attachment

    pdf = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
    upload = SimpleUploadedFile("epikrise.pdf", pdf, content_type="application/pdf")
    written, revocation = _consent_revoked_while(
        monkeypatch,
        users,
        agencies,
        prison_case,
        consent_basis,
        lambda: add_attachment(actor=users["nils"], case=prison_case.pk, upload=upload, category="health"),
    )
    assert isinstance(revocation, Consent), revocation
    assert isinstance(written, InvalidInput), written
    assert [error["field"] for error in written.errors] == ["category"]
    assert not Attachment.objects.filter(case=prison_case).exists() and not AttachmentBlob.objects.exists()


def test_no_note_is_moved_into_a_category_whose_consent_is_withdrawn_meanwhile(
    monkeypatch, users, agencies, prison_case, consent_basis
):
    from workflows.services import add_note, correct_note

    note = add_note(actor=users["nils"], case=prison_case.pk, text="Går på LAR", category="restricted")
    corrected, revocation = _consent_revoked_while(
        monkeypatch,
        users,
        agencies,
        prison_case,
        consent_basis,
        lambda: correct_note(
            actor=users["nils"], case=prison_case.pk, note_id=note.pk, text="Går på LAR", version=1, category="health"
        ),
    )
    assert isinstance(revocation, Consent), revocation
    assert isinstance(corrected, InvalidInput), corrected
    assert [error["field"] for error in corrected.errors] == ["category"]
    note.refresh_from_db()
    assert (note.category, note.version) == ("restricted", 1)
