"""An erasure on request meeting the retention job's own erasure of the same case, whose
earlier attempt failed.

A job runner holds its job row and then waits for the case's work (the instances, then the
case). The erasure held the case's work and then cleared the error texts of the case's jobs,
that job's row among them: each waited for the other, PostgreSQL failed one, and the request
answered 500 (or the worker counted a failed attempt). The interleaving is forced: the
request holds the case's work until the worker has claimed its job and waits (or, when the
request holds the job too, finds nothing to claim)."""

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from retention import erasure
from retention.models import ErasureRecord, ErasureTrigger
from tests.threads import all_at_once
from tests.workflows.test_lock_order import _backend_pid
from workflows.jobs import handlers
from workflows.models import Job, JobKind, JobStatus

from .test_erasure_concurrency import closed_long_ago

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def blocked_or_done(pids: dict, done: threading.Event, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not done.is_set():
        pid = pids.get("worker")
        if pid is not None:
            with connection.cursor() as cursor:
                cursor.execute("SELECT count(*) FROM pg_locks WHERE pid = %s AND NOT granted", [pid])
                if cursor.fetchone()[0]:
                    return
        time.sleep(0.02)
    assert done.is_set(), "the worker neither waited nor finished"


def test_an_erasure_on_request_meeting_the_retention_job_of_the_case_erases_it_once(
    shipped, users, agencies, monkeypatch
):
    (case,) = closed_long_ago(users, agencies, 1)
    job = Job.objects.create(
        kind=JobKind.ERASURE,
        case=case,
        due_at=timezone.now() - timedelta(minutes=1),
        attempts=1,
        last_error="an earlier attempt failed",
    )
    holding, worker_done = threading.Event(), threading.Event()
    pids: dict = {}
    scrub = erasure._scrub_case

    def hold_then_scrub(locked_case):
        if not holding.is_set():  # the request's erasure: it holds the case's work now
            holding.set()
            blocked_or_done(pids, worker_done)
        return scrub(locked_case)

    monkeypatch.setattr(erasure, "_scrub_case", hold_then_scrub)

    def request():
        return erasure.erase_case(case.pk, trigger=ErasureTrigger.REQUEST, reason="the person asked")

    def worker():
        assert holding.wait(timeout=30)
        pids["worker"] = _backend_pid()
        try:
            return handlers.run_one("w1", job_id=job.pk)
        finally:
            worker_done.set()

    record, ran = all_at_once([request, worker])

    assert isinstance(record, ErasureRecord) and record.trigger == ErasureTrigger.REQUEST, record
    assert ran in (0, 1), ran
    job.refresh_from_db()
    # The job either waited and then found the case erased (done), or was held and left
    # for its next turn: nothing failed either way.
    assert job.attempts == 1 + ran and job.status == (JobStatus.DONE if ran else JobStatus.PENDING)
    assert job.last_error == ""
    assert ErasureRecord.objects.filter(case=case).count() == 1
    if not ran:
        assert handlers.run_one("w1") == 1
        job.refresh_from_db()
        assert job.status == JobStatus.DONE and ErasureRecord.objects.filter(case=case).count() == 1
