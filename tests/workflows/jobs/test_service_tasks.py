"""Service tasks through the HTTP connector: the fields the task declares POSTed to a real
server on 127.0.0.1, signed like the webhooks; the JSON answer taken into the declared
fields; back-off, an incident, a retry; and a worker killed after the call."""

import hashlib
import hmac
import json
import socket
import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from uuid import UUID

import pytest
from django.urls import reverse

from bpmn.engine import definition
from bpmn.engine import runtime as engine
from bpmn.models import ProcessDefinition
from bpmn.registry import runtime_for
from bpmn.services import deploy_definition
from permissions.models import AccessAction, AccessLog
from tests.clients import api
from tests.clock import Clock
from tests.english import english_in
from tests.workflows.helpers import PERSON, open_tasks
from tests.workflows.service_models import FORMS, connector_model
from workflows import selectors, services
from workflows.jobs import queue, service
from workflows.jobs.worker import Worker
from workflows.models import Event, EventKind, Incident, Job, JobKind, JobStatus, ServiceConnector, Task

pytestmark = pytest.mark.django_db
SECRET = "connector-secret"


class Registry:
    """The agency's income register: answers ``answers`` in turn (status, body), then the last."""

    def __init__(self, answers):
        self.answers = list(answers)
        self.calls = []  # (idempotency key, signature, body)
        registry = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                registry.calls.append((self.headers["Idempotency-Key"], self.headers["X-Brobygger-Signature"], body))
                status, answer = registry.answers.pop(0) if len(registry.answers) > 1 else registry.answers[0]
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(json.dumps(answer).encode())

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/income"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


GOOD = (200, {"income": 41000, "income_source": "a-ordningen", "not_declared": "dropped"})


@pytest.fixture
def connector_setup(settings, agencies):
    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.0/8"]  # the register runs on loopback
    settings.BROBYGGER = {
        **settings.BROBYGGER,
        "JOB_MAX_ATTEMPTS": 3,
        "JOB_BACKOFF_BASE_SECONDS": 10,
        "JOB_BACKOFF_CAP_SECONDS": 15,
        "WEBHOOK_TIMEOUT_SECONDS": 5,
    }
    deploy_definition(actor=None, bpmn_xml=connector_model(), forms=FORMS, check_permission=False)

    def make(answers):
        registry = Registry(answers)
        ServiceConnector.objects.create(name="income-register", url=registry.url, secret=SECRET, agency=agencies["nav"])
        return registry

    yield make


def waiting_case(users, agencies):
    case = services.start_case(
        actor=users["nils"], process_key="income_check", person=PERSON, participants={"nav": agencies["nav"].pk}
    )
    (ask,) = open_tasks(case)
    services.complete_task(actor=users["nils"], task_id=ask.pk, data={"applicant_id": "A-17"})
    return case


def ready_task_data(case) -> dict:
    instance = case.instances.get()
    workflow = engine.load_workflow(runtime_for(instance.definition_id).bundle, instance.state)
    (ready,) = engine.ready_user_tasks(workflow)
    return workflow.get_task_from_id(UUID(ready.id)).data


def service_job(case):
    return Job.objects.get(case=case, kind=JobKind.SERVICE)


def test_the_declared_fields_are_posted_signed_and_the_answer_is_taken(connector_setup, users, agencies):
    registry = connector_setup([GOOD])
    case = waiting_case(users, agencies)
    job = service_job(case)
    assert job.status == JobStatus.PENDING and job.payload["element_id"] == "Service_1"

    Worker(name="w").run(once=True)

    (key, signature, body) = registry.calls[0]
    assert key == str(job.delivery_key) == json.loads(body)["id"]  # random, kept by the job
    assert signature == "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    sent = json.loads(body)
    assert sent["fields"] == {"applicant_id": "A-17", "year": 2026}  # what the task declares, nothing else
    assert sent["case_reference"] == case.reference and PERSON["national_id"] not in body.decode()
    (check,) = open_tasks(case)
    assert check.element_id == "Task_check"
    job.refresh_from_db()
    assert job.status == JobStatus.DONE
    event = Event.objects.get(case=case, kind=EventKind.SERVICE_CALLED)
    assert event.detail["taken"] == ["income", "income_source"] and "41000" not in json.dumps(event.detail)
    data = ready_task_data(case)
    assert data["income"] == 41000 and "not_declared" not in data
    case.refresh_from_db()
    assert case.data["income"] == 41000 and case.data_sources["income"] == agencies["nav"].pk


