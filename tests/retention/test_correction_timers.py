"""A correction of a value a waiting timer was timed from times it again (``retention.services.
correct_value``, ``steps.retime_timers_reading``): the prison case's escalation, two months
before the expected release at 09:00, moves with a corrected release date, in the correction's
transaction under the instance lock, as it moves when the prison sends a new date."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from tests.clock import Clock
from tests.workflows.helpers import complete, open_tasks, start_prison_case
from workflows.models import Event, EventKind, Job, JobKind, JobStatus, ProcessInstance

from .test_requests import correct

pytestmark = pytest.mark.postgres
OSLO = ZoneInfo("Europe/Oslo")
ESCALATION = "BoundaryEvent_no_home_timer"


def _waiting_on_the_escalation(users, agencies, release_date):
    case = start_prison_case(users, agencies)
    (intake,) = open_tasks(case)
    complete(intake, {"has_home": False, "expected_release_date": release_date}, actor=users["kari"])
    for _ in range(10):
        tasks = open_tasks(case)
        if "Task_find_home" in {task.element_id for task in tasks}:
            return case
        complete(tasks[0])
    raise AssertionError("the case did not reach Task_find_home")


def _timer(case):
    instance = ProcessInstance.objects.get(case=case)
    pending = Job.objects.filter(instance=instance, kind=JobKind.TIMER, status=JobStatus.PENDING)
    return instance, [job.due_at for job in pending]


def test_a_corrected_release_date_moves_the_waiting_escalation(shipped, users, agencies, monkeypatch):
    Clock(monkeypatch, datetime(2027, 6, 1, 12, 0, tzinfo=OSLO))
    case = _waiting_on_the_escalation(users, agencies, "2028-01-15")
    before, jobs = _timer(case)
    assert before.next_timer_at == datetime(2027, 11, 15, 9, 0, tzinfo=OSLO) and jobs == [before.next_timer_at]

    assert correct(users["kari"], case, "expected_release_date", "2028-03-01").status_code == 201

    after, jobs = _timer(case)
    assert after.next_timer_at == datetime(2028, 1, 1, 9, 0, tzinfo=OSLO)
    assert jobs == [after.next_timer_at]  # the one pending timer job moved with it
    assert after.version == before.version + 1 and after.status == before.status
    assert "Task_find_home" in {task.element_id for task in open_tasks(case)}  # nothing fired


def test_a_release_date_corrected_into_the_escalation_s_past_fires_it(shipped, users, agencies, monkeypatch):
    Clock(monkeypatch, datetime(2027, 6, 1, 12, 0, tzinfo=OSLO))
    case = _waiting_on_the_escalation(users, agencies, "2028-01-15")

    assert correct(users["kari"], case, "expected_release_date", "2027-07-15").status_code == 201

    fired = Event.objects.filter(case=case, kind=EventKind.TIMER_FIRED, element_id=ESCALATION)
    assert fired.count() == 1 and fired.get().actor is None  # the timer's, not the corrector's
    instance, jobs = _timer(case)
    assert instance.next_timer_at is None or instance.next_timer_at > datetime(2027, 6, 1, 12, 0, tzinfo=OSLO)
    assert jobs == ([instance.next_timer_at] if instance.next_timer_at else [])


def test_a_correction_of_a_value_no_waiting_timer_reads_writes_no_step(shipped, users, agencies, monkeypatch):
    Clock(monkeypatch, datetime(2027, 6, 1, 12, 0, tzinfo=OSLO))
    case = _waiting_on_the_escalation(users, agencies, "2028-01-15")
    before, jobs = _timer(case)

    assert correct(users["kari"], case, "has_home", True).status_code == 201

    after, after_jobs = _timer(case)
    assert (after.version, after.next_timer_at, after_jobs) == (before.version, before.next_timer_at, jobs)
