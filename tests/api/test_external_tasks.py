"""External tasks in Camunda's style: an agency's system fetches and locks by topic with
its API token, completes with variables checked against the task's form, reports
failures; a killed worker's lease runs out and the task is fetched again and completes once."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from bpmn.services import deploy_definition
from core.errors import InvalidInput
from permissions.models import AccessLog, Consent
from tests.clock import Clock
from tests.workflows.helpers import PERSON, open_tasks
from tests.workflows.service_models import FORMS, external_model
from workflows import services
from workflows.jobs import queue
from workflows.models import Event, EventKind, Incident, Job, JobKind, JobStatus
from workflows.services import external_tasks

FETCH = "/api/v1/external-tasks/fetch-and-lock/"
TOPIC = {"topicName": "housing-register", "lockDuration": 60000}


def waiting_on_nav_system(users, agencies, *kinds: str):
    """A register-check case whose external task waits for NAV's system, with NAV and the
    agencies of ``kinds`` taking part (the first of them coordinates)."""
    deploy_definition(actor=None, bpmn_xml=external_model(), forms=FORMS, check_permission=False)
    case = services.start_case(
        actor=users["nils"],
        process_key="register_check",
        person=PERSON,
        participants={kind: agencies[kind].pk for kind in ("nav", *kinds)},
    )
    (ask,) = open_tasks(case)
    services.complete_task(actor=users["nils"], task_id=ask.pk, data={"applicant_id": "A-17"})
    return case


@pytest.fixture
def waiting(db, users, agencies):
    return waiting_on_nav_system(users, agencies)


def fetch(client, worker="w1", topics=(TOPIC,)):
    response = client.post(FETCH, {"workerId": worker, "maxTasks": 5, "topics": list(topics)}, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def complete(client, task_id, worker="w1", **variables):
    body = {"workerId": worker, "variables": {name: {"value": value} for name, value in variables.items()}}
    return client.post(f"/api/v1/external-tasks/{task_id}/complete/", body, format="json")


def test_an_external_task_s_id_counts_nothing(client_for, waiting):
    """The id an agency's system is given is the job's random key: the job's own id is
    sequential over every job of the municipality (every timer, e-mail and message of every
    agency), so two fetches would tell the agency how many came between. The job id opens
    nothing; neither does a key that is no task, nor text that is no key."""
    nils = client_for("nils")
    (task,) = fetch(nils)
    job = Job.objects.get(delivery_key=task["id"])
    assert str(uuid.UUID(task["id"])) == task["id"] and task["id"] != str(job.pk)
    for other in (job.pk, uuid.uuid4(), "abc", "1 OR 1=1"):
        assert complete(nils, other, register_status="listed").status_code == 404
    assert complete(nils, task["id"], register_status="listed").status_code == 204


def test_fetch_lock_and_complete(client_for, waiting, users):
    nils = client_for("nils")
    (task,) = fetch(nils)
    assert task["topicName"] == "housing-register" and task["activityId"] == "Service_1"
    assert task["variables"] == {"applicant_id": {"value": "A-17"}}  # only what the task declares
    assert task["caseReference"] == waiting.reference
    log = AccessLog.objects.get(item=f"external-task:{Job.objects.get(delivery_key=task['id']).pk}")
    assert (log.user, log.action, log.case_id) == (users["nils"], "export", waiting.pk)
    assert fetch(nils) == []  # locked

    bad = complete(nils, task["id"], register_status="maybe")
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "register_status"
    assert complete(nils, task["id"], register_status="listed", other=1).status_code == 400

    assert complete(nils, task["id"], register_status="listed").status_code == 204
    assert [t.element_id for t in open_tasks(waiting)] == ["Task_check"]
    waiting.refresh_from_db()
    assert waiting.data["register_status"] == "listed"
    assert waiting.data_sources["register_status"] == users["nils"].memberships.first().agency_id
    assert complete(nils, task["id"], register_status="listed").status_code == 409
    assert Event.objects.filter(case=waiting, kind=EventKind.SERVICE_CALLED).count() == 1


def test_a_task_answered_after_its_job_was_pruned_is_409_to_its_agency_and_404_to_others(client_for, waiting):
    """Done jobs are pruned after ``JOB_DONE_KEEP_DAYS``; a system that answers late (a retry
    of a lost response) is told the task was done, not that it never was. Another agency
    learns nothing: 404, as for a key that is no task."""
    nils = client_for("nils")
    (task,) = fetch(nils)
    assert complete(nils, task["id"], register_status="listed").status_code == 204
    assert complete(nils, task["id"], register_status="listed").json()["code"] == "external_task.done"
    Job.objects.filter(delivery_key=task["id"]).update(finished_at=queue.now() - timedelta(days=30))
    assert queue.prune_finished() >= 1
    assert not Job.objects.filter(delivery_key=task["id"]).exists()

    late = complete(nils, task["id"], register_status="listed")
    assert (late.status_code, late.json()["code"]) == (409, "external_task.done")
    failure = {"workerId": "w1", "errorMessage": "x"}
    assert nils.post(f"/api/v1/external-tasks/{task['id']}/failure/", failure, format="json").status_code == 409
    for other in ("kari", "helga", "bjorn", "ada"):
        assert complete(client_for(other), task["id"], register_status="listed").status_code == 404
    assert complete(nils, uuid.uuid4(), register_status="listed").status_code == 404
    assert Event.objects.filter(case=waiting, kind=EventKind.SERVICE_CALLED).count() == 1
    # once NAV no longer takes part in the case (as a withdrawal leaves it), 404 as for any key
    from permissions.grants import revoke_agency_access
    from permissions.models import CaseParticipant

    nav = CaseParticipant.objects.get(case=waiting, kind="nav").agency
    CaseParticipant.objects.filter(case=waiting, agency=nav).delete()
    revoke_agency_access(waiting, [nav])
    assert complete(nils, task["id"], register_status="listed").status_code == 404


def test_a_killed_worker_the_lease_runs_out_another_completes_once(client_for, waiting, monkeypatch):
    clock = Clock(monkeypatch, datetime.now(UTC))
    nils, nora = client_for("nils"), client_for("nora")
    (first,) = fetch(nils, "worker-a", [{"topicName": "housing-register", "lockDuration": 5000}])
    # worker A dies; after the lock runs out the task is fetched again
    assert fetch(nora, "worker-b") == []
    clock.advance(seconds=6)
    (again,) = fetch(nora, "worker-b")
    assert again["id"] == first["id"]

    assert complete(nils, first["id"], "worker-a", register_status="listed").status_code == 409
    assert complete(nora, again["id"], "worker-b", register_status="not_listed").status_code == 204
    assert complete(nils, first["id"], "worker-a", register_status="listed").status_code == 409
    assert Event.objects.filter(case=waiting, kind=EventKind.SERVICE_CALLED).count() == 1
    assert [t.element_id for t in open_tasks(waiting)] == ["Task_check"]


def test_a_lock_over_24_hours_is_refused_naming_the_topic_not_cut_and_none_is_taken(client_for, waiting, users):
    """It was cut to 24 hours without a word: a system that asked for two days lost its
    lock after one, and another worker could fetch the task it was still working on."""
    nils = client_for("nils")
    topics = [TOPIC, {"topicName": "housing-register", "lockDuration": 2 * 86_400_000}]
    answer = nils.post(FETCH, {"workerId": "w1", "topics": topics}, format="json", HTTP_ACCEPT_LANGUAGE="nb")
    assert answer.status_code == 400, answer.content
    (error,) = answer.json()["errors"]
    assert (error["field"], error["code"]) == ("topics.1.lockDuration", "field.max_value")
    assert error["message"] == "må være høyst 86400000"
    assert not Job.objects.filter(kind=JobKind.EXTERNAL_TASK).exclude(status=JobStatus.PENDING).exists()
    # The service refuses it too, whoever calls it (it cut it as well).
    with pytest.raises(InvalidInput) as refused:
        external_tasks.fetch_and_lock(
            actor=users["nils"],
            worker_id="w1",
            topics=[{"topic": "housing-register", "lock_seconds": 86_401}],
            max_tasks=1,
        )
    assert refused.value.errors[0]["field"] == "topics.0.lockDuration"


def test_a_lock_is_kept_to_the_millisecond_up_to_24_hours(client_for, waiting, monkeypatch):
    """1,500 ms was a lock of 1 s (the milliseconds were dropped); 24 hours is allowed."""
    clock = Clock(monkeypatch, datetime.now(UTC))
    (task,) = fetch(client_for("nils"), "w1", [{"topicName": "housing-register", "lockDuration": 1500}])
    job = Job.objects.get(kind=JobKind.EXTERNAL_TASK)
    assert job.lease_until == clock.moment + timedelta(milliseconds=1500)
    clock.advance(seconds=2)
    (again,) = fetch(client_for("nora"), "w2", [{"topicName": "housing-register", "lockDuration": 86_400_000}])
    job.refresh_from_db()
    assert again["id"] == task["id"] and job.lease_until == clock.moment + timedelta(hours=24)
    # The wait a failure asks for, likewise (``retryTimeout``: 1,500 ms was 1 s).
    failure = {"workerId": "w2", "errorMessage": "register down", "retries": 3, "retryTimeout": 1500}
    url = f"/api/v1/external-tasks/{task['id']}/failure/"
    assert client_for("nora").post(url, failure, format="json").status_code == 204
    job.refresh_from_db()
    assert job.due_at == clock.moment + timedelta(milliseconds=1500)


def test_failure_with_retries_then_an_incident_the_admin_retries(client_for, waiting, users):
    nils = client_for("nils")
    (task,) = fetch(nils)
    url = f"/api/v1/external-tasks/{task['id']}/failure/"
    body = {"workerId": "w1", "errorMessage": "register down", "retries": 1, "retryTimeout": 0}
    assert nils.post(url, body, format="json").status_code == 204
    (task,) = fetch(nils)
    assert nils.post(url, {**body, "retries": 0}, format="json").status_code == 204
    job = Job.objects.get(delivery_key=task["id"])
    assert job.status == JobStatus.FAILED
    incident = Incident.objects.get(job=job)
    assert incident.kind == "external_task-failed" and incident.error == "register down"
    assert fetch(nils) == []

    services.retry_incident(actor=users["ada"], incident_id=incident.pk)

    (task,) = fetch(nils)
    assert complete(nils, task["id"], register_status="listed").status_code == 204


@pytest.mark.parametrize("username", ["kari", "helga", "bjorn", "siri", "ada", "aud", "oscar"])
def test_other_agencies_neither_fetch_nor_complete(client_for, waiting, username):
    (task,) = fetch(client_for("nils"))
    other = client_for(username)
    assert fetch(other) == []
    assert complete(other, task["id"], register_status="listed").status_code == 404
    failure = {"workerId": "w1", "errorMessage": "x"}
    assert other.post(f"/api/v1/external-tasks/{task['id']}/failure/", failure, format="json").status_code == 404
    assert Job.objects.get(delivery_key=task["id"]).status == JobStatus.RUNNING
    assert client_for(None).post(FETCH, {"workerId": "w", "topics": [TOPIC]}, format="json").status_code in (401, 403)


def test_another_worker_of_the_same_agency_cannot_complete_a_locked_task(client_for, waiting):
    (task,) = fetch(client_for("nils"), "worker-a")
    assert complete(client_for("nora"), task["id"], "worker-a", register_status="listed").status_code == 409
    assert Job.objects.filter(kind=JobKind.EXTERNAL_TASK, status=JobStatus.RUNNING).count() == 1


@pytest.mark.parametrize(
    "body",
    [
        {"workerId": "w", "topics": [{"topicName": "t", "lockDuration": 10}]},
        {"workerId": "w", "topics": "t"},
        {"topics": [TOPIC]},
        {"workerId": "w", "topics": [TOPIC], "maxTasks": 0},
        {"workerId": "w", "topics": [TOPIC], "surprise": 1},
    ],
)
def test_bad_fetch_bodies_are_400(client_for, waiting, body):
    assert client_for("nils").post(FETCH, body, format="json").status_code == 400


def test_once_the_agencys_access_is_withdrawn_its_system_neither_fetches_nor_completes(client_for, waiting, agencies):
    """Issue 11: the agency's grant on the case is checked when its system fetches (no case
    data leaves) and when it completes (404, nothing written)."""
    from permissions.grants import grant_agency_access, revoke_agency_access

    nils = client_for("nils")
    revoke_agency_access(waiting, [agencies["nav"]])
    assert fetch(nils) == []
    assert not AccessLog.objects.filter(item__startswith="external-task:").exists()
    grant_agency_access(waiting, [agencies["nav"]])
    (task,) = fetch(nils)
    revoke_agency_access(waiting, [agencies["nav"]])
    assert complete(nils, task["id"], register_status="listed").status_code == 404
    waiting.refresh_from_db()
    assert "register_status" not in waiting.data
    assert Job.objects.get(delivery_key=task["id"]).status == JobStatus.RUNNING


def test_an_agency_whose_system_owes_the_case_a_task_is_not_withdrawn(client_for, db, users, agencies):
    """Withdrawn, NAV's system could neither fetch nor answer its external task (above), and
    the case would wait on it with nobody told: refused (409, in bokmål) while the task is
    waiting, fetched or failed with an incident; answered, it holds the agency no more."""
    case = waiting_on_nav_system(users, agencies, "housing")
    nils, bjorn = client_for("nils"), client_for("bjorn")

    def withdraw_nav():
        body = {"agency": agencies["nav"].pk, "reason": "NAV er ferdig i saken"}
        return bjorn.post(f"/api/v1/cases/{case.pk}/withdrawals/", body, format="json", HTTP_ACCEPT_LANGUAGE="nb")

    refused = withdraw_nav()  # waiting to be fetched
    assert refused.status_code == 409 and refused.json()["code"] == "participant.open_external_tasks"
    assert refused.json()["detail"] == (
        "Systemet til NAV Sarpsborg har fortsatt oppgaver å gjøre i saken. "
        "De må gjøres ferdig før etaten trekkes ut av saken"
    )
    (task,) = fetch(nils)
    assert withdraw_nav().status_code == 409  # fetched, not answered
    failure = {"workerId": "w1", "errorMessage": "register down", "retries": 0}
    assert nils.post(f"/api/v1/external-tasks/{task['id']}/failure/", failure, format="json").status_code == 204
    assert withdraw_nav().status_code == 409  # failed: the incident's retry hands it back to NAV
    incident = Incident.objects.get(job__delivery_key=task["id"])
    services.retry_incident(actor=users["ada"], incident_id=incident.pk)
    (task,) = fetch(nils)
    assert complete(nils, task["id"], register_status="listed").status_code == 204
    # Answered: what holds NAV now is its own user task, named as always.
    (check,) = open_tasks(case)
    assert check.agency_id == agencies["nav"].pk
    assert withdraw_nav().json()["code"] == "participant.open_tasks"


# An external task of NAV's lane that would send the value a health agency wrote: under its own
# name, under another name (``copied``), and a literal that carries no case data.
HEALTH_THEN_NAV = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:camunda="http://camunda.org/schema/1.0/bpmn"
  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="Defs_health_then_nav">
  <bpmn:process id="health_then_nav" name="health_then_nav" isExecutable="true">
    <bpmn:laneSet id="LaneSet_1">
      <bpmn:lane id="Lane_health" name="Helse">
        <bpmn:flowNodeRef>Start_1</bpmn:flowNodeRef><bpmn:flowNodeRef>Task_assess</bpmn:flowNodeRef></bpmn:lane>
      <bpmn:lane id="Lane_nav" name="NAV">
        <bpmn:flowNodeRef>Service_1</bpmn:flowNodeRef><bpmn:flowNodeRef>Task_decide</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>End_1</bpmn:flowNodeRef></bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="Start_1"><bpmn:outgoing>F1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="Task_assess" name="Assess"><bpmn:extensionElements><spiffworkflow:properties>
      <spiffworkflow:property name="formJsonSchemaFilename" value="assess.schema.json"/>
      </spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:incoming>F1</bpmn:incoming><bpmn:outgoing>F2</bpmn:outgoing></bpmn:userTask>
    <bpmn:serviceTask id="Service_1" name="Benefit check" camunda:type="external" camunda:topic="benefit-check">
      <bpmn:extensionElements>
        <camunda:inputOutput>
          <camunda:inputParameter name="diagnosis">${diagnosis}</camunda:inputParameter>
          <camunda:inputParameter name="copied">${diagnosis}</camunda:inputParameter>
          <camunda:inputParameter name="scheme">bostotte</camunda:inputParameter>
        </camunda:inputOutput>
      </bpmn:extensionElements>
      <bpmn:incoming>F2</bpmn:incoming><bpmn:outgoing>F3</bpmn:outgoing></bpmn:serviceTask>
    <bpmn:userTask id="Task_decide" name="Decide"><bpmn:extensionElements><spiffworkflow:properties>
      <spiffworkflow:property name="formJsonSchemaFilename" value="check.schema.json"/>
      </spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:incoming>F3</bpmn:incoming><bpmn:outgoing>F4</bpmn:outgoing></bpmn:userTask>
    <bpmn:endEvent id="End_1"><bpmn:incoming>F4</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="F1" sourceRef="Start_1" targetRef="Task_assess"/>
    <bpmn:sequenceFlow id="F2" sourceRef="Task_assess" targetRef="Service_1"/>
    <bpmn:sequenceFlow id="F3" sourceRef="Service_1" targetRef="Task_decide"/>
    <bpmn:sequenceFlow id="F4" sourceRef="Task_decide" targetRef="End_1"/>
  </bpmn:process>
</bpmn:definitions>"""
ASSESS_FORM = {
    "type": "object",
    "properties": {"diagnosis": {"type": "string", "title": "Diagnose", "x-category": "health"}},
    "required": ["diagnosis"],
    "additionalProperties": False,
}


