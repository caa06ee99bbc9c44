"""Versioned deploys and incidents that keep the data entered before them."""

import json

import pytest

from bpmn.engine import runtime as engine
from bpmn.models import ProcessDefinition
from bpmn.services import InvalidModel, deploy_definition
from core.errors import Conflict, Forbidden, InvalidInput
from workflows import services, steps
from workflows.models import Event, EventKind, Incident, InstanceStatus, ProcessInstance

from ..conftest import PROCESSES
from .helpers import PERSON, open_tasks, start_prison_case

PRISON_BPMN = PROCESSES / "prison_release_to_housing.bpmn"


def _deploy(xml, forms=None, actor=None):
    from bpmn.loading import forms_for

    return deploy_definition(
        actor=actor, bpmn_xml=xml, forms=forms if forms is not None else forms_for(PRISON_BPMN),
        check_permission=actor is not None,
    )


def test_identical_content_is_the_same_version_and_changes_make_the_next(shipped, users, agencies):
    v1 = shipped["prison_release_to_housing"]
    again = _deploy(PRISON_BPMN.read_bytes())
    assert not again.created and again.definition.pk == v1.pk

    running = start_prison_case(users, agencies)
    changed_xml = PRISON_BPMN.read_text().replace('name="Finn bolig"', 'name="Finn bolig (ny)"')
    v2 = _deploy(changed_xml)
    assert v2.created and v2.definition.version == 2

    later = start_prison_case(users, agencies, person={"name": "Kari Nordmann", "national_id": "29822099635"})
    assert ProcessInstance.objects.get(case=running).definition.version == 1
    assert ProcessInstance.objects.get(case=later).definition.version == 2
    assert ProcessDefinition.objects.filter(key="prison_release_to_housing").count() == 2


def test_only_process_admins_deploy(shipped, users):
    with pytest.raises(Forbidden):
        _deploy(PRISON_BPMN.read_bytes(), actor=users["nils"])
    assert not _deploy(PRISON_BPMN.read_bytes(), actor=users["ada"]).created


def test_refused_model_stores_nothing(db):
    with pytest.raises(InvalidModel) as raised:
        _deploy(PRISON_BPMN.read_text().replace('name="Helse"', 'name="Ukjent etat"'))
    (issue,) = raised.value.issues
    assert (issue.code, issue.element_id) == ("unknown-lane", "Lane_health")
    assert "Ukjent etat" in issue.message
    assert not ProcessDefinition.objects.exists()


def test_start_case_names_the_missing_participant_and_the_bad_national_id(shipped, users, agencies):
    with pytest.raises(InvalidInput) as raised:
        services.start_case(
            actor=users["kari"], process_key="prison_release_to_housing",
            person={"name": "Ola", "national_id": "17912099998"},
            participants={"prison": agencies["prison"].pk, "nav": agencies["housing"].pk},
        )
    fields = {error["field"] for error in raised.value.errors}
    assert {"person.national_id", "participants.nav", "participants.health", "participants.housing"} <= fields
    with pytest.raises(InvalidInput) as raised:
        services.start_case(actor=users["kari"], process_key="nope", person=PERSON, participants={})
    assert raised.value.errors[0]["field"] == "process_key"


GATEWAY_MODEL = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="Defs_score">
  <bpmn:process id="score_check" name="Score check" isExecutable="true">
    <bpmn:laneSet id="LaneSet_1">
      <bpmn:lane id="Lane_nav" name="NAV">
        <bpmn:flowNodeRef>StartEvent_1</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>Task_assess</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>Gateway_score</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>Task_follow_up</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>End_high</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>End_low</bpmn:flowNodeRef>
      </bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="StartEvent_1"><bpmn:outgoing>F1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="Task_assess" name="Assess">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="formJsonSchemaFilename" value="assess.schema.json"/>
      </spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:incoming>F1</bpmn:incoming><bpmn:outgoing>F2</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:exclusiveGateway id="Gateway_score" default="F_low">
      <bpmn:incoming>F2</bpmn:incoming><bpmn:outgoing>F_high</bpmn:outgoing><bpmn:outgoing>F_low</bpmn:outgoing>
    </bpmn:exclusiveGateway>
    <bpmn:sequenceFlow id="F1" sourceRef="StartEvent_1" targetRef="Task_assess"/>
    <bpmn:sequenceFlow id="F2" sourceRef="Task_assess" targetRef="Gateway_score"/>
    <bpmn:sequenceFlow id="F_high" sourceRef="Gateway_score" targetRef="Task_follow_up">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">score &gt; 3</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="F_low" sourceRef="Gateway_score" targetRef="End_low"/>
    <bpmn:userTask id="Task_follow_up" name="Follow up">
      <bpmn:incoming>F_high</bpmn:incoming><bpmn:outgoing>F3</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="F3" sourceRef="Task_follow_up" targetRef="End_high"/>
    <bpmn:endEvent id="End_high"><bpmn:incoming>F3</bpmn:incoming></bpmn:endEvent>
    <bpmn:endEvent id="End_low"><bpmn:incoming>F_low</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>
"""
ASSESS_FORM = {
    "type": "object",
    "properties": {
        "note": {"type": "string", "x-category": "economy"},
        "score": {"type": "integer", "x-category": "economy"},
    },
    "required": ["note"],
}


def test_expression_error_in_a_gateway_is_an_incident_that_keeps_the_data(db, users, agencies):
    deploy_definition(actor=None, bpmn_xml=GATEWAY_MODEL, forms={"assess.schema.json": ASSESS_FORM},
                      check_permission=False)
    case = services.start_case(actor=users["nils"], process_key="score_check", person=PERSON,
                               participants={"nav": agencies["nav"].pk})
    (task,) = open_tasks(case)
    # "score" is optional in the form, so the gateway meets an unknown name.
    services.complete_task(actor=users["nils"], task_id=task.pk, data={"note": "first visit"})

    instance = ProcessInstance.objects.get(case=case)
    incident = Incident.objects.get(case=case)
    assert instance.status == InstanceStatus.INCIDENT
    assert incident.element_id == "Gateway_score" and "score" in incident.error
    assert Event.objects.filter(case=case, kind=EventKind.INCIDENT).count() == 1
    _, workflow = steps.load(instance)
    assert any(t.data.get("note") == "first visit" for t in workflow.get_tasks())  # nothing lost

    with pytest.raises(Conflict, match="failed again"):
        services.retry_incident(actor=users["ada"], incident_id=incident.pk)
    incident.refresh_from_db()
    assert incident.attempts == 2 and incident.resolved_at is None

    # The fix: the missing value is supplied (later issues do this through messages).
    for errored in workflow.get_tasks():
        errored.data.setdefault("score", 5)
    ProcessInstance.objects.filter(pk=instance.pk).update(state=engine.dump_workflow(workflow))
    services.retry_incident(actor=users["ada"], incident_id=incident.pk)

    incident.refresh_from_db()
    instance.refresh_from_db()
    assert incident.resolved_at is not None and incident.resolved_by == users["ada"]
    assert instance.status == InstanceStatus.RUNNING
    assert [t.element_id for t in open_tasks(case)] == ["Task_follow_up"]
    with pytest.raises(Exception):
        services.retry_incident(actor=users["nils"], incident_id=incident.pk)
    assert json.loads(instance.state)["typename"] == "BpmnWorkflow"
