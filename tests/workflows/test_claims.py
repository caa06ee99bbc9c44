"""Claiming and unclaiming through the services: open -> claimed -> open, only by people
of the agency the task landed on, never once the work is done or withdrawn, and one
winner when two people claim at the same moment (PostgreSQL)."""

from datetime import UTC, datetime

import pytest

from core.errors import Conflict, Forbidden, NotFound
from tests.clock import Clock
from tests.threads import all_at_once
from workflows import services
from workflows.models import Event, EventKind, Task, TaskStatus

from .helpers import PERSON, complete, deploy_withdrawn_task_model, open_tasks, start_prison_case

CLAIM_EVENTS = (EventKind.TASK_CLAIMED, EventKind.TASK_UNCLAIMED)
ACTIONS = {"claim": services.claim_task, "unclaim": services.unclaim_task}


def stored(task):
    row = Task.objects.get(pk=task.pk)
    return row.status, row.assignee.username if row.assignee else None, row.claimed_at


def claim_events(task):
    return list(
        Event.objects.filter(task=task, kind__in=CLAIM_EVENTS)
        .order_by("id")
        .values_list("kind", "actor__username", "agency__kind")
    )


def refused(action, actor, task, error):
    """``action`` by ``actor`` raises exactly ``error``; returns its detail."""
    with pytest.raises(error) as raised:
        ACTIONS[action](actor=actor, task_id=task.pk)
    assert type(raised.value) is error and raised.value.errors == []
    return raised.value.detail


def test_open_claimed_open(nav_task, users):
    claimed = services.claim_task(actor=users["nils"], task_id=nav_task.pk)

    status, assignee, claimed_at = stored(nav_task)
    assert (claimed.status, claimed.assignee, claimed.claimed_at) == (TaskStatus.CLAIMED, users["nils"], claimed_at)
    assert (status, assignee) == (TaskStatus.CLAIMED, "nils") and claimed_at is not None

    released = services.unclaim_task(actor=users["nils"], task_id=nav_task.pk)

    assert (released.status, released.assignee, released.claimed_at) == (TaskStatus.OPEN, None, None)
    assert stored(nav_task) == (TaskStatus.OPEN, None, None)
    # Open again: the colleague takes it.
    services.claim_task(actor=users["nora"], task_id=nav_task.pk)
    assert stored(nav_task)[:2] == (TaskStatus.CLAIMED, "nora")
    assert claim_events(nav_task) == [
        (EventKind.TASK_CLAIMED, "nils", "nav"),
        (EventKind.TASK_UNCLAIMED, "nils", "nav"),
        (EventKind.TASK_CLAIMED, "nora", "nav"),
    ]


def test_claiming_twice_is_harmless(nav_task, users):
    services.claim_task(actor=users["nils"], task_id=nav_task.pk)
    first = stored(nav_task)

    again = services.claim_task(actor=users["nils"], task_id=nav_task.pk)

    assert (again.status, again.assignee) == (TaskStatus.CLAIMED, users["nils"])
    assert stored(nav_task) == first  # the claim keeps its time
    assert claim_events(nav_task) == [(EventKind.TASK_CLAIMED, "nils", "nav")]


def test_a_task_claimed_by_someone_else_is_a_conflict_naming_only_the_claimant(nav_task, users):
    services.claim_task(actor=users["nils"], task_id=nav_task.pk)
    before = stored(nav_task)

    for action in ACTIONS:
        # The username, as today; never the full name or the e-mail address.
        assert refused(action, users["nora"], nav_task, Conflict) == "the task is claimed by Nils NAV-veileder"

    assert stored(nav_task) == before
    assert claim_events(nav_task) == [(EventKind.TASK_CLAIMED, "nils", "nav")]


def test_unclaiming_an_open_task_is_a_conflict(nav_task, users):
    assert refused("unclaim", users["nils"], nav_task, Conflict) == "the task is not claimed"
    assert stored(nav_task) == (TaskStatus.OPEN, None, None)
    assert claim_events(nav_task) == []


