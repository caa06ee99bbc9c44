"""A Camunda-style model (candidate groups, an assignee, no lanes) deployed with a routing map
over the API and by ``deploy_bpmn --map``: stored with the version, its tasks reach the
agencies the map names (issue 14)."""

from __future__ import annotations

import json

import pytest
from django.core.management import CommandError, call_command

from bpmn.models import ProcessDefinition
from tests.ids import tid
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
        done = client_for(username).post(f"/api/v1/tasks/{tid(task.pk)}/complete/", {"data": {}}, format="json")
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
    wrong = client_for("nils").post(
        f"/api/v1/tasks/{tid(task.pk)}/complete/", {"data": {"amount": "many"}}, format="json"
    )
    assert wrong.status_code == 400 and wrong.json()["errors"][0]["field"] == "amount"
    right = client_for("nils").post(f"/api/v1/tasks/{tid(task.pk)}/complete/", {"data": {"amount": 5}}, format="json")
    assert right.status_code == 200, right.json()


# --- an assignee handed to a user (issue 14: "assignee mapped to agency kinds and users") ----

USERS_ROUTING = {**ROUTING, "users": {"demo": "helga"}}


@pytest.fixture
def ada_leads_health(users, agencies):
    """Ada, process admin, also leads the health office: its lead hands its tasks to colleagues."""
    from permissions.models import Membership

    return Membership.objects.create(user=users["ada"], agency=agencies["health"], role="lead")


def _start_invoice(client_for, agencies):
    case = client_for("bjorn").post(
        "/api/v1/cases/",
        {
            "process_key": "invoice",
            "person": PERSON,
            "participants": {kind: agencies[kind].pk for kind in ("nav", "health", "housing")},
        },
        format="json",
    )
    assert case.status_code == 201, case.json()
    approve = Task.objects.get(case_id=case.json()["id"], element_id="Approve")
    done = client_for("nils").post(f"/api/v1/tasks/{tid(approve.pk)}/complete/", {"data": {}}, format="json")
    assert done.status_code == 200, done.json()
    return Task.objects.get(case_id=case.json()["id"], element_id="Check")


def test_an_assignee_mapped_to_a_user_is_handed_to_that_user(client_for, users, agencies, ada_leads_health):
    from workflows.models import Event, EventKind

    response = client_for("ada").post(
        "/api/v1/process-definitions/", {"bpmn_xml": CAMUNDA_MODEL, "routing": USERS_ROUTING}, format="json"
    )
    assert response.status_code == 201, response.json()
    assert response.json()["routing"]["users"] == {"demo": "helga"}
    check = _start_invoice(client_for, agencies)
    assert (check.agency.kind, check.status, check.assignee.username) == ("health", "claimed", "helga")
    claimed = Event.objects.get(task=check, kind=EventKind.TASK_CLAIMED)
    assert claimed.actor == users["helga"] and claimed.detail == {"to_user": users["helga"].pk, "by": "routing"}
    done = client_for("helga").post(f"/api/v1/tasks/{tid(check.pk)}/complete/", {"data": {}}, format="json")
    assert done.status_code == 200, done.json()


def test_a_user_of_another_agency_kind_is_refused_at_deploy(client_for, users, agencies, ada_leads_health):
    """The map names nils (NAV) for a task routed to health, or oscar (no agency): ada leads
    the health office, but neither works there, so the deploy says so, naming the entry and
    the kind, and names no user."""
    for name in ("nils", "oscar"):
        routing = {**ROUTING, "users": {"demo": name}}
        response = client_for("ada").post(
            "/api/v1/process-definitions/", {"bpmn_xml": CAMUNDA_MODEL, "routing": routing}, format="json"
        )
        assert response.status_code == 400, name
        (error,) = response.json()["errors"]
        assert (error["field"], error["code"]) == ("routing.users.demo", "process.routing_user_not_assignable")
        assert "health" in error["message"] and name not in response.content.decode()
    assert not ProcessDefinition.objects.filter(key="invoice").exists()


