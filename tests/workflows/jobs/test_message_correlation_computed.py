"""A message between two cases of the person is caught where its correlation values equal
those the receiving case holds: what they are computed from is told by the catching
(h-attack38).

``notice`` (the health service's case) throws "housing_ready" whose ``applicant_id``, the
correlation property NAV's ``move_in`` case of the person waits on, a process admin computed
as ``applicant_id if needs_treatment else "none"``. The receiving case compares it with the
applicant's id NAV registered, so the message arrived, and NAV's move task opened, only where
the person needs treatment: NAV read the health value off its own case, silently (the field
itself is the receiving case's own value, admitted as such). The other way round, a receiving
case correlating on its own health value against a literal told the sending case's agencies
the same through the delivery failing or not. Now a correlation value computed, on either
side, from data the other side's value of the property is not must be seen by every agency
of the receiving case, as a payload field computed from it (``workflows.jobs.messages.
_correlation_grounds``); else the message counts as nothing waiting there, whatever the value."""

import pytest

from bpmn.services import deploy_definition
from permissions.models import AccessLog
from permissions.rules import ROLE_MESSAGE
from tests.workflows.helpers import PERSON, open_tasks
from tests.workflows.jobs.test_message_payload_consent import consent_to_health
from tests.workflows.message_models import FORMS, HEADER, move_in_model, notice_model
from workflows import services
from workflows.jobs import handlers
from workflows.models import OutboxMessage, OutboxStatus

pytestmark = pytest.mark.django_db

CHECKED_FORMS = {
    **FORMS,
    "applicant.schema.json": {
        "type": "object",
        "properties": {
            "applicant_id": {"type": "string", "title": "Søker", "x-category": "coordination"},
            "needs_treatment": {"type": "boolean", "title": "Behandling", "x-category": "health"},
        },
        "required": ["applicant_id"],
        "additionalProperties": False,
    },
    "assess.schema.json": {
        "type": "object",
        "properties": {"needs_treatment": {"type": "boolean", "title": "Behandling", "x-category": "health"}},
        "additionalProperties": False,
    },
}


def computed_notice() -> str:
    xml = notice_model(pid="computed_notice").replace('name="NAV"', 'name="Helse"')
    return xml.replace(
        '{"applicant_id": applicant_id, "ready": True}',
        '{"applicant_id": applicant_id if needs_treatment else "none", "ready": True}',
    )


def both(agencies):
    return {"nav": agencies["nav"].pk, "health": agencies["health"].pk}


def waiting_case(users, agencies):
    deploy_definition(actor=None, bpmn_xml=move_in_model(), forms=CHECKED_FORMS, check_permission=False)
    waiting = services.start_case(
        actor=users["nils"], process_key="move_in", person=PERSON, participants=both(agencies)
    )
    (task,) = open_tasks(waiting)
    services.complete_task(actor=users["nils"], task_id=task.pk, data={"applicant_id": "A-17"})
    return waiting


def thrown(users, agencies, needs_treatment: bool):
    deploy_definition(actor=None, bpmn_xml=computed_notice(), forms=CHECKED_FORMS, check_permission=False)
    sender = services.start_case(
        actor=users["nils"], process_key="computed_notice", person=PERSON, participants=both(agencies)
    )
    (task,) = open_tasks(sender)
    data = {"applicant_id": "A-17", "needs_treatment": needs_treatment}
    services.complete_task(actor=users["helga"], task_id=task.pk, data=data)
    while handlers.run_one("w"):
        pass
    return OutboxMessage.objects.get(case=sender).status


@pytest.mark.parametrize("needs_treatment", [True, False])
def test_a_correlation_computed_from_a_health_value_reaches_no_case_nav_reads_it_in(users, agencies, needs_treatment):
    waiting = waiting_case(users, agencies)

    status = thrown(users, agencies, needs_treatment)

    assert status == OutboxStatus.PENDING  # nothing waits there for it, whatever the value
    assert [task.element_id for task in open_tasks(waiting)] == []
    assert not AccessLog.objects.filter(case=waiting, role=ROLE_MESSAGE).exists()


