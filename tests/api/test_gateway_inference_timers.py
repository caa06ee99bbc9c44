"""Inference through a case's timers (issue 11, point 7): a gateway reads a health field; on
one branch the case waits on a timer, on the other the health service has a task. A reader
with health masked (NAV, or the housing coordinator) must not tell the two cases apart by
the case's next timer: the case list's ``next_timer_at`` and "Next deadline" (API and page),
"today", the case's own answer and page (its next deadline and what it waits for). The
health service, whose own service the field is, sees the timer on the case's page."""

import pytest

from tests.bpmn.engine.bpmn_snippets import definitions, lane_set, properties
from tests.clients import api
from tests.clients import web as page
from tests.workflows.helpers import PERSON
from workflows import services
from workflows.models import Case, ProcessInstance, Task

pytestmark = pytest.mark.django_db

OTHER_PERSON = {"name": "Kari Nordmann", "national_id": "29822099635"}
HEALTH_FORM = {"type": "object", "properties": {"needs_treatment": {"type": "boolean", "x-category": "health"}}}
TIMER_NAME = "Venter på behandlingsplass"
FORM_H = properties(formJsonSchemaFilename="h.schema.json")


def model() -> str:
    """Health assesses; ``needs_treatment`` makes the case wait ten days, else health follows up."""
    lanes = {
        "Helse": ["StartEvent_1", "Task_assess", "Gateway_treatment", "Timer_wait", "Task_follow_up", "EndEvent_1"],
        "NAV": ["Task_nav"],
    }
    return definitions(f"""
        <bpmn:process id="Proc_timers" name="Branch with a timer" isExecutable="true">
          {lane_set(lanes)}
          <bpmn:startEvent id="StartEvent_1"/>
          <bpmn:sequenceFlow id="F1" sourceRef="StartEvent_1" targetRef="Task_assess"/>
          <bpmn:userTask id="Task_assess" name="Vurdering">{FORM_H}</bpmn:userTask>
          <bpmn:sequenceFlow id="F2" sourceRef="Task_assess" targetRef="Gateway_treatment"/>
          <bpmn:exclusiveGateway id="Gateway_treatment" default="F_other"/>
          <bpmn:sequenceFlow id="F_yes" sourceRef="Gateway_treatment" targetRef="Timer_wait">
            <bpmn:conditionExpression>needs_treatment == True</bpmn:conditionExpression>
          </bpmn:sequenceFlow>
          <bpmn:sequenceFlow id="F_other" sourceRef="Gateway_treatment" targetRef="Task_follow_up"/>
          <bpmn:intermediateCatchEvent id="Timer_wait" name="{TIMER_NAME}">
            <bpmn:timerEventDefinition><bpmn:timeDuration>P10D</bpmn:timeDuration></bpmn:timerEventDefinition>
          </bpmn:intermediateCatchEvent>
          <bpmn:userTask id="Task_follow_up" name="Oppfølging"/>
          <bpmn:sequenceFlow id="F3" sourceRef="Timer_wait" targetRef="Task_nav"/>
          <bpmn:sequenceFlow id="F4" sourceRef="Task_follow_up" targetRef="Task_nav"/>
          <bpmn:userTask id="Task_nav" name="Oppfølging NAV"/>
          <bpmn:sequenceFlow id="F5" sourceRef="Task_nav" targetRef="EndEvent_1"/>
          <bpmn:endEvent id="EndEvent_1"/>
        </bpmn:process>
    """)


