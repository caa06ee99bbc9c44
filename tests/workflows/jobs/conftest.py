"""Job fixtures: a one-timer test process, a prison case waiting at "find a home"."""

import pytest

from tests.bpmn.engine.bpmn_snippets import definitions, lane_set, properties
from tests.workflows.helpers import PRISON_PARTICIPANTS, complete, open_tasks, start_prison_case

TIMER_FORM = {
    "type": "object",
    "properties": {
        "fire_at": {"type": "string", "x-category": "coordination"},
        "done": {"type": "boolean", "x-category": "coordination"},
    },
    "required": ["done"],
    "additionalProperties": False,
}

# The start form: the fields a case start may write (the time the timer waits for).
START_FORM = {"type": "object", "properties": {"fire_at": TIMER_FORM["properties"]["fire_at"]}}


def timer_model():
    """Start -> wait until ``fire_at`` -> prison task -> end."""
    form = properties(formJsonSchemaFilename="after.schema.json", dueIn="P7D")
    return definitions(
        f"""
        <bpmn:process id="Proc_timer" name="Wait, then work" isExecutable="true">
          {lane_set({"Kriminalomsorgen": ["StartEvent_1", "Timer_wait", "Task_after", "EndEvent_1"]})}
          <bpmn:startEvent id="StartEvent_1">{properties(formJsonSchemaFilename="start.schema.json")}</bpmn:startEvent>
          <bpmn:sequenceFlow id="Flow_1" sourceRef="StartEvent_1" targetRef="Timer_wait"/>
          <bpmn:intermediateCatchEvent id="Timer_wait" name="Wait">
            <bpmn:timerEventDefinition><bpmn:timeDate>fire_at</bpmn:timeDate></bpmn:timerEventDefinition>
          </bpmn:intermediateCatchEvent>
          <bpmn:sequenceFlow id="Flow_2" sourceRef="Timer_wait" targetRef="Task_after"/>
          <bpmn:userTask id="Task_after" name="After the timer">{form}</bpmn:userTask>
          <bpmn:sequenceFlow id="Flow_3" sourceRef="Task_after" targetRef="EndEvent_1"/>
          <bpmn:endEvent id="EndEvent_1"/>
        </bpmn:process>
        """
    )


@pytest.fixture
def timer_process(db):
    from bpmn.services import deploy_definition

    return deploy_definition(
        actor=None,
        bpmn_xml=timer_model(),
        forms={"after.schema.json": TIMER_FORM, "start.schema.json": START_FORM},
        filename="timer.bpmn",
        check_permission=False,
    ).definition


def start_timer_case(users, agencies, fire_at: str, person=None):
    from workflows import services

    return services.start_case(
        actor=users["kari"],
        process_key="Proc_timer",
        person=person or {"name": "Ola Nordmann", "national_id": "17912099997"},
        participants={"prison": agencies["prison"].pk},
        data={"fire_at": fire_at},
    )


def walk_to_find_home(users, agencies, release_date: str):
    """A prison case whose person has no home, waiting at "find a home"."""
    case = start_prison_case(users, agencies)
    (intake,) = open_tasks(case)
    complete(intake, {"has_home": False, "expected_release_date": release_date})
    for task in open_tasks(case):
        complete(task)
    (find_home,) = open_tasks(case)
    assert find_home.element_id == "Task_find_home"
    return case


__all__ = ["PRISON_PARTICIPANTS", "start_timer_case", "timer_model", "walk_to_find_home"]
