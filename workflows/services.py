"""One function per use case, shared by the web UI, the API and the commands.

Each state change is one transaction: lock the instance row, re-check under the lock,
act, advance the engine, save, sync the task projection, append events.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from bpmn.engine import events as engine_events
from bpmn.engine import runtime as engine
from bpmn.engine.errors import TaskStateError
from bpmn.models import ProcessDefinition
from bpmn.registry import runtime_for
from permissions import rules
from permissions.grants import grant_case_access
from permissions.models import Agency, AgencyKind

from . import rows, steps
from .errors import Conflict, Forbidden, InvalidInput, NotFound
from .forms import form_errors
from .ids import parse_id
from .messages import LIVE  # the instance statuses a message may reach
from .models import (
    Case,
    CaseParticipant,
    CaseReferenceCounter,
    Event,
    EventKind,
    Incident,
    InstanceStatus,
    Person,
    ProcessInstance,
    Task,
    TaskStatus,
)
from .national_id import InvalidNationalId, validate_national_id

# --- starting a case -------------------------------------------------------------------


def start_case(*, actor, process_key: str, person: dict, participants: dict, data: dict | None = None,
               correlation_key: str = "", start_message: str = "", message_id: str | None = None) -> Case:
    """Open a case for ``person`` on the latest version of ``process_key``.

    ``participants`` maps agency kind -> Agency or agency id. Every lane of the process
    needs a participant of its kind. ``correlation_key``: an external system's own number
    for the case, which messages may name instead of the reference; no other live (running
    or stopped on an incident) case may have it, else a message could not find its case.

    ``start_message``: for a process whose start event waits for a message, its name
    (``correlate_message`` with ``start``); ``data`` is then the message's payload and
    ``message_id`` is recorded with it. Such a process starts only this way.
    """
    definition = (
        ProcessDefinition.objects.filter(key=process_key).defer("spec_json", "bpmn_xml")
        .order_by("-version").first()
    )
    if definition is None:
        raise InvalidInput(f"no process {process_key!r} is deployed",
                           errors=[{"field": "process_key", "message": "unknown process"}])
    runtime = runtime_for(definition)
    starts_on = runtime.start_messages
    if (start_message or starts_on) and start_message not in starts_on:
        message = (f"the process starts when the message {sorted(starts_on)[0]!r} arrives: it is started by "
                   "POST /api/v1/messages/ with `start`") if starts_on else "the process has no message start event"
        raise InvalidInput(message, errors=[{"field": "process_key", "message": message}])
    errors = []
    try:
        name, national_id = _valid_person(person)
    except InvalidInput as exc:
        errors += exc.errors
    try:
        agencies = _valid_participants(participants, definition)
    except InvalidInput as exc:
        errors += exc.errors
    correlation_key = (correlation_key or "").strip()
    errors += _correlation_key_errors(correlation_key)
    if errors:  # all problems at once, not one per round trip
        raise InvalidInput("the case cannot be started", errors=errors)
    if not rules.can_start_case(actor, list(agencies.values())):
        raise Forbidden("you may start cases only for an agency you work in, as one of its participants")
    start_data = _valid_start_data(runtime, data)
    starter_agency = next(a for a in agencies.values() if a.pk in rules.case_agency_ids(actor))

    with transaction.atomic():
        person_row, _ = Person.objects.get_or_create(national_id=national_id, defaults={"name": name})
        reference = _next_reference()  # locks the year's counter: case starts queue up here
        if correlation_key and (errors := _correlation_key_errors(correlation_key)):  # again, under the lock
            raise InvalidInput("the case cannot be started", errors=errors)
        case = Case.objects.create(
            reference=reference,
            person=person_row,
            process_key=definition.key,
            coordinator_agency=agencies.get(AgencyKind.HOUSING, starter_agency),
            data=start_data,
            data_sources={field: starter_agency.pk for field in start_data},
            opened_by=actor,
        )
        CaseParticipant.objects.bulk_create(
            [CaseParticipant(case=case, kind=kind, agency=agency) for kind, agency in agencies.items()]
        )
        grant_case_access(case)
        workflow = engine.new_workflow(runtime.bundle, start_data)
        caught = engine_events.deliver_start_message(workflow, start_message, start_data) if start_message else []
        instance = ProcessInstance.objects.create(
            case=case, definition=definition, state="{}",
            serializer_version=engine.SERIALIZER_VERSION, spiff_version=engine.SPIFFWORKFLOW_VERSION,
            version=0, correlation_key=correlation_key,
        )
        Event.objects.create(
            case=case, instance=instance, kind=EventKind.CASE_STARTED, actor=actor, agency=starter_agency,
            detail={"process_key": definition.key, "version": definition.version},
        )
        received = [Event(
            case_id=case.pk, instance=instance, kind=EventKind.MESSAGE_RECEIVED, actor=actor, agency=starter_agency,
            element_id=caught[0] if caught else "",
            detail={"name": start_message, "message_id": message_id, "fields": sorted(start_data)},
        )] if start_message else []
        steps.advance_and_save(instance, runtime, workflow, actor=actor, acting_agency=starter_agency,
                               events=received)
    return case


CORRELATION_KEY_MAX_LENGTH = ProcessInstance._meta.get_field("correlation_key").max_length


def _correlation_key_errors(correlation_key: str) -> list[dict]:
    if len(correlation_key) > CORRELATION_KEY_MAX_LENGTH:
        return [{"field": "correlation_key", "message": f"at most {CORRELATION_KEY_MAX_LENGTH} characters"}]
    if correlation_key and ProcessInstance.objects.filter(
        correlation_key=correlation_key, status__in=LIVE
    ).exists():
        return [{"field": "correlation_key", "message": "a running case already has this correlation key"}]
    return []


def _valid_person(person) -> tuple[str, str]:
    if not isinstance(person, dict):
        raise InvalidInput("person must be an object", errors=[{"field": "person", "message": "expected an object"}])
    errors = []
    name = person.get("name")
    if not isinstance(name, str) or not name.strip():
        errors.append({"field": "person.name", "message": "this field is required"})
    national_id = None
    try:
        national_id = validate_national_id(person.get("national_id") or "")
    except InvalidNationalId as exc:
        errors.append({"field": "person.national_id", "message": str(exc)})
    if errors:
        raise InvalidInput("the person is not valid", errors=errors)
    return name.strip(), national_id


def _valid_participants(participants, definition) -> dict[str, Agency]:
    if not isinstance(participants, dict):
        raise InvalidInput("participants must map agency kinds to agencies",
                           errors=[{"field": "participants", "message": "expected an object"}])
    errors, agencies = [], {}
    for kind, agency in participants.items():
        if kind not in AgencyKind.values:
            errors.append({"field": f"participants.{kind}", "message": f"unknown agency kind {kind!r}"})
            continue
        agency_row = agency if isinstance(agency, Agency) else Agency.objects.filter(pk=parse_id(agency)).first()
        if agency_row is None:
            errors.append({"field": f"participants.{kind}", "message": f"no agency with id {agency!r}"})
        elif agency_row.kind != kind:
            errors.append({"field": f"participants.{kind}",
                           "message": f"{agency_row.name} is a {agency_row.kind} agency, not {kind}"})
        else:
            agencies[kind] = agency_row
    needed = {kind for kind in definition.metadata.get("lanes", {}).values() if kind}
    for kind in sorted(needed - set(participants)):
        lanes = [lane for lane, k in definition.metadata["lanes"].items() if k == kind]
        errors.append({"field": f"participants.{kind}",
                       "message": f"the process has lane {', '.join(lanes)}: a {kind} agency must participate"})
    if errors:
        raise InvalidInput("the participants are not valid", errors=errors)
    return agencies




def _valid_start_data(runtime, data) -> dict:
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise InvalidInput("data must be an object", errors=[{"field": "data", "message": "expected an object"}])
    unknown = [name for name in data if name not in runtime.fields]
    if unknown:
        raise InvalidInput("data has fields that no form of this process has",
                           errors=[{"field": f"data.{name}", "message": "unknown field"} for name in unknown])
    return dict(data)


def _next_reference() -> str:
    from django.conf import settings

    year = timezone.localdate().year
    CaseReferenceCounter.objects.bulk_create([CaseReferenceCounter(year=year)], ignore_conflicts=True)
    counter = CaseReferenceCounter.objects.select_for_update().get(year=year)
    counter.last += 1
    counter.save(update_fields=["last"])
    return f"{settings.BROBYGGER['CASE_REFERENCE_PREFIX']}-{year}-{counter.last:06d}"


# --- tasks -----------------------------------------------------------------------------


def _task_for(actor, task_id) -> Task:
    """The task if the actor may work it (see ``_workable``); claiming and unclaiming."""
    task = Task.objects.select_related("agency").filter(pk=parse_id(task_id)).first()
    return _workable(task, actor)


def _lock_instance(task: Task) -> ProcessInstance:
    """Lock the instance row (every change of a case's work goes through it), then re-read
    what may have changed while we waited: the task's status and the case's data.

    The case row is locked in the same statement on purpose: after waiting for a lock,
    PostgreSQL re-reads only the rows it locks, so an unlocked joined case row would be
    the stale version and a parallel branch's data would be overwritten.
    """
    instance = ProcessInstance.objects.select_for_update().select_related("case").get(pk=task.instance_id)
    task.refresh_from_db(fields=["status", "assignee", "claimed_at", "completed_at", "completed_by"])
    task.case = instance.case
    return instance


def _ensure_workable(task: Task, actor) -> None:
    if task.status in (TaskStatus.COMPLETED, TaskStatus.CANCELLED):
        raise Conflict(f"the task is no longer open: it is {task.status}")
    if task.status == TaskStatus.CLAIMED and task.assignee_id != actor.pk:
        raise Conflict(f"the task is claimed by {task.assignee.get_username() if task.assignee else 'someone else'}")


def claim_task(*, actor, task_id) -> Task:
    task = _task_for(actor, task_id)
    with transaction.atomic():
        _lock_instance(task)
        _ensure_workable(task, actor)
        if task.status == TaskStatus.CLAIMED:
            return task  # already ours: claiming twice is harmless
        task.status, task.assignee, task.claimed_at = TaskStatus.CLAIMED, actor, timezone.now()
        task.save(update_fields=["status", "assignee", "claimed_at"])
        Event.objects.create(case=task.case, instance_id=task.instance_id, task=task, kind=EventKind.TASK_CLAIMED,
                             actor=actor, agency=task.agency, element_id=task.element_id)
    return task


def unclaim_task(*, actor, task_id) -> Task:
    task = _task_for(actor, task_id)
    with transaction.atomic():
        _lock_instance(task)
        _ensure_workable(task, actor)
        if task.status != TaskStatus.CLAIMED:
            raise Conflict("the task is not claimed")
        task.status, task.assignee, task.claimed_at = TaskStatus.OPEN, None, None
        task.save(update_fields=["status", "assignee", "claimed_at"])
        Event.objects.create(case=task.case, instance_id=task.instance_id, task=task, kind=EventKind.TASK_UNCLAIMED,
                             actor=actor, agency=task.agency, element_id=task.element_id)
    return task


def complete_task(*, actor, task_id, data: dict) -> Task:
    """Complete an open user task of the actor's agency with the data of its form.

    The hot path of the whole system: three round trips to the database. The first locks
    the instance and case rows, reads them with the task, and marks the task completed if
    it is still open and not claimed by someone else (``rows.lock_and_complete``); the
    checks below decide, and any refusal rolls that back. The step's writes go in one
    batch (two when it creates tasks), then the commit.
    """
    with transaction.atomic():
        now = timezone.now()
        completion = rows.lock_and_complete(parse_id(task_id), actor.pk, now)
        task = _workable(completion.task, actor)
        instance = task.instance
        runtime = runtime_for(instance.definition_id)
        schema, validator = runtime.form_for(task.element_id)
        errors = form_errors(schema, validator, data)
        if errors:
            raise InvalidInput("the form has errors", errors=errors)
        if not completion.completed:
            # Someone else completed or claimed it while we waited for the lock: say which.
            task.refresh_from_db(fields=["status", "assignee", "claimed_at", "completed_at", "completed_by"])
            _ensure_workable(task, actor)
            raise Conflict("the task is no longer open")
        task.status, task.completed_at, task.completed_by = TaskStatus.COMPLETED, now, actor
        if task.assignee_id is None:
            task.assignee = actor

        def act(workflow):
            try:
                engine.complete_user_task(workflow, str(task.spiff_task_id), data)
            except TaskStateError as exc:
                # The projection said open but the engine disagrees: the state moved on.
                raise Conflict(f"the task is no longer open: {exc}") from exc

        batch = rows.Batch()
        _merge_case_data(instance.case, data, task.agency_id, batch)
        completed = Event(
            case_id=task.case_id, instance=instance, task=task, kind=EventKind.TASK_COMPLETED, actor=actor,
            agency_id=task.agency_id, element_id=task.element_id, detail={"fields": sorted(data)},
        )
        steps.run_step(
            instance, act, actor=actor, acting_agency=task.agency, events=[completed],
            completes=str(task.spiff_task_id), batch=batch, participants=completion.participants,
        )
    return task


def _workable(task: Task | None, actor) -> Task:
    """``task`` if the actor may work it: NotFound when invisible (no existence leak),
    Forbidden when visible but another agency's."""
    if task is None:
        raise NotFound("no such task")
    # The agency a task landed on always participates in its case, so working it implies
    # seeing it; the costlier visibility rule only decides between 403 and 404.
    if rules.can_work_task(actor, task):
        return task
    if rules.can_view_task(actor, task):
        raise Forbidden(f"this task is for {task.agency.name}; you do not work there")
    raise NotFound("no such task")


def _merge_case_data(case: Case, data: dict, agency_id: int, batch) -> None:
    """Called under the instance lock with the case row read under it: no lost update."""
    if not data:
        return
    case.data = {**case.data, **data}
    case.data_sources = {**case.data_sources, **dict.fromkeys(data, agency_id)}
    batch.update(case, ("data", "data_sources"))


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


# --- background work and messages (their own modules; exposed here as services) ---------

from .messages import correlate_message  # noqa: E402
from .timer_jobs import fire_timer  # noqa: E402

__all__ = [
    "claim_task", "complete_task", "correlate_message", "fire_timer", "retry_incident", "start_case",
    "unclaim_task",
]
