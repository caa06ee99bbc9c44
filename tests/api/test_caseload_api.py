"""The caseload over the API: the responsible contact in case answers, reassignment by
the housing lead, the caseload counts, and every other user refused."""

import pytest

from permissions import rules
from permissions.grants import revoke_agency_access
from permissions.models import Membership, Role
from tests.clients import api, web
from workflows.models import Case, Event, EventKind

from .conftest import CAST, OTHER_PERSON


def test_a_case_names_its_responsible_contact(client_for, prison_case, users):
    nils = client_for("nils")
    body = nils.get(f"/api/v1/cases/{prison_case.pk}/").json()
    assert body["responsible"] == {"id": users["bjorn"].pk, "username": "bjorn", "name": "Bjørn Boligkontakt"}
    (row,) = nils.get("/api/v1/cases/").json()["results"]
    assert row["responsible"]["username"] == "bjorn"
    assert nils.get(f"/api/v1/cases/?responsible={users['tore'].pk}").json()["results"] == []


def test_housing_starts_a_case_with_a_contact_and_others_cannot(client_for, shipped, users, agencies):
    body = {
        "process_key": "settling_in",
        "person": OTHER_PERSON,
        "participants": {kind: agencies[kind].pk for kind in ("housing", "nav", "health")},
        "responsible": users["hanne"].pk,
    }
    answer = client_for("nils").post("/api/v1/cases/", body, format="json")
    assert answer.status_code == 400 and answer.json()["errors"][0]["field"] == "responsible"
    answer = client_for("bjorn").post("/api/v1/cases/", {**body, "responsible": users["nils"].pk}, format="json")
    assert answer.status_code == 400 and answer.json()["errors"][0]["field"] == "responsible"
    answer = client_for("bjorn").post("/api/v1/cases/", body, format="json")
    assert answer.status_code == 201
    assert client_for("bjorn").get(f"/api/v1/cases/{answer.json()['id']}/").json()["responsible"]["username"] == "hanne"


def test_the_lead_reassigns(client_for, prison_case, users):
    answer = client_for("lise").post(
        f"/api/v1/cases/{prison_case.pk}/responsible/", {"responsible": users["tore"].pk}, format="json"
    )
    assert answer.status_code == 200 and answer.json()["responsible"]["username"] == "tore"
    assert Event.objects.filter(case=prison_case, kind=EventKind.RESPONSIBLE_CHANGED).count() == 1
    timeline = client_for("kari").get(f"/api/v1/cases/{prison_case.pk}/timeline/").json()["results"]
    assert "responsible_changed" in [event["kind"] for event in timeline]


@pytest.mark.parametrize("username", [*CAST, None])
def test_nobody_else_reassigns(client_for, prison_case, users, username):
    answer = client_for(username).post(
        f"/api/v1/cases/{prison_case.pk}/responsible/", {"responsible": users["tore"].pk}, format="json"
    )
    # Participants see the case (403); the others do not (404); no login: 401.
    expected = {None: 401, "kari": 403, "nils": 403, "nora": 403, "helga": 403, "bjorn": 403}.get(username, 404)
    assert answer.status_code == expected
    prison_case.refresh_from_db()
    assert prison_case.responsible == users["bjorn"]


def test_bad_reassignments_answer_400(client_for, prison_case, users):
    lise = client_for("lise")
    url = f"/api/v1/cases/{prison_case.pk}/responsible/"
    for body in ({}, {"responsible": "x"}, {"responsible": users["nils"].pk}, {"responsible": 10**9}):
        answer = lise.post(url, body, format="json")
        assert answer.status_code == 400 and answer.json()["errors"][0]["field"] == "responsible", body
    assert lise.post(url, {"responsible": users["tore"].pk, "extra": 1}, format="json").status_code == 400


def test_the_caseload_is_the_leads_only(client_for, prison_case, discharge_case, users):
    (load,) = client_for("lise").get("/api/v1/caseload/").json()
    assert load["agency"]["kind"] == "housing"
    rows = {row["user"]["username"] if row["user"] else None: row for row in load["rows"]}
    assert rows["bjorn"]["open_cases"] == 2 and rows["tore"]["open_cases"] == 0
    assert set(rows["bjorn"]) == {"user", "open_cases", "open_tasks", "overdue_tasks", "closed_last_year"}
    for username in CAST:
        assert client_for(username).get("/api/v1/caseload/").status_code == 403, username
    assert client_for(None).get("/api/v1/caseload/").status_code == 401


def test_the_inbox_filters_on_the_responsible_contact(client_for, prison_case, users):
    from workflows.models import Task

    intake = Task.objects.get(case=prison_case)
    assert len(client_for("bjorn").get("/api/v1/tasks/?responsible=me").json()["results"]) == 1
    assert client_for("kari").get("/api/v1/tasks/?responsible=me").json()["results"] == []
    assert client_for("kari").get("/api/v1/tasks/?responsible=you").status_code == 400
    assert intake.case.responsible == users["bjorn"]


def _open_cases_by_contact(lise):
    """bjorn's open cases in the housing office's caseload, over the API and on the page."""
    (load,) = api(lise).get("/api/v1/caseload/").json()
    (row,) = [row for row in load["rows"] if row["user"] and row["user"]["username"] == "bjorn"]
    (shown,) = web(lise).get("/caseload/").context["loads"]
    (page_row,) = [row for row in shown.rows if row.user == lise.__class__.objects.get(username="bjorn")]
    assert (page_row.open_cases, page_row.open_tasks) == (row["open_cases"], row["open_tasks"])
    return row["open_cases"], row["open_tasks"]


def test_the_caseload_counts_only_cases_the_agency_still_takes_part_in(prison_case, discharge_case, users, agencies):
    """The lead also works in NAV, which takes part in both cases. The housing office loses
    its standing in the prison case (its group's grant withdrawn; the coordinating agency is
    never withdrawn over ``/withdrawals/``, so its participation row stays): the lead still
    sees that case through NAV, but it is no longer the office's, in its caseload or its
    tasks, as on every list and page that reads the case through the office."""
    lise = users["lise"]
    Membership.objects.create(user=lise, agency=agencies["nav"], role=Role.MEMBER)
    assert _open_cases_by_contact(lise) == (2, 2)  # each case with its intake

    revoke_agency_access(prison_case, [agencies["housing"]])

    assert rules.can_view_case(lise, Case.objects.get(pk=prison_case.pk))  # through NAV
    assert _open_cases_by_contact(lise) == (1, 1)
    assert api(users["bjorn"]).get(f"/api/v1/cases/{prison_case.pk}/").status_code == 404
