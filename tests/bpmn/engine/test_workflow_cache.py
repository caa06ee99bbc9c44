"""The cache of live workflows hands a workflow out only for the exact state it was saved as."""

import json
from pathlib import Path

import pytest

from bpmn.engine import runtime as engine
from bpmn.engine.definition import compile_definition
from bpmn.engine.workflow_cache import WorkflowCache

PROCESSES = Path(__file__).resolve().parents[3] / "bpmn" / "processes"


@pytest.fixture(scope="module")
def bundle():
    from bpmn.loading import forms_for

    path = PROCESSES / "prison_release_to_housing.bpmn"
    compiled = compile_definition(path.read_bytes(), forms=forms_for(path), filename=path.name)
    return engine.restore_spec(compiled.spec_json)


@pytest.fixture
def saved(bundle):
    workflow = engine.new_workflow(bundle)
    engine.advance(workflow)
    return workflow, engine.dump_workflow(workflow)


def test_a_workflow_comes_back_for_its_own_state_once(bundle, saved):
    workflow, state = saved
    cache = WorkflowCache()
    cache.put(7, state, workflow)

    assert cache.take(7, state, bundle.spec) is workflow
    assert cache.take(7, state, bundle.spec) is None  # taken: the caller owns it now
    assert (cache.hits, cache.misses) == (1, 1)


def test_another_state_text_is_a_miss_and_drops_the_entry(bundle, saved):
    workflow, state = saved
    cache = WorkflowCache()
    cache.put(7, state, workflow)

    assert cache.take(7, state + " ", bundle.spec) is None
    assert cache.take(7, state, bundle.spec) is None
    assert len(cache) == 0


def test_a_workflow_on_another_spec_object_is_a_miss(bundle, saved):
    workflow, state = saved
    cache = WorkflowCache()
    cache.put(7, state, workflow)

    assert cache.take(7, state, object()) is None


def test_the_cache_keeps_the_most_recently_saved_workflows(bundle, saved):
    workflow, state = saved
    cache = WorkflowCache(max_size=2)
    for key in (1, 2, 3):
        cache.put(key, state, workflow)

    assert len(cache) == 2
    assert cache.take(1, state, bundle.spec) is None
    assert cache.take(3, state, bundle.spec) is workflow


def test_size_zero_keeps_nothing(bundle, saved):
    workflow, state = saved
    cache = WorkflowCache(max_size=0)
    cache.put(1, state, workflow)

    assert cache.take(1, state, bundle.spec) is None


def test_a_cached_workflow_steps_like_one_restored_from_its_text(bundle, saved):
    workflow, state = saved
    restored = engine.load_workflow(bundle, state)
    for candidate in (workflow, restored):
        (ready,) = engine.ready_user_tasks(candidate)
        engine.complete_user_task(candidate, ready.id, {"has_home": False})
        engine.advance(candidate)

    assert _shape(workflow) == _shape(restored)


def _shape(workflow):
    """Every task's element, state and data (ids and clock times differ by run)."""
    tasks = sorted(
        (task.task_spec.name, task.state, json.dumps(task.data, sort_keys=True, default=str))
        for task in workflow.get_tasks()
    )
    return tasks, [ready.element_id for ready in engine.ready_user_tasks(workflow)]


class _Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_a_workflow_kept_past_its_age_is_a_miss(bundle, saved):
    """An erased or corrected case's old workflow does not come back after ``max_age``."""
    workflow, state = saved
    clock = _Clock()
    cache = WorkflowCache(max_age=60, clock=clock)
    cache.put(7, state, workflow)
    clock.now += 61

    assert cache.take(7, state, bundle.spec) is None
    assert cache.misses == 1


def test_entries_past_their_age_go_without_any_step(bundle, saved):
    """An idle process (nothing stepped, nothing loaded) drops its old entries: ``expire``, as
    its thread calls it, keeps only those younger than ``max_age``."""
    workflow, state = saved
    clock = _Clock()
    cache = WorkflowCache(max_age=60, clock=clock)
    cache.put(1, state, workflow)
    clock.now += 40
    cache.put(2, state, workflow)
    clock.now += 30

    assert cache.expire() == 1
    assert cache.take(2, state, bundle.spec) is workflow


def test_the_cache_empties_itself_while_the_process_is_idle(saved):
    """The daemon thread drops the entries past their age with no call at all."""
    import time

    workflow, state = saved
    cache = WorkflowCache(max_age=0.05)
    cache.put(1, state, workflow)
    cache.put(2, state, workflow)
    deadline = time.monotonic() + 5
    while len(cache) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert len(cache) == 0
