"""Issue 13, point 9: a claimed task is taken over by a colleague, or given to one by the
agency's lead; one service for page and API, logged, and nobody else can do it."""

import pytest
from rest_framework.test import APIClient

from permissions.models import Membership, Role
from tests.ids import tid
from workflows.models import Event, EventKind, Task

from .conftest import INTAKE_NO_HOME, open_task

pytestmark = pytest.mark.django_db


@pytest.fixture
def claimed_nav_task(web, prison_case):
    web("kari").post(f"/tasks/{tid(open_task(prison_case, 'Task_intake_interview').pk)}/", INTAKE_NO_HOME)
    task = open_task(prison_case, "Task_economy_assessment")
    assert web("nils").post(f"/tasks/{tid(task.pk)}/claim/").status_code == 302
    return task


def _api(users, username):
    client = APIClient()
    client.force_authenticate(users[username])
    return client


def test_a_colleague_takes_over_a_claimed_task_from_the_page_and_it_is_logged(web, users, claimed_nav_task):
    nora = web("nora")
    page = nora.get(f"/tasks/{tid(claimed_nav_task.pk)}/").content.decode()
    assert 'id="take-over"' in page and 'id="assign"' not in page  # nora is no lead
    assert nora.post(f"/tasks/{tid(claimed_nav_task.pk)}/reassign/").status_code == 302
    task = Task.objects.get(pk=claimed_nav_task.pk)
    assert task.assignee == users["nora"] and task.status == "claimed"
    event = Event.objects.filter(task=task, kind=EventKind.TASK_CLAIMED).latest("id")
    assert event.actor == users["nora"] and event.detail == {"from_user": users["nils"].pk, "to_user": users["nora"].pk}


def test_other_agencies_cannot_take_over_and_members_cannot_give_away(web, users, agencies, claimed_nav_task):
    url = f"/tasks/{tid(claimed_nav_task.pk)}/reassign/"
    assert web("kari").post(url).status_code == 403  # sees the case, works in another agency
    assert web("siri").post(url).status_code == 404  # not in the case
    assert web("oscar").post(url).status_code == 404
    assert web("nora").post(url, {"assignee": users["nora"].pk}).status_code == 403  # only a lead names someone
    assert Task.objects.get(pk=claimed_nav_task.pk).assignee == users["nils"]


def test_the_lead_gives_the_task_to_a_colleague_in_the_agency_only(web, users, agencies, claimed_nav_task):
    Membership.objects.create(user=users["nora"], agency=agencies["nav"], role=Role.LEAD)
    nora = web("nora")
    page = nora.get(f"/tasks/{tid(claimed_nav_task.pk)}/").content.decode()
    assert 'id="assign"' in page and "Kari Fengselsbetjent" not in page
    url = f"/tasks/{tid(claimed_nav_task.pk)}/reassign/"
    assert nora.post(url, {"assignee": users["kari"].pk}).status_code == 403  # not in NAV
    assert nora.post(url, {"assignee": users["nora"].pk}).status_code == 302
    assert Task.objects.get(pk=claimed_nav_task.pk).assignee == users["nora"]
    assert nora.post(url, {"assignee": users["nils"].pk}).status_code == 302
    assert Task.objects.get(pk=claimed_nav_task.pk).assignee == users["nils"]


def test_the_api_takes_over_through_the_same_service(users, claimed_nav_task):
    response = _api(users, "nora").post(f"/api/v1/tasks/{tid(claimed_nav_task.pk)}/reassign/", {}, format="json")
    assert response.status_code == 200 and Task.objects.get(pk=claimed_nav_task.pk).assignee == users["nora"]
    assert _api(users, "kari").post(f"/api/v1/tasks/{tid(claimed_nav_task.pk)}/reassign/").status_code == 403
    bad = _api(users, "nora").post(
        f"/api/v1/tasks/{tid(claimed_nav_task.pk)}/reassign/", {"assignee": "x"}, format="json"
    )
    assert bad.status_code == 400


def test_an_open_task_is_claimed_not_taken_over(users, prison_case):
    task = open_task(prison_case, "Task_intake_interview")
    response = _api(users, "kari").post(f"/api/v1/tasks/{tid(task.pk)}/reassign/")
    assert response.status_code == 409 and response.json()["code"] == "task.not_claimed"
