"""Jobs whose work belongs to a unit above ``workflows`` (the erasure of ``retention``).

That unit registers a handler for its job kind in its ``AppConfig.ready``; the worker
runs due jobs of the registered kinds here, one at a time: the job row is claimed with
``SELECT ... FOR UPDATE SKIP LOCKED`` and the handler runs inside the transaction that
holds it, so a job is done exactly once however many workers run, and a worker killed
half-way rolls the handler's work back with the claim. A handler that raises rolls back
too; the attempt is counted and the job backs off like any other (``queue.record_outcome``).
What is recorded is the exception's ``job_error`` when it has one (a ``JobError``: its text
names no value), else only its class: its text may quote what the handler worked on.

Some work leaves the system before the attempt fails (an archive that may have taken a
package when its answer never came). What must stay recorded of it raises with
``kept_after_rollback``: a callable run after the rollback, in the transaction that counts
the failed attempt.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import transaction

from workflows.jobs import queue, reconnect
from workflows.jobs.errors import JobError
from workflows.models import Job, JobStatus

log = logging.getLogger(__name__)

_handlers: dict[str, Callable[[Job], None]] = {}
# Kinds run only when no job of another registered kind is due (``register(..., last=True)``).
_last: set[str] = set()


def register(kind: str, handler: Callable[[Job], None], *, last: bool = False) -> None:
    """Run ``handler(job)`` for due jobs of ``kind``, inside the job's transaction. ``last``:
    a kind anyone can queue (the password-reset mail, from a page open to everybody) runs
    only when no job of the case work's kinds (messages, erasures, archive exports) is due,
    so that a flood of it never holds them back."""
    _handlers[kind] = handler
    if last:
        _last.add(kind)
    else:
        _last.discard(kind)


def handles(kind: str) -> bool:
    return kind in _handlers


def kinds() -> list[str]:
    """The job kinds a handler is registered for."""
    return list(_handlers)


def run_one(worker: str, *, job_id=None, retry: queue.Retry | None = None) -> int:
    """Run one due job of a registered kind (or job ``job_id``). Returns 1 when one ran.
    ``retry``: an admin's retry of the job's incident, resolved in the job's transaction."""
    if not _handlers:
        return 0
    job = None
    try:
        with transaction.atomic():
            job = _claim(job_id)
            if job is None:
                return 0
            _handlers[job.kind](job)
            job.status, job.locked_by, job.finished_at = JobStatus.DONE, worker, queue.now()
            job.attempts += 1
            job.save(update_fields=["status", "locked_by", "finished_at", "attempts"])
            # A job that keeps trying may have its incident open (``queue.KEEP_TRYING``): the
            # attempt that passed resolves it. A first attempt has none.
            if retry is not None or (job.kind in queue.KEEP_TRYING and job.attempts > 1):
                queue.record_outcome_resolved(job, retry)
            return 1
    except Exception as exc:
        if job is None or reconnect.connection_lost(exc):
            raise
        log.exception("%s job %s failed", job.kind, job.pk)
        error = getattr(exc, "job_error", None)
        if not isinstance(error, JobError):
            error = JobError("job.failed", error_class=type(exc).__name__)
        kept = getattr(exc, "kept_after_rollback", None)
        with transaction.atomic():
            if kept is not None:
                kept()
            queue.record_failed_attempt(job.pk, error)
        return 1


def _claim(job_id) -> Job | None:
    """Job ``job_id``, or the earliest due job of the registered kinds, those registered
    ``last`` only when none of the others is due (each claim walks the ``job_due_open`` index)."""
    first = [kind for kind in _handlers if kind not in _last]
    groups = [first, sorted(_last)] if job_id is None else [list(_handlers)]
    for kinds in groups:
        if not kinds:
            continue
        candidates = Job.objects.select_for_update(skip_locked=True).filter(kind__in=kinds)
        if job_id is not None:
            candidates = candidates.filter(pk=job_id, status__in=[JobStatus.PENDING, JobStatus.FAILED])
        else:
            candidates = candidates.filter(status=JobStatus.PENDING, due_at__lte=queue.now())
        job = candidates.order_by("due_at", "id").first()
        if job is not None:
            return job
    return None