def test_a_user_of_another_agency_of_the_kind_is_never_handed_the_task(client_for, users, agencies, ada_leads_health):
    """The map names a user of a second health office that ada leads too: deployed (they work
    health cases), but in a case the first office works the task waits in its inbox,
    unclaimed; the other office's user gets nothing of it."""
    from django.contrib.auth.models import Group

    from permissions.models import Agency, Membership

    other = Agency.objects.create(name="Helse Nord", kind="health", group=Group.objects.create(name="agency:nord"))
    Membership.objects.create(user=users["oscar"], agency=other, role="member")
    Membership.objects.create(user=users["ada"], agency=other, role="lead")
    routing = {**ROUTING, "users": {"demo": "oscar"}}
    response = client_for("ada").post(
        "/api/v1/process-definitions/", {"bpmn_xml": CAMUNDA_MODEL, "routing": routing}, format="json"
    )
    assert response.status_code == 201, response.json()
    check = _start_invoice(client_for, agencies)
    assert (check.agency, check.status, check.assignee) == (agencies["health"], "open", None)
    taken = client_for("oscar").post(f"/api/v1/tasks/{tid(check.pk)}/claim/", format="json")
    assert taken.status_code in (403, 404)
    assert client_for("oscar").get(f"/api/v1/tasks/{tid(check.pk)}/").status_code == 404


def test_a_routing_map_naming_an_unknown_user_is_refused_naming_the_entry(client_for):
    routing = {**ROUTING, "users": {"demo": "nobody-here"}}
    response = client_for("ada").post(
        "/api/v1/process-definitions/", {"bpmn_xml": CAMUNDA_MODEL, "routing": routing}, format="json"
    )
    assert response.status_code == 400
    (error,) = response.json()["errors"]
    assert error["field"] == "routing.users.demo"
    assert "nobody-here" not in response.content.decode()
    assert not ProcessDefinition.objects.filter(key="invoice").exists()
    malformed = client_for("ada").post(
        "/api/v1/process-definitions/",
        {"bpmn_xml": CAMUNDA_MODEL, "routing": {**ROUTING, "users": {"demo": 7}}},
        format="json",
    )
    assert malformed.status_code == 400 and "'users'" in malformed.json()["detail"]


def _deploy_users_routing(client_for):
    response = client_for("ada").post(
        "/api/v1/process-definitions/", {"bpmn_xml": CAMUNDA_MODEL, "routing": USERS_ROUTING}, format="json"
    )
    assert response.status_code == 201, response.json()


def test_a_handed_task_is_not_worked_by_its_user_once_they_left_the_agency_or_it_lost_its_grant(
    client_for, users, agencies, ada_leads_health
):
    """Handed by routing, the task is held as any claim is: the user who leaves health (or
    whose agency's grant on the case is withdrawn) reads and completes it no more, and the
    task moves on unchanged."""
    from permissions.grants import revoke_agency_access
    from permissions.models import Membership

    _deploy_users_routing(client_for)
    check = _start_invoice(client_for, agencies)
    assert (check.status, check.assignee) == ("claimed", users["helga"])
    Membership.objects.filter(user=users["helga"], agency=agencies["health"]).delete()
    helga = client_for("helga")
    assert helga.get(f"/api/v1/tasks/{tid(check.pk)}/").status_code == 404
    done = helga.post(f"/api/v1/tasks/{tid(check.pk)}/complete/", {"data": {}}, format="json")
    assert done.status_code == 404 and "Check" not in done.content.decode()
    check.refresh_from_db()
    assert check.status == "claimed"

    second = _start_invoice(client_for, agencies)
    assert (second.status, second.assignee) == ("open", None)  # left: handed nothing new

    Membership.objects.create(user=users["helga"], agency=agencies["health"], role="member")
    revoke_agency_access(second.case, [agencies["health"]])
    # The health office no longer works the case: its user is refused the task as its colleagues are.
    refused = helga.post(f"/api/v1/tasks/{tid(second.pk)}/complete/", {"data": {}}, format="json")
    assert refused.status_code in (403, 404)
    second.refresh_from_db()
    assert second.status == "open"


