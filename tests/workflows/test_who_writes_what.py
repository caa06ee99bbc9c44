"""Who may write what (issue 11, point 2): every write of case data names its writer agency
and is limited to the fields that writer may set. Each cross-agency write is tried here,
over the services, the API and the pages, and the case data is found unchanged."""

from datetime import UTC, datetime

import pytest

from bpmn.registry import runtime_for
from core.errors import Forbidden, InvalidInput
from tests.clients import api, web
from tests.clock import Clock
from tests.ids import tid
from tests.workflows.helpers import PERSON, PRISON_PARTICIPANTS, complete, form_data, open_tasks, start_prison_case
from tests.workflows.jobs.conftest import walk_to_find_home
from workflows import services
from workflows.models import Case, Event, ReceivedMessage, Task

pytestmark = pytest.mark.django_db

HEALTH_VALUE = "LAR, oppfølging hver uke"


def selectors_form(task):
    return runtime_for(task.instance.definition_id).form_for(task.element_id)[0]


def snapshot(case):
    case = Case.objects.get(pk=case.pk)
    return case.data, case.data_sources, Event.objects.filter(case=case).count()


@pytest.fixture
def waiting_case(shipped, users, agencies, monkeypatch):
    """A prison case at "find a home" (release_date_changed waits), every other task done,
    the health plan written by the health service."""
    Clock(monkeypatch, datetime(2026, 8, 3, 12, tzinfo=UTC))
    case = walk_to_find_home(users, agencies, "2027-01-15")
    case.refresh_from_db()
    assert case.data["treatment_plan"] and case.data_sources["treatment_plan"] == agencies["health"].pk
    return case


def send(user, case, payload, name="release_date_changed"):
    return api(user).post(
        "/api/v1/messages/",
        {"name": name, "case_reference": case.reference, "payload": payload},
        format="json",
    )


@pytest.mark.parametrize("sender", ["nils", "helga", "bjorn"])
def test_an_agency_the_model_does_not_name_cannot_send_the_message(waiting_case, users, sender):
    before = snapshot(waiting_case)
    answer = send(users[sender], waiting_case, {"expected_release_date": "2030-01-01", "treatment_plan": "x"})
    assert answer.status_code == 403, answer.content
    assert "release_date_changed" in answer.json()["detail"]
    assert snapshot(waiting_case) == before
    assert not ReceivedMessage.objects.exists()


def test_a_message_writes_only_the_fields_it_declares(waiting_case, users):
    before = snapshot(waiting_case)
    answer = send(
        users["kari"],
        waiting_case,
        {"expected_release_date": "2027-03-01", "treatment_plan": "overwritten", "home_address": "Storgata 1"},
    )
    assert answer.status_code == 400, answer.content
    assert {e["field"] for e in answer.json()["errors"]} == {"payload.treatment_plan", "payload.home_address"}
    assert "overwritten" not in answer.content.decode()
    assert snapshot(waiting_case) == before
    # The declared field alone is delivered, its source the prison.
    assert send(users["kari"], waiting_case, {"expected_release_date": "2027-03-01"}).status_code == 202
    waiting_case.refresh_from_db()
    assert waiting_case.data["expected_release_date"] == "2027-03-01"
    assert waiting_case.data["treatment_plan"] == before[0]["treatment_plan"]


def test_the_services_refuse_the_same(waiting_case, users):
    before = snapshot(waiting_case)
    with pytest.raises(Forbidden):
        services.correlate_message(
            actor=users["nils"],
            name="release_date_changed",
            case_reference=waiting_case.reference,
            payload={"expected_release_date": "2030-01-01"},
        )
    with pytest.raises(InvalidInput) as raised:
        services.correlate_message(
            actor=users["kari"],
            name="release_date_changed",
            case_reference=waiting_case.reference,
            payload={"treatment_plan": "x"},
        )
    assert [e["field"] for e in raised.value.errors] == ["payload.treatment_plan"]
    assert snapshot(waiting_case) == before


