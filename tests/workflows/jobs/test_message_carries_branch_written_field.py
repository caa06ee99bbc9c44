"""A field a step on a split's branch wrote, carried by a message thrown after the branches
meet, tells another case that catches it the value the split read (h-attack14).

``notice``'s prepare task writes ``plan`` (coordination); the health service's task on the
branch of a gateway on ``needs_treatment`` (health) writes it again; the throw after the join
carries it to NAV's ``move_in`` case of the person. The throw lies on no branch, and ``plan``
is coordination, which every agency sees: it was delivered, and NAV read in its own case the
plan the treatment branch wrote. A payload field computed from a field a step on a branch
writes now also reads what that split read (``DefinitionRuntime.split_reads_of``)."""

import pytest

from bpmn.services import deploy_definition
from tests.workflows.helpers import PERSON, open_tasks
from tests.workflows.jobs.test_message_thrown_on_a_branch import BRANCH_FORMS
from tests.workflows.message_models import move_in_model, notice_model
from workflows import services
from workflows.jobs import handlers
from workflows.models import Case, Event, EventKind, Task

pytestmark = pytest.mark.django_db

PLAN = {"type": "string", "title": "Plan", "x-category": "coordination"}
FORMS = {
    **BRANCH_FORMS,
    "applicant.schema.json": {
        **BRANCH_FORMS["applicant.schema.json"],
        "properties": {**BRANCH_FORMS["applicant.schema.json"]["properties"], "plan": PLAN},
    },
    "plan.schema.json": {"type": "object", "properties": {"plan": PLAN}, "additionalProperties": False},
}
FORM = """<bpmn:extensionElements><spiffworkflow:properties>
  <spiffworkflow:property name="formJsonSchemaFilename" value="plan.schema.json"/>
</spiffworkflow:properties></bpmn:extensionElements>"""


def rewriting_notice() -> str:
    xml = notice_model(pid="plan_notice").replace('name="NAV"', 'name="Helse"')
    xml = xml.replace('"ready": True}', '"ready": True, "plan": plan}')
    xml = xml.replace(
        '<bpmn:sequenceFlow id="F2" sourceRef="Task_prepare" targetRef="Throw_ready"/>',
        '<bpmn:sequenceFlow id="F2" sourceRef="Task_prepare" targetRef="G"/>'
        '<bpmn:exclusiveGateway id="G" default="F_no"/>'
        '<bpmn:sequenceFlow id="F_yes" sourceRef="G" targetRef="Task_plan">'
        "<bpmn:conditionExpression>needs_treatment == True</bpmn:conditionExpression></bpmn:sequenceFlow>"
        f'<bpmn:userTask id="Task_plan" name="Behandlingsplan">{FORM}</bpmn:userTask>'
        '<bpmn:sequenceFlow id="F_plan" sourceRef="Task_plan" targetRef="J"/>'
        '<bpmn:sequenceFlow id="F_no" sourceRef="G" targetRef="J"/>'
        '<bpmn:exclusiveGateway id="J"/>'
        '<bpmn:sequenceFlow id="F_j" sourceRef="J" targetRef="Throw_ready"/>',
    )
    return xml.replace(
        "<bpmn:flowNodeRef>End_1</bpmn:flowNodeRef>",
        "<bpmn:flowNodeRef>End_1</bpmn:flowNodeRef><bpmn:flowNodeRef>G</bpmn:flowNodeRef>"
        "<bpmn:flowNodeRef>Task_plan</bpmn:flowNodeRef><bpmn:flowNodeRef>J</bpmn:flowNodeRef>",
    )


def test_a_field_a_branch_wrote_does_not_reach_another_case_whose_agencies_may_not_see_the_split(users, agencies):
    deploy_definition(actor=None, bpmn_xml=move_in_model(), forms=FORMS, check_permission=False)
    deploy_definition(actor=None, bpmn_xml=rewriting_notice(), forms=FORMS, check_permission=False)
    both = {"nav": agencies["nav"].pk, "health": agencies["health"].pk}
    waiting = services.start_case(actor=users["nils"], process_key="move_in", person=PERSON, participants=both)
    (task,) = open_tasks(waiting)
    services.complete_task(actor=users["nils"], task_id=task.pk, data={"applicant_id": "A-17"})
    sender = services.start_case(actor=users["nils"], process_key="plan_notice", person=PERSON, participants=both)
    (task,) = open_tasks(sender)
    data = {"applicant_id": "A-17", "needs_treatment": True, "plan": "Vanlig"}
    services.complete_task(actor=users["helga"], task_id=task.pk, data=data)
    plan_task = Task.objects.get(case=sender, element_id="Task_plan")
    services.complete_task(actor=users["helga"], task_id=plan_task.pk, data={"plan": "Omsorgsbolig med behandling"})
    while handlers.run_one("w"):
        pass
    (received,) = Event.objects.filter(case=waiting, kind=EventKind.MESSAGE_RECEIVED)
    assert "plan" not in received.detail["fields"] and "plan" in received.detail["withheld"], received.detail
    assert "plan" not in Case.objects.get(pk=waiting.pk).data
