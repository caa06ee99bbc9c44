"""An event's payload caught into a variable (a message's ``spiffworkflow:messageVariable``, an
error's, signal's or escalation's ``spiffworkflow:variableName``) carries what it holds under
the variable's name, to an agency's system as under its own name.

The health service's diagnosis reaches a case the housing office coordinates. Read as
``diagnosis``, the housing office's system is not sent it (the person gave no consent for
health data to the housing office; its case page masks it). Read as the catch's variable,
it was: a name no form has is restricted, and the coordinating agency sees restricted data,
so the payload left for the housing office's system (``bpmn.engine.element_needs.script_sources``
now counts a variable as carrying what the payloads caught into it read)."""

from permissions.models import AccessLog
from workflows.models import Job

from .test_external_tasks import assessed, fetch, fetched_after_consent, started_with_health

TOPIC = {"topicName": "housing-system", "lockDuration": 60000}

NOTICE_TO_HOUSING = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:camunda="http://camunda.org/schema/1.0/bpmn"
  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="Defs_notice">
  <bpmn:message id="Message_assessed" name="assessed"><bpmn:extensionElements><spiffworkflow:properties>
    <spiffworkflow:property name="senders" value="health"/>
    <spiffworkflow:property name="fields" value="diagnosis"/>
  </spiffworkflow:properties></bpmn:extensionElements></bpmn:message>
  <bpmn:process id="notice_to_housing" name="notice_to_housing" isExecutable="true">
    <bpmn:laneSet id="LaneSet_1">
      <bpmn:lane id="Lane_health" name="Helse"><bpmn:flowNodeRef>Task_assess</bpmn:flowNodeRef></bpmn:lane>
      <bpmn:lane id="Lane_housing" name="Boligkontakt">
        <bpmn:flowNodeRef>Start_1</bpmn:flowNodeRef><bpmn:flowNodeRef>Receive_1</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>Service_1</bpmn:flowNodeRef><bpmn:flowNodeRef>Task_plan</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>End_1</bpmn:flowNodeRef></bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="Start_1"><bpmn:outgoing>F1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:receiveTask id="Receive_1" name="Wait for the assessment" messageRef="Message_assessed">
      <bpmn:extensionElements><spiffworkflow:messageVariable>notice</spiffworkflow:messageVariable></bpmn:extensionElements>
      <bpmn:incoming>F1</bpmn:incoming><bpmn:outgoing>F2</bpmn:outgoing></bpmn:receiveTask>
    <bpmn:serviceTask id="Service_1" name="Housing system" camunda:type="external" camunda:topic="housing-system">
      <bpmn:extensionElements>
        <camunda:inputOutput>
          <camunda:inputParameter name="summary">${notice}</camunda:inputParameter>
          <camunda:inputParameter name="dx">${diagnosis}</camunda:inputParameter>
          <camunda:inputParameter name="scheme">bolig</camunda:inputParameter>
        </camunda:inputOutput>
      </bpmn:extensionElements>
      <bpmn:incoming>F2</bpmn:incoming><bpmn:outgoing>F3</bpmn:outgoing></bpmn:serviceTask>
    <bpmn:userTask id="Task_plan" name="Plan"><bpmn:extensionElements><spiffworkflow:properties>
      <spiffworkflow:property name="formJsonSchemaFilename" value="check.schema.json"/>
      </spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:incoming>F3</bpmn:incoming><bpmn:outgoing>F5</bpmn:outgoing></bpmn:userTask>
    <bpmn:userTask id="Task_assess" name="Assess"><bpmn:extensionElements><spiffworkflow:properties>
      <spiffworkflow:property name="formJsonSchemaFilename" value="assess.schema.json"/>
      </spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:incoming>F5</bpmn:incoming><bpmn:outgoing>F4</bpmn:outgoing></bpmn:userTask>
    <bpmn:endEvent id="End_1"><bpmn:incoming>F4</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="F1" sourceRef="Start_1" targetRef="Receive_1"/>
    <bpmn:sequenceFlow id="F2" sourceRef="Receive_1" targetRef="Service_1"/>
    <bpmn:sequenceFlow id="F3" sourceRef="Service_1" targetRef="Task_plan"/>
    <bpmn:sequenceFlow id="F5" sourceRef="Task_plan" targetRef="Task_assess"/>
    <bpmn:sequenceFlow id="F4" sourceRef="Task_assess" targetRef="End_1"/>
  </bpmn:process>
