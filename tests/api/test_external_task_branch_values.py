"""A value set on a branch the gateway chose by a masked field tells the branch, and so the field.

The health service's assessment chooses a branch by the diagnosis; a script on each branch
sets ``route``, a literal. The housing office (the coordinator, without the person's consent
to see health data) is not shown the branch: its diagram leaves out both scripts. Its
system's external task reads ``route``: a literal computed from nothing, it was sent
(``"psych"``), and the branch with it. A name set on a branch of a gateway now carries what the
gateway read (``DefinitionRuntime.script_sources``), so it is withheld as the diagnosis is."""

from bpmn.services import deploy_definition
from workflows import services

from .test_external_tasks import (
    ASSESS_FORM,
    FORMS,
    PERSON,
    assessed,
    fetch,
    fetched_after_consent,
    started_with_health,
)

TOPIC = {"topicName": "housing-system", "lockDuration": 60000}

ROUTE_TO_HOUSING = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:camunda="http://camunda.org/schema/1.0/bpmn"
  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="Defs_route">
  <bpmn:process id="route_to_housing" name="route_to_housing" isExecutable="true">
    <bpmn:laneSet id="LaneSet_1">
      <bpmn:lane id="Lane_health" name="Helse"><bpmn:flowNodeRef>Start_1</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>Task_assess</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>GW</bpmn:flowNodeRef><bpmn:flowNodeRef>S_a</bpmn:flowNodeRef><bpmn:flowNodeRef>S_b</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>GW2</bpmn:flowNodeRef></bpmn:lane>
      <bpmn:lane id="Lane_housing" name="Boligkontakt">
        <bpmn:flowNodeRef>Service_1</bpmn:flowNodeRef><bpmn:flowNodeRef>Task_plan</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>End_1</bpmn:flowNodeRef></bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="Start_1"><bpmn:outgoing>F1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="Task_assess" name="Assess"><bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="formJsonSchemaFilename" value="assess.schema.json"/>
        </spiffworkflow:properties></bpmn:extensionElements>
        <bpmn:incoming>F1</bpmn:incoming><bpmn:outgoing>F2</bpmn:outgoing></bpmn:userTask>
    <bpmn:exclusiveGateway id="GW" default="Fb"><bpmn:incoming>F2</bpmn:incoming>
      <bpmn:outgoing>Fa</bpmn:outgoing><bpmn:outgoing>Fb</bpmn:outgoing></bpmn:exclusiveGateway>
    <bpmn:scriptTask id="S_a" name="A"><bpmn:incoming>Fa</bpmn:incoming><bpmn:outgoing>Fa2</bpmn:outgoing>
      <bpmn:script>route = "psych"</bpmn:script></bpmn:scriptTask>
    <bpmn:scriptTask id="S_b" name="B"><bpmn:incoming>Fb</bpmn:incoming><bpmn:outgoing>Fb2</bpmn:outgoing>
      <bpmn:script>route = "other"</bpmn:script></bpmn:scriptTask>
    <bpmn:exclusiveGateway id="GW2"><bpmn:incoming>Fa2</bpmn:incoming><bpmn:incoming>Fb2</bpmn:incoming>
      <bpmn:outgoing>F3</bpmn:outgoing></bpmn:exclusiveGateway>
    <bpmn:serviceTask id="Service_1" name="Housing system" camunda:type="external" camunda:topic="housing-system">
      <bpmn:extensionElements>
        <camunda:inputOutput>
          <camunda:inputParameter name="summary">${route}</camunda:inputParameter>
        </camunda:inputOutput>
      </bpmn:extensionElements>
      <bpmn:incoming>F3</bpmn:incoming><bpmn:outgoing>F4</bpmn:outgoing></bpmn:serviceTask>
    <bpmn:userTask id="Task_plan" name="Plan"><bpmn:extensionElements><spiffworkflow:properties>
      <spiffworkflow:property name="formJsonSchemaFilename" value="check.schema.json"/>
      </spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:incoming>F4</bpmn:incoming><bpmn:outgoing>F5</bpmn:outgoing></bpmn:userTask>
    <bpmn:endEvent id="End_1"><bpmn:incoming>F5</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="F1" sourceRef="Start_1" targetRef="Task_assess"/>
    <bpmn:sequenceFlow id="F2" sourceRef="Task_assess" targetRef="GW"/>
    <bpmn:sequenceFlow id="Fa" sourceRef="GW" targetRef="S_a">
      <bpmn:conditionExpression>diagnosis == "F20.0"</bpmn:conditionExpression></bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="Fb" sourceRef="GW" targetRef="S_b"/>
    <bpmn:sequenceFlow id="Fa2" sourceRef="S_a" targetRef="GW2"/>
    <bpmn:sequenceFlow id="Fb2" sourceRef="S_b" targetRef="GW2"/>
    <bpmn:sequenceFlow id="F3" sourceRef="GW2" targetRef="Service_1"/>
    <bpmn:sequenceFlow id="F4" sourceRef="Service_1" targetRef="Task_plan"/>
    <bpmn:sequenceFlow id="F5" sourceRef="Task_plan" targetRef="End_1"/>
  </bpmn:process>