def started_with_health(users, agencies, bpmn_xml: str, process_key: str, *, starter: str, other: str):
    """A case of ``bpmn_xml`` (its forms ``assess`` and ``check``) between the health service
    and the ``other`` agency kind, started by ``starter``."""
    deploy_definition(
        actor=None,
        bpmn_xml=bpmn_xml,
        forms={"assess.schema.json": ASSESS_FORM, "check.schema.json": FORMS["check.schema.json"]},
        check_permission=False,
    )
    return services.start_case(
        actor=users[starter],
        process_key=process_key,
        person=PERSON,
        participants={"health": agencies["health"].pk, other: agencies[other].pk},
    )


def assessed(users, case, diagnosis: str = "F20.0") -> None:
    """The health service's assessment of ``case`` done, finding ``diagnosis``."""
    (assess,) = open_tasks(case)
    services.complete_task(actor=users["helga"], task_id=assess.pk, data={"diagnosis": diagnosis})


def fetched_after_consent(client, users, agencies, consent_basis, *, case, agency: str, task: dict, topic: dict):
    """The external task fetched again by ``client`` once the person let ``agency`` see their
    health data and the lock of ``task`` (fetched before) ran out."""
    services.record_consent(
        actor=users["helga"],
        case=case,
        agency=agencies[agency],
        categories=["health"],
        purpose="Oppfølging",
        legal_basis=consent_basis,
    )
    Job.objects.filter(delivery_key=task["id"]).update(lease_until=datetime(2000, 1, 1, tzinfo=UTC))
    (again,) = fetch(client, topics=[topic])
    return again


