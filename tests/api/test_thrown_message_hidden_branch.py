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

from tests.api.health_branch import deploy_health_branch
from tests.clients import api, web
from tests.workflows.helpers import PERSON
from workflows import services
from workflows.models import Event, EventKind, Task

pytestmark = pytest.mark.django_db

THROW = "Throw_referral"
MESSAGE = """<bpmn:message id="Message_referral" name="treatment_referral"/>"""
ELEMENT_XML = f"""<bpmn:intermediateThrowEvent id="{THROW}" name="Refer to treatment">
            <bpmn:messageEventDefinition id="Def_referral" messageRef="Message_referral"/>
          </bpmn:intermediateThrowEvent>"""


@pytest.fixture
def treated(users, agencies):
    """A case the health service assessed as needing treatment: the referral was thrown."""
    deploy_health_branch(
        process_id="Proc_referral",
        name="Referral on a health branch",
        message=MESSAGE,
        element=THROW,
        element_xml=ELEMENT_XML,
        lane="Helse",
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
