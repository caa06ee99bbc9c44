"""An erasure meeting the author correcting or withdrawing a note or an attachment of the same
case, a consent's revocation, a break-glass review or a correction of the case file
(PostgreSQL). The erasure holds the case and then scrubs the case's notes and files;
the writers locked the note (or file) first and the case after (a note: in one statement; a
file: the foreign-key check of its timeline row at the commit). Met at the same moment each
waited for the other, and PostgreSQL failed one of them: the request, or the erasure job.
The interleaving is forced: a third transaction holds the note (or file) while the writer
queues for it and the erasure takes the case and queues behind."""

import threading
from datetime import timedelta

import pytest
from django.db import connections, transaction
from django.utils import timezone

from core.errors import Conflict
from permissions.models import BreakGlass, Consent
from retention.erasure import erase_case
from retention.models import ArchiveExport, ArchiveStatus, Correction, ErasureRecord, ErasureTrigger
from retention.services import correct_value
from tests.threads import all_at_once
from tests.workflows.helpers import complete, open_tasks, start_prison_case
from tests.workflows.test_attachments import PDF, upload
from tests.workflows.test_lock_order import _backend_pid, wait_until_blocked
from workflows import services
from workflows.models import Case, CaseStatus, ProcessInstance
from workflows.notes import Attachment, Note

from .helpers import archived, corrections_archived

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def closed_long_ago(case):
    Case.objects.filter(pk=case.pk).update(
        status=CaseStatus.COMPLETED, closed_at=timezone.now() - timedelta(days=6 * 365)
    )
    archived(case)


def meet(row_model, row_pk, write, case):
    """``write`` queues for the row (held by a third transaction), then the erasure starts
    and queues too; then the row is let go. Returns (write's outcome, erasure's)."""
    pids: dict = {}
    held, release = threading.Event(), threading.Event()
    outcomes: dict = {}

    def hold():
        with transaction.atomic():
            row_model.objects.select_for_update().filter(pk=row_pk).get()
            held.set()
            assert release.wait(timeout=60)

    def run(name, call):
        def go():
            pids[name] = _backend_pid()
            try:
                outcomes[name] = call()
            except Exception as exc:  # judged by the test
                outcomes[name] = exc

        return go

    def orchestrate():
        assert held.wait(timeout=30)
        writer = threading.Thread(target=_closing(run("write", write)))
        writer.start()
        wait_until_blocked(pids, "write")
        eraser = threading.Thread(
            target=_closing(run("erase", lambda: erase_case(case.pk, trigger=ErasureTrigger.RETENTION)))
        )
        eraser.start()
        wait_until_blocked(pids, "erase")
        release.set()
        writer.join(timeout=60)
        eraser.join(timeout=60)

    all_at_once([hold, orchestrate])
    return outcomes["write"], outcomes["erase"]


def _closing(call):
    def go():
        try:
            call()
        finally:
            connections.close_all()

    return go


def test_a_note_corrected_while_the_case_is_erased(users, agencies, shipped):
    case = start_prison_case(users, agencies)
    note = services.add_note(actor=users["nils"], case=case.pk, text="Gjeld til Lindorff")
    closed_long_ago(case)
    corrected, erased = meet(
        Note,
        note.pk,
        lambda: services.correct_note(actor=users["nils"], case=case.pk, note_id=note.pk, text="Rettet", version=1),
        case,
    )
    assert isinstance(erased, ErasureRecord), erased
    # the correction came first and the erasure scrubbed it, or it came after and found it erased
    assert isinstance(corrected, Note) or (isinstance(corrected, Conflict) and corrected.code == "note.erased"), (
        corrected
    )
    stored = Note.objects.get(pk=note.pk)
    assert stored.text == "" and not stored.revisions.exists()


def test_an_attachment_withdrawn_while_the_case_is_erased(users, agencies, shipped):
    case = start_prison_case(users, agencies)
    attachment = services.add_attachment(actor=users["nils"], case=case.pk, upload=upload(PDF))
    closed_long_ago(case)
    withdrawn, erased = meet(
        Attachment,
        attachment.pk,
        lambda: services.withdraw_attachment(actor=users["nils"], case=case.pk, attachment_id=attachment.pk),
        case,
    )
    if isinstance(withdrawn, Attachment):
        # The withdrawal came first: the case file lists it, so the archive gets the case file
        # again (a new export), and the retention job's erasure waits until it has it.
        assert erased is None, erased
        assert ArchiveExport.objects.filter(case=case, replaces__isnull=False, status=ArchiveStatus.PENDING).exists()
        corrections_archived(case)
        erased = erase_case(case.pk, trigger=ErasureTrigger.RETENTION)
    else:
        assert isinstance(withdrawn, Conflict) and withdrawn.code == "attachment.erased", withdrawn
    assert isinstance(erased, ErasureRecord), erased
    stored = Attachment.objects.get(pk=attachment.pk)
    assert stored.stored_as == "" and stored.filename == ""


def test_a_consent_revoked_while_the_case_is_erased(users, agencies, shipped, consent_basis):
    case = start_prison_case(users, agencies)
    consent = services.record_consent(
        actor=users["bjorn"],
        case=case.pk,
        agency_kind="nav",
        categories=["housing"],
        purpose="Boligsøknad og oppfølging etter løslatelse",
        legal_basis=consent_basis.pk,
    )
    closed_long_ago(case)
    revoked, erased = meet(
        Consent, consent.pk, lambda: services.revoke_consent(actor=users["bjorn"], consent_id=consent.pk), case
    )
    assert isinstance(erased, ErasureRecord), erased
    assert isinstance(revoked, Consent), revoked
    stored = Consent.objects.get(pk=consent.pk)
    assert stored.revoked_at is not None and stored.purpose == ""


def test_a_break_glass_opening_reviewed_while_the_case_is_erased(users, agencies, shipped):
    case = start_prison_case(users, agencies)
    grant = services.open_break_glass(
        actor=users["nils"],
        case=case.pk,
        category="justice",
        reason="Trusler om selvmord i telefonsamtale; må vite om dommen nå",
    )
    closed_long_ago(case)
    reviewed, erased = meet(
        BreakGlass, grant.pk, lambda: services.review_break_glass(actor=users["aud"], grant_id=grant.pk), case
    )
    assert isinstance(erased, ErasureRecord), erased
    assert isinstance(reviewed, BreakGlass), reviewed
    stored = BreakGlass.objects.get(pk=grant.pk)
    assert stored.reviewed_at is not None and stored.reason == ""


def test_a_value_corrected_while_the_case_is_erased(users, agencies, shipped):
    """The coordinator corrects the case file of a closed case while the retention job erases
    it: both lock the case's instances and the case, in the engine's order (instances first)."""
    case = start_prison_case(users, agencies)
    (intake,) = open_tasks(case)
    complete(intake, {"has_home": False}, actor=users["kari"])
    closed_long_ago(case)
    corrected, erased = meet(
        ProcessInstance,
        case.instances.get().pk,
        lambda: correct_value(actor=users["kari"], case_id=case.pk, field="has_home", value=True, reason="Feil"),
        case,
    )
    if not isinstance(erased, ErasureRecord):
        # The correction went first: the corrected case file must reach the archive (the new
        # export it queued) before the case may go, so the retention job leaves it for now.
        assert isinstance(corrected, Correction) and erased is None, (corrected, erased)
        corrections_archived(case)
        assert isinstance(erase_case(case.pk, trigger=ErasureTrigger.RETENTION), ErasureRecord)
    else:
        assert getattr(corrected, "code", "") == "retention.erased", corrected
    case.refresh_from_db()
    assert case.data == {}
