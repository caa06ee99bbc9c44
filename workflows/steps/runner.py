"""One engine step of one instance: load, act, advance, save, project, record.

A ``Step`` is the unit of work: the locked instance, who acts, what the caller knows
already (the case's participants, the ready tasks of the loaded state) and the writes it
queues in one ``rows.Batch``. Callers lock the instance with ``lock_instance`` (its case
row with it) inside ``transaction.atomic``; everything written here commits or rolls
back with the caller's action.
"""

from __future__ import annotations

import contextlib
import datetime
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypeVar

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Exists, Model, OuterRef, Q, Subquery
from django.utils import timezone

from bpmn.engine import events as engine_events
from bpmn.engine import runtime as engine
from bpmn.engine import working_hours
from bpmn.engine.errors import EngineError, StateTooLarge, StepLimitExceeded, TaskFailed
from bpmn.engine.timers import parse_iso_duration_text
from bpmn.engine.workflow_cache import WORKFLOW_CACHE
from bpmn.models import ProcessDefinition
from bpmn.registry import DefinitionRuntime, runtime_for
from core import hooks
from core.messages import Message
from permissions import policy, rules
from permissions.models import Agency
from permissions.prepared import quick_new
from workflows import case_outcomes, selectors
from workflows.jobs import errors as job_errors
from workflows.jobs import queue
from workflows.models import (
    ACTIVE_TASK_STATUSES,
    LIVE_INSTANCE_STATUSES,
    Case,
    CaseStatus,
    Event,
    EventKind,
    Incident,
    InstanceStatus,
    OutboxMessage,
    ProcessInstance,
    Task,
    TaskStatus,
    WorkflowEviction,
)
from workflows.steps import rows

M = TypeVar("M", bound=Model)

FINISHED_INSTANCE_STATUSES = (InstanceStatus.COMPLETED, InstanceStatus.CANCELLED)


def locked_instances(*, skip_locked: bool = False):
    """Instances with their case row, both locked (``FOR UPDATE`` covers the joined row).

    Every change of a case's work goes through this lock. The case row is locked in the same
    statement on purpose: after waiting for a lock, PostgreSQL re-reads only the rows it
    locks, so an unlocked joined case row would be the stale version and a parallel branch's
    data would be overwritten.
    """
    # The newest eviction of cached workflows, read in the same statement (no round trip):
    # ``load`` drops what was evicted since this process last looked.
    eviction = WorkflowEviction.objects.order_by("-id").values("id")[:1]
    return (
        ProcessInstance.objects.select_for_update(skip_locked=skip_locked)
        .select_related("case")
        .annotate(eviction_mark=Subquery(eviction))
    )


def forget_cached_workflows(case_ids) -> None:
    """The cached workflows of the instances of ``case_ids`` are dropped in every process:
    their data was erased or changed (an erasure, a correction, a person merge). Written in
    the caller's transaction; this process drops them once it commits, the others at their
    next step's load (``load``)."""
    ids = list(ProcessInstance.objects.filter(case_id__in=list(case_ids)).values_list("pk", flat=True))
    if not ids:
        return
    WorkflowEviction.objects.bulk_create([WorkflowEviction(instance_id=pk) for pk in ids])
    _prune_evictions()
    transaction.on_commit(partial(WORKFLOW_CACHE.forget, ids))


# How long eviction rows are kept. Any age is safe: a process whose last look is older than
# the oldest row kept drops its whole cache (``_evicted_since``); a process that steps
# anything within this time drops only what was evicted since.
EVICTIONS_KEPT_FOR = datetime.timedelta(days=1)


def _prune_evictions() -> None:
    """Delete the eviction rows older than ``EVICTIONS_KEPT_FOR`` but the newest of them: the
    rows left are always every row from some id on (a prefix is deleted), so a process whose
    mark row is still there knows every eviction since (``_evicted_since``). One statement
    by the primary key's index, in the evicting transaction (evictions are rare: an erasure,
    a correction, a person merge). The newest old row is found on the index ``(at, id)``, one
    entry read: found newest by id on the primary key, PostgreSQL walked back over every young
    row (132 ms at 100,000 rows of a day of bulk erasures, 0.07 ms now). Any row found old
    will do: the rows deleted are always a prefix by id."""
    cutoff = timezone.now() - EVICTIONS_KEPT_FOR
    oldest_kept = WorkflowEviction.objects.filter(at__lt=cutoff).order_by("-at", "-id").values("id")[:1]
    WorkflowEviction.objects.filter(id__lt=Subquery(oldest_kept)).delete()


