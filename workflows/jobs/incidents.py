"""Retrying the incident of a failed job (a notification, a webhook, a service call, a timer)."""

from __future__ import annotations

from bpmn.engine import scrub
from core.errors import Conflict
from workflows import selectors
from workflows.jobs import handlers, queue, service, timers
from workflows.jobs.errors import JobError, stored
from workflows.models import Incident, JobKind, JobStatus


def retry_job_incident(incident: Incident, actor) -> Incident:
    """Run the failed job once more, now. Resolves the incident when it passes; Conflict
    (and one more attempt counted on the incident) when it fails again."""
    if incident.resolved_at is not None:
        raise Conflict("incident.resolved")
    error = _run_again(incident, actor)
    incident.refresh_from_db()
    if error is not None and incident.resolved_at is not None:
        # Not run (no longer failed, or held): another admin's retry at the same moment ran
        # it and resolved the incident.
        raise Conflict("incident.resolved")
    if error is not None:  # the job's error may quote what it carried (a worker's failure)
        literals = selectors.case_literals_ever(incident.case)
        if isinstance(error, JobError):  # ours: said in the reader's language, its params scrubbed
            raise Conflict(
                "incident.job_failed_again", error=error.message.map_text(lambda text: scrub.scrub(text, literals))
            )
        raise Conflict("incident.job_failed_again", error=scrub.scrub(error, literals))
    # Resolved, with who resolved it and the timeline's event, in the job's transaction
    # (``queue.record_outcome_resolved``).
    return incident


def _run_again(incident, actor) -> str | None:
    """None when the job ran and passed; else why not (a ``JobError``, or the text another
    system gave)."""
    worker = f"retry:{actor.get_username() if actor else 'system'}"
    retry = queue.Retry(actor)
    job = incident.job
    if job.kind == JobKind.TIMER:
        outcome, _ = timers.fire_timer(worker, job_id=job.pk, retry=retry)
        job.refresh_from_db()
        if outcome == timers.FIRED:
            return None
        if outcome == timers.SKIPPED:  # its instance is locked by a step: not run at all
            return JobError("job.retry.instance_busy")
        if outcome == timers.NONE:
            return JobError("job.retry.not_failed")
        return _last_error(job) or JobError("job.retry.instance_busy")
    if job.kind == JobKind.EXTERNAL_TASK:
        return queue.release_external_task(job, retry)
    if handlers.handles(job.kind):
        ran = handlers.run_one(worker, job_id=job.pk, retry=retry)
        job.refresh_from_db()
        if job.status == JobStatus.DONE:
            if ran:
                return None  # by this retry, which resolved the incident with the run
            # Done by another admin's retry at the same moment, which resolved it with its
            # run; or (before the resolution moved into the job's transaction) by one that
            # died before resolving it: then this retry resolves it.
            if not queue.record_outcome_resolved(job, retry):
                raise Conflict("incident.resolved")
            return None
        if not ran:  # another worker holds the job's row (or it is no longer failed)
            return JobError("job.retry.not_run")
        return _last_error(job) or JobError("job.retry.not_run")
    claimed = queue.claim_external(worker, job_id=job.pk)
    if not claimed:
        return JobError("job.retry.not_failed")
    return service.perform_claimed(claimed[0], worker, retry)


def _last_error(job) -> str:
    return stored(job.last_error, job.last_error_message) if job.last_error else ""