def test_a_task_sends_the_agencys_system_only_what_the_agency_may_see(client_for, users, agencies, consent_basis):
    """Before, NAV's system fetched the health agency's diagnosis through an external task of
    NAV's lane (under its own name and copied under another), though the person gave no
    consent and NAV's own case page masks it; now those fields are withheld until the
    person consents, and then the export is logged as health."""
    case = started_with_health(users, agencies, HEALTH_THEN_NAV, "health_then_nav", starter="helga", other="nav")
    assessed(users, case)
    nils = client_for("nils")
    assert nils.get(f"/api/v1/cases/{case.pk}/").json()["data"]["health"]["visible"] is False
    topic = {"topicName": "benefit-check", "lockDuration": 1000}

    (task,) = fetch(nils, topics=[topic])
    assert task["variables"] == {"scheme": {"value": "bostotte"}}
    assert "F20.0" not in str(task)
    logged = AccessLog.objects.filter(item=f"external-task:{Job.objects.get(delivery_key=task['id']).pk}")
    assert "health" not in set(logged.values_list("category", flat=True))

    again = fetched_after_consent(nils, users, agencies, consent_basis, case=case, agency="nav", task=task, topic=topic)
    assert again["variables"] == {
        "diagnosis": {"value": "F20.0"},
        "copied": {"value": "F20.0"},
        "scheme": {"value": "bostotte"},
    }
    job = Job.objects.get(delivery_key=again["id"])
    logged = AccessLog.objects.filter(item=f"external-task:{job.pk}", category="health", user=users["nils"])
    assert logged.exists()


