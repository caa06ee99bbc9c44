"""Versioned deploys and incidents that keep the data entered before them."""

import json

import pytest

from bpmn.models import ProcessDefinition
from bpmn.services import InvalidModel, deploy_definition
from core.errors import Conflict, Forbidden, InvalidInput, NotFound
from workflows import services, steps
from workflows.models import Event, EventKind, InstanceStatus, ProcessInstance

from ..conftest import PROCESSES
from .helpers import PERSON, open_tasks, start_prison_case, stop_on_gateway_incident, supply_missing_score

PRISON_BPMN = PROCESSES / "prison_release_to_housing.bpmn"


def _deploy(xml, forms=None, actor=None):
    from bpmn.loading import forms_for

    return deploy_definition(
        actor=actor,
        bpmn_xml=xml,
        forms=forms if forms is not None else forms_for(PRISON_BPMN),
        check_permission=actor is not None,
    )


def test_identical_content_is_the_same_version_and_changes_make_the_next(shipped, users, agencies):
    v1 = shipped["prison_release_to_housing"]
    again = _deploy(PRISON_BPMN.read_bytes())
    assert not again.created and again.definition.pk == v1.pk

    running = start_prison_case(users, agencies)
    changed_xml = PRISON_BPMN.read_text().replace('name="Finn bolig"', 'name="Finn bolig (ny)"')
    v2 = _deploy(changed_xml)
    assert v2.created and v2.definition.version == 2

    later = start_prison_case(users, agencies, person={"name": "Kari Nordmann", "national_id": "29822099635"})
    assert ProcessInstance.objects.get(case=running).definition.version == 1
    assert ProcessInstance.objects.get(case=later).definition.version == 2
    assert ProcessDefinition.objects.filter(key="prison_release_to_housing").count() == 2


def test_only_process_admins_deploy(shipped, users):
    with pytest.raises(Forbidden):
        _deploy(PRISON_BPMN.read_bytes(), actor=users["nils"])
    assert not _deploy(PRISON_BPMN.read_bytes(), actor=users["ada"]).created


def test_refused_model_stores_nothing(db):
    with pytest.raises(InvalidModel) as raised:
        _deploy(PRISON_BPMN.read_text().replace('name="Helse"', 'name="Ukjent etat"'))
    (issue,) = raised.value.issues
    assert (issue.code, issue.element_id) == ("unknown-lane", "Lane_health")
    assert "Ukjent etat" in issue.message
    assert not ProcessDefinition.objects.exists()


def test_a_file_that_is_not_utf8_is_refused_with_what_to_do(db):
    """Two corpus files (GenMyModel exports) are Latin-1: refused naming the file and a fix."""
    latin1 = '<?xml version="1.0"?><definitions name="Søknad"/>'.encode("latin-1")
    with pytest.raises(InvalidInput) as raised:
        deploy_definition(actor=None, bpmn_xml=latin1, check_permission=False)
    assert raised.value.errors[0]["field"] == "bpmn_xml"
    assert "save it as UTF-8" in raised.value.detail
    assert not ProcessDefinition.objects.exists()


def test_start_case_names_the_missing_participant_and_the_bad_national_id(shipped, users, agencies):
    with pytest.raises(InvalidInput) as raised:
        services.start_case(
            actor=users["kari"],
            process_key="prison_release_to_housing",
            person={"name": "Ola", "national_id": "17912099998"},
            participants={"prison": agencies["prison"].pk, "nav": agencies["housing"].pk},
        )
    fields = {error["field"] for error in raised.value.errors}
    assert {"person.national_id", "participants.nav", "participants.health", "participants.housing"} <= fields
    with pytest.raises(InvalidInput) as raised:
        services.start_case(actor=users["kari"], process_key="nope", person=PERSON, participants={})
    assert raised.value.errors[0]["field"] == "process_key"


def test_expression_error_in_a_gateway_is_an_incident_that_keeps_the_data(db, users, agencies):
    incident = stop_on_gateway_incident(users, agencies)
    case, instance = incident.case, incident.instance
    assert instance.status == InstanceStatus.INCIDENT
    assert incident.element_id == "Gateway_score" and "score" in incident.error
    assert Event.objects.filter(case=case, kind=EventKind.INCIDENT).count() == 1
    _, workflow = steps.load(instance)
    assert any(t.data.get("note") == "first visit" for t in workflow.get_tasks())  # nothing lost

    with pytest.raises(Conflict, match="failed again"):
        services.retry_incident(actor=users["ada"], incident_id=incident.pk)
    incident.refresh_from_db()
    assert incident.attempts == 2 and incident.resolved_at is None

    # The fix: the missing value is supplied (later issues do this through messages).
    supply_missing_score(instance)
    services.retry_incident(actor=users["ada"], incident_id=incident.pk)

    incident.refresh_from_db()
    instance.refresh_from_db()
    assert incident.resolved_at is not None and incident.resolved_by == users["ada"]
    assert instance.status == InstanceStatus.RUNNING
    assert [t.element_id for t in open_tasks(case)] == ["Task_follow_up"]
    assert json.loads(instance.state)["typename"] == "BpmnWorkflow"


NOT_PROCESS_ADMINS = ("kari", "nils", "nora", "helga", "bjorn", "siri", "aud", "oscar")


def _incident_row(incident):
    incident.refresh_from_db()
    return incident.attempts, incident.error, incident.resolved_at, incident.resolved_by_id


def test_only_process_admins_retry_an_incident_for_everyone_else_it_does_not_exist(db, users, agencies):
    incident = stop_on_gateway_incident(users, agencies)
    before = _incident_row(incident)
    # nils started the case and works its task: he still may not retry it.
    for name in NOT_PROCESS_ADMINS:
        with pytest.raises(NotFound) as raised:
            services.retry_incident(actor=users[name], incident_id=incident.pk)
        assert (name, raised.value.detail, raised.value.errors) == (name, "no such incident", [])
    assert _incident_row(incident) == before  # not even an attempt was counted
    with pytest.raises(NotFound) as raised:
        services.retry_incident(actor=users["ada"], incident_id=incident.pk + 1000)
    assert raised.value.detail == "no such incident"

    supply_missing_score(incident.instance)
    for name in NOT_PROCESS_ADMINS:
        with pytest.raises(NotFound):
            services.retry_incident(actor=users[name], incident_id=incident.pk)
    assert _incident_row(incident) == before
    assert not Event.objects.filter(case=incident.case, kind=EventKind.INCIDENT_RESOLVED).exists()


def test_a_resolved_incident_is_not_retried_again(db, users, agencies):
    incident = stop_on_gateway_incident(users, agencies)
    supply_missing_score(incident.instance)
    services.retry_incident(actor=users["ada"], incident_id=incident.pk)
    resolved = _incident_row(incident)
    version = ProcessInstance.objects.get(pk=incident.instance_id).version
    events = Event.objects.filter(case=incident.case).count()

    with pytest.raises(Conflict) as raised:
        services.retry_incident(actor=users["ada"], incident_id=incident.pk)

    assert (raised.value.detail, raised.value.errors) == ("the incident is already resolved", [])
    assert _incident_row(incident) == resolved
    assert ProcessInstance.objects.get(pk=incident.instance_id).version == version
    assert Event.objects.filter(case=incident.case).count() == events
    assert [t.element_id for t in open_tasks(incident.case)] == ["Task_follow_up"]
    for name in NOT_PROCESS_ADMINS:  # and for everyone else it still does not exist
        with pytest.raises(NotFound):
            services.retry_incident(actor=users[name], incident_id=incident.pk)
