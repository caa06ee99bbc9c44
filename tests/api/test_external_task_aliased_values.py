"""A script that changes a value through another name carries what it wrote into that value.

The health service's assessment finds a diagnosis. A first script sets ``summary = {}``: a
literal, a name no form has (restricted: the coordinator sees it). A second script writes the
diagnosis into that same dictionary through another way to it (``alias = summary`` then
``alias["note"] = diagnosis``; or ``[summary][0]["note"] = ...``, with no name of its own at
all), which changes ``summary`` in place. The housing office's system (the coordinator's,
without the person's consent to see health data) is sent ``summary`` by an external task:
the analysis of what a name carries (``element_needs.script_sources``) took ``summary`` for a
literal, since no script set or changed it by its own name, and the diagnosis left with it."""

import pytest

from .test_external_tasks import assessed, fetch, fetched_after_consent, started_with_health

TOPIC = {"topicName": "housing-system", "lockDuration": 60000}

MODEL = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:camunda="http://camunda.org/schema/1.0/bpmn"
  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="Defs_alias">
  <bpmn:process id="alias_to_housing" name="alias_to_housing" isExecutable="true">
    <bpmn:laneSet id="LaneSet_1">
      <bpmn:lane id="Lane_health" name="Helse"><bpmn:flowNodeRef>Start_1</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>Task_assess</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>S_init</bpmn:flowNodeRef><bpmn:flowNodeRef>S_copy</bpmn:flowNodeRef></bpmn:lane>
      <bpmn:lane id="Lane_housing" name="Boligkontakt">
        <bpmn:flowNodeRef>Service_1</bpmn:flowNodeRef><bpmn:flowNodeRef>Task_plan</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>End_1</bpmn:flowNodeRef></bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="Start_1"><bpmn:outgoing>F1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="Task_assess" name="Assess"><bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="formJsonSchemaFilename" value="assess.schema.json"/>
        </spiffworkflow:properties></bpmn:extensionElements>
        <bpmn:incoming>F1</bpmn:incoming><bpmn:outgoing>F2</bpmn:outgoing></bpmn:userTask>
    <bpmn:scriptTask id="S_init" name="Init"><bpmn:incoming>F2</bpmn:incoming><bpmn:outgoing>F3</bpmn:outgoing>
      <bpmn:script>summary = {}</bpmn:script></bpmn:scriptTask>
    <bpmn:scriptTask id="S_copy" name="Copy"><bpmn:incoming>F3</bpmn:incoming><bpmn:outgoing>F4</bpmn:outgoing>
      <bpmn:script>COPY</bpmn:script></bpmn:scriptTask>
    <bpmn:serviceTask id="Service_1" name="Housing system" camunda:type="external" camunda:topic="housing-system">
      <bpmn:extensionElements>
        <camunda:inputOutput>
          <camunda:inputParameter name="summary">${summary}</camunda:inputParameter>
        </camunda:inputOutput>
      </bpmn:extensionElements>
      <bpmn:incoming>F4</bpmn:incoming><bpmn:outgoing>F5</bpmn:outgoing></bpmn:serviceTask>
    <bpmn:userTask id="Task_plan" name="Plan"><bpmn:extensionElements><spiffworkflow:properties>
      <spiffworkflow:property name="formJsonSchemaFilename" value="check.schema.json"/>
      </spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:incoming>F5</bpmn:incoming><bpmn:outgoing>F6</bpmn:outgoing></bpmn:userTask>
    <bpmn:endEvent id="End_1"><bpmn:incoming>F6</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="F1" sourceRef="Start_1" targetRef="Task_assess"/>
    <bpmn:sequenceFlow id="F2" sourceRef="Task_assess" targetRef="S_init"/>
    <bpmn:sequenceFlow id="F3" sourceRef="S_init" targetRef="S_copy"/>
    <bpmn:sequenceFlow id="F4" sourceRef="S_copy" targetRef="Service_1"/>
    <bpmn:sequenceFlow id="F5" sourceRef="Service_1" targetRef="Task_plan"/>
    <bpmn:sequenceFlow id="F6" sourceRef="Task_plan" targetRef="End_1"/>
  </bpmn:process>
</bpmn:definitions>"""

COPIES = {
    "a name for the same value": 'alias = summary\nalias["note"] = diagnosis',
    "a list holding it": '[summary][0]["note"] = diagnosis',
    "a dictionary holding it": '{"s": summary}["s"]["note"] = diagnosis',
    "a method's answer": 'box = {"s": summary}\nbox.get("s")["note"] = diagnosis',
    "a loop's name": 'for each in [summary]:\n    each["note"] = diagnosis',
}


@pytest.mark.parametrize("copy", list(COPIES.values()), ids=list(COPIES))
def test_a_health_value_written_into_a_literal_through_another_name_stays_with_health(
    client_for, users, agencies, consent_basis, copy
):
    case = started_with_health(
        users, agencies, MODEL.replace("COPY", copy), "alias_to_housing", starter="bjorn", other="housing"
    )
    assessed(users, case)
    bjorn = client_for("bjorn")

    (task,) = fetch(bjorn, topics=[TOPIC])
    assert "F20.0" not in str(task)
    assert task["variables"] == {}

    # With the person's consent the housing office's system is sent it, as before.
    again = fetched_after_consent(
        bjorn, users, agencies, consent_basis, case=case, agency="housing", task=task, topic=TOPIC
    )
    assert again["variables"] == {"summary": {"value": {"note": "F20.0"}}}
