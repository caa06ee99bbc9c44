"""The step machinery: one locked engine step of one instance (``runner``), written in few
round trips (``rows``)."""

from workflows.steps.runner import (
    Step,
    StepOutcome,
    advance,
    due_at_for,
    forget_cached_workflows,
    load,
    lock_case_then,
    lock_case_work,
    lock_instance,
    locked_instances,
    retime_timers_reading,
    run_step,
    step_cap,
    sync_tasks,
)

__all__ = [
    "Step",
    "StepOutcome",
    "advance",
    "due_at_for",
    "forget_cached_workflows",
    "load",
    "lock_case_then",
    "lock_case_work",
    "lock_instance",
    "locked_instances",
    "retime_timers_reading",
    "run_step",
    "step_cap",
    "sync_tasks",
]