@pytest.fixture
def two_cases(users, agencies):
    """Case ``yes`` waits on the timer, case ``no`` on the health service's follow-up; bjorn
    (housing) coordinates and is responsible for both."""
    from bpmn.services import deploy_definition

    deploy_definition(actor=None, bpmn_xml=model(), forms={"h.schema.json": HEALTH_FORM}, check_permission=False)
    cases = {}
    for answer, person in ((True, PERSON), (False, OTHER_PERSON)):
        case = services.start_case(
            actor=users["bjorn"],
            process_key="Proc_timers",
            person=person,
            participants={kind: agencies[kind].pk for kind in ("health", "housing", "nav")},
        )
        task = Task.objects.get(case=case, element_id="Task_assess")
        services.complete_task(actor=users["helga"], task_id=task.pk, data={"needs_treatment": answer})
        cases["yes" if answer else "no"] = case
    Case.objects.update(responsible=users["bjorn"])
    assert ProcessInstance.objects.get(case=cases["yes"]).next_timer_at is not None
    assert ProcessInstance.objects.get(case=cases["no"]).next_timer_at is None
    return cases


def what_timers_tell(user, cases) -> dict:
    """Everything ``user`` is told of each case's next timer, keyed by "yes"/"no"."""
    client, browser = api(user), page(user)
    rows = {row["id"]: row for row in client.get("/api/v1/cases/").json()["results"]}
    listed = {case.pk: case for case in browser.get("/cases/").context["cases"]}
    today_page = browser.get("/today/")  # housing contacts only (bjorn); 403 for the others
    today = {case.pk: case for case in today_page.context["cases"]} if today_page.status_code == 200 else {}
    seen = {}
    for key, case in cases.items():
        answer = client.get(f"/api/v1/cases/{case.pk}/").json()
        case_page = browser.get(f"/cases/{case.pk}/")
        assert case_page.status_code == 200
        html = case_page.content.decode()
        seen[key] = {
            "api list next_timer_at": rows[case.pk]["next_timer_at"],
            "api case next_timer_at": answer["next_timer_at"],
            "page list next deadline": getattr(listed[case.pk], "next_deadline", None)
            or (listed[case.pk].next_timer_at, listed[case.pk].next_task_due),
            "today": (today[case.pk].next_timer_at, today[case.pk].next_deadline) if case.pk in today else None,
            "page next deadline": case_page.context["view"].next_deadline,
            "page waits on": [wait.element_id for wait in case_page.context["waiting"]],
            "page names the timer": TIMER_NAME in html,
        }
    return seen


@pytest.mark.parametrize("reader", ["nils", "bjorn"])
def test_a_reader_with_health_masked_cannot_tell_the_branch_by_the_timer(two_cases, users, reader):
    seen = what_timers_tell(users[reader], two_cases)
    assert seen["yes"] == seen["no"], seen
    assert seen["yes"]["api list next_timer_at"] is None and not seen["yes"]["page names the timer"], seen


def test_the_health_service_sees_the_timer_on_the_case_page_and_in_its_lists(two_cases, users):
    seen = what_timers_tell(users["helga"], two_cases)
    assert seen["yes"]["page waits on"] == ["Timer_wait"] and seen["yes"]["page names the timer"], seen
    due = ProcessInstance.objects.get(case=two_cases["yes"]).next_timer_at
    assert seen["yes"]["page next deadline"] == due, seen
    assert seen["yes"]["api case next_timer_at"] is not None, seen
    # Health is its own service: the lists show it the timer too.
    assert seen["yes"]["api list next_timer_at"] == seen["yes"]["api case next_timer_at"], seen


def test_the_migration_fills_in_the_timer_categories_of_stored_instances(two_cases, prison_case):
    """Instances stored before ``timer_path_categories``: each gets its model's (the health
    field's gateway here; the prison process's ``has_home``, housing)."""
    import importlib

    from django.apps import apps

    from permissions.rules import path_mask

    migration = importlib.import_module("workflows.migrations.0029_instance_timer_path_categories")
    ProcessInstance.objects.update(timer_path_categories=0)
    migration.fill(apps, None)
    assert ProcessInstance.objects.get(case=two_cases["yes"]).timer_path_categories == path_mask(["health"])
    assert ProcessInstance.objects.get(case=prison_case).timer_path_categories == path_mask(["housing"])
