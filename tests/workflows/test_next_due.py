"""``Case.next_due_at``, the earliest due date of a case's open tasks, stays what its tasks
say through every step that creates, completes or cancels them, and when several people
complete a case's tasks at the same moment (the overdue cases are read by it: issue 12)."""

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.db.models import Min
from django.test.utils import CaptureQueriesContext

from tests.clock import Clock
from tests.threads import all_at_once
from workflows import services
from workflows.models import ACTIVE_TASK_STATUSES, Case, CaseStatus, Task, TaskStatus

from .helpers import complete, deploy_withdrawn_task_model, form_data, open_tasks, start_prison_case, worker_for

pytestmark = pytest.mark.django_db

WORKERS = {"nav": "nils", "health": "helga", "housing": "bjorn"}


def stored(case):
    return Case.objects.values_list("next_due_at", flat=True).get(pk=case.pk)


def earliest_open(case):
    return Task.objects.filter(case=case, status__in=ACTIVE_TASK_STATUSES).aggregate(due=Min("due_at"))["due"]


def test_it_follows_the_open_tasks_through_a_whole_case(shipped, users, agencies):
    case = start_prison_case(users, agencies)
    seen = []
    for _ in range(30):
        assert stored(case) == earliest_open(case)
        seen.append(stored(case))
        tasks = open_tasks(case)
        if not tasks:
            break
        # The latest first: the earlier deadlines stay open longest, so each completion
        # leaves the case's earliest one where it was until its own task is done.
        complete(tasks[-1], {"has_home": False, "home_found": True})
    else:
        raise AssertionError("the case still has open tasks")
    assert seen[0] is not None and seen[-1] is None  # nothing open, nothing due
    assert len(set(seen)) >= 4  # it moved with the tasks, step by step


def test_a_task_cancelled_by_a_timer_leaves_it_for_the_task_that_follows(users, agencies, monkeypatch):
    deploy_withdrawn_task_model(first_due="P1D", late_due="P10D")
    clock = Clock(monkeypatch, datetime.now(UTC))
    case = services.start_case(
        actor=users["kari"],
        process_key="Proc_withdrawn",
        person={"name": "Ola Nordmann", "national_id": "17912099997"},
        participants={"prison": agencies["prison"].pk},
    )
    (first,) = open_tasks(case)
    assert stored(case) == first.due_at is not None

    clock.advance(hours=1, seconds=1)
    assert services.fire_timer("w")[0] == "fired"
    first.refresh_from_db()
    (late,) = open_tasks(case)
    assert first.status == TaskStatus.CANCELLED and late.element_id == "Task_late"
    assert stored(case) == late.due_at > first.due_at

    complete(late, {"ok": True})
    assert stored(case) is None


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_completions_at_the_same_moment_leave_it_right(shipped, users, agencies):
    """Every writer of a case's tasks holds its case row (``steps.lock_instance``), and the
    value is read from the tasks inside that lock: the last of three parallel completions
    sees the other two and the task they lead to."""
    for _ in range(3):
        case = start_prison_case(users, agencies)
        (intake,) = open_tasks(case)
        complete(intake, {"has_home": False}, actor=users["kari"])
        branches = open_tasks(case)
        assert len(branches) == 3 and stored(case) == earliest_open(case) is not None
        outcomes = all_at_once(
            [
                lambda task=task: services.complete_task(
                    actor=users[WORKERS[task.agency.kind]], task_id=task.pk, data=form_data(task)
                )
                for task in branches
            ]
        )
        assert [o for o in outcomes if isinstance(o, Exception)] == []
        (find_home,) = open_tasks(case)
        assert stored(case) == find_home.due_at == earliest_open(case)


def test_a_completion_writes_the_case_row_once_with_its_data_and_next_deadline(shipped, users, agencies):
    """The data a completion merges into the case and the case's next deadline go in one
    UPDATE of the row (``rows.refresh_next_due`` with the step's case fields): two before,
    a statement and a row version more on every completion."""
    case = start_prison_case(users, agencies)
    completions = 0
    while tasks := open_tasks(case):
        task = tasks[0]
        data = form_data(task, {"has_home": False, "home_found": True})
        with CaptureQueriesContext(connection) as captured:
            services.complete_task(actor=worker_for(task), task_id=task.pk, data=data)
        # A step's batch is logged as one text, its statements joined.
        written = sum(query["sql"].count('UPDATE "workflows_case" ') for query in captured.captured_queries)
        closed = Case.objects.get(pk=case.pk).status == CaseStatus.COMPLETED
        assert written == (2 if closed else 1), task.element_id  # closing the case is a write of its own
        assert Case.objects.get(pk=case.pk).data.items() >= data.items()
        assert stored(case) == earliest_open(case)
        completions += 1
    assert completions >= 5
