"""Hostile input to the lists read by statements compiled once per shape: values the
compiled statement receives as they come (no queryset checks them again) and page numbers
the pager counts to. Each answer is a 400 naming the parameter, the first page, or an
empty page: never a 500, never another reader's rows."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from permissions.models import Membership, Role
from tests.clients import web
from tests.ids import task_key, tid
from workflows.models import Task

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

HUGE = ("9223372036854775807", "9223372036854775808", "99999999999999999999999999")


def _ok_or_400(response, field):
    assert response.status_code in (200, 400), (response.status_code, response.content[:300])
    if response.status_code == 400:
        assert field in response.content.decode()
    return response


@pytest.mark.parametrize("value", HUGE)
def test_a_case_id_past_bigint_is_no_500_and_finds_nothing(client_for, prison_case, value):
    nils = client_for("nils")
    answer = _ok_or_400(nils.get(f"/api/v1/tasks/?case={value}"), "case")
    if answer.status_code == 200:
        assert answer.json()["results"] == []
    _ok_or_400(nils.get(f"/api/v1/cases/?agency={value}"), "agency")
    _ok_or_400(nils.get(f"/api/v1/cases/?responsible={value}"), "responsible")


def test_a_case_filter_shows_only_the_readers_own_rows(client_for, prison_case, discharge_case):
    """The case filter is a value of the statement: another case's id finds nothing of it."""
    siri = client_for("siri")  # hospital: takes part in the discharge case only
    assert siri.get(f"/api/v1/tasks/?case={prison_case.pk}").json()["results"] == []
    mine = siri.get(f"/api/v1/tasks/?case={discharge_case.pk}").json()["results"]
    assert mine and {task_key(row["id"]) for row in mine} <= set(
        Task.objects.filter(case=discharge_case).values_list("id", flat=True)
    )


@pytest.mark.parametrize("raw", ["%00", "a%00b", "%00" * 40, "%FF%FE", "x" * 5000, "1%3A2%3A3"])
def test_a_cursor_of_nul_bytes_or_garbage_is_a_400_naming_it(client_for, agencies, prison_case, raw):
    nils = client_for("nils")
    for path in ("/api/v1/tasks/", "/api/v1/cases/", f"/api/v1/cases/{prison_case.pk}/timeline/"):
        answer = nils.get(f"{path}?cursor={raw}")
        assert answer.status_code == 400, (path, answer.status_code)
        assert [error["field"] for error in answer.json()["errors"]] == ["cursor"]
    coordinator = get_user_model().objects.create_user("koordinator-h", password="x")
    Membership.objects.create(user=coordinator, agency=agencies["housing"], role=Role.COORDINATOR)
    report = web(coordinator).get(reverse("person-access-report", args=[prison_case.pk]) + f"?cursor={raw}")
    assert report.status_code == 400 and "report-entries" not in report.content.decode()  # the page's twin


@pytest.mark.parametrize("page", ["%00", "-1", "0", "1e99", "99999999999999999999999", "NaN", "2%00"])
def test_a_web_pager_given_a_bad_page_shows_a_page(users, prison_case, page):
    nils = web(users["nils"])
    for path in ("/tasks/?tab=agency", "/tasks/?tab=overdue", "/cases/"):
        answer = nils.get(f"{path}&page={page}" if "?" in path else f"{path}?page={page}")
        # A NUL anywhere in the query is refused before any view (config.input_guard).
        assert answer.status_code == (400 if "%00" in page else 200), (path, page, answer.status_code)
        if answer.status_code == 200:
            assert answer.context["page"].number >= 1


@pytest.mark.parametrize("value", HUGE)
def test_an_object_id_past_bigint_in_the_path_is_a_404(users, client_for, prison_case, value):
    """Ids in paths reach statements compiled once (no queryset checks their range)."""
    nils, ada = web(users["nils"]), web(users["ada"])  # ada: a process admin reads every model
    for client, path in (
        (nils, f"/cases/{value}/"),
        (nils, f"/tasks/{value}/"),
        (nils, f"/cases/{value}/person-access-report/"),
        (ada, f"/process-models/{value}.bpmn"),
        (nils, f"/process-models/{value}.bpmn"),
    ):
        assert client.get(path).status_code == 404, path
    api = client_for("nils")
    for path in (f"/api/v1/cases/{value}/", f"/api/v1/tasks/{value}/", f"/api/v1/cases/{value}/timeline/"):
        assert api.get(path).status_code == 404, path


