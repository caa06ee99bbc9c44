"""Incidents: retrying the failed step (or job) after its cause was fixed, and setting the
data a failed task needs first.

A multi-instance task whose input collection is missing, a task whose data output or data
object is not in its data: the task waits in ERROR and an incident names it. The process
admin gives the missing values (``POST /api/v1/incidents/{id}/data/``), then retries. The
timeline records who set which fields, never the values: process admins write into a case
they may not read.
"""

from __future__ import annotations

import json

from django.db import transaction
from django.utils import timezone

from bpmn.engine import runtime as engine
from bpmn.engine.errors import TaskFailed
from core.errors import Conflict, InvalidInput, NotFound, field_error
from core.ids import lookup_id
from permissions import rules
from workflows import steps
from workflows.jobs.incidents import retry_job_incident
from workflows.models import EventKind, Incident


def retry_incident(*, actor, incident_id) -> Incident:
    """Run the failed step again (after the cause was fixed). Resolves it when it passes."""
    if not rules.can_retry_incident(actor):
        raise NotFound("incident.not_found")
    incident = Incident.objects.filter(pk=lookup_id(incident_id)).first()
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
        except TaskFailed as exc:
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


MAX_DATA_FIELDS = 50


def set_incident_data(*, actor, incident_id, data) -> Incident:
    """Merge ``data`` into the data of the task the incident names (it waits in ERROR)."""
    if not rules.can_retry_incident(actor):
        raise NotFound("incident.not_found")
    incident = Incident.objects.filter(pk=lookup_id(incident_id)).first()
    if incident is None:
        raise NotFound("incident.not_found")
    _check_incident_data(data)
    with transaction.atomic():
        instance = steps.lock_instance(incident.instance_id)
        incident.refresh_from_db()
        if incident.resolved_at is not None:
            raise Conflict("incident.resolved")
        if incident.job_id is not None or not incident.element_id:
            raise Conflict("incident.not_about_data")
        _runtime, workflow = steps.load(instance)
        if not engine.set_errored_task_data(workflow, incident.element_id, data):
            raise Conflict("incident.nothing_waits", element=incident.element_id)
        instance.state = engine.dump_workflow(workflow)
        instance.version += 1
        step = steps.Step(instance, actor=actor)
        step.batch.update(instance, ("state", "version", "updated_at"))
        step.event(
            EventKind.INCIDENT_DATA_SET,
            element_id=incident.element_id,
            detail={"incident": incident.pk, "fields": sorted(data)},
        )
        step.write()
    return incident


def _check_incident_data(data) -> None:
    if not isinstance(data, dict) or not data:
        raise InvalidInput("incident.data_invalid", errors=[field_error("data", "field.expected_nonempty_object")])
    errors = [
        field_error(f"data.{name}", "field.identifier")
        for name in data
        if not (isinstance(name, str) and name.isidentifier() and not name.startswith("_"))
    ]
    if len(data) > MAX_DATA_FIELDS:
        errors.append(field_error("data", "field.too_many_fields", limit=MAX_DATA_FIELDS))
    try:
        json.dumps(data)
    except (TypeError, ValueError):
        errors.append(field_error("data", "field.expected_json"))
    if errors:
        raise InvalidInput("incident.data_invalid", errors=errors)
