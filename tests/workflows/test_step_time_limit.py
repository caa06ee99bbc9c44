"""Each script has its time limit, but one step could run hundreds: a parallel
multi-instance script with the count from the start form ran a loop over a 100,000-character
note 100 times in one request (3.7 s of CPU; 500 times, the most a multi-instance makes, about
18 s). Every script and condition of a step now shares one time budget; past it the step
stops on an incident naming the element (resource-exhaustion review)."""

import pytest

from bpmn.engine import runtime
from bpmn.services import deploy_definition
from tests.bpmn.engine.bpmn_snippets import definitions, lane_set, properties
from tests.timing import cpu_time
from workflows import services
from workflows.models import Incident, InstanceStatus, ProcessInstance

from .helpers import PERSON

pytestmark = pytest.mark.django_db

KEY = "Proc_count"
START_FORM = {
    "type": "object",
    "properties": {
        "count": {"type": "integer", "x-category": "coordination"},
        "note": {"type": "string", "x-category": "coordination"},
    },
}
SCRIPT = "n = 0\nfor c in note:\n    n = n + 1"  # one loop over the note: harmless once


def _deploy():
    nodes = ["StartEvent_1", "Script_count", "Task_next", "EndEvent_1"]
    loop = "<bpmn:loopCardinality>count</bpmn:loopCardinality>"
    xml = definitions(f"""
        <bpmn:process id="{KEY}" name="Count" isExecutable="true">
          {lane_set({"NAV": nodes})}
          <bpmn:startEvent id="StartEvent_1">{properties(formJsonSchemaFilename="start.schema.json")}</bpmn:startEvent>
          <bpmn:sequenceFlow id="Flow_1" sourceRef="StartEvent_1" targetRef="Script_count"/>
          <bpmn:scriptTask id="Script_count" name="Count">
            <bpmn:multiInstanceLoopCharacteristics isSequential="false">{loop}</bpmn:multiInstanceLoopCharacteristics>
            <bpmn:script>{SCRIPT}</bpmn:script>
          </bpmn:scriptTask>
          <bpmn:sequenceFlow id="Flow_2" sourceRef="Script_count" targetRef="Task_next"/>
          <bpmn:userTask id="Task_next" name="Next"/>
          <bpmn:sequenceFlow id="Flow_3" sourceRef="Task_next" targetRef="EndEvent_1"/>
          <bpmn:endEvent id="EndEvent_1"/>
        </bpmn:process>
        """)
    deploy_definition(actor=None, bpmn_xml=xml, forms={"start.schema.json": START_FORM}, check_permission=False)


def _start(users, agencies, count):
    return services.start_case(
        actor=users["nils"],
        process_key=KEY,
        person=PERSON,
        participants={"nav": agencies["nav"].pk},
        data={"count": count, "note": "a" * 100_000},
    )


def test_many_scripts_in_one_step_share_one_time_budget(users, agencies, monkeypatch):
    monkeypatch.setattr(runtime, "STEP_TIME_LIMIT_SECONDS", 0.3, raising=False)
    _deploy()
    with cpu_time() as used:
        case = _start(users, agencies, 100)
    assert used.seconds < 1.5  # 3.7 s before
    (incident,) = Incident.objects.filter(case=case)
    assert (incident.kind, incident.element_id) == ("expression-error", "Script_count")
    assert incident.error_message["params"]["detail"]["code"] == "engine.step-time-limit"
    assert ProcessInstance.objects.get(case=case).status == InstanceStatus.INCIDENT


def test_a_few_scripts_finish_within_the_budget(users, agencies):
    _deploy()
    case = _start(users, agencies, 3)
    assert not Incident.objects.filter(case=case).exists()


def test_a_step_kept_waiting_by_a_busy_machine_is_not_failed(users, agencies, monkeypatch):
    """The step's budget was wall clock from its start: a step descheduled for a while on the
    loaded two-core machine (here: its timers refreshed after a wait that burns no CPU) failed
    its next harmless script on an incident. The budget is the step's CPU time."""
    import time

    monkeypatch.setattr(runtime, "STEP_TIME_LIMIT_SECONDS", 0.5, raising=False)
    refresh = runtime.SafeBpmnWorkflow.refresh_timers

    def waited(self, *args, **kwargs):
        time.sleep(0.7)
        return refresh(self, *args, **kwargs)

    monkeypatch.setattr(runtime.SafeBpmnWorkflow, "refresh_timers", waited)
    _deploy()
    case = _start(users, agencies, 2)
    assert not Incident.objects.filter(case=case).exists()