def test_a_task_fetched_under_the_person_s_consent_is_logged_on_that_consent(
    client_for, users, agencies, consent_basis
):
    """What leaves for an agency's system under the person's consent is logged on that consent
    (domain.md: every share names its legal basis or consent), as a read of the page is: the
    person's report says which consent let NAV's system have the diagnosis, and the rows name
    the consent, so that its withdrawal can be weighed against them. Before, the row said only
    "fetched for the external task Service_1", whatever ground let the diagnosis go."""
    case = started_with_health(users, agencies, HEALTH_THEN_NAV, "health_then_nav", starter="helga", other="nav")
    assessed(users, case)
    nils = client_for("nils")
    topic = {"topicName": "benefit-check", "lockDuration": 1000}
    (task,) = fetch(nils, topics=[topic])
    again = fetched_after_consent(nils, users, agencies, consent_basis, case=case, agency="nav", task=task, topic=topic)
    consent = Consent.objects.get(case=case)
    job = Job.objects.get(delivery_key=again["id"])
    (health,) = AccessLog.objects.filter(item=f"external-task:{job.pk}", category="health")
    assert (health.basis, health.consent_id, health.user) == (f"consent:{consent.pk}", consent.pk, users["nils"])
    # What no consent carried (the literal scheme, restricted) keeps the task as its basis.
    others = AccessLog.objects.filter(item=f"external-task:{job.pk}").exclude(category="health")
    assert {row.basis for row in others} == {"external-task:Service_1"}


