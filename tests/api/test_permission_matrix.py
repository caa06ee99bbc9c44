"""Who gets which status from which endpoint, over the demo cast (design §6-§7).

Each user is tried on a case in which their agency takes part ("in") and one in which
it does not ("out"). Invisible answers 404, visible but forbidden 403.
"""

import pytest

from permissions.models import LegalBasis
from tests.ids import tid
from tests.workflows.helpers import complete, form_data, open_tasks

from .conftest import CAST, SMALL_FORM, small_model

# The case each user's agency takes part in, and one it does not.
IN_CASE = {"kari": "prison", "siri": "discharge"}
OUT_CASE = {"kari": "discharge", "siri": "prison"}

HIDDEN = {
    "detail": 404,
    "timeline": 404,
    "diagram": 404,
    "task": 404,
    "claim": 404,
    "complete": 404,
    "complete_done": 404,
    "consents": 404,
    "consent_create": 404,
    "access_log": 404,
}
MEMBER = {
    "detail": 200,
    "timeline": 200,
    "diagram": 200,
    "task": 200,
    "claim": 200,
    "complete": 200,
    "complete_done": 403,
    "consents": 200,
    # Only the coordinator (or the agency that holds housing data) records a sharing of
    # housing data; NAV, the recipient, never records one for itself.
    "consent_create": 403,
    "access_log": 403,
}
EXPECTED_IN = {
    # kari's prison has no open task after the intake: she tries NAV's, and her own done one.
    "kari": {**MEMBER, "claim": 403, "complete": 403, "complete_done": 409},
    "nils": MEMBER,
    "nora": MEMBER,
    "helga": MEMBER,
    "bjorn": {**MEMBER, "access_log": 200, "consent_create": 201},  # coordinator of the coordinating agency
    "siri": {**MEMBER, "complete_done": None},  # the discharge case has no done task yet
    "ada": HIDDEN,  # process admins never see case data
    "aud": {**HIDDEN, "access_log": 200},  # auditors read the log, never the case
    "oscar": HIDDEN,
    "tove": HIDDEN,  # NAV's access administrator: NAV takes part, the role opens no case
}
EXPECTED_OUT = {name: HIDDEN for name in CAST}
EXPECTED_OUT["kari"] = {**HIDDEN, "complete_done": None}
EXPECTED_OUT["nils"] = EXPECTED_OUT["nora"] = EXPECTED_OUT["helga"] = EXPECTED_OUT["bjorn"] = {
    **HIDDEN,
    "complete_done": None,
}
EXPECTED_OUT.update({name: {**HIDDEN, "complete_done": None} for name in ("ada", "aud", "oscar", "tove")})
EXPECTED_GLOBAL = {name: {"incidents": 403, "deploy": 403} for name in CAST}
EXPECTED_GLOBAL["ada"] = {"incidents": 200, "deploy": 201}
VISIBLE_CASES = {
    "kari": {"prison", "small"},
    "nils": {"prison", "discharge"},
    "nora": {"prison", "discharge"},
    "helga": {"prison", "discharge"},
    "bjorn": {"prison", "discharge"},
    "siri": {"discharge", "small"},
    "ada": set(),
    "aud": set(),
    "oscar": set(),
    "tove": set(),
}


@pytest.fixture
def world(users, prison_case, discharge_case, small_case):
    """The prison case past its intake (NAV, health and housing tasks open)."""
    (intake,) = open_tasks(prison_case)
    complete(intake, {"has_home": False}, actor=users["kari"])
    return {"prison": prison_case, "discharge": discharge_case, "small": small_case}


def _pick_tasks(case, agency_id):
    """(a task to claim and complete: the user's agency's if it has one, a done task)."""
    tasks = open_tasks(case)
    mine = next((task for task in tasks if task.agency_id == agency_id), tasks[0])
    done = case.tasks.filter(status="completed").order_by("id").first()
    return mine, done