def test_failures_back_off_then_an_incident_then_a_retry_completes(connector_setup, users, agencies, monkeypatch):
    registry = connector_setup([(503, {}), (503, {}), (503, {}), GOOD])
    case = waiting_case(users, agencies)
    clock = Clock(monkeypatch, datetime.now(UTC))
    for _ in range(3):
        Worker(name="w").run(once=True)
        clock.advance(seconds=20)
    job = service_job(case)
    assert job.status == JobStatus.FAILED and job.attempts == 3 and "503" in job.last_error
    incident = Incident.objects.get(job=job)
    assert incident.kind == "service-failed" and incident.element_id == "Service_1"
    assert open_tasks(case) == []

    services.retry_incident(actor=users["ada"], incident_id=incident.pk)

    incident.refresh_from_db()
    assert incident.resolved_at is not None
    assert [t.element_id for t in open_tasks(case)] == ["Task_check"]
    assert len({key for key, _, _ in registry.calls}) == 1  # every attempt carried the job id


def test_an_answer_that_does_not_meet_the_form_is_a_failed_attempt(connector_setup, users, agencies):
    connector_setup([(200, {"income": "a lot"})])
    case = waiting_case(users, agencies)
    Worker(name="w").run(once=True)
    job = service_job(case)
    assert job.status == JobStatus.PENDING and job.attempts == 1
    assert "income" in job.last_error and "a lot" not in job.last_error
    assert open_tasks(case) == []


def test_no_connector_configured_is_a_failed_attempt_naming_it(connector_setup, users, agencies, settings):
    case = waiting_case(users, agencies)
    Worker(name="w").run(once=True)
    assert "income-register" in service_job(case).last_error


def test_a_killed_worker_the_lease_runs_out_the_task_completes_once(connector_setup, users, agencies, monkeypatch):
    registry = connector_setup([GOOD])
    case = waiting_case(users, agencies)
    clock = Clock(monkeypatch, datetime.now(UTC))
    (claimed_by_a,) = [job for job in queue.claim_external("worker-a") if job.kind == JobKind.SERVICE]
    service._call_connector(claimed_by_a)  # worker A makes the call, then is killed before recording it

    clock.advance(seconds=queue.conf("JOB_LEASE_SECONDS") + 1)
    (claimed_by_b,) = [job for job in queue.claim_external("worker-b") if job.kind == JobKind.SERVICE]
    assert claimed_by_b.pk == claimed_by_a.pk
    assert service.perform_claimed(claimed_by_b, "worker-b") is None
    # worker A comes back (a stalled process, not a dead one): its lease is gone
    assert service.run_http_job(claimed_by_a, "worker-a") is None

    assert Task.objects.filter(case=case, element_id="Task_check").count() == 1
    assert Event.objects.filter(case=case, kind=EventKind.SERVICE_CALLED).count() == 1
    assert {key for key, _, _ in registry.calls} == {str(claimed_by_a.delivery_key)}  # same Idempotency-Key each time
    assert service_job(case).status == JobStatus.DONE


def test_a_connector_on_an_internal_address_is_refused(connector_setup, users, agencies, settings):
    connector_setup([GOOD])
    settings.WEBHOOK_ALLOWED_NETWORKS = []
    case = waiting_case(users, agencies)
    Worker(name="w").run(once=True)
    assert "non-public" in service_job(case).last_error
    assert open_tasks(case) == []


# --- the access log: a connector call discloses case fields to the connector's agency --------


def coordinated_case(users, agencies):
    """A case the housing contact coordinates (so that a coordinator and an auditor read its
    access log), with its NAV task done: the service task waits for its call."""
    case = services.start_case(
        actor=users["bjorn"],
        process_key="income_check",
        person=PERSON,
        participants={"nav": agencies["nav"].pk, "housing": agencies["housing"].pk},
    )
    (ask,) = open_tasks(case)
    services.complete_task(actor=users["nils"], task_id=ask.pk, data={"applicant_id": "A-17"})
    return case


