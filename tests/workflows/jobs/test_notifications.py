"""E-mail and webhook jobs: outside the transaction, signed, the job's random delivery key as
idempotency key,
exponential backoff, an incident after the last attempt, retry after recovery."""

import hashlib
import hmac
import json
import threading
import uuid
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core import mail
from rest_framework.test import APIClient

from tests.clock import Clock
from tests.ids import tid
from tests.request_ids import without_request_id
from tests.workflows.helpers import PERSON, open_tasks, start_prison_case
from workflows.jobs.worker import Worker
from workflows.models import Incident, Job, JobKind, JobStatus

pytestmark = pytest.mark.django_db


class Receiver:
    """A local webhook endpoint that fails ``failures`` times, then accepts."""

    def __init__(self, failures: int):
        self.failures = failures
        self.calls = []  # (job id, accepted, headers, body)
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                accepted = receiver.failures <= 0
                receiver.failures -= 1
                receiver.calls.append((self.headers["Idempotency-Key"], accepted, dict(self.headers), body))
                self.send_response(200 if accepted else 503)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/brobygger"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def accepted_ids(self):
        return [job_id for job_id, accepted, _, _ in self.calls if accepted]


@pytest.fixture
def receiver(settings):
    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.0/8"]  # the receiver runs on loopback
    receiver = Receiver(failures=3)
    yield receiver
    receiver.server.shutdown()


@pytest.fixture
def fast_backoff(settings):
    settings.BROBYGGER = {
        **settings.BROBYGGER,
        "JOB_MAX_ATTEMPTS": 3,
        "JOB_BACKOFF_BASE_SECONDS": 10,
        "JOB_BACKOFF_CAP_SECONDS": 15,
        "WEBHOOK_TIMEOUT_SECONDS": 5,
    }


def test_task_email_carries_only_the_reference_and_a_link(shipped, users, agencies):
    case = start_prison_case(users, agencies)
    Worker(name="w").run(once=True)
    (message,) = mail.outbox
    assert message.to == [agencies["prison"].notification_email]
    assert case.reference in message.subject
    (task,) = open_tasks(case)
    assert f"/tasks/{tid(task.pk)}/" in message.body
    for secret in (PERSON["name"], PERSON["national_id"], "Ola"):
        assert secret not in message.subject + message.body
    assert Job.objects.get(case=case, kind=JobKind.NOTIFICATION, payload__event="task_created").status == "done"
    # the "overdue" e-mail waits for the task's due date
    overdue = Job.objects.get(case=case, kind=JobKind.NOTIFICATION, payload__event="task_overdue")
    assert overdue.status == JobStatus.PENDING and overdue.due_at == task.due_at


