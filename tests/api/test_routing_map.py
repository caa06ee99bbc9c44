"""A Camunda-style model (candidate groups, an assignee, no lanes) deployed with a routing map
over the API and by ``deploy_bpmn --map``: stored with the version, its tasks reach the
agencies the map names (issue 14)."""

from __future__ import annotations

import json

import pytest
from django.core.management import CommandError, call_command

from bpmn.models import ProcessDefinition
from workflows.models import Task

from .conftest import PERSON

pytestmark = pytest.mark.django_db

CAMUNDA_MODEL = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="D" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="invoice" name="Invoice" isExecutable="true">
    <bpmn:startEvent id="StartEvent_1"/>
    <bpmn:sequenceFlow id="F1" sourceRef="StartEvent_1" targetRef="Approve"/>
    <bpmn:userTask id="Approve" name="Approve invoice" camunda:candidateGroups="accounting"/>
    <bpmn:sequenceFlow id="F2" sourceRef="Approve" targetRef="Check"/>
    <bpmn:userTask id="Check" name="Check" camunda:assignee="demo"/>
    <bpmn:sequenceFlow id="F3" sourceRef="Check" targetRef="Archive"/>
    <bpmn:task id="Archive" name="Archive"/>
    <bpmn:sequenceFlow id="F4" sourceRef="Archive" targetRef="EndEvent_1"/>
    <bpmn:endEvent id="EndEvent_1"/>
  </bpmn:process>