def test_with_nav_s_consent_to_health_there_it_arrives_and_the_read_is_logged(users, agencies, legal_bases):
    waiting = waiting_case(users, agencies)
    consent_to_health(users, waiting, kind="nav", recorded_by="helga")

    assert thrown(users, agencies, True) == OutboxStatus.DELIVERED

    assert [task.element_id for task in open_tasks(waiting)] == ["Task_move"]
    rows = AccessLog.objects.filter(case=waiting, role=ROLE_MESSAGE, category="health")
    assert {row.agency_id for row in rows} == {agencies["nav"].pk, agencies["health"].pk}


def assessed_move_in() -> str:
    """``move_in`` whose receive task correlates on the applicant's id only where the health
    service's assessment in the receiving case says treatment."""
    xml = move_in_model().replace("move_in", "assessed_move_in")
    xml = xml.replace(
        "<spiffworkflow:expression>applicant_id</spiffworkflow:expression>",
        '<spiffworkflow:expression>applicant_id if needs_treatment else "none"</spiffworkflow:expression>',
    )
    return xml.replace(
        '<bpmn:lane id="Lane_nav" name="NAV">',
        '<bpmn:lane id="Lane_health" name="Helse"><bpmn:flowNodeRef>Task_assess</bpmn:flowNodeRef></bpmn:lane>'
        '<bpmn:lane id="Lane_nav" name="NAV">',
    ).replace(
        '<bpmn:sequenceFlow id="F2" sourceRef="Task_register" targetRef="Receive_ready"/>',
        '<bpmn:sequenceFlow id="F2" sourceRef="Task_register" targetRef="Task_assess"/>'
        '<bpmn:userTask id="Task_assess" name="Assess"><bpmn:extensionElements><spiffworkflow:properties>'
        '<spiffworkflow:property name="formJsonSchemaFilename" value="assess.schema.json"/>'
        "</spiffworkflow:properties></bpmn:extensionElements></bpmn:userTask>"
        '<bpmn:sequenceFlow id="F2b" sourceRef="Task_assess" targetRef="Receive_ready"/>',
    )


@pytest.mark.parametrize("needs_treatment", [True, False])
def test_a_receiving_case_correlating_on_its_own_health_value_tells_the_sender_nothing(
    users, agencies, needs_treatment
):
    assert HEADER  # the correlation key and property of both models
    deploy_definition(actor=None, bpmn_xml=assessed_move_in(), forms=CHECKED_FORMS, check_permission=False)
    waiting = services.start_case(
        actor=users["nils"], process_key="assessed_move_in", person=PERSON, participants=both(agencies)
    )
    (register,) = open_tasks(waiting)
    services.complete_task(actor=users["nils"], task_id=register.pk, data={"applicant_id": "A-17"})
    (assess,) = open_tasks(waiting)
    services.complete_task(actor=users["helga"], task_id=assess.pk, data={"needs_treatment": needs_treatment})
    deploy_definition(actor=None, bpmn_xml=notice_model(), forms=CHECKED_FORMS, check_permission=False)
    sender = services.start_case(actor=users["nils"], process_key="notice", person=PERSON, participants=both(agencies))
    (prepare,) = open_tasks(sender)
    services.complete_task(actor=users["nils"], task_id=prepare.pk, data={"applicant_id": "A-17"})
    while handlers.run_one("w"):
        pass

    assert OutboxMessage.objects.get(case=sender).status == OutboxStatus.PENDING  # whatever the value


def test_an_identifier_compared_with_itself_still_arrives(users, agencies):
    """The applicant's id thrown as it is, against the one NAV registered: what correlation is for."""
    waiting = waiting_case(users, agencies)
    deploy_definition(actor=None, bpmn_xml=notice_model(), forms=CHECKED_FORMS, check_permission=False)
    sender = services.start_case(actor=users["nils"], process_key="notice", person=PERSON, participants=both(agencies))
    (prepare,) = open_tasks(sender)
    services.complete_task(actor=users["nils"], task_id=prepare.pk, data={"applicant_id": "A-17"})
    while handlers.run_one("w"):
        pass

    assert OutboxMessage.objects.get(case=sender).status == OutboxStatus.DELIVERED
    assert [task.element_id for task in open_tasks(waiting)] == ["Task_move"]
