"""POST /api/v1/tasks/{id}/claim/ and /unclaim/: the claim state machine over HTTP, with
the exact answers (200 with the task; 409, 403 and 404 in the error shape)."""

import pytest

from tests.ids import tid
from tests.request_ids import without_request_id
from tests.workflows.helpers import complete, open_tasks
from workflows.models import Event, EventKind, Task

from .conftest import PERSON, PRISON_KINDS, start

CLAIM_EVENTS = (EventKind.TASK_CLAIMED, EventKind.TASK_UNCLAIMED)


@pytest.fixture
def case(shipped, users, agencies):
    return start(users["kari"], "prison_release_to_housing", PERSON, agencies, PRISON_KINDS)


@pytest.fixture
def intake(case):
    (task,) = open_tasks(case)
    return task


@pytest.fixture
def nav_task(case, intake, users):
    complete(intake, {"has_home": False}, actor=users["kari"])
    return next(task for task in open_tasks(case) if task.agency.kind == "nav")


def post(client_for, username, task, action):
    return client_for(username).post(f"/api/v1/tasks/{tid(task.pk)}/{action}/")


def ok(response):
    assert response.status_code == 200, response.content
    return response.json()


def error(response, status):
    assert response.status_code == status, response.content
    return without_request_id(response)


def stored(task):
    row = Task.objects.get(pk=task.pk)
    return row.status, row.assignee.username if row.assignee else None, row.claimed_at


def claim_events(task):
    return list(
        Event.objects.filter(task=task, kind__in=CLAIM_EVENTS).order_by("id").values_list("kind", "actor__username")
    )


def test_open_claimed_open_over_http(client_for, nav_task):
    body = ok(post(client_for, "nils", nav_task, "claim"))
    assert (body["id"], body["status"], body["assignee"]) == (tid(nav_task.pk), "claimed", "nils")
    assert body["claimed_at"] is not None and body["completed_at"] is None
    assert stored(nav_task)[:2] == ("claimed", "nils")
    mine = ok(client_for("nils").get("/api/v1/tasks/", {"assigned": "me"}))["results"]
    assert [row["id"] for row in mine] == [tid(nav_task.pk)]

    body = ok(post(client_for, "nils", nav_task, "unclaim"))
    assert (body["status"], body["assignee"], body["claimed_at"]) == ("open", None, None)
    assert stored(nav_task) == ("open", None, None)

    assert ok(post(client_for, "nora", nav_task, "claim"))["assignee"] == "nora"
    assert claim_events(nav_task) == [
        (EventKind.TASK_CLAIMED, "nils"),
        (EventKind.TASK_UNCLAIMED, "nils"),
        (EventKind.TASK_CLAIMED, "nora"),
    ]


def test_claiming_twice_answers_200_and_claims_once(client_for, nav_task):
    first = ok(post(client_for, "nils", nav_task, "claim"))
    again = ok(post(client_for, "nils", nav_task, "claim"))
    assert again == first
    assert claim_events(nav_task) == [(EventKind.TASK_CLAIMED, "nils")]


def test_a_task_claimed_by_someone_else_is_409_naming_the_colleague_by_name(client_for, nav_task):
    ok(post(client_for, "nils", nav_task, "claim"))
    before = stored(nav_task)
    for action in ("claim", "unclaim"):
        assert error(post(client_for, "nora", nav_task, action), 409) == {
            "detail": "the task is claimed by Nils NAV-veileder",
            "errors": [],
            "code": "task.claimed_by_other",
        }
    assert stored(nav_task) == before
    assert claim_events(nav_task) == [(EventKind.TASK_CLAIMED, "nils")]


def test_unclaiming_an_open_task_is_409(client_for, nav_task):
    assert error(post(client_for, "nils", nav_task, "unclaim"), 409) == {
        "detail": "the task is not claimed",
        "errors": [],
        "code": "task.not_claimed",
    }
    assert stored(nav_task) == ("open", None, None)


def test_a_completed_task_is_409_for_claim_and_unclaim(client_for, users, intake):
    ok(post(client_for, "kari", intake, "claim"))
    complete(intake, {"has_home": False}, actor=users["kari"])
    done = stored(intake)
    for action in ("claim", "unclaim", "claim"):
        assert error(post(client_for, "kari", intake, action), 409) == {
            "detail": "the task is no longer open: it is completed",
            "errors": [],
            "code": "task.completed",
        }
    assert stored(intake) == done and done[0] == "completed"
    assert claim_events(intake) == [(EventKind.TASK_CLAIMED, "kari")]


def test_a_cancelled_task_is_409_for_claim_and_unclaim(client_for, users, agencies, monkeypatch):
    from datetime import UTC, datetime

    from tests.clock import Clock
    from tests.workflows.helpers import deploy_withdrawn_task_model
    from workflows import services

    deploy_withdrawn_task_model()
    clock = Clock(monkeypatch, datetime(2026, 5, 4, 9, tzinfo=UTC))
    case = start(users["kari"], "Proc_withdrawn", PERSON, agencies, ("prison",))
    (task,) = open_tasks(case)
    clock.advance(hours=1, seconds=1)
    assert services.fire_timer("w")[0] == "fired"
    for action in ("claim", "unclaim"):
        assert error(post(client_for, "kari", task, action), 409) == {
            "detail": "the task is no longer open: it is cancelled",
            "errors": [],
            "code": "task.cancelled",
        }
    assert stored(task) == ("cancelled", None, None)
    assert claim_events(task) == []


def test_another_agencys_task_is_403_and_an_invisible_one_404(client_for, nav_task):
    for action in ("claim", "unclaim"):
        assert error(post(client_for, "kari", nav_task, action), 403) == {
            "detail": "this task is for NAV Sarpsborg; you do not work there",
            "errors": [],
            "code": "task.other_agency",
        }
        for outsider in ("siri", "ada", "aud", "oscar"):
            assert error(post(client_for, outsider, nav_task, action), 404) == {
                "detail": "no such task",
                "errors": [],
                "code": "task.not_found",
            }, outsider
        missing = client_for("nils").post(f"/api/v1/tasks/{tid(nav_task.pk + 1000)}/{action}/")
        assert error(missing, 404) == {"detail": "no such task", "errors": [], "code": "task.not_found"}
        assert error(post(client_for, None, nav_task, action), 401)["errors"] == []
    assert stored(nav_task) == ("open", None, None)
    assert claim_events(nav_task) == []
