"""A small NAV process for the form-safety tests, and an HTTP server that counts its hits.

``Task_fill`` (form ``fill.schema.json``) -> ``Script_make`` -> ``Task_next`` -> end, with a
non-interrupting boundary message ``note_changed`` on ``Task_fill``.
"""

from bpmn.services import deploy_definition
from tests.bpmn.engine.bpmn_snippets import definitions, lane_set, properties
from workflows import services

from .helpers import PERSON

KEY = "Proc_form_safety"
CODE_PATTERN = "^(a+)+$"  # backtracks exponentially in Python's re; linear in RE2
FILL_FORM = {
    "type": "object",
    "properties": {
        "code": {"type": "string", "pattern": CODE_PATTERN, "x-category": "coordination"},
        "note": {"type": "string", "x-category": "coordination"},
    },
}

# The start form: what a case start may write (a note).
START_FORM = {"type": "object", "properties": {"note": {"type": "string", "x-category": "coordination"}}}
NOTE_SENDERS = properties(senders="nav", fields="note, code")  # NAV's system may change the note
FORM = properties(formJsonSchemaFilename="fill.schema.json")


def model(script: str = "made = 1") -> str:
    nodes = ["StartEvent_1", "Task_fill", "Script_make", "Task_next", "EndEvent_1", "Boundary_note", "EndEvent_note"]
    return definitions(f"""
        <bpmn:message id="Message_note" name="note_changed">{NOTE_SENDERS}</bpmn:message>
        <bpmn:process id="{KEY}" name="Form safety" isExecutable="true">
          {lane_set({"NAV": nodes})}
          <bpmn:startEvent id="StartEvent_1">{properties(formJsonSchemaFilename="start.schema.json")}</bpmn:startEvent>
          <bpmn:sequenceFlow id="Flow_1" sourceRef="StartEvent_1" targetRef="Task_fill"/>
          <bpmn:userTask id="Task_fill" name="Fill in">{FORM}</bpmn:userTask>
          <bpmn:boundaryEvent id="Boundary_note" attachedToRef="Task_fill" cancelActivity="false">
            <bpmn:messageEventDefinition id="Def_note" messageRef="Message_note"/>
          </bpmn:boundaryEvent>
          <bpmn:sequenceFlow id="Flow_note" sourceRef="Boundary_note" targetRef="EndEvent_note"/>
          <bpmn:endEvent id="EndEvent_note"/>
          <bpmn:sequenceFlow id="Flow_2" sourceRef="Task_fill" targetRef="Script_make"/>
          <bpmn:scriptTask id="Script_make" name="Make"><bpmn:script>{script}</bpmn:script></bpmn:scriptTask>
          <bpmn:sequenceFlow id="Flow_3" sourceRef="Script_make" targetRef="Task_next"/>
          <bpmn:userTask id="Task_next" name="Next"/>
          <bpmn:sequenceFlow id="Flow_4" sourceRef="Task_next" targetRef="EndEvent_1"/>
          <bpmn:endEvent id="EndEvent_1"/>
        </bpmn:process>
        """)


def deploy(form=None, script: str = "made = 1"):
    return deploy_definition(
        actor=None,
        bpmn_xml=model(script),
        forms={"fill.schema.json": form or FILL_FORM, "start.schema.json": START_FORM},
        check_permission=False,
    ).definition


def start(users, agencies, **kwargs):
    return services.start_case(
        actor=users["nils"], process_key=KEY, person=PERSON, participants={"nav": agencies["nav"].pk}, **kwargs
    )
