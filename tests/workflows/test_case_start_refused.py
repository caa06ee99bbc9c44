"""Starting a case for agencies one does not work in is refused through the service, the
API and the web form alike: Forbidden / 403, and not one row written (no case, person,
participant, grant, instance, task, event or job)."""

import pytest
from django.test import Client
from rest_framework.test import APIClient

from core.errors import Forbidden
from permissions.models import CaseParticipant
from tests.request_ids import without_request_id
from workflows import services
from workflows.models import (
    Case,
    CaseReferenceCounter,
    Event,
    Job,
    Person,
    ProcessInstance,
    Task,
)

from .helpers import PERSON, PRISON_PARTICIPANTS

REFUSAL = "you may start cases only for an agency you work in, as one of its participants"
# siri works at the hospital, which takes no part in a prison release; ada and aud are in
# the housing agency, which does, but as process admin and auditor (no case role).
OUTSIDERS = ("siri", "ada", "aud")


def rows_written():
    from permissions.models import CaseGroupObjectPermission

    models = (
        Case,
        Person,
        CaseParticipant,
        ProcessInstance,
        Task,
        Event,
        Job,
        CaseReferenceCounter,
        CaseGroupObjectPermission,
    )
    return {model.__name__: model.objects.count() for model in models}


@pytest.fixture
def participants(shipped, agencies):
    return {kind: agencies[kind].pk for kind in PRISON_PARTICIPANTS}


@pytest.fixture
def nothing_written(participants):
    before = rows_written()
    assert before["Case"] == before["Person"] == 0
    yield
    assert rows_written() == before


@pytest.mark.parametrize("username", (*OUTSIDERS, "oscar"))
def test_the_service_refuses_and_writes_nothing(username, users, participants, nothing_written):
    with pytest.raises(Forbidden) as raised:
        services.start_case(
            actor=users[username], process_key="prison_release_to_housing", person=PERSON, participants=participants
        )
    assert (raised.value.detail, raised.value.errors) == (REFUSAL, [])


@pytest.mark.parametrize("username", (*OUTSIDERS, "oscar"))
def test_the_api_answers_403_and_writes_nothing(username, users, participants, nothing_written):
    client = APIClient()
    client.force_authenticate(users[username])
    response = client.post(
        "/api/v1/cases/",
        {
            "process_key": "prison_release_to_housing",
            "person": PERSON,
            "participants": participants,
        },
        format="json",
    )
    expected = {"detail": REFUSAL, "errors": [], "code": "case.start_forbidden"}
    assert (response.status_code, without_request_id(response)) == (403, expected)


def web_form(participants):
    return {
        "process": "prison_release_to_housing",
        "person_name": PERSON["name"],
        "national_id": PERSON["national_id"],
        **{f"participant_{kind}": str(pk) for kind, pk in participants.items()},
    }


def test_the_web_form_answers_403_with_the_form_and_writes_nothing(users, participants, nothing_written):
    client = Client()
    client.force_login(users["siri"])
    response = client.post("/cases/new/", web_form(participants))
    assert response.status_code == 403
    assert response.templates[0].name == "cases/new.html"  # the form again, filled in
    assert response.context["values"]["person_name"] == PERSON["name"]
    assert len(response.context["other_errors"]) == 1


@pytest.mark.parametrize("username", ("ada", "aud", "oscar"))
def test_the_web_form_is_refused_to_whoever_has_no_case_role(username, users, participants, nothing_written):
    client = Client()
    client.force_login(users[username])
    assert client.get("/cases/new/").status_code == 403
    response = client.post("/cases/new/", web_form(participants))
    assert response.status_code == 403
    assert response.templates[0].name == "errors/refused.html"


def test_a_case_reference_is_the_years_next_number_taken_in_one_statement(shipped):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from workflows.services.cases import _next_reference

    first = _next_reference()
    with CaptureQueriesContext(connection) as queries:
        second = _next_reference()
    assert len(queries) == 1
    prefix, year, number = second.rsplit("-", 2)
    assert first == f"{prefix}-{year}-{int(number) - 1:06d}"
    assert CaseReferenceCounter.objects.get(year=int(year)).last == int(number)


def test_a_case_start_reads_its_participating_agencies_in_one_statement(users, agencies, shipped):
    import re

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.workflows.helpers import start_prison_case

    with CaptureQueriesContext(connection) as queries:
        case = start_prison_case(users, agencies)
    by_id = re.compile(r'^SELECT .* FROM "permissions_agency" WHERE "permissions_agency"\."id" (=|IN)')
    assert len([query for query in queries if by_id.match(query["sql"])]) == 1
    assert {p.kind: p.agency_id for p in case.participants.all()} == {
        kind: agencies[kind].pk for kind in PRISON_PARTICIPANTS
    }
