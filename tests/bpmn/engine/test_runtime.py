"""The engine runtime without a database: save/load round trips, the sandbox after loading,
user-task checks, the step cap and timer due times."""

import json
from functools import partial
from pathlib import Path
from uuid import UUID

import pytest
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.serializer.default.workflow import TaskConverter
from SpiffWorkflow.bpmn.serializer.helpers.bpmn_converter import BpmnConverter
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser

from bench.samples import sample_form_data
from bpmn.engine import runtime as engine
from bpmn.engine.definition import compile_definition
from bpmn.engine.errors import (
    BpmnValidationError,
    StepLimitExceeded,
    TaskFailed,
    TaskStateError,
    UnsafeExpressionError,
)
from bpmn.engine.expressions import SCRIPT_ENGINE, expression_error_of
from tests.timing import cpu_time

PROCESSES = Path(__file__).resolve().parents[3] / "bpmn" / "processes"
PRISON = PROCESSES / "prison_release_to_housing.bpmn"


def _forms():
    return {p.name: json.loads(p.read_text()) for p in (PROCESSES / "forms").glob("*.json")}


@pytest.fixture(scope="module")
def prison_bundle():
    compiled = compile_definition(PRISON.read_bytes(), forms=_forms(), filename=PRISON.name)
    return engine.restore_spec(compiled.spec_json)


INTAKE = {
    "housing_situation": "uten_bolig",
    "has_home": False,
    "consent_municipality": True,
    "consent_nav": True,
    "expected_release_date": "2027-03-01",
}


def _snapshot(workflow):
    return {str(t.id): (t.state, dict(t.data)) for t in workflow.get_tasks()}


def test_round_trip_keeps_every_task_and_its_data(prison_bundle):
    workflow = engine.new_workflow(prison_bundle)
    engine.advance(workflow)
    (intake,) = engine.ready_user_tasks(workflow)
    engine.complete_user_task(workflow, intake.id, INTAKE)
    engine.advance(workflow)

    state = engine.dump_workflow(workflow)
    restored = engine.load_workflow(prison_bundle, state)

    assert _snapshot(restored) == _snapshot(workflow)
    assert {t.element_id for t in engine.ready_user_tasks(restored)} == {
        "Task_economy_assessment",
        "Task_health_follow_up_plan",
        "Task_housing_application",
    }
    stored = json.loads(state)
    assert "spec" not in stored and stored["typename"] == "BpmnWorkflow"
    assert restored.script_engine is SCRIPT_ENGINE
    # A second round trip is byte-identical: nothing drifts between saves.
    assert engine.dump_workflow(restored) == state


def _prison_steps(bundle):
    """The prison process's workflow after each step of a whole case, as a case works it."""
    forms = _forms()
    workflow = engine.new_workflow(bundle)
    engine.advance(workflow)
    yield workflow
    while ready := engine.ready_user_tasks(workflow):
        schema = forms.get(ready[0].form or "")
        data = sample_form_data(schema, {"has_home": False, "home_found": True}) if schema else {}
        engine.complete_user_task(workflow, ready[0].id, data)
        engine.advance(workflow)
        yield workflow


def test_the_ready_tasks_are_the_walk_s_and_walked_for_only_when_their_order_matters(prison_bundle):
    """A step asks for its ready user tasks once: they are found in the task dicts and put in
    the walk's order (the new Task rows are made in it); the tree is walked from the root only
    when two or more are ready beside a subprocess. The answer is the walk's at every step."""
    from SpiffWorkflow.util.task import TaskState

    walks, seen = [], set()
    for workflow in _prison_steps(prison_bundle):
        walked = [str(task.id) for task in workflow.get_tasks(state=TaskState.READY, manual=True)]
        stock = workflow.get_tasks

        def counted(*args, stock=stock, **kwargs):
            walks.append(kwargs)
            return stock(*args, **kwargs)

        workflow.get_tasks = counted
        before = len(walks)
        try:
            assert [task.id for task in engine.ready_user_tasks(workflow)] == walked
        finally:
            del workflow.get_tasks
        assert len(walks) - before == (1 if len(walked) > 1 and workflow.subprocesses else 0), len(walked)
        seen.add(min(len(walked), 2))
    assert seen == {0, 1, 2}, "the case has steps with none, one and several ready tasks"


def test_an_engine_pass_walks_the_tree_for_its_ready_tasks_only_beside_a_subprocess(prison_bundle, monkeypatch):
    """Each pass of ``do_engine_steps`` asks for the ready tasks (``get_tasks(state=READY)``)
    and runs those that are not a person's in the order given: they are found in the task
    dict and put in the walk's order; the tree is walked from the root for them only while a
    subprocess runs (``tests/bpmn/engine/test_task_scan.py`` compares the two at every pass
    of every model)."""
    from SpiffWorkflow.util.task import TaskState
    from SpiffWorkflow.workflow import Workflow

    stock, walked = Workflow.get_tasks, []
    ordered, stock_order = [], getattr(engine, "in_walk_order", None)

    def counted(workflow, first_task=None, **kwargs):
        found = stock(workflow, first_task, **kwargs)
        if workflow is workflow.top_workflow and first_task is None and kwargs == {"state": TaskState.READY}:
            walked.append((len(found), bool(workflow.subprocesses)))
        return found

    def counted_order(workflow, tasks):
        ordered.append(len(tasks))
        return stock_order(workflow, tasks)

    monkeypatch.setattr(Workflow, "get_tasks", counted)
    monkeypatch.setattr(engine, "in_walk_order", counted_order, raising=False)
    steps = sum(1 for _ in _prison_steps(prison_bundle))
    assert steps > 5
    # Walked only beside a subprocess (the follow-up's), where the dict may not tell.
    assert walked and all(beside_subprocess for _, beside_subprocess in walked), walked
    assert any(count >= 2 for count in ordered), "some pass of the case has two or more tasks ready"