def test_a_completed_task_is_never_claimed_or_unclaimed_again(case, users):
    (intake,) = open_tasks(case)
    services.claim_task(actor=users["kari"], task_id=intake.pk)
    complete(intake, {"has_home": False}, actor=users["kari"])
    done = stored(intake)
    assert done[:2] == (TaskStatus.COMPLETED, "kari")

    for action in ("claim", "unclaim", "claim"):
        assert refused(action, users["kari"], intake, Conflict) == "the task is no longer open: it is completed"

    assert stored(intake) == done
    assert claim_events(intake) == [(EventKind.TASK_CLAIMED, "kari", "prison")]


def test_a_completed_task_nobody_claimed_is_not_claimed_either(case, users):
    (intake,) = open_tasks(case)
    complete(intake, {"has_home": False}, actor=users["kari"])
    for action in ACTIONS:
        assert refused(action, users["kari"], intake, Conflict) == "the task is no longer open: it is completed"
    assert stored(intake)[0] == TaskStatus.COMPLETED
    assert claim_events(intake) == []


def test_a_cancelled_task_is_never_claimed_or_unclaimed(db, users, agencies, monkeypatch):
    deploy_withdrawn_task_model()
    clock = Clock(monkeypatch, datetime(2026, 5, 4, 9, tzinfo=UTC))
    case = services.start_case(
        actor=users["kari"], process_key="Proc_withdrawn", person=PERSON, participants={"prison": agencies["prison"].pk}
    )
    (task,) = open_tasks(case)
    services.claim_task(actor=users["kari"], task_id=task.pk)
    clock.advance(hours=1, seconds=1)
    assert services.fire_timer("w")[0] == "fired"
    withdrawn = stored(task)
    assert withdrawn[0] == TaskStatus.CANCELLED

    for action in ("claim", "unclaim"):
        assert refused(action, users["kari"], task, Conflict) == "the task is no longer open: it is cancelled"

    assert stored(task) == withdrawn
    assert claim_events(task) == [(EventKind.TASK_CLAIMED, "kari", "prison")]


def test_another_agencys_task_is_forbidden_and_an_invisible_one_does_not_exist(nav_task, users):
    for action in ACTIONS:
        # The prison takes part in the case, so kari sees NAV's task but may not work it.
        assert refused(action, users["kari"], nav_task, Forbidden) == (
            "this task is for NAV Sarpsborg; you do not work there"
        )
        for outsider in ("siri", "ada", "aud", "oscar"):  # no case role in a participating agency
            assert refused(action, users[outsider], nav_task, NotFound) == "no such task"
        with pytest.raises(NotFound) as raised:
            ACTIONS[action](actor=users["nils"], task_id=nav_task.pk + 1000)
        assert raised.value.detail == "no such task"
    assert stored(nav_task) == (TaskStatus.OPEN, None, None)
    assert claim_events(nav_task) == []


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_colleagues_claim_one_task_at_the_same_moment_exactly_one_wins(shipped, users, agencies):
    case = start_prison_case(users, agencies)
    (intake,) = open_tasks(case)
    complete(intake, {"has_home": False}, actor=users["kari"])
    task = next(t for t in open_tasks(case) if t.agency.kind == "nav")

    # Each round races for the task again once the winner has let it go.
    for round_number in range(10):
        outcomes = all_at_once(
            [lambda name=name: services.claim_task(actor=users[name], task_id=task.pk) for name in ("nils", "nora")]
        )

        winners = [outcome for outcome in outcomes if isinstance(outcome, Task)]
        losers = [outcome for outcome in outcomes if not isinstance(outcome, Task)]
        assert len(winners) == 1, (round_number, outcomes)
        (winner,) = winners
        (loser,) = losers
        name = winner.assignee.username
        shown = winner.assignee.get_full_name()  # the colleague's name, as people know it
        assert type(loser) is Conflict and loser.detail == f"the task is claimed by {shown}", (round_number, loser)
        assert stored(task)[:2] == (TaskStatus.CLAIMED, name)
        claims = Event.objects.filter(task=task, kind=EventKind.TASK_CLAIMED)
        assert claims.count() == round_number + 1, round_number
        assert claims.order_by("-id").first().actor.username == name
        services.unclaim_task(actor=users[name], task_id=task.pk)
    assert Event.objects.filter(task=task, kind=EventKind.TASK_UNCLAIMED).count() == 10
