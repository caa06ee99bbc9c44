"""A message's ``message_id`` is the sender's own text (it may name the person or a
diagnosis): the timeline gives it to the sending agency and the case's coordinator only;
the other participants read that the message came, not its id."""

import pytest
from django.test import Client
from rest_framework.test import APIClient

from tests.bpmn.engine.bpmn_snippets import definitions, lane_set, properties
from tests.workflows.helpers import PERSON, complete, open_tasks
from workflows import services

pytestmark = pytest.mark.django_db

SENDERS_TEXT = "ola-nordmann-schizofreni-2027"


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def _message_events(user, case):
    answer = api(user).get(f"/api/v1/cases/{case.pk}/timeline/", {"page_size": 200})
    assert answer.status_code == 200
    return [event for event in answer.json()["results"] if event["kind"] == "message_received"]


FORM = {
    "type": "object",
    "properties": {
        "done": {"type": "boolean", "x-category": "coordination"},
        "meeting_on": {"type": "string", "format": "date", "x-category": "coordination"},
    },
    "required": ["done"],
    "additionalProperties": False,
}


def model():
    """Prison task -> the prison's message (caught on the main path, which every participant
    follows) -> NAV task -> housing task: three lanes, no branch."""
    form = properties(formJsonSchemaFilename="step.schema.json")
    return definitions(f"""
        <bpmn:message id="Message_meeting" name="meeting_set">
          {properties(senders="prison", fields="meeting_on")}
        </bpmn:message>
        <bpmn:process id="Proc_meeting" name="Meeting" isExecutable="true">
          {
        lane_set(
            {
                "Kriminalomsorgen": ["StartEvent_1", "Task_prison", "Catch_meeting"],
                "NAV": ["Task_nav"],
                "Boligkontakt": ["Task_housing", "EndEvent_1"],
            }
        )
    }
          <bpmn:startEvent id="StartEvent_1"/>
          <bpmn:sequenceFlow id="Flow_1" sourceRef="StartEvent_1" targetRef="Task_prison"/>
          <bpmn:userTask id="Task_prison" name="Prison step">{form}</bpmn:userTask>
          <bpmn:sequenceFlow id="Flow_2" sourceRef="Task_prison" targetRef="Catch_meeting"/>
          <bpmn:intermediateCatchEvent id="Catch_meeting" name="Meeting set">
            <bpmn:messageEventDefinition messageRef="Message_meeting"/>
          </bpmn:intermediateCatchEvent>
          <bpmn:sequenceFlow id="Flow_3" sourceRef="Catch_meeting" targetRef="Task_nav"/>
          <bpmn:userTask id="Task_nav" name="NAV step">{form}</bpmn:userTask>
          <bpmn:sequenceFlow id="Flow_4" sourceRef="Task_nav" targetRef="Task_housing"/>
          <bpmn:userTask id="Task_housing" name="Housing step">{form}</bpmn:userTask>
          <bpmn:sequenceFlow id="Flow_5" sourceRef="Task_housing" targetRef="EndEvent_1"/>
          <bpmn:endEvent id="EndEvent_1"/>
        </bpmn:process>
    """)


@pytest.fixture
def case_with_message(users, agencies):
    from bpmn.services import deploy_definition

    deploy_definition(
        actor=None, bpmn_xml=model(), forms={"step.schema.json": FORM}, filename="meeting.bpmn", check_permission=False
    )
    case = services.start_case(
        actor=users["kari"],
        process_key="Proc_meeting",
        person=PERSON,
        participants={kind: agencies[kind].pk for kind in ("prison", "nav", "housing")},
    )
    (prison_task,) = open_tasks(case)
    complete(prison_task, {"done": True}, actor=users["kari"])
    sent = api(users["kari"]).post(
        "/api/v1/messages/",
        {
            "name": "meeting_set",
            "case_reference": case.reference,
            "payload": {"meeting_on": "2027-03-01"},
            "message_id": SENDERS_TEXT,
        },
        format="json",
    )
    assert sent.status_code == 202 and sent.json()["status"] == "delivered", sent.json()
    return case


@pytest.mark.parametrize("reader", ["kari", "bjorn"])
def test_the_sending_agency_and_the_coordinator_read_the_message_id(case_with_message, users, reader):
    (event,) = _message_events(users[reader], case_with_message)
    assert event["detail"]["message_id"] == SENDERS_TEXT
    assert event["detail"]["name"] == "meeting_set"


@pytest.mark.parametrize("reader", ["nils", "nora"])
def test_the_other_participants_read_that_the_message_came_not_its_id(case_with_message, users, reader):
    (event,) = _message_events(users[reader], case_with_message)
    assert "message_id" not in event["detail"]
    assert event["detail"]["name"] == "meeting_set" and event["agency"]["kind"] == "prison"
    answer = api(users[reader]).get(f"/api/v1/cases/{case_with_message.pk}/timeline/", {"page_size": 200})
    assert SENDERS_TEXT not in answer.content.decode()
    # Nor does the case page give it (its timeline names the message's agency only).
    page = Client()
    page.force_login(users[reader])
    shown = page.get(f"/cases/{case_with_message.pk}/")
    assert shown.status_code == 200 and SENDERS_TEXT not in shown.content.decode()
