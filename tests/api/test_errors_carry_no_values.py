"""Errors carry no values (issue 11, point 3): a script task that fails on a health field
leaves an incident and a timeline event without the value, shown to NAV (health masked)
without the error text, and to the process admin with it, still without the value."""

import json

import pytest
from django.test import Client

from tests.bpmn.engine.bpmn_snippets import definitions, lane_set, properties
from tests.clients import api
from tests.workflows.helpers import PERSON
from workflows import services
from workflows.models import Event, EventKind, Incident, Task

pytestmark = pytest.mark.django_db

DIAGNOSIS = "Paranoid schizofreni"
HEALTH_FORM = {"type": "object", "properties": {"health_note": {"type": "string", "x-category": "health"}}}
NAV_FORM = {"type": "object", "properties": {"paid": {"type": "boolean", "x-category": "economy"}}}

HEALTH_TASK = properties(formJsonSchemaFilename="h.schema.json")


def model():
    nodes = {"Helse": ["StartEvent_1", "Task_health", "Script_parse"], "NAV": ["Task_nav", "EndEvent_1"]}
    return definitions(f"""
        <bpmn:process id="Proc_parse" name="Parse a note" isExecutable="true">
          {lane_set(nodes)}
          <bpmn:startEvent id="StartEvent_1"/>
          <bpmn:sequenceFlow id="Flow_1" sourceRef="StartEvent_1" targetRef="Task_health"/>
          <bpmn:userTask id="Task_health" name="Note">{HEALTH_TASK}</bpmn:userTask>
          <bpmn:sequenceFlow id="Flow_2" sourceRef="Task_health" targetRef="Script_parse"/>
          <bpmn:scriptTask id="Script_parse"><bpmn:script>score = int(health_note)</bpmn:script></bpmn:scriptTask>
          <bpmn:sequenceFlow id="Flow_3" sourceRef="Script_parse" targetRef="Task_nav"/>
          <bpmn:userTask id="Task_nav" name="Pay">{properties(formJsonSchemaFilename="n.schema.json")}</bpmn:userTask>
          <bpmn:sequenceFlow id="Flow_4" sourceRef="Task_nav" targetRef="EndEvent_1"/>
          <bpmn:endEvent id="EndEvent_1"/>
        </bpmn:process>
    """)


@pytest.fixture
def failed_case(users, agencies):
    from bpmn.services import deploy_definition

    deploy_definition(
        actor=None,
        bpmn_xml=model(),
        forms={"h.schema.json": HEALTH_FORM, "n.schema.json": NAV_FORM},
        check_permission=False,
    )
    case = services.start_case(
        actor=users["helga"],
        process_key="Proc_parse",
        person=PERSON,
        participants={"health": agencies["health"].pk, "nav": agencies["nav"].pk},
    )
    task = Task.objects.get(case=case, element_id="Task_health")
    services.complete_task(actor=users["helga"], task_id=task.pk, data={"health_note": DIAGNOSIS})
    return case


def test_the_stored_incident_and_event_name_element_and_class_not_the_value(failed_case):
    incident = Incident.objects.get(case=failed_case)
    event = Event.objects.get(case=failed_case, kind=EventKind.INCIDENT)
    assert incident.element_id == event.element_id == "Script_parse"
    assert "invalid literal for int()" in incident.error
    assert event.detail["error_class"] == "ValueError" and event.detail["kind"] == "expression-error"
    assert DIAGNOSIS not in incident.error and DIAGNOSIS not in json.dumps(event.detail)


def test_nav_sees_that_a_step_failed_but_no_error_text(failed_case, users):
    answer = api(users["nils"]).get(f"/api/v1/cases/{failed_case.pk}/timeline/")
    assert answer.status_code == 200 and DIAGNOSIS not in answer.content.decode()
    (incident,) = [e for e in answer.json()["results"] if e["kind"] == "incident"]
    assert incident["element_id"] == "Script_parse" and incident["detail"]["error_class"] == "ValueError"
    assert "error" not in incident["detail"]
    client = Client()
    client.force_login(users["nils"])
    page = client.get(f"/cases/{failed_case.pk}/")
    assert page.status_code == 200 and DIAGNOSIS not in page.content.decode()
    assert api(users["nils"]).get("/api/v1/incidents/").status_code == 403


def test_the_process_admin_reads_the_error_without_the_value(failed_case, users):
    admin = api(users["ada"])
    answer = admin.get("/api/v1/incidents/")
    assert answer.status_code == 200
    (row,) = answer.json()["results"]
    assert "invalid literal for int()" in row["error"] and DIAGNOSIS not in answer.content.decode()
    retried = admin.post(f"/api/v1/incidents/{row['id']}/retry/")
    assert retried.status_code == 409 and DIAGNOSIS not in retried.content.decode()
    assert DIAGNOSIS not in Incident.objects.get(pk=row["id"]).error


def test_an_error_stored_with_the_value_is_scrubbed_when_read(failed_case, users):
    # A row written before errors were scrubbed where they are raised.
    Incident.objects.filter(case=failed_case).update(error=f"ValueError: invalid literal: '{DIAGNOSIS}'")
    answer = api(users["ada"]).get("/api/v1/incidents/")
    assert DIAGNOSIS not in answer.content.decode()
