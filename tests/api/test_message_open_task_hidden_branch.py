"""A message caught by a non-interrupting boundary whose path then goes down a branch hidden
from the sender (`POST /api/v1/messages/`, docs/security.md "A message opens the work of a
non-interrupting boundary once").

NAV may send "housing_offer"; the housing office's task waits with a non-interrupting boundary
for it. After the catch a gateway reads a health value: with treatment the case goes on to a
follow-up task of the housing office, without it the catch's path ends. NAV, which sees no
health data, sees the boundary and not the branch after it. Until 2026-12-06 a second empty
message was refused (409 message.task_still_open) when the first had opened the hidden
follow-up task, and delivered (202) when the path had ended: two messages told NAV the health
value. A task the sender's path view hides is now not "still open" for them."""

import pytest
from django.urls import reverse

from tests.api.health_branch import ASSESS_FORM, HEALTH_FORM, HOUSING, HOUSING_FORM
from tests.bpmn.engine.bpmn_snippets import definitions, lane_set, properties
from tests.clients import api
from tests.request_ids import without_request_id
from tests.workflows.helpers import PERSON
from workflows import services
from workflows.models import Task

pytestmark = pytest.mark.django_db

FOLLOW_UP = "Task_follow_up"


def _deploy():
    from bpmn.services import deploy_definition

    lanes = {
        "Helse": ["StartEvent_1", "Task_assess"],
        "Boligkontakt": ["Task_wait", "Boundary_offer", "Gateway_after", FOLLOW_UP, "End_offer", "EndEvent_1"],
    }
    xml = definitions(f"""
        <bpmn:message id="Message_offer" name="housing_offer">{properties(senders="nav")}</bpmn:message>
        <bpmn:process id="Proc_offer_after" name="Offer, then a health branch" isExecutable="true">
          {lane_set(lanes)}
          <bpmn:startEvent id="StartEvent_1"/>
          <bpmn:sequenceFlow id="Flow_1" sourceRef="StartEvent_1" targetRef="Task_assess"/>
          <bpmn:userTask id="Task_assess" name="Assess">{ASSESS_FORM}</bpmn:userTask>
          <bpmn:sequenceFlow id="Flow_2" sourceRef="Task_assess" targetRef="Task_wait"/>
          <bpmn:userTask id="Task_wait" name="Find a home">{HOUSING}</bpmn:userTask>
          <bpmn:boundaryEvent id="Boundary_offer" attachedToRef="Task_wait" cancelActivity="false">
            <bpmn:messageEventDefinition id="Def_offer" messageRef="Message_offer"/>
          </bpmn:boundaryEvent>
          <bpmn:sequenceFlow id="Flow_3" sourceRef="Task_wait" targetRef="EndEvent_1"/>
          <bpmn:endEvent id="EndEvent_1"/>
          <bpmn:sequenceFlow id="Flow_4" sourceRef="Boundary_offer" targetRef="Gateway_after"/>
          <bpmn:exclusiveGateway id="Gateway_after" default="Flow_none"/>
          <bpmn:sequenceFlow id="Flow_treated" sourceRef="Gateway_after" targetRef="{FOLLOW_UP}">
            <bpmn:conditionExpression>needs_treatment == True</bpmn:conditionExpression>
          </bpmn:sequenceFlow>
          <bpmn:sequenceFlow id="Flow_none" sourceRef="Gateway_after" targetRef="End_offer"/>
          <bpmn:userTask id="{FOLLOW_UP}" name="Supported home">{HOUSING}</bpmn:userTask>
          <bpmn:sequenceFlow id="Flow_5" sourceRef="{FOLLOW_UP}" targetRef="End_offer"/>
          <bpmn:endEvent id="End_offer"/>
        </bpmn:process>
    """)
    deploy_definition(
        actor=None,
        bpmn_xml=xml,
        forms={"h.schema.json": HEALTH_FORM, "b.schema.json": HOUSING_FORM},
        check_permission=False,
    )


@pytest.fixture
def assessed(users, agencies):
    _deploy()

    def make(needs_treatment: bool):
        case = services.start_case(
            actor=users["helga"],
            process_key="Proc_offer_after",
            person=PERSON,
            participants={kind: agencies[kind].pk for kind in ("health", "housing", "nav")},
        )
        task = Task.objects.get(case=case, element_id="Task_assess")
        services.complete_task(actor=users["helga"], task_id=task.pk, data={"needs_treatment": needs_treatment})
        return case

    return make


def _send(user, case):
    response = api(user).post(
        "/api/v1/messages/", {"name": "housing_offer", "case_reference": case.reference}, format="json"
    )
    body = without_request_id(response) if response.status_code >= 400 else response.json()
    return response.status_code, {**body, "detail": str(body.get("detail", "")).replace(case.reference, "REF")}


def _messages_in_timeline(user, case) -> list[dict]:
    answer = api(user).get(reverse("api-case-timeline", args=[case.pk]))
    assert answer.status_code == 200
    return [event["detail"] for event in answer.json()["results"] if event["kind"] == "message_received"]


def test_nav_s_second_message_is_answered_the_same_whichever_branch_the_health_value_chose(assessed, users):
    treated, ordinary = assessed(True), assessed(False)
    assert _send(users["nils"], treated)[0] == _send(users["nils"], ordinary)[0] == 202
    # The follow-up opened on the hidden branch of the treated case only.
    assert Task.objects.filter(case=treated, element_id=FOLLOW_UP, status="open").exists()
    assert not Task.objects.filter(case=ordinary, element_id=FOLLOW_UP).exists()

    again_treated, again_ordinary = _send(users["nils"], treated), _send(users["nils"], ordinary)
    assert again_treated[0] == again_ordinary[0]
    assert again_treated[1].get("code") == again_ordinary[1].get("code")
    assert again_treated[1].get("element_ids") == again_ordinary[1].get("element_ids")
    # The open follow-up is still one: the message joined it (nothing opened beside it).
    assert Task.objects.filter(case=treated, element_id=FOLLOW_UP, status="open").count() == 1
    # Nor does NAV's timeline say that the second message joined an open task.
    assert _messages_in_timeline(users["nils"], treated) == _messages_in_timeline(users["nils"], ordinary)
    # The housing office, whose task it is, is told.
    assert _messages_in_timeline(users["bjorn"], treated)[-1]["task_still_open"] is True


def test_the_housing_office_which_sees_the_branch_is_still_refused_a_second_opening(assessed, users, agencies):
    """Whoever sees the branch is answered as before (409), as the open task is theirs to see."""
    from permissions.models import Membership, Role

    treated = assessed(True)
    assert _send(users["nils"], treated)[0] == 202
    # A NAV worker who also works in the health service sees the branch.
    Membership.objects.create(user=users["nora"], agency=agencies["health"], role=Role.MEMBER)
    users["nora"].groups.add(agencies["health"].group)
    status, body = _send(users["nora"], treated)
    assert status == 409 and body["code"] == "message.task_still_open"