def _evicted_since(mark: int) -> list[int] | None:
    """The instances evicted after the eviction ``mark``, or None when they are no longer all
    known: the row ``mark`` itself was pruned, and with it perhaps rows after it that this
    process never saw (it then drops its whole cache). One statement: the rows are read with
    the mark's own, so a pruning at the same time is seen whole or not at all."""
    rows = list(WorkflowEviction.objects.filter(id__gte=mark).values_list("id", "instance_id"))
    if not any(row_id == mark for row_id, _ in rows):
        return None
    return [instance_id for row_id, instance_id in rows if row_id != mark]


def lock_instance(instance_id: int) -> ProcessInstance:
    return locked_instances().get(pk=instance_id)


def lock_case_work(case_id: int) -> Case:
    """Lock every instance of the case (in id order), then the case row; returns the locked
    case. For a writer that must hold the case and keep its work still (withdrawing an
    agency, correcting a value in the workflow state).

    The order is the engine's: a step locks its instance, then the case (``locked_instances``,
    one statement). A writer that took the case first and the instance after could meet a
    step holding the instance and waiting for the case, and PostgreSQL would fail one of the
    two (``tests/workflows/test_lock_order.py``)."""
    list(
        ProcessInstance.objects.select_for_update().filter(case_id=case_id).order_by("pk").values_list("pk", flat=True)
    )
    return Case.objects.select_for_update().get(pk=case_id)


def lock_case_then(model: type[M], pk: int, case_id: int) -> M:
    """Lock the case row, then row ``pk`` of ``model`` (a note, file, consent or break-glass
    opening of that case), and return that row (its case with it). The case first, as an
    erasure takes them: it holds the case, then scrubs those rows. A writer holding the row
    first and then wanting the case (in the same statement, or its key at the commit for
    the timeline and access-log rows it inserts, which a case held ``FOR UPDATE`` blocks)
    would wait for the erasure while the erasure waits for it, and PostgreSQL would fail one
    (``tests/retention/test_erasure_meets_writers.py``)."""
    list(Case.objects.select_for_update().filter(pk=case_id).values_list("pk", flat=True))
    return model._default_manager.select_for_update(of=("self",)).select_related("case").get(pk=pk)


