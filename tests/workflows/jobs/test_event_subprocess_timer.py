"""Timer start events work where a case already exists: in an event sub-process.

(A top-level timer start event is refused at deploy: a case needs a person and its
agencies, see docs/workers.md.)"""

from datetime import UTC, datetime, timedelta

import pytest

from bpmn.engine.definition import compile_definition
from bpmn.engine.errors import BpmnValidationError
from bpmn.services import deploy_definition
from tests.bpmn.engine.bpmn_snippets import definitions, lane_set, properties
from tests.clock import Clock
from tests.workflows.helpers import PERSON, open_tasks
from workflows import services
from workflows.models import Event, EventKind, ProcessInstance

pytestmark = pytest.mark.django_db

FORM = {"type": "object", "properties": {"note": {"type": "string", "x-category": "coordination"}}}


def reminder_model(interrupting: bool):
    form = properties(formJsonSchemaFilename="note.schema.json")
    return definitions(
        f"""
        <bpmn:process id="Proc_reminder" name="Work with a weekly reminder" isExecutable="true">
          {lane_set({"Kriminalomsorgen": ["StartEvent_1", "Task_work", "EndEvent_1", "Sub_reminder"]})}
          <bpmn:startEvent id="StartEvent_1"/>
          <bpmn:sequenceFlow id="Flow_1" sourceRef="StartEvent_1" targetRef="Task_work"/>
          <bpmn:userTask id="Task_work" name="The work">{form}</bpmn:userTask>
          <bpmn:sequenceFlow id="Flow_2" sourceRef="Task_work" targetRef="EndEvent_1"/>
          <bpmn:endEvent id="EndEvent_1"/>
          <bpmn:subProcess id="Sub_reminder" name="Reminder" triggeredByEvent="true">
            <bpmn:startEvent id="Timer_reminder" name="A week later" isInterrupting="{str(interrupting).lower()}">
              <bpmn:timerEventDefinition><bpmn:timeDuration>"P7D"</bpmn:timeDuration></bpmn:timerEventDefinition>
            </bpmn:startEvent>
            <bpmn:sequenceFlow id="Flow_r1" sourceRef="Timer_reminder" targetRef="Task_remind"/>
            <bpmn:userTask id="Task_remind" name="Follow up the work">{form}</bpmn:userTask>
            <bpmn:sequenceFlow id="Flow_r2" sourceRef="Task_remind" targetRef="EndEvent_r"/>
            <bpmn:endEvent id="EndEvent_r"/>
          </bpmn:subProcess>
        </bpmn:process>
        """
    )


def test_an_interrupting_event_subprocess_is_refused_at_deploy():
    """SpiffWorkflow 3.2 would run it beside the main flow without cancelling anything."""
    with pytest.raises(BpmnValidationError) as refused:
        compile_definition(reminder_model(interrupting=True).encode(), forms={"note.schema.json": FORM})
    (issue,) = refused.value.issues
    assert (issue.code, issue.element_id) == ("interrupting-event-subprocess", "Timer_reminder")
    assert 'isInterrupting="false"' in issue.message


def test_timer_start_event_of_an_event_subprocess_fires_once_a_week_later(users, agencies, monkeypatch):
    start = datetime(2026, 9, 1, 10, tzinfo=UTC)
    clock = Clock(monkeypatch, start)
    deploy_definition(
        actor=None,
        bpmn_xml=reminder_model(interrupting=False),
        forms={"note.schema.json": FORM},
        check_permission=False,
    )
    case = services.start_case(
        actor=users["kari"], process_key="Proc_reminder", person=PERSON, participants={"prison": agencies["prison"].pk}
    )
    instance = ProcessInstance.objects.get(case=case)
    due = datetime(2026, 9, 8, 7, 0, tzinfo=UTC)  # P7D: a week on, at 09:00 Oslo time (summer time)
    assert instance.next_timer_at == due
    assert [t.element_id for t in open_tasks(case)] == ["Task_work"]

    clock.set(due + timedelta(seconds=1))
    assert services.fire_timer("w")[0] == "fired"

    # Non-interrupting: the work goes on beside the reminder.
    assert [t.element_id for t in open_tasks(case)] == ["Task_work", "Task_remind"]
    assert Event.objects.filter(case=case, kind=EventKind.TIMER_FIRED).count() == 1
    assert services.fire_timer("w")[0] == "none"  # fired exactly once
