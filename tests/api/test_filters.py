"""The list filters of ``workflows.filters`` (django-filter) as the API serves them: each
narrows what the user already sees, never widens it; a bad value answers 400 naming the
parameter; the schema documents every parameter."""

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from tests.deadlines import set_due
from tests.ids import task_key, tid
from workflows.models import Incident, ProcessInstance, Task

pytestmark = pytest.mark.django_db


def _ids(response):
    """The keys of the rows listed (a task's id is its public id: ``tests/ids.py``)."""
    assert response.status_code == 200, response.json()
    tasks = response.wsgi_request.path.startswith("/api/v1/tasks/")
    return {task_key(row["id"]) if tasks else row["id"] for row in response.json()["results"]}


def _bad(response, field):
    """400 in the error shape, naming ``field``."""
    assert response.status_code == 400, response.content
    body = response.json()
    assert set(body) == {"detail", "errors", "request_id"}
    assert [error["field"] for error in body["errors"]] == [field]
    assert body["errors"][0]["message"] and body["detail"].startswith(f"{field}: ")


def _make_overdue(task):
    set_due(Task.objects.filter(pk=task.pk), timezone.now() - timedelta(days=1))


# --- cases -----------------------------------------------------------------------------


@pytest.fixture
def two_cases(prison_case, discharge_case, small_case):
    """nils (NAV) sees the prison and the discharge case, not the small case."""
    return prison_case, discharge_case


def test_cases_unfiltered_are_what_the_user_sees(client_for, two_cases, small_case):
    assert _ids(client_for("nils").get("/api/v1/cases/")) == {case.pk for case in two_cases}


def test_cases_by_status(client_for, two_cases):
    prison, discharge = two_cases
    type(discharge).objects.filter(pk=discharge.pk).update(status="completed")
    nils = client_for("nils")
    assert _ids(nils.get("/api/v1/cases/", {"status": "completed"})) == {discharge.pk}
    assert _ids(nils.get("/api/v1/cases/", {"status": "open"})) == {prison.pk}
    _bad(nils.get("/api/v1/cases/", {"status": "finished"}), "status")


def test_cases_by_process_key(client_for, two_cases):
    prison, _discharge = two_cases
    nils = client_for("nils")
    assert _ids(nils.get("/api/v1/cases/", {"process_key": prison.process_key})) == {prison.pk}
    assert _ids(nils.get("/api/v1/cases/", {"process_key": "no_such_process"})) == set()
    _bad(nils.get("/api/v1/cases/", {"process_key": "x" * 201}), "process_key")


def test_cases_by_agency(client_for, agencies, two_cases, small_case):
    prison, discharge = two_cases
    nils = client_for("nils")
    assert _ids(nils.get("/api/v1/cases/", {"agency": agencies["prison"].pk})) == {prison.pk}
    assert _ids(nils.get("/api/v1/cases/", {"agency": agencies["hospital"].pk})) == {discharge.pk}
    assert _ids(nils.get("/api/v1/cases/", {"agency": agencies["nav"].pk})) == {prison.pk, discharge.pk}
    _bad(nils.get("/api/v1/cases/", {"agency": "prison"}), "agency")
    _bad(nils.get("/api/v1/cases/", {"agency": "0"}), "agency")


def test_cases_by_overdue(client_for, two_cases):
    prison, discharge = two_cases
    _make_overdue(prison.tasks.filter(status="open").first())
    nils = client_for("nils")
    assert _ids(nils.get("/api/v1/cases/", {"overdue": "true"})) == {prison.pk}
    assert _ids(nils.get("/api/v1/cases/", {"overdue": "false"})) == {discharge.pk}
    assert _ids(nils.get("/api/v1/cases/", {"overdue": ""})) == {prison.pk, discharge.pk}  # empty: no filter
    _bad(nils.get("/api/v1/cases/", {"overdue": "maybe"}), "overdue")


def test_case_filters_never_widen_what_the_user_sees(client_for, agencies, two_cases, small_case):
    nils = client_for("nils")
    assert small_case.pk not in _ids(nils.get("/api/v1/cases/", {"agency": agencies["hospital"].pk}))
    assert _ids(nils.get("/api/v1/cases/", {"process_key": small_case.process_key})) == set()
    assert _ids(client_for("oscar").get("/api/v1/cases/", {"overdue": "false"})) == set()