</bpmn:definitions>
"""
ROUTING = {"groups": {"accounting": "nav"}, "assignees": {"demo": "health"}, "default": "housing"}


def test_deploy_refused_without_a_map_names_each_element_and_the_entry_to_add(client_for):
    response = client_for("ada").post("/api/v1/process-definitions/", {"bpmn_xml": CAMUNDA_MODEL}, format="json")
    assert response.status_code == 400
    by_element = {error["element_id"]: error for error in response.json()["errors"]}
    assert '"groups": {"accounting": "<kind>"}' in by_element["Approve"]["message"]
    assert '"assignees": {"demo": "<kind>"}' in by_element["Check"]["message"]
    assert by_element["invoice"]["code"] == "no-lanes" and "'Archive'" in by_element["invoice"]["message"]


def test_deploy_with_a_routing_map_routes_each_task_to_its_agency(client_for, users, agencies):
    response = client_for("ada").post(
        "/api/v1/process-definitions/", {"bpmn_xml": CAMUNDA_MODEL, "routing": ROUTING}, format="json"
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["routing"] == ROUTING
    assert {key: task["agency_kind"] for key, task in body["user_tasks"].items()} == {
        "Approve": "nav",
        "Check": "health",
        "Archive": "housing",
    }
    again = client_for("ada").post(
        "/api/v1/process-definitions/", {"bpmn_xml": CAMUNDA_MODEL, "routing": ROUTING}, format="json"
    )
    assert again.status_code == 200  # the same content with the same map: no new version
    changed = client_for("ada").post(
        "/api/v1/process-definitions/",
        {"bpmn_xml": CAMUNDA_MODEL, "routing": {**ROUTING, "default": "nav"}},
        format="json",
    )
    assert changed.status_code == 201 and changed.json()["version"] == 2

    case = client_for("bjorn").post(
        "/api/v1/cases/",
        {
            "process_key": "invoice",
            "person": PERSON,
            "participants": {
                "nav": agencies["nav"].pk,
                "health": agencies["health"].pk,
                "housing": agencies["housing"].pk,
            },
        },
        format="json",
    )
    assert case.status_code == 201, case.json()
    walked = []
    for username in ("nils", "helga", "nils"):  # version 2: the default is nav
        task = Task.objects.get(case_id=case.json()["id"], status="open")
        walked.append((task.element_id, task.agency.kind))
        done = client_for(username).post(f"/api/v1/tasks/{task.pk}/complete/", {"data": {}}, format="json")
        assert done.status_code == 200, done.json()
    assert walked == [("Approve", "nav"), ("Check", "health"), ("Archive", "nav")]


def test_routing_map_with_an_unknown_kind_is_refused(client_for):
    response = client_for("ada").post(
        "/api/v1/process-definitions/", {"bpmn_xml": CAMUNDA_MODEL, "routing": {"default": "police"}}, format="json"
    )
    assert response.status_code == 400
    assert "'police' is not an agency kind" in response.json()["detail"]


def test_start_needs_every_kind_the_map_routes_to(client_for, agencies):
    client_for("ada").post(
        "/api/v1/process-definitions/", {"bpmn_xml": CAMUNDA_MODEL, "routing": ROUTING}, format="json"
    )
    response = client_for("bjorn").post(
        "/api/v1/cases/",
        {
            "process_key": "invoice",
            "person": PERSON,
            "participants": {"housing": agencies["housing"].pk},
        },
        format="json",
    )
    assert response.status_code == 400
    fields = {error["field"] for error in response.json()["errors"]}
    assert {"participants.nav", "participants.health"} <= fields


def test_deploy_bpmn_takes_the_map_as_json_text_or_a_file(tmp_path, capsys):
    model = tmp_path / "invoice.bpmn"
    model.write_text(CAMUNDA_MODEL, encoding="utf-8")
    with pytest.raises(CommandError):
        call_command("deploy_bpmn", str(model))
    call_command("deploy_bpmn", str(model), "--map", json.dumps(ROUTING))
    definition = ProcessDefinition.objects.get(key="invoice")
    assert definition.routing == ROUTING
    assert definition.metadata["user_tasks"]["Approve"]["agency_kind"] == "nav"
    map_file = tmp_path / "routing.json"
    map_file.write_text(json.dumps({**ROUTING, "default": "municipality"}), encoding="utf-8")
    call_command("deploy_bpmn", str(model), "--map", str(map_file))
    latest = ProcessDefinition.objects.filter(key="invoice").order_by("-version").first()
    assert latest.version == 2 and latest.metadata["user_tasks"]["Archive"]["agency_kind"] == "municipality"
    with pytest.raises(CommandError, match="not JSON"):
        call_command("deploy_bpmn", str(model), "--map", "{nope")


FORM_MODEL = CAMUNDA_MODEL.replace(
    '<bpmn:userTask id="Approve" name="Approve invoice" camunda:candidateGroups="accounting"/>',
    '<bpmn:userTask id="Approve" name="Approve invoice" camunda:candidateGroups="accounting">'
    "<bpmn:extensionElements><camunda:formData>"
    '<camunda:formField id="amount" label="Amount" type="long">'
    '<camunda:validation><camunda:constraint name="required"/></camunda:validation></camunda:formField>'
    "</camunda:formData></bpmn:extensionElements></bpmn:userTask>",
)


def test_camunda_form_is_stored_with_the_version_and_validates_the_task(client_for, agencies):
    deployed = client_for("ada").post(
        "/api/v1/process-definitions/", {"bpmn_xml": FORM_MODEL, "routing": ROUTING}, format="json"
    )
    assert deployed.status_code == 201, deployed.json()
    assert deployed.json()["forms"]["Approve.form.json"]["properties"]["amount"]["type"] == "integer"
    assert deployed.json()["user_tasks"]["Approve"]["form"] == "Approve.form.json"
    case = client_for("bjorn").post(
        "/api/v1/cases/",
        {
            "process_key": "invoice",
            "person": PERSON,
            "participants": {kind: agencies[kind].pk for kind in ("nav", "health", "housing")},
        },
        format="json",
    )
    task = Task.objects.get(case_id=case.json()["id"], status="open")
    wrong = client_for("nils").post(f"/api/v1/tasks/{task.pk}/complete/", {"data": {"amount": "many"}}, format="json")
    assert wrong.status_code == 400 and wrong.json()["errors"][0]["field"] == "amount"
    right = client_for("nils").post(f"/api/v1/tasks/{task.pk}/complete/", {"data": {"amount": 5}}, format="json")
    assert right.status_code == 200, right.json()
