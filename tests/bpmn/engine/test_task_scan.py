"""``task_scan.tasks_in_state`` finds what SpiffWorkflow's tree walk finds.

A step asks for the ready, waiting and started tasks several times; the scan of the task
dicts replaced the library's walk from the root for that (``bpmn.engine.task_scan``). The
two must agree at every point of every model that runs: here each corpus file and each
shipped process is run by bare SpiffWorkflow, and after every advance each state is
asked both ways. Plain Python, no database.
"""

from __future__ import annotations

import contextlib

import pytest
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState
from SpiffWorkflow.workflow import Workflow

from bpmn.engine.runtime import ready_manual_tasks
from bpmn.engine.task_scan import in_walk_order, tasks_in_state
from tests.bpmn.engine import corpus_report as report
from tests.bpmn.engine import corpus_spiff

STATES = {
    "WAITING": TaskState.WAITING,
    "READY": TaskState.READY,
    "STARTED": TaskState.STARTED,
    "ERROR": TaskState.ERROR,
    "READY|WAITING": TaskState.READY | TaskState.WAITING,
    "NOT_FINISHED": TaskState.NOT_FINISHED_MASK,
}


class Disagreement(AssertionError):
    pass


def _compare(workflow, seen: list[int]) -> None:
    for name, state in STATES.items():
        walked_tasks = workflow.get_tasks(state=state)
        scanned_tasks = tasks_in_state(workflow, state)
        walked = {task.id for task in walked_tasks}
        scanned = {task.id for task in scanned_tasks}
        if walked != scanned:
            raise Disagreement(f"{name}: the walk found {len(walked)} tasks, the scan {len(scanned)}")
        if not workflow.subprocesses and [task.id for task in in_walk_order(workflow, list(scanned_tasks))] != [
            task.id for task in walked_tasks
        ]:
            raise Disagreement(f"{name}: the walk's order is not the paths' order")
    # The ready user tasks in the walk's order (``ready_manual_tasks``).
    walked_ready = [task.id for task in workflow.get_tasks(state=TaskState.READY, manual=True)]
    if [task.id for task in ready_manual_tasks(workflow)] != walked_ready:
        raise Disagreement(f"ready manual tasks: the walk found {len(walked_ready)} in another order or number")
    seen.append(len(workflow.subprocesses))


def _run_and_compare(path) -> list[int]:
    """Run ``path`` to its end, comparing after every advance, and the ready tasks inside each
    advance too, in their order, at every pass of the engine (``SafeBpmnWorkflow.get_tasks``,
    which answers from the dict without a subprocess); the subprocess counts seen."""
    seen: list[int] = []
    with _every_ready_pass_compared():
        outcome = corpus_spiff.run_file(path, observe=lambda workflow: _compare(workflow, seen))
    assert "Disagreement" not in outcome.detail, f"{outcome.path}: {outcome.detail}"
    return seen


@contextlib.contextmanager
def _every_ready_pass_compared():
    stock = Workflow.get_tasks

    def compared(workflow, first_task=None, **kwargs):
        walked = stock(workflow, first_task, **kwargs)
        if (
            first_task is None
            and kwargs == {"state": TaskState.READY}
            and isinstance(workflow, BpmnWorkflow)
            and not workflow.subprocesses
        ):
            scanned = in_walk_order(workflow, tasks_in_state(workflow, TaskState.READY))
            if [task.id for task in walked] != [task.id for task in scanned]:
                raise Disagreement(f"a pass's READY: the walk found {len(walked)} tasks, the scan {len(scanned)}")
        return walked

    Workflow.get_tasks = compared
    try:
        yield
    finally:
        Workflow.get_tasks = stock


@pytest.mark.parametrize("path", sorted((report.REPO / "bpmn" / "processes").glob("*.bpmn")), ids=lambda p: p.name)
def test_every_shipped_process_agrees(path):
    assert _run_and_compare(path), "the process ran no step"


def test_every_corpus_model_agrees():
    if not report.corpus_available():
        pytest.skip(f"BPMN corpus not found at {report.CORPUS} (expected ../shared/bpmn-corpus beside the repository)")
    compared, with_subprocesses = 0, 0
    for path in report.corpus_files():
        seen = _run_and_compare(path)
        compared += len(seen)
        with_subprocesses += bool(seen and max(seen))
    # The comparison ran, and on models that start subprocesses (what the scan adds to the dicts).
    assert compared >= 300, compared  # 340 with the corpus of 2026-12
    assert with_subprocesses >= 30, with_subprocesses  # 35
