"""The prison-release scenario over HTTP: inboxes, masking, consent and its withdrawal."""

import pytest

from permissions.models import AccessLog
from tests.ids import task_key
from tests.workflows.helpers import form_data

from .conftest import PERSON

pytestmark = pytest.mark.django_db


def _inbox(client, **params):
    response = client.get("/api/v1/tasks/", {"assigned": "agency", "status": "active", **params})
    assert response.status_code == 200
    return response.json()["results"]


def _complete(client, task_id, overrides=None):
    """Claim and complete the task the API calls ``task_id`` (its public id)."""
    from workflows.models import Task

    data = form_data(Task.objects.get(pk=task_key(task_id)), overrides)
    assert client.post(f"/api/v1/tasks/{task_id}/claim/").status_code == 200
    response = client.post(f"/api/v1/tasks/{task_id}/complete/", {"data": data}, format="json")
    assert response.status_code == 200, response.json()
    return response.json()


def test_prison_release_over_http(shipped, users, agencies, client_for, consent_basis):
    basis = consent_basis.pk
    kari, nils, helga, bjorn = (client_for(name) for name in ("kari", "nils", "helga", "bjorn"))
    started = kari.post(
        "/api/v1/cases/",
        {
            "process_key": "prison_release_to_housing",
            "person": PERSON,
            "participants": {kind: agencies[kind].pk for kind in ("prison", "nav", "health", "housing")},
        },
        format="json",
    )
    assert started.status_code == 201, started.json()
    case = started.json()
    assert case["reference"].startswith("BK-") and case["status"] == "open"
    assert [task["element_id"] for task in case["open_tasks"]] == ["Task_intake_interview"]

    # The intake lands at the prison only.
    (intake,) = _inbox(kari, case=case["id"])
    assert intake["agency"]["kind"] == "prison"
    assert _inbox(nils, case=case["id"]) == []
    done = _complete(kari, intake["id"], {"has_home": False, "housing_situation": "uten_bolig"})
    assert {task["agency"]["kind"] for task in done["open_tasks"]} == {"nav", "health", "housing"}

    # The three parallel tasks land in NAV's, health's and housing's inboxes.
    (nav_task,) = _inbox(nils, case=case["id"])
    assert nav_task["element_id"] == "Task_economy_assessment"
    (health_task,) = _inbox(helga, case=case["id"])
    assert _inbox(bjorn, case=case["id"])[0]["element_id"] == "Task_housing_application"
    assert _inbox(kari, case=case["id"]) == []
    _complete(helga, health_task["id"], {"treatment_plan": "LAR, oppfølging hver uke"})

    timeline = kari.get(f"/api/v1/cases/{case['id']}/timeline/").json()["results"]
    handoffs = {(e["from_agency"]["kind"], e["to_agency"]["kind"]) for e in timeline if e["kind"] == "handoff"}
    assert {("prison", "nav"), ("prison", "health"), ("prison", "housing")} <= handoffs

    # Without consent NAV sees neither housing nor health, and is told why.
    url = f"/api/v1/cases/{case['id']}/"
    data = nils.get(url).json()["data"]
    assert data["housing"]["visible"] is False and data["housing"]["values"] == {}
    assert "no consent" in data["housing"]["reason"] and "NAV" in data["housing"]["reason"]
    assert data["health"]["visible"] is False and "treatment_plan" not in str(data)
    assert data["economy"]["visible"] is True  # NAV's own service
    person = nils.get(url).json()["person"]
    assert person["national_id"] == "179120*****" and person["national_id_masked"] is True
    task_view = nils.get(f"/api/v1/tasks/{nav_task['id']}/").json()
    assert task_view["case_data"]["health"]["values"] == {} and task_view["form_schema"]["type"] == "object"

    # The person consents to share housing with NAV: housing shows, health still never.
    consents = f"/api/v1/cases/{case['id']}/consents/"
    housing = bjorn.post(
        consents,
        {"agency": agencies["nav"].pk, "categories": ["housing"], "purpose": "finne bolig", "legal_basis": basis},
        format="json",
    )
    assert housing.status_code == 201, housing.json()
    data = nils.get(url).json()["data"]
    assert data["housing"]["values"]["housing_situation"] == "uten_bolig"
    assert data["housing"]["basis"] == f"consent:{housing.json()['id']}"
    assert data["health"]["visible"] is False

    # Then health to NAV: NAV sees it at once, and the read is logged with the consent.
    health = bjorn.post(
        consents,
        {"agency_kind": "nav", "categories": ["health"], "purpose": "oppfølging", "legal_basis": basis},
        format="json",
    )
    assert health.status_code == 201, health.json()
    data = nils.get(url).json()["data"]
    assert data["health"]["values"]["treatment_plan"] == "LAR, oppfølging hver uke"
    assert AccessLog.objects.filter(
        user=users["nils"], case_id=case["id"], category="health", consent_id=health.json()["id"]
    ).exists()
    assert [c["id"] for c in nils.get(consents).json()["results"]] == [health.json()["id"], housing.json()["id"]]

    # Withdrawn: masked again on the very next request.
    revoked = bjorn.post(f"/api/v1/consents/{health.json()['id']}/revoke/")
    assert revoked.status_code == 200 and revoked.json()["active"] is False
    data = nils.get(url).json()["data"]
    assert data["health"]["visible"] is False and data["health"]["values"] == {}
    assert bjorn.post(f"/api/v1/consents/{health.json()['id']}/revoke/").status_code == 409

    # The coordinator reads the access log; NAV does not.
    log = bjorn.get(f"/api/v1/cases/{case['id']}/access-log/")
    assert log.status_code == 200
    assert {"nils"} <= {row["username"] for row in log.json()["results"]}
    assert any(row["consent"] == health.json()["id"] for row in log.json()["results"])
    assert nils.get(f"/api/v1/cases/{case['id']}/access-log/").status_code == 403

    diagram = kari.get(f"/api/v1/cases/{case['id']}/diagram/").json()
    assert "Task_intake_interview" in diagram["completed"]
    assert {"Task_economy_assessment", "Task_housing_application"} <= set(diagram["active"])
    assert diagram["bpmn_xml"].lstrip().startswith("<?xml")
