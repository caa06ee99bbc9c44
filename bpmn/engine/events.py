"""Timers and messages of a running workflow: what waits, what fired, delivering events.

Plain SpiffWorkflow helpers (no Django). The application decides *when* (jobs, the
messages API); these functions say *what* changes in the workflow.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from SpiffWorkflow.bpmn import BpmnEvent
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition,
    TimeDateEventDefinition,
    TimerEventDefinition,
)
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent, ThrowingEvent
from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import BoundaryEvent
from SpiffWorkflow.bpmn.specs.mixins.events.start_event import StartEvent
from SpiffWorkflow.util.task import TaskState

from .errors import EngineError, StepLimitExceeded, TaskFailed
from .expressions import STEP_TIME_LIMIT_SECONDS, step_time_limit
from .runtime import collaboration_pools, task_failure
from .task_scan import tasks_in_state


class NoWaitingEvent(EngineError):
    """Nothing in the workflow waits for this message now."""


def _definitions(task: Any) -> list[Any]:
    definition = getattr(task.task_spec, "event_definition", None)
    return getattr(definition, "event_definitions", None) or [definition]


def _timer_definition(task: Any) -> Any:
    for definition in _definitions(task):
        if isinstance(definition, TimerEventDefinition | CycleTimerEventDefinition):
            return definition
    return None


# --- timers ----------------------------------------------------------------------------


def waiting_timers(workflow: Any) -> dict[str, Any]:
    """Snapshot ``{task id: (element id, cycles left or None)}`` of the waiting timers."""
    snapshot = {}
    for task in tasks_in_state(workflow, TaskState.WAITING):
        definition = _timer_definition(task)
        if definition is None:
            continue
        cycles = None
        if isinstance(definition, CycleTimerEventDefinition):
            value = task._get_internal_data("event_value")
            cycles = value.get("cycles") if isinstance(value, dict) else None
        snapshot[task.id] = (task.task_spec.bpmn_id, cycles)
    return snapshot


def fired_timers(workflow: Any, snapshot: dict[str, Any]) -> list[str]:
    """Element ids of the timers of ``snapshot`` that fired since (a cycle once per round)."""
    fired = []
    for task_id, (element_id, cycles) in snapshot.items():
        task = workflow.get_task_from_id(task_id)
        if task is None:
            continue
        if cycles is not None:
            value = task._get_internal_data("event_value")
            left = value.get("cycles", 0) if isinstance(value, dict) else 0
            fired += [element_id] * max(cycles - left, 0)
        elif task.has_state(TaskState.READY | TaskState.STARTED | TaskState.COMPLETED | TaskState.ERROR) or (
            task.state == TaskState.WAITING and task._get_internal_data("event_fired")
        ):
            # Left WAITING other than by being cancelled (running resets its event data).
            fired.append(element_id)
    return fired


def reschedule_date_timers(workflow: Any, only: Collection[str] | None = None) -> list[str]:
    """Forget the computed due time of waiting timers that depend on data, so the next
    ``advance`` evaluates them again (after the case data they read changed); with
    ``only``, of the timers with those element ids alone.

    SpiffWorkflow caches a timer's due time in the waiting task on its first evaluation.
    Date timers are re-evaluated. A cycle is re-evaluated only while none of its rounds
    has fired (its count is still the one its expression gives); a duration keeps
    counting from when it started. Returns the element ids rescheduled.
    """
    rescheduled = []
    for task in workflow.get_tasks(state=TaskState.WAITING):
        definition = _timer_definition(task)
        if definition is None or task._get_internal_data("event_fired"):
            continue
        if only is not None and task.task_spec.bpmn_id not in only:
            continue
        if isinstance(definition, TimeDateEventDefinition):
            task.internal_data.pop("event_value", None)
            rescheduled.append(task.task_spec.bpmn_id)
        elif isinstance(definition, CycleTimerEventDefinition):
            value = task._get_internal_data("event_value")
            try:
                expression = workflow.script_engine.evaluate(task, definition.expression)
                cycles, _, _ = TimerEventDefinition.parse_iso_recurring_interval(expression)
            except Exception:  # noqa: S112 - keep the schedule it has; the data is not for it
                continue
            if isinstance(value, dict) and value.get("cycles") == cycles:
                task.internal_data.pop("event_value", None)
                rescheduled.append(task.task_spec.bpmn_id)
    return rescheduled


# --- data ------------------------------------------------------------------------------


def update_active_data(workflow: Any, fields: dict[str, Any]) -> None:
    """Put ``fields`` into the data of every task not yet finished (what runs next reads it).

    A waiting task merges its parent's data into its own on every update (SpiffWorkflow's
    ``_inherit_data``), so the parents get the fields too, or the old values would return.
    """
    for task in workflow.get_tasks(state=TaskState.NOT_FINISHED_MASK):
        task.data.update(fields)
        if task.parent is not None:
            task.parent.data.update(fields)


# --- messages --------------------------------------------------------------------------


@dataclass(frozen=True)
class ThrownMessage:
    name: str
    payload: dict[str, Any]
    correlations: dict[str, Any]
    # The throwing element's id (an intermediate throw or end event, a send task): its
    # timeline event is left out where the element is on a branch hidden from the reader.
    element_id: str = ""


def waiting_message_tasks(workflow: Any, name: str) -> list[Any]:
    tasks = []
    for task in workflow.get_tasks(state=TaskState.WAITING):
        if any(isinstance(d, MessageEventDefinition) and d.name == name for d in _definitions(task)):
            tasks.append(task)
    return tasks


def waiting_message_names(workflow: Any) -> set[str]:
    names = set()
    for task in workflow.get_tasks(state=TaskState.WAITING):
        names |= {d.name for d in _definitions(task) if isinstance(d, MessageEventDefinition)}
    return names


def waiting_message_elements(workflow: Any, name: str) -> set[str]:
    """The element ids of the events waiting for message ``name``."""
    return {task.task_spec.bpmn_id for task in waiting_message_tasks(workflow, name)}


def start_message_names(spec: Any) -> set[str]:
    """Names of the messages the top-level start events of a process spec wait for.

    Event sub-processes have specs of their own, so their start events are not counted.
    """
    names = set()
    for task_spec in spec.task_specs.values():
        if isinstance(task_spec, StartEvent):
            definition = getattr(task_spec, "event_definition", None)
            definitions = getattr(definition, "event_definitions", None) or [definition]
            names |= {d.name for d in definitions if isinstance(d, MessageEventDefinition)}
    return names


def deliver_start_message(workflow: Any, name: str, payload: dict[str, Any]) -> list[str]:
    """Start a new workflow whose start event waits for message ``name`` with ``payload``
    (it lands in the start event's data, so every task after it inherits it)."""
    try:
        with step_time_limit(STEP_TIME_LIMIT_SECONDS):
            workflow.do_engine_steps()  # up to the message start event, which then waits
    except (TaskFailed, StepLimitExceeded):
        raise
    except Exception as exc:
        raise task_failure(exc) from exc
    return deliver_message(workflow, name, payload)


def deliver_message(
    workflow: Any,
    name: str,
    payload: dict[str, Any],
    correlations: dict[str, Any] | None = None,
    *,
    skip: Collection[str] = (),
) -> list[str]:
    """Deliver message ``name`` to the tasks waiting for it; returns their element ids.

    A non-interrupting boundary event stays armed while its activity runs (BPMN), which
    SpiffWorkflow does not do by itself: a fresh waiting copy is added after it catches.
    The events whose element ids are in ``skip`` do not catch it this time (they stay
    armed); the message is not delivered at all when nothing else waits for it.
    """
    waiting = waiting_message_tasks(workflow, name)
    if not waiting:
        raise NoWaitingEvent(f"nothing in this process waits for the message {name!r} now")
    skipped = [task for task in waiting if task.task_spec.bpmn_id in skip]
    waiting = [task for task in waiting if task.task_spec.bpmn_id not in skip]
    if not waiting:
        return []
    definition = next(d for d in _definitions(waiting[0]) if isinstance(d, MessageEventDefinition))
    # Spiff offers every waiting task the event (``EventManager.catch``): the skipped ones
    # are out of its list for this one delivery, and back in it after.
    manager = workflow.event_manager
    for task in skipped:
        manager.remove_task(task)
    try:
        workflow.send_event(BpmnEvent(definition, dict(payload), correlations or {}))
    except (TaskFailed, StepLimitExceeded):
        raise
    except Exception as exc:  # a correlation expression or the catch itself failed on the data
        raise task_failure(exc, waiting[0]) from exc
    finally:
        for task in skipped:
            manager.add_task(task)
    caught = [task for task in waiting if task.state != TaskState.WAITING]
    for task in caught:
        _rearm_boundary(task)
    return [task.task_spec.bpmn_id for task in caught]


def _rearm_boundary(task: Any) -> None:
    spec = task.task_spec
    if not isinstance(spec, BoundaryEvent) or spec.cancel_activity:
        return
    split = task.parent
    main = next((t for t in split.children if not isinstance(t.task_spec, BoundaryEvent)), None)
    if main is None or main.has_state(TaskState.FINISHED_MASK):
        return
    fresh = split._add_child(spec, TaskState.FUTURE)
    fresh.data = dict(task.data)
    spec._predict(fresh, mask=TaskState.NOT_FINISHED_MASK)
    spec._update(fresh)


def boundaries_with_open_task(workflow: Any, name: str) -> set[str]:
    """The non-interrupting boundary events waiting for message ``name`` whose earlier catch
    led to a user or manual task still open (ready, claimed or not): another catch now would
    open the same work a second time beside it (``services.correlate_message`` refuses it).

    A task is the catch's when the caught boundary is among its ancestors, across the
    subprocesses it runs in. Once that task is completed (or cancelled) the boundary catches
    again as BPMN says."""
    return set(open_tasks_of_boundaries(workflow, name))


def open_tasks_of_boundaries(workflow: Any, name: str) -> dict[str, set[str]]:
    """``boundaries_with_open_task``, each boundary with the element ids of its open tasks: the
    path after a catch may pass a gateway whose branch a reader may not know, and whether the
    task on it is open tells that branch (``services.correlate_message``)."""
    armed = {
        task.task_spec.bpmn_id
        for task in tasks_in_state(workflow, TaskState.WAITING)
        if isinstance(task.task_spec, BoundaryEvent)
        and not task.task_spec.cancel_activity
        and any(isinstance(d, MessageEventDefinition) and d.name == name for d in _definitions(task))
    }
    found: dict[str, set[str]] = {}
    if not armed:
        return found
    for task in tasks_in_state(workflow, TaskState.READY):
        if task.task_spec.manual:
            for ancestor in _ancestors(workflow, task):
                if _caught_one_of(ancestor, armed):
                    found.setdefault(ancestor.task_spec.bpmn_id, set()).add(task.task_spec.bpmn_id)
    return found


def _caught_one_of(task: Any, elements: set[str]) -> bool:
    return (
        isinstance(task.task_spec, BoundaryEvent)
        and task.task_spec.bpmn_id in elements
        and task.has_state(TaskState.COMPLETED)
    )


def _ancestors(workflow: Any, task: Any) -> list[Any]:
    """The task's parents up to the top workflow's root, a subprocess's root continuing at
    the task that runs the subprocess."""
    found = []
    current = task.parent
    subprocess = task.workflow
    while True:
        while current is not None:
            found.append(current)
            current = current.parent
        parent_id = subprocess.parent_task_id
        if parent_id is None:
            return found
        current = workflow.get_task_from_id(parent_id)
        subprocess = current.workflow
        found.append(current)
        current = current.parent


def correlation_matches(workflow: Any, correlations: dict[str, Any]) -> bool:
    """Whether a message carrying ``correlations`` is meant for ``workflow``: it shares a
    correlation key with what the workflow has correlated on, with the same values in every
    shared key. (SpiffWorkflow's own check lets a workflow that has correlated on nothing
    yet catch any message of the name: between cases that would be any case.)"""
    known = workflow.correlations or {}
    shared = [key for key in correlations if key in known]
    return bool(shared) and all(correlations[key] == known[key] for key in shared)


def known_correlation_fields(workflow: Any, name: str, payload: dict[str, Any]) -> frozenset[str]:
    """The fields of ``payload`` (of message ``name``) whose values ``workflow`` already holds
    as a correlation value: its catch takes a correlation property from the field as it is
    (the retrieval expression is the field's bare name) and has correlated on that property
    with the same value. Such a field tells the workflow nothing it does not know, and its
    catch cannot compute its correlation without it."""
    known = workflow.correlations or {}
    fields = set()
    for task in waiting_message_tasks(workflow, name):
        for definition in _definitions(task):
            if not isinstance(definition, MessageEventDefinition) or definition.name != name:
                continue
            for prop in definition.correlation_properties or ():
                field = str(prop.retrieval_expression or "").strip()
                if not field.isidentifier() or field not in payload:
                    continue
                held = [known[key] for key in prop.correlation_keys if isinstance(known.get(key), dict)]
                if any(prop.name in values and values[prop.name] == payload[field] for values in held):
                    fields.add(field)
    return frozenset(fields)


def thrown_messages(workflow: Any) -> list[ThrownMessage]:
    """Messages thrown by the process that no task of it caught (for the outbox), each with
    the element that threw it."""
    events = [event for event in workflow.get_events() if isinstance(event.event_definition, MessageEventDefinition)]
    if not events:
        return []
    names = [event.event_definition.name for event in events]
    # The step's throws of a name are the latest of its throwers, in the order they threw.
    throwers = {name: iter(by[-names.count(name) :]) for name, by in _message_throwers(workflow, set(names)).items()}
    return [
        ThrownMessage(name, dict(event.payload or {}), dict(event.correlations), next(throwers.get(name, iter(())), ""))
        for name, event in zip(names, events, strict=True)
    ]


def _message_throwers(workflow: Any, names: set[str]) -> dict[str, list[str]]:
    """Message name -> the element ids of the completed tasks that threw it, the latest last.
    SpiffWorkflow's event names no thrower, but the step that threw it completed the throwing
    task: the latest to complete are this step's (read only when a step threw a message)."""
    tasks = [
        task
        for task in _all_tasks(workflow)
        if task.state == TaskState.COMPLETED
        and isinstance(task.task_spec, ThrowingEvent)
        and _message_name(task) in names
    ]
    tasks.sort(key=lambda task: task.last_state_change)
    throwers: dict[str, list[str]] = {}
    for task in tasks:
        throwers.setdefault(str(_message_name(task)), []).append(str(task.task_spec.bpmn_id))
    return throwers


def _all_tasks(workflow: Any) -> list[Any]:
    found = list(workflow.tasks.values())
    for subprocess in workflow.subprocesses.values():
        found += list(subprocess.tasks.values())
    return found


# --- messages between the pools of a collaboration ------------------------------------------


@dataclass(frozen=True)
class PoolMessage:
    """A message one pool of a collaboration threw and another pool's event caught, inside
    the case's workflow (SpiffWorkflow routes it: no outbox, no job)."""

    name: str
    sent_by: str  # the throwing element's id
    caught_by: str  # the catching element's id
    fields: tuple[str, ...]  # what the catch wrote into the task data (its message variable)


def _message_name(task: Any) -> str | None:
    for definition in _definitions(task):
        if isinstance(definition, MessageEventDefinition):
            return str(definition.name)
    return None


def completed_message_events(workflow: Any) -> frozenset[Any]:
    """Ids of the completed tasks that threw or caught a message (a snapshot before a step);
    empty unless the workflow runs a collaboration (one process: no pools to talk between)."""
    if not collaboration_pools(workflow):
        return frozenset()
    return frozenset(
        task.id
        for task in workflow.get_tasks(state=TaskState.COMPLETED)
        if isinstance(task.task_spec, ThrowingEvent | CatchingEvent) and _message_name(task)
    )


def messages_between_pools(workflow: Any, snapshot: frozenset[Any]) -> list[PoolMessage]:
    """The messages thrown and caught between two processes of the workflow since
    ``snapshot`` (``completed_message_events``). A catch matches a throw of the same name
    in another process; a message delivered from outside (another case, the API) has no
    throw here and is not one of them."""
    if not collaboration_pools(workflow):
        return []
    throws: dict[str, list[Any]] = {}
    catches = []
    for task in workflow.get_tasks(state=TaskState.COMPLETED):
        name = _message_name(task) if task.id not in snapshot else None
        if name is None:
            continue
        if isinstance(task.task_spec, ThrowingEvent):
            throws.setdefault(name, []).append(task)
        elif isinstance(task.task_spec, CatchingEvent):
            catches.append((name, task))
    found = []
    for name, catch in catches:
        sender = next((t for t in throws.get(name, []) if t.workflow.spec.name != catch.workflow.spec.name), None)
        if sender is None:
            continue
        variable = next(
            (getattr(d, "message_var", None) for d in _definitions(catch) if isinstance(d, MessageEventDefinition)),
            None,
        )
        found.append(
            PoolMessage(
                name=name,
                sent_by=str(getattr(sender.task_spec, "bpmn_id", "") or ""),
                caught_by=str(getattr(catch.task_spec, "bpmn_id", "") or ""),
                fields=(variable,) if variable else (),
            )
        )
    return found
