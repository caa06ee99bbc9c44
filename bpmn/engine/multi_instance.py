"""A parallel multi-instance task makes all its instances at once: bound how many.

SpiffWorkflow creates one child task per item of the input collection (or per count of the
loop cardinality) when the task is set up, in the request that reaches it. A count of
100,000 typed into a form took 5 s of CPU and left 100,000 ready tasks; a list of 200,000
zeros (under the 1 MB data limit) ran for minutes; ten million would take a worker's
memory. The count is checked before any child is made: past ``MAX_PARALLEL_INSTANCES``
the task fails with a ``WorkflowDataException`` (an incident of kind ``data-error`` naming
the element; a process admin corrects the data and retries). A sequential multi-instance
makes one instance at a time and is left alone: its script instances count against the
engine's step cap, its user tasks wait for people one by one.

Plain Python: this module must never import Django.
"""

from __future__ import annotations

from collections.abc import Sized
from typing import Any

from SpiffWorkflow.bpmn.exceptions import WorkflowDataException
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import ParallelMultiInstanceTask

from .errors import EngineError

MAX_PARALLEL_INSTANCES = 500


class TooManyInstances(WorkflowDataException, EngineError):
    """The limit, as SpiffWorkflow's data error (the incident's kind) with the engine's code."""

    def __init__(self, my_task: Any, spec: Any):
        WorkflowDataException.__init__(
            self,
            f"the parallel multi-instance would make more than {MAX_PARALLEL_INSTANCES:,} instances at once, "
            "more than the limit; make the collection or the loop cardinality smaller, or run it sequentially",
            my_task,
            data_input=spec.data_input,
            data_output=spec.data_output,
        )
        self.with_code("parallel-instances-limit", limit=MAX_PARALLEL_INSTANCES)


_create_children = ParallelMultiInstanceTask.create_children


def _instance_count(spec: Any, my_task: Any) -> int | None:
    """How many instances ``spec`` is about to make, or None when SpiffWorkflow will refuse
    the input itself (missing, not a collection)."""
    if spec.data_input is not None:
        if not spec.data_input.exists(my_task):
            return None
        data = spec.data_input.get(my_task)
        return len(data) if isinstance(data, Sized) else None
    count = my_task.workflow.script_engine.evaluate(my_task, spec.cardinality)
    return count if isinstance(count, int) else None


def _bounded_create_children(self: Any, my_task: Any) -> None:
    count = _instance_count(self, my_task)
    if count is not None and count > MAX_PARALLEL_INSTANCES:
        # The count comes from case data: the message gives the limit, never the count.
        raise TooManyInstances(my_task, self)
    _create_children(self, my_task)


def install() -> None:
    """Bound every parallel multi-instance of the process (idempotent)."""
    ParallelMultiInstanceTask.create_children = _bounded_create_children