@dataclass
class Step:
    """One engine step of one locked instance, and the writes it queues.

    ``participants`` (agency kind -> agency) and ``ready_before`` (the ready task ids of the
    state as loaded, less the one being completed) spare the step reading them when the
    caller knows them already. Events go in ``events`` (written at the end, in order).
    """

    instance: ProcessInstance
    actor: Any = None
    acting_agency: Agency | None = None
    events: list[Event] = field(default_factory=list)
    batch: rows.Batch = field(default_factory=rows.Batch)
    participants: dict[str, Agency] | None = None
    ready_before: set[str] | None = None
    # Fields of the case row to write, with its next deadline at the end of the step
    # (``rows.refresh_next_due``): one UPDATE of the row instead of two.
    case_fields: tuple[str, ...] = ()
    # Reads sent after the step's writes in its last batch, in the same round trip
    # (``(sql, params, on_result)`` as ``rows.Batch.add`` takes them): what the caller's
    # answer reads of the step's result (``selectors.OpenTasksRead``), one statement less.
    reads: list[tuple[str, list, Callable]] = field(default_factory=list)
    # The case's ``selectors.case_literals_ever``, read for the step's first incident (``kept``).
    literals_ever: list[str] | None = field(default=None, repr=False)
    # The step is the last thing its caller's ``transaction.atomic`` block does with the
    # database: its last batch sends COMMIT too, one round trip less (``rows.commits_in_batch``
    # says when: the block is the outermost, so not in tests' transactions nor in another
    # caller's). Nothing in the block may read or write after ``write``; Python that raises
    # after it would find the step committed (``rows.send_pipelined``).
    commits: bool = False

    def agencies(self) -> dict[str, Agency]:
        if self.participants is None:
            self.participants = rows.participant_agencies(self.instance.case_id)
        return self.participants

    def event(self, kind: str, **fields) -> Event:
        """Queue a timeline event of this step's case and instance (by the acting user)."""
        fields.setdefault("actor", self.actor)
        event = quick_new(Event)(case_id=self.instance.case_id, instance=self.instance, kind=kind, **fields)
        self.events.append(event)
        return event

    def incident(self, *, kind: str, element_id: str, error: Message, error_class: str = "") -> Incident:
        """Record an incident of this instance; sent at once, since its event names its id.
        ``error`` is said in the reader's language where it is shown: its English text and
        its code with params are stored on the incident (``error``, ``error_message``) and on
        its event (``error``, ``error_message``). It carries no value of case data: scrubbed
        where the engine raised of the workflow's values (``bpmn.engine.scrub``), and here of
        every value the case holds and held and of its person's other cases (``kept``), as a
        job's failure is kept; only a process admin is shown it (``rules.can_see_incident_errors``)."""
        text, message = step_error(self.kept(error))
        incident = Incident(
            instance=self.instance,
            case_id=self.instance.case_id,
            element_id=element_id,
            kind=kind,
            error=text,
            error_message=message,
        )
        self.batch.insert([incident])
        self.batch.flush()
        self.event(
            EventKind.INCIDENT,
            element_id=element_id,
            detail={
                "incident": incident.pk,
                "kind": kind,
                "error_class": error_class,
                "error": text,
                "error_message": message,
            },
        )
        return incident

    def kept(self, error: Message) -> Message:
        """``error`` as an incident of this step keeps it: the texts among its params (the
        engine's or a script's words) scrubbed of every value the case holds and held, and
        of what its person's other cases hold (``selectors.case_literals_ever``, read once a
        step: a value corrected away, a name the register spells another way, which the
        engine's scrub of the workflow's current values does not know), as
        ``queue.record_outcome`` keeps a job's failure (``selectors.error_kept``)."""
        case = self.instance.case if self.instance.case_id is not None else None
        if case is None:
            return error
        if self.literals_ever is None:
            self.literals_ever = selectors.case_literals_ever(case)
        return selectors.message_kept(error, self.literals_ever)

    def merge_case_data(self, data: dict, agency_id: int | None, elements: Collection[str] = ()) -> None:
        """Merge ``data`` into the case's data, each field's source ``agency_id``. Under the
        instance lock with the case row read under it: no lost update.

        ``elements``: the steps writing it (a task, the catches a message reaches). A field a
        step on a branch may write over (``DefinitionRuntime.branch_rewritten``), written by
        none on a branch, is kept apart too (``Case.data_common``): a reader from whom the
        branch is hidden is shown that value, not the branch's."""
        if not data:
            return
        case = self.instance.case
        case.data = {**case.data, **data}
        case.data_sources = {**case.data_sources, **dict.fromkeys(data, agency_id)}
        fields: tuple[str, ...] = ("data", "data_sources")
        # A safety warning's time in force runs from now (``policy.warning_dates``): written in
        # the same update as its source, so the step sends no statement more.
        field_rules = runtime_for(self.instance.definition_id).field_rules
        recorded = policy.recorded_times(field_rules, data)
        if recorded:
            case.data_recorded_at = {**(case.data_recorded_at or {}), **recorded}
            fields += ("data_recorded_at",)
            # When its warnings lapse, for the lists across cases (``policy.warning_columns``).
            fields += policy.keep_warning_columns(case, field_rules)
        rewritten = runtime_for(self.instance.definition_id).branch_rewritten & data.keys()
        if rewritten and not set(elements) & runtime_for(self.instance.definition_id).on_branches:
            case.data_common = {**(case.data_common or {}), **{name: [data[name], agency_id] for name in rewritten}}
            fields += ("data_common",)
        self.case_fields = tuple(dict.fromkeys((*self.case_fields, *fields)))

    def take_case_fields(self) -> tuple[str, ...]:
        """The case fields still to write (``case_fields``); the caller writes them."""
        fields, self.case_fields = self.case_fields, ()
        return fields

    def write(self) -> None:
        """Send what is queued: the events last, in the order they happened. Writers of
        derived rows (the insight summary tables) queue theirs in the same batch first."""
        if self.case_fields:  # not written with the next deadline (no advance): on their own
            self.batch.update(self.instance.case, self.take_case_fields())
        if self.events:
            hooks.write(hooks.STEP_EVENTS, step=self, events=self.events)
        self.batch.insert(self.events)
        self.events = []
        for sql, params, on_result in self.reads:
            self.batch.add(sql, params, on_result)
        self.reads = []
        if self.commits and rows.commits_in_batch(self.batch.db):
            self.batch.commit_at_flush = True
        self.batch.flush()


