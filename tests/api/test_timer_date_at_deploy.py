"""A timer's literal date outside the dates a timer may have (1900-01-01 to 2199-12-31,
``bpmn/engine/date_range.py``) is refused at deploy, naming the timer (h-dates2). It deployed,
and every case stopped on a ``timer-date-out-of-range`` incident when the timer started."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.tokens import issue
from bpmn.models import ProcessDefinition
from permissions.models import Membership, Role
from tests.bpmn.engine.bpmn_snippets import definitions, lane_set

pytestmark = pytest.mark.django_db

KEY = "Proc_timer_date"


def _model(timer: str) -> str:
    nodes = ["StartEvent_1", "Task_wait", "Timer_due", "End_due", "EndEvent_1"]
    return definitions(f"""
        <bpmn:process id="{KEY}" name="Timer date" isExecutable="true">
          {lane_set({"NAV": nodes})}
          <bpmn:startEvent id="StartEvent_1"/>
          <bpmn:sequenceFlow id="Flow_1" sourceRef="StartEvent_1" targetRef="Task_wait"/>
          <bpmn:userTask id="Task_wait" name="Wait"/>
          <bpmn:boundaryEvent id="Timer_due" attachedToRef="Task_wait" cancelActivity="false">
            <bpmn:timerEventDefinition id="Def_due">{timer}</bpmn:timerEventDefinition>
          </bpmn:boundaryEvent>
          <bpmn:sequenceFlow id="Flow_t" sourceRef="Timer_due" targetRef="End_due"/>
          <bpmn:endEvent id="End_due"/>
          <bpmn:sequenceFlow id="Flow_2" sourceRef="Task_wait" targetRef="EndEvent_1"/>
          <bpmn:endEvent id="EndEvent_1"/>
        </bpmn:process>
        """)


@pytest.fixture
def process_admin(agencies):
    user = get_user_model().objects.create_user("prosess-tidtaker")
    Membership.objects.create(user=user, agency=agencies["nav"], role=Role.PROCESS_ADMIN)
    client = APIClient(HTTP_ACCEPT_LANGUAGE="nb")
    client.credentials(HTTP_AUTHORIZATION=f"Token {issue(user)[0]}")
    return client


def _deploy(client, timer):
    return client.post(reverse("api-process-definitions"), {"bpmn_xml": _model(timer), "forms": {}}, format="json")


@pytest.mark.parametrize(
    "timer",
    [
        "<bpmn:timeDate>2300-01-01T09:00:00+01:00</bpmn:timeDate>",
        "<bpmn:timeDate>0001-01-01T09:00:00Z</bpmn:timeDate>",
        "<bpmn:timeDate>'9999-12-31T09:00:00Z'</bpmn:timeDate>",
        "<bpmn:timeCycle>R3/1800-01-01T09:00:00Z/P1D</bpmn:timeCycle>",
    ],
)
def test_a_literal_timer_date_no_case_can_have_is_400_naming_the_timer(process_admin, timer):
    answer = _deploy(process_admin, timer)
    assert answer.status_code == 400, answer.json()
    (error,) = answer.json()["errors"]
    assert (error["element_id"], error["code"]) == ("Timer_due", "timer-date-out-of-range")
    assert error["message"].startswith("tidtakeren «Timer_due» har ")
    assert "en dato utenfor tidsrommet 1900-01-01 til 2199-12-31, som er datoene en tidtaker kan ha" in error["message"]
    assert not ProcessDefinition.objects.filter(key=KEY).exists()


@pytest.mark.parametrize(
    "timer",
    [
        "<bpmn:timeDate>2026-02-30T09:00:00+01:00</bpmn:timeDate>",
        "<bpmn:timeDate>2026-12-01T25:00:00+01:00</bpmn:timeDate>",
    ],
)
def test_a_literal_timer_date_that_is_no_date_is_400_naming_the_timer(process_admin, timer):
    answer = _deploy(process_admin, timer)
    assert answer.status_code == 400, answer.json()
    (error,) = answer.json()["errors"]
    assert (error["element_id"], error["code"]) == ("Timer_due", "invalid-timer")


@pytest.mark.parametrize("when", ["1900-01-01T09:00:00+01:00", "2199-12-31T09:00:00+01:00"])
def test_a_literal_timer_date_in_the_range_deploys(process_admin, when):
    answer = _deploy(process_admin, f"<bpmn:timeDate>{when}</bpmn:timeDate>")
    assert answer.status_code == 201, answer.json()
