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
    (instance,) = body["instances"]
    assert instance["case"] == {"id": running.pk, "reference": running.reference}
    assert instance["possible"] is True and instance["problems"] == []
    assert [(w["element_id"], w["new_element_id"]) for w in instance["waiting"]] == [("Task_a", "Task_a")]

    moved = client.post(URL, {}, format="json")

    assert moved.status_code == 200
    assert moved.json()["migrated"] == [instance["instance"]] and moved.json()["actor"] == "ada"
    assert ProcessInstance.objects.get(pk=instance["instance"]).definition.version == 2
    assert open_tasks(running)[0].name == "Assess the need"


def test_refusals_name_the_element_and_the_reason(client_for, running, users):
    deploy(model(with_a=False))
    client = client_for("ada")
    (instance,) = client.get(URL, {"to_version": 3}).json()["instances"]
    assert instance["possible"] is False
    assert instance["problems"] == [
        {
            "element_id": "Task_a",
            "reason": "waiting-element-removed",
            "message": "the case waits on Task_a, which the new version does not have",
        }
    ]
    record = client.post(URL, {"to_version": 3, "case": running.pk}, format="json").json()
    assert record["migrated"] == [] and record["refused"][0]["problems"][0]["reason"] == "waiting-element-removed"


def test_a_client_that_asks_for_bokmal_reads_the_refusals_in_bokmal(client_for, running):
    deploy(model(with_a=False))
    client = client_for("ada")
    bokmal = {"HTTP_ACCEPT_LANGUAGE": "nb"}
    (instance,) = client.get(URL, {"to_version": 3}, **bokmal).json()["instances"]
    assert instance["problems"][0]["message"] == "saken venter på Task_a, som den nye versjonen ikke har"
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


def test_unknown_version_is_404(client_for, running):
    assert client_for("ada").get("/api/v1/process-definitions/versioned/versions/7/migration/").status_code == 404
