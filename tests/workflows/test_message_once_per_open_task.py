"""A message caught by a non-interrupting boundary opens its task once while that task is open
(PostgreSQL).

The prison's "release date changed" is caught by a non-interrupting boundary on "find a home"
and opens "adjust the housing plan" for the housing office. Before (2026-12-06) every message
opened another one: the prison could send it again and again with an empty payload, and the
housing contact found a pile of the same task. Now a message that would open the task again
while the one an earlier message opened is still open is refused (409) when it brings nothing
new; a new date goes into the case, the open task and the timers, without a second task. Once
the task is completed, the next message opens a new one."""

import pytest

from core.errors import Conflict
from tests.threads import all_at_once
from tests.workflows.helpers import complete, open_tasks
from tests.workflows.jobs.conftest import walk_to_find_home
from workflows import services, steps
from workflows.models import Case, Event, EventKind, ProcessInstance, ReceivedMessage

pytestmark = pytest.mark.postgres

ADJUST = "Task_adjust_housing_plan"
BOUNDARY = "BoundaryEvent_release_date_changed"


def _send(users, case, payload=None, message_id=None):
    return services.correlate_message(
        actor=users["kari"],
        name="release_date_changed",
        case_reference=case.reference,
        payload=payload or {},
        message_id=message_id,
    )


def _adjust_tasks(case):
    return [task for task in open_tasks(case) if task.element_id == ADJUST]


def _received(case):
    return Event.objects.filter(case=case, kind=EventKind.MESSAGE_RECEIVED).count()


@pytest.mark.django_db
def test_an_empty_repeat_opens_no_second_task_while_the_first_is_open(shipped, users, agencies):
    case = walk_to_find_home(users, agencies, "2027-12-15")
    first = _send(users, case)
    assert first.status == "delivered" and first.element_ids == [BOUNDARY]
    assert len(_adjust_tasks(case)) == 1

    for _ in range(3):
        with pytest.raises(Conflict) as refused:
            _send(users, case)
        assert refused.value.code == "message.task_still_open"
        assert refused.value.params == {"name": "release_date_changed"}
        assert [error["field"] for error in refused.value.errors] == ["name"]

    assert len(_adjust_tasks(case)) == 1
    assert _received(case) == 1  # the refused ones wrote nothing


@pytest.mark.django_db
def test_the_same_date_again_is_nothing_new(shipped, users, agencies):
    case = walk_to_find_home(users, agencies, "2027-12-15")
    _send(users, case, {"expected_release_date": "2027-11-01"})
    with pytest.raises(Conflict):
        _send(users, case, {"expected_release_date": "2027-11-01"}, message_id="halden-2")
    assert len(_adjust_tasks(case)) == 1
    # Refused before it was remembered: the sender may send the id again later.
    assert not ReceivedMessage.objects.filter(message_id="halden-2").exists()


@pytest.mark.django_db
def test_a_new_date_reaches_the_open_task_and_the_timer_without_a_second_task(shipped, users, agencies):
    case = walk_to_find_home(users, agencies, "2027-12-15")
    _send(users, case, {"expected_release_date": "2027-11-01"})
    timer_before = ProcessInstance.objects.get(case=case).next_timer_at

    again = _send(users, case, {"expected_release_date": "2028-03-01"})
    assert again.status == "delivered" and again.element_ids == [BOUNDARY]
    (adjust,) = _adjust_tasks(case)
    assert Case.objects.get(pk=case.pk).data["expected_release_date"] == "2028-03-01"
    # The escalation timer (two months before release) moved with the date.
    timer_after = ProcessInstance.objects.get(case=case).next_timer_at
    assert timer_after is not None and timer_before is not None and timer_after > timer_before
    event = Event.objects.filter(case=case, kind=EventKind.MESSAGE_RECEIVED).latest("pk")
    assert event.detail["task_still_open"] is True and event.element_id == BOUNDARY
    # The task the caseworker opens reads the new date.
    _runtime, workflow = steps.load(ProcessInstance.objects.get(case=case))
    assert workflow.get_task_from_id(adjust.spiff_task_id).data["expected_release_date"] == "2028-03-01"


@pytest.mark.django_db
def test_after_the_task_is_completed_the_next_message_opens_a_new_one(shipped, users, agencies):
    case = walk_to_find_home(users, agencies, "2027-12-15")
    _send(users, case)
    (adjust,) = _adjust_tasks(case)
    complete(adjust)
    assert _adjust_tasks(case) == []

    again = _send(users, case)
    assert again.status == "delivered" and again.element_ids == [BOUNDARY]
    (second,) = _adjust_tasks(case)
    assert second.pk != adjust.pk
    with pytest.raises(Conflict):
        _send(users, case)


@pytest.mark.django_db
def test_a_claimed_task_is_still_open(shipped, users, agencies):
    case = walk_to_find_home(users, agencies, "2027-12-15")
    _send(users, case)
    (adjust,) = _adjust_tasks(case)
    services.claim_task(actor=users["bjorn"], task_id=adjust.pk)
    with pytest.raises(Conflict):
        _send(users, case)
    assert len(_adjust_tasks(case)) == 1


@pytest.mark.django_db(transaction=True)
def test_two_identical_messages_at_once_open_one_task(shipped, users, agencies):
    case = walk_to_find_home(users, agencies, "2027-12-15")
    _send(users, case)
    (adjust,) = _adjust_tasks(case)
    complete(adjust)

    outcomes = all_at_once([lambda: _send(users, case), lambda: _send(users, case)])

    delivered = [o for o in outcomes if not isinstance(o, Exception)]
    refused = [o for o in outcomes if isinstance(o, Exception)]
    assert len(delivered) == 1 and delivered[0].status == "delivered", outcomes
    assert len(refused) == 1 and isinstance(refused[0], Conflict), outcomes
    assert refused[0].code == "message.task_still_open"
    assert len(_adjust_tasks(case)) == 1
