"""GET|POST /api/v1/process-definitions/{key}/versions/{n}/migration/: preview and move
running cases (process admins only; others 403, who sees no process 404)."""

import pytest

from tests.workflows.helpers import PERSON, open_tasks
from tests.workflows.test_version_migration import deploy
from tests.workflows.version_models import model
from workflows import services
from workflows.models import ProcessInstance, VersionMigration

from .conftest import CAST

URL = "/api/v1/process-definitions/versioned/versions/1/migration/"


@pytest.fixture
def running(db, users, agencies):
    deploy(model())
    case = services.start_case(
        actor=users["nils"], process_key="versioned", person=PERSON, participants={"nav": agencies["nav"].pk}
    )
    deploy(model(a_name="Assess the need", with_c=True))
    return case


def test_admin_previews_then_moves_every_case(client_for, running):
    client = client_for("ada")
    preview = client.get(URL)
    assert preview.status_code == 200
    body = preview.json()
    assert (body["from_version"], body["to_version"]) == (1, 2)
    assert running.reference not in preview.content.decode()
    assert body["cases"] == {"count": 1, "shown": "1"}
    assert body["movable"]["count"] is None  # one of one: hidden, or the one case's standing is told
    # One case of one stands so: "under 5" would say 1, so the count is hidden outright.
    ((row,),) = [body["standings"]]
    assert [(w["element_id"], w["new_element_id"]) for w in row["waiting"]] == [("Task_a", "Task_a")]
    assert (row["problems"], row["possible"], row["cases"]) == ([], True, {"count": None, "shown": "hidden"})
    instance = running.instances.get()

    moved = client.post(URL, {}, format="json")

    assert moved.status_code == 200
    assert moved.json()["migrated"] == [instance.pk] and moved.json()["actor"] == "ada"
    assert ProcessInstance.objects.get(pk=instance.pk).definition.version == 2
    assert open_tasks(running)[0].name == "Assess the need"


def test_refusals_name_the_element_and_the_reason(client_for, running, users):
    deploy(model(with_a=False))
    client = client_for("ada")
    body = client.get(URL, {"to_version": 3}).json()
    assert body["movable"]["count"] is None and body["refused"]["count"] is None
    ((row,),) = [body["standings"]]
    assert row["problems"] == [
        {
            "element_id": "Task_a",
            "reason": "waiting-element-removed",
            "message": "the case waits on Task_a, which the new version does not have",
        }
    ]
    assert (row["possible"], row["cases"]) == (False, {"count": None, "shown": "hidden"})
    record = client.post(URL, {"to_version": 3, "case": running.pk}, format="json").json()
    assert record["migrated"] == [] and record["refused"][0]["problems"][0]["reason"] == "waiting-element-removed"


def test_a_client_that_asks_for_bokmal_reads_the_refusals_in_bokmal(client_for, running):
    deploy(model(with_a=False))
    client = client_for("ada")
    bokmal = {"HTTP_ACCEPT_LANGUAGE": "nb"}
    ((problem,),) = [row["problems"] for row in client.get(URL, {"to_version": 3}, **bokmal).json()["standings"]]
    assert problem["message"] == "saken venter på Task_a, som den nye versjonen ikke har"
    record = client.post(URL, {"to_version": 3, "case": running.pk}, format="json", **bokmal).json()
    assert record["refused"][0]["problems"][0]["message"] == "saken venter på Task_a, som den nye versjonen ikke har"


@pytest.mark.parametrize("username", [name for name in CAST if name not in ("ada", "oscar")])
def test_others_are_refused_and_nothing_moves(username, client_for, running):
    client = client_for(username)
    assert client.get(URL).status_code == 403
    assert client.post(URL, {}, format="json").status_code == 403
    assert running.instances.get().definition.version == 1
    assert not VersionMigration.objects.exists()


def test_who_sees_no_process_gets_404(client_for, running):
    client = client_for("oscar")
    assert client.get(URL).status_code == 404
    assert client.post(URL, {}, format="json").status_code == 404
    assert client_for(None).post(URL, {}, format="json").status_code in (401, 403)


