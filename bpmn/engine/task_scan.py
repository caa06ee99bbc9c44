"""Finding a workflow's tasks by state without walking its tree (plain SpiffWorkflow)."""

from __future__ import annotations

from typing import Any


def tasks_in_state(workflow: Any, state: int) -> list[Any]:
    """The tasks of ``workflow`` and of its subprocesses in ``state``, a mask of the states of
    unfinished (or errored) tasks: what ``workflow.get_tasks(state=state)`` returns, in no
    particular order. Not for finished states: the walk skips some finished tasks (of a
    multi-instance, of a pruned branch) that the dicts still hold.

    SpiffWorkflow's iterator walks the tree from the root and filters (about 60 us for a
    56-task case on this machine), and a step asked it five times; the tasks are in dicts
    already (the top workflow's and each subprocess's), and scanning them takes 3 us.
    ``tests/bpmn/engine/test_task_scan.py`` compares the two on every shipped and corpus
    model."""
    found = [task for task in workflow.tasks.values() if task.state & state]
    for subprocess in workflow.subprocesses.values():
        found += [task for task in subprocess.tasks.values() if task.state & state]
    return found


def in_walk_order(workflow: Any, tasks: list[Any]) -> list[Any]:
    """``tasks`` of ``workflow`` (one that runs no subprocess) in the order SpiffWorkflow's
    walk from the root meets them: depth first, a task before its children, the children in
    their order. That is the order of each task's path from the root, written as its place
    among its parent's children at each level; a few tasks' paths cost a tenth of a walk.
    ``tests/bpmn/engine/test_task_scan.py`` compares the two on every model."""
    if len(tasks) < 2:
        return list(tasks)
    by_id = workflow.tasks

    def path(task: Any) -> list[int]:
        places = []
        while task._parent is not None:
            parent = by_id[task._parent]
            places.append(parent._children.index(task.id))
            task = parent
        places.reverse()
        return places

    return sorted(tasks, key=path)
