"""Finished jobs are deleted by the workers (``queue.prune_finished``, ``Worker.prune``):
done and cancelled jobs older than ``JOB_DONE_KEEP_DAYS`` go, in batches; recent ones,
unfinished ones and those an open (or lately resolved) incident names stay; failed ones go
as the others do once no open incident needs them. Without it the job table
and its indexes grew with every timer, e-mail and message ever run."""

import os
import subprocess
import sys
import threading
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from retention.models import ArchiveExport, ArchiveStatus
from tests.threads import all_at_once
from tests.workflows.helpers import start_prison_case
from workflows.jobs import queue, worker
from workflows.jobs.worker import Worker
from workflows.models import Incident, Job, JobKind, JobStatus


def _jobs(status, *, days_ago, count=1, **fields):
    finished = timezone.now() - timedelta(days=days_ago)
    fields = {"kind": JobKind.NOTIFICATION, **fields}
    return Job.objects.bulk_create(
        Job(
            status=status,
            due_at=finished,
            finished_at=None if status in (JobStatus.PENDING, JobStatus.RUNNING) else finished,
            payload={"task_id": 0, "event": "x"},
            **fields,
        )
        for _ in range(count)
    )


@pytest.mark.django_db
def test_the_worker_deletes_old_finished_jobs_and_keeps_the_recent_and_the_unfinished(
    shipped, users, agencies, settings
):
    settings.BROBYGGER = {**settings.BROBYGGER, "JOB_DONE_KEEP_DAYS": 7}
    case = start_prison_case(users, agencies)
    old_done = _jobs(JobStatus.DONE, days_ago=8, count=3)
    old_cancelled = _jobs(JobStatus.CANCELLED, days_ago=30)
    recent_done = _jobs(JobStatus.DONE, days_ago=6)
    recent_failed = _jobs(JobStatus.FAILED, days_ago=6)
    # Unfinished jobs created long ago: a reminder due in a month, a lease held.
    waiting = _jobs(JobStatus.PENDING, days_ago=-30) + _jobs(JobStatus.RUNNING, days_ago=30)
    # A job that failed, then passed on a retry: its (resolved) incident still shows it.
    (retried,) = _jobs(JobStatus.DONE, days_ago=30, case=case, instance=case.instances.first())
    resolved = timezone.now()
    Incident.objects.create(
        instance=retried.instance, case=case, job=retried, kind="notification-failed", error="x", resolved_at=resolved
    )
    # An archive export done long ago forgets its job (``on_delete=SET_NULL``), and is kept.
    (exported,) = _jobs(JobStatus.DONE, days_ago=30, kind=JobKind.ARCHIVE_EXPORT)
    export = ArchiveExport.objects.create(
        case=case, status=ArchiveStatus.DONE, requested_at=timezone.now(), done_at=timezone.now(), job=exported
    )

    Worker(name="w").run(once=True)

    kept = set(Job.objects.values_list("pk", flat=True))
    gone = {job.pk for job in [*old_done, *old_cancelled, exported]}
    assert not kept & gone
    assert {job.pk for job in [*recent_done, *recent_failed, *waiting, retried]} <= kept
    export.refresh_from_db()
    assert export.job_id is None and export.status == ArchiveStatus.DONE
    assert Incident.objects.get(job=retried).job_id == retried.pk


