"""Bad input answers 400 (413 for oversized bodies) with a message naming the field or
the BPMN element, and stores nothing."""

import pytest

from bpmn.models import ProcessDefinition
from tests.bpmn.engine.bpmn_snippets import definitions
from tests.ids import tid
from workflows.models import Case, Task

from .conftest import PERSON, PRISON_KINDS, SMALL_FORM, small_model

pytestmark = pytest.mark.django_db

XXE = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/hostname">]>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="D" targetNamespace="x">
  <bpmn:process id="Proc_xxe" name="&e;" isExecutable="true"/>
</bpmn:definitions>
"""


def _injection_model():
    return definitions(
        """
        <bpmn:process id="Proc_inject" name="Inject" isExecutable="true">
          <bpmn:laneSet id="LaneSet_1"><bpmn:lane id="Lane_1" name="NAV">
            <bpmn:flowNodeRef>StartEvent_1</bpmn:flowNodeRef><bpmn:flowNodeRef>Gateway_1</bpmn:flowNodeRef>
            <bpmn:flowNodeRef>EndEvent_a</bpmn:flowNodeRef><bpmn:flowNodeRef>EndEvent_b</bpmn:flowNodeRef>
          </bpmn:lane></bpmn:laneSet>
          <bpmn:startEvent id="StartEvent_1"/>
          <bpmn:sequenceFlow id="Flow_1" sourceRef="StartEvent_1" targetRef="Gateway_1"/>
          <bpmn:exclusiveGateway id="Gateway_1" default="Flow_b"/>
          <bpmn:sequenceFlow id="Flow_evil" sourceRef="Gateway_1" targetRef="EndEvent_a">
            <bpmn:conditionExpression>__import__('os').system('id')</bpmn:conditionExpression>
          </bpmn:sequenceFlow>
          <bpmn:sequenceFlow id="Flow_b" sourceRef="Gateway_1" targetRef="EndEvent_b"/>
          <bpmn:endEvent id="EndEvent_a"/>
          <bpmn:endEvent id="EndEvent_b"/>
        </bpmn:process>
        """
    )


@pytest.fixture
def nav_task(shipped, users, agencies):
    from tests.workflows.helpers import complete, open_tasks

    from .conftest import start

    case = start(users["kari"], "prison_release_to_housing", PERSON, agencies, PRISON_KINDS)
    (intake,) = open_tasks(case)
    complete(intake, {"has_home": False}, actor=users["kari"])
    return next(task for task in open_tasks(case) if task.agency.kind == "nav")


def _fields(response):
    return {error.get("field") for error in response.json()["errors"]}


def test_malformed_json_is_400_naming_the_body(users, client_for, shipped):
    response = client_for("kari").post("/api/v1/cases/", '{"process_key": ', content_type="application/json")
    assert response.status_code == 400
    assert response.json()["detail"] == "the body is not valid JSON (line 1, column 17)"
    assert response.json()["code"] == "body.not_json"
    assert _fields(response) == {"body"}
    assert not Case.objects.exists()


def test_a_body_that_is_not_an_object_is_400(users, client_for, shipped):
    response = client_for("kari").post("/api/v1/cases/", [1, 2], format="json")
    assert response.status_code == 400 and _fields(response) == {"body"}


def test_wrong_types_name_each_field(users, agencies, client_for, shipped):
    response = client_for("kari").post(
        "/api/v1/cases/",
        {
            "process_key": 12,
            "person": "Ola",
            "participants": {"prison": "one"},
            "data": [],
        },
        format="json",
    )
    assert response.status_code == 400
    assert _fields(response) == {"person", "participants.prison", "data"}
    assert not Case.objects.exists()


def test_unknown_fields_are_refused_at_every_level(users, agencies, client_for, shipped):
    response = client_for("kari").post(
        "/api/v1/cases/",
        {
            "process_key": "prison_release_to_housing",
            "person": {**PERSON, "shoe_size": 44},
            "participants": {kind: agencies[kind].pk for kind in PRISON_KINDS},
            "is_admin": True,
        },
        format="json",
    )
    assert response.status_code == 400
    assert _fields(response) == {"is_admin", "person.shoe_size"}
    assert "unknown field" in response.json()["errors"][0]["message"]
    assert not Case.objects.exists()


def test_service_validation_names_the_field(users, agencies, client_for, shipped):
    response = client_for("kari").post(
        "/api/v1/cases/",
        {
            "process_key": "prison_release_to_housing",
            "person": {"name": "Ola", "national_id": "12345678901"},
            "participants": {"prison": agencies["prison"].pk},
        },
        format="json",
    )
    assert response.status_code == 400
    assert {"person.national_id", "participants.nav", "participants.health", "participants.housing"} <= _fields(
        response
    )


def test_task_data_outside_the_form_is_refused_per_field(nav_task, client_for):
    response = client_for("nils").post(
        f"/api/v1/tasks/{tid(nav_task.pk)}/complete/",
        {
            "data": {"benefits_applied": "yes", "treatment_plan": "sneaky"},
        },
        format="json",
    )
    assert response.status_code == 400
    assert {"benefits_applied", "treatment_plan", "social_assistance_applied"} <= _fields(response)
    assert Task.objects.get(pk=nav_task.pk).status == "open"


def test_oversized_bodies_are_refused_with_413(users, client_for, shipped, settings):
    settings.API_MAX_BODY_BYTES = 10_000
    client = client_for("ada")
    big = {"bpmn_xml": "x" * 20_000, "forms": {}}
    response = client.post("/api/v1/process-definitions/", big, format="json")
    assert response.status_code == 413
    assert "at most 10000" in response.json()["detail"] and _fields(response) == {"body"}
    token = client_for(None).post("/api/v1/auth/token/", {"username": "x" * 20_000, "password": "x"}, format="json")
    assert token.status_code == 413


def test_an_xxe_upload_is_400_and_nothing_is_stored(users, client_for, db):
    response = client_for("ada").post("/api/v1/process-definitions/", {"bpmn_xml": XXE, "forms": {}}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["errors"] == [
        {"field": "bpmn_xml", "code": "doctype", "file": "model.bpmn", "message": body["errors"][0]["message"]}
    ]
    assert "DOCTYPE" in body["detail"]
    with open("/etc/hostname") as hostname:
        assert hostname.read().strip() not in response.content.decode()
    assert not ProcessDefinition.objects.exists()


def test_a_script_injection_in_a_condition_is_400_naming_the_flow(users, client_for, db):
    response = client_for("ada").post("/api/v1/process-definitions/", {"bpmn_xml": _injection_model()}, format="json")
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert any(error.get("element_id") == "Flow_evil" and error.get("line") for error in errors), errors
    assert "Flow_evil" in response.json()["detail"]
    assert not ProcessDefinition.objects.exists()


def test_a_model_with_lint_errors_is_400_with_element_ids(users, client_for, db):
    broken = small_model("Proc_broken")
    response = client_for("ada").post("/api/v1/process-definitions/", {"bpmn_xml": broken, "forms": {}}, format="json")
    assert response.status_code == 400
    assert {e.get("element_id") for e in response.json()["errors"]} >= {"Task_prison", "Task_hospital"}
    ok = client_for("ada").post(
        "/api/v1/process-definitions/", {"bpmn_xml": broken, "forms": {"small.schema.json": SMALL_FORM}}, format="json"
    )
    assert ok.status_code == 201


def test_bad_query_parameters_are_400(users, client_for, db):
    response = client_for("nils").get("/api/v1/tasks/", {"assigned": "everyone", "overdue": "maybe"})
    assert response.status_code == 400 and _fields(response) == {"assigned", "overdue"}


def test_wrong_credentials_are_400_and_right_ones_give_a_token(users, client_for):
    anonymous = client_for(None)
    wrong = anonymous.post("/api/v1/auth/token/", {"username": "nils", "password": "nope"}, format="json")
    assert wrong.status_code == 400 and wrong.json()["errors"]
    right = anonymous.post("/api/v1/auth/token/", {"username": "nils", "password": "test-password"}, format="json")
    assert right.status_code == 200
    token = right.json()["token"]
    response = anonymous.get("/api/v1/tasks/", HTTP_AUTHORIZATION=f"Token {token}")
    assert response.status_code == 200