def test_failing_webhook_backs_off_becomes_an_incident_and_retry_completes_it(
    shipped, users, agencies, receiver, fast_backoff, monkeypatch
):
    prison = agencies["prison"]
    prison.webhook_url, prison.webhook_secret = receiver.url, "s3cret"
    prison.save()
    clock = Clock(monkeypatch, datetime(2026, 9, 1, 8, tzinfo=UTC))
    case = start_prison_case(users, agencies)
    hook = Job.objects.get(case=case, kind=JobKind.WEBHOOK, payload__event="task_created")

    Worker(name="w").run(once=True)
    hook.refresh_from_db()
    assert hook.status == JobStatus.PENDING and hook.attempts == 1 and "503" in hook.last_error
    assert hook.due_at == clock.moment + timedelta(seconds=10)
    clock.advance(seconds=9)
    Worker(name="w").run(once=True)
    assert len(receiver.calls) == 1  # still backing off
    clock.advance(seconds=2)
    Worker(name="w").run(once=True)
    hook.refresh_from_db()
    assert hook.attempts == 2 and hook.due_at == clock.moment + timedelta(seconds=15)  # 20 s, capped at 15
    clock.advance(seconds=15)
    Worker(name="w").run(once=True)
    hook.refresh_from_db()
    assert hook.status == JobStatus.FAILED and hook.attempts == 3
    incident = Incident.objects.get(job=hook)
    assert incident.kind == "webhook-failed" and incident.attempts == 3
    # Folded (h-scrub5): the agency's incident, of no case nor element (its failures come from many).
    assert (incident.case_id, incident.element_id) == (None, "") and "503" in incident.error

    admin = APIClient()
    admin.force_authenticate(users["ada"])
    listed = admin.get("/api/v1/incidents/").json()["results"]
    shown = next(row for row in listed if row["id"] == incident.pk)
    assert shown["job"]["id"] == hook.pk and shown["job"]["kind"] == "webhook" and shown["attempts"] == 3

    # the endpoint is back (it failed three times): retry delivers it once
    answer = admin.post(f"/api/v1/incidents/{incident.pk}/retry/")
    assert answer.status_code == 200, answer.json()
    assert answer.json()["resolved_at"] is not None
    hook.refresh_from_db()
    assert hook.status == JobStatus.DONE and hook.attempts == 4
    again = admin.post(f"/api/v1/incidents/{incident.pk}/retry/")  # resolved: nothing is sent again
    assert (again.status_code, without_request_id(again)) == (
        409,
        {"detail": "the incident is already resolved", "errors": [], "code": "incident.resolved"},
    )
    clock.advance(days=1)
    Worker(name="w").run(once=True)  # nothing is sent again
    assert receiver.accepted_ids() == [str(hook.delivery_key)]
    assert [job_id for job_id, *_ in receiver.calls] == [str(hook.delivery_key)] * 4

    _, _, headers, body = receiver.calls[-1]
    expected = "sha256=" + hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
    assert headers["X-Brobygger-Signature"] == expected
    payload = json.loads(body)
    assert payload == {
        "id": str(hook.delivery_key),
        "event": "task_created",
        "case_reference": case.reference,
        "task_id": tid(open_tasks(case)[0].pk),  # its public id, as the API calls it
        "link": payload["link"],
    }
    assert PERSON["name"] not in body.decode() and PERSON["national_id"] not in body.decode()


def test_webhook_ids_are_random_and_count_nothing(shipped, users, agencies, receiver, monkeypatch):
    """The prison gets a webhook for each of two cases in a row. Their ids were the job ids,
    sequential over every job of the municipality: the difference told the prison how many
    timers, e-mails, messages and other agencies' webhooks came between. Now each is a
    random UUID of its own, kept by the job, so it still serves as the idempotency key."""
    receiver.failures = 0
    prison = agencies["prison"]
    prison.webhook_url, prison.webhook_secret = receiver.url, "s3cret"
    prison.save()
    first, second = start_prison_case(users, agencies), start_prison_case(users, agencies)
    Worker(name="w").run(once=True)
    hooks = [Job.objects.get(case=c, kind=JobKind.WEBHOOK, payload__event="task_created") for c in (first, second)]
    ids = sorted(json.loads(body)["id"] for *_, body in receiver.calls)
    assert ids == sorted(str(hook.delivery_key) for hook in hooks)
    assert sorted(key for key, *_ in receiver.calls) == ids  # the Idempotency-Key is the same id
    assert all(uuid.UUID(id_).version == 4 for id_ in ids)
    assert not {str(hook.pk) for hook in hooks} & set(ids)


def test_retry_while_still_failing_answers_conflict(shipped, users, agencies, fast_backoff, monkeypatch):
    receiver = Receiver(failures=100)
    try:
        prison = agencies["prison"]
        prison.webhook_url, prison.webhook_secret = receiver.url, "s3cret-of-the-prison-webhook-32chars"
        prison.save()
        clock = Clock(monkeypatch, datetime(2026, 9, 1, 8, tzinfo=UTC))
        case = start_prison_case(users, agencies)
        for _ in range(3):
            Worker(name="w").run(once=True)
            clock.advance(seconds=20)
        incident = Incident.objects.get(job__case=case, kind="webhook-failed")
        answer = APIClient()
        answer.force_authenticate(users["ada"])
        response = answer.post(f"/api/v1/incidents/{incident.pk}/retry/")
        assert response.status_code == 409
        incident.refresh_from_db()
        assert incident.resolved_at is None and incident.attempts == 4
        assert Incident.objects.filter(job__case=case).count() == 1
    finally:
        receiver.server.shutdown()
