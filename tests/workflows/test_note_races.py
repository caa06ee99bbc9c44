"""A note or an attachment written at the moment its agency is withdrawn from the case, or the
case closes (PostgreSQL). Sequentially both are refused: the withdrawn agency sees the case
nowhere, and nothing is added to a closed case. The writes checked first and wrote after,
without holding the case: a withdrawal or the last completion committing in between left a
note of an agency that no longer takes part, or a note in a closed case (after its case
file may have gone to the archive). The interleaving is forced: the write waits after its
checks until the other request has committed."""

import threading

import pytest

from bpmn.services import deploy_definition
from core.errors import Conflict, NotFound
from tests.threads import all_at_once
from workflows import services
from workflows.models import CaseStatus, Event, EventKind
from workflows.notes import Attachment, Note
from workflows.services import attachments as attachment_services
from workflows.services import notes as note_services

from .helpers import PERSON, complete, open_tasks
from .test_attachments import PDF, upload
from .version_models import FORMS, model

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _write_while(monkeypatch, module, write, other):
    """``write`` waits after its checks (the writer's category) until ``other`` committed."""
    checked, done = threading.Event(), threading.Event()
    valid_category = module.valid_category

    def checked_then_wait(*args, **kwargs):
        category = valid_category(*args, **kwargs)
        checked.set()
        assert done.wait(timeout=30)
        return category

    monkeypatch.setattr(module, "valid_category", checked_then_wait)

    def then_other():
        assert checked.wait(timeout=30)
        try:
            return other()
        finally:
            done.set()

    return all_at_once([write, then_other])


def _withdraw_prison(users, agencies, case):
    return lambda: services.withdraw_agency(
        actor=users["bjorn"], case=case.pk, agency=agencies["prison"].pk, reason="Ikke lenger aktuell"
    )


def test_a_note_written_while_its_agency_is_withdrawn_is_refused(monkeypatch, nav_task, case, users, agencies):
    written, withdrawn = _write_while(
        monkeypatch,
        note_services,
        lambda: services.add_note(actor=users["kari"], case=case.pk, text="Løslatelse flyttet"),
        _withdraw_prison(users, agencies, case),
    )
    assert not isinstance(withdrawn, Exception), withdrawn
    assert isinstance(written, NotFound), written
    assert not Note.objects.filter(case=case).exists()
    assert not Event.objects.filter(case=case, kind=EventKind.NOTE_ADDED).exists()


def test_an_attachment_added_while_its_agency_is_withdrawn_is_refused(monkeypatch, nav_task, case, users, agencies):
    written, withdrawn = _write_while(
        monkeypatch,
        attachment_services,
        lambda: services.add_attachment(actor=users["kari"], case=case.pk, upload=upload(PDF)),
        _withdraw_prison(users, agencies, case),
    )
    assert not isinstance(withdrawn, Exception), withdrawn
    assert isinstance(written, NotFound), written
    assert not Attachment.objects.filter(case=case).exists()


def test_a_note_written_while_the_case_closes_is_refused(monkeypatch, users, agencies):
    deploy_definition(actor=None, bpmn_xml=model(), forms=FORMS, check_permission=False)
    case = services.start_case(
        actor=users["nils"], process_key="versioned", person=PERSON, participants={"nav": agencies["nav"].pk}
    )
    complete(open_tasks(case)[0])
    (last,) = open_tasks(case)
    written, completed = _write_while(
        monkeypatch,
        note_services,
        lambda: services.add_note(actor=users["nora"], case=case.pk, text="Husk oppfølging"),
        lambda: complete(last),
    )
    assert not isinstance(completed, Exception), completed
    case.refresh_from_db()
    assert case.status == CaseStatus.COMPLETED
    assert isinstance(written, Conflict) and written.code == "note.case_closed", written
    assert not Note.objects.filter(case=case).exists()