def test_case_filters_combine_and_keep_the_annotations(client_for, agencies, two_cases):
    prison, _discharge = two_cases
    response = client_for("nils").get(
        "/api/v1/cases/",
        {"agency": agencies["nav"].pk, "status": "open", "process_key": prison.process_key, "overdue": "false"},
    )
    rows = response.json()["results"]
    assert [row["id"] for row in rows] == [prison.pk]
    assert rows[0]["open_task_count"] == prison.tasks.filter(status__in=["open", "claimed"]).count()


# --- tasks -----------------------------------------------------------------------------


@pytest.fixture
def nav_task(prison_case, discharge_case):
    """An open task on NAV in the prison case (nils's and nora's agency)."""
    task = Task.objects.filter(case=prison_case, agency__kind="nav", status="open").first()
    if task is None:  # the process may start elsewhere: move one open task to NAV for the test
        from permissions.models import Agency

        task = Task.objects.filter(case=prison_case, status="open").first()
        Task.objects.filter(pk=task.pk).update(agency=Agency.objects.get(kind="nav"))
    return task


def _visible_tasks(case_ids):
    return set(Task.objects.filter(case_id__in=case_ids).values_list("pk", flat=True))


def test_tasks_assigned_me(client_for, users, nav_task):
    nils = client_for("nils")
    assert _ids(nils.get("/api/v1/tasks/", {"assigned": "me"})) == set()
    assert nils.post(f"/api/v1/tasks/{tid(nav_task.pk)}/claim/").status_code == 200
    assert _ids(nils.get("/api/v1/tasks/", {"assigned": "me"})) == {nav_task.pk}
    assert _ids(client_for("nora").get("/api/v1/tasks/", {"assigned": "me"})) == set()
    _bad(nils.get("/api/v1/tasks/", {"assigned": "everyone"}), "assigned")


def test_tasks_assigned_agency(client_for, agencies, nav_task, prison_case, discharge_case):
    nils = client_for("nils")
    everything = _ids(nils.get("/api/v1/tasks/"))
    assert everything == _visible_tasks([prison_case.pk, discharge_case.pk])
    mine = _ids(nils.get("/api/v1/tasks/", {"assigned": "agency"}))
    assert nav_task.pk in mine
    assert mine == set(Task.objects.filter(pk__in=everything, agency=agencies["nav"]).values_list("pk", flat=True))


def test_tasks_by_status(client_for, nav_task):
    Task.objects.filter(pk=nav_task.pk).update(status="cancelled")
    nils = client_for("nils")
    assert _ids(nils.get("/api/v1/tasks/", {"status": "cancelled"})) == {nav_task.pk}
    active = _ids(nils.get("/api/v1/tasks/", {"status": "active"}))
    assert nav_task.pk not in active
    assert active and all(Task.objects.get(pk=pk).status in ("open", "claimed") for pk in active)
    _bad(nils.get("/api/v1/tasks/", {"status": "done"}), "status")


def test_tasks_by_overdue(client_for, nav_task):
    _make_overdue(nav_task)
    nils = client_for("nils")
    assert _ids(nils.get("/api/v1/tasks/", {"overdue": "true"})) == {nav_task.pk}
    assert nav_task.pk not in _ids(nils.get("/api/v1/tasks/", {"overdue": "false"}))
    Task.objects.filter(pk=nav_task.pk).update(status="completed")  # done tasks are never overdue
    assert _ids(nils.get("/api/v1/tasks/", {"overdue": "1"})) == set()
    _bad(nils.get("/api/v1/tasks/", {"overdue": "later"}), "overdue")


def test_tasks_by_case(client_for, prison_case, discharge_case, small_case):
    nils = client_for("nils")
    assert _ids(nils.get("/api/v1/tasks/", {"case": prison_case.pk})) == _visible_tasks([prison_case.pk])
    assert _ids(nils.get("/api/v1/tasks/", {"case": small_case.pk})) == set()  # not visible: no widening
    _bad(nils.get("/api/v1/tasks/", {"case": "BK-1"}), "case")
    _bad(nils.get("/api/v1/tasks/", {"case": "-3"}), "case")


