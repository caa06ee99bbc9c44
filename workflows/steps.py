"""One engine step of one instance: load, act, advance, save, project, record.

Callers hold the instance row lock (``select_for_update``) inside ``transaction.atomic``;
everything written here commits or rolls back with the caller's action.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.exceptions import WorkflowException

from bpmn.engine import events as engine_events
from bpmn.engine import runtime as engine
from bpmn.engine.errors import EngineError, StepLimitExceeded
from bpmn.engine.timers import parse_iso_duration_text
from bpmn.engine.workflow_cache import WORKFLOW_CACHE
from bpmn.registry import DefinitionRuntime, runtime_for

from . import case_outcomes, jobs, rows
from .models import (
    ACTIVE_TASK_STATUSES,
    CaseStatus,
    Event,
    EventKind,
    Incident,
    InstanceStatus,
    OutboxMessage,
    ProcessInstance,
    Task,
    TaskStatus,
)


@dataclass
class StepOutcome:
    created: list[Task] = field(default_factory=list)
    cancelled: list[Task] = field(default_factory=list)
    incident: Incident | None = None
    completed: bool = False


def step_cap() -> int:
    return settings.BROBYGGER["ENGINE_STEP_CAP"]


def load(instance: ProcessInstance) -> tuple[DefinitionRuntime, engine.SafeBpmnWorkflow]:
    """The instance's workflow, to step it: ``advance_and_save`` keeps it after the commit,
    so the next step of this instance in this process skips restoring it."""
    runtime = runtime_for(instance.definition_id)
    bundle = runtime.bundle
    workflow = WORKFLOW_CACHE.take(instance.pk, instance.state, bundle.spec)
    if workflow is None:
        workflow = engine.load_workflow(bundle, instance.state)
    return runtime, workflow


def run_step(
    instance: ProcessInstance,
    act: Callable[[engine.SafeBpmnWorkflow], None],
    *,
    actor=None,
    acting_agency=None,
    events: list[Event] | None = None,
    completes: str | None = None,
    batch: rows.Batch | None = None,
    participants: dict | None = None,
) -> StepOutcome:
    """Load the instance, ``act`` on the workflow, advance, save and sync the projection.

    An expression error or a runaway loop while advancing does not lose what ``act`` did:
    SpiffWorkflow leaves the failing task in ERROR, the state is saved and the instance
    goes to ``incident``. Errors raised by ``act`` itself propagate and roll back.
    """
    runtime, workflow = load(instance)
    # The projection mirrors the ready tasks of the loaded state, so the difference after
    # the step tells what to create and cancel without reading the Task rows back.
    # ``completes`` is the task ``act`` completes: its row is already marked completed.
    ready_before = {task.id for task in engine.ready_user_tasks(workflow)} - {completes}
    act(workflow)
    return advance_and_save(
        instance, runtime, workflow, actor=actor, acting_agency=acting_agency, events=events,
        ready_before=ready_before, batch=batch, participants=participants,
    )


def advance_and_save(
    instance, runtime, workflow, *, actor=None, acting_agency=None, events=None, ready_before=None,
    batch=None, participants=None,
) -> StepOutcome:
    """Advance the engine and write the step: the instance, its timer job, the task rows,
    the events (the caller's ``events`` with the step's own) and notification jobs.

    The writes go in one ``rows.Batch`` (the caller's ``batch``, with what it queued), sent
    once, or twice when new tasks need their ids for events. ``participants`` (agency kind
    -> agency) spares reading them when the caller already has.
    """
    batch = batch if batch is not None else rows.Batch()
    outcome = StepOutcome()
    failure = None
    previous_due = instance.next_timer_at
    timers_before = engine_events.waiting_timers(workflow)
    try:
        engine.advance(workflow, step_cap=step_cap())
    except WorkflowTaskException as exc:
        element = exc.task.task_spec.bpmn_id if exc.task is not None else ""
        failure = ("expression-error", element or "", error_text(exc))
    except StepLimitExceeded as exc:
        failure = ("step-limit", "", str(exc))
    except (WorkflowException, EngineError) as exc:
        failure = ("engine-error", "", error_text(exc))

    fired = engine_events.fired_timers(workflow, timers_before)
    thrown = engine_events.thrown_messages(workflow)
    instance.state = engine.dump_workflow(workflow)
    instance.version += 1
    instance.next_timer_at = engine.next_timer_due(workflow)
    if failure is None and workflow.is_completed():
        instance.status = InstanceStatus.COMPLETED
        outcome.completed = True
    elif failure is not None:
        instance.status = InstanceStatus.INCIDENT
    else:
        instance.status = InstanceStatus.RUNNING
    batch.update(instance, ("state", "version", "next_timer_at", "status", "updated_at"))
    transaction.on_commit(partial(WORKFLOW_CACHE.put, instance.pk, instance.state, workflow))

    jobs.sync_timer_job(instance, previous_due, batch)
    events = list(events or []) + _timer_and_outbox_events(instance, fired, thrown, actor)
    if failure is None:
        outcome.created, outcome.cancelled, events = sync_tasks(
            instance, runtime, workflow, acting_agency=acting_agency, actor=actor, events=events,
            ready_before=ready_before, batch=batch, participants=participants,
        )
    batch.insert(events)
    if outcome.created:
        jobs.enqueue_task_notifications(outcome.created, batch)
    batch.flush()
    if failure is not None:
        kind, element_id, error = failure
        outcome.incident = record_incident(instance, kind=kind, element_id=element_id, error=error, actor=actor)
    if outcome.completed:
        _complete_case(instance, actor)
    return outcome


def _timer_and_outbox_events(instance, fired, thrown, actor) -> list[Event]:
    """Timeline events for the timers that fired; thrown messages go to the outbox."""
    events = [
        Event(case_id=instance.case_id, instance=instance, kind=EventKind.TIMER_FIRED, element_id=element_id)
        for element_id in fired
    ]
    if thrown:
        OutboxMessage.objects.bulk_create([
            OutboxMessage(name=message.name, payload=message.payload, correlations=message.correlations,
                          instance=instance, case_id=instance.case_id)
            for message in thrown
        ])
        events += [
            Event(case_id=instance.case_id, instance=instance, kind=EventKind.MESSAGE_THROWN, actor=actor,
                  detail={"name": message.name})
            for message in thrown
        ]
    return events


def error_text(exc) -> str:
    text = str(exc)
    notes = getattr(exc, "__notes__", None)
    if notes:
        text += " (" + "; ".join(notes) + ")"
    return text[:2000]


def record_incident(instance, *, kind, element_id, error, actor=None) -> Incident:
    incident = Incident.objects.create(
        instance=instance, case_id=instance.case_id, element_id=element_id, kind=kind, error=error
    )
    Event.objects.create(
        case_id=instance.case_id, instance=instance, kind=EventKind.INCIDENT, actor=actor,
        element_id=element_id, detail={"incident": incident.pk, "kind": kind, "error": error},
    )
    return incident


def _complete_case(instance, actor) -> None:
    case = instance.case
    others_running = case.instances.exclude(pk=instance.pk).exclude(
        status__in=[InstanceStatus.COMPLETED, InstanceStatus.CANCELLED]
    )
    if others_running.exists():
        return
    case.status = CaseStatus.COMPLETED
    case.closed_at = timezone.now()
    case.save(update_fields=["status", "closed_at"])
    case_outcomes.close_outcome(case)
    Event.objects.create(case=case, instance=instance, kind=EventKind.CASE_COMPLETED, actor=actor)


def due_at_for(due_in: str | None, start):
    if not due_in:
        return None
    return start + parse_iso_duration_text(due_in)


def sync_tasks(instance, runtime, workflow, *, batch, acting_agency=None, actor=None, events=None,
               ready_before=None, participants=None):
    """Make the Task rows match the workflow's ready user tasks. Returns the created and
    the cancelled tasks, and ``events`` with the created/handoff/cancelled events added
    (for the caller to insert: they go in its batch).

    ``ready_before`` (the ready task ids of the state as loaded) spares reading the active
    rows; without it they are read. A ready task whose lane's agency kind has no
    participant becomes an incident instead of a task nobody can see. Writes go in the
    step's ``batch``; when there are new tasks it is sent at once (their events need the ids).
    """
    events = list(events or [])
    ready = {task.id: task for task in engine.ready_user_tasks(workflow)}
    active_rows = Task.objects.filter(instance=instance, status__in=ACTIVE_TASK_STATUSES)
    if ready_before is None:
        known = {str(spiff_id) for spiff_id in active_rows.values_list("spiff_task_id", flat=True)}
        gone = known - set(ready)
    else:
        known, gone = ready_before, ready_before - set(ready)
    cancelled = []
    if gone:
        # Completed tasks are no longer active, so only those withdrawn by the engine
        # (an interrupting boundary event, a terminate end) are found here.
        cancelled = list(active_rows.filter(spiff_task_id__in=gone).only(
            "id", "case_id", "agency_id", "element_id", "name"
        ))
        if cancelled:
            Task.objects.filter(pk__in=[row.pk for row in cancelled]).update(status=TaskStatus.CANCELLED)
            events += _cancellation_events(instance, cancelled, actor)
    new_ready = [task for spiff_id, task in ready.items() if spiff_id not in known]
    if not new_ready:
        return [], cancelled, events
    now = timezone.now()

    agencies = participants if participants is not None else rows.participant_agencies(instance.case_id)
    created = []
    for ready_task in new_ready:
        kind = (runtime.user_tasks.get(ready_task.element_id) or {}).get("agency_kind")
        agency = agencies.get(kind)
        if agency is None:
            record_incident(
                instance, kind="lane-without-participant", element_id=ready_task.element_id,
                error=f"task {ready_task.name!r} is in lane {ready_task.lane!r} ({kind}), "
                      f"but no {kind} agency participates in the case",
                actor=actor,
            )
            instance.status = InstanceStatus.INCIDENT
            batch.update(instance, ("status",))  # after the step's own update of the row
            continue
        created.append(Task(
            spiff_task_id=ready_task.id, instance=instance, case_id=instance.case_id,
            element_id=ready_task.element_id, name=ready_task.name, lane=ready_task.lane or "",
            agency=agency, form=ready_task.form or "", handed_over_by=acting_agency,
            due_at=due_at_for(ready_task.due_in, now),
        ))
    if not created:
        return [], cancelled, events
    batch.insert(created)
    batch.flush()
    for task in created:
        events.append(Event(
            case_id=instance.case_id, instance=instance, task=task, kind=EventKind.TASK_CREATED,
            actor=actor, agency=task.agency, element_id=task.element_id,
            detail={"name": task.name, "due_at": task.due_at.isoformat() if task.due_at else None},
        ))
    handed_to = {task.agency_id: task for task in created}
    if acting_agency is not None:
        for agency_id, task in handed_to.items():
            if agency_id != acting_agency.pk:
                events.append(Event(
                    case_id=instance.case_id, instance=instance, task=task, kind=EventKind.HANDOFF,
                    actor=actor, agency=acting_agency, from_agency=acting_agency, to_agency=task.agency,
                    element_id=task.element_id, detail={"task": task.name},
                ))
    return created, cancelled, events


def _cancellation_events(instance, cancelled, actor) -> list[Event]:
    return [
        Event(case_id=instance.case_id, instance=instance, task=task, kind=EventKind.TASK_CANCELLED,
              actor=actor, agency_id=task.agency_id, element_id=task.element_id, detail={"name": task.name})
        for task in cancelled
    ]
