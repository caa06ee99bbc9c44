"""Retrying an incident: the failed step (or job) runs again after its cause was fixed."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from bpmn.engine import runtime as engine
from bpmn.engine.errors import StepFailed
from core.errors import Conflict, NotFound
from core.ids import parse_id
from permissions import rules
from workflows import steps
from workflows.jobs.incidents import retry_job_incident
from workflows.models import EventKind, Incident


def retry_incident(*, actor, incident_id) -> Incident:
    """Run the failed step again (after the cause was fixed). Resolves it when it passes."""
    if not rules.can_retry_incident(actor):
        raise NotFound("incident.not_found")
    incident = Incident.objects.filter(pk=parse_id(incident_id)).first()
    if incident is None:
        raise NotFound("incident.not_found")
    if incident.job_id is not None:
        return retry_job_incident(incident, actor)
    failure = None
    with transaction.atomic():
        instance = steps.lock_instance(incident.instance_id)
        incident.refresh_from_db()
        if incident.resolved_at is not None:
            raise Conflict("incident.resolved")
        runtime, workflow = steps.load(instance)
        try:
            engine.rerun_errored_tasks(workflow)
        except StepFailed as exc:
            failure = str(exc)
        if failure is not None:
            # Nothing of the workflow is saved; only the attempt is counted.
            incident.attempts += 1
            incident.error = failure
            incident.save(update_fields=["attempts", "error"])
        else:
            step = steps.Step(instance, actor=actor)
            incident.resolved_at, incident.resolved_by = timezone.now(), actor
            step.batch.update(incident, ("resolved_at", "resolved_by"))
            step.event(EventKind.INCIDENT_RESOLVED, element_id=incident.element_id, detail={"incident": incident.pk})
            steps.advance(step, runtime, workflow)
    if failure is not None:
        raise Conflict("incident.failed_again", error=failure)
    return incident