@dataclass
class StepOutcome:
    created: list[Task] = field(default_factory=list)
    cancelled: list[Task] = field(default_factory=list)
    incident: Incident | None = None
    completed: bool = False


def step_cap() -> int:
    return settings.BROBYGGER["ENGINE_STEP_CAP"]


def load(instance: ProcessInstance) -> tuple[DefinitionRuntime, engine.SafeBpmnWorkflow]:
    """The instance's workflow, to step it: ``advance`` keeps it after the commit, so the
    next step of this instance in this process skips restoring it."""
    runtime = runtime_for(instance.definition_id)
    bundle = runtime.bundle
    WORKFLOW_CACHE.sync(getattr(instance, "eviction_mark", None), _evicted_since)
    workflow = WORKFLOW_CACHE.take(instance.pk, instance.state, bundle.spec)
    if workflow is None:
        workflow = engine.load_workflow(bundle, instance.state)
    return runtime, workflow


def run_step(
    step: Step, act: Callable[[engine.SafeBpmnWorkflow], None], *, completes: str | None = None
) -> StepOutcome:
    """Load the instance, ``act`` on the workflow, advance, save and sync the projection.

    ``completes`` is the task ``act`` completes: its row is already marked completed.
    An expression error or a runaway loop while advancing does not lose what ``act`` did:
    SpiffWorkflow leaves the failing task in ERROR, the state is saved and the instance
    goes to ``incident``. Errors raised by ``act`` itself propagate and roll back.
    """
    runtime, workflow = load(step.instance)
    # The projection mirrors the ready tasks of the loaded state, so the difference after
    # the step tells what to create and cancel without reading the Task rows back.
    step.ready_before = engine.ready_user_task_ids(workflow) - {completes}
    failed = None
    try:
        act(workflow)
    except TaskFailed as exc:
        # The action was taken (a task's data given) but the model's own data handling
        # failed on it: saved, and an incident names the element (retried after a fix).
        failed = exc

    def acted_on_saved_state():
        acted = engine.load_workflow(runtime.bundle, step.instance.state)
        with contextlib.suppress(TaskFailed):  # failed the same way the first time: the incident says so
            act(acted)
        return acted

    return advance(step, runtime, workflow, failed=failed, before_advance=acted_on_saved_state)