def _statuses(client, case, user, agencies):
    agency_id = next((m.agency_id for m in user.memberships.all()), None)
    task, done = _pick_tasks(case, agency_id)
    base = f"/api/v1/cases/{case.pk}"
    result = {
        "detail": client.get(f"{base}/").status_code,
        "timeline": client.get(f"{base}/timeline/").status_code,
        "diagram": client.get(f"{base}/diagram/").status_code,
        "task": client.get(f"/api/v1/tasks/{tid(task.pk)}/").status_code,
        "claim": client.post(f"/api/v1/tasks/{tid(task.pk)}/claim/").status_code,
        "complete": client.post(
            f"/api/v1/tasks/{tid(task.pk)}/complete/", {"data": form_data(task)}, format="json"
        ).status_code,
        "complete_done": None
        if done is None
        else client.post(
            f"/api/v1/tasks/{tid(done.pk)}/complete/", {"data": form_data(done)}, format="json"
        ).status_code,
        "consents": client.get(f"{base}/consents/").status_code,
        "consent_create": client.post(
            f"{base}/consents/",
            {
                "agency": agencies["nav"].pk
                if case.participants.filter(kind="nav").exists()
                else agencies["prison"].pk,
                "categories": ["housing"],
                "purpose": "finne bolig",
                "legal_basis": LegalBasis.objects.get(law="forvaltningsloven", paragraph="§ 13 a nr. 1").pk,
            },
            format="json",
        ).status_code,
        "access_log": client.get(f"{base}/access-log/").status_code,
    }
    return result


@pytest.mark.parametrize("username", CAST)
def test_permission_matrix(username, users, agencies, world, client_for):
    """One test per user (the fixtures cost more than the requests): the "in" case, the
    "out" case, the admin endpoints and the lists."""
    user, client = users[username], client_for(username)
    in_case, out_case = world[IN_CASE.get(username, "prison")], world[OUT_CASE.get(username, "small")]
    deploy = client.post(
        "/api/v1/process-definitions/",
        {
            "bpmn_xml": small_model("Proc_matrix"),
            "forms": {"small.schema.json": SMALL_FORM},
        },
        format="json",
    )
    names = {case.pk: name for name, case in world.items()}
    actual = {
        "in": _statuses(client, in_case, user, agencies),
        "out": _statuses(client, out_case, user, agencies),
        "global": {"incidents": client.get("/api/v1/incidents/").status_code, "deploy": deploy.status_code},
        "cases": {names[row["id"]] for row in client.get("/api/v1/cases/").json()["results"]},
        "tasks": {names[row["case"]["id"]] for row in client.get("/api/v1/tasks/").json()["results"]},
        # A case's tasks (``?case=``) of a case the user's agencies take no part in: none.
        "out case's tasks": client.get(f"/api/v1/tasks/?case={out_case.pk}").json()["results"],
    }
    expected = {
        "in": EXPECTED_IN[username],
        "out": EXPECTED_OUT[username],
        "global": EXPECTED_GLOBAL[username],
        "cases": VISIBLE_CASES[username],
        "tasks": VISIBLE_CASES[username],
        "out case's tasks": [],
    }
    assert actual == expected
    for path in ("/api/v1/tasks/?assigned=me", "/api/v1/tasks/?assigned=agency&status=active"):
        for row in client.get(path).json()["results"]:
            assert names[row["case"]["id"]] in VISIBLE_CASES[username]


def test_oscar_sees_nothing_anywhere(world, client_for):
    client = client_for("oscar")
    for path in ("/api/v1/cases/", "/api/v1/tasks/", "/api/v1/agencies/", "/api/v1/process-definitions/"):
        response = client.get(path)
        assert (response.status_code, response.json()["results"]) == (200, []), path
    assert client.get("/api/v1/process-definitions/prison_release_to_housing/").status_code == 404
    assert client.get("/api/v1/incidents/").status_code == 403


def test_anonymous_requests_are_refused(world, client_for):
    client = client_for(None)
    assert client.get("/api/v1/cases/").status_code == 401
    assert client.get(f"/api/v1/cases/{world['prison'].pk}/").status_code == 401


def test_deploying_the_same_model_twice_answers_200_with_the_same_version(users, client_for, db):
    client = client_for("ada")
    body = {"bpmn_xml": small_model("Proc_twice"), "forms": {"small.schema.json": SMALL_FORM}}
    first = client.post("/api/v1/process-definitions/", body, format="json")
    second = client.post("/api/v1/process-definitions/", body, format="json")
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["version"] == second.json()["version"] == 1
    assert client.get("/api/v1/process-definitions/Proc_twice/versions/1/").json()["key"] == "Proc_twice"
