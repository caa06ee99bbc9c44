"""Who may write what, as the model declares it (``bpmn.engine.write_rules``): the senders
and fields of each ``bpmn:message`` and the start form, compiled and checked at deploy."""

import json
from pathlib import Path

import pytest

from bpmn.engine.definition import compile_definition
from bpmn.engine.errors import BpmnValidationError
from tests.bpmn.engine.bpmn_snippets import definitions, lane_set, properties

PROCESSES = Path(__file__).resolve().parents[3] / "bpmn" / "processes"
FORM = {
    "type": "object",
    "properties": {
        "release_date": {"type": "string", "x-category": "justice"},
        "plan": {"type": "string", "x-category": "health"},
    },
}


def model(message_properties: str, start_properties: str = "") -> str:
    return definitions(f"""
        <bpmn:message id="Message_1" name="date_changed">{message_properties}</bpmn:message>
        <bpmn:process id="Proc_writes" isExecutable="true">
          {lane_set({"Kriminalomsorgen": ["StartEvent_1", "Task_1", "Boundary_1", "EndEvent_1", "EndEvent_2"]})}
          <bpmn:startEvent id="StartEvent_1">{start_properties}</bpmn:startEvent>
          <bpmn:sequenceFlow id="Flow_1" sourceRef="StartEvent_1" targetRef="Task_1"/>
          <bpmn:userTask id="Task_1" name="Plan">{properties(formJsonSchemaFilename="f.schema.json")}</bpmn:userTask>
          <bpmn:boundaryEvent id="Boundary_1" attachedToRef="Task_1" cancelActivity="false">
            <bpmn:messageEventDefinition messageRef="Message_1"/>
          </bpmn:boundaryEvent>
          <bpmn:sequenceFlow id="Flow_2" sourceRef="Boundary_1" targetRef="EndEvent_2"/>
          <bpmn:endEvent id="EndEvent_2"/>
          <bpmn:sequenceFlow id="Flow_3" sourceRef="Task_1" targetRef="EndEvent_1"/>
          <bpmn:endEvent id="EndEvent_1"/>
        </bpmn:process>
    """)


def compile_model(xml, forms=None):
    return compile_definition(xml, forms={"f.schema.json": FORM, **(forms or {})})


def test_the_declaration_is_compiled():
    compiled = compile_model(model(properties(senders="prison, housing", fields="release_date")))
    assert compiled.message_rules == {
        "date_changed": {"senders": ["prison", "housing"], "fields": ["release_date"], "element_id": "Message_1"}
    }
    assert compiled.start_form is None


def test_an_undeclared_message_deploys_but_names_no_sender():
    assert compile_model(model("")).message_rules == {}


@pytest.mark.parametrize(
    ("declaration", "code", "words"),
    [
        (properties(senders="prison, police"), "message-sender-unknown", "'police'"),
        (properties(senders="prison", fields="release_date, diagnosis"), "message-field-unknown", "'diagnosis'"),
        (properties(fields="release_date"), "message-senders-missing", "who may send it"),
        (properties(senders=" "), "message-senders-missing", "empty"),
    ],
)
def test_a_bad_declaration_is_refused_naming_the_message(declaration, code, words):
    with pytest.raises(BpmnValidationError) as raised:
        compile_model(model(declaration))
    (issue,) = raised.value.issues
    assert (issue.code, issue.element_id) == (code, "Message_1")
    assert words in issue.message and issue.line


def test_the_start_form_is_compiled_and_its_fields_get_categories():
    start = {"type": "object", "properties": {"referral_source": {"type": "string", "x-category": "coordination"}}}
    xml = model("", properties(formJsonSchemaFilename="start.schema.json"))
    compiled = compile_model(xml, {"start.schema.json": start})
    assert compiled.start_form == "start.schema.json"
    assert compiled.fields["referral_source"] == "coordination"


def test_a_missing_start_form_is_refused_naming_the_start_event():
    with pytest.raises(BpmnValidationError) as raised:
        compile_model(model("", properties(formJsonSchemaFilename="nowhere.schema.json")))
    (issue,) = raised.value.issues
    assert (issue.code, issue.element_id) == ("missing-form", "StartEvent_1")


def test_every_message_of_the_shipped_processes_says_who_sends_it():
    forms = {path.name: json.loads(path.read_text()) for path in (PROCESSES / "forms").glob("*.json")}
    for path in sorted(PROCESSES.glob("*.bpmn")):
        compiled = compile_definition(path.read_bytes(), forms=forms, filename=path.name)
        assert set(compiled.message_rules) == set(compiled.messages), path.name
        for rule in compiled.message_rules.values():
            assert rule["senders"] and rule["fields"], path.name
