"""Firing timer jobs: exactly once, inside the transaction that holds the instance lock.

The job row and the instance row are locked in one transaction; the engine step (refresh
timers, advance, save, project, events) and the job's ``done`` commit together. A worker
killed half-way rolls all of it back and another worker fires the timer again. The
worker never waits for a lock while holding one (``SKIP LOCKED`` on both rows), so it
cannot deadlock with a request that holds the instance and updates the timer job.
"""

from __future__ import annotations

import logging

from django.db import transaction

from core import hooks
from workflows import steps
from workflows.jobs import queue, reconnect
from workflows.jobs.errors import JobError
from workflows.models import InstanceStatus, Job, JobKind, JobStatus
from workflows.steps.runner import engine_detail

log = logging.getLogger(__name__)

NONE, FIRED, SKIPPED, FAILED = "none", "fired", "skipped", "failed"


def fire_timer(worker: str, *, exclude=(), job_id=None, retry: queue.Retry | None = None) -> tuple[str, int | None]:
    """Fire the earliest due timer job (or job ``job_id``). Returns (outcome, job id).
    ``retry``: an admin's retry of its incident, resolved with the firing."""
    job = None
    try:
        with transaction.atomic():
            job = _claim(job_id, exclude)
            if job is None:
                return NONE, None
            instance = steps.locked_instances(skip_locked=True).filter(pk=job.instance_id).first()
            if instance is None:
                # Someone works on this instance right now; its step re-syncs the timer job.
                return SKIPPED, job.pk
            job.status, job.locked_by, job.finished_at = JobStatus.DONE, worker, queue.now()
            job.attempts += 1
            job.save(update_fields=["status", "locked_by", "finished_at", "attempts"])
            if instance.status in (InstanceStatus.RUNNING, InstanceStatus.INCIDENT):
                # The job is done: no pending timer job is left, whatever the next due time.
                instance.next_timer_at = None
                steps.run_step(steps.Step(instance), lambda workflow: None)
            if retry is not None:
                queue.record_outcome_resolved(job, retry)
            lag = (job.finished_at - job.due_at).total_seconds()
            transaction.on_commit(lambda: hooks.emit(hooks.TIMER_FIRED, lag_seconds=lag))
            return FIRED, job.pk
    except Exception as exc:  # the step rolled back: count the attempt, back off
        if job is None or reconnect.connection_lost(exc):
            raise  # a lost connection rolled the step back: the job is still pending, no attempt counted
        log.exception("timer job %s failed", job.pk)
        queue.record_failed_attempt(job.pk, JobError("job.timer.step_failed", detail=engine_detail(exc)))
        return FAILED, job.pk


def _claim(job_id, exclude) -> Job | None:
    candidates = Job.objects.select_for_update(skip_locked=True).filter(kind=JobKind.TIMER)
    if job_id is not None:
        candidates = candidates.filter(pk=job_id, status__in=[JobStatus.PENDING, JobStatus.FAILED])
    else:
        candidates = candidates.filter(status=JobStatus.PENDING, due_at__lte=queue.now())
        if exclude:
            candidates = candidates.exclude(pk__in=list(exclude))
    return candidates.order_by("due_at", "id").first()
