"""POST /api/v1/incidents/{id}/retry/: only process admins retry (for everyone else the
incident does not exist), a resolved incident answers 409, each with its exact body."""

import pytest

from tests.request_ids import without_request_id
from tests.workflows.helpers import open_tasks, stop_on_gateway_incident, supply_missing_score
from workflows.models import Event, EventKind, ProcessInstance

from .conftest import CAST

NOT_PROCESS_ADMINS = [name for name in CAST if name != "ada"]
NO_SUCH_INCIDENT = {"detail": "no such incident", "errors": [], "code": "incident.not_found"}


@pytest.fixture
def incident(users, agencies):
    return stop_on_gateway_incident(users, agencies)


def retry(client, incident_id):
    return client.post(f"/api/v1/incidents/{incident_id}/retry/")


def snapshot(incident):
    incident.refresh_from_db()
    instance = ProcessInstance.objects.get(pk=incident.instance_id)
    events = Event.objects.filter(case=incident.case_id).count()
    return incident.attempts, incident.error, incident.resolved_at, incident.resolved_by_id, instance.version, events


@pytest.mark.parametrize("username", NOT_PROCESS_ADMINS)
def test_for_everyone_but_process_admins_the_incident_does_not_exist(username, client_for, incident):
    client = client_for(username)
    before = snapshot(incident)
    response = retry(client, incident.pk)
    assert (response.status_code, without_request_id(response)) == (404, NO_SUCH_INCIDENT)
    assert snapshot(incident) == before

    supply_missing_score(incident.instance)  # a retry would now pass: still not theirs
    response = retry(client, incident.pk)
    assert (response.status_code, without_request_id(response)) == (404, NO_SUCH_INCIDENT)
    assert snapshot(incident) == before


def test_a_process_admin_retries_and_a_resolved_incident_answers_409(client_for, incident, users):
    ada = client_for("ada")
    response = retry(ada, incident.pk)
    incident.refresh_from_db()
    assert response.status_code == 409
    assert without_request_id(response) == {
        "detail": f"the step failed again: {incident.error}",
        "errors": [],
        "code": "incident.failed_again",
    }
    assert incident.attempts == 2 and incident.resolved_at is None

    supply_missing_score(incident.instance)
    response = retry(ada, incident.pk)
    assert response.status_code == 200, response.content
    assert response.json()["resolved_at"] is not None
    resolved = snapshot(incident)
    assert incident.resolved_by == users["ada"]

    response = retry(ada, incident.pk)
    assert (response.status_code, without_request_id(response)) == (
        409,
        {"detail": "the incident is already resolved", "errors": [], "code": "incident.resolved"},
    )
    assert snapshot(incident) == resolved
    assert Event.objects.filter(case=incident.case_id, kind=EventKind.INCIDENT_RESOLVED).count() == 1
    assert [task.element_id for task in open_tasks(incident.case)] == ["Task_follow_up"]
    for name in NOT_PROCESS_ADMINS:
        response = retry(client_for(name), incident.pk)
        assert (response.status_code, without_request_id(response)) == (404, NO_SUCH_INCIDENT), name


def test_an_unknown_incident_is_404(client_for, incident):
    response = retry(client_for("ada"), incident.pk + 1000)
    assert (response.status_code, without_request_id(response)) == (404, NO_SUCH_INCIDENT)
