"""Incidents: retrying the failed step (or job) after its cause was fixed, and setting the
data a failed task needs first.

A multi-instance task whose input collection is missing, a task whose data output or data
object is not in its data: the task waits in ERROR and an incident names it. The process
admin gives the missing values (``POST /api/v1/incidents/{id}/data/``), then retries. The
timeline records who set which fields, never the values: process admins write into a case
they may not read.

What may be set is limited (issue 11): only names the failed element reads or declares
(``bpmn.engine.element_needs``: its input collection, data objects and data inputs and
outputs, the names its scripts and outgoing conditions read). A name a form defines is
checked against that form's field (type, format, limits); a name no form defines is the
model's own variable, restricted data in the process's field rules. Anything else is
refused with 400 naming the field, before anything is written; values never appear in an
answer, an event or the log.
"""

from __future__ import annotations

import json
import logging

from django.db import transaction
from django.utils import timezone

from bpmn.engine import runtime as engine
from bpmn.engine.element_needs import element_needs
from bpmn.engine.errors import TaskFailed
from bpmn.engine.forms_validation import work_budget
from bpmn.models import ProcessDefinition
from core.errors import Conflict, InvalidInput, NotFound, field_error
from core.ids import lookup_id
from permissions import rules
from workflows import input_limits, steps
from workflows.forms import schema_errors
from workflows.jobs.incidents import retry_job_incident
from workflows.models import EventKind, Incident
from workflows.steps.runner import step_error, task_failure_message

log = logging.getLogger("brobygger.incidents")


def retry_incident(*, actor, incident_id) -> Incident:
    """Run the failed step again (after the cause was fixed). Resolves it when it passes."""
    if not rules.can_retry_incident(actor):
        raise NotFound("incident.not_found")
    incident = Incident.objects.filter(pk=lookup_id(incident_id)).first()
    if incident is None:
        raise NotFound("incident.not_found")
    if incident.job_id is not None:
        return retry_job_incident(incident, actor)
    if incident.instance_id is None:  # a job's, its job pruned once it was resolved
        raise Conflict("incident.resolved")
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
            # Kept and answered as the step's incident keeps its error (``Step.kept``).
            failure = steps.Step(instance).kept(task_failure_message(exc))
        if failure is not None:
            # Nothing of the workflow is saved; only the attempt is counted.
            incident.attempts += 1
            incident.error, incident.error_message = step_error(failure)
            incident.save(update_fields=["attempts", "error", "error_message"])
        else:
            step = steps.Step(instance, actor=actor)
            incident.resolved_at, incident.resolved_by = timezone.now(), actor
            step.batch.update(incident, ("resolved_at", "resolved_by"))
            step.batch.flush()  # resolved before the advance asks whether one is still open
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
    if incident.instance_id is None:  # a job's without a case: no task waits for data
        raise Conflict("incident.not_about_data")
    with transaction.atomic():
        instance = steps.lock_instance(incident.instance_id)
        incident.refresh_from_db()
        if incident.resolved_at is not None:
            raise Conflict("incident.resolved")
        if incident.job_id is not None or not incident.element_id:
            raise Conflict("incident.not_about_data")
        runtime, workflow = steps.load(instance)
        _check_element_needs(runtime, instance.definition_id, incident.element_id, data)
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
    log.info(
        "incident data set",
        extra={"incident": incident.pk, "element": incident.element_id, "fields": sorted(data), "actor": actor.pk},
    )
    return incident


def _check_element_needs(runtime, definition_id: int, element_id: str, data: dict) -> None:
    """400 naming every field the element does not need, or whose value its form refuses."""
    bpmn_xml = ProcessDefinition.objects.values_list("bpmn_xml", flat=True).get(pk=definition_id)
    needs = element_needs(bpmn_xml, element_id)
    errors = []
    with work_budget():  # one pattern budget for all the data, not one per field
        for name, value in data.items():
            if name not in needs:
                errors.append(field_error(f"data.{name}", "incident.field_not_needed", element=element_id))
                continue
            validator = runtime.field_validators.get(name)
            if validator is not None:
                errors += schema_errors(validator.iter_errors(value), prefix=f"data.{name}")
    if errors:
        raise InvalidInput("incident.data_invalid", errors=errors)


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
    input_limits.check_data(data, "data")
