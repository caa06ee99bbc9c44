"""A message the case throws on a gateway branch hidden from a reader (README "Messages
between cases"). The gateway reads a health field; the throw of "treatment_referral" lies on
the branch taken when the person needs treatment. Its "message sent" event named no element,
so the hidden-branch filtering of the timeline (``selectors.case_timeline_listing``,
``PathView.events``) kept it: NAV, who does not see health, read the health value off its
timeline. The event now names its throw, and NAV's timeline leaves it out, as the branch's
other elements; the health service, which sees the branch, still sees it."""

import importlib

import pytest
from django.urls import reverse

from tests.bpmn.engine.bpmn_snippets import definitions, lane_set, properties
from tests.clients import api, web
from tests.workflows.helpers import PERSON
from workflows import services
from workflows.models import Event, EventKind, Task

pytestmark = pytest.mark.django_db

HEALTH_FORM = {"type": "object", "properties": {"needs_treatment": {"type": "boolean", "x-category": "health"}}}
HOUSING_FORM = {"type": "object", "properties": {"home_found": {"type": "boolean", "x-category": "housing"}}}
THROW = "Throw_referral"
ASSESS_FORM = properties(formJsonSchemaFilename="h.schema.json")
HOUSING = properties(formJsonSchemaFilename="b.schema.json")


def model():
    lanes = {
        "Helse": ["StartEvent_1", "Task_assess", "Gateway_treatment", THROW],
        "Boligkontakt": ["Task_ordinary_home", "Gateway_join", "Task_settle", "EndEvent_1"],
    }
    return definitions(f"""
        <bpmn:message id="Message_referral" name="treatment_referral"/>
        <bpmn:process id="Proc_referral" name="Referral on a health branch" isExecutable="true">
          {lane_set(lanes)}
          <bpmn:startEvent id="StartEvent_1"/>
          <bpmn:sequenceFlow id="Flow_1" sourceRef="StartEvent_1" targetRef="Task_assess"/>
          <bpmn:userTask id="Task_assess" name="Assess">{ASSESS_FORM}</bpmn:userTask>
          <bpmn:sequenceFlow id="Flow_2" sourceRef="Task_assess" targetRef="Gateway_treatment"/>
          <bpmn:exclusiveGateway id="Gateway_treatment" default="Flow_ordinary"/>
          <bpmn:sequenceFlow id="Flow_supported" sourceRef="Gateway_treatment" targetRef="{THROW}">
            <bpmn:conditionExpression>needs_treatment == True</bpmn:conditionExpression>
          </bpmn:sequenceFlow>
          <bpmn:sequenceFlow id="Flow_ordinary" sourceRef="Gateway_treatment" targetRef="Task_ordinary_home"/>
          <bpmn:intermediateThrowEvent id="{THROW}" name="Refer to treatment">
            <bpmn:messageEventDefinition id="Def_referral" messageRef="Message_referral"/>
          </bpmn:intermediateThrowEvent>
          <bpmn:userTask id="Task_ordinary_home" name="Ordinary home">{HOUSING}</bpmn:userTask>
          <bpmn:sequenceFlow id="Flow_3" sourceRef="{THROW}" targetRef="Gateway_join"/>
          <bpmn:sequenceFlow id="Flow_4" sourceRef="Task_ordinary_home" targetRef="Gateway_join"/>
          <bpmn:exclusiveGateway id="Gateway_join"/>
          <bpmn:sequenceFlow id="Flow_5" sourceRef="Gateway_join" targetRef="Task_settle"/>
          <bpmn:userTask id="Task_settle" name="Settle">{HOUSING}</bpmn:userTask>
          <bpmn:sequenceFlow id="Flow_6" sourceRef="Task_settle" targetRef="EndEvent_1"/>
          <bpmn:endEvent id="EndEvent_1"/>
        </bpmn:process>
    """)


@pytest.fixture
def treated(users, agencies):
    """A case the health service assessed as needing treatment: the referral was thrown."""
    from bpmn.services import deploy_definition

    deploy_definition(
        actor=None,
        bpmn_xml=model(),
        forms={"h.schema.json": HEALTH_FORM, "b.schema.json": HOUSING_FORM},
        check_permission=False,
    )
    case = services.start_case(
        actor=users["helga"],
        process_key="Proc_referral",
        person=PERSON,
        participants={kind: agencies[kind].pk for kind in ("health", "housing", "nav")},
    )
    task = Task.objects.get(case=case, element_id="Task_assess")
    services.complete_task(actor=users["helga"], task_id=task.pk, data={"needs_treatment": True})
    return case


def api_kinds(user, case) -> list[str]:
    answer = api(user).get(f"/api/v1/cases/{case.pk}/timeline/")
    assert answer.status_code == 200, answer.json()
    return [event["kind"] for event in answer.json()["results"]]


def web_events(user, case) -> str:
    answer = web(user).get(reverse("case-section", args=[case.pk, "events"]))
    assert answer.status_code == 200
    return answer.content.decode()


def test_the_thrown_message_names_its_throw(treated):
    thrown = Event.objects.get(case=treated, kind=EventKind.MESSAGE_THROWN)
    assert thrown.element_id == THROW


def test_nav_is_not_shown_a_message_thrown_on_the_hidden_health_branch(treated, users):
    assert EventKind.MESSAGE_THROWN not in api_kinds(users["nils"], treated)
    assert "Melding sendt" not in web_events(users["nils"], treated)


def test_the_health_service_which_sees_the_branch_sees_the_message_sent(treated, users):
    assert EventKind.MESSAGE_THROWN in api_kinds(users["helga"], treated)
    assert "Melding sendt" in web_events(users["helga"], treated)


def test_the_migration_names_the_throw_of_events_stored_without_one(treated, users):
    Event.objects.filter(case=treated, kind=EventKind.MESSAGE_THROWN).update(element_id="")
    assert EventKind.MESSAGE_THROWN in api_kinds(users["nils"], treated)  # as stored before

    from django.apps import apps

    importlib.import_module("workflows.migrations.0040_message_thrown_element").fill(apps, None)
    assert Event.objects.get(case=treated, kind=EventKind.MESSAGE_THROWN).element_id == THROW
    assert EventKind.MESSAGE_THROWN not in api_kinds(users["nils"], treated)


def test_the_migration_prefers_a_throw_on_a_branch_where_the_name_is_thrown_twice():
    migration = importlib.import_module("workflows.migrations.0040_message_thrown_element")
    assert migration.thrower_for(["Throw_a"], set()) == "Throw_a"
    assert migration.thrower_for(["Throw_open", "Throw_hidden"], {"Throw_hidden"}) == "Throw_hidden"
    assert migration.thrower_for([], set()) == ""
