"""A message sent into a case whose catch event waits on a branch hidden from the sender
(`POST /api/v1/messages/`, README "Messages between cases"). The gateway reads a health
field; the catch of "housing_offer" lies on the branch taken when the person needs
treatment. NAV may send the message but does not see health: the answer was 202 where the
catch waited and 404 where the case took the other branch, so a message told NAV the
branch, and so the health value. A catch on a branch the sender's path view hides now
counts as nothing waiting for them, as another agency's hidden task answers 404
(`selectors.path_hides_task`); the health service, which sees the branch, delivers it."""

import pytest

from tests.bpmn.engine.bpmn_snippets import definitions, lane_set, properties
from tests.clients import api
from tests.request_ids import without_request_id
from tests.workflows.helpers import PERSON
from workflows import selectors, services
from workflows.models import Event, EventKind, Task

pytestmark = pytest.mark.django_db

HEALTH_FORM = {"type": "object", "properties": {"needs_treatment": {"type": "boolean", "x-category": "health"}}}
HOUSING_FORM = {"type": "object", "properties": {"home_found": {"type": "boolean", "x-category": "housing"}}}
CATCH = "Catch_offer"
ASSESS_FORM = properties(formJsonSchemaFilename="h.schema.json")
HOUSING = properties(formJsonSchemaFilename="b.schema.json")


def model():
    lanes = {
        "Helse": ["StartEvent_1", "Task_assess", "Gateway_treatment"],
        "Boligkontakt": [CATCH, "Task_ordinary_home", "Gateway_join", "Task_settle", "EndEvent_1"],
    }
    return definitions(f"""
        <bpmn:message id="Message_offer" name="housing_offer">
          {properties(senders="nav,health")}
        </bpmn:message>
        <bpmn:process id="Proc_offer" name="Offer on a health branch" isExecutable="true">
          {lane_set(lanes)}
          <bpmn:startEvent id="StartEvent_1"/>
          <bpmn:sequenceFlow id="Flow_1" sourceRef="StartEvent_1" targetRef="Task_assess"/>
          <bpmn:userTask id="Task_assess" name="Assess">{ASSESS_FORM}</bpmn:userTask>
          <bpmn:sequenceFlow id="Flow_2" sourceRef="Task_assess" targetRef="Gateway_treatment"/>
          <bpmn:exclusiveGateway id="Gateway_treatment" default="Flow_ordinary"/>
          <bpmn:sequenceFlow id="Flow_supported" sourceRef="Gateway_treatment" targetRef="{CATCH}">
            <bpmn:conditionExpression>needs_treatment == True</bpmn:conditionExpression>
          </bpmn:sequenceFlow>
          <bpmn:sequenceFlow id="Flow_ordinary" sourceRef="Gateway_treatment" targetRef="Task_ordinary_home"/>
          <bpmn:intermediateCatchEvent id="{CATCH}" name="Offer of a supported home">
            <bpmn:messageEventDefinition id="Def_offer" messageRef="Message_offer"/>
          </bpmn:intermediateCatchEvent>
          <bpmn:userTask id="Task_ordinary_home" name="Ordinary home">{HOUSING}</bpmn:userTask>
          <bpmn:sequenceFlow id="Flow_3" sourceRef="{CATCH}" targetRef="Gateway_join"/>
          <bpmn:sequenceFlow id="Flow_4" sourceRef="Task_ordinary_home" targetRef="Gateway_join"/>
          <bpmn:exclusiveGateway id="Gateway_join"/>
          <bpmn:sequenceFlow id="Flow_5" sourceRef="Gateway_join" targetRef="Task_settle"/>
          <bpmn:userTask id="Task_settle" name="Settle">{HOUSING}</bpmn:userTask>
          <bpmn:sequenceFlow id="Flow_6" sourceRef="Task_settle" targetRef="EndEvent_1"/>
          <bpmn:endEvent id="EndEvent_1"/>
        </bpmn:process>
    """)


@pytest.fixture
def assessed(users, agencies):
    """``assessed(needs_treatment)``: a case the health service assessed, past the gateway."""
    from bpmn.services import deploy_definition

    deploy_definition(
        actor=None,
        bpmn_xml=model(),
        forms={"h.schema.json": HEALTH_FORM, "b.schema.json": HOUSING_FORM},
        check_permission=False,
    )

    def make(needs_treatment: bool):
        case = services.start_case(
            actor=users["helga"],
            process_key="Proc_offer",
            person=PERSON,
            participants={kind: agencies[kind].pk for kind in ("health", "housing", "nav")},
        )
        task = Task.objects.get(case=case, element_id="Task_assess")
        services.complete_task(actor=users["helga"], task_id=task.pk, data={"needs_treatment": needs_treatment})
        return case

    return make


def send(user, case):
    return api(user).post(
        "/api/v1/messages/", {"name": "housing_offer", "case_reference": case.reference}, format="json"
    )


def waiting_on(case, user) -> set[str]:
    return {event.element_id for event in selectors.case_diagram_for(case, user).waiting}


def test_nav_is_answered_the_same_whichever_branch_the_health_value_chose(assessed, users):
    treated, ordinary = assessed(True), assessed(False)
    assert waiting_on(treated, users["helga"]) == {CATCH}  # the catch waits, on the hidden branch

    on_hidden, on_other = send(users["nils"], treated), send(users["nils"], ordinary)
    assert (on_hidden.status_code, on_other.status_code) == (404, 404)
    hidden_body, other_body = without_request_id(on_hidden), without_request_id(on_other)
    assert hidden_body["code"] == other_body["code"] == "message.nothing_waits"
    # The text names the case NAV gave and the message's name, nothing of the branch.
    assert hidden_body["detail"].replace(treated.reference, "REF") == other_body["detail"].replace(
        ordinary.reference, "REF"
    )
    # And nothing was caught: the hidden catch still waits, for a sender who sees the branch.
    assert waiting_on(treated, users["helga"]) == {CATCH}
    assert not Event.objects.filter(case=treated, kind=EventKind.MESSAGE_RECEIVED).exists()


def test_the_health_service_which_sees_the_branch_delivers_the_message(assessed, users):
    treated = assessed(True)
    answer = send(users["helga"], treated)
    assert answer.status_code == 202, answer.json()
    assert answer.json()["element_ids"] == [CATCH]
    assert set(Task.objects.filter(case=treated, status="open").values_list("element_id", flat=True)) == {"Task_settle"}
