"""An instance with an open incident does not look healthy after a later step of another
branch (a timer, a message, a correction's re-timing): it stays ``incident`` until the
incident is retried."""

from datetime import UTC, datetime

from bpmn.services import deploy_definition
from tests.bpmn.engine.bpmn_snippets import definitions, lane_set, properties
from tests.clock import Clock
from workflows import services
from workflows.models import Event, EventKind, Incident, InstanceStatus

from .helpers import ASSESS_FORM, PERSON, open_tasks, supply_missing_score

# Two NAV branches: "assess" then a gateway on ``score`` (left out by the form: an incident),
# and an hour's timer before "later".
ASSESS = properties(formJsonSchemaFilename="assess.schema.json")
FORK_MODEL = definitions(f"""
    <bpmn:process id="fork_check" isExecutable="true">
      {
    lane_set(
        {
            "NAV": [
                "StartEvent_1",
                "Fork",
                "Task_assess",
                "Gateway_score",
                "End_high",
                "End_low",
                "Timer_hour",
                "Task_later",
                "End_later",
            ]
        }
    )
}
      <bpmn:startEvent id="StartEvent_1"/>
      <bpmn:parallelGateway id="Fork"/>
      <bpmn:sequenceFlow id="F0" sourceRef="StartEvent_1" targetRef="Fork"/>
      <bpmn:sequenceFlow id="F1" sourceRef="Fork" targetRef="Task_assess"/>
      <bpmn:userTask id="Task_assess" name="Assess">{ASSESS}</bpmn:userTask>
      <bpmn:sequenceFlow id="F2" sourceRef="Task_assess" targetRef="Gateway_score"/>
      <bpmn:exclusiveGateway id="Gateway_score" default="F_low"/>
      <bpmn:sequenceFlow id="F_high" sourceRef="Gateway_score" targetRef="End_high">
        <bpmn:conditionExpression>score &gt; 3</bpmn:conditionExpression>
      </bpmn:sequenceFlow>
      <bpmn:sequenceFlow id="F_low" sourceRef="Gateway_score" targetRef="End_low"/>
      <bpmn:endEvent id="End_high"/>
      <bpmn:endEvent id="End_low"/>
      <bpmn:sequenceFlow id="F3" sourceRef="Fork" targetRef="Timer_hour"/>
      <bpmn:intermediateCatchEvent id="Timer_hour">
        <bpmn:timerEventDefinition><bpmn:timeDuration>PT1H</bpmn:timeDuration></bpmn:timerEventDefinition>
      </bpmn:intermediateCatchEvent>
      <bpmn:sequenceFlow id="F4" sourceRef="Timer_hour" targetRef="Task_later"/>
      <bpmn:userTask id="Task_later" name="Later"/>
      <bpmn:sequenceFlow id="F5" sourceRef="Task_later" targetRef="End_later"/>
      <bpmn:endEvent id="End_later"/>
    </bpmn:process>
""")


def test_a_timer_of_another_branch_leaves_the_instance_in_incident_until_the_retry(db, users, agencies, monkeypatch):
    clock = Clock(monkeypatch, datetime.now(UTC))
    deploy_definition(
        actor=None, bpmn_xml=FORK_MODEL, forms={"assess.schema.json": ASSESS_FORM}, check_permission=False
    )
    case = services.start_case(
        actor=users["nils"], process_key="fork_check", person=PERSON, participants={"nav": agencies["nav"].pk}
    )
    (assess,) = open_tasks(case)
    services.complete_task(actor=users["nils"], task_id=assess.pk, data={"note": "first visit"})
    incident = Incident.objects.get(case=case)
    instance = incident.instance
    assert instance.status == InstanceStatus.INCIDENT

    clock.advance(hours=1, minutes=1)
    assert services.fire_timer("test")[0] == "fired"
    instance.refresh_from_db()
    assert [t.element_id for t in open_tasks(case)] == ["Task_later"]  # the other branch went on
    assert instance.status == InstanceStatus.INCIDENT  # but the gateway still waits for its fix

    supply_missing_score(instance)
    services.retry_incident(actor=users["ada"], incident_id=incident.pk)
    instance.refresh_from_db()
    incident.refresh_from_db()
    assert incident.resolved_at is not None
    assert instance.status == InstanceStatus.RUNNING


def test_an_instance_that_ends_past_its_failed_branch_resolves_the_incident(db, users, agencies, monkeypatch):
    """The other branch ends the process (a terminate end event): the failed gateway was
    cancelled with it, so nothing is left to retry, and the incident is resolved with the
    instance's completion rather than left open on a completed case."""
    clock = Clock(monkeypatch, datetime.now(UTC))
    terminating = FORK_MODEL.replace(
        '<bpmn:endEvent id="End_later"/>',
        '<bpmn:endEvent id="End_later"><bpmn:terminateEventDefinition/></bpmn:endEvent>',
    ).replace('id="fork_check"', 'id="fork_terminate"')
    deploy_definition(
        actor=None, bpmn_xml=terminating, forms={"assess.schema.json": ASSESS_FORM}, check_permission=False
    )
    case = services.start_case(
        actor=users["nils"], process_key="fork_terminate", person=PERSON, participants={"nav": agencies["nav"].pk}
    )
    (assess,) = open_tasks(case)
    services.complete_task(actor=users["nils"], task_id=assess.pk, data={"note": "first visit"})
    incident = Incident.objects.get(case=case)
    clock.advance(hours=1, minutes=1)
    assert services.fire_timer("test")[0] == "fired"
    (later,) = open_tasks(case)
    services.complete_task(actor=users["nils"], task_id=later.pk, data={})

    incident.refresh_from_db()
    instance = incident.instance
    instance.refresh_from_db()
    assert instance.status == InstanceStatus.COMPLETED
    assert incident.resolved_at is not None and incident.resolved_by is None
    resolved = Event.objects.get(case=case, kind=EventKind.INCIDENT_RESOLVED)
    assert resolved.detail == {"incident": incident.pk, "by": "completion"}
