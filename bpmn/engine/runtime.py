"""Running workflows: load, save, advance, complete user tasks, read timers.

The only module that creates or restores SpiffWorkflow workflows. Two traps it closes:

* the script engine is not saved with a workflow, so every workflow, also one restored
  from the database, is a ``SafeBpmnWorkflow`` whose default engine is the restricted one;
* the spec is stored once per definition version (``serialize_spec``) and instances are
  saved without it, as JSON *text*: jsonb would reorder the task-data deltas.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.exceptions import WorkflowDataException, WorkflowTaskException
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.event_definition import TimerConditionalEventDefinitionConverter
from SpiffWorkflow.bpmn.serializer.default.workflow import (
    BpmnWorkflowConverter,
    TaskConverter,
    WorkflowConverter,
)
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition,
    TimerEventDefinition,
)
from SpiffWorkflow.bpmn.specs.mixins.events.end_event import EndEvent
from SpiffWorkflow.bpmn.specs.mixins.events.start_event import StartEvent
from SpiffWorkflow.exceptions import TaskNotFoundException
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.spiff.serializer.task_spec import ServiceTaskConverter
from SpiffWorkflow.task import Task as SpiffTask
from SpiffWorkflow.util.deep_merge import DeepMerge
from SpiffWorkflow.util.task import TaskState
from SpiffWorkflow.version import __version__ as SPIFF_VERSION

from . import multi_instance, scrub
from .date_range import TimerDateOutOfRange
from .errors import ExpressionError, StateTooLarge, StepLimitExceeded, TaskFailed, TaskStateError
from .expressions import SCRIPT_ENGINE, STEP_TIME_LIMIT_SECONDS, expression_error_of, step_time_limit
from .service_tasks import JobServiceTask, started_service_task
from .state_text import StateWriter, uuid_text
from .task_scan import in_walk_order, tasks_in_state
from .working_hours import CheckedDateTimer, WorkingDayCycleTimer, WorkingDayDurationTimer

multi_instance.install()  # a parallel multi-instance makes at most MAX_PARALLEL_INSTANCES at once

SERIALIZER_VERSION = "1.5"
SPIFFWORKFLOW_VERSION = SPIFF_VERSION


class SafeBpmnWorkflow(BpmnWorkflow):
    """A BpmnWorkflow whose default script engine is the restricted one."""

    def __init__(self, spec: Any, subprocess_specs: Any = None, script_engine: Any = None, **kwargs: Any) -> None:
        super().__init__(spec, subprocess_specs, script_engine=script_engine or SCRIPT_ENGINE, **kwargs)

    def get_tasks(self, first_task: Any = None, **kwargs: Any) -> list[Any]:
        """SpiffWorkflow's, but the ready tasks (``get_tasks(state=READY)``, what each pass of
        ``do_engine_steps`` asks, two or three a step) found in the task dict and put in the
        walk's order (``task_scan.in_walk_order``) when the workflow runs no subprocess,
        instead of walked for from the root: the dict holds what the walk finds. Not with a
        subprocess: inside a pass, a nested call activity's task may be ready where the walk
        does not reach yet (``tests/bpmn/engine/test_task_scan.py`` compares the two at every
        pass of every model). The walk was about 2 % of a completion's instructions each time."""
        if first_task is None and len(kwargs) == 1 and kwargs.get("state") == TaskState.READY and not self.subprocesses:
            return in_walk_order(self, [task for task in self.tasks.values() if task.state & TaskState.READY])
        walked: list[Any] = super().get_tasks(first_task, **kwargs)
        return walked


