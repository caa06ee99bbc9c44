"""Setting the data a failed task needs, so that its incident can be retried (issue 14).

A multi-instance task whose input collection is missing, a task whose data output or
data object is not in its data: the task waits in ERROR and an incident names it. The
process admin gives the missing values here (``POST /api/v1/incidents/{id}/data/``),
then retries the incident. The timeline records who set which fields, never the values:
process admins write into a case they may not read.
"""

from __future__ import annotations

import json

from django.db import transaction

from bpmn.engine import runtime as engine
from permissions import rules

from . import steps
from .errors import Conflict, InvalidInput, NotFound
from .ids import parse_id
from .models import Event, EventKind, Incident, ProcessInstance

MAX_FIELDS = 50


def set_incident_data(*, actor, incident_id, data) -> Incident:
    """Merge ``data`` into the data of the task the incident names (it waits in ERROR)."""
    if not rules.can_retry_incident(actor):
        raise NotFound("no such incident")
    incident = Incident.objects.filter(pk=parse_id(incident_id)).first()
    if incident is None:
        raise NotFound("no such incident")
    _check(data)
    with transaction.atomic():
        instance = ProcessInstance.objects.select_for_update().get(pk=incident.instance_id)
        incident.refresh_from_db()
        if incident.resolved_at is not None:
            raise Conflict("the incident is already resolved")
        if incident.job_id is not None or not incident.element_id:
            raise Conflict("this incident is not about the data of a task: retry it instead")
        _runtime, workflow = steps.load(instance)
        if not engine.set_errored_task_data(workflow, incident.element_id, data):
            raise Conflict(f"no task of {incident.element_id!r} waits for a retry")
        instance.state = engine.dump_workflow(workflow)
        instance.version += 1
        instance.save(update_fields=["state", "version", "updated_at"])
        Event.objects.create(
            case_id=instance.case_id, instance=instance, kind=EventKind.INCIDENT_DATA_SET, actor=actor,
            element_id=incident.element_id, detail={"incident": incident.pk, "fields": sorted(data)},
        )
    return incident


def _check(data) -> None:
    if not isinstance(data, dict) or not data:
        raise InvalidInput("data must be an object with at least one field",
                           errors=[{"field": "data", "message": "expected a non-empty object"}])
    errors = [{"field": f"data.{name}", "message": "a field name is a Python identifier (letters, digits, _)"}
              for name in data if not (isinstance(name, str) and name.isidentifier() and not name.startswith("_"))]
    if len(data) > MAX_FIELDS:
        errors.append({"field": "data", "message": f"at most {MAX_FIELDS} fields at once"})
    try:
        json.dumps(data)
    except (TypeError, ValueError):
        errors.append({"field": "data", "message": "values must be JSON"})
    if errors:
        raise InvalidInput("the data cannot be set", errors=errors)
