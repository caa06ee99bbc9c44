"""Timer jobs: one pending job per instance at its next deadline, fired by the worker,
deadlines on the right local hour across daylight-saving changes (Europe/Oslo)."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.clock import Clock
from tests.workflows.helpers import complete, open_tasks
from workflows import services
from workflows.jobs.worker import Worker
from workflows.models import Event, EventKind, Job, JobKind, JobStatus, ProcessInstance, WorkerHeartbeat

from .conftest import start_timer_case, walk_to_find_home

OSLO = ZoneInfo("Europe/Oslo")
pytestmark = pytest.mark.django_db


def timer_jobs(case, status=JobStatus.PENDING):
    return list(Job.objects.filter(case=case, kind=JobKind.TIMER, status=status))


def test_timer_job_is_written_with_the_step_and_follows_next_timer_at(timer_process, users, agencies, monkeypatch):
    clock = Clock(monkeypatch, datetime(2026, 9, 1, 12, tzinfo=UTC))
    case = start_timer_case(users, agencies, "2026-09-02T10:00:00+02:00")
    instance = ProcessInstance.objects.get(case=case)
    (job,) = timer_jobs(case)
    assert job.due_at == instance.next_timer_at == datetime(2026, 9, 2, 8, tzinfo=UTC)
    assert not open_tasks(case)

    assert Worker(name="w").run(once=True) == 0  # not due yet
    clock.set(datetime(2026, 9, 2, 8, 0, 1, tzinfo=UTC))
    assert Worker(name="w").run(once=True) == 2  # the timer, then the e-mail about the new task
    (task,) = open_tasks(case)
    assert task.element_id == "Task_after"
    instance.refresh_from_db()
    assert instance.next_timer_at is None and not timer_jobs(case)
    assert len(timer_jobs(case, JobStatus.DONE)) == 1
    assert Event.objects.filter(case=case, kind=EventKind.TIMER_FIRED, element_id="Timer_wait").count() == 1
    beat = WorkerHeartbeat.objects.get(name="w")
    assert beat.stopped_at is not None and beat.jobs_done == 2


def test_a_finished_task_withdraws_its_boundary_timer_job(shipped, users, agencies):
    case = walk_to_find_home(users, agencies, "2027-06-30")
    (job,) = timer_jobs(case)
    assert job.due_at == datetime(2027, 4, 30, 9, tzinfo=OSLO)
    (find_home,) = open_tasks(case)
    complete(find_home)
    assert not timer_jobs(case)
    assert ProcessInstance.objects.get(case=case).next_timer_at is None


@pytest.mark.parametrize(
    ("release", "deadline_utc"),
    [
        # two months before: 26 October 2026 is the day after summer time ends (UTC+1)
        ("2026-12-26", datetime(2026, 10, 26, 8, 0, tzinfo=UTC)),
        # 24 October 2026 is still summer time (UTC+2)
        ("2026-12-24", datetime(2026, 10, 24, 7, 0, tzinfo=UTC)),
        # 30 March 2027 is after summer time starts (28 March)
        ("2027-05-30", datetime(2027, 3, 30, 7, 0, tzinfo=UTC)),
    ],
)
def test_escalation_fires_at_nine_oslo_time_across_daylight_saving(
    shipped, users, agencies, monkeypatch, release, deadline_utc
):
    clock = Clock(monkeypatch, datetime(2026, 8, 3, 12, tzinfo=UTC))
    case = walk_to_find_home(users, agencies, release)
    instance = ProcessInstance.objects.get(case=case)
    assert instance.next_timer_at == deadline_utc
    assert instance.next_timer_at.astimezone(OSLO).hour == 9

    clock.set(deadline_utc)
    clock.advance(seconds=-1)  # one second early: no timer fires (e-mails about late tasks do)
    Worker(name="w").run(once=True)
    assert [t.element_id for t in open_tasks(case)] == ["Task_find_home"]
    assert not Event.objects.filter(case=case, kind=EventKind.TIMER_FIRED).exists()

    clock.advance(seconds=2)
    assert services.fire_timer("w")[0] == "fired"
    assert sorted(t.element_id for t in open_tasks(case)) == ["Task_escalation_no_home", "Task_find_home"]
    escalation = next(t for t in open_tasks(case) if t.element_id == "Task_escalation_no_home")
    assert escalation.agency == agencies["housing"]
    fired = Event.objects.get(case=case, kind=EventKind.TIMER_FIRED)
    assert fired.element_id == "BoundaryEvent_no_home_timer"
    # non-interrupting: finding a home is still open, and the timer does not fire twice
    clock.advance(days=40)
    Worker(name="w").run(once=True)
    assert Event.objects.filter(case=case, kind=EventKind.TIMER_FIRED).count() == 1


def test_a_timer_that_fails_backs_off_then_becomes_an_incident(timer_process, users, agencies, monkeypatch, settings):
    settings.BROBYGGER = {**settings.BROBYGGER, "JOB_MAX_ATTEMPTS": 2, "JOB_BACKOFF_BASE_SECONDS": 60}
    clock = Clock(monkeypatch, datetime(2026, 9, 1, 12, tzinfo=UTC))
    case = start_timer_case(users, agencies, "2026-09-01T14:05:00+02:00")
    from workflows import steps

    def broken(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(steps, "run_step", broken)
    clock.advance(minutes=6)
    assert services.fire_timer("w")[0] == "failed"
    (job,) = timer_jobs(case)
    assert job.attempts == 1 and "went away" in job.last_error
    assert job.due_at == clock.moment + timedelta(seconds=60)
    assert services.fire_timer("w")[0] == "none"  # backing off
    clock.advance(seconds=61)
    assert services.fire_timer("w")[0] == "failed"
    (job,) = timer_jobs(case, JobStatus.FAILED)
    incident = job.incidents.get()
    assert incident.kind == "timer-failed" and incident.attempts == 2

    monkeypatch.undo()
    clock = Clock(monkeypatch, datetime(2026, 9, 1, 12, 30, tzinfo=UTC))
    services.retry_incident(actor=users["ada"], incident_id=incident.pk)
    incident.refresh_from_db()
    assert incident.resolved_at is not None
    assert [t.element_id for t in open_tasks(case)] == ["Task_after"]


def test_an_interrupting_boundary_timer_withdraws_the_task(db, users, agencies, monkeypatch):
    from bpmn.services import deploy_definition
    from tests.bpmn.engine.bpmn_snippets import definitions, lane_set, properties
    from workflows.models import TaskStatus

    form = {
        "type": "object",
        "properties": {"ok": {"type": "boolean", "x-category": "coordination"}},
        "additionalProperties": False,
    }
    task_props = properties(formJsonSchemaFilename="f.schema.json")
    xml = definitions(f"""
        <bpmn:process id="Proc_deadline" isExecutable="true">
          {
        lane_set(
            {"Kriminalomsorgen": ["StartEvent_1", "Task_1", "Boundary_1", "Task_late", "EndEvent_1", "EndEvent_2"]}
        )
    }
          <bpmn:startEvent id="StartEvent_1"/>
          <bpmn:sequenceFlow id="Flow_1" sourceRef="StartEvent_1" targetRef="Task_1"/>
          <bpmn:userTask id="Task_1" name="In time">{task_props}</bpmn:userTask>
          <bpmn:boundaryEvent id="Boundary_1" attachedToRef="Task_1" cancelActivity="true">
            <bpmn:timerEventDefinition><bpmn:timeDuration>PT1H</bpmn:timeDuration></bpmn:timerEventDefinition>
          </bpmn:boundaryEvent>
          <bpmn:sequenceFlow id="Flow_2" sourceRef="Task_1" targetRef="EndEvent_1"/>
          <bpmn:sequenceFlow id="Flow_3" sourceRef="Boundary_1" targetRef="Task_late"/>
          <bpmn:userTask id="Task_late" name="Too late">{task_props}</bpmn:userTask>
          <bpmn:sequenceFlow id="Flow_4" sourceRef="Task_late" targetRef="EndEvent_2"/>
          <bpmn:endEvent id="EndEvent_1"/>
          <bpmn:endEvent id="EndEvent_2"/>
        </bpmn:process>
    """)
    deploy_definition(
        actor=None, bpmn_xml=xml, forms={"f.schema.json": form}, filename="deadline.bpmn", check_permission=False
    )
    clock = Clock(monkeypatch, datetime(2026, 3, 28, 23, 30, tzinfo=UTC))  # the night summer time starts
    case = services.start_case(
        actor=users["kari"],
        process_key="Proc_deadline",
        person={"name": "Ola Nordmann", "national_id": "17912099997"},
        participants={"prison": agencies["prison"].pk},
    )
    (task,) = open_tasks(case)
    assert ProcessInstance.objects.get(case=case).next_timer_at == datetime(2026, 3, 29, 0, 30, tzinfo=UTC)
    clock.advance(hours=1, seconds=1)
    assert services.fire_timer("w")[0] == "fired"
    task.refresh_from_db()
    assert task.status == TaskStatus.CANCELLED
    assert [t.element_id for t in open_tasks(case)] == ["Task_late"]
    assert Event.objects.filter(case=case, kind=EventKind.TASK_CANCELLED, task=task).count() == 1
