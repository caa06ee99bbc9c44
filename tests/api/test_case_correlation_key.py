"""``POST /api/v1/cases/`` with a ``correlation_key``: stored on the case's instance, found
by messages, and unique among the running cases its starter sees (a message naming it must
find one case; whether a case the starter does not see holds it is not told)."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from rest_framework.test import APIClient

from accounts.tokens import issue
from permissions.models import Agency, Membership, Role
from tests.threads import all_at_once
from workflows.models import Case, InstanceStatus, ProcessInstance

from .conftest import OTHER_PERSON, PERSON, PRISON_KINDS, THIRD_PERSON

MAX_LENGTH = ProcessInstance._meta.get_field("correlation_key").max_length


def _body(agencies, person=PERSON, **extra):
    return {
        "process_key": "prison_release_to_housing",
        "person": person,
        "participants": {kind: agencies[kind].pk for kind in PRISON_KINDS},
        **extra,
    }


def _fields(response):
    return {error.get("field") for error in response.json()["errors"]}


@pytest.mark.django_db
def test_the_key_is_stored_and_messages_find_the_case_by_it(shipped, users, agencies, client_for):
    kari = client_for("kari")
    started = kari.post("/api/v1/cases/", _body(agencies, correlation_key=" KDI-2026-17 "), format="json")
    assert started.status_code == 201, started.json()
    case_id = started.json()["id"]
    assert ProcessInstance.objects.get(case_id=case_id).correlation_key == "KDI-2026-17"  # trimmed

    answer = kari.post(
        "/api/v1/messages/",
        {
            "name": "release_date_changed",
            "correlation_key": "KDI-2026-17",
            "payload": {"expected_release_date": "2027-02-01"},
        },
        format="json",
    )
    # The key leads to the case; nothing in it waits for the message yet (only after the intake).
    assert answer.status_code == 404
    assert f"nothing in case {started.json()['reference']} waits" in answer.json()["detail"]
    unknown = kari.post(
        "/api/v1/messages/", {"name": "release_date_changed", "correlation_key": "KDI-0", "payload": {}}, format="json"
    )
    assert unknown.status_code == 404 and unknown.json()["detail"] == "no such case"


@pytest.mark.django_db
def test_the_key_is_optional(shipped, agencies, client_for):
    started = client_for("kari").post("/api/v1/cases/", _body(agencies), format="json")
    assert started.status_code == 201, started.json()
    assert ProcessInstance.objects.get(case_id=started.json()["id"]).correlation_key == ""
    blank = client_for("kari").post("/api/v1/cases/", _body(agencies, OTHER_PERSON, correlation_key=""), format="json")
    assert blank.status_code == 201, blank.json()  # many cases without a key are fine


@pytest.mark.django_db
def test_a_key_of_a_running_case_is_refused_with_400_naming_it(shipped, agencies, client_for):
    kari = client_for("kari")
    assert kari.post("/api/v1/cases/", _body(agencies, correlation_key="KDI-1"), format="json").status_code == 201

    again = kari.post("/api/v1/cases/", _body(agencies, OTHER_PERSON, correlation_key="KDI-1"), format="json")

    assert again.status_code == 400
    assert _fields(again) == {"correlation_key"}
    assert "running case" in again.json()["errors"][0]["message"]
    assert Case.objects.count() == 1


@pytest.mark.django_db
def test_the_key_is_free_again_once_the_case_no_longer_runs(shipped, agencies, client_for):
    kari = client_for("kari")
    first = kari.post("/api/v1/cases/", _body(agencies, correlation_key="KDI-2"), format="json").json()
    ProcessInstance.objects.filter(case_id=first["id"]).update(status=InstanceStatus.COMPLETED)

    again = kari.post("/api/v1/cases/", _body(agencies, OTHER_PERSON, correlation_key="KDI-2"), format="json")

    assert again.status_code == 201, again.json()
    assert ProcessInstance.objects.filter(correlation_key="KDI-2").count() == 2


@pytest.mark.django_db
def test_a_case_stopped_on_an_incident_still_holds_its_key(shipped, agencies, client_for):
    kari = client_for("kari")
    first = kari.post("/api/v1/cases/", _body(agencies, correlation_key="KDI-3"), format="json").json()
    ProcessInstance.objects.filter(case_id=first["id"]).update(status=InstanceStatus.INCIDENT)

    again = kari.post("/api/v1/cases/", _body(agencies, OTHER_PERSON, correlation_key="KDI-3"), format="json")

    assert again.status_code == 400 and _fields(again) == {"correlation_key"}


@pytest.mark.django_db
def test_a_too_long_or_non_text_key_is_400_naming_it(shipped, agencies, client_for):
    kari = client_for("kari")
    for bad in ("x" * (MAX_LENGTH + 1), {"a": 1}, None):
        response = kari.post("/api/v1/cases/", _body(agencies, correlation_key=bad), format="json")
        assert response.status_code == 400, bad
        assert "correlation_key" in _fields(response)
    assert (
        kari.post("/api/v1/cases/", _body(agencies, correlation_key="x" * MAX_LENGTH), format="json").status_code == 201
    )
    assert Case.objects.count() == 1


def test_the_schema_documents_the_key(client_for, db, users):
    schema = client_for("nils").get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    case_input = schema["components"]["schemas"]["CaseInputRequest"]
    key = case_input["properties"]["correlation_key"]
    assert key["type"] == "string" and key["maxLength"] == MAX_LENGTH and key["description"]
    assert "correlation_key" not in case_input.get("required", [])
    bad_request = schema["paths"]["/api/v1/cases/"]["post"]["responses"]["400"]
    assert "correlation_key" in bad_request["description"]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_cases_started_at_once_with_one_key_one_201_one_400(shipped, users, agencies):
    clients = []
    for name in ("kari", "kari"):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {issue(users[name])[0]}")
        clients.append(client)
    bodies = [
        _body(agencies, PERSON, correlation_key="KDI-race"),
        _body(agencies, OTHER_PERSON, correlation_key="KDI-race"),
    ]

    responses = all_at_once(
        [lambda c=c, b=b: c.post("/api/v1/cases/", b, format="json") for c, b in zip(clients, bodies, strict=True)]
    )

    assert sorted(r.status_code for r in responses) == [201, 400]
    assert ProcessInstance.objects.filter(correlation_key="KDI-race").count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("username", ["oscar", "mona", "aud", "ada"])
def test_who_may_not_start_the_case_never_learns_whether_a_key_is_taken(shipped, agencies, client_for, username):
    """The key is an external system's own number (the prison's for its inmate): whether a
    running case holds it tells that the person is in a process. Someone who may not start
    the case (no agency, an agency not among its participants, an auditor, a process admin)
    gets the same answer for a taken key and a free one, and a body with another error
    in it tells nobody either."""
    assert (
        client_for("kari").post("/api/v1/cases/", _body(agencies, correlation_key="KDI-7"), format="json").status_code
        == 201
    )
    client = client_for(username)
    bad_id = {"name": "Hvem Som Helst", "national_id": "12345678901"}  # a wrong check digit
    answers = []
    for key in ("KDI-7", "KDI-8"):
        valid = client.post("/api/v1/cases/", _body(agencies, OTHER_PERSON, correlation_key=key), format="json")
        invalid = client.post("/api/v1/cases/", _body(agencies, bad_id, correlation_key=key), format="json")
        answers.append([(r.status_code, sorted(_fields(r))) for r in (valid, invalid)])
    assert answers[0] == answers[1]
    assert "correlation_key" not in {field for _status, fields in answers[0] for field in fields}
    assert Case.objects.count() == 1


@pytest.mark.django_db
def test_a_starter_with_another_error_in_the_body_is_told_that_error_alone(shipped, agencies, client_for):
    kari = client_for("kari")
    assert kari.post("/api/v1/cases/", _body(agencies, correlation_key="KDI-9"), format="json").status_code == 201
    bad_id = {"name": "Hvem Som Helst", "national_id": "12345678901"}
    answer = kari.post("/api/v1/cases/", _body(agencies, bad_id, correlation_key="KDI-9"), format="json")
    assert answer.status_code == 400 and _fields(answer) == {"person.national_id"}


@pytest.mark.django_db
def test_a_key_held_by_a_case_the_starter_does_not_see_tells_them_nothing(shipped, users, agencies, client_for):
    """Before, a key held by any running case was refused: a prison whose system numbers
    people as another's does (or a national id used as the key) learned that the person is in
    a process elsewhere. Now only a case the starter sees holds a key against them; two such
    cases share it, and a message naming it finds the one its sender sees."""
    ila = Agency.objects.create(name="Ila fengsel", kind="prison", group=Group.objects.create(name="agency:ila"))
    ivar = get_user_model().objects.create_user("ivar", password="x")
    Membership.objects.create(user=ivar, agency=ila, role=Role.MEMBER)
    halden_case = client_for("kari").post("/api/v1/cases/", _body(agencies, correlation_key="KDI-11"), format="json")
    assert halden_case.status_code == 201

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {issue(ivar)[0]}")
    at_ila = {**_body(agencies, OTHER_PERSON), "participants": {**_body(agencies)["participants"], "prison": ila.pk}}
    answers = [
        client.post("/api/v1/cases/", {**at_ila, "correlation_key": key}, format="json") for key in ("KDI-11", "KDI-12")
    ]
    assert [answer.status_code for answer in answers] == [201, 201]  # a held key and a free one alike
    assert set(answers[0].json()) == set(answers[1].json())
    assert ProcessInstance.objects.filter(correlation_key="KDI-11").count() == 2

    # Each sender's message finds the case it sees ("nothing in case <reference> waits" yet).
    for sender, started in ((client_for("kari"), halden_case), (client, answers[0])):
        found = sender.post(
            "/api/v1/messages/",
            {"name": "release_date_changed", "correlation_key": "KDI-11", "payload": {}},
            format="json",
        )
        assert (
            found.status_code == 404
            and f"nothing in case {started.json()['reference']} waits" in found.json()["detail"]
        )
    # The coordinator sees both cases, but the key is neither case's as the housing office's.
    both = client_for("bjorn").post(
        "/api/v1/messages/", {"name": "release_date_changed", "correlation_key": "KDI-11", "payload": {}}, format="json"
    )
    assert both.status_code == 404 and both.json()["detail"] == "no such case"
    # Where the starter does see the case holding it, the key is still refused.
    again = client.post("/api/v1/cases/", {**at_ila, "correlation_key": "KDI-12"}, format="json")
    assert again.status_code == 400 and _fields(again) == {"correlation_key"}


@pytest.mark.django_db
def test_another_agency_naming_a_key_on_its_own_case_neither_blocks_it_nor_takes_its_messages(
    shipped, users, agencies, client_for
):
    """A key is the agency's whose system set it. Counted across agencies, NAV Halden could
    start a case of anyone naming the prison as a participant with the prison's key: the
    prison's messages naming the key were then ambiguous (409) while its case ran, went to
    NAV Halden's case (about another person) once it ended, and the prison could not start
    its next case with its own key."""
    halden_nav = Agency.objects.create(name="NAV Halden", kind="nav", group=Group.objects.create(name="agency:nav-h"))
    nina = get_user_model().objects.create_user("nav-halden-user", password="x")
    Membership.objects.create(user=nina, agency=halden_nav, role=Role.MEMBER)
    other_nav = APIClient()
    other_nav.credentials(HTTP_AUTHORIZATION=f"Token {issue(nina)[0]}")
    kari = client_for("kari")
    prisons = kari.post("/api/v1/cases/", _body(agencies, correlation_key="KDI-77"), format="json")
    assert prisons.status_code == 201, prisons.json()
    naming_the_prison = {
        **_body(agencies, OTHER_PERSON),
        "participants": {**_body(agencies)["participants"], "nav": halden_nav.pk},
        "correlation_key": "KDI-77",
    }
    assert other_nav.post("/api/v1/cases/", naming_the_prison, format="json").status_code == 201

    def message():
        return kari.post(
            "/api/v1/messages/",
            {"name": "release_date_changed", "correlation_key": "KDI-77", "payload": {}},
            format="json",
        )

    found = message()  # the prison's own case, not "the key matches 2 cases"
    assert found.status_code == 404 and f"nothing in case {prisons.json()['reference']} waits" in found.json()["detail"]
    again = kari.post("/api/v1/cases/", _body(agencies, THIRD_PERSON, correlation_key="KDI-77"), format="json")
    assert again.status_code == 400 and _fields(again) == {"correlation_key"}  # its own running case holds it
    ProcessInstance.objects.filter(case_id=prisons.json()["id"]).update(status=InstanceStatus.COMPLETED)
    gone = message()  # not into NAV Halden's case of another person
    assert gone.status_code == 404 and gone.json()["detail"] == "no such case"
    nexts = kari.post("/api/v1/cases/", _body(agencies, THIRD_PERSON, correlation_key="KDI-77"), format="json")
    assert nexts.status_code == 201, nexts.json()  # its next case takes its key