def advance(
    step: Step,
    runtime: DefinitionRuntime,
    workflow: engine.SafeBpmnWorkflow,
    *,
    failed: TaskFailed | None = None,
    before_advance: Callable[[], engine.SafeBpmnWorkflow] | None = None,
) -> StepOutcome:
    """Advance the engine and write the step: the instance, its timer job, the task rows,
    the outbox, an incident, the events and notification jobs, in one batch (two when new
    rows need their ids). A state over ``ENGINE_STATE_MAX_BYTES`` is not written: the state
    before the advance is (``before_advance()``, by default the saved one), with an incident."""
    instance, batch = step.instance, step.batch
    outcome = StepOutcome()
    failure = None
    had_incident = instance.status == InstanceStatus.INCIDENT
    previous_due = instance.next_timer_at
    timers_before = engine_events.waiting_timers(workflow)
    messages_before = engine_events.completed_message_events(workflow)
    try:
        if failed is not None:
            raise failed
        engine.advance(workflow, step_cap=step_cap())
    except TaskFailed as exc:
        failure = (exc.kind, exc.element_id or "", task_failure_message(exc), exc.error_class)
    except StepLimitExceeded as exc:
        failure = ("step-limit", "", step_limit_message(exc), type(exc).__name__)
    except EngineError as exc:
        failure = ("engine-error", "", engine_error_message(exc), type(exc).__name__)

    fired = engine_events.fired_timers(workflow, timers_before)
    thrown = engine_events.thrown_messages(workflow)
    between_pools = engine_events.messages_between_pools(workflow, messages_before)
    try:
        instance.state = engine.dump_workflow(workflow, max_bytes=settings.BROBYGGER["ENGINE_STATE_MAX_BYTES"])
    except StateTooLarge as exc:  # the advance is dropped, its timers and messages with it
        failure = ("state-too-large", exc.element_id or "", state_too_large_message(exc), type(exc).__name__)
        fired, thrown = [], []
        between_pools = []
        workflow = before_advance() if before_advance else saved_workflow(instance, runtime)
        instance.state = engine.dump_workflow(workflow)
    instance.version += 1
    instance.next_timer_at = engine.next_timer_due(workflow)
    instance.timer_path_categories = runtime.timer_path_categories
    if failure is None and workflow.is_completed():
        instance.status = InstanceStatus.COMPLETED
        outcome.completed = True
    elif failure is not None or (had_incident and _open_step_incident(instance)):
        instance.status = InstanceStatus.INCIDENT
    else:
        instance.status = InstanceStatus.RUNNING
    # The timer job first, then the instance's row: the step holds its lock (``Step``), so its
    # update rides in the new tasks' insert when one follows (``rows._ride``).
    queue.sync_timer_job(instance, previous_due, batch)
    batch.update(
        instance, ("state", "version", "next_timer_at", "timer_path_categories", "status", "updated_at"), rides=True
    )
    transaction.on_commit(partial(WORKFLOW_CACHE.put, instance.pk, instance.state, workflow))

    for element_id in fired:
        step.event(EventKind.TIMER_FIRED, actor=None, element_id=element_id)
    _send_to_outbox(step, thrown)
    for message in between_pools:
        _record_pool_message(step, runtime, message)
    if failure is None:
        outcome.created, outcome.cancelled = sync_tasks(step, runtime, workflow)
        for element_id in queue.enqueue_service_jobs(step, runtime, workflow):
            step.incident(
                kind="lane-without-participant",
                element_id=element_id,
                error=Message("incident.step.external_task_without_participant", {"element": element_id}),
            )
            instance.status = InstanceStatus.INCIDENT
            batch.update(instance, ("status",))
    if failure is not None:
        kind, element_id, error, error_class = failure
        outcome.incident = step.incident(kind=kind, element_id=element_id, error=error, error_class=error_class)
    if outcome.completed:
        if had_incident:
            _resolve_with_completion(step)
        _complete_case(step, engine.end_reached(workflow))
    # After every write of the case's tasks queued above (and the completion made before
    # the step): the case's next deadline, in the same transaction.
    rows.refresh_next_due(batch, instance.case, step.take_case_fields())
    if outcome.created:
        # Last before the events (``Step.write``): the jobs' insert rides in theirs.
        queue.enqueue_task_notifications(outcome.created, batch)
    step.write()
    return outcome


def _open_step_incident(instance: ProcessInstance) -> bool:
    """Whether an incident of a step of ``instance`` (not of a job) is still open: another
    branch going on (a timer, a message, a correction's re-timing) does not fix it, so the
    instance stays ``incident`` until its retry resolves it. Read only for an instance in
    ``incident``: the healthy step pays nothing."""
    return Incident.objects.filter(instance=instance, job__isnull=True, resolved_at__isnull=True).exists()


def _resolve_with_completion(step: Step) -> None:
    """The instance completed past a step that failed (another branch ended the process, a
    terminate end event cancelled the failed one): nothing is left to retry, so its open
    incidents are resolved with the completion (by nobody, said so on the timeline) rather
    than left open on a finished case."""
    instance = step.instance
    left = list(
        Incident.objects.filter(instance=instance, job__isnull=True, resolved_at__isnull=True).values_list(
            "pk", "element_id"
        )
    )
    if not left:
        return
    Incident.objects.filter(pk__in=[pk for pk, _ in left]).update(resolved_at=timezone.now())
    for pk, element_id in left:
        step.event(
            EventKind.INCIDENT_RESOLVED, actor=None, element_id=element_id, detail={"incident": pk, "by": "completion"}
        )


