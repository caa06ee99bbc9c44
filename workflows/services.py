"""One function per use case, shared by the web UI, the API and the commands.

Starting a case lives in ``case_start``, working a task in ``task_services``, messages
in ``messages``, timers in ``timer_jobs``; retrying an incident is here. Each state
change is one transaction: lock the instance row, re-check under the lock, act, advance
the engine, save, sync the task projection, append events.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from bpmn.engine import runtime as engine
from permissions import rules

from . import steps
from .case_start import start_case
from .errors import Conflict, NotFound
from .ids import parse_id
from .messages import correlate_message
from .models import Event, EventKind, Incident, InstanceStatus, ProcessInstance
from .task_services import claim_task, complete_task, unclaim_task
from .timer_jobs import fire_timer

# --- incidents -------------------------------------------------------------------------


def retry_incident(*, actor, incident_id) -> Incident:
    """Run the failed step again (after the cause was fixed). Resolves it when it passes."""
    if not rules.can_retry_incident(actor):
        raise NotFound("no such incident")
    incident = Incident.objects.filter(pk=parse_id(incident_id)).first()
    if incident is None:
        raise NotFound("no such incident")
    if incident.job_id is not None:
        from .job_incidents import retry_job_incident

        return retry_job_incident(incident, actor)
    failure = None
    with transaction.atomic():
        instance = ProcessInstance.objects.select_for_update().get(pk=incident.instance_id)
        incident.refresh_from_db()
        if incident.resolved_at is not None:
            raise Conflict("the incident is already resolved")
        runtime, workflow = steps.load(instance)
        try:
            engine.rerun_errored_tasks(workflow)
        except Exception as exc:
            failure = steps.error_text(exc)
        if failure is not None:
            # Nothing of the workflow is saved; only the attempt is counted.
            incident.attempts += 1
            incident.error = failure
            incident.save(update_fields=["attempts", "error"])
        else:
            outcome = steps.advance_and_save(instance, runtime, workflow, actor=actor)
            incident.resolved_at, incident.resolved_by = timezone.now(), actor
            incident.save(update_fields=["resolved_at", "resolved_by"])
            Event.objects.create(
                case_id=instance.case_id, instance=instance, kind=EventKind.INCIDENT_RESOLVED,
                actor=actor, element_id=incident.element_id, detail={"incident": incident.pk},
            )
            if outcome.incident is None and instance.status == InstanceStatus.INCIDENT:
                instance.status = InstanceStatus.RUNNING
                instance.save(update_fields=["status"])
    if failure is not None:
        raise Conflict(f"the step failed again: {failure}")
    return incident


__all__ = [
    "claim_task", "complete_task", "correlate_message", "fire_timer", "retry_incident", "start_case",
    "unclaim_task",
]
