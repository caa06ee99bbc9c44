"""A consent recorded at the moment its legal basis is retired or deleted (PostgreSQL).

The recording checks the provision, then writes the consent: a process admin retiring or
deleting the provision in between must not leave a consent that rests on a retired
provision ("no new consent may use it"), nor make the recording fail with a database error.
The interleaving is forced: the recording waits after its checks until the admin's change
has committed."""

import threading
from datetime import timedelta

import pytest
from django.utils import timezone

from core.errors import Conflict, InvalidInput
from permissions import rules
from permissions.models import Consent, LegalBasis
from retention.erasure import erase_case
from retention.models import ArchiveExport, ArchiveStatus, ErasureRecord, ErasureTrigger
from tests.threads import all_at_once
from workflows.models import Case, CaseStatus, Event, EventKind
from workflows.services import delete_legal_basis, record_consent, retire_legal_basis

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _record_while(monkeypatch, users, case, basis, change):
    """Record a consent on ``basis`` while ``change`` (the admin's) commits between its checks
    and its write. Returns (the recording's outcome, the change's)."""
    checked, changed = threading.Event(), threading.Event()
    recorder = rules.sharing_recorder

    def checked_then_wait(*args, **kwargs):
        found = recorder(*args, **kwargs)
        checked.set()
        assert changed.wait(timeout=30)
        return found

    monkeypatch.setattr(rules, "sharing_recorder", checked_then_wait)

    def record():
        return record_consent(
            actor=users["bjorn"],
            case=case,
            agency_kind="nav",
            categories=["housing"],
            purpose="Boligsøknad og oppfølging etter løslatelse",
            legal_basis=basis.pk,
        )

    def admin():
        assert checked.wait(timeout=30)
        try:
            return change()
        finally:
            changed.set()

    return all_at_once([record, admin])


def test_a_consent_recorded_while_its_basis_is_retired_is_refused(monkeypatch, users, prison_case, consent_basis):
    recorded, retired = _record_while(
        monkeypatch,
        users,
        prison_case,
        consent_basis,
        lambda: retire_legal_basis(actor=users["ada"], basis_id=consent_basis.pk),
    )
    assert not isinstance(retired, Exception), retired
    assert isinstance(recorded, InvalidInput), recorded
    assert recorded.errors[0]["field"] == "legal_basis"
    assert not Consent.objects.filter(legal_basis=consent_basis).exists()
    assert not Event.objects.filter(case=prison_case, kind=EventKind.CONSENT_GIVEN).exists()


def test_a_consent_recorded_while_its_basis_is_deleted_is_refused_not_a_database_error(
    monkeypatch, users, prison_case, consent_basis
):
    assert not consent_basis.consents.exists()
    recorded, deleted = _record_while(
        monkeypatch,
        users,
        prison_case,
        consent_basis,
        lambda: delete_legal_basis(actor=users["ada"], basis_id=consent_basis.pk),
    )
    assert deleted is None, deleted
    assert isinstance(recorded, InvalidInput), recorded
    assert recorded.errors[0]["field"] == "legal_basis"
    assert not LegalBasis.objects.filter(pk=consent_basis.pk).exists()
    assert not Consent.objects.filter(case=prison_case).exists()
    assert not Event.objects.filter(case=prison_case, kind=EventKind.CONSENT_GIVEN).exists()


def test_a_basis_deleted_while_a_consent_on_it_is_being_written_is_kept(monkeypatch, users, prison_case, consent_basis):
    """The other order: the consent is being written when the admin deletes the provision.
    The delete waits for the recording and then finds the provision in use (409)."""
    written = threading.Event()
    original = Event.objects.create

    def create_then_wait(**kwargs):
        event = original(**kwargs)
        written.set()
        threading.Event().wait(1.0)  # the delete runs meanwhile (or waits for this commit)
        return event

    monkeypatch.setattr(Event.objects, "create", create_then_wait)

    def record():
        return record_consent(
            actor=users["bjorn"],
            case=prison_case,
            agency_kind="nav",
            categories=["housing"],
            purpose="Boligsøknad og oppfølging etter løslatelse",
            legal_basis=consent_basis.pk,
        )

    def delete():
        assert written.wait(timeout=30)
        return delete_legal_basis(actor=users["ada"], basis_id=consent_basis.pk)

    recorded, deleted = all_at_once([record, delete])
    assert isinstance(recorded, Consent), recorded
    assert getattr(deleted, "code", None) == "legal_basis.in_use", deleted
    assert LegalBasis.objects.filter(pk=consent_basis.pk).exists()


def test_a_consent_recorded_while_its_case_is_closed_and_erased(monkeypatch, users, prison_case, consent_basis):
    """An erased case takes no new sharing (409 ``retention.erased``). The recording checked
    the case; meanwhile it closed and the retention job erased it. Once the recording had read
    the person the case was about, and the erasure moved the case to its tombstone and deleted
    the person, and the recording failed at its commit on the foreign key (500). Held by the
    recording, the case is checked again under its lock: the recording is refused, and nothing
    about the person is written into the erased case."""

    def close_and_erase():
        Case.objects.filter(pk=prison_case.pk).update(
            status=CaseStatus.COMPLETED, closed_at=timezone.now() - timedelta(days=6 * 365)
        )
        ArchiveExport.objects.create(
            case=prison_case, status=ArchiveStatus.DONE, requested_at=timezone.now(), done_at=timezone.now()
        )
        return erase_case(prison_case.pk, trigger=ErasureTrigger.RETENTION)

    recorded, erased = _record_while(monkeypatch, users, prison_case, consent_basis, close_and_erase)
    assert isinstance(erased, ErasureRecord), erased
    assert isinstance(recorded, Conflict) and recorded.code == "retention.erased", recorded
    assert not Consent.objects.filter(case=prison_case).exists()
    assert not Event.objects.filter(case=prison_case, kind=EventKind.CONSENT_GIVEN).exists()