def test_an_inactive_user_is_refused_at_deploy_and_a_deactivated_one_handed_nothing(
    client_for, users, agencies, ada_leads_health
):
    users["helga"].is_active = False
    users["helga"].save(update_fields=["is_active"])
    refused = client_for("ada").post(
        "/api/v1/process-definitions/", {"bpmn_xml": CAMUNDA_MODEL, "routing": USERS_ROUTING}, format="json"
    )
    assert refused.status_code == 400
    assert [error["field"] for error in refused.json()["errors"]] == ["routing.users.demo"]
    assert "helga" not in refused.content.decode()

    users["helga"].is_active = True
    users["helga"].save(update_fields=["is_active"])
    _deploy_users_routing(client_for)
    users["helga"].is_active = False
    users["helga"].save(update_fields=["is_active"])
    check = _start_invoice(client_for, agencies)
    assert (check.status, check.assignee) == ("open", None)


# --- issue 11: the users section obeys the lead's assignment power, and tells nothing more -----


def _deploy_as(client_for, username, routing):
    return client_for(username).post(
        "/api/v1/process-definitions/", {"bpmn_xml": CAMUNDA_MODEL, "routing": routing}, format="json"
    )


def test_a_process_admin_who_leads_no_agency_of_the_kind_cannot_hand_its_tasks_to_anyone(client_for, users):
    """Handing a task to a named person is the lead's power in their own agency (design §2,
    ``rules.can_assign_task``): ada administers processes but leads no health office, so a map
    handing health's tasks to helga is refused, naming the entry, and nothing is stored."""
    response = _deploy_as(client_for, "ada", USERS_ROUTING)
    assert response.status_code == 400, response.json()
    (error,) = response.json()["errors"]
    assert (error["field"], error["code"]) == ("routing.users.demo", "process.routing_user_not_assignable")
    assert "helga" not in response.content.decode()
    assert not ProcessDefinition.objects.filter(key="invoice").exists()


def test_the_refusal_is_one_text_for_an_unknown_inactive_foreign_or_wrong_kind_user(
    client_for, users, agencies, ada_leads_health
):
    """Whether a name is a user, active, or works in an agency of some kind elsewhere is not
    for a process admin to learn: every user the deploying lead cannot hand health's tasks to
    gets the very same answer (its request id apart). Only helga, of the office ada leads, passes."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from permissions.models import Agency, Membership

    gone = get_user_model().objects.create_user("gone", is_active=False)
    Membership.objects.create(user=gone, agency=agencies["health"], role="member")
    nord = Agency.objects.create(name="Helse Nord", kind="health", group=Group.objects.create(name="agency:nord"))
    far = get_user_model().objects.create_user("far")
    Membership.objects.create(user=far, agency=nord, role="lead")

    answers = set()
    for name in ("nobody-here", "gone", "far", "nils", "oscar", "kari", "aud", "lise"):
        response = _deploy_as(client_for, "ada", {**ROUTING, "users": {"demo": name}})
        assert response.status_code == 400, name
        assert name not in response.content.decode()
        answer = {key: value for key, value in response.json().items() if key != "request_id"}
        answers.add(json.dumps(answer, sort_keys=True))
    assert len(answers) == 1, answers
    assert _deploy_as(client_for, "ada", USERS_ROUTING).status_code == 201


def test_a_handed_task_waits_in_the_inbox_once_the_deploying_lead_no_longer_leads(
    client_for, users, agencies, ada_leads_health
):
    """The lead's word is taken when the task is created, not only at deploy: once ada no
    longer leads the health office, its new tasks wait in its inbox for anyone there."""
    assert _deploy_as(client_for, "ada", USERS_ROUTING).status_code == 201
    first = _start_invoice(client_for, agencies)
    assert (first.status, first.assignee) == ("claimed", users["helga"])
    ada_leads_health.delete()
    later = _start_invoice(client_for, agencies)
    assert (later.agency, later.status, later.assignee) == (agencies["health"], "open", None)


def test_the_deploy_command_hands_no_task_to_a_named_user(tmp_path, users):
    """The command runs as no user: no lead stands behind its map's users, so it is refused."""
    model = tmp_path / "invoice.bpmn"
    model.write_text(CAMUNDA_MODEL)
    with pytest.raises(CommandError):
        call_command("deploy_bpmn", str(model), "--map", json.dumps(USERS_ROUTING))
    assert not ProcessDefinition.objects.filter(key="invoice").exists()


