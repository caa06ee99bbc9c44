"""A script's variable carries what the script computed it from.

A name no form declares (a script's variable) counts as ``restricted``, which the case's
coordinating agency sees by its standing. Computed from a form's field (``flag =
needs_treatment``), it carried that field's value past its category: a gateway reading
``flag`` showed the housing coordinator, who may not see health data, NAV's task on the
treatment branch in its task list and the case's open-task count, and an external task's
input ``flag`` went to the housing office's system. A gateway, timer, message payload or
service task reading such a variable now reads what the script computed it from too
(``bpmn.engine.element_needs.script_sources``), and is told as reading those fields is."""

import pytest

from bpmn.services import deploy_definition
from tests.bpmn.engine.bpmn_snippets import definitions, lane_set, properties
from tests.clients import api
from tests.workflows.helpers import PERSON
from tests.workflows.service_models import HEADER
from workflows import services
from workflows.models import Task

pytestmark = pytest.mark.django_db

HEALTH_FORM = {"type": "object", "properties": {"needs_treatment": {"type": "boolean", "x-category": "health"}}}
NAV_FORM = {"type": "object", "properties": {"paid": {"type": "boolean", "x-category": "economy"}}}
HEALTH = properties(formJsonSchemaFilename="h.schema.json")
PAY = properties(formJsonSchemaFilename="n.schema.json")
FORMS = {"h.schema.json": HEALTH_FORM, "n.schema.json": NAV_FORM}


def branch_model(process_id: str, condition: str) -> str:
    """The health service assesses; a script computes ``flag`` from its field; a gateway sends
    NAV down one of two branches by ``condition``."""
    lanes = {
        "Helse": ["StartEvent_1", "Task_assess", "Script_flag", "Gateway_treatment"],
        "NAV": ["Task_pay_supported", "Task_pay_ordinary", "Gateway_join", "EndEvent_1"],
    }
    return definitions(f"""
        <bpmn:process id="{process_id}" name="{process_id}" isExecutable="true">
          {lane_set(lanes)}
          <bpmn:startEvent id="StartEvent_1"/>
          <bpmn:sequenceFlow id="Flow_1" sourceRef="StartEvent_1" targetRef="Task_assess"/>
          <bpmn:userTask id="Task_assess" name="Assess">{HEALTH}</bpmn:userTask>
          <bpmn:sequenceFlow id="Flow_2" sourceRef="Task_assess" targetRef="Script_flag"/>
          <bpmn:scriptTask id="Script_flag" name="Flag">
            <bpmn:script>flag = needs_treatment</bpmn:script>
          </bpmn:scriptTask>
          <bpmn:sequenceFlow id="Flow_3" sourceRef="Script_flag" targetRef="Gateway_treatment"/>
          <bpmn:exclusiveGateway id="Gateway_treatment" default="Flow_ordinary"/>
          <bpmn:sequenceFlow id="Flow_supported" sourceRef="Gateway_treatment" targetRef="Task_pay_supported">
            <bpmn:conditionExpression>{condition}</bpmn:conditionExpression>
          </bpmn:sequenceFlow>
          <bpmn:sequenceFlow id="Flow_ordinary" sourceRef="Gateway_treatment" targetRef="Task_pay_ordinary"/>
          <bpmn:userTask id="Task_pay_supported" name="Betal omsorgsbolig">{PAY}</bpmn:userTask>
          <bpmn:userTask id="Task_pay_ordinary" name="Betal vanlig bolig">{PAY}</bpmn:userTask>
          <bpmn:sequenceFlow id="Flow_4" sourceRef="Task_pay_supported" targetRef="Gateway_join"/>
          <bpmn:sequenceFlow id="Flow_5" sourceRef="Task_pay_ordinary" targetRef="Gateway_join"/>
          <bpmn:exclusiveGateway id="Gateway_join"/>
          <bpmn:sequenceFlow id="Flow_6" sourceRef="Gateway_join" targetRef="EndEvent_1"/>
          <bpmn:endEvent id="EndEvent_1"/>
        </bpmn:process>
    """)


def assessed_case(users, agencies, process_id: str, condition: str):
    deploy_definition(actor=None, bpmn_xml=branch_model(process_id, condition), forms=FORMS, check_permission=False)
    case = services.start_case(
        actor=users["helga"],
        process_key=process_id,
        person=PERSON,
        participants={kind: agencies[kind].pk for kind in ("health", "housing", "nav")},
    )
    task = Task.objects.get(case=case, element_id="Task_assess")
    services.complete_task(actor=users["helga"], task_id=task.pk, data={"needs_treatment": True})
    return case


def told(user, case) -> dict:
    """What ``user`` is told of the case's path: its tasks in the task list, the case's count
    of open tasks in the case list, its diagram and its open tasks."""
    client = api(user)
    tasks = client.get("/api/v1/tasks/").json()["results"]
    listed = next(row for row in client.get("/api/v1/cases/").json()["results"] if row["id"] == case.pk)
    diagram = client.get(f"/api/v1/cases/{case.pk}/diagram/").json()
    detail = client.get(f"/api/v1/cases/{case.pk}/").json()
    return {
        "tasks": sorted(row["name"] for row in tasks if row["case"]["id"] == case.pk),
        "open_task_count": listed["open_task_count"],
        "diagram": (sorted(diagram["completed"]), sorted(diagram["active"])),
        "open_tasks": sorted(row["name"] for row in detail["open_tasks"]),
    }