@pytest.mark.django_db
def test_a_failed_job_goes_once_no_open_incident_needs_it(shipped, users, agencies, settings):
    """A failed job was kept for ever: a password-reset mail that failed kept the typed
    address, and a notification's job stayed after its incident was settled. Now: kept while
    its incident is open (the retry runs it again) and for ``JOB_DONE_KEEP_DAYS`` after it was
    resolved; then deleted, and the resolved incident forgets it and keeps its own record."""
    settings.BROBYGGER = {**settings.BROBYGGER, "JOB_DONE_KEEP_DAYS": 7}
    case = start_prison_case(users, agencies)
    instance = case.instances.first()
    (no_incident,) = _jobs(JobStatus.FAILED, days_ago=30, kind=JobKind.PASSWORD_RESET)
    (recent,) = _jobs(JobStatus.FAILED, days_ago=3)
    still_open, settled_long_ago, settled_lately = (
        _jobs(JobStatus.FAILED, days_ago=30, case=case, instance=instance)[0] for _ in range(3)
    )
    incidents = {
        job.pk: Incident.objects.create(
            instance=instance, case=case, job=job, kind="notification-failed", error="x", resolved_at=resolved
        )
        for job, resolved in (
            (still_open, None),
            (settled_long_ago, timezone.now() - timedelta(days=20)),
            (settled_lately, timezone.now() - timedelta(days=2)),
        )
    }

    Worker(name="w").run(once=True)

    kept = set(Job.objects.values_list("pk", flat=True))
    assert kept >= {recent.pk, still_open.pk, settled_lately.pk}
    assert not kept & {no_incident.pk, settled_long_ago.pk}
    forgotten = Incident.objects.get(pk=incidents[settled_long_ago.pk].pk)
    assert forgotten.job_id is None and forgotten.resolved_at is not None and forgotten.error == "x"
    assert Incident.objects.get(pk=incidents[still_open.pk].pk).job_id == still_open.pk


@pytest.mark.django_db
def test_pruning_goes_in_batches_comes_back_while_there_is_more_then_waits(monkeypatch):
    monkeypatch.setattr(queue, "PRUNE_BATCH", 2)
    monkeypatch.setattr(worker, "PRUNE_BATCHES", 2)
    _jobs(JobStatus.DONE, days_ago=30, count=7)
    pruner = Worker(name="w")

    assert pruner.prune() is True  # two full batches, more left: the loop does not sleep on it
    assert Job.objects.count() == 3
    assert pruner.prune() is False  # a short batch: all gone
    assert Job.objects.count() == 0
    _jobs(JobStatus.DONE, days_ago=30)
    assert pruner.prune() is False  # not again before PRUNE_EVERY_SECONDS
    assert Job.objects.count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_pruning_at_once_never_wait_for_each_other_and_both_finish(monkeypatch):
    monkeypatch.setattr(queue, "PRUNE_BATCH", 50)
    old = _jobs(JobStatus.DONE, days_ago=30, count=240)
    recent = _jobs(JobStatus.DONE, days_ago=1, count=5)
    # Each holds the rows of its first batch until the other has taken one: the second had to
    # skip the first's locked rows (without SKIP LOCKED it waits, and the barrier breaks).
    both_hold_a_batch = threading.Barrier(2, timeout=20)

    def prune(name):
        with transaction.atomic():
            first = queue.prune_finished()
            both_hold_a_batch.wait()
        pruner = Worker(name=name)
        more = pruner.prune()
        while more:
            more = pruner.prune()
        return first

    first, second = all_at_once([lambda: prune("w1"), lambda: prune("w2")])
    assert (first, second) == (50, 50), (first, second)
    assert not Job.objects.filter(pk__in=[job.pk for job in old]).exists()
    assert Job.objects.filter(pk__in=[job.pk for job in recent]).count() == 5


@pytest.mark.parametrize(
    ("env", "refusal"),
    [
        ({"JOB_DONE_KEEP_DAYS": "0"}, "JOB_DONE_KEEP_DAYS must be a positive integer"),
        # The password-reset page counts the requests of its window from their jobs.
        (
            {"JOB_DONE_KEEP_DAYS": "1", "PASSWORD_RESET_WINDOW_MINUTES": str(2 * 24 * 60)},
            "JOB_DONE_KEEP_DAYS must cover PASSWORD_RESET_WINDOW_MINUTES",
        ),
    ],
)
def test_a_keep_period_that_would_prune_what_is_still_counted_stops_the_start(env, refusal):
    run = subprocess.run(
        [sys.executable, "-c", "import config.settings"],
        env={**os.environ, "SECRET_KEY": "x", "DEBUG": "false", **env},
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode != 0 and refusal in run.stderr