def test_who_the_map_hands_tasks_to_is_for_process_admins_only(client_for, users, agencies, ada_leads_health):
    """Anyone who works in an agency reads the list of processes (to start cases), but the
    names in a map's users are people of another agency: kari (prison) and nils (NAV) read
    the version without them; ada, who edits the map, with them. Neither can deploy a map
    of their own, nor learn anything of a user name through the refusal."""
    assert _deploy_as(client_for, "ada", USERS_ROUTING).status_code == 201
    for name in ("kari", "nils"):
        client = client_for(name)
        for url in (
            "/api/v1/process-definitions/",
            "/api/v1/process-definitions/invoice/",
            "/api/v1/process-definitions/invoice/versions/1/",
        ):
            answer = client.get(url)
            assert answer.status_code == 200, (name, url)
            assert "helga" not in answer.content.decode(), (name, url)
        detail = client.get("/api/v1/process-definitions/invoice/").json()
        assert detail["routing"] == ROUTING and detail["user_tasks"]["Check"]["agency_kind"] == "health"
        for user in ("helga", "nobody-here"):
            refused = client.post(
                "/api/v1/process-definitions/",
                {
                    "bpmn_xml": CAMUNDA_MODEL.replace("invoice", "invoice2"),
                    "routing": {**ROUTING, "users": {"demo": user}},
                },
                format="json",
            )
            assert (
                refused.status_code == 403
                and user not in refused.content.decode()
                and "routing" not in refused.content.decode()
            )
    assert not ProcessDefinition.objects.filter(key="invoice2").exists()
    assert ProcessDefinition.objects.get(key="invoice").routing["users"] == {"demo": "helga"}
    ada = client_for("ada").get("/api/v1/process-definitions/invoice/").json()
    assert ada["routing"]["users"] == {"demo": "helga"} and ada["user_tasks"]["Check"]["assignee_user"] == "helga"
    listed = client_for("ada").get("/api/v1/process-definitions/").json()["results"]
    assert next(row for row in listed if row["key"] == "invoice")["routing"]["users"] == {"demo": "helga"}


def test_the_editors_validate_tells_what_deploy_would_refuse_in_the_users_section(users, agencies):
    """The editor's "Valider" runs the deploy's checks: a map handing health's tasks to helga,
    from ada who leads no health office, was "valid" there and refused at deploy."""
    from django.test import Client
    from django.urls import reverse

    from bpmn.services import validate_draft

    ada = Client()
    ada.force_login(users["ada"])
    body = {"bpmn_xml": CAMUNDA_MODEL, "forms": {}, "routing": USERS_ROUTING}
    answer = ada.post(reverse("process-validate"), json.dumps(body), content_type="application/json")
    assert answer.status_code == 200, answer.content
    assert answer.json()["valid"] is False
    (issue,) = answer.json()["issues"]
    assert (issue["field"], issue["code"]) == ("routing.users.demo", "process.routing_user_not_assignable")
    assert "helga" not in answer.content.decode()

    from permissions.models import Membership

    Membership.objects.create(user=users["ada"], agency=agencies["health"], role="lead")
    result = validate_draft(actor=users["ada"], bpmn_xml=CAMUNDA_MODEL, forms={}, routing=USERS_ROUTING)
    assert result.valid and result.process_id == "invoice"