def test_a_gateway_on_a_script_s_variable_is_told_as_one_on_the_field_it_was_computed_from(users, agencies):
    direct = assessed_case(users, agencies, "Proc_direct", "needs_treatment == True")
    laundered = assessed_case(users, agencies, "Proc_flag", "flag == True")
    # The housing coordinator sees no health data (no consent): neither branch is told.
    assert told(users["bjorn"], laundered) == told(users["bjorn"], direct)
    assert "Betal omsorgsbolig" not in told(users["bjorn"], laundered)["tasks"]
    # NAV's own task is in NAV's inbox, whichever branch (as for any gateway).
    assert "Betal omsorgsbolig" in told(users["nils"], laundered)["tasks"]


REGISTER_FORM = {
    "type": "object",
    "properties": {"register_status": {"type": "string", "enum": ["listed", "not_listed"], "x-category": "housing"}},
    "additionalProperties": False,
}


def external_model() -> str:
    """The health service assesses, a script computes ``flag`` from its field, then the
    housing office's system (an external task) is sent ``flag`` and the field itself."""
    return f"""{HEADER}
  <bpmn:process id="Proc_register" name="Proc_register" isExecutable="true">
    <bpmn:laneSet id="LaneSet_1">
      <bpmn:lane id="Lane_health" name="Helse"><bpmn:flowNodeRef>Start_1</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>Task_assess</bpmn:flowNodeRef><bpmn:flowNodeRef>Script_flag</bpmn:flowNodeRef></bpmn:lane>
      <bpmn:lane id="Lane_housing" name="Boligkontakt"><bpmn:flowNodeRef>Service_1</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>End_1</bpmn:flowNodeRef></bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="Start_1"><bpmn:outgoing>F1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="Task_assess" name="Assess">{HEALTH}
      <bpmn:incoming>F1</bpmn:incoming><bpmn:outgoing>F2</bpmn:outgoing></bpmn:userTask>
    <bpmn:scriptTask id="Script_flag" name="Flag"><bpmn:incoming>F2</bpmn:incoming><bpmn:outgoing>F3</bpmn:outgoing>
      <bpmn:script>flag = needs_treatment</bpmn:script></bpmn:scriptTask>
    <bpmn:serviceTask id="Service_1" name="Register" camunda:type="external" camunda:topic="housing-register">
      <bpmn:extensionElements>
        <camunda:inputOutput>
          <camunda:inputParameter name="flag">${{flag}}</camunda:inputParameter>
          <camunda:inputParameter name="needs_treatment">${{needs_treatment}}</camunda:inputParameter>
          <camunda:outputParameter name="register_status">${{register_status}}</camunda:outputParameter>
        </camunda:inputOutput>
        <spiffworkflow:properties>
          <spiffworkflow:property name="formJsonSchemaFilename" value="register.schema.json"/>
        </spiffworkflow:properties>
      </bpmn:extensionElements>
      <bpmn:incoming>F3</bpmn:incoming><bpmn:outgoing>F4</bpmn:outgoing></bpmn:serviceTask>
    <bpmn:endEvent id="End_1"><bpmn:incoming>F4</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="F1" sourceRef="Start_1" targetRef="Task_assess"/>
    <bpmn:sequenceFlow id="F2" sourceRef="Task_assess" targetRef="Script_flag"/>
    <bpmn:sequenceFlow id="F3" sourceRef="Script_flag" targetRef="Service_1"/>
    <bpmn:sequenceFlow id="F4" sourceRef="Service_1" targetRef="End_1"/>
  </bpmn:process>
</bpmn:definitions>"""


def test_an_external_task_sends_no_script_variable_computed_from_a_field_the_agency_may_not_see(
    users, agencies, client_for
):
    deploy_definition(
        actor=None,
        bpmn_xml=external_model(),
        forms={"h.schema.json": HEALTH_FORM, "register.schema.json": REGISTER_FORM},
        check_permission=False,
    )
    case = services.start_case(
        actor=users["helga"],
        process_key="Proc_register",
        person=PERSON,
        participants={kind: agencies[kind].pk for kind in ("health", "housing")},
    )
    task = Task.objects.get(case=case, element_id="Task_assess")
    services.complete_task(actor=users["helga"], task_id=task.pk, data={"needs_treatment": True})
    topic = {"topicName": "housing-register", "lockDuration": 60000}
    answer = client_for("bjorn").post(
        "/api/v1/external-tasks/fetch-and-lock/", {"workerId": "w1", "maxTasks": 5, "topics": [topic]}, format="json"
    )
    assert answer.status_code == 200, answer.content
    (fetched,) = answer.json()
    # The housing office (the coordinator, no consent to health data) gets neither the health
    # value nor the script's copy of it.
    assert fetched["variables"] == {}