</bpmn:definitions>"""


def test_a_payload_caught_into_a_variable_reaches_the_coordinators_system_only_with_consent(
    client_for, users, agencies, consent_basis
):
    case = started_with_health(
        users, agencies, NOTICE_TO_HOUSING, "notice_to_housing", starter="bjorn", other="housing"
    )
    message = {"name": "assessed", "case_reference": case.reference, "payload": {"diagnosis": "F20.0"}}
    assert client_for("helga").post("/api/v1/messages/", message, format="json").status_code == 202
    bjorn = client_for("bjorn")
    assert bjorn.get(f"/api/v1/cases/{case.pk}/").json()["data"]["health"]["visible"] is False

    (task,) = fetch(bjorn, topics=[TOPIC])
    assert task["variables"] == {"scheme": {"value": "bolig"}}  # neither dx nor summary
    assert "F20.0" not in str(task)
    job = Job.objects.get(delivery_key=task["id"])
    assert "health" not in set(
        AccessLog.objects.filter(item=f"external-task:{job.pk}").values_list("category", flat=True)
    )

    again = fetched_after_consent(
        bjorn, users, agencies, consent_basis, case=case, agency="housing", task=task, topic=TOPIC
    )
    assert again["variables"] == {
        "summary": {"value": {"diagnosis": "F20.0"}},
        "dx": {"value": "F20.0"},
        "scheme": {"value": "bolig"},
    }
    assert AccessLog.objects.filter(item=f"external-task:{job.pk}", category="health", user=users["bjorn"]).exists()


# The health service's assessment ends in an error whose payload is the diagnosis; the
# boundary that catches it hands on to the housing office's system, whose input reads the
# error's variable.
ERROR_TO_HOUSING = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:camunda="http://camunda.org/schema/1.0/bpmn"
  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="Defs_err">
  <bpmn:error id="Error_1" name="not_ready" errorCode="not_ready"><bpmn:extensionElements>
    <spiffworkflow:payloadExpression>diagnosis</spiffworkflow:payloadExpression>
    <spiffworkflow:variableName>err</spiffworkflow:variableName>
  </bpmn:extensionElements></bpmn:error>
  <bpmn:process id="err_to_housing" name="err_to_housing" isExecutable="true">
    <bpmn:laneSet id="LaneSet_1">
      <bpmn:lane id="Lane_health" name="Helse">
        <bpmn:flowNodeRef>Start_1</bpmn:flowNodeRef><bpmn:flowNodeRef>Sub_1</bpmn:flowNodeRef></bpmn:lane>
      <bpmn:lane id="Lane_housing" name="Boligkontakt">
        <bpmn:flowNodeRef>Boundary_1</bpmn:flowNodeRef><bpmn:flowNodeRef>Service_1</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>Task_plan</bpmn:flowNodeRef><bpmn:flowNodeRef>End_1</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>End_2</bpmn:flowNodeRef></bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="Start_1"><bpmn:outgoing>F1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:subProcess id="Sub_1" name="Assessment"><bpmn:incoming>F1</bpmn:incoming><bpmn:outgoing>F9</bpmn:outgoing>
      <bpmn:startEvent id="SStart"><bpmn:outgoing>S1</bpmn:outgoing></bpmn:startEvent>
      <bpmn:userTask id="Task_assess" name="Assess"><bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="formJsonSchemaFilename" value="assess.schema.json"/>
        </spiffworkflow:properties></bpmn:extensionElements>
        <bpmn:incoming>S1</bpmn:incoming><bpmn:outgoing>S2</bpmn:outgoing></bpmn:userTask>
      <bpmn:endEvent id="SEnd"><bpmn:incoming>S2</bpmn:incoming><bpmn:errorEventDefinition errorRef="Error_1"/>
      </bpmn:endEvent>
      <bpmn:sequenceFlow id="S1" sourceRef="SStart" targetRef="Task_assess"/>
      <bpmn:sequenceFlow id="S2" sourceRef="Task_assess" targetRef="SEnd"/>
    </bpmn:subProcess>
    <bpmn:boundaryEvent id="Boundary_1" attachedToRef="Sub_1"><bpmn:outgoing>F2</bpmn:outgoing>
      <bpmn:errorEventDefinition errorRef="Error_1"/></bpmn:boundaryEvent>
    <bpmn:endEvent id="End_2"><bpmn:incoming>F9</bpmn:incoming></bpmn:endEvent>
    <bpmn:serviceTask id="Service_1" name="Housing system" camunda:type="external" camunda:topic="housing-system">
      <bpmn:extensionElements>
        <camunda:inputOutput>
          <camunda:inputParameter name="summary">${err}</camunda:inputParameter>
          <camunda:inputParameter name="scheme">bolig</camunda:inputParameter>
        </camunda:inputOutput>
      </bpmn:extensionElements>
      <bpmn:incoming>F2</bpmn:incoming><bpmn:outgoing>F3</bpmn:outgoing></bpmn:serviceTask>
    <bpmn:userTask id="Task_plan" name="Plan"><bpmn:extensionElements><spiffworkflow:properties>
      <spiffworkflow:property name="formJsonSchemaFilename" value="check.schema.json"/>
      </spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:incoming>F3</bpmn:incoming><bpmn:outgoing>F4</bpmn:outgoing></bpmn:userTask>
    <bpmn:endEvent id="End_1"><bpmn:incoming>F4</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="F1" sourceRef="Start_1" targetRef="Sub_1"/>
    <bpmn:sequenceFlow id="F9" sourceRef="Sub_1" targetRef="End_2"/>
    <bpmn:sequenceFlow id="F2" sourceRef="Boundary_1" targetRef="Service_1"/>
    <bpmn:sequenceFlow id="F3" sourceRef="Service_1" targetRef="Task_plan"/>
    <bpmn:sequenceFlow id="F4" sourceRef="Task_plan" targetRef="End_1"/>
  </bpmn:process>
</bpmn:definitions>"""


def test_an_errors_payload_caught_into_a_variable_reaches_the_coordinators_system_only_with_consent(
    client_for, users, agencies, consent_basis
):
    case = started_with_health(users, agencies, ERROR_TO_HOUSING, "err_to_housing", starter="bjorn", other="housing")
    assessed(users, case)
    bjorn = client_for("bjorn")

    (task,) = fetch(bjorn, topics=[TOPIC])
    assert task["variables"] == {"scheme": {"value": "bolig"}}
    assert "F20.0" not in str(task)

    again = fetched_after_consent(
        bjorn, users, agencies, consent_basis, case=case, agency="housing", task=task, topic=TOPIC
    )
    assert again["variables"] == {"summary": {"value": "F20.0"}, "scheme": {"value": "bolig"}}
