"""A revoked grant empties every list at once, and a restored one fills them again.

Seeing a case needs the participation *and* the agency group's ``view_case`` object
permission (``permissions.rules.visible_cases``). Each list that shows cases or their
tasks (``GET /api/v1/cases/``, ``GET /api/v1/tasks/``, the web case list and inbox) is
read as NAV after ``permissions.grants`` takes the permission or the participation away
and gives it back.
"""

import pytest
from django.test import Client
from rest_framework.test import APIClient

from permissions import rules
from permissions.grants import add_participant, grant_agency_access, remove_participant, revoke_agency_access
from tests.ids import task_key
from tests.workflows.helpers import complete, open_tasks
from workflows.models import Task

from .conftest import DISCHARGE_KINDS, OTHER_PERSON, PERSON, PRISON_KINDS, _start


@pytest.fixture
def cases(users, agencies, shipped):
    """NAV takes part in both; in the prison case it has an open task (past the intake)."""
    prison = _start(users["kari"], "prison_release_to_housing", PERSON, agencies, PRISON_KINDS)
    (intake,) = open_tasks(prison)
    complete(intake, {"has_home": False}, actor=users["kari"])
    discharge = _start(users["siri"], "institution_discharge_to_housing", OTHER_PERSON, agencies, DISCHARGE_KINDS)
    return prison, discharge


def api_ids(user, path):
    client = APIClient()
    client.force_authenticate(user)
    response = client.get(path)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["next"] is None  # one page holds them all
    return {row["id"] for row in body["results"]}


def web_ids(user, path, name):
    client = Client()
    client.force_login(user)
    response = client.get(path)
    assert response.status_code == 200
    return {row.pk for row in response.context[name]}


def what_is_listed(user):
    return {
        "api cases": api_ids(user, "/api/v1/cases/"),
        "api tasks": {task_key(public) for public in api_ids(user, "/api/v1/tasks/")},
        "web cases": web_ids(user, "/cases/", "cases"),
        "web inbox": web_ids(user, "/tasks/?tab=agency", "tasks"),
    }


def listing(reader, agency, *cases):
    """What NAV's people should see when ``cases`` are visible to them: in the task list,
    the tasks whose gateway path tells them nothing they may not see (``rules.listed_task_rows``)."""
    tasks = rules.listed_task_rows(reader, Task.objects.filter(case__in=cases))
    return {
        "api cases": {case.pk for case in cases},
        "api tasks": set(tasks.values_list("pk", flat=True)),
        "web cases": {case.pk for case in cases},
        "web inbox": {task.pk for case in cases for task in open_tasks(case) if task.agency_id == agency.pk},
    }


def test_revoking_the_grant_hides_the_case_from_every_list_and_restoring_shows_it(cases, users, agencies):
    prison, discharge = cases
    nav = agencies["nav"]
    both = listing(users["nils"], nav, prison, discharge)
    assert both["web inbox"] and both["api tasks"] > both["web inbox"]  # something to lose in each list
    assert what_is_listed(users["nils"]) == both
    kari_before = what_is_listed(users["kari"])

    # NAV still participates; only its group's view_case on the prison case is gone.
    assert revoke_agency_access(prison, [nav]) == 1
    assert prison.participants.filter(agency=nav).exists()

    only_discharge = listing(users["nils"], nav, discharge)
    for name in ("nils", "nora"):
        assert what_is_listed(users[name]) == only_discharge, name
    assert what_is_listed(users["kari"]) == kari_before  # the prison's grant is untouched

    grant_agency_access(prison, [nav])
    assert what_is_listed(users["nils"]) == both


def test_removing_the_participant_hides_the_case_and_adding_it_back_shows_it(cases, users, agencies):
    prison, discharge = cases
    nav = agencies["nav"]
    both = listing(users["nils"], nav, prison, discharge)

    remove_participant(prison, "nav")

    assert what_is_listed(users["nils"]) == listing(users["nils"], nav, discharge)
    add_participant(prison, "nav", nav)
    assert what_is_listed(users["nils"]) == both
