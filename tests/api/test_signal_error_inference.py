"""A signal, an escalation or an error thrown on a gateway's branch reaches its catches as a
message does: what the catch does then happens on that branch only. The path view followed
messages but not these: a signal thrown on the treatment branch started NAV's task at its
catch elsewhere, and an error ending a sub-process on that branch led, through the boundary
that caught it, to NAV's task; the housing coordinator, who may not see health data, saw the
task in its lists and the catch on the diagram, so the health value. They are edges of the
path now (``bpmn.engine.gateway_paths._message_edges``)."""

import pytest

from bpmn.services import deploy_definition
from tests.bpmn.engine.bpmn_snippets import definitions, lane_set
from workflows import services
from workflows.models import Task

from .test_script_variable_inference import FORMS, HEALTH, PAY, told

pytestmark = pytest.mark.django_db

TREATED = "<bpmn:conditionExpression>needs_treatment == True</bpmn:conditionExpression>"


def signal_model() -> str:
    lanes = {
        "Helse": ["StartEvent_1", "Task_assess", "Fork", "Gateway_treatment", "Throw_treat", "End_a", "End_b"],
        "NAV": ["Catch_treat", "Task_nav", "End_c"],
    }
    return definitions(f"""
        <bpmn:signal id="Signal_treat" name="treat"/>
        <bpmn:process id="Proc_signal" name="Proc_signal" isExecutable="true">
          {lane_set(lanes)}
          <bpmn:startEvent id="StartEvent_1"/>
          <bpmn:sequenceFlow id="F1" sourceRef="StartEvent_1" targetRef="Task_assess"/>
          <bpmn:userTask id="Task_assess" name="Assess">{HEALTH}</bpmn:userTask>
          <bpmn:sequenceFlow id="F2" sourceRef="Task_assess" targetRef="Fork"/>
          <bpmn:parallelGateway id="Fork"/>
          <bpmn:sequenceFlow id="F3" sourceRef="Fork" targetRef="Gateway_treatment"/>
          <bpmn:sequenceFlow id="F4" sourceRef="Fork" targetRef="Catch_treat"/>
          <bpmn:exclusiveGateway id="Gateway_treatment" default="F6"/>
          <bpmn:sequenceFlow id="F5" sourceRef="Gateway_treatment" targetRef="Throw_treat">{TREATED}</bpmn:sequenceFlow>
          <bpmn:sequenceFlow id="F6" sourceRef="Gateway_treatment" targetRef="End_b"/>
          <bpmn:intermediateThrowEvent id="Throw_treat">
            <bpmn:signalEventDefinition signalRef="Signal_treat"/>
          </bpmn:intermediateThrowEvent>
          <bpmn:sequenceFlow id="F7" sourceRef="Throw_treat" targetRef="End_a"/>
          <bpmn:endEvent id="End_a"/>
          <bpmn:endEvent id="End_b"/>
          <bpmn:intermediateCatchEvent id="Catch_treat">
            <bpmn:signalEventDefinition signalRef="Signal_treat"/>
          </bpmn:intermediateCatchEvent>
          <bpmn:sequenceFlow id="F8" sourceRef="Catch_treat" targetRef="Task_nav"/>
          <bpmn:userTask id="Task_nav" name="Betal behandling">{PAY}</bpmn:userTask>
          <bpmn:sequenceFlow id="F9" sourceRef="Task_nav" targetRef="End_c"/>
          <bpmn:endEvent id="End_c"/>
        </bpmn:process>
    """)