</bpmn:definitions>"""


def test_a_value_set_on_a_hidden_branch_is_withheld_from_the_coordinators_system(
    client_for, users, agencies, consent_basis
):
    case = started_with_health(users, agencies, ROUTE_TO_HOUSING, "route_to_housing", starter="bjorn", other="housing")
    assessed(users, case)
    bjorn = client_for("bjorn")
    completed = bjorn.get(f"/api/v1/cases/{case.pk}/diagram/").json()["completed"]
    assert "S_a" not in completed and "S_b" not in completed  # the branch is hidden from the coordinator

    (task,) = fetch(bjorn, topics=[TOPIC])
    assert task["variables"] == {}
    assert "psych" not in str(task)

    again = fetched_after_consent(
        bjorn, users, agencies, consent_basis, case=case, agency="housing", task=task, topic=TOPIC
    )
    assert again["variables"] == {"summary": {"value": "psych"}}


# The same branch and scripts in a process of a file deployed with the model, which a call
# activity calls: the service task is the calling model's.
CALLING = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:camunda="http://camunda.org/schema/1.0/bpmn"
  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="Defs_route">
  <bpmn:process id="route_to_housing" name="route_to_housing" isExecutable="true">
    <bpmn:laneSet id="LaneSet_1">
      <bpmn:lane id="Lane_health" name="Helse"><bpmn:flowNodeRef>Start_1</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>Task_assess</bpmn:flowNodeRef><bpmn:flowNodeRef>Call_route</bpmn:flowNodeRef></bpmn:lane>
      <bpmn:lane id="Lane_housing" name="Boligkontakt">
        <bpmn:flowNodeRef>Service_1</bpmn:flowNodeRef><bpmn:flowNodeRef>Task_plan</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>End_1</bpmn:flowNodeRef></bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="Start_1"><bpmn:outgoing>F1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="Task_assess" name="Assess"><bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="formJsonSchemaFilename" value="assess.schema.json"/>
        </spiffworkflow:properties></bpmn:extensionElements>
        <bpmn:incoming>F1</bpmn:incoming><bpmn:outgoing>F2</bpmn:outgoing></bpmn:userTask>
    <bpmn:callActivity id="Call_route" calledElement="route_proc"><bpmn:incoming>F2</bpmn:incoming>
      <bpmn:outgoing>F3</bpmn:outgoing></bpmn:callActivity>
    <bpmn:serviceTask id="Service_1" name="Housing system" camunda:type="external" camunda:topic="housing-system">
      <bpmn:extensionElements>
        <camunda:inputOutput>
          <camunda:inputParameter name="summary">${route}</camunda:inputParameter>
        </camunda:inputOutput>
      </bpmn:extensionElements>
      <bpmn:incoming>F3</bpmn:incoming><bpmn:outgoing>F4</bpmn:outgoing></bpmn:serviceTask>
    <bpmn:userTask id="Task_plan" name="Plan"><bpmn:extensionElements><spiffworkflow:properties>
      <spiffworkflow:property name="formJsonSchemaFilename" value="check.schema.json"/>
      </spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:incoming>F4</bpmn:incoming><bpmn:outgoing>F5</bpmn:outgoing></bpmn:userTask>
    <bpmn:endEvent id="End_1"><bpmn:incoming>F5</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="F1" sourceRef="Start_1" targetRef="Task_assess"/>
    <bpmn:sequenceFlow id="F2" sourceRef="Task_assess" targetRef="Call_route"/>
    <bpmn:sequenceFlow id="F3" sourceRef="Call_route" targetRef="Service_1"/>
    <bpmn:sequenceFlow id="F4" sourceRef="Service_1" targetRef="Task_plan"/>
    <bpmn:sequenceFlow id="F5" sourceRef="Task_plan" targetRef="End_1"/>
  </bpmn:process>
</bpmn:definitions>"""

