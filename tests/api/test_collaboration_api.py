"""A collaboration with two executable pools over the HTTP API: deployed with a routing map
for the pool no alias knows, started as one case, each pool's task done by its own agency
(the other agency cannot), the message between the pools on the timeline and the diagram,
the case completed (issue 14, point 5)."""

import pytest

from tests.workflows.pool_models import COLLABORATION, FORMS, ROUTING

from .conftest import PERSON

pytestmark = pytest.mark.django_db


def open_task(client, case_id):
    (task,) = [t for t in client.get("/api/v1/tasks/", {"case": case_id}).json()["results"] if t["status"] == "open"]
    return task


def test_a_collaboration_runs_to_the_end_over_the_api(client_for, agencies):
    refused = client_for("ada").post(
        "/api/v1/process-definitions/", {"bpmn_xml": COLLABORATION, "forms": FORMS}, format="json"
    )
    assert refused.status_code == 400
    assert any('"pools": {"Boligkontoret"' in error["message"] for error in refused.json()["errors"])
    deployed = client_for("ada").post(
        "/api/v1/process-definitions/", {"bpmn_xml": COLLABORATION, "forms": FORMS, "routing": ROUTING}, format="json"
    )
    assert deployed.status_code == 201, deployed.json()
    assert deployed.json()["key"] == "rehousing"

    started = client_for("bjorn").post(
        "/api/v1/cases/",
        {
            "process_key": "rehousing",
            "person": PERSON,
            "participants": {"nav": agencies["nav"].pk, "housing": agencies["housing"].pk},
        },
        format="json",
    )
    assert started.status_code == 201, started.json()
    case_id = started.json()["id"]

    assess = open_task(client_for("nils"), case_id)
    assert assess["element_id"] == "Task_assess"
    done = client_for("nils").post(
        f"/api/v1/tasks/{assess['id']}/complete/", {"data": {"income": 21000, "needs_housing": True}}, format="json"
    )
    assert done.status_code == 200, done.json()

    offer = open_task(client_for("bjorn"), case_id)
    assert offer["element_id"] == "Task_offer"
    nav_tries = client_for("nils").post(
        f"/api/v1/tasks/{offer['id']}/complete/", {"data": {"address": "Storgata 1"}}, format="json"
    )
    assert nav_tries.status_code in (403, 404)
    timeline = client_for("bjorn").get(f"/api/v1/cases/{case_id}/timeline/").json()["results"]
    (received,) = [event for event in timeline if event["kind"] == "message_received"]
    assert received["element_id"] == "Catch_need" and received["detail"]["from_element"] == "Throw_need"
    assert received["agency"]["id"] == agencies["housing"].pk
    assert (received["detail"]["from_pool"], received["detail"]["to_pool"]) == ("NAV", "Boligkontoret")
    diagram = client_for("bjorn").get(f"/api/v1/cases/{case_id}/diagram/").json()
    assert {"Throw_need", "Catch_need"} <= set(diagram["completed"]) and diagram["active"] == ["Task_offer"]

    done = client_for("bjorn").post(
        f"/api/v1/tasks/{offer['id']}/complete/", {"data": {"address": "Storgata 1"}}, format="json"
    )
    assert done.status_code == 200, done.json()
    assert client_for("bjorn").get(f"/api/v1/cases/{case_id}/").json()["status"] == "completed"