def connector_rows(case):
    return list(AccessLog.objects.filter(case=case, item__startswith="service-task:").order_by("category"))


def test_a_connector_call_is_logged_as_an_export_per_category_without_values(connector_setup, users, agencies, client):
    connector_setup([GOOD])
    case = coordinated_case(users, agencies)
    job = service_job(case)

    Worker(name="w").run(once=True)

    rows = connector_rows(case)
    # applicant_id is economy in the forms; year (a computed literal) no form declares: restricted
    assert [row.category for row in rows] == ["economy", "restricted"]
    for row in rows:
        assert row.user is None and row.username == "income-register" and row.role == "connector"
        assert row.agency == agencies["nav"] and row.person_id == case.person_id
        assert row.action == AccessAction.EXPORT
        assert row.basis == "service-task:income_check:Service_1" and row.item == f"service-task:{job.pk}"
        written = " ".join(str(value) for value in vars(row).values())
        assert "A-17" not in written and "2026" not in written.replace(str(row.at.year), "")
    # the auditor's view and the person's access report show it
    assert set(selectors.access_log_for_case(actor=users["aud"], case=case.pk)) >= set(rows)
    report = selectors.person_access_report(actor=users["bjorn"], case=case.pk)
    groups = selectors.access_groups_shown(users["bjorn"], report.entries, report.cases)
    shown = {(g.username, g.category, g.action, g.basis, g.reads) for g in groups}
    assert shown >= {(row.username, row.category, row.action, row.basis, 1) for row in rows}
    client.force_login(users["bjorn"])
    page = client.get(reverse("person-access-report", args=[case.pk]))
    assert page.status_code == 200
    text = page.content.decode()
    assert "income-register" in text and "etatens system" in text and "tjenesteoppgave Service_1" in text
    client.force_login(users["aud"])
    audit_page = client.get(reverse("person-access-report", args=[case.pk]))  # the auditor's way in
    assert audit_page.status_code == 200 and "income-register" in audit_page.content.decode()
    log = client.get(f"/api/v1/cases/{case.pk}/access-log/").json()
    entries = log["results"] if isinstance(log, dict) else log
    assert {(e["username"], e["category"], e["action"]) for e in entries} >= {
        ("income-register", "economy", "export"),
        ("income-register", "restricted", "export"),
    }


def test_each_call_that_reached_the_system_is_logged_even_when_it_failed(connector_setup, users, agencies, monkeypatch):
    connector_setup([(503, {}), GOOD])
    case = coordinated_case(users, agencies)
    clock = Clock(monkeypatch, datetime.now(UTC))
    Worker(name="w").run(once=True)
    assert service_job(case).attempts == 1
    assert len(connector_rows(case)) == 2  # the system received the fields, then answered 503
    clock.advance(seconds=20)
    Worker(name="w").run(once=True)
    assert service_job(case).status == JobStatus.DONE
    assert len(connector_rows(case)) == 4  # sent twice: logged twice


def test_a_call_that_sent_nothing_logs_nothing(connector_setup, users, agencies, settings):
    registry = connector_setup([GOOD])
    settings.WEBHOOK_ALLOWED_NETWORKS = []  # refused by the address guard: no connection
    case = coordinated_case(users, agencies)
    Worker(name="w").run(once=True)
    assert "non-public" in service_job(case).last_error and connector_rows(case) == []

    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    registry.server.shutdown()
    registry.server.server_close()  # nothing listens any more: the connection is refused
    job = service_job(case)
    job.due_at = queue.now()
    job.save(update_fields=["due_at"])
    Worker(name="w").run(once=True)
    job.refresh_from_db()
    assert job.attempts == 2 and "unreachable" in job.last_error
    assert connector_rows(case) == [] and registry.calls == []


