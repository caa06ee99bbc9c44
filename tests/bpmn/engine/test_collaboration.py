"""A collaboration's executable pools in one workflow (no database): each pool a
participant, the message between them caught inside the workflow, a save/load round trip
between the steps, and the stored spec never changed by running a case."""

from bpmn.engine import events
from bpmn.engine import runtime as engine
from bpmn.engine.definition import compile_definition
from tests.workflows.pool_models import COLLABORATION, FORMS, ROUTING

MESSAGE_START = (
    COLLABORATION.replace(
        """    <bpmn:startEvent id="Start_housing"><bpmn:outgoing>H1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:intermediateCatchEvent id="Catch_need" name="Boligbehov meldt">
      <bpmn:incoming>H1</bpmn:incoming><bpmn:outgoing>H2</bpmn:outgoing>""",
        """    <bpmn:startEvent id="Catch_need" name="Boligbehov meldt"><bpmn:outgoing>H2</bpmn:outgoing>""",
    )
    .replace("</bpmn:intermediateCatchEvent>", "</bpmn:startEvent>")
    .replace('<bpmn:sequenceFlow id="H1" sourceRef="Start_housing" targetRef="Catch_need"/>', "")
)


def _step(workflow):
    before = events.completed_message_events(workflow)
    engine.advance(workflow)
    return events.messages_between_pools(workflow, before)


def _run(xml):
    compiled = compile_definition(xml, forms=FORMS, routing=ROUTING)
    bundle = engine.restore_spec(compiled.spec_json)
    workflow = engine.new_workflow(bundle)
    assert _step(workflow) == []
    (assess,) = engine.ready_user_tasks(workflow)
    assert assess.element_id == "Task_assess"
    workflow = engine.load_workflow(bundle, engine.dump_workflow(workflow))  # saved between requests
    engine.complete_user_task(workflow, assess.id, {"income": 21000, "needs_housing": True})
    caught = _step(workflow)
    (offer,) = engine.ready_user_tasks(workflow)
    engine.complete_user_task(workflow, offer.id, {"address": "Storgata 1"})
    _step(workflow)
    assert workflow.is_completed()
    # the spec every case of the version shares is what was stored
    assert engine.serialize_spec(bundle.spec, bundle.subprocess_specs) == compiled.spec_json
    return compiled, caught, offer


def test_the_pools_run_in_one_workflow_and_the_message_is_caught_inside_it():
    compiled, caught, offer = _run(COLLABORATION)
    assert compiled.process_id == "rehousing" and compiled.messages == ["housing_needed"]
    assert compiled.pool_events == {
        "Throw_need": {"pool": "NAV", "agency_kind": "nav"},
        "Catch_need": {"pool": "Boligkontoret", "agency_kind": "housing"},
    }
    assert caught == [events.PoolMessage("housing_needed", "Throw_need", "Catch_need", ("needs_housing",))]
    assert offer.element_id == "Task_offer"


def test_a_pool_that_starts_with_the_message_starts_with_the_case_and_waits_for_it():
    compiled, caught, _offer = _run(MESSAGE_START)
    assert compiled.start_messages == []  # the case starts as usual; the pool waits inside it
    assert [message.caught_by for message in caught] == ["Catch_need"]


def test_the_diagram_leaves_out_the_pools_call_activities():
    compiled = compile_definition(COLLABORATION, forms=FORMS, routing=ROUTING)
    workflow = engine.new_workflow(engine.restore_spec(compiled.spec_json))
    engine.advance(workflow)
    completed, active = engine.element_states(workflow)
    assert active == {"Task_assess", "Catch_need"}
    assert not {"nav_assessment", "housing_offer"} & (completed | active)


EMBEDDED = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="Defs_embedded">
  <bpmn:process id="follow_up" name="Follow-up" isExecutable="true">
    <bpmn:laneSet id="LaneSet_1"><bpmn:lane id="Lane_nav" name="NAV">
      <bpmn:flowNodeRef>Start_1</bpmn:flowNodeRef><bpmn:flowNodeRef>Sub_visit</bpmn:flowNodeRef>
      <bpmn:flowNodeRef>End_1</bpmn:flowNodeRef></bpmn:lane></bpmn:laneSet>
    <bpmn:startEvent id="Start_1"/>
    <bpmn:sequenceFlow id="F1" sourceRef="Start_1" targetRef="Sub_visit"/>
    <bpmn:subProcess id="Sub_visit" name="Visit">
      <bpmn:startEvent id="Sub_start"/>
      <bpmn:sequenceFlow id="S1" sourceRef="Sub_start" targetRef="Task_visit"/>
      <bpmn:manualTask id="Task_visit" name="Visit"/>
      <bpmn:sequenceFlow id="S2" sourceRef="Task_visit" targetRef="Sub_end"/>
      <bpmn:endEvent id="Sub_end"/>
    </bpmn:subProcess>
    <bpmn:sequenceFlow id="F2" sourceRef="Sub_visit" targetRef="End_1"/>
    <bpmn:endEvent id="End_1"/>
  </bpmn:process>
</bpmn:definitions>"""


def test_an_embedded_sub_process_is_no_pool_and_stays_on_the_diagram():
    compiled = compile_definition(EMBEDDED, routing={"default": "nav"})
    workflow = engine.new_workflow(engine.restore_spec(compiled.spec_json))
    engine.advance(workflow)
    assert workflow.subprocesses and engine.collaboration_pools(workflow) == frozenset()
    _completed, active = engine.element_states(workflow)
    assert {"Sub_visit", "Task_visit"} <= active
