"""Every password-reset mail the mail server refused opened an incident of its own (bounded by
three requests an hour per address and thirty per client, still thirty rows an hour for one
client, and a hundred for a mail server that is down). Until 2026-12-06 the admins read the
same failure again and again, the others buried under it. Now failures of one kind (the
job's kind and its error: the refusal's reply codes) fold into one open incident, counted,
with the last one's time; another kind of failure is an incident of its own, and once the
incident is retried (resolved), the next failure opens a new one. Two workers failing at
once open one."""

import smtplib
import threading

import pytest
from django.core.mail import EmailMultiAlternatives
from django.test import Client

from tests.clients import api
from tests.threads import all_at_once
from workflows.jobs import queue
from workflows.jobs.errors import JobError
from workflows.jobs.worker import Worker
from workflows.models import Incident, Job, JobKind, JobStatus

MAILBOX_UNKNOWN = (550, b"5.1.1 <{to}>: Recipient address rejected: user unknown")
MAILBOX_FULL = (552, b"5.2.2 <{to}>: mailbox full")


@pytest.fixture
def one_attempt(settings):
    settings.BROBYGGER = {**settings.BROBYGGER, "JOB_MAX_ATTEMPTS": 1}


def _refused(monkeypatch, reply):
    code, said = reply

    def refuse(self, *args, **kwargs):
        (to,) = self.to
        raise smtplib.SMTPRecipientsRefused({to: (code, said.replace(b"{to}", to.encode()))})

    monkeypatch.setattr(EmailMultiAlternatives, "send", refuse)


def _ask_and_fail(user) -> None:
    assert Client().post("/accounts/password_reset/", {"email": user.email}).status_code == 302
    Worker(name="w").run(once=True)


def _open_incidents():
    return list(Incident.objects.filter(resolved_at__isnull=True).order_by("pk"))


@pytest.mark.django_db
def test_refused_reset_mails_fold_into_one_counted_incident(users, one_attempt, monkeypatch):
    _refused(monkeypatch, MAILBOX_UNKNOWN)
    for username in ("nils", "nora", "nils"):
        _ask_and_fail(users[username])
    assert set(Job.objects.values_list("status", flat=True)) == {JobStatus.FAILED}
    (incident,) = _open_incidents()
    assert incident.occurrences == 3 and incident.last_occurred_at > incident.created_at
    assert incident.job == Job.objects.order_by("pk").last()  # the latest, whose retry resolves it
    answer = api(users["ada"]).get("/api/v1/incidents/", {"resolved": "false"})
    (row,) = answer.json()["results"]
    assert (row["occurrences"], row["kind"]) == (3, "password_reset-failed")
    assert row["last_occurred_at"] > row["created_at"]
    assert "550 5.1.1" in row["error"]
    for user in (users["nils"], users["nora"]):
        assert user.email not in str(row) and user.email.split("@")[0] not in str(row)


@pytest.mark.django_db
def test_another_kind_of_failure_and_a_failure_after_the_retry_open_their_own(users, one_attempt, monkeypatch):
    _refused(monkeypatch, MAILBOX_UNKNOWN)
    _ask_and_fail(users["nils"])
    _refused(monkeypatch, MAILBOX_FULL)
    _ask_and_fail(users["nora"])
    _ask_and_fail(users["nils"])
    unknown, full = _open_incidents()
    assert (unknown.occurrences, full.occurrences) == (1, 2)
    assert "552 5.2.2" in full.error and "550 5.1.1" in unknown.error
    assert api(users["ada"]).post(f"/api/v1/incidents/{full.pk}/retry/").status_code == 200
    _ask_and_fail(users["nora"])
    assert [incident.occurrences for incident in _open_incidents()] == [1, 1]
    assert Incident.objects.get(pk=full.pk).resolved_at is not None


@pytest.mark.postgres  # two connections at once, settled by row locks and a unique index: SQLite has neither
@pytest.mark.django_db(transaction=True)
def test_two_workers_failing_at_once_open_one_incident(cast, monkeypatch):
    jobs = [
        Job.objects.create(
            kind=JobKind.PASSWORD_RESET,
            due_at=queue.now(),
            max_attempts=1,
            status=JobStatus.RUNNING,
            payload={"address": f"digest-{index}", "client": "digest-c"},
        )
        for index in range(2)
    ]
    # Both look for the open incident before either has opened it (the race the unique index
    # settles): each thread's first look waits for the other's.
    looked = threading.Barrier(2, timeout=30)
    first = threading.local()
    real = getattr(queue, "_open_folded", None)

    def look_then_meet(key):
        found = real(key)
        if not getattr(first, "done", False):
            first.done = True
            looked.wait()
        return found

    monkeypatch.setattr(queue, "_open_folded", look_then_meet, raising=False)
    error = JobError("job.failed", error_class="SMTPServerDisconnected")
    outcomes = all_at_once([lambda job=job: queue.record_failed_attempt(job.pk, error) for job in jobs])
    assert outcomes == [None, None]
    (incident,) = Incident.objects.all()
    assert incident.occurrences == 2
