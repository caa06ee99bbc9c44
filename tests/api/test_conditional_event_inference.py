"""A conditional event fires when its condition on the case's data holds: what it does then
tells the value, as a gateway's branch does. A conditional catch on ``needs_treatment ==
True`` before a NAV task showed the housing coordinator, who may not see health data, the
NAV task in its task list, the case's count and open tasks, and the event done on the
diagram. It is now a split of its own, as a timer whose moment the data sets
(``bpmn.engine.gateway_paths.timer_paths``): a reader who may not see what it reads is told
nothing of its firing."""

import pytest

from bpmn.services import deploy_definition
from tests.bpmn.engine.bpmn_snippets import definitions, lane_set
from workflows import services
from workflows.models import Task

from .test_script_variable_inference import FORMS, HEALTH, PAY, told

pytestmark = pytest.mark.django_db


def conditional_model() -> str:
    lanes = {
        "Helse": ["StartEvent_1", "Task_assess", "Gateway_fork"],
        "NAV": ["Task_pay", "Catch_treatment", "Task_treatment", "EndEvent_1", "EndEvent_2"],
    }
    return definitions(f"""
        <bpmn:process id="Proc_when" name="Proc_when" isExecutable="true">
          {lane_set(lanes)}
          <bpmn:startEvent id="StartEvent_1"/>
          <bpmn:sequenceFlow id="Flow_1" sourceRef="StartEvent_1" targetRef="Task_assess"/>
          <bpmn:userTask id="Task_assess" name="Assess">{HEALTH}</bpmn:userTask>
          <bpmn:sequenceFlow id="Flow_2" sourceRef="Task_assess" targetRef="Gateway_fork"/>
          <bpmn:parallelGateway id="Gateway_fork"/>
          <bpmn:sequenceFlow id="Flow_3" sourceRef="Gateway_fork" targetRef="Task_pay"/>
          <bpmn:sequenceFlow id="Flow_4" sourceRef="Gateway_fork" targetRef="Catch_treatment"/>
          <bpmn:intermediateCatchEvent id="Catch_treatment" name="Behandling">
            <bpmn:conditionalEventDefinition>
              <bpmn:condition>needs_treatment == True</bpmn:condition>
            </bpmn:conditionalEventDefinition>
          </bpmn:intermediateCatchEvent>
          <bpmn:sequenceFlow id="Flow_5" sourceRef="Catch_treatment" targetRef="Task_treatment"/>
          <bpmn:userTask id="Task_pay" name="Betal husleie">{PAY}</bpmn:userTask>
          <bpmn:userTask id="Task_treatment" name="Betal behandlingsopphold">{PAY}</bpmn:userTask>
          <bpmn:sequenceFlow id="Flow_6" sourceRef="Task_pay" targetRef="EndEvent_1"/>
          <bpmn:sequenceFlow id="Flow_7" sourceRef="Task_treatment" targetRef="EndEvent_2"/>
          <bpmn:endEvent id="EndEvent_1"/>
          <bpmn:endEvent id="EndEvent_2"/>
        </bpmn:process>
    """)


def assessed(users, agencies, needs_treatment: bool, national_id: str):
    case = services.start_case(
        actor=users["helga"],
        process_key="Proc_when",
        person={"name": "Ola Nordmann", "national_id": national_id},
        participants={kind: agencies[kind].pk for kind in ("health", "housing", "nav")},
    )
    task = Task.objects.get(case=case, element_id="Task_assess")
    services.complete_task(actor=users["helga"], task_id=task.pk, data={"needs_treatment": needs_treatment})
    return case


def test_a_conditional_event_s_firing_tells_nobody_the_value_it_reads(users, agencies):
    deploy_definition(actor=None, bpmn_xml=conditional_model(), forms=FORMS, check_permission=False)
    treated = assessed(users, agencies, True, "17912099997")
    untreated = assessed(users, agencies, False, "29822099635")
    assert Task.objects.filter(case=treated, element_id="Task_treatment").exists()
    # The housing coordinator (no consent to health data) is told the same of both cases.
    assert told(users["bjorn"], treated) == told(users["bjorn"], untreated)
    assert "Betal behandlingsopphold" not in told(users["bjorn"], treated)["tasks"]
    # NAV's own task is in NAV's inbox; the health service sees what its field set off.
    assert "Betal behandlingsopphold" in told(users["nils"], treated)["tasks"]
    assert "Betal behandlingsopphold" in told(users["helga"], treated)["open_tasks"]
