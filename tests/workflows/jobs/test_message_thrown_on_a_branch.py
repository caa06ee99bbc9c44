"""A message thrown on a gateway's branch tells another case that catches it the value the
gateway read (h-paths3).

``notice`` throws "housing_ready" only on the branch of a gateway on ``needs_treatment``
(health); NAV's ``move_in`` case of the person waits for it. Before, the receiving case's
path analysis took its catch as set off by its own model only, and the message was delivered:
NAV, who may not see health data, saw its waiting task end and the move task open, and so
read the health value. Now such a message goes to another case only when every agency of that
case sees what the gateway read (``workflows.jobs.messages._branch_grounds``); else it counts
as nothing waiting there, as a case outside the bounds does."""

import pytest

from bpmn.services import deploy_definition
from tests.workflows.helpers import PERSON, open_tasks
from tests.workflows.message_models import FORMS, move_in_model, notice_model
from workflows import services
from workflows.jobs import handlers
from workflows.models import OutboxMessage, OutboxStatus

pytestmark = pytest.mark.django_db

BRANCH_FORMS = {
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
}


def branch_notice(condition: str) -> str:
    xml = notice_model(pid="branch_notice").replace('name="NAV"', 'name="Helse"')  # the health service's
    xml = xml.replace(
        '<bpmn:sequenceFlow id="F2" sourceRef="Task_prepare" targetRef="Throw_ready"/>',
        '<bpmn:sequenceFlow id="F2" sourceRef="Task_prepare" targetRef="G"/>'
        '<bpmn:exclusiveGateway id="G" default="F_no"/>'
        f'<bpmn:sequenceFlow id="F_yes" sourceRef="G" targetRef="Throw_ready">'
        f"<bpmn:conditionExpression>{condition}</bpmn:conditionExpression></bpmn:sequenceFlow>"
        '<bpmn:sequenceFlow id="F_no" sourceRef="G" targetRef="End_2"/><bpmn:endEvent id="End_2"/>',
    )
    return xml.replace(
        "<bpmn:flowNodeRef>End_1</bpmn:flowNodeRef>",
        "<bpmn:flowNodeRef>End_1</bpmn:flowNodeRef>"
        "<bpmn:flowNodeRef>G</bpmn:flowNodeRef><bpmn:flowNodeRef>End_2</bpmn:flowNodeRef>",
    )


def thrown_to_the_waiting_case(users, agencies, condition: str) -> str:
    deploy_definition(actor=None, bpmn_xml=move_in_model(), forms=BRANCH_FORMS, check_permission=False)
    deploy_definition(actor=None, bpmn_xml=branch_notice(condition), forms=BRANCH_FORMS, check_permission=False)
    both = {"nav": agencies["nav"].pk, "health": agencies["health"].pk}
    waiting = services.start_case(actor=users["nils"], process_key="move_in", person=PERSON, participants=both)
    (task,) = open_tasks(waiting)
    services.complete_task(actor=users["nils"], task_id=task.pk, data={"applicant_id": "A-17"})
    sender = services.start_case(actor=users["nils"], process_key="branch_notice", person=PERSON, participants=both)
    (task,) = open_tasks(sender)
    data = {"applicant_id": "A-17", "needs_treatment": True}
    services.complete_task(actor=users["helga"], task_id=task.pk, data=data)
    while handlers.run_one("w"):
        pass
    return OutboxMessage.objects.get(case=sender).status


def test_a_message_thrown_on_a_branch_nav_may_not_see_goes_to_no_other_case(users, agencies):
    assert thrown_to_the_waiting_case(users, agencies, "needs_treatment == True") != OutboxStatus.DELIVERED


def test_one_thrown_on_a_branch_every_agency_sees_the_reason_for_still_goes(users, agencies):
    assert thrown_to_the_waiting_case(users, agencies, 'applicant_id == "A-17"') == OutboxStatus.DELIVERED