def test_several_bad_task_filters_are_each_named(client_for, db, users):
    response = client_for("nils").get("/api/v1/tasks/", {"status": "x", "case": "y", "page_size": "1"})
    assert response.status_code == 400
    assert {error["field"] for error in response.json()["errors"]} == {"status", "case"}


# --- incidents -------------------------------------------------------------------------


@pytest.fixture
def incidents(prison_case):
    instance = ProcessInstance.objects.get(case=prison_case)
    open_one = Incident.objects.create(instance=instance, case=prison_case, kind="expression", error="boom")
    resolved = Incident.objects.create(
        instance=instance, case=prison_case, kind="expression", error="fixed", resolved_at=timezone.now()
    )
    return open_one, resolved


def test_incidents_by_resolved(client_for, incidents):
    open_one, resolved = incidents
    ada = client_for("ada")
    assert _ids(ada.get("/api/v1/incidents/")) == {open_one.pk, resolved.pk}
    assert _ids(ada.get("/api/v1/incidents/", {"resolved": "true"})) == {resolved.pk}
    assert _ids(ada.get("/api/v1/incidents/", {"resolved": "false"})) == {open_one.pk}
    _bad(ada.get("/api/v1/incidents/", {"resolved": "perhaps"}), "resolved")


def test_incident_filters_do_not_open_the_list_to_others(client_for, incidents):
    assert client_for("nils").get("/api/v1/incidents/", {"resolved": "false"}).status_code == 403
    assert client_for("nils").get("/api/v1/incidents/", {"resolved": "perhaps"}).status_code == 403


# --- the schema documents the filters ----------------------------------------------------


def test_schema_documents_every_filter(client_for, db, users):
    schema = client_for("nils").get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()

    def params(path):
        return {p["name"]: p for p in schema["paths"][path]["get"]["parameters"] if p["in"] == "query"}

    cases = params("/api/v1/cases/")
    assert set(cases) == {"status", "process_key", "agency", "overdue", "q", "responsible", "cursor", "page_size"}
    assert cases["agency"]["schema"] == {"type": "integer", "minimum": 1}
    assert cases["overdue"]["schema"]["type"] == "boolean"
    assert set(cases["status"]["schema"]["enum"]) == {"open", "completed", "cancelled"}

    tasks = params("/api/v1/tasks/")
    assert set(tasks) == {"assigned", "status", "overdue", "case", "responsible", "cursor", "page_size"}
    assert set(tasks["assigned"]["schema"]["enum"]) == {"me", "agency"}
    assert set(tasks["status"]["schema"]["enum"]) == {"open", "claimed", "completed", "cancelled", "active"}
    assert tasks["case"]["schema"] == {"type": "integer", "minimum": 1} and tasks["case"]["description"]

    incidents = params("/api/v1/incidents/")
    assert (
        set(incidents) == {"resolved", "cursor", "page_size"} and incidents["resolved"]["schema"]["type"] == "boolean"
    )
    assert "400" in schema["paths"]["/api/v1/cases/"]["get"]["responses"]


def test_mine_among_active_tasks_is_what_i_took_and_no_active_task_names_a_completer(client_for, users, nav_task):
    """ "Mine" among active tasks (the inbox's first tab) is read as the tasks the user took
    (``workflows.filters.TaskFilter``), which holds because only a completion names a
    completer and it ends the task: the database refuses an active task naming one."""
    nils = client_for("nils")
    assert nils.post(f"/api/v1/tasks/{tid(nav_task.pk)}/claim/").status_code == 200
    for status in ("active", "claimed"):
        assert _ids(nils.get("/api/v1/tasks/", {"assigned": "me", "status": status})) == {nav_task.pk}
    assert _ids(nils.get("/api/v1/tasks/", {"assigned": "me", "status": "open"})) == set()
    assert _ids(nils.get("/api/v1/tasks/", {"assigned": "me", "overdue": "false"})) == {nav_task.pk}
    with pytest.raises(IntegrityError), transaction.atomic():
        Task.objects.filter(pk=nav_task.pk).update(completed_by=users["nils"])