ROUTE_FILE = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="Defs_called">
  <bpmn:process id="route_proc" isExecutable="true">
    <bpmn:laneSet id="LaneSet_2">
      <bpmn:lane id="Lane_h2" name="Helse"><bpmn:flowNodeRef>S2</bpmn:flowNodeRef>
      <bpmn:flowNodeRef>GW</bpmn:flowNodeRef>
      <bpmn:flowNodeRef>S_a</bpmn:flowNodeRef><bpmn:flowNodeRef>S_b</bpmn:flowNodeRef><bpmn:flowNodeRef>GW2</bpmn:flowNodeRef>
      <bpmn:flowNodeRef>E2</bpmn:flowNodeRef></bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="S2"><bpmn:outgoing>G1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:exclusiveGateway id="GW" default="Fb"><bpmn:incoming>G1</bpmn:incoming>
      <bpmn:outgoing>Fa</bpmn:outgoing><bpmn:outgoing>Fb</bpmn:outgoing></bpmn:exclusiveGateway>
    <bpmn:scriptTask id="S_a" name="A"><bpmn:incoming>Fa</bpmn:incoming><bpmn:outgoing>Fa2</bpmn:outgoing>
      <bpmn:script>route = "psych"</bpmn:script></bpmn:scriptTask>
    <bpmn:scriptTask id="S_b" name="B"><bpmn:incoming>Fb</bpmn:incoming><bpmn:outgoing>Fb2</bpmn:outgoing>
      <bpmn:script>route = "other"</bpmn:script></bpmn:scriptTask>
    <bpmn:exclusiveGateway id="GW2"><bpmn:incoming>Fa2</bpmn:incoming><bpmn:incoming>Fb2</bpmn:incoming>
      <bpmn:outgoing>G3</bpmn:outgoing></bpmn:exclusiveGateway>
    <bpmn:endEvent id="E2"><bpmn:incoming>G3</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="G1" sourceRef="S2" targetRef="GW"/>
    <bpmn:sequenceFlow id="Fa" sourceRef="GW" targetRef="S_a">
      <bpmn:conditionExpression>diagnosis == "F20.0"</bpmn:conditionExpression></bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="Fb" sourceRef="GW" targetRef="S_b"/>
    <bpmn:sequenceFlow id="Fa2" sourceRef="S_a" targetRef="GW2"/>
    <bpmn:sequenceFlow id="Fb2" sourceRef="S_b" targetRef="GW2"/>
    <bpmn:sequenceFlow id="G3" sourceRef="GW2" targetRef="E2"/>
  </bpmn:process>
</bpmn:definitions>"""


def test_a_value_set_on_a_hidden_branch_of_a_called_file_is_withheld_too(client_for, users, agencies, consent_basis):
    """A script's variable carried what it was computed from only as the model's own file
    said (``DefinitionRuntime.script_sources``): set on a branch of a gateway inside a called
    file, ``route`` was sent to the coordinator's system ("psych") until 2026-12-06."""
    deploy_definition(
        actor=None,
        bpmn_xml=CALLING,
        forms={"assess.schema.json": ASSESS_FORM, "check.schema.json": FORMS["check.schema.json"]},
        called=[{"filename": "route.bpmn", "bpmn_xml": ROUTE_FILE}],
        check_permission=False,
    )
    case = services.start_case(
        actor=users["bjorn"],
        process_key="route_to_housing",
        person=PERSON,
        participants={"health": agencies["health"].pk, "housing": agencies["housing"].pk},
    )
    assessed(users, case)
    bjorn = client_for("bjorn")
    (task,) = fetch(bjorn, topics=[TOPIC])
    assert task["variables"] == {} and "psych" not in str(task)
    again = fetched_after_consent(
        bjorn, users, agencies, consent_basis, case=case, agency="housing", task=task, topic=TOPIC
    )
    assert again["variables"] == {"summary": {"value": "psych"}}