def test_a_failure_with_retries_or_a_wait_out_of_bounds_is_refused_naming_the_field(client_for, waiting):
    """Retries past 1,000 or a wait past 30 days overflowed the job's counters and dates
    (a server error); now a 400 names the field, and the task stays the worker's."""
    nils = client_for("nils")
    (task,) = fetch(nils)
    url = f"/api/v1/external-tasks/{task['id']}/failure/"
    body = {"workerId": "w1", "errorMessage": "register down"}
    for field, value in (("retries", 10**12), ("retryTimeout", 10**18), ("retries", 1001)):
        answer = nils.post(url, {**body, field: value}, format="json")
        assert answer.status_code == 400, (field, answer.content)
        assert [error["field"] for error in answer.json()["errors"]] == [field]
    job = Job.objects.get(delivery_key=task["id"])
    assert (job.status, job.attempts) == (JobStatus.RUNNING, 0)
    at_the_bounds = {**body, "retries": 1000, "retryTimeout": 30 * 86400 * 1000}
    assert nils.post(url, at_the_bounds, format="json").status_code == 204


def test_a_workers_failure_reaches_the_process_admin_without_the_cases_values(client_for, waiting):
    """Before, the worker's errorMessage was stored and shown as written: the process admin
    (who sees no case data) read the case's value, the person's name and national id in the
    incident's job error (only the incident's own error was scrubbed, of the case data only)."""
    nils = client_for("nils")
    (task,) = fetch(nils)
    message = "applicant A-17 (Ola Nordmann, 17912099997) is not in the register"
    body = {"workerId": "w1", "errorMessage": message, "retries": 0}
    assert nils.post(f"/api/v1/external-tasks/{task['id']}/failure/", body, format="json").status_code == 204

    job = Job.objects.get(delivery_key=task["id"])
    incident = Incident.objects.get(job=job)
    answer = client_for("ada").get("/api/v1/incidents/").json()["results"]
    assert [row["id"] for row in answer] == [incident.pk]
    for text in (str(answer), job.last_error, incident.error):
        for value in ("A-17", "Ola Nordmann", "17912099997"):
            assert value not in text
    assert "is not in the register" in answer[0]["error"] and "is not in the register" in answer[0]["job"]["last_error"]


