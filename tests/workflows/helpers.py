"""Walking cases through the services the way the agencies would."""

from datetime import UTC, datetime, timedelta

from bench.samples import sample_form_data
from bpmn.engine import runtime as engine
from bpmn.registry import runtime_for
from permissions.models import CASE_ROLES, Membership
from workflows import services, steps
from workflows.models import ACTIVE_TASK_STATUSES, Incident, ProcessInstance, Task

PRISON_PARTICIPANTS = ("prison", "nav", "health", "housing")
PERSON = {"name": "Ola Nordmann", "national_id": "17912099997"}


def start_prison_case(users, agencies, **kwargs):
    return services.start_case(
        actor=users["kari"],
        process_key="prison_release_to_housing",
        person=kwargs.pop("person", PERSON),
        participants={kind: agencies[kind].pk for kind in PRISON_PARTICIPANTS},
        **kwargs,
    )


def worker_for(task):
    """A user with a case role in the agency the task landed on."""
    membership = Membership.objects.filter(agency=task.agency, role__in=CASE_ROLES).select_related("user").first()
    return membership.user


def form_data(task, overrides=None):
    runtime = runtime_for(task.instance.definition_id)
    schema, _ = runtime.form_for(task.element_id)
    return sample_form_data(schema, overrides)


def open_tasks(case):
    return list(Task.objects.filter(case=case, status__in=ACTIVE_TASK_STATUSES).order_by("id"))


def complete(task, overrides=None, actor=None):
    return services.complete_task(actor=actor or worker_for(task), task_id=task.pk, data=form_data(task, overrides))


def run_to_end(case, overrides=None, limit=50):
    """Complete open tasks until none is left; returns the element ids in completion order."""
    done = []
    for _ in range(limit):
        tasks = open_tasks(case)
        if not tasks:
            return done
        complete(tasks[0], overrides)
        done.append(tasks[0].element_id)
    raise AssertionError(f"case {case} still has open tasks after {limit} completions")


def do_follow_up_visits(case, monkeypatch, rounds=6):
    """Move the clock a month at a time: the follow-up cycle fires (through the timer job,
    as the worker does) and each monthly visit is done. Returns the visits' element ids."""
    from tests.clock import Clock

    clock = Clock(monkeypatch, datetime.now(UTC))
    done = []
    for _ in range(rounds):
        assert not open_tasks(case)
        due = case.instances.get().next_timer_at
        # a month on, at most 31 days, moved past a weekend or public holidays: the longest
        # stretch is Easter's, Skjærtorsdag to the Tuesday after (5 days)
        assert due is not None and due - clock.moment <= timedelta(days=36)
        clock.set(due + timedelta(seconds=1))
        assert services.fire_timer("test")[0] == "fired"
        (visit,) = open_tasks(case)
        complete(visit)
        done.append(visit.element_id)
    return done


# --- a case stopped on an incident -------------------------------------------------------

# One NAV lane: "assess", then a gateway on ``score``, which the form leaves optional.
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


def stop_on_gateway_incident(users, agencies) -> Incident:
    """A NAV case whose gateway met an unknown name (``score``): its incident, unresolved."""
    from bpmn.services import deploy_definition

    deploy_definition(
        actor=None, bpmn_xml=GATEWAY_MODEL, forms={"assess.schema.json": ASSESS_FORM}, check_permission=False
    )
    case = services.start_case(
        actor=users["nils"], process_key="score_check", person=PERSON, participants={"nav": agencies["nav"].pk}
    )
    (task,) = open_tasks(case)
    services.complete_task(actor=users["nils"], task_id=task.pk, data={"note": "first visit"})
    return Incident.objects.get(case=case)


def supply_missing_score(instance, score=5):
    """The fix an admin makes before retrying: the missing value is put into the state."""
    _, workflow = steps.load(instance)
    for task in workflow.get_tasks():
        task.data.setdefault("score", score)
    ProcessInstance.objects.filter(pk=instance.pk).update(state=engine.dump_workflow(workflow))


# --- a task withdrawn by the process ------------------------------------------------------

DEADLINE_FORM = {
    "type": "object",
    "properties": {"ok": {"type": "boolean", "x-category": "coordination"}},
    "additionalProperties": False,
}


def withdrawn_task_model(first_due: str = "", late_due: str = ""):
    """A prison task withdrawn by an interrupting boundary timer after an hour; each task
    due in ``first_due`` / ``late_due`` (ISO durations) when given."""
    from tests.bpmn.engine.bpmn_snippets import definitions, lane_set, properties

    first, late = (
        properties(formJsonSchemaFilename="f.schema.json", **({"dueIn": due} if due else {}))
        for due in (first_due, late_due)
    )
    return definitions(f"""
        <bpmn:process id="Proc_withdrawn" isExecutable="true">
          {
        lane_set(
            {"Kriminalomsorgen": ["StartEvent_1", "Task_1", "Boundary_1", "Task_late", "EndEvent_1", "EndEvent_2"]}
        )
    }
          <bpmn:startEvent id="StartEvent_1"/>
          <bpmn:sequenceFlow id="Flow_1" sourceRef="StartEvent_1" targetRef="Task_1"/>
          <bpmn:userTask id="Task_1" name="In time">{first}</bpmn:userTask>
          <bpmn:boundaryEvent id="Boundary_1" attachedToRef="Task_1" cancelActivity="true">
            <bpmn:timerEventDefinition><bpmn:timeDuration>PT1H</bpmn:timeDuration></bpmn:timerEventDefinition>
          </bpmn:boundaryEvent>
          <bpmn:sequenceFlow id="Flow_2" sourceRef="Task_1" targetRef="EndEvent_1"/>
          <bpmn:sequenceFlow id="Flow_3" sourceRef="Boundary_1" targetRef="Task_late"/>
          <bpmn:userTask id="Task_late" name="Too late">{late}</bpmn:userTask>
          <bpmn:sequenceFlow id="Flow_4" sourceRef="Task_late" targetRef="EndEvent_2"/>
          <bpmn:endEvent id="EndEvent_1"/>
          <bpmn:endEvent id="EndEvent_2"/>
        </bpmn:process>
    """)


def deploy_withdrawn_task_model(first_due: str = "", late_due: str = ""):
    """Deploy ``Proc_withdrawn``: its prison task is cancelled when its hour is up."""
    from bpmn.services import deploy_definition

    return deploy_definition(
        actor=None,
        bpmn_xml=withdrawn_task_model(first_due, late_due),
        forms={"f.schema.json": DEADLINE_FORM},
        filename="withdrawn.bpmn",
        check_permission=False,
    ).definition