def test_a_call_that_timed_out_after_sending_is_logged(connector_setup, users, agencies, settings):
    """The system took the request and never answered: it may hold the fields, so the attempt
    counts as a disclosure."""
    listener = socket.create_server(("127.0.0.1", 0))
    held = []
    threading.Thread(target=lambda: held.append(listener.accept()), daemon=True).start()
    ServiceConnector.objects.create(
        name="income-register",
        url=f"http://127.0.0.1:{listener.getsockname()[1]}/income",
        secret=SECRET,
        agency=agencies["nav"],
    )
    settings.BROBYGGER = {**settings.BROBYGGER, "WEBHOOK_TIMEOUT_SECONDS": 0.5}
    case = coordinated_case(users, agencies)
    try:
        Worker(name="w").run(once=True)
    finally:
        listener.close()
    assert "unreachable" in service_job(case).last_error
    assert [row.category for row in connector_rows(case)] == ["economy", "restricted"]


def health_then_nav_connector(users, agencies, *, connector_agency):
    """The health agency assesses (a diagnosis), then NAV's lane calls the connector
    ``benefit-register`` (of ``connector_agency``) with the diagnosis, a copy of it under
    another name, and a literal. Returns the case waiting for the call and the register."""
    from tests.api.test_external_tasks import ASSESS_FORM, HEALTH_THEN_NAV

    model = HEALTH_THEN_NAV.replace(' camunda:type="external" camunda:topic="benefit-check"', "")
    model = model.replace(
        "<camunda:inputOutput>",
        "<camunda:connector><camunda:connectorId>benefit-register</camunda:connectorId><camunda:inputOutput>",
    )
    model = model.replace("</camunda:inputOutput>", "</camunda:inputOutput></camunda:connector>")
    forms = {"assess.schema.json": ASSESS_FORM, "check.schema.json": FORMS["check.schema.json"]}
    deploy_definition(actor=None, bpmn_xml=model, forms=forms, check_permission=False)
    registry = Registry([(200, {})])
    ServiceConnector.objects.create(name="benefit-register", url=registry.url, secret=SECRET, agency=connector_agency)
    case = services.start_case(
        actor=users["helga"],
        process_key="health_then_nav",
        person=PERSON,
        participants={"health": agencies["health"].pk, "nav": agencies["nav"].pk},
    )
    (assess,) = open_tasks(case)
    services.complete_task(actor=users["helga"], task_id=assess.pk, data={"diagnosis": "F20.0"})
    return case, registry


def test_a_connector_sends_its_agencys_system_only_what_the_agency_may_see(settings, users, agencies):
    """Before, a model could send the health agency's diagnosis to NAV's register through a
    connector whose agency is NAV (under its own name or copied under another), with no
    consent; now those fields are withheld from the call, as for an external task."""
    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    case, registry = health_then_nav_connector(users, agencies, connector_agency=agencies["nav"])

    Worker(name="w").run(once=True)

    (_key, _signature, body) = registry.calls[0]
    assert json.loads(body)["fields"] == {"scheme": "bostotte"} and "F20.0" not in body.decode()
    assert [task.element_id for task in open_tasks(case)] == ["Task_decide"]


def test_a_connector_call_under_the_person_s_consent_is_logged_on_that_consent(
    settings, users, agencies, consent_basis
):
    """The diagnosis goes to NAV's register once the person consents: the call's health row
    names that consent (its basis and the row's consent), as a read of the page does, while
    the rows of what needed no consent keep the service task as their basis."""
    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    case, registry = health_then_nav_connector(users, agencies, connector_agency=agencies["nav"])
    consent = services.record_consent(
        actor=users["helga"],
        case=case,
        agency=agencies["nav"],
        categories=["health"],
        purpose="Ytelse",
        legal_basis=consent_basis,
    )

    Worker(name="w").run(once=True)

    (_key, _signature, body) = registry.calls[0]
    assert json.loads(body)["fields"]["diagnosis"] == "F20.0"
    rows = {row.category: row for row in connector_rows(case)}
    assert (rows["health"].basis, rows["health"].consent_id) == (f"consent:{consent.pk}", consent.pk)
    assert rows["health"].role == "connector" and rows["health"].username == "benefit-register"
    assert {row.basis for category, row in rows.items() if category != "health"} == {
        "service-task:health_then_nav:Service_1"
    }


# --- deny by default: the fields go only to the agency the task is routed to in the case ----


