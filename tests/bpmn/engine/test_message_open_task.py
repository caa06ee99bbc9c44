"""A non-interrupting message boundary whose earlier catch led to a task still open
(``events.boundaries_with_open_task``), and a delivery that leaves it out (``skip``): the
other events waiting for the same message still catch it (no database)."""

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.util.task import TaskState

from bpmn.engine import events as engine_events
from bpmn.engine.expressions import SCRIPT_ENGINE
from tests.bpmn.engine.bpmn_snippets import definitions

FLOWS = [
    ("StartEvent_1", "Split"),
    ("Split", "Task_main"),
    ("Task_main", "End_main"),
    ("Boundary_news", "Task_news"),
    ("Task_news", "End_news"),
    ("Split", "Task_other"),
    ("Task_other", "Catch_news"),
    ("Catch_news", "Task_after_catch"),
    ("Task_after_catch", "End_other"),
]
NEWS = '<bpmn:messageEventDefinition messageRef="Message_news"/>'
NODES = {
    "StartEvent_1": ("startEvent", "", ""),
    "Split": ("parallelGateway", "", ""),
    "Task_main": ("userTask", "", ""),
    "Boundary_news": ("boundaryEvent", ' attachedToRef="Task_main" cancelActivity="false"', NEWS),
    "Task_news": ("userTask", "", ""),
    "End_news": ("endEvent", "", ""),
    "End_main": ("endEvent", "", ""),
    "Task_other": ("userTask", "", ""),
    "Catch_news": ("intermediateCatchEvent", "", NEWS),
    "Task_after_catch": ("userTask", "", ""),
    "End_other": ("endEvent", "", ""),
}


def _model() -> str:
    """Two branches: "main" with a non-interrupting boundary for "news" leading to a task, and
    "other" whose intermediate catch waits for "news" too once its first task is done."""
    nodes = []
    for node, (kind, attributes, inner) in NODES.items():
        flows = "".join(f"<bpmn:incoming>F_{a}_{b}</bpmn:incoming>" for a, b in FLOWS if b == node)
        flows += "".join(f"<bpmn:outgoing>F_{a}_{b}</bpmn:outgoing>" for a, b in FLOWS if a == node)
        nodes.append(f'<bpmn:{kind} id="{node}"{attributes}>{flows}{inner}</bpmn:{kind}>')
    sequence = "".join(f'<bpmn:sequenceFlow id="F_{a}_{b}" sourceRef="{a}" targetRef="{b}"/>' for a, b in FLOWS)
    return definitions(
        '<bpmn:message id="Message_news" name="news"/>'
        f'<bpmn:process id="Proc_news" isExecutable="true">{"".join(nodes)}{sequence}</bpmn:process>'
    )


def _workflow():
    parser = SpiffBpmnParser()
    parser.add_bpmn_str(_model().encode(), filename="news.bpmn")
    wf = BpmnWorkflow(
        parser.get_spec("Proc_news"), parser.get_subprocess_specs("Proc_news"), script_engine=SCRIPT_ENGINE
    )
    wf.do_engine_steps()
    return wf


def _ready(wf):
    return sorted(t.task_spec.bpmn_id for t in wf.get_tasks(state=TaskState.READY, manual=True))


def _run(wf, element_id):
    (task,) = [t for t in wf.get_tasks(state=TaskState.READY, manual=True) if t.task_spec.bpmn_id == element_id]
    task.run()
    wf.do_engine_steps()


def test_the_boundary_is_left_out_while_its_task_is_open_and_the_other_catch_takes_the_message():
    wf = _workflow()
    assert engine_events.boundaries_with_open_task(wf, "news") == set()
    assert engine_events.deliver_message(wf, "news", {}) == ["Boundary_news"]
    wf.do_engine_steps()
    assert _ready(wf) == ["Task_main", "Task_news", "Task_other"]
    assert engine_events.boundaries_with_open_task(wf, "news") == {"Boundary_news"}

    _run(wf, "Task_other")  # the other branch now waits for the same message
    open_work = engine_events.boundaries_with_open_task(wf, "news")
    assert engine_events.deliver_message(wf, "news", {"x": 1}, skip=open_work) == ["Catch_news"]
    wf.do_engine_steps()
    assert _ready(wf) == ["Task_after_catch", "Task_main", "Task_news"]  # no second Task_news
    assert engine_events.waiting_message_elements(wf, "news") == {"Boundary_news"}  # still armed

    # Nothing else waits: a skipped delivery catches nothing and changes nothing.
    assert engine_events.deliver_message(wf, "news", {}, skip=open_work) == []
    assert _ready(wf) == ["Task_after_catch", "Task_main", "Task_news"]

    _run(wf, "Task_news")
    assert engine_events.boundaries_with_open_task(wf, "news") == set()
    assert engine_events.deliver_message(wf, "news", {}) == ["Boundary_news"]
    wf.do_engine_steps()
    assert _ready(wf) == ["Task_after_catch", "Task_main", "Task_news"]
