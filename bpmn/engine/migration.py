"""Moving a running workflow onto a new version of its process, with SpiffWorkflow's own
diff and migration helpers (``SpiffWorkflow.bpmn.util.diff``).

``diff_workflow`` aligns the old version's elements with the new one's (by id, then by
their place in the flow) and lists the tasks of the instance whose element is gone;
``migrate_workflow`` points every task at its new element and sets the waiting branches up
again on the new model. What SpiffWorkflow leaves to us, and this module decides:

* a task of an element the new version no longer has cannot be moved: a waiting one would
  wait on nothing, a finished one could not be restored (its element is looked up by id
  when the state is loaded). Both refuse the migration, naming the element;
* a called or embedded process the new version lacks refuses it too;
* a waiting timer whose element did not change keeps its due time (``reset_branch`` would
  start it again from now); a changed timer counts from the migration.

Nothing here knows Django: the service decides who may, locks and records.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from SpiffWorkflow.bpmn.util.diff import diff_workflow, migrate_workflow
from SpiffWorkflow.util.task import TaskState

from .errors import EngineError
from .runtime import _SERIALIZER, SafeBpmnWorkflow, SpecBundle

UNFINISHED = TaskState.READY | TaskState.WAITING | TaskState.STARTED | TaskState.ERROR
FINISHED = TaskState.COMPLETED | TaskState.CANCELLED


@dataclass(frozen=True)
class TaskMapping:
    """A task the instance waits on, and the element it waits on in the new version."""

    task_id: str
    element_id: str
    name: str
    state: str
    new_element_id: str | None
    changed: tuple[str, ...] = ()  # attributes of the element that differ in the new version


@dataclass(frozen=True)
class MigrationProblem:
    """Why the instance cannot move: ``reason`` is a stable code (see ``REASONS``)."""

    element_id: str
    reason: str


# Why an instance cannot move: the case waits on an element the new version lacks, has
# passed one, runs a subprocess it lacks, or has a task no element of it matches.
REASONS = ("waiting-element-removed", "finished-element-removed", "subprocess-removed", "not-aligned")


@dataclass
class MigrationPreview:
    waiting: list[TaskMapping] = field(default_factory=list)
    problems: list[MigrationProblem] = field(default_factory=list)

    @property
    def possible(self) -> bool:
        return not self.problems


class MigrationRefused(EngineError):
    def __init__(self, problems: list[MigrationProblem]):
        self.problems = problems
        super().__init__("; ".join(f"{p.element_id}: {p.reason}" for p in problems))


def _element(task: Any) -> str:
    return str(getattr(task.task_spec, "bpmn_id", None) or task.task_spec.name)


def _diffs(workflow: SafeBpmnWorkflow, new: SpecBundle) -> tuple[Any, dict[Any, Any]]:
    diffs: tuple[Any, dict[Any, Any]] = diff_workflow(_SERIALIZER.registry, workflow, new.spec, new.subprocess_specs)
    return diffs


def preview(workflow: SafeBpmnWorkflow, new: SpecBundle) -> MigrationPreview:
    """What moving ``workflow`` onto ``new`` would do: each waiting task with its new
    element, and every reason it cannot move. Changes nothing."""
    top, subprocess_diffs = _diffs(workflow, new)
    result = MigrationPreview()
    seen_problems: set[tuple[str, str]] = set()

    def problem(element_id: str, reason: str) -> None:
        if (element_id, reason) not in seen_problems:
            seen_problems.add((element_id, reason))
            result.problems.append(MigrationProblem(element_id, reason))

    subprocess_tasks: dict[Any, Any] = {}
    for sp_id, sp_diff in subprocess_diffs.items():
        owner = workflow.get_task_from_id(sp_id)
        subprocess_tasks[sp_id] = owner
        if sp_diff is None:
            problem(_element(owner) if owner is not None else str(sp_id), "subprocess-removed")
    for diff in [top, *(d for d in subprocess_diffs.values() if d is not None)]:
        removed = set(diff.removed)
        for task in removed:
            if task.state & UNFINISHED:
                problem(_element(task), "waiting-element-removed")
            elif task.state & FINISHED:
                problem(_element(task), "finished-element-removed")
        for task, new_spec in diff.alignment.items():
            if not task.state & UNFINISHED or not getattr(task.task_spec, "bpmn_id", None):
                continue
            if new_spec is None:
                continue
            changes = tuple(_changed_attributes(task.task_spec, new_spec))
            result.waiting.append(
                TaskMapping(
                    task_id=str(task.id),
                    element_id=_element(task),
                    name=task.task_spec.bpmn_name or _element(task),
                    state=TaskState.get_name(task.state),
                    new_element_id=getattr(new_spec, "bpmn_id", None) or new_spec.name,
                    changed=changes,
                )
            )
        for task in removed:
            if task.state & UNFINISHED and getattr(task.task_spec, "bpmn_id", None):
                result.waiting.append(
                    TaskMapping(
                        task_id=str(task.id),
                        element_id=_element(task),
                        name=task.task_spec.bpmn_name or _element(task),
                        state=TaskState.get_name(task.state),
                        new_element_id=None,
                    )
                )
    result.waiting.sort(key=lambda mapping: (mapping.element_id, mapping.task_id))
    return result


def _changed_attributes(old_spec: Any, new_spec: Any) -> list[str]:
    registry = _SERIALIZER.registry
    before, after = registry.convert(old_spec), registry.convert(new_spec)
    if before.get("typename") != after.get("typename"):
        return ["typename"]
    ignored = {"inputs", "outputs"}  # the flow around it: not a change of the element itself
    return sorted(key for key, value in before.items() if key not in ignored and after.get(key) != value)


def migrate(workflow: SafeBpmnWorkflow, new: SpecBundle) -> MigrationPreview:
    """Move ``workflow`` (in place) onto ``new``. ``MigrationRefused`` with every problem,
    the workflow untouched, when it cannot."""
    result = preview(workflow, new)
    if not result.possible:
        raise MigrationRefused(result.problems)
    top, subprocess_diffs = _diffs(workflow, new)
    kept_timers = _unchanged_waiting_internal_data(top, subprocess_diffs)
    migrate_workflow(top, workflow, new.spec)
    for sp_id, sp_diff in subprocess_diffs.items():
        subprocess = workflow.subprocesses[sp_id]
        migrate_workflow(sp_diff, subprocess, new.subprocess_specs[subprocess.spec.name])
    workflow.subprocess_specs = new.subprocess_specs
    for task_id, internal_data in kept_timers.items():
        task = workflow.get_task_from_id(task_id)
        if task is not None and task.state == TaskState.WAITING:
            task.internal_data = internal_data
    strays = [
        MigrationProblem(_element(task), "not-aligned")
        for task in workflow.get_tasks(state=TaskState.ANY_MASK)
        if not _belongs_to(task, new)
    ]
    if strays:
        raise MigrationRefused(strays)
    return result


def _unchanged_waiting_internal_data(top: Any, subprocess_diffs: dict[Any, Any]) -> dict[Any, dict[str, Any]]:
    """Internal data (a timer's due time) of the waiting tasks whose element is unchanged."""
    kept: dict[Any, dict[str, Any]] = {}
    for diff in [top, *(d for d in subprocess_diffs.values() if d is not None)]:
        for task, new_spec in diff.alignment.items():
            if task.state != TaskState.WAITING or new_spec is None or not task.internal_data:
                continue
            if not _changed_attributes(task.task_spec, new_spec):
                kept[task.id] = dict(task.internal_data)
    return kept


def _belongs_to(task: Any, new: SpecBundle) -> bool:
    spec = task.task_spec
    owner = task.workflow.spec
    return owner.task_specs.get(spec.name) is spec and (
        owner is new.spec or any(owner is sub for sub in new.subprocess_specs.values())
    )
