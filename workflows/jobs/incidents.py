"""Retrying the incident of a failed job (a notification, a webhook, a service call, a timer)."""

from __future__ import annotations

from bpmn.engine import scrub
from core.errors import Conflict
from workflows import selectors
from workflows.jobs import handlers, queue, service, timers
from workflows.models import Event, EventKind, Incident, JobKind, JobStatus


def retry_job_incident(incident: Incident, actor) -> Incident:
    """Run the failed job once more, now. Resolves the incident when it passes; Conflict
    (and one more attempt counted on the incident) when it fails again."""
    if incident.resolved_at is not None:
        raise Conflict("incident.resolved")
    error = _run_again(incident, actor)
    incident.refresh_from_db()
    if error is not None:  # the job's error may quote what it carried (a worker's failure)
        raise Conflict("incident.job_failed_again", error=scrub.scrub(error, selectors.case_literals(incident.case)))
    if incident.resolved_by_id is None:
        incident.resolved_by = actor
        incident.save(update_fields=["resolved_by"])
    Event.objects.create(
        case_id=incident.case_id,
        instance_id=incident.instance_id,
        kind=EventKind.INCIDENT_RESOLVED,
        actor=actor,
        element_id=incident.element_id,
        detail={"incident": incident.pk, "job": incident.job_id},
    )
    return incident


def _run_again(incident, actor) -> str | None:
    worker = f"retry:{actor.get_username() if actor else 'system'}"
    job = incident.job
    if job.kind == JobKind.TIMER:
        outcome, _ = timers.fire_timer(worker, job_id=job.pk)
        job.refresh_from_db()
        if outcome == timers.FIRED:
            queue.record_outcome_resolved(job)
            return None
        return job.last_error or "the timer could not be fired now (its instance is busy); try again"
    if job.kind == JobKind.EXTERNAL_TASK:
        return queue.release_external_task(job)
    if handlers.handles(job.kind):
        handlers.run_one(worker, job_id=job.pk)
        job.refresh_from_db()
        if job.status == JobStatus.DONE:
            queue.record_outcome_resolved(job)
            return None
        return job.last_error or "the job could not run now; try again"
    claimed = queue.claim_external(worker, job_id=job.pk)
    if not claimed:
        return "the job is not failed any more (it was retried or is running)"
    return service.perform_claimed(claimed[0], worker)