def retime_timers_reading(instance: ProcessInstance, fields: Collection[str]) -> bool:
    """After a correction replaced ``fields`` in the state of the locked ``instance``
    (``instance.state`` holds the corrected values): the waiting timers of the instance whose
    expression reads one of them (``runtime.timer_value_reads``) are timed again on the corrected
    values, and the step is written (the state, ``next_timer_at``, the timer job), as a message
    that brings new data does. A timer whose new time has passed fires in this step, as its
    job would at once. False, and nothing written, when no such timer waits (the caller saves
    the state itself); a finished instance waits for nothing."""
    if instance.status not in LIVE_INSTANCE_STATUSES:
        return False
    runtime = runtime_for(instance.definition_id)
    wanted = set(fields)
    timers = {timer for timer, reads in runtime.timer_value_reads.items() if reads & wanted}
    if not timers:
        return False
    runtime, workflow = load(instance)
    if not engine_events.reschedule_date_timers(workflow, only=timers):
        return False
    advance(Step(instance, ready_before=engine.ready_user_task_ids(workflow)), runtime, workflow)
    return True


# --- why a step stopped: our words with the engine's, said in the reader's language ------

# A failed task's framing by its kind (``TaskFailed.kind``); its ``detail`` is the engine's
# or the script's own text, shown as it is (scrubbed of the workflow's values by the engine).
TASK_FAILURE_CODES = {
    "expression-error": "incident.step.expression_error",
    "data-error": "incident.step.data_error",
    "engine-error": "incident.step.task_engine_error",
}


def step_error(error: Message) -> tuple[str, dict]:
    """An incident's error as stored: its English text (bounded) and its message."""
    return str(error)[: job_errors.MAX_ERROR], error.as_json()


def task_failure_message(exc: TaskFailed) -> Message:
    if exc.code == "timer-date-out-of-range":  # names the timer and the range: no framing needed
        return Message(f"engine.{exc.code}", exc.params)
    code = TASK_FAILURE_CODES.get(exc.kind, "incident.step.task_engine_error")
    return Message(code, {"detail": engine_detail(exc)})


def engine_detail(exc: BaseException) -> Message | str:
    """What the engine said, as a param: in the reader's words when it is the engine's own
    text (a limit of the sandbox: its code), else as it said it (a script's, SpiffWorkflow's)."""
    if isinstance(exc, EngineError) and exc.code is not None:
        return Message(f"engine.{exc.code}", exc.params)
    if isinstance(exc, StateTooLarge):
        return state_too_large_message(exc)
    if isinstance(exc, StepLimitExceeded) and exc.step_cap:
        return step_limit_message(exc)
    return job_errors.detail(exc.detail if isinstance(exc, TaskFailed) else engine.describe(exc))


def step_limit_message(exc: StepLimitExceeded) -> Message:
    if not exc.step_cap:  # raised without its numbers: the engine's text
        return engine_error_message(exc)
    return Message("incident.step.step_limit", {"limit": exc.step_cap, "element": exc.element_id or ""})


def state_too_large_message(exc: StateTooLarge) -> Message:
    sizes = {"size_bytes": exc.size, "limit_bytes": exc.limit}
    if exc.element_id:
        return Message("incident.step.state_too_large_at", {**sizes, "element": exc.element_id})
    return Message("incident.step.state_too_large", sizes)


def engine_error_message(exc: BaseException) -> Message:
    return Message("incident.step.engine_error", {"detail": job_errors.detail(engine.describe(exc))})


def saved_workflow(instance: ProcessInstance, runtime: DefinitionRuntime) -> engine.SafeBpmnWorkflow:
    """The workflow as last saved; a new instance's as its case data starts it."""
    if instance.state == "{}":
        return engine.new_workflow(runtime.bundle, instance.case.data)
    return engine.load_workflow(runtime.bundle, instance.state)