def test_a_field_named_like_a_function_is_withheld_too(client_for, users, agencies):
    """A form field named ``date`` hides the function of that name in an expression: before,
    ``${date}`` counted as reading no case data, and the health agency's value left for NAV's
    system without consent."""
    dated = {"date": {"type": "string", "title": "Dato", "x-category": "health"}}
    deploy_definition(
        actor=None,
        bpmn_xml=HEALTH_THEN_NAV.replace("${diagnosis}", "${date}").replace("health_then_nav", "dated_then_nav"),
        forms={
            "assess.schema.json": {**ASSESS_FORM, "properties": dated, "required": ["date"]},
            "check.schema.json": FORMS["check.schema.json"],
        },
        check_permission=False,
    )
    case = services.start_case(
        actor=users["helga"],
        process_key="dated_then_nav",
        person=PERSON,
        participants={"health": agencies["health"].pk, "nav": agencies["nav"].pk},
    )
    (assess,) = open_tasks(case)
    services.complete_task(actor=users["helga"], task_id=assess.pk, data={"date": "innlagt 2026-11-02"})
    (task,) = fetch(client_for("nils"), topics=[{"topicName": "benefit-check", "lockDuration": 1000}])
    assert task["variables"] == {"scheme": {"value": "bostotte"}}


def test_tasks_the_agency_lost_access_to_do_not_crowd_out_those_it_may_fetch(client_for, db, users, agencies):
    """A hundred and more tasks of cases the agency lost access to (a withdrawal, a grant
    revoked) came first in the due order and filled the fetch's hundred rows, which were then
    left out: NAV's system was answered nothing while a task of a case it works waited. The
    tasks it may not fetch are not selected at all; nothing of them leaves or is locked."""
    from permissions.grants import revoke_agency_access

    lost = waiting_on_nav_system(users, agencies)
    revoke_agency_access(lost, [agencies["nav"]])
    (template,) = Job.objects.filter(case=lost, kind=JobKind.EXTERNAL_TASK)
    earlier = template.due_at - timedelta(hours=1)  # due before the task NAV may fetch
    Job.objects.bulk_create(
        Job(kind=template.kind, due_at=earlier, payload=template.payload, instance_id=template.instance_id, case=lost)
        for _ in range(external_tasks.MAX_TASKS)
    )
    kept = waiting_on_nav_system(users, agencies)
    nils = client_for("nils")
    response = nils.post(FETCH, {"workerId": "w1", "maxTasks": 100, "topics": [TOPIC]}, format="json")
    assert response.status_code == 200, response.content
    (task,) = response.json()
    assert task["caseReference"] == kept.reference
    assert not Job.objects.filter(case=lost, status=JobStatus.RUNNING).exists()
    assert not AccessLog.objects.filter(case=lost, item__startswith="external-task:").exists()