@pytest.mark.parametrize(
    "body", [{"to_version": "x"}, {"to_version": 1}, {"to_version": 9}, {"case": 0}, {"surprise": 1}]
)
def test_bad_input_is_400_naming_the_field(client_for, running, body):
    response = client_for("ada").post(URL, body, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] in body


@pytest.mark.parametrize("query", [{"case": 1}, {"case": "x"}, {"to_version": 2, "case": ""}])
def test_the_preview_of_one_case_is_400_naming_case(client_for, running, query):
    response = client_for("ada").get(URL, query)
    assert response.status_code == 400
    assert [error["field"] for error in response.json()["errors"]] == ["case"]


def test_unknown_version_is_404(client_for, running):
    assert client_for("ada").get("/api/v1/process-definitions/versioned/versions/7/migration/").status_code == 404


def test_a_new_version_cannot_open_a_value_already_recorded(client_for, users, agencies):
    """Before, a process admin deployed a version that made the health agency's diagnosis a
    ``coordination`` field and moved the running cases to it: NAV then read the diagnosis,
    recorded as health data, with no consent. No case moves to a version that shows a field
    more widely, whether or not it holds a value (which fields a case holds is case data, not
    the admin's); a version that only adds a field takes them."""
    from bpmn.services import deploy_definition
    from tests.api.test_external_tasks import ASSESS_FORM, FORMS, HEALTH_THEN_NAV

    forms = {"assess.schema.json": ASSESS_FORM, "check.schema.json": FORMS["check.schema.json"]}
    deploy_definition(actor=None, bpmn_xml=HEALTH_THEN_NAV, forms=forms, check_permission=False)
    participants = {"health": agencies["health"].pk, "nav": agencies["nav"].pk}
    recorded = services.start_case(
        actor=users["helga"], process_key="health_then_nav", person=PERSON, participants=participants
    )
    (assess,) = open_tasks(recorded)
    services.complete_task(actor=users["helga"], task_id=assess.pk, data={"diagnosis": "F20.0"})
    services.start_case(  # a second case, with no value recorded
        actor=users["helga"], process_key="health_then_nav", person=PERSON, participants=participants
    )
    opened = {"type": "string", "title": "Diagnose", "x-category": "coordination"}
    deploy_definition(
        actor=users["ada"],
        bpmn_xml=HEALTH_THEN_NAV,
        forms={**forms, "assess.schema.json": {**ASSESS_FORM, "properties": {"diagnosis": opened}}},
    )
    url = "/api/v1/process-definitions/health_then_nav/versions/1/migration/"
    ada = client_for("ada")

    plan = ada.get(url).json()
    problems = {(p["element_id"], p["reason"]) for row in plan["standings"] for p in row["problems"]}
    assert problems == {("diagnosis", "field-category-changed")}
    assert plan["cases"]["count"] == 2 and plan["movable"]["count"] in (0, None)
    answer = ada.post(url, {}, format="json", HTTP_ACCEPT_LANGUAGE="nb").json()
    assert answer["migrated"] == [] and len(answer["refused"]) == 2
    assert "datakategori" in answer["refused"][0]["problems"][0]["message"]
    health = client_for("nils").get(f"/api/v1/cases/{recorded.pk}/").json()["data"]
    assert "F20.0" not in str(health) and health["health"]["visible"] is False

    added = {
        "diagnosis": ASSESS_FORM["properties"]["diagnosis"],
        "severity": {"type": "string", "x-category": "health"},
    }
    deploy_definition(
        actor=users["ada"],
        bpmn_xml=HEALTH_THEN_NAV,
        forms={**forms, "assess.schema.json": {**ASSESS_FORM, "properties": added}},
    )
    moved = ada.post(url, {"to_version": 3}, format="json").json()
    assert len(moved["migrated"]) == 2 and moved["refused"] == []