def error_model() -> str:
    lanes = {
        "Helse": ["StartEvent_1", "Task_assess", "Sub_check", "Caught_treat"],
        "NAV": ["Task_nav", "Task_rent", "End_c", "End_d"],
    }
    return definitions(f"""
        <bpmn:error id="Error_treat" name="treat" errorCode="treat"/>
        <bpmn:process id="Proc_error" name="Proc_error" isExecutable="true">
          {lane_set(lanes)}
          <bpmn:startEvent id="StartEvent_1"/>
          <bpmn:sequenceFlow id="F1" sourceRef="StartEvent_1" targetRef="Task_assess"/>
          <bpmn:userTask id="Task_assess" name="Assess">{HEALTH}</bpmn:userTask>
          <bpmn:sequenceFlow id="F2" sourceRef="Task_assess" targetRef="Sub_check"/>
          <bpmn:subProcess id="Sub_check">
            <bpmn:startEvent id="Sub_start"/>
            <bpmn:sequenceFlow id="S1" sourceRef="Sub_start" targetRef="Gateway_treatment"/>
            <bpmn:exclusiveGateway id="Gateway_treatment" default="S3"/>
            <bpmn:sequenceFlow id="S2" sourceRef="Gateway_treatment" targetRef="Sub_error">{TREATED}</bpmn:sequenceFlow>
            <bpmn:sequenceFlow id="S3" sourceRef="Gateway_treatment" targetRef="Sub_end"/>
            <bpmn:endEvent id="Sub_error"><bpmn:errorEventDefinition errorRef="Error_treat"/></bpmn:endEvent>
            <bpmn:endEvent id="Sub_end"/>
          </bpmn:subProcess>
          <bpmn:boundaryEvent id="Caught_treat" attachedToRef="Sub_check">
            <bpmn:errorEventDefinition errorRef="Error_treat"/>
          </bpmn:boundaryEvent>
          <bpmn:sequenceFlow id="F3" sourceRef="Caught_treat" targetRef="Task_nav"/>
          <bpmn:sequenceFlow id="F4" sourceRef="Sub_check" targetRef="Task_rent"/>
          <bpmn:userTask id="Task_nav" name="Betal behandling">{PAY}</bpmn:userTask>
          <bpmn:userTask id="Task_rent" name="Betal husleie">{PAY}</bpmn:userTask>
          <bpmn:sequenceFlow id="F5" sourceRef="Task_nav" targetRef="End_c"/>
          <bpmn:sequenceFlow id="F6" sourceRef="Task_rent" targetRef="End_d"/>
          <bpmn:endEvent id="End_c"/>
          <bpmn:endEvent id="End_d"/>
        </bpmn:process>
    """)


def assessed(users, agencies, process_key: str, needs_treatment: bool, national_id: str):
    case = services.start_case(
        actor=users["helga"],
        process_key=process_key,
        person={"name": "Ola Nordmann", "national_id": national_id},
        participants={kind: agencies[kind].pk for kind in ("health", "housing", "nav")},
    )
    task = Task.objects.get(case=case, element_id="Task_assess")
    services.complete_task(actor=users["helga"], task_id=task.pk, data={"needs_treatment": needs_treatment})
    return case


def test_what_a_branch_s_signal_sets_off_is_told_as_the_branch_is(users, agencies):
    deploy_definition(actor=None, bpmn_xml=signal_model(), forms=FORMS, check_permission=False)
    treated = assessed(users, agencies, "Proc_signal", True, "17912099997")
    untreated = assessed(users, agencies, "Proc_signal", False, "29822099635")
    assert Task.objects.filter(case=treated, element_id="Task_nav").exists()
    assert not Task.objects.filter(case=untreated, element_id="Task_nav").exists()
    # The housing coordinator (no consent to health data) is told the same of both cases.
    assert told(users["bjorn"], treated) == told(users["bjorn"], untreated)
    # NAV's own task is in NAV's inbox; the health service sees where its field led.
    assert "Betal behandling" in told(users["nils"], treated)["tasks"]
    assert "Betal behandling" in told(users["helga"], treated)["open_tasks"]


def test_what_an_error_thrown_on_a_branch_leads_to_is_hidden_as_the_branch_is(users, agencies):
    deploy_definition(actor=None, bpmn_xml=error_model(), forms=FORMS, check_permission=False)
    treated = assessed(users, agencies, "Proc_error", True, "17912099997")
    assert Task.objects.filter(case=treated, element_id="Task_nav").exists()
    shown = told(users["bjorn"], treated)
    assert "Betal behandling" not in shown["tasks"] + shown["open_tasks"]
    assert "Caught_treat" not in shown["diagram"][0] + shown["diagram"][1]
    assert shown["open_task_count"] == 0
    assert "Betal behandling" in told(users["helga"], treated)["open_tasks"]