def _lists(case_pk):
    """(user, path, a parameter the list reads) for each kind of list."""
    return [
        ("nils", "/api/v1/cases/", "status=open"),
        ("nils", "/api/v1/tasks/", "assigned=agency"),
        ("nils", "/api/v1/agencies/", "page_size=5"),
        ("nils", f"/api/v1/cases/{case_pk}/timeline/", "page_size=5"),
        ("nils", f"/api/v1/cases/{case_pk}/notes/", "page_size=5"),
        ("nils", f"/api/v1/cases/{case_pk}/consents/", "page_size=5"),
        ("ada", "/api/v1/legal-bases/", "include_retired=true"),
        ("ada", "/api/v1/incidents/", "resolved=false"),
        ("ada", "/api/v1/process-definitions/", "format=json"),
    ]


@pytest.mark.parametrize("asked", ["stauts=closed", "asigned=me", "page=2", "ordering=-id"])
def test_a_parameter_the_list_does_not_read_is_a_400_naming_it(client_for, prison_case, asked):
    """A misspelt filter (``asigned=me``) gave the whole unfiltered list as if it were the
    filtered one, and ``page=2`` (gone with the keyset pages) the first page again, forever."""
    name = asked.split("=")[0]
    for username, path, known in _lists(prison_case.pk):
        client = client_for(username)
        assert client.get(f"{path}?{known}").status_code == 200, (path, known)
        answer = client.get(f"{path}?{known}&{asked}")
        assert answer.status_code == 400, (path, answer.status_code)
        assert [error["field"] for error in answer.json()["errors"]] == [name], path


@pytest.mark.parametrize("asked", ["status=open&status=closed", "page_size=5&page_size=9", "cursor=a&cursor=b"])
def test_a_parameter_given_twice_is_a_400_naming_it(client_for, prison_case, asked):
    """The last value won, silently: ``status=open&status=closed`` read as the closed cases
    alone, not both."""
    answer = client_for("nils").get(f"/api/v1/cases/?{asked}")
    assert answer.status_code == 400, answer.status_code
    assert [error["field"] for error in answer.json()["errors"]] == [asked.split("=")[0]]


def test_a_form_body_to_a_json_route_is_refused_not_read_as_empty(client_for, users, agencies, shipped):
    """A reassignment sent as a form by a lead: Django read the form before DRF parsed the
    body, DRF took the body for an empty one, and the lead took the task over instead of
    handing it to the colleague named (no assignee = the caller). Now 415, nothing done."""
    from permissions.models import Membership, Role
    from tests.workflows.helpers import open_tasks, start_prison_case, worker_for
    from workflows.models import Task

    case = start_prison_case(users, agencies)
    (task,) = open_tasks(case)
    lead = worker_for(task)
    Membership.objects.get_or_create(user=lead, agency=task.agency, role=Role.LEAD)
    client = client_for(lead.get_username())
    before = Task.objects.values("status", "assignee_id").get(pk=task.pk)
    url = f"/api/v1/tasks/{tid(task.pk)}/reassign/"
    for answer in (
        client.post(url, {"assignee": lead.pk}, format="multipart"),
        client.generic("POST", url, f"assignee={lead.pk}", "application/x-www-form-urlencoded"),
    ):
        assert answer.status_code == 415, answer.content
        assert answer.json()["code"] == "request.unsupported_media_type"
    assert Task.objects.values("status", "assignee_id").get(pk=task.pk) == before
    # the attachments' upload, which reads multipart, is not refused
    assert client.post(f"/api/v1/cases/{case.pk}/attachments/", {}, format="multipart").status_code != 415