def test_a_case_start_writes_only_the_start_form(shipped, users, agencies):
    body = {
        "process_key": "prison_release_to_housing",
        "person": PERSON,
        "participants": {kind: agencies[kind].pk for kind in PRISON_PARTICIPANTS},
        "data": {"treatment_plan": HEALTH_VALUE, "expected_release_date": "2027-01-01"},
    }
    answer = api(users["kari"]).post("/api/v1/cases/", body, format="json")
    assert answer.status_code == 400, answer.content
    assert {e["field"] for e in answer.json()["errors"]} == {"data.treatment_plan", "data.expected_release_date"}
    assert HEALTH_VALUE not in answer.content.decode()
    assert not Case.objects.exists()
    with pytest.raises(InvalidInput):
        start_prison_case(users, agencies, data={"home_address": "x"})
    assert not Case.objects.exists()


@pytest.fixture
def parallel_case(shipped, users, agencies):
    """Intake done without a home: NAV, health and housing each have a task open."""
    case = start_prison_case(users, agencies)
    (intake,) = open_tasks(case)
    complete(intake, {"has_home": False})
    return case


def test_a_task_writes_its_own_form_only(parallel_case, users):
    economy = Task.objects.get(case=parallel_case, element_id="Task_economy_assessment")
    health = Task.objects.get(case=parallel_case, element_id="Task_health_follow_up_plan")
    before = snapshot(parallel_case)
    # NAV's own task with a health field added: 400 naming it, nothing written.
    answer = api(users["nils"]).post(
        f"/api/v1/tasks/{tid(economy.pk)}/complete/",
        {"data": {**form_data(economy), "treatment_plan": "NAV's plan"}},
        format="json",
    )
    assert answer.status_code == 400 and [e["field"] for e in answer.json()["errors"]] == ["treatment_plan"]
    # The health service's task: NAV may not complete it. It lies on a branch of a gateway
    # that reads health data NAV does not see: 404, as a task that does not exist (a 403
    # naming its agency would tell which way the case went).
    answer = api(users["nils"]).post(
        f"/api/v1/tasks/{tid(health.pk)}/complete/", {"data": form_data(health)}, format="json"
    )
    assert answer.status_code == 404
    assert snapshot(parallel_case) == before


def test_the_pages_let_no_agency_write_another_agencys_fields(parallel_case, users):
    economy = Task.objects.get(case=parallel_case, element_id="Task_economy_assessment")
    health = Task.objects.get(case=parallel_case, element_id="Task_health_follow_up_plan")
    before = snapshot(parallel_case)
    post = {"treatment_plan": "NAV's plan", "substance_use_follow_up": "true", "gp_assigned": "false"}
    # Refused: 404 where the task lies on a branch NAV may not learn of, else 403.
    assert web(users["nils"]).post(f"/tasks/{tid(health.pk)}/", post).status_code in (403, 404)
    assert snapshot(parallel_case) == before
    # NAV's own form, with a health field smuggled into the post: only NAV's fields are written.
    own = {"benefits_applied": "true", "social_assistance_applied": "false", "deposit_guarantee_granted": "false"}
    assert web(users["nils"]).post(f"/tasks/{tid(economy.pk)}/", {**own, **post}).status_code == 302
    parallel_case.refresh_from_db()
    assert "treatment_plan" not in parallel_case.data
    written = {f for f, agency in parallel_case.data_sources.items() if agency == economy.agency_id}
    economy_fields = set(selectors_form(economy)["properties"])
    assert written and written <= economy_fields  # the economy form's fields, nothing else
    # And no start page takes case data at all.
    answer = web(users["kari"]).post(
        "/cases/new/",
        {
            "process": "prison_release_to_housing",
            "person_name": "Ola",
            "national_id": "17912099997",
            "treatment_plan": "x",
        },
    )
    assert all("treatment_plan" not in case.data for case in Case.objects.all())
    assert answer.status_code in (302, 400)