class SavedTaskConverter(TaskConverter):
    """SpiffWorkflow's ``TaskConverter.to_dict``, the same dictionary (the same keys in the
    same order: the saved text is unchanged, ``tests/bpmn/engine/test_runtime.py``), with
    the ids' texts looked up (``state_text.uuid_text``) and the parent task found once, not three times."""

    def to_dict(self, task: Any) -> dict[str, Any]:
        parent = task.workflow.tasks.get(task._parent)  # ``task.parent``
        if parent is None:
            data, delta = task.data, {}
        else:
            data = {}
            delta = {
                "updates": DeepMerge.get_updated_keys(parent.data, task.data),
                "deletions": DeepMerge.get_deleted_keys(parent.data, task.data),
            }
        return {
            "id": uuid_text(task.id),
            "parent": uuid_text(task._parent) if parent is not None else None,
            "children": [uuid_text(child) for child in task._children],
            "last_state_change": task.last_state_change,
            "state": task.state,
            "task_spec": task.task_spec.name,
            "triggered": task.triggered,
            "internal_data": self.registry.convert(task.internal_data),
            "data": data,
            "delta": delta,
        }


class SpecApartWorkflowConverter(BpmnWorkflowConverter):
    """Serializes a workflow without its spec; restores it onto a cached spec."""

    def mapping_to_dict(self, mapping: Any, **kwargs: Any) -> dict[str, Any]:
        # Its tasks and sub-processes, keyed by UUID (``state_text.uuid_text``).
        convert = self.registry.convert
        return {
            (uuid_text(key) if type(key) is UUID else str(key)): convert(value, **kwargs)
            for key, value in mapping.items()
        }

    def to_dict(self, workflow: Any) -> dict[str, Any]:
        dct: dict[str, Any] = WorkflowConverter.to_dict(self, workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(self, dct: dict[str, Any], spec: Any = None, subprocess_specs: Any = None) -> Any:
        if spec is None:
            raise ValueError("a stored instance is restored onto its definition's spec")
        workflow = self.target_class(spec, subprocess_specs or {}, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


def _build_serializer() -> BpmnWorkflowSerializer:
    config = dict(SPIFF_CONFIG)
    config.pop(BpmnWorkflow)
    config[SpiffTask] = SavedTaskConverter
    config[JobServiceTask] = ServiceTaskConverter
    registry = BpmnWorkflowSerializer.configure(config)
    # Timers due "in days" fall due at a working hour (working_hours.py). Registered under
    # SpiffWorkflow's type names: stored specs restore as ours, and ours stay readable by it.
    TimerConditionalEventDefinitionConverter(WorkingDayDurationTimer, registry, typename="DurationTimerEventDefinition")
    TimerConditionalEventDefinitionConverter(WorkingDayCycleTimer, registry, typename="CycleTimerEventDefinition")
    # A date timer whose computed date is out of range stops on its own incident (date_range.py).
    TimerConditionalEventDefinitionConverter(CheckedDateTimer, registry, typename="TimeDateEventDefinition")
    # Stored under the standard type name, so states stay readable by plain SpiffWorkflow.
    SpecApartWorkflowConverter(SafeBpmnWorkflow, registry, typename="BpmnWorkflow")
    return BpmnWorkflowSerializer(registry, version=SERIALIZER_VERSION)


_SERIALIZER = _build_serializer()
_STATE_WRITER = StateWriter(_SERIALIZER.registry, _SERIALIZER._encoder_cls, SERIALIZER_VERSION)


def _dumps(dct: dict[str, Any]) -> str:
    return json.dumps(dct, cls=_SERIALIZER._encoder_cls, separators=(",", ":"))


# --- specs -----------------------------------------------------------------------------


def serialize_spec(spec: Any, subprocess_specs: dict[str, Any]) -> str:
    """The JSON text stored once per definition version."""
    registry = _SERIALIZER.registry
    registry._encoder_mode = True
    try:
        dct = {
            "spec": registry.convert(spec),
            "subprocess_specs": {name: registry.convert(sub) for name, sub in subprocess_specs.items()},
            "serializer_version": SERIALIZER_VERSION,
        }
        return _dumps(dct)
    finally:
        registry._encoder_mode = False


@dataclass(frozen=True)
class SpecBundle:
    spec: object
    subprocess_specs: dict[str, Any]


def restore_spec(spec_json: str) -> SpecBundle:
    dct = json.loads(spec_json)
    registry = _SERIALIZER.registry
    return SpecBundle(
        spec=registry.restore(dct["spec"]),
        subprocess_specs={name: registry.restore(sub) for name, sub in dct["subprocess_specs"].items()},
    )


class SpecCache:
    """Restored specs per definition version, shared by every request of this process.

    Restoring costs far more than a step, so it happens once. Spec objects are read-only
    while workflows run; the lock only guards the cache itself.
    """

    def __init__(self, max_size: int = 256):
        self._items: OrderedDict[object, SpecBundle] = OrderedDict()
        self._lock = threading.Lock()
        self._max_size = max_size

    def get(self, key: object, load_spec_json: Callable[[], str]) -> SpecBundle:
        with self._lock:
            bundle = self._items.get(key)
            if bundle is not None:
                self._items.move_to_end(key)
                return bundle
        bundle = restore_spec(load_spec_json())
        with self._lock:
            self._items[key] = bundle
            while len(self._items) > self._max_size:
                self._items.popitem(last=False)
        return bundle

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


SPEC_CACHE = SpecCache()


# --- instances -------------------------------------------------------------------------


def new_workflow(bundle: SpecBundle, data: dict[str, Any] | None = None) -> SafeBpmnWorkflow:
    workflow = SafeBpmnWorkflow(bundle.spec, bundle.subprocess_specs)
    if data:
        # Start data goes on the root task so that every task inherits it.
        workflow.task_tree.data.update(data)
        for task in workflow.get_tasks(state=TaskState.ANY_MASK):
            task.data.update(data)
    return workflow


def value_left_by(workflow: SafeBpmnWorkflow, elements: frozenset[str] | set[str], name: str) -> tuple[bool, Any]:
    """``(True, value)``: the value of ``name`` as the last completed task of ``elements``
    (element ids) left it, else as the case started (the root task's data); ``(False, None)``
    when neither has it. For ``workflows/0054``: a stored case's value before a branch wrote
    over it."""
    latest: float | None = None
    found: tuple[bool, Any] = (False, None)
    for task in workflow.get_tasks(state=TaskState.COMPLETED):
        later = latest is None or task.last_state_change > latest
        if task.task_spec.name in elements and name in task.data and later:
            latest, found = task.last_state_change, (True, task.data[name])
    if latest is None and name in workflow.task_tree.data:
        return True, workflow.task_tree.data[name]
    return found


def dump_workflow(workflow: SafeBpmnWorkflow, *, max_bytes: int | None = None) -> str:
    """The state as JSON text; ``StateTooLarge`` when it is longer than ``max_bytes``.

    The text SpiffWorkflow's converter writes (``dump_workflow_whole``), each task's fixed
    part kept with the workflow from its last save (``state_text``)."""
    registry = _SERIALIZER.registry
    registry._encoder_mode = True
    try:
        text = _STATE_WRITER.text(workflow)
    finally:
        registry._encoder_mode = False
    if max_bytes is not None and len(text) > max_bytes:  # ASCII text: characters are bytes
        raise StateTooLarge(len(text), max_bytes, _element_with_most_data(workflow, json.loads(text)))
    return text


def dump_workflow_whole(workflow: SafeBpmnWorkflow) -> str:
    """The state as SpiffWorkflow's converter writes it, every task converted anew: the
    text ``dump_workflow`` must equal (its tests)."""
    registry = _SERIALIZER.registry
    registry._encoder_mode = True
    try:
        dct = registry.convert(workflow)
        dct["serializer_version"] = SERIALIZER_VERSION
        return _dumps(dct)
    finally:
        registry._encoder_mode = False


def _element_with_most_data(workflow: SafeBpmnWorkflow, dct: dict[str, Any]) -> str | None:
    """The element of the task whose own saved data (the delta it added) is largest."""
    tasks = dict(dct.get("tasks", {}))
    for subprocess in dct.get("subprocesses", {}).values():
        tasks.update(subprocess.get("tasks", {}))
    sizes = {
        task_id: len(_dumps({"data": task.get("data"), "delta": task.get("delta")})) for task_id, task in tasks.items()
    }
    for task_id in sorted(sizes, key=lambda task_id: sizes[task_id], reverse=True):
        task = workflow.get_task_from_id(UUID(task_id))
        element_id = getattr(task.task_spec, "bpmn_id", None) if task is not None else None
        if element_id:
            return str(element_id)
    return None


def load_workflow(bundle: SpecBundle, state_json: str) -> SafeBpmnWorkflow:
    dct = json.loads(state_json)
    version = dct.pop("serializer_version", None)
    if version != SERIALIZER_VERSION:
        # SpiffWorkflow's own migrations are not chained and break on subprocesses
        # (engine-notes 8): a stored state of another version is migrated by us, never
        # silently by the library.
        raise ValueError(f"stored state has serializer version {version!r}, expected {SERIALIZER_VERSION}")
    workflow: SafeBpmnWorkflow = _SERIALIZER.registry.restore(
        dct, spec=bundle.spec, subprocess_specs=bundle.subprocess_specs
    )
    return workflow


def advance(workflow: SafeBpmnWorkflow, *, step_cap: int = 1000) -> int:
    """Run engine steps (gateways, scripts, events) until only people or timers are awaited.

    Returns the number of tasks run. Raises StepLimitExceeded past ``step_cap`` so a model
    that spins cannot hang a request.
    """
    steps = 0
    running = [None]

    def count_step(task: Any) -> None:
        nonlocal steps
        steps += 1
        running[0] = task
        if steps > step_cap:
            raise StepLimitExceeded(
                f"more than {step_cap} engine steps without waiting for a person or a timer "
                f"(last element {task.task_spec.bpmn_id!r})",
                step_cap=step_cap,
                element_id=task.task_spec.bpmn_id,
            )

    try:
        # Every script and condition of the step shares one time budget (and each its own).
        with step_time_limit(STEP_TIME_LIMIT_SECONDS):
            workflow.refresh_timers()
            workflow.do_engine_steps(will_complete_task=count_step)
    except (StepLimitExceeded, TaskFailed):
        raise
    except Exception as exc:
        raise task_failure(exc, running[0]) from exc
    return steps


def task_failure(exc: Exception, running: Any = None) -> TaskFailed:
    """SpiffWorkflow's exception (or a plain TypeError from deep inside it) as a TaskFailed
    naming the element that failed, with a task left in ERROR so that a retry runs it again.

    ``running``: the task whose run raised. The element that failed may be another: a
    multi-instance task reads its input collection while it is set up, inside the run of
    the task before it. Then that earlier task goes back to ERROR (a retry runs it again
    and sets its successors up anew), and the incident names the failed element. A task
    whose completion hook failed (a data output or data object missing from its data) is
    already marked COMPLETED, its successors never set up: it is put back to ERROR too.
    """
    failed = getattr(exc, "task", None) or _deepest_task(exc) or running
    retried = running if running is not None else failed
    element_id = getattr(exc, "element_id", None) or getattr(getattr(failed, "task_spec", None), "bpmn_id", None)
    if retried is not None and retried.state in (TaskState.COMPLETED, TaskState.STARTED, TaskState.READY):
        retried._set_state(TaskState.ERROR)
    if isinstance(expression_error_of(exc), TimerDateOutOfRange):
        kind = "timer-date-out-of-range"  # its own incident, naming the timer (date_range)
    elif isinstance(exc, WorkflowDataException | TypeError | KeyError):
        kind = "data-error"
    elif isinstance(exc, WorkflowTaskException | ExpressionError):
        kind = "expression-error"
    else:
        kind = "engine-error"
    detail = str(exc) or type(exc).__name__
    notes = getattr(exc, "__notes__", None)
    if notes:
        detail += " (" + "; ".join(notes) + ")"
    if kind == "data-error" and not isinstance(exc, WorkflowDataException):
        detail = f"{type(exc).__name__}: {detail}"
        message = f"the data the task needs is missing or of the wrong type: {detail}"
    else:
        message = detail
    # Read by people who may not see the data the task read: no value of it in the text.
    workflow = getattr(failed if failed is not None else running, "workflow", None)
    literals = scrub.workflow_literals(workflow)
    model = scrub.model_tokens(workflow) if workflow is not None else None  # none: the rules without it
    message, detail = scrub.scrub(message, literals, model), scrub.scrub(detail, literals, model)
    return TaskFailed(
        message[:2000],
        element_id=element_id,
        kind=kind,
        error_class=scrub.error_class(exc),
        detail=detail[:2000],
        cause=expression_error_of(exc),
    )


def describe(exc: BaseException) -> str:
    """An exception's text with the notes SpiffWorkflow adds ("did you mean ..."), bounded."""
    text = str(exc) or type(exc).__name__
    notes = getattr(exc, "__notes__", None)
    if notes:
        text += " (" + "; ".join(notes) + ")"
    return text[:2000]


# --- user tasks ------------------------------------------------------------------------


@dataclass(frozen=True)
class ReadyTask:
    """A user or manual task waiting for a person."""

    id: str
    element_id: str
    name: str
    lane: str | None
    form: str | None
    due_in: str | None
    kind: str  # "user" or "manual"


def _properties(task_spec: Any) -> dict[str, Any]:
    properties: dict[str, Any] = getattr(task_spec, "extensions", {}).get("properties", {}) or {}
    return properties


def _as_ready_task(task: Any) -> ReadyTask:
    spec = task.task_spec
    properties = _properties(spec)
    return ReadyTask(
        id=str(task.id),
        element_id=spec.bpmn_id,
        name=spec.bpmn_name or spec.bpmn_id,
        lane=spec.lane,
        form=properties.get("formJsonSchemaFilename"),
        due_in=properties.get("dueIn"),
        kind="manual" if spec.__class__.__name__ == "ManualTask" else "user",
    )


def ready_user_tasks(workflow: SafeBpmnWorkflow) -> list[ReadyTask]:
    """The tasks waiting for a person, in the tree's order (new Task rows are made in it)."""
    return [_as_ready_task(task) for task in ready_manual_tasks(workflow)]


def ready_manual_tasks(workflow: Any) -> list[Any]:
    """SpiffWorkflow's ready manual tasks, as ``workflow.get_tasks(state=READY, manual=True)``
    lists them: found in the task dicts (``tasks_in_state``) and put in the walk's order
    (``in_walk_order``); walked for from the root only when two or more are ready and a
    subprocess runs (a subprocess's tasks sit in the walk's order by the task that started
    it). A step asks once; the walk was about 2 % of a completion's instructions
    (``tests/bpmn/engine/test_task_scan.py`` compares the two)."""
    ready = [task for task in tasks_in_state(workflow, TaskState.READY) if task.task_spec.manual]
    if len(ready) < 2:
        return ready
    if not workflow.subprocesses:
        return in_walk_order(workflow, ready)
    walked: list[Any] = workflow.get_tasks(state=TaskState.READY, manual=True)
    return walked


def ready_user_task_ids(workflow: SafeBpmnWorkflow) -> set[str]:
    """The ids of ``ready_user_tasks``, when their order does not matter."""
    return {str(task.id) for task in tasks_in_state(workflow, TaskState.READY) if task.task_spec.manual}


def complete_user_task(workflow: SafeBpmnWorkflow, task_id: str, data: dict[str, Any]) -> ReadyTask:
    """Complete a ready user/manual task with ``data`` merged into its task data.

    SpiffWorkflow's ``task.run()`` completes tasks in any state (engine-notes 4): check first.
    """
    try:
        task = workflow.get_task_from_id(UUID(str(task_id)))
    except (ValueError, KeyError, TaskNotFoundException):  # SpiffWorkflow 3.2 raises the last
        task = None
    if task is None:
        raise TaskStateError(f"task {task_id} does not exist in this workflow")
    if not task.task_spec.manual:
        raise TaskStateError(f"task {task.task_spec.bpmn_id!r} is not a user or manual task")
    if task.state != TaskState.READY:
        raise TaskStateError(f"task {task.task_spec.bpmn_id!r} is {TaskState.get_name(task.state)}, not READY")
    ready = _as_ready_task(task)
    task.data.update(data)
    try:
        task.run()
    except TaskFailed:
        raise
    except Exception as exc:
        # The data was taken; the model's own data handling failed (e.g. a data object
        # the task should set is not in the data): the task waits in ERROR for a retry.
        raise task_failure(exc, task) from exc
    return ready


def complete_service_task(workflow: SafeBpmnWorkflow, task_id: str, data: dict[str, Any]) -> str:
    """Merge ``data`` (the fields taken from the answer) into the started service task's
    data and complete it; returns its element id. TaskStateError when it no longer waits;
    TaskFailed (the task in ERROR) when the model's own data handling fails on it."""
    task = started_service_task(workflow, task_id)
    task.data.update(data)
    try:
        task.complete()
    except Exception as exc:
        raise task_failure(exc, task) from exc
    return str(task.task_spec.bpmn_id)


def collaboration_pools(workflow: Any) -> frozenset[str]:
    """The pools a collaboration's workflow runs (their process ids), empty for a process.

    ``BpmnParser.get_collaboration`` builds a spec with no start event of its own whose
    tasks are a call activity per executable pool, named after the pool's process (no
    element of the diagram: the pool's shape is its participant). A process always has a
    start event; its embedded sub-processes are named after their element as well, so the
    start event is what tells the two apart."""
    if not workflow.subprocesses:
        return frozenset()
    specs = workflow.spec.task_specs.values()
    if any(isinstance(spec, StartEvent) for spec in specs):
        return frozenset()
    return frozenset(spec.bpmn_id for spec in specs if spec.bpmn_id and getattr(spec, "spec", None) == spec.bpmn_id)


def element_states(workflow: SafeBpmnWorkflow) -> tuple[set[str], set[str]]:
    """(completed element ids, active element ids) for drawing on the diagram."""
    completed, active = set(), set()
    pools = collaboration_pools(workflow)
    for task in workflow.get_tasks(state=TaskState.ANY_MASK):
        bpmn_id = getattr(task.task_spec, "bpmn_id", None)
        if not bpmn_id or (bpmn_id in pools and task.workflow is workflow):
            continue
        if task.state == TaskState.COMPLETED:
            completed.add(bpmn_id)
        elif task.state in (TaskState.READY, TaskState.WAITING, TaskState.STARTED, TaskState.ERROR):
            active.add(bpmn_id)
    return completed, active


def end_reached(workflow: SafeBpmnWorkflow) -> str:
    """The id of the end event a completed workflow finished at: of its own process (a
    pool's or a sub-process's end ends no case) when it has one, the last reached; "" when
    none (a terminated or cancelled workflow)."""
    ends = [
        task
        for task in workflow.get_tasks(state=TaskState.COMPLETED)
        if isinstance(task.task_spec, EndEvent) and getattr(task.task_spec, "bpmn_id", None)
    ]
    own = [task for task in ends if task.workflow is workflow] or ends
    if not own:
        return ""
    last = max(own, key=lambda task: (task.last_state_change, task.task_spec.bpmn_id))
    return str(last.task_spec.bpmn_id)


# --- timers ----------------------------------------------------------------------------


def _timer_due(task: Any) -> datetime | None:
    event_value = task._get_internal_data("event_value")
    if event_value is None:
        return None
    if isinstance(event_value, dict):  # cycle timer: {"cycles", "next", "duration"}
        if event_value.get("cycles") == 0:
            return None
        return datetime.fromisoformat(event_value["next"]).astimezone(UTC)
    value = TimerEventDefinition.parse_time_or_duration(event_value)
    return value if isinstance(value, datetime) else None


def next_timer_due(workflow: SafeBpmnWorkflow) -> datetime | None:
    """The earliest due time among the workflow's waiting timers (also behind event gateways)."""
    due_times = []
    for task in tasks_in_state(workflow, TaskState.WAITING):
        definition = getattr(task.task_spec, "event_definition", None)
        definitions = getattr(definition, "event_definitions", None) or [definition]
        if any(isinstance(d, TimerEventDefinition | CycleTimerEventDefinition) for d in definitions):
            due = _timer_due(task)
            if due is not None:
                due_times.append(due)
    return min(due_times, default=None)


@dataclass(frozen=True)
class WaitingEvent:
    """An event the workflow waits on: a timer (``due`` set) or a message (``message`` set)."""

    element_id: str
    name: str
    due: datetime | None = None
    message: str | None = None


def waiting_events(workflow: SafeBpmnWorkflow) -> list[WaitingEvent]:
    """What the workflow waits for besides user tasks, soonest timer first (for saying
    "the case waits for X until Y" when no agency has work)."""
    found = []
    for task in workflow.get_tasks(state=TaskState.WAITING):
        definition = getattr(task.task_spec, "event_definition", None)
        definitions = getattr(definition, "event_definitions", None) or [definition]
        name = getattr(task.task_spec, "bpmn_name", None) or ""
        element_id = getattr(task.task_spec, "bpmn_id", None) or ""
        if any(isinstance(d, TimerEventDefinition | CycleTimerEventDefinition) for d in definitions):
            found.append(WaitingEvent(element_id, name, due=_timer_due(task)))
        for d in definitions:
            if isinstance(d, MessageEventDefinition):
                found.append(WaitingEvent(element_id, name, message=getattr(d, "name", None)))
    far = datetime.max.replace(tzinfo=UTC)
    return sorted(found, key=lambda event: (event.due is None, event.due or far, event.name))


def rerun_errored_tasks(workflow: SafeBpmnWorkflow) -> int:
    """Run again every task left in ERROR (after its cause was fixed). Raises TaskFailed if
    one fails again."""
    errored = workflow.get_tasks(state=TaskState.ERROR)
    for task in errored:
        try:
            task.run()
        except TaskFailed:
            raise
        except Exception as exc:
            raise task_failure(exc, task) from exc
    return len(errored)


def set_errored_task_data(workflow: SafeBpmnWorkflow, element_id: str, data: dict[str, Any]) -> int:
    """Merge ``data`` (the missing input collection, data output or variable an incident
    names) into the data of the tasks that wait in ERROR, where a retry starts, and of the
    unfinished tasks of ``element_id``. Returns how many tasks of ``element_id`` there were
    (0: nothing of that element waits for a retry)."""
    errored = workflow.get_tasks(state=TaskState.ERROR)
    if not errored:
        return 0
    of_element = [
        task
        for task in workflow.get_tasks(state=TaskState.NOT_FINISHED_MASK | TaskState.ERROR)
        if getattr(task.task_spec, "bpmn_id", None) == element_id
    ]
    for task in {id(t): t for t in [*errored, *of_element]}.values():
        task.data.update(data)
    return len(of_element)


def _deepest_task(exc: BaseException) -> Any:
    """The innermost SpiffWorkflow task being worked on where ``exc`` was raised."""
    found = None
    trace = exc.__traceback__
    while trace is not None:
        for name in ("my_task", "task"):
            candidate = trace.tb_frame.f_locals.get(name)
            if isinstance(candidate, SpiffTask):
                found = candidate
        trace = trace.tb_next
    return found
