"""The batched claim of e-mails and webhooks (``queue.claim_external``: one ``UPDATE ...
RETURNING`` over a ``SKIP LOCKED`` subquery, up to ten at once): two workers claiming at the
same moment never hold the same job, a killed worker's jobs come back once its lease runs
out and its late outcome is refused, and a mail server that never answers cannot hold a
worker past its lease (the lease is what keeps a second worker from sending the same e-mail)."""

import socket
import threading
import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.mail import get_connection

from tests.threads import all_at_once
from tests.workflows.helpers import start_prison_case
from workflows.jobs import notify, queue, service
from workflows.models import Job, JobKind, JobStatus

JOBS = 60


def _due_notifications(count):
    """E-mails whose task is gone: performing one is quick and sends nothing."""
    return Job.objects.bulk_create(
        Job(kind=JobKind.NOTIFICATION, due_at=queue.now(), max_attempts=5, payload={"task_id": 0, "event": "x"})
        for _ in range(count)
    )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_claiming_at_once_never_hold_the_same_job():
    jobs = _due_notifications(JOBS)
    # Each worker holds its first batch until the other has claimed one: both hold leases at
    # once, so the second claim had to skip the first's rows (and on a busy machine one
    # thread cannot finish all 60 before the other starts, which made this test flaky).
    both_hold_a_batch = threading.Barrier(2, timeout=30)

    def work(name):
        claimed = []
        while batch := queue.claim_external(name, limit=10):
            if not claimed:
                both_hold_a_batch.wait()
            claimed += [job.pk for job in batch]
            service.perform_claimed_batch(batch, name)
        return claimed

    first, second = all_at_once([lambda: work("w1"), lambda: work("w2")])
    assert not isinstance(first, Exception) and not isinstance(second, Exception), (first, second)
    assert not set(first) & set(second)
    assert sorted(first + second) == sorted(job.pk for job in jobs)  # each once
    assert first and second
    done = Job.objects.filter(pk__in=[job.pk for job in jobs])
    assert {(job.status, job.attempts, job.locked_by) for job in done} == {(JobStatus.DONE, 1, "")}


@pytest.mark.django_db
def test_a_killed_workers_jobs_come_back_after_the_lease_and_its_late_outcome_is_refused(monkeypatch):
    jobs = _due_notifications(3)
    held = queue.claim_external("killed", limit=10)
    assert {job.pk for job in held} == {job.pk for job in jobs}
    assert queue.claim_external("other", limit=10) == []  # leased: nobody else takes them
    later = queue.now() + timedelta(seconds=settings.BROBYGGER["JOB_LEASE_SECONDS"] + 1)
    monkeypatch.setattr(queue, "now", lambda: later)
    taken = queue.claim_external("other", limit=10)
    assert {job.pk for job in taken} == {job.pk for job in jobs}
    assert {job.attempts for job in taken} == {2}
    # The killed worker comes back to life: its outcomes and its give-back change nothing.
    assert queue.finish_first_attempts_done(held, "killed") == 0
    assert queue.release_claimed(held, "killed") == 0
    assert queue.finish_external(held[0], "killed", "late error") is None
    assert set(Job.objects.values_list("status", "locked_by")) == {(JobStatus.RUNNING, "other")}
    service.perform_claimed_batch(taken, "other")
    assert set(Job.objects.values_list("status", "locked_by")) == {(JobStatus.DONE, "")}


@pytest.mark.django_db
def test_a_mail_server_that_never_answers_fails_the_call_before_the_lease_runs_out(shipped, users, agencies, settings):
    """A server that accepts the connection and says nothing: without a timeout the worker
    waited for ever (no timer fired on it again), and once its lease ran out another worker
    sent the same e-mail. The call must end within the time a batch gives each call."""
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen()
    accepted = []
    threading.Thread(target=lambda: accepted.append(silent.accept()), daemon=True).start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", silent.getsockname()[1]
    # Configured, and within what a batch allows each call (``service.perform_claimed_batch``).
    assert get_connection().timeout is not None
    assert 2 * get_connection().timeout < settings.BROBYGGER["JOB_LEASE_SECONDS"]
    settings.EMAIL_TIMEOUT = 2  # quicker here
    allowed = 2 * settings.EMAIL_TIMEOUT
    case = start_prison_case(users, agencies)
    job = Job.objects.get(case=case, kind=JobKind.NOTIFICATION, payload__event="task_created")
    tasks = notify.tasks_of([job])  # read here: the sending thread has its own connection
    outcome = {}
    sender = threading.Thread(target=lambda: outcome.setdefault("error", notify.perform(job, tasks)), daemon=True)
    started = time.monotonic()
    sender.start()
    sender.join(timeout=allowed + 5)
    try:
        assert not sender.is_alive(), "the e-mail call still waits for the server"
        assert time.monotonic() - started <= allowed + 1
        assert outcome["error"] and "timed out" in outcome["error"].lower()
    finally:
        silent.close()
        for connection, _address in accepted:
            connection.close()
