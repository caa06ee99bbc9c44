"""How many tasks a multi-instance makes tells the value its count reads.

A NAV task made ``2 if needs_treatment else 1`` times showed the housing coordinator, who
may not see health data, one or two of NAV's tasks in its task list, the case's count of open
tasks, the case's open tasks and its diagram: the health value, as a gateway's branch would
have told it had the path view counted loops. A loop whose count (or end) reads data is now
a split of its own (``bpmn.engine.gateway_paths.loop_paths``): a reader who may not see what
it reads is told nothing of its tasks, as of a hidden timer's."""

import pytest

from bpmn.services import deploy_definition
from tests.bpmn.engine.bpmn_snippets import definitions, lane_set
from workflows import services
from workflows.models import Task

from .test_script_variable_inference import FORMS, HEALTH, PAY, told

pytestmark = pytest.mark.django_db


def loop_model() -> str:
    lanes = {"Helse": ["StartEvent_1", "Task_assess"], "NAV": ["Task_pay", "Task_after", "EndEvent_1"]}
    return definitions(f"""
        <bpmn:process id="Proc_weeks" name="Proc_weeks" isExecutable="true">
          {lane_set(lanes)}
          <bpmn:startEvent id="StartEvent_1"/>
          <bpmn:sequenceFlow id="Flow_1" sourceRef="StartEvent_1" targetRef="Task_assess"/>
          <bpmn:userTask id="Task_assess" name="Assess">{HEALTH}</bpmn:userTask>
          <bpmn:sequenceFlow id="Flow_2" sourceRef="Task_assess" targetRef="Task_pay"/>
          <bpmn:userTask id="Task_pay" name="Betal behandlingsuke">{PAY}
            <bpmn:multiInstanceLoopCharacteristics>
              <bpmn:loopCardinality>2 if needs_treatment else 1</bpmn:loopCardinality>
            </bpmn:multiInstanceLoopCharacteristics>
          </bpmn:userTask>
          <bpmn:sequenceFlow id="Flow_3" sourceRef="Task_pay" targetRef="Task_after"/>
          <bpmn:userTask id="Task_after" name="Etterpå">{PAY}</bpmn:userTask>
          <bpmn:sequenceFlow id="Flow_4" sourceRef="Task_after" targetRef="EndEvent_1"/>
          <bpmn:endEvent id="EndEvent_1"/>
        </bpmn:process>
    """)


def assessed(users, agencies, needs_treatment: bool, national_id: str):
    case = services.start_case(
        actor=users["helga"],
        process_key="Proc_weeks",
        person={"name": "Ola Nordmann", "national_id": national_id},
        participants={kind: agencies[kind].pk for kind in ("health", "housing", "nav")},
    )
    task = Task.objects.get(case=case, element_id="Task_assess")
    services.complete_task(actor=users["helga"], task_id=task.pk, data={"needs_treatment": needs_treatment})
    return case


def test_a_loop_s_count_of_tasks_tells_nobody_the_value_it_reads(users, agencies):
    deploy_definition(actor=None, bpmn_xml=loop_model(), forms=FORMS, check_permission=False)
    treated = assessed(users, agencies, True, "17912099997")
    untreated = assessed(users, agencies, False, "29822099635")
    # The housing coordinator (no consent to health data) is told the same of both cases.
    assert told(users["bjorn"], treated) == told(users["bjorn"], untreated)
    assert told(users["bjorn"], treated)["open_task_count"] == 0
    # NAV's own tasks are in NAV's inbox; the health service sees what its field made.
    assert told(users["nils"], treated)["tasks"].count("Betal behandlingsuke") == 2
    assert told(users["helga"], treated)["open_tasks"] == ["Betal behandlingsuke"] * 2
    assert told(users["helga"], untreated)["open_tasks"] == ["Betal behandlingsuke"]


LOOP = (
    "<bpmn:multiInstanceLoopCharacteristics>"
    "<bpmn:loopCardinality>2 if needs_treatment else 1</bpmn:loopCardinality>"
    "</bpmn:multiInstanceLoopCharacteristics>"
)
INNER = f"""
            <bpmn:startEvent id="S_in"/>
            <bpmn:sequenceFlow id="Fi1" sourceRef="S_in" targetRef="Task_pay"/>
            <bpmn:userTask id="Task_pay" name="Betal behandlingsuke">{PAY}</bpmn:userTask>
            <bpmn:sequenceFlow id="Fi2" sourceRef="Task_pay" targetRef="E_in"/>
            <bpmn:endEvent id="E_in"/>
"""


def container_loop_model(kind: str) -> str:
    """The NAV task inside a sub-process (or a process a call activity calls) that is made
    ``2 if needs_treatment else 1`` times."""
    if kind == "sub-process":
        activity = f'<bpmn:subProcess id="Sub_pay">{LOOP}{INNER}</bpmn:subProcess>'
        called, nav = "", ["Sub_pay", "S_in", "Task_pay", "E_in"]
    else:
        activity = f'<bpmn:callActivity id="Sub_pay" calledElement="Proc_pay">{LOOP}</bpmn:callActivity>'
        inner_lanes = lane_set({"NAV": ["S_in", "Task_pay", "E_in"]}, lane_set_id="LaneSet_pay")
        called = f"""<bpmn:process id="Proc_pay" isExecutable="true">
            {inner_lanes.replace('id="Lane_', 'id="Lane_pay_')}{INNER}</bpmn:process>"""
        nav = ["Sub_pay"]
    lanes = {"Helse": ["StartEvent_1", "Task_assess"], "NAV": [*nav, "Task_after", "EndEvent_1"]}
    return definitions(f"""
        <bpmn:process id="Proc_weeks" name="Proc_weeks" isExecutable="true">
          {lane_set(lanes)}
          <bpmn:startEvent id="StartEvent_1"/>
          <bpmn:sequenceFlow id="Flow_1" sourceRef="StartEvent_1" targetRef="Task_assess"/>
          <bpmn:userTask id="Task_assess" name="Assess">{HEALTH}</bpmn:userTask>
          <bpmn:sequenceFlow id="Flow_2" sourceRef="Task_assess" targetRef="Sub_pay"/>
          {activity}
          <bpmn:sequenceFlow id="Flow_3" sourceRef="Sub_pay" targetRef="Task_after"/>
          <bpmn:userTask id="Task_after" name="Etterpå">{PAY}</bpmn:userTask>
          <bpmn:sequenceFlow id="Flow_4" sourceRef="Task_after" targetRef="EndEvent_1"/>
          <bpmn:endEvent id="EndEvent_1"/>
        </bpmn:process>
        {called}
    """)


@pytest.mark.parametrize("kind", ["sub-process", "call-activity"])
def test_a_looped_sub_process_s_tasks_tell_nobody_the_count(kind, users, agencies):
    """The loop's tasks are inside the activity: the activity alone was hidden, and the housing
    coordinator counted NAV's tasks inside it (two or one: the health value) in the task list,
    the case's count, its open tasks and its diagram (2026-12-06)."""
    deploy_definition(actor=None, bpmn_xml=container_loop_model(kind), forms=FORMS, check_permission=False)
    treated = assessed(users, agencies, True, "17912099997")
    untreated = assessed(users, agencies, False, "29822099635")
    assert told(users["bjorn"], treated) == told(users["bjorn"], untreated)
    assert told(users["bjorn"], treated)["open_task_count"] == 0
    assert told(users["nils"], treated)["tasks"].count("Betal behandlingsuke") == 2
    assert told(users["helga"], untreated)["open_tasks"] == ["Betal behandlingsuke"]