def _send_to_outbox(step: Step, thrown) -> None:
    """Thrown messages go to the outbox, each with its timeline event and the job that
    delivers it to the case waiting for it (``workflows.jobs.messages``)."""
    if not thrown:
        return
    instance = step.instance
    outbox = [
        OutboxMessage(
            name=message.name,
            payload=message.payload,
            correlations=message.correlations,
            instance=instance,
            case_id=instance.case_id,
            element_id=message.element_id or "",
        )
        for message in thrown
    ]
    step.batch.insert(outbox)
    step.batch.flush()  # the jobs name the rows by id
    queue.enqueue_message_jobs(step, outbox)
    for message in thrown:
        step.event(EventKind.MESSAGE_THROWN, element_id=message.element_id, detail={"name": message.name})


def _record_pool_message(step: Step, runtime: DefinitionRuntime, message) -> None:
    """A message between two pools of the case's collaboration, on the receiving pool's
    agency's line of the timeline: which element sent it, from which pool, what it wrote."""
    sender = runtime.pool_events.get(message.sent_by) or {}
    receiver = runtime.pool_events.get(message.caught_by) or {}
    step.event(
        EventKind.MESSAGE_RECEIVED,
        actor=None,
        element_id=message.caught_by,
        agency=step.agencies().get(receiver.get("agency_kind") or ""),
        detail={
            "name": message.name,
            "from_element": message.sent_by,
            "from_pool": sender.get("pool", ""),
            "to_pool": receiver.get("pool", ""),
            "fields": list(message.fields),
        },
    )


def _complete_case(step: Step, end: str) -> None:
    """The case completes with its last running instance; its event names the end event the
    instance finished at (``end``), which a reader's ``PathView`` shows or hides."""
    instance = step.instance
    others_running = (
        ProcessInstance.objects.filter(case_id=instance.case_id)
        .exclude(pk=instance.pk)
        .exclude(status__in=FINISHED_INSTANCE_STATUSES)
    )
    if others_running.exists():
        return
    case = instance.case
    case.status, case.closed_at = CaseStatus.COMPLETED, timezone.now()
    step.batch.update(case, ("status", "closed_at"))
    case_outcomes.close_outcome(case)
    step.event(EventKind.CASE_COMPLETED, element_id=end)


def due_at_for(due_in: str | None, start):
    """A task's deadline ``due_in`` after ``start``: in days, at the working hour on that
    day, by the timers' rule; with hours or minutes, exactly (months counted from ``start``)."""
    if not due_in:
        return None
    return working_hours.due_in_days(due_in, start) or start + parse_iso_duration_text(due_in, start=start)


