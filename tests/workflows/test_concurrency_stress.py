"""Many people at once on PostgreSQL: no lost data, no deadlock, exactly one winner.

The completion path locks and completes in one round trip and writes in batches
(``workflows.steps.rows``); these tests run it against itself and against messages, many
times over, so that a wrong lock order or a lost update shows up as a failure here
rather than in an agency's inbox.
"""

import pytest

from core.errors import Conflict, NotFound
from tests.threads import all_at_once
from workflows import services
from workflows.models import Case, Event, EventKind, ProcessInstance, Task, TaskStatus

from .helpers import complete, form_data, open_tasks, start_prison_case

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

WORKERS = {"nav": "nils", "health": "helga", "housing": "bjorn"}


def test_every_parallel_branch_of_eight_cases_completed_at_the_same_moment(shipped, users, agencies):
    cases = [start_prison_case(users, agencies) for _ in range(8)]
    calls, payloads = [], {}
    for case in cases:
        (intake,) = open_tasks(case)
        complete(intake, {"has_home": False}, actor=users["kari"])
        for task in open_tasks(case):
            actor, data = users[WORKERS[task.agency.kind]], form_data(task)
            payloads.setdefault(case.pk, {}).update(data)
            calls.append(
                lambda actor=actor, task=task, data=data: services.complete_task(
                    actor=actor, task_id=task.pk, data=data
                )
            )

    outcomes = all_at_once(calls)

    assert [o for o in outcomes if isinstance(o, Exception)] == []
    for case in cases:
        stored = Case.objects.get(pk=case.pk)
        assert {field: stored.data[field] for field in payloads[case.pk]} == payloads[case.pk]
        # the join fired once per case, after all three branches
        assert [t.element_id for t in open_tasks(case)] == ["Task_find_home"]
        assert Event.objects.filter(case=case, kind=EventKind.TASK_COMPLETED).count() == 4
        assert ProcessInstance.objects.get(case=case).version == 5  # start + 4 completions


def test_five_people_completing_one_task_exactly_one_wins_every_time(shipped, users, agencies):
    for _ in range(5):
        case = start_prison_case(users, agencies)
        (intake,) = open_tasks(case)
        data = form_data(intake, {"has_home": False})
        prison_staff = [users["kari"]] * 5  # the same person five times over: a double click
        outcomes = all_at_once(
            [
                lambda actor=actor: services.complete_task(actor=actor, task_id=intake.pk, data=data)
                for actor in prison_staff
            ]
        )

        assert sum(isinstance(o, Task) for o in outcomes) == 1
        assert all(isinstance(o, Conflict) for o in outcomes if not isinstance(o, Task))
        assert Task.objects.get(pk=intake.pk).status == TaskStatus.COMPLETED
        assert len(open_tasks(case)) == 3
        assert Event.objects.filter(case=case, kind=EventKind.TASK_COMPLETED).count() == 1


def test_a_completion_and_a_release_date_message_at_the_same_moment(shipped, users, agencies):
    from tests.workflows.jobs.conftest import walk_to_find_home

    for attempt in range(4):
        case = walk_to_find_home(users, agencies, "2027-12-15")
        (find_home,) = open_tasks(case)
        data = form_data(find_home, {"home_found": True})
        done, message = all_at_once(
            [
                lambda: services.complete_task(actor=users["bjorn"], task_id=find_home.pk, data=data),
                lambda attempt=attempt: services.correlate_message(
                    actor=users["kari"],
                    name="release_date_changed",
                    case_reference=case.reference,
                    payload={"expected_release_date": "2027-10-01"},
                    message_id=f"stress-{case.pk}-{attempt}",
                ),
            ]
        )

        assert isinstance(done, Task), done
        if isinstance(message, NotFound):
            # the completion came first: the boundary event had gone, nothing waited
            assert not Event.objects.filter(case=case, kind=EventKind.MESSAGE_RECEIVED).exists()
        else:
            assert not isinstance(message, Exception), message
            assert Case.objects.get(pk=case.pk).data["expected_release_date"] == "2027-10-01"
            assert Event.objects.filter(case=case, kind=EventKind.MESSAGE_RECEIVED).count() == 1
        assert Task.objects.get(pk=find_home.pk).status == TaskStatus.COMPLETED
