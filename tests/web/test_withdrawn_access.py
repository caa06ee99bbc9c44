"""Issue 11: an agency whose access to a case is withdrawn (``grants.revoke_agency_access``)
works none of its tasks any more. Claim, unclaim, complete, take over and assign each need
the agency's current grant on the case (``rules.can_work_task``): through the API and the
pages they answer 404 (the case is no longer theirs to see) and nothing changes."""

import pytest
from rest_framework.test import APIClient

from permissions.grants import revoke_agency_access
from permissions.models import Membership, Role
from tests.ids import tid
from workflows.models import Case, Event, Task

from .conftest import INTAKE_NO_HOME, open_task

pytestmark = pytest.mark.django_db


@pytest.fixture
def nav_task(web, prison_case):
    assert (
        web("kari")
        .post(f"/tasks/{tid(open_task(prison_case, 'Task_intake_interview').pk)}/", INTAKE_NO_HOME)
        .status_code
        == 302
    )
    return open_task(prison_case, "Task_economy_assessment")


def _api(users, username):
    client = APIClient()
    client.force_authenticate(users[username])
    return client


def _claim(web, task, username="nils"):
    assert web(username).post(f"/tasks/{tid(task.pk)}/claim/").status_code == 302
    assert Task.objects.get(pk=task.pk).status == "claimed"


def _state(task):
    row = Task.objects.get(pk=task.pk)
    case = Case.objects.get(pk=task.case_id)
    return (row.status, row.assignee_id, row.completed_by_id, case.data, Event.objects.filter(case=case).count())


def _api_complete_body(task):
    from tests.workflows.helpers import form_data

    return {"data": form_data(task)}


# action -> (claimed first?, who acts, API request, page request)
ACTIONS = {
    "claim": (False, "nils", lambda t, u: ("claim/", None), lambda t, u: ("claim/", {})),
    "unclaim": (True, "nils", lambda t, u: ("unclaim/", None), lambda t, u: ("unclaim/", {})),
    "complete": (True, "nils", lambda t, u: ("complete/", _api_complete_body(t)), lambda t, u: ("", NAV_FORM_PAGE)),
    "take-over": (True, "nora", lambda t, u: ("reassign/", {}), lambda t, u: ("reassign/", {})),
    "assign": (
        True,
        "nora",
        lambda t, u: ("reassign/", {"assignee": u["nora"].pk}),
        lambda t, u: ("reassign/", {"assignee": u["nora"].pk}),
    ),
}
NAV_FORM_PAGE = {"benefits_applied": "true", "social_assistance_applied": "false", "deposit_guarantee_granted": "true"}


@pytest.mark.parametrize("action", sorted(ACTIONS))
@pytest.mark.parametrize("interface", ["api", "page"])
def test_after_the_grant_is_withdrawn_no_action_on_the_agencys_task_goes_through(
    web, users, agencies, nav_task, action, interface
):
    claimed_first, actor, api_request, page_request = ACTIONS[action]
    Membership.objects.create(user=users["nora"], agency=agencies["nav"], role=Role.LEAD)  # may assign
    if claimed_first:
        _claim(web, nav_task)
    revoke_agency_access(nav_task.case, [agencies["nav"]])
    before = _state(nav_task)
    if interface == "api":
        path, body = api_request(nav_task, users)
        answer = _api(users, actor).post(f"/api/v1/tasks/{tid(nav_task.pk)}/{path}", body, format="json")
    else:
        path, body = page_request(nav_task, users)
        answer = web(actor).post(f"/tasks/{tid(nav_task.pk)}/{path}", body)
    assert answer.status_code == 404, (action, interface, answer.status_code)
    assert _state(nav_task) == before


def test_with_the_grant_each_action_goes_through(web, users, agencies, nav_task):
    """The same requests succeed while NAV holds its grant (the test above can fail)."""
    Membership.objects.create(user=users["nora"], agency=agencies["nav"], role=Role.LEAD)
    nils, nora = _api(users, "nils"), _api(users, "nora")
    assert nils.post(f"/api/v1/tasks/{tid(nav_task.pk)}/claim/").status_code == 200
    assert nils.post(f"/api/v1/tasks/{tid(nav_task.pk)}/unclaim/").status_code == 200
    assert nils.post(f"/api/v1/tasks/{tid(nav_task.pk)}/claim/").status_code == 200
    assert nora.post(f"/api/v1/tasks/{tid(nav_task.pk)}/reassign/", {}, format="json").status_code == 200
    assert (
        nora.post(
            f"/api/v1/tasks/{tid(nav_task.pk)}/reassign/", {"assignee": users["nils"].pk}, format="json"
        ).status_code
        == 200
    )
    answer = nils.post(f"/api/v1/tasks/{tid(nav_task.pk)}/complete/", _api_complete_body(nav_task), format="json")
    assert answer.status_code == 200, answer.content
    assert Task.objects.get(pk=nav_task.pk).status == "completed"


def test_the_task_page_offers_no_action_once_the_grant_is_withdrawn(web, users, agencies, nav_task):
    assert web("nils").get(f"/tasks/{tid(nav_task.pk)}/").status_code == 200
    revoke_agency_access(nav_task.case, [agencies["nav"]])
    assert web("nils").get(f"/tasks/{tid(nav_task.pk)}/").status_code == 404
    assert _api(users, "nils").get("/api/v1/tasks/").json()["results"] == []
