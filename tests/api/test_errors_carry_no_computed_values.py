"""Errors carry no values, computed ones neither.

The scrub removed from an error's text the values of the case data as they are, and what
Python quotes that is not a name. A process admin, who sees no case data, deploys a model
whose script fails on purpose with a value computed from a health field: a quoted word of it
is a name to the scrub (``{}[health_note.split()[1]]``: KeyError 'schizofreni'), and a number
is no quote at all (``timedelta(days=10**9 + len(health_note))``: "days=1000000020"). The
incident list gave both to the process admin. A quoted name is kept now only when the model
itself has it (a field, a variable the script misspelt), a number only when the model has it."""

import re

import pytest

from tests.bpmn.engine.bpmn_snippets import definitions, lane_set, properties
from tests.clients import api
from tests.workflows.helpers import PERSON
from workflows import services
from workflows.models import Incident, Task

pytestmark = pytest.mark.django_db

DIAGNOSIS = "Paranoid schizofreni"
HEALTH_FORM = {"type": "object", "properties": {"health_note": {"type": "string", "x-category": "health"}}}
NAV_FORM = {"type": "object", "properties": {"paid": {"type": "boolean", "x-category": "economy"}}}
HEALTH_TASK = properties(formJsonSchemaFilename="h.schema.json")


def failed_on(users, agencies, script: str, process_id: str) -> Incident:
    from bpmn.services import deploy_definition

    nodes = {"Helse": ["StartEvent_1", "Task_health", "Script_leak"], "NAV": ["Task_nav", "EndEvent_1"]}
    deploy_definition(
        actor=None,
        bpmn_xml=definitions(f"""
        <bpmn:process id="{process_id}" name="Leak" isExecutable="true">
          {lane_set(nodes)}
          <bpmn:startEvent id="StartEvent_1"/>
          <bpmn:sequenceFlow id="Flow_1" sourceRef="StartEvent_1" targetRef="Task_health"/>
          <bpmn:userTask id="Task_health" name="Note">{HEALTH_TASK}</bpmn:userTask>
          <bpmn:sequenceFlow id="Flow_2" sourceRef="Task_health" targetRef="Script_leak"/>
          <bpmn:scriptTask id="Script_leak"><bpmn:script>{script}</bpmn:script></bpmn:scriptTask>
          <bpmn:sequenceFlow id="Flow_3" sourceRef="Script_leak" targetRef="Task_nav"/>
          <bpmn:userTask id="Task_nav" name="Pay">{properties(formJsonSchemaFilename="n.schema.json")}</bpmn:userTask>
          <bpmn:sequenceFlow id="Flow_4" sourceRef="Task_nav" targetRef="EndEvent_1"/>
          <bpmn:endEvent id="EndEvent_1"/>
        </bpmn:process>
        """),
        forms={"h.schema.json": HEALTH_FORM, "n.schema.json": NAV_FORM},
        check_permission=False,
    )
    case = services.start_case(
        actor=users["helga"],
        process_key=process_id,
        person=PERSON,
        participants={"health": agencies["health"].pk, "nav": agencies["nav"].pk},
    )
    task = Task.objects.get(case=case, element_id="Task_health")
    services.complete_task(actor=users["helga"], task_id=task.pk, data={"health_note": DIAGNOSIS})
    return Incident.objects.get(case=case)


LEAKS = {
    "a quoted word": ("x = {}[health_note.split()[1]]", "schizofreni", "KeyError"),
    "a quoted word in other letters": ("x = {}[health_note.split()[1].upper()]", "SCHIZOFRENI", "KeyError"),
    "a number": ("x = timedelta(days=10**9 + len(health_note))", str(10**9 + len(DIAGNOSIS)), "days="),
}


@pytest.mark.parametrize("leak", list(LEAKS.values()), ids=list(LEAKS))
def test_the_process_admin_reads_no_value_computed_from_the_case_in_an_error(users, agencies, leak):
    script, computed, kept = leak
    incident = failed_on(users, agencies, script, "Proc_leak")
    answer = api(users["ada"]).get("/api/v1/incidents/")
    assert answer.status_code == 200
    text = answer.content.decode()
    assert kept in text  # what failed is still said
    assert computed not in text and computed not in incident.error


def test_a_name_the_model_has_is_still_quoted(users, agencies):
    """What the admin needs to mend the model: the name the script misspelt."""
    incident = failed_on(users, agencies, "x = health_notes", "Proc_misspelt")
    assert "'health_notes'" in incident.error


# Every letter a name of the model, so that each quoted letter is "a name the model has".
EVERY_LETTER = "; ".join(f"{c} = 1; {c.upper()} = 1" for c in "abcdefghijklmnopqrstuvwxyz")
PIECEMEAL = {
    # KeyError's text is the repr of its key: a tuple of single letters, each kept as a name
    # of the model, spelt the whole diagnosis out.
    "letters as a key": (EVERY_LETTER + "\nx = {}[tuple(health_note)]", "schizofreni", "KeyError"),
    # ... and a tuple of single digits, each under the scrub's two-digit floor, a number.
    "digits as a key": (
        "x = {}[tuple(int(d) for d in str(len(health_note) * 12345))]",
        str(len(DIAGNOSIS) * 12345),
        "KeyError",
    ),
    # list.index quotes what it looked for: "('P', 'a', ...) is not in list".
    "letters sought in a list": (EVERY_LETTER + "\nx = [1].index(tuple(health_note))", "schizofreni", "ValueError"),
    # A dotted name was kept when each part was a name of the model ...
    "letters as a dotted format specifier": (
        EVERY_LETTER + "\nx = f\"{1:{'.'.join(list(health_note.replace(' ', '')))}}\"",
        "schizofreni",
        "ValueError",
    ),
    # ... and Python's "invalid literal ...: '<value>'" was cut at its first ". " within the quotes.
    "dotted letters as a number": (
        EVERY_LETTER + "\nx = int('.'.join(list(health_note)))",
        "schizofreni",
        "ValueError",
    ),
    "letters as a dotted key": (
        EVERY_LETTER + "\nx = {}['.'.join(list(health_note.replace(' ', '')))]",
        "schizofreni",
        "KeyError",
    ),
}


@pytest.mark.parametrize("leak", list(PIECEMEAL.values()), ids=list(PIECEMEAL))
def test_the_process_admin_reads_no_value_a_character_or_digit_at_a_time(users, agencies, leak):
    """A model quoting a value in pieces, each too short to be a value to the scrub (a
    letter that is a name of the model, a single digit), read it whole from the incident."""
    script, computed, kept = leak
    incident = failed_on(users, agencies, script, "Proc_piecemeal")
    answer = api(users["ada"]).get("/api/v1/incidents/")
    assert answer.status_code == 200
    shown = answer.json()["results"][0]["error"]
    assert kept in shown  # what failed is still said
    for text in (shown, incident.error):
        assert computed not in re.sub(r"[^a-z0-9]", "", text.lower())
