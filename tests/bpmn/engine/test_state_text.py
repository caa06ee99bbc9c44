"""A step's save keeps each task's fixed part from the last save (``state_text``) and still
writes, character for character, the text SpiffWorkflow's converter writes
(``runtime.dump_workflow_whole``, held to SpiffWorkflow's own in ``test_runtime``): on one
live workflow saved after every step, as ``WORKFLOW_CACHE`` keeps it, through parallel
gateways, a sub-process, timers (a date and a cycle) and a loop; states saved by the old
code go on under the new, and data changed in place is written anew."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bench.samples import sample_form_data
from bpmn.engine import runtime as engine
from bpmn.engine import state_text
from bpmn.engine.definition import compile_definition
from tests.bpmn.engine.bpmn_snippets import SIMPLE_FORM, valid_model
from tests.clock import Clock

PROCESSES = Path(__file__).resolve().parents[3] / "bpmn" / "processes"
FORMS = {p.name: json.loads(p.read_text()) for p in (PROCESSES / "forms").glob("*.json")}


def _bundle(xml: bytes, name: str, forms: dict) -> engine.SpecBundle:
    return engine.restore_spec(compile_definition(xml, forms=forms, filename=name).spec_json)


@pytest.fixture(scope="module")
def prison_bundle():
    path = PROCESSES / "prison_release_to_housing.bpmn"
    return _bundle(path.read_bytes(), path.name, FORMS)


def _restored(bundle, text: str) -> dict:
    """Everything a restored workflow holds of its tasks, in every (sub-)workflow."""
    workflow = engine.load_workflow(bundle, text)
    return {
        str(task.id): (
            task.task_spec.name,
            task.state,
            task.last_state_change,
            task.triggered,
            [str(child) for child in task._children],
            task.data,
            task.internal_data,
        )
        for task in workflow.get_tasks()
    } | {"workflow data": workflow.data, "subprocesses": sorted(map(str, workflow.subprocesses))}


def _saved_as_before(bundle, workflow) -> str:
    """Saved by the new path and by the old, the same text; it restores to the same workflow."""
    new, old = engine.dump_workflow(workflow), engine.dump_workflow_whole(workflow)
    assert new == old
    assert _restored(bundle, new) == _restored(bundle, old)
    return new


def test_a_prison_case_saved_after_every_step_is_the_old_text(prison_bundle, monkeypatch):
    """The whole case on one live workflow: the intake, the parallel split and join, the
    release-date timer firing while the home is sought, the sub-process's monthly cycle
    timer (six visits), the end."""
    clock = Clock(monkeypatch, datetime(2026, 12, 1, 9, tzinfo=UTC))
    workflow = engine.new_workflow(prison_bundle, {"person": {"names": ["Kari"]}})
    engine.advance(workflow)
    seen, fired, in_sub_process = set(), 0, 0
    for _ in range(80):
        _saved_as_before(prison_bundle, workflow)
        in_sub_process += bool(workflow.subprocesses)
        ready = engine.ready_user_tasks(workflow)
        # The home is sought until the timer before release has fired: the escalation runs.
        ready = [task for task in ready if task.element_id != "Task_find_home" or fired] or ready
        due = engine.next_timer_due(workflow)
        if ready and (fired or due is None or ready[0].element_id != "Task_find_home"):
            schema = FORMS.get(ready[0].form or "")
            data = sample_form_data(schema, {"has_home": False, "home_found": True}) if schema else {}
            engine.complete_user_task(workflow, ready[0].id, data)
            seen.add(ready[0].element_id)
        elif due is not None:
            clock.set(max(clock.moment, due) + timedelta(seconds=1))
            fired += 1
        else:
            break
        engine.advance(workflow)
    assert workflow.is_completed()
    assert {"Task_economy_assessment", "Task_escalation_no_home", "Task_follow_up_visit"} <= seen
    assert fired >= 6 and in_sub_process >= 6  # the cycle's six months, saved inside the sub-process


@pytest.mark.parametrize("path", sorted(PROCESSES.glob("*.bpmn")), ids=lambda path: path.stem)
def test_every_shipped_process_saved_after_every_step_is_the_old_text(path):
    bundle = _bundle(path.read_bytes(), path.name, FORMS)
    workflow = engine.new_workflow(bundle, {"person": {"names": ["Kari"]}})
    engine.advance(workflow)
    steps = 0
    while (ready := engine.ready_user_tasks(workflow)) and steps < 40:
        _saved_as_before(bundle, workflow)
        schema = FORMS.get(ready[0].form or "")
        data = sample_form_data(schema, {"has_home": False, "home_found": True}) if schema else {}
        engine.complete_user_task(workflow, ready[0].id, data)
        engine.advance(workflow)
        steps += 1
    _saved_as_before(bundle, workflow)
    assert steps >= 4


def test_a_loop_saved_after_every_round_is_the_old_text():
    bundle = _bundle(valid_model().encode(), "loop.bpmn", {"check.schema.json": SIMPLE_FORM})
    workflow = engine.new_workflow(bundle)
    engine.advance(workflow)
    rounds = 0
    while ready := engine.ready_user_tasks(workflow):
        _saved_as_before(bundle, workflow)
        data = {"has_home": rounds >= 5} if ready[0].element_id == "Task_check" else {}
        rounds += ready[0].element_id == "Task_check"
        engine.complete_user_task(workflow, ready[0].id, data)
        engine.advance(workflow)
    _saved_as_before(bundle, workflow)
    assert rounds == 6 and workflow.is_completed()


def _prison_after_intake(bundle):
    workflow = engine.new_workflow(bundle)
    engine.advance(workflow)
    (intake,) = engine.ready_user_tasks(workflow)
    data = sample_form_data(FORMS[intake.form], {"has_home": False}) | {"places": [{"town": "Bodø"}]}
    engine.complete_user_task(workflow, intake.id, data)
    engine.advance(workflow)
    return workflow


def test_data_changed_in_place_is_written_anew(prison_bundle):
    """A completed task's data shares nested values with its successors' (SpiffWorkflow
    copies shallowly): a script changing them changes the completed task's saved delta too,
    though none of its fixed part moved. Internal data changed in place the same."""
    workflow = _prison_after_intake(prison_bundle)
    _saved_as_before(prison_bundle, workflow)
    (intake,) = [task for task in workflow.get_tasks() if task.task_spec.name == "Task_intake_interview"]
    intake.data["places"][0]["town"] = "Tromsø"
    intake.data["places"].append({"town": "Alta"})
    waiting = next(task for task in workflow.get_tasks() if task.state == engine.TaskState.READY)
    waiting.internal_data["note"] = {"at": datetime(2027, 1, 1, tzinfo=UTC)}
    text = _saved_as_before(prison_bundle, workflow)
    assert "Troms\\u00f8" in text and "Alta" in text and '"note"' in text


def test_a_state_saved_by_the_old_code_goes_on_under_the_new(prison_bundle):
    """A case started before: its text (written whole) restores, steps, and saves as before."""
    old = engine.dump_workflow_whole(_prison_after_intake(prison_bundle))
    workflow = engine.load_workflow(prison_bundle, old)
    assert engine.dump_workflow(workflow) == old  # nothing kept yet: every part written
    for ready in engine.ready_user_tasks(workflow):
        schema = FORMS.get(ready.form or "")
        engine.complete_user_task(workflow, ready.id, sample_form_data(schema) if schema else {})
        engine.advance(workflow)
        _saved_as_before(prison_bundle, workflow)


def test_saving_again_writes_no_task_s_fixed_part_anew(prison_bundle, monkeypatch):
    """The point of it: a save after a save converts no task again, and a step converts
    only the tasks it changed (the old code converted every task on every save)."""
    workflow = _prison_after_intake(prison_bundle)
    first = engine.dump_workflow(workflow)
    made = []
    head_of = state_text.StateWriter._task_head
    monkeypatch.setattr(
        state_text.StateWriter, "_task_head", lambda self, values: made.append(values) or head_of(self, values)
    )
    assert engine.dump_workflow(workflow) == first
    assert made == []
    ready = engine.ready_user_tasks(workflow)[0]
    engine.complete_user_task(workflow, ready.id, sample_form_data(FORMS[ready.form]))
    engine.advance(workflow)
    assert engine.dump_workflow(workflow) == engine.dump_workflow_whole(workflow)
    assert 0 < len(made) < len(workflow.tasks) / 2, (len(made), len(workflow.tasks))
