"""A cycle timer that repeats thousands of times: every round leaves tasks in the tree, so
``R999999/PT1S`` on a waiting task made each firing slower than the last (1,000 rounds:
130 ms a step, 2 MB of state) until the state cap stopped the case, the timer worker busy
with it every second. A literal cycle is refused at deploy past 52 rounds (the bound
``repeat()`` holds data to), a computed one is an incident when it starts
(resource-exhaustion review)."""

import pytest

from bpmn.engine.timefuncs import MAX_REPEATS
from bpmn.services import InvalidModel, deploy_definition
from tests.bpmn.engine.bpmn_snippets import definitions, lane_set, properties
from workflows import services
from workflows.models import Incident

from .helpers import PERSON

pytestmark = pytest.mark.django_db

KEY = "Proc_reminders"
START_FORM = {"type": "object", "properties": {"count": {"type": "integer", "x-category": "coordination"}}}


def _model(cycle: str) -> str:
    nodes = ["StartEvent_1", "Task_wait", "Timer_remind", "Script_note", "End_note", "EndEvent_1"]
    return definitions(f"""
        <bpmn:process id="{KEY}" name="Reminders" isExecutable="true">
          {lane_set({"NAV": nodes})}
          <bpmn:startEvent id="StartEvent_1">{properties(formJsonSchemaFilename="start.schema.json")}</bpmn:startEvent>
          <bpmn:sequenceFlow id="Flow_1" sourceRef="StartEvent_1" targetRef="Task_wait"/>
          <bpmn:userTask id="Task_wait" name="Wait"/>
          <bpmn:boundaryEvent id="Timer_remind" attachedToRef="Task_wait" cancelActivity="false">
            <bpmn:timerEventDefinition id="Def_remind">
              <bpmn:timeCycle>{cycle}</bpmn:timeCycle>
            </bpmn:timerEventDefinition>
          </bpmn:boundaryEvent>
          <bpmn:sequenceFlow id="Flow_r" sourceRef="Timer_remind" targetRef="Script_note"/>
          <bpmn:scriptTask id="Script_note" name="Note"><bpmn:script>reminded = 1</bpmn:script></bpmn:scriptTask>
          <bpmn:sequenceFlow id="Flow_r2" sourceRef="Script_note" targetRef="End_note"/>
          <bpmn:endEvent id="End_note"/>
          <bpmn:sequenceFlow id="Flow_2" sourceRef="Task_wait" targetRef="EndEvent_1"/>
          <bpmn:endEvent id="EndEvent_1"/>
        </bpmn:process>
        """)


def _deploy(cycle: str):
    return deploy_definition(
        actor=None, bpmn_xml=_model(cycle), forms={"start.schema.json": START_FORM}, check_permission=False
    )


@pytest.mark.parametrize("cycle", ["R999999/PT1S", '"R53/P1D"', "R1000/2027-01-01T09:00:00+01:00/PT1H"])
def test_deploy_refuses_a_literal_cycle_of_more_rounds_than_the_limit(db, cycle):
    with pytest.raises(InvalidModel) as raised:
        _deploy(cycle)
    (issue,) = [issue for issue in raised.value.issues if issue.code == "long-timer-cycle"]
    assert issue.element_id == "Timer_remind"
    assert str(MAX_REPEATS) in issue.message


@pytest.mark.parametrize("cycle", ["R52/P1D", "R3/PT1H"])
def test_a_cycle_within_the_limit_deploys(db, cycle):
    _deploy(cycle)


def test_a_computed_cycle_past_the_limit_is_an_incident_when_it_starts(users, agencies):
    _deploy("'R' + str(count) + '/PT1S'")
    case = services.start_case(
        actor=users["nils"],
        process_key=KEY,
        person=PERSON,
        participants={"nav": agencies["nav"].pk},
        data={"count": 999_999},
    )
    incident = Incident.objects.get(case=case)
    assert incident.element_id == "Timer_remind"
    assert str(MAX_REPEATS) in incident.error and "999999" not in incident.error


def test_a_computed_cycle_within_the_limit_runs(users, agencies):
    _deploy("'R' + str(count) + '/P1D'")
    case = services.start_case(
        actor=users["nils"],
        process_key=KEY,
        person=PERSON,
        participants={"nav": agencies["nav"].pk},
        data={"count": 3},
    )
    assert not Incident.objects.filter(case=case).exists()