def sync_tasks(step: Step, runtime: DefinitionRuntime, workflow) -> tuple[list[Task], list[Task]]:
    """Make the Task rows match the workflow's ready user tasks; returns the created and the
    cancelled tasks (their events queued on the step).

    Without ``step.ready_before`` the active rows are read. A ready task whose lane's agency
    kind has no participant becomes an incident instead of a task nobody can see. New tasks
    are sent at once: their events need the ids.
    """
    instance, batch = step.instance, step.batch
    ready = {task.id: task for task in engine.ready_user_tasks(workflow)}

    def active_rows():
        # Built only when read: making the queryset was 6 % of a completion's Python.
        return Task.objects.filter(instance=instance, status__in=ACTIVE_TASK_STATUSES)

    if step.ready_before is None:
        known = {str(spiff_id) for spiff_id in active_rows().values_list("spiff_task_id", flat=True)}
    else:
        known = step.ready_before
    cancelled = _cancel_withdrawn(step, active_rows, known - set(ready))
    new_ready = [task for spiff_id, task in ready.items() if spiff_id not in known]
    if not new_ready:
        return [], cancelled
    now = timezone.now()
    created = []
    for ready_task in new_ready:
        kind = (runtime.user_tasks.get(ready_task.element_id) or {}).get("agency_kind")
        agency = step.agencies().get(kind) if kind else None
        if agency is None:
            step.incident(
                kind="lane-without-participant",
                element_id=ready_task.element_id,
                error=Message(
                    "incident.step.lane_without_participant",
                    {"task": ready_task.name, "lane": ready_task.lane or "", "kind": kind or ""},
                ),
            )
            instance.status = InstanceStatus.INCIDENT
            batch.update(instance, ("status",))  # after the step's own update of the row
            continue
        created.append(
            quick_new(Task)(
                spiff_task_id=ready_task.id,
                instance=instance,
                case_id=instance.case_id,
                element_id=ready_task.element_id,
                name=ready_task.name,
                lane=ready_task.lane or "",
                agency=agency,
                form=ready_task.form or "",
                handed_over_by=step.acting_agency,
                due_at=due_at_for(ready_task.due_in, now),
                path_categories=runtime.path_masks.get(ready_task.element_id, 0),
            )
        )
    if not created:
        return [], cancelled
    handed = _hand_to_assignees(step, runtime, created, now)
    batch.insert(created)
    batch.flush()
    for task in created:
        step.event(
            EventKind.TASK_CREATED,
            task=task,
            agency=task.agency,
            element_id=task.element_id,
            detail={"name": task.name, "due_at": task.due_at.isoformat() if task.due_at else None},
        )
    for task in handed:
        step.event(
            EventKind.TASK_CLAIMED,
            task=task,
            actor=task.assignee,
            agency=task.agency,
            element_id=task.element_id,
            detail={"to_user": task.assignee_id, "by": "routing"},
        )
    acting = step.acting_agency
    if acting is not None:
        for agency_id, task in {task.agency_id: task for task in created}.items():
            if agency_id != acting.pk:
                step.event(
                    EventKind.HANDOFF,
                    task=task,
                    agency=acting,
                    from_agency=acting,
                    to_agency=task.agency,
                    element_id=task.element_id,
                    detail={"task": task.name},
                )
    return created, cancelled


def _hand_to_assignees(step: Step, runtime: DefinitionRuntime, created: list[Task], now) -> list[Task]:
    """New tasks whose model names an assignee that the routing map hands to a user are
    claimed by that user, if the version's deployer may hand it to them now, as a lead does
    (``rules.can_assign_task``: the deployer leads the agency the task landed on, which still
    holds its grant, and the user works cases there); otherwise they wait in the agency's
    inbox like any task.

    Deploy refused maps the deployer could not vouch for (``bpmn.services``); asked again
    here because the task's very agency is known only now, and because a lead who stepped
    down (or a deployer who left) no longer hands anything: the task waits for the agency,
    which is where every task goes when nobody in charge there picked a person. One query
    for the users and the deployer, only for models that name any."""
    wanted = [(task, (runtime.user_tasks.get(task.element_id) or {}).get("assignee_user")) for task in created]
    names = {name for _task, name in wanted if name}
    if not names:
        return []
    deployed = ProcessDefinition.objects.filter(pk=runtime.definition_id, deployed_by=OuterRef("pk"))
    found = (
        get_user_model()
        .objects.filter(Q(username__in=names) | Exists(deployed), is_active=True)
        .annotate(deployed_it=Exists(deployed))
    )
    by_name = {user.get_username(): user for user in found}
    deployer = next((user for user in by_name.values() if user.deployed_it), None)
    if deployer is None:
        return []
    handed = []
    for task, name in wanted:
        user = by_name.get(name) if name else None
        if user is None:
            continue
        task.case = step.instance.case
        if rules.can_assign_task(deployer, task, user):
            task.status, task.assignee, task.claimed_at = TaskStatus.CLAIMED, user, now
            handed.append(task)
    return handed


def _cancel_withdrawn(step: Step, active_rows: Callable[[], Any], gone: set[str]) -> list[Task]:
    """Completed tasks are no longer active, so only those withdrawn by the engine (an
    interrupting boundary event, a terminate end) are found here."""
    if not gone:
        return []
    cancelled = list(
        active_rows().filter(spiff_task_id__in=gone).only("id", "case_id", "agency_id", "element_id", "name")
    )
    for task in cancelled:
        task.status = TaskStatus.CANCELLED
        step.batch.update(task, ("status",))
        step.event(
            EventKind.TASK_CANCELLED,
            task=task,
            agency_id=task.agency_id,
            element_id=task.element_id,
            detail={"name": task.name},
        )
    return cancelled
