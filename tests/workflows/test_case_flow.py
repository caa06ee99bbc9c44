"""A whole prison-release case through the services, on the real database."""

import pytest
from django.utils import timezone

from workflows.models import (
    CaseOutcome,
    CaseStatus,
    Event,
    EventKind,
    InstanceStatus,
    ProcessInstance,
    Task,
    TaskStatus,
)

from .helpers import complete, do_follow_up_visits, open_tasks, run_to_end

LANE_KIND = {"Kriminalomsorgen": "prison", "NAV": "nav", "Helse": "health", "Boligkontakt": "housing"}


def test_case_starts_with_the_intake_interview_in_the_prison_inbox(case, agencies):
    (task,) = open_tasks(case)
    assert task.element_id == "Task_intake_interview"
    assert task.agency == agencies["prison"]
    assert task.due_at is not None and task.due_at > task.created_at
    assert case.reference.startswith("BK-") and len(case.reference.split("-")[-1]) == 6
    assert Event.objects.filter(case=case, kind=EventKind.CASE_STARTED).count() == 1


def test_no_home_path_splits_to_three_agencies_with_handoffs(case, agencies, users):
    (intake,) = open_tasks(case)
    complete(intake, {"has_home": False}, actor=users["kari"])

    tasks = open_tasks(case)
    assert {task.agency.kind for task in tasks} == {"nav", "health", "housing"}
    for task in tasks:
        assert LANE_KIND[task.lane] == task.agency.kind
        assert task.handed_over_by == agencies["prison"]
    handoffs = Event.objects.filter(case=case, kind=EventKind.HANDOFF)
    assert {(e.from_agency.kind, e.to_agency.kind) for e in handoffs} == {
        ("prison", "nav"),
        ("prison", "health"),
        ("prison", "housing"),
    }
    case.refresh_from_db()
    assert case.data["has_home"] is False
    assert case.data_sources["has_home"] == agencies["prison"].pk


@pytest.mark.parametrize("has_home", [False, True])
def test_whole_case_runs_to_completion_on_both_branches(case, has_home, monkeypatch):
    done = run_to_end(case, {"has_home": has_home, "home_found": True})
    if not has_home:  # after moving in: a follow-up visit every month for six months
        assert ProcessInstance.objects.get(case=case).next_timer_at is not None
        visits = do_follow_up_visits(case, monkeypatch)
        assert visits == ["Task_follow_up_visit"] * 6
        done += visits
        assert Event.objects.filter(case=case, kind=EventKind.TIMER_FIRED).count() == 6
        done += run_to_end(case)  # the outcome
    assert done[-1] == "Task_record_outcome"
    case.refresh_from_db()
    instance = ProcessInstance.objects.get(case=case)
    assert case.status == CaseStatus.COMPLETED and case.closed_at is not None
    assert instance.status == InstanceStatus.COMPLETED
    # one structured outcome, closed the day the case completed
    assert CaseOutcome.objects.filter(case=case).count() == 1
    assert case.outcome.kind.code == "bosatt" and case.outcome.tenure == "kommunal_utleiebolig"
    assert case.outcome.closed_date == timezone.localdate(case.closed_at)
    assert done[0] == "Task_intake_interview"
    if has_home:
        assert "Task_secure_rent" in done and "Task_find_home" not in done
    else:
        assert {
            "Task_economy_assessment",
            "Task_health_follow_up_plan",
            "Task_housing_application",
            "Task_find_home",
        } <= set(done)
    # Every task landed on the agency of its lane, and the history has every step.
    for task in Task.objects.filter(case=case):
        assert LANE_KIND[task.lane] == task.agency.kind
        assert task.status == TaskStatus.COMPLETED
    created = Event.objects.filter(case=case, kind=EventKind.TASK_CREATED).count()
    completed = Event.objects.filter(case=case, kind=EventKind.TASK_COMPLETED).count()
    assert created == completed == len(done)
    assert Event.objects.filter(case=case, kind=EventKind.CASE_COMPLETED).count() == 1
    assert Event.objects.filter(case=case, kind=EventKind.HANDOFF).exists()