def test_a_saved_state_is_the_text_spiffworkflow_s_own_converter_writes(prison_bundle, monkeypatch):
    """Our save (the ids' texts remembered, each task's fixed part kept from the last save:
    ``state_text``) writes exactly what SpiffWorkflow's converter would: states saved before
    and after it read the same."""
    registry = engine._SERIALIZER.registry
    stock = TaskConverter.__new__(TaskConverter)  # SpiffWorkflow's, not registered anywhere
    stock.registry = registry
    steps = 0
    for workflow in _prison_steps(prison_bundle):
        ours = engine.dump_workflow(workflow)
        with monkeypatch.context() as spiff:
            spiff.setitem(registry.convert_to_dict, "Task", partial(registry._obj_to_dict, "Task", stock.to_dict))
            spiff.setattr(engine.SpecApartWorkflowConverter, "mapping_to_dict", BpmnConverter.mapping_to_dict)
            theirs = engine.dump_workflow_whole(workflow)
        assert ours == theirs
        steps += 1
    assert steps >= 6


def test_saving_a_state_again_makes_no_id_text_anew(prison_bundle, monkeypatch):
    """A step saves the whole state: the ids' texts (four a task) are not made again on
    every save (``state_text.uuid_text``), which was a quarter of the serialization."""
    workflow = list(_prison_steps(prison_bundle))[1]
    first = engine.dump_workflow(workflow)
    made = []
    text_of = UUID.__str__
    monkeypatch.setattr(UUID, "__str__", lambda value: made.append(value) or text_of(value))
    assert engine.dump_workflow(workflow) == first
    assert len(workflow.tasks) > 20 and len(made) < 10, len(made)


def test_ready_tasks_carry_lane_form_and_due_in(prison_bundle):
    workflow = engine.new_workflow(prison_bundle)
    engine.advance(workflow)
    (intake,) = engine.ready_user_tasks(workflow)
    assert (intake.element_id, intake.lane, intake.form, intake.kind) == (
        "Task_intake_interview",
        "Kriminalomsorgen",
        "prison_intake_interview.schema.json",
        "user",
    )
    assert intake.due_in and intake.due_in.startswith("P")


def test_completing_a_task_that_is_not_ready_is_refused(prison_bundle):
    workflow = engine.new_workflow(prison_bundle)
    engine.advance(workflow)
    (intake,) = engine.ready_user_tasks(workflow)
    engine.complete_user_task(workflow, intake.id, INTAKE)
    with pytest.raises(TaskStateError, match="not READY"):
        engine.complete_user_task(workflow, intake.id, INTAKE)
    start = next(t for t in workflow.get_tasks() if not t.task_spec.manual)
    with pytest.raises(TaskStateError, match="not a user or manual task"):
        engine.complete_user_task(workflow, str(start.id), {})
    with pytest.raises(TaskStateError, match="does not exist"):
        engine.complete_user_task(workflow, "not-a-uuid", {})


def _raw_bundle(xml: str, process_id: str) -> engine.SpecBundle:
    """A spec built straight from SpiffWorkflow's parser, skipping our deploy checks, as if
    a malicious model had been stored before they existed."""
    parser = SpiffBpmnParser()
    parser.add_bpmn_str(xml.encode())
    spec_json = engine.serialize_spec(parser.get_spec(process_id), parser.get_subprocess_specs(process_id))
    return engine.restore_spec(spec_json)


GATEWAY = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="D">
  <bpmn:process id="evil" isExecutable="true">
    <bpmn:startEvent id="StartEvent_1"><bpmn:outgoing>F1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:manualTask id="Task_wait" name="Wait">
      <bpmn:incoming>F1</bpmn:incoming><bpmn:outgoing>F2</bpmn:outgoing>
    </bpmn:manualTask>
    <bpmn:exclusiveGateway id="Gateway_evil" default="F_no">
      <bpmn:incoming>F2</bpmn:incoming><bpmn:outgoing>F_yes</bpmn:outgoing><bpmn:outgoing>F_no</bpmn:outgoing>
    </bpmn:exclusiveGateway>
    <bpmn:sequenceFlow id="F1" sourceRef="StartEvent_1" targetRef="Task_wait"/>
    <bpmn:sequenceFlow id="F2" sourceRef="Task_wait" targetRef="Gateway_evil"/>
    <bpmn:sequenceFlow id="F_yes" sourceRef="Gateway_evil" targetRef="EndEvent_yes">
      <bpmn:conditionExpression>CONDITION</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="F_no" sourceRef="Gateway_evil" targetRef="EndEvent_no"/>
    <bpmn:endEvent id="EndEvent_yes"><bpmn:incoming>F_yes</bpmn:incoming></bpmn:endEvent>
    <bpmn:endEvent id="EndEvent_no"><bpmn:incoming>F_no</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>
