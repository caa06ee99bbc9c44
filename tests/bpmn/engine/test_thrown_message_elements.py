"""Each message a step throws out of its case names the element that threw it (no database):
SpiffWorkflow's event names none, and the timeline leaves a throw on a hidden branch out by
its element id (``workflows.selectors.PathView``)."""

from bpmn.engine import events
from bpmn.engine import runtime as engine
from bpmn.engine.definition import compile_definition
from bpmn.engine.message_payloads import message_throwers
from tests.bpmn.engine.bpmn_snippets import definitions

XML = definitions("""
    <bpmn:message id="Message_note" name="note"/>
    <bpmn:message id="Message_done" name="done"/>
    <bpmn:process id="Proc_throws" isExecutable="true">
      <bpmn:startEvent id="StartEvent_1"/>
      <bpmn:sequenceFlow id="F1" sourceRef="StartEvent_1" targetRef="Throw_first"/>
      <bpmn:intermediateThrowEvent id="Throw_first">
        <bpmn:messageEventDefinition id="D1" messageRef="Message_note"/>
      </bpmn:intermediateThrowEvent>
      <bpmn:sequenceFlow id="F2" sourceRef="Throw_first" targetRef="Throw_second"/>
      <bpmn:intermediateThrowEvent id="Throw_second">
        <bpmn:messageEventDefinition id="D2" messageRef="Message_note"/>
      </bpmn:intermediateThrowEvent>
      <bpmn:sequenceFlow id="F3" sourceRef="Throw_second" targetRef="End_done"/>
      <bpmn:endEvent id="End_done">
        <bpmn:messageEventDefinition id="D3" messageRef="Message_done"/>
      </bpmn:endEvent>
    </bpmn:process>
""")


def test_each_thrown_message_names_its_throw_in_the_order_thrown():
    bundle = engine.restore_spec(compile_definition(XML).spec_json)
    workflow = engine.new_workflow(bundle)
    engine.advance(workflow)
    assert [(m.name, m.element_id) for m in events.thrown_messages(workflow)] == [
        ("note", "Throw_first"),
        ("note", "Throw_second"),
        ("done", "End_done"),
    ]
    assert events.thrown_messages(workflow) == []  # taken once


def test_the_model_names_the_throwers_of_each_message():
    assert message_throwers(XML) == {"note": ["Throw_first", "Throw_second"], "done": ["End_done"]}