def unrouted(model: str) -> str:
    """The model with its service task taken out of every lane: nothing routes it."""
    assert "<bpmn:flowNodeRef>Service_1</bpmn:flowNodeRef>" in model
    return model.replace("<bpmn:flowNodeRef>Service_1</bpmn:flowNodeRef>", "")


@pytest.mark.parametrize("language", ["en", "nb"])
def test_a_connector_task_that_nothing_routes_is_refused_at_deploy_naming_it(users, language):
    """Before, such a model deployed, and its connector sent whatever the fields held to a
    system no lane of the case stood for: no agency's sharing rules or consents were asked."""
    body = {"bpmn_xml": unrouted(connector_model()), "forms": FORMS}
    answer = api(users["ada"]).post("/api/v1/process-definitions/", body, format="json", HTTP_ACCEPT_LANGUAGE=language)
    assert answer.status_code == 400
    (error,) = [error for error in answer.json()["errors"] if error["code"] == "unrouted-connector"]
    assert error["element_id"] == "Service_1" and error["line"] > 1
    if language == "nb":
        assert error["message"].startswith("tjenesteoppgaven «Service_1» sender saksopplysninger gjennom koblingen")
        assert english_in(error["message"]) == []
    else:
        assert error["message"].startswith("service task 'Service_1' sends case data through the connector")
    assert not ProcessDefinition.objects.filter(key="income_check").exists()


def test_a_connector_of_an_agency_outside_the_case_sends_nothing_and_opens_an_incident(settings, users, agencies):
    """Before, a connector whose agency does not take part in the case received what that
    agency would see if it did: the hospital's system got the health agency's diagnosis of
    a case it has no part in. Now the call is refused before a field is computed."""
    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    case, registry = health_then_nav_connector(users, agencies, connector_agency=agencies["hospital"])

    Worker(name="w").run(once=True)

    assert registry.calls == []
    job = Job.objects.get(case=case, kind=JobKind.SERVICE)
    assert (job.status, job.attempts) == (JobStatus.FAILED, 1)  # no retry makes it lawful: failed at once
    incident = Incident.objects.get(job=job)
    assert (incident.kind, incident.element_id, incident.resolved_at) == ("service-failed", "Service_1", None)
    assert "Service_1" in incident.error and "benefit-register" in incident.error and "F20.0" not in incident.error
    assert connector_rows(case) == [] and open_tasks(case) == []

    # the operator gives the connector the agency of the task's lane; the retry sends
    ServiceConnector.objects.filter(name="benefit-register").update(agency=agencies["nav"])
    services.retry_incident(actor=users["ada"], incident_id=incident.pk)
    (_key, _signature, body) = registry.calls[0]
    assert json.loads(body)["fields"] == {"scheme": "bostotte"}  # and still only what NAV may see
    assert [task.element_id for task in open_tasks(case)] == ["Task_decide"]


def test_a_deployed_connector_task_that_nothing_routes_sends_nothing_and_opens_an_incident(
    connector_setup, users, agencies, monkeypatch
):
    """A version deployed before such models were refused routes the task nowhere: at run
    time its call is refused too, naming the element, with no value in the error."""
    registry = connector_setup([GOOD])
    original = definition._service_tasks

    def as_before(*args):  # the deploy as it was: the unrouted connector task let through
        tasks, issues = original(*args)
        return tasks, [issue for issue in issues if issue.code != "unrouted-connector"]

    monkeypatch.setattr(definition, "_service_tasks", as_before)
    deploy_definition(actor=None, bpmn_xml=unrouted(connector_model()), forms=FORMS, check_permission=False)
    monkeypatch.undo()
    case = waiting_case(users, agencies)
    assert runtime_for(case.instances.get().definition_id).service_tasks["Service_1"]["agency_kind"] is None

    Worker(name="w").run(once=True)

    assert registry.calls == []
    job = service_job(case)
    assert (job.status, job.attempts) == (JobStatus.FAILED, 1)
    incident = Incident.objects.get(job=job)
    assert (incident.kind, incident.element_id) == ("service-failed", "Service_1")
    assert "routed to no agency" in incident.error and "A-17" not in incident.error
    assert connector_rows(case) == [] and open_tasks(case) == []