"""

ATTACKS = [
    "__import__('os').system('touch MARKER') == 0",
    "[c for c in ().__class__.__base__.__subclasses__() if c.__name__ == 'Popen'][0](['touch', 'MARKER'])",
    "9**9**9 > 0",
    "len('x' * 10**9) > 0",
]


@pytest.mark.parametrize("attack", ATTACKS)
def test_injected_condition_never_runs_before_or_after_a_round_trip(attack, tmp_path):
    marker = tmp_path / "pwned"
    xml = GATEWAY.replace("CONDITION", attack.replace("MARKER", str(marker)).replace("'", "&apos;"))

    if "__" in attack:  # deploy refuses it outright, naming the flow
        with pytest.raises(BpmnValidationError) as refused:
            compile_definition(xml.encode(), forms={})
        unsafe = [issue for issue in refused.value.issues if issue.code == "unsafe-expression"]
        assert [issue.element_id for issue in unsafe] == ["F_yes"]

    bundle = _raw_bundle(xml, "evil")
    for round_trip in (False, True):
        workflow = engine.new_workflow(bundle)
        engine.advance(workflow)
        if round_trip:
            workflow = engine.load_workflow(bundle, engine.dump_workflow(workflow))
        (wait,) = engine.ready_user_tasks(workflow)
        engine.complete_user_task(workflow, wait.id, {})
        with cpu_time() as used, pytest.raises(TaskFailed) as raised:  # SpiffWorkflow's exception stays inside
            engine.advance(workflow)
        assert used.seconds < 1.0
        assert raised.value.kind == "expression-error" and raised.value.element_id
        assert isinstance(raised.value.__cause__, WorkflowTaskException)
        assert expression_error_of(raised.value.__cause__) is not None
        assert not marker.exists()
        if "__" in attack:
            assert isinstance(expression_error_of(raised.value.__cause__), UnsafeExpressionError)


LOOP = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="D">
  <bpmn:process id="spin" isExecutable="true">
    <bpmn:startEvent id="StartEvent_1"><bpmn:outgoing>F1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:scriptTask id="Script_count"><bpmn:incoming>F1</bpmn:incoming><bpmn:incoming>F_again</bpmn:incoming>
      <bpmn:outgoing>F2</bpmn:outgoing><bpmn:script>n = n + 1 if n else 1</bpmn:script></bpmn:scriptTask>
    <bpmn:exclusiveGateway id="Gateway_more" default="F_again">
      <bpmn:incoming>F2</bpmn:incoming><bpmn:outgoing>F_again</bpmn:outgoing><bpmn:outgoing>F_done</bpmn:outgoing>
    </bpmn:exclusiveGateway>
    <bpmn:sequenceFlow id="F1" sourceRef="StartEvent_1" targetRef="Script_count"/>
    <bpmn:sequenceFlow id="F2" sourceRef="Script_count" targetRef="Gateway_more"/>
    <bpmn:sequenceFlow id="F_again" sourceRef="Gateway_more" targetRef="Script_count"/>
    <bpmn:sequenceFlow id="F_done" sourceRef="Gateway_more" targetRef="EndEvent_1">
      <bpmn:conditionExpression>n &gt; 100000</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:endEvent id="EndEvent_1"><bpmn:incoming>F_done</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>
"""


def test_a_loop_without_a_wait_state_is_refused_at_deploy_and_capped_at_run_time():
    with pytest.raises(BpmnValidationError) as refused:
        compile_definition(LOOP.replace("n = n + 1 if n else 1", "n = 1").encode(), forms={})
    assert "unbounded-loop" in {issue.code for issue in refused.value.issues}

    workflow = engine.new_workflow(_raw_bundle(LOOP, "spin"), {"n": 0})
    with cpu_time() as used, pytest.raises(StepLimitExceeded, match="more than 50 engine steps"):
        engine.advance(workflow, step_cap=50)
    assert used.seconds < 2.0


def test_next_timer_due_is_the_escalation_of_the_find_home_task(prison_bundle):
    workflow = engine.new_workflow(prison_bundle)
    engine.advance(workflow)
    assert engine.next_timer_due(workflow) is None
    (intake,) = engine.ready_user_tasks(workflow)
    engine.complete_user_task(workflow, intake.id, INTAKE)
    engine.advance(workflow)
    for task in list(engine.ready_user_tasks(workflow)):
        engine.complete_user_task(workflow, task.id, {})
    engine.advance(workflow)
    assert [t.element_id for t in engine.ready_user_tasks(workflow)] == ["Task_find_home"]
    due = engine.next_timer_due(workflow)
    assert due is not None and due.tzinfo is not None
