"""Steps keep the live workflow after their commit, and only then (committed steps only)."""

import pytest

from bpmn.engine import runtime as engine
from bpmn.engine.workflow_cache import WORKFLOW_CACHE
from workflows.models import CaseStatus, ProcessInstance

from .helpers import complete, open_tasks, run_to_end, start_prison_case

# The cache is filled by transaction.on_commit: these tests commit for real.
pytestmark = pytest.mark.django_db(transaction=True)


def test_each_step_after_a_commit_reuses_the_live_workflow(shipped, users, agencies):
    case = start_prison_case(users, agencies)
    instance = case.instances.get()
    WORKFLOW_CACHE.clear()  # the start kept its workflow; count from a cold cache

    done = run_to_end(case, {"has_home": True})

    # The first completion restores from the text (the cache was cleared), every later one
    # takes the workflow its predecessor left.
    assert WORKFLOW_CACHE.misses == 1 and WORKFLOW_CACHE.hits == len(done) - 1
    case.refresh_from_db()
    assert case.status == CaseStatus.COMPLETED
    instance.refresh_from_db()
    assert engine.load_workflow(engine.restore_spec(instance.definition.spec_json), instance.state).is_completed()


def test_a_step_that_rolls_back_leaves_no_workflow_behind(shipped, users, agencies, monkeypatch):
    case = start_prison_case(users, agencies)
    assert len(WORKFLOW_CACHE) == 1  # the start's committed state
    (intake,) = open_tasks(case)
    state_before = ProcessInstance.objects.get(case=case).state
    real_complete = engine.complete_user_task

    def complete_then_fail(workflow, task_id, data):
        real_complete(workflow, task_id, data)  # the live workflow is changed...
        raise RuntimeError("the database went away")  # ...and the step rolls back

    monkeypatch.setattr(engine, "complete_user_task", complete_then_fail)
    with pytest.raises(RuntimeError):
        complete(intake, {"has_home": False}, actor=users["kari"])
    monkeypatch.setattr(engine, "complete_user_task", real_complete)

    assert len(WORKFLOW_CACHE) == 0  # taken by the failed step, never given back
    assert ProcessInstance.objects.get(case=case).state == state_before
    complete(intake, {"has_home": False}, actor=users["kari"])
    assert {task.agency.kind for task in open_tasks(case)} == {"nav", "health", "housing"}


def test_a_workflow_evicted_by_another_process_is_dropped_at_this_process_s_next_load(
    shipped, users, agencies, monkeypatch
):
    """An erasure, a correction or a person merge in another process changes the case's data;
    the workflow this process kept after its last step held the data as it was, in memory,
    until evicted. The eviction is a row every process reads with its next step's lock."""
    from django.db import transaction

    from workflows import steps
    from workflows.models import WorkflowEviction

    erased, other = start_prison_case(users, agencies), start_prison_case(users, agencies)
    erased_instance = erased.instances.get().pk
    assert {erased_instance, other.instances.get().pk} <= set(WORKFLOW_CACHE._items)

    # In another process: its own cache forgets at once, not this one's.
    monkeypatch.setattr(WORKFLOW_CACHE, "forget", lambda keys: None)
    with transaction.atomic():
        steps.forget_cached_workflows([erased.pk])
    monkeypatch.undo()
    assert WorkflowEviction.objects.filter(instance_id=erased_instance).exists()
    assert erased_instance in WORKFLOW_CACHE._items  # still in this process's memory

    (intake,) = open_tasks(other)
    complete(intake, {"has_home": False}, actor=users["kari"])  # this process's next step
    assert erased_instance not in WORKFLOW_CACHE._items
    assert other.instances.get().pk in WORKFLOW_CACHE._items  # the stepped one is kept

    # And once this process has looked, only the instances evicted since are dropped.
    third = start_prison_case(users, agencies)
    monkeypatch.setattr(WORKFLOW_CACHE, "forget", lambda keys: None)
    with transaction.atomic():
        steps.forget_cached_workflows([third.pk])
    monkeypatch.undo()
    complete(open_tasks(other)[0], actor=users[_worker(open_tasks(other)[0])])
    assert third.instances.get().pk not in WORKFLOW_CACHE._items
    assert other.instances.get().pk in WORKFLOW_CACHE._items


def _worker(task):
    return {"prison": "kari", "nav": "nils", "health": "helga", "housing": "bjorn"}[task.agency.kind]
