"""Which end a case finished at, on a gateway branch hidden from a reader (docs/security.md
"What the path of a case gives away"). The gateway reads a health field: a person who needs
treatment goes to the health service's task and ends at ``End_treated``; the others go to the
housing contact's task and end at ``End_ordinary``. The "case completed" event named no
element, so the timeline's path filter kept it, with its actor: the user whose task completed
the case. NAV, who does not see health, read off it who finished the case (helga of the
health service, or bjorn of the housing contact), and so the health value.

The event names its end now (``element_id``, what a reader who sees the branch is shown);
for a reader from whom a gateway's branch is hidden it names neither the end nor who
completed the case (``PathView.events``), so the two cases' timelines, answers and pages are
the same to NAV."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.bpmn.engine.bpmn_snippets import definitions, lane_set, properties
from tests.clients import api, web
from tests.workflows.helpers import PERSON
from workflows import services
from workflows.models import CaseStatus, Event, EventKind, Task

pytestmark = pytest.mark.django_db

HEALTH_FORM = {"type": "object", "properties": {"needs_treatment": {"type": "boolean", "x-category": "health"}}}
DONE_FORM = {"type": "object", "properties": {"done": {"type": "boolean", "x-category": "coordination"}}}
ASSESS = properties(formJsonSchemaFilename="h.schema.json")
DONE = properties(formJsonSchemaFilename="d.schema.json")


def deploy():
    lanes = {
        "Helse": ["StartEvent_1", "Task_assess", "Gateway_treatment", "Task_treat", "End_treated"],
        "Boligkontakt": ["Task_ordinary_home", "End_ordinary"],
    }
    xml = definitions(f"""
        <bpmn:process id="Proc_two_ends" name="Two ends" isExecutable="true">
          {lane_set(lanes)}
          <bpmn:startEvent id="StartEvent_1"/>
          <bpmn:sequenceFlow id="Flow_1" sourceRef="StartEvent_1" targetRef="Task_assess"/>
          <bpmn:userTask id="Task_assess" name="Assess">{ASSESS}</bpmn:userTask>
          <bpmn:sequenceFlow id="Flow_2" sourceRef="Task_assess" targetRef="Gateway_treatment"/>
          <bpmn:exclusiveGateway id="Gateway_treatment" default="Flow_ordinary"/>
          <bpmn:sequenceFlow id="Flow_treat" sourceRef="Gateway_treatment" targetRef="Task_treat">
            <bpmn:conditionExpression>needs_treatment == True</bpmn:conditionExpression>
          </bpmn:sequenceFlow>
          <bpmn:sequenceFlow id="Flow_ordinary" sourceRef="Gateway_treatment" targetRef="Task_ordinary_home"/>
          <bpmn:userTask id="Task_treat" name="Treatment">{DONE}</bpmn:userTask>
          <bpmn:userTask id="Task_ordinary_home" name="Ordinary home">{DONE}</bpmn:userTask>
          <bpmn:sequenceFlow id="Flow_3" sourceRef="Task_treat" targetRef="End_treated"/>
          <bpmn:sequenceFlow id="Flow_4" sourceRef="Task_ordinary_home" targetRef="End_ordinary"/>
          <bpmn:endEvent id="End_treated"/>
          <bpmn:endEvent id="End_ordinary"/>
        </bpmn:process>
    """)
    from bpmn.services import deploy_definition

    deploy_definition(
        actor=None,
        bpmn_xml=xml,
        forms={"h.schema.json": HEALTH_FORM, "d.schema.json": DONE_FORM},
        check_permission=False,
    )


def finished(users, agencies, *, needs_treatment: bool):
    case = services.start_case(
        actor=users["helga"],
        process_key="Proc_two_ends",
        person=PERSON,
        participants={kind: agencies[kind].pk for kind in ("health", "housing", "nav")},
    )
    assess = Task.objects.get(case=case, element_id="Task_assess")
    services.complete_task(actor=users["helga"], task_id=assess.pk, data={"needs_treatment": needs_treatment})
    last, actor = ("Task_treat", "helga") if needs_treatment else ("Task_ordinary_home", "bjorn")
    task = Task.objects.get(case=case, element_id=last)
    services.complete_task(actor=users[actor], task_id=task.pk, data={"done": True})
    case.refresh_from_db()
    assert case.status == CaseStatus.COMPLETED
    return case


@pytest.fixture
def two_cases(users, agencies):
    deploy()
    return finished(users, agencies, needs_treatment=True), finished(users, agencies, needs_treatment=False)


def timeline(user, case) -> list[tuple]:
    answer = api(user).get(f"/api/v1/cases/{case.pk}/timeline/")
    assert answer.status_code == 200, answer.json()
    return [(e["kind"], e["actor"], e["element_id"], e["agency"]) for e in answer.json()["results"]]


def completed(user, case) -> list[tuple]:
    return [event for event in timeline(user, case) if event[0] == EventKind.CASE_COMPLETED]


def test_the_event_names_the_end_the_case_finished_at(two_cases):
    treated, ordinary = two_cases
    assert Event.objects.get(case=treated, kind=EventKind.CASE_COMPLETED).element_id == "End_treated"
    assert Event.objects.get(case=ordinary, kind=EventKind.CASE_COMPLETED).element_id == "End_ordinary"


def test_nav_is_told_the_same_of_both_cases(two_cases, users):
    """NAV sees health nowhere: the two timelines are the same, and so are the case answers
    and the case pages' event lists, but for ids, references and times."""
    treated, ordinary = two_cases
    nils = users["nils"]
    assert completed(nils, treated) == completed(nils, ordinary) == [(EventKind.CASE_COMPLETED, None, "", None)]
    assert timeline(nils, treated) == timeline(nils, ordinary)

    def case_answer(case):
        answer = api(nils).get(f"/api/v1/cases/{case.pk}/").json()
        drop = {"id", "reference", "opened_at", "closed_at", "updated_at", "version"}
        return {key: value for key, value in answer.items() if key not in drop}

    assert case_answer(treated) == case_answer(ordinary)

    def diagram(case):
        answer = api(nils).get(f"/api/v1/cases/{case.pk}/diagram/").json()
        return answer["completed"], answer["active"]

    assert diagram(treated) == diagram(ordinary)

    def page_events(case):
        page = web(nils).get(reverse("case-section", args=[case.pk, "events"])).content.decode()
        dash = "\u2013"  # each event: its time, a dash, what happened
        return [line.split(dash, 1)[1] for line in page.splitlines() if "<li>" in line and dash in line]

    assert "Sak fullført" in " ".join(page_events(treated))
    assert page_events(treated) == page_events(ordinary)


def test_the_health_service_which_sees_the_branch_sees_the_end_and_who_finished(two_cases, users):
    treated, ordinary = two_cases
    helga = users["helga"]
    assert completed(helga, treated) == [(EventKind.CASE_COMPLETED, "helga", "End_treated", None)]
    assert completed(helga, ordinary) == [(EventKind.CASE_COMPLETED, "bjorn", "End_ordinary", None)]
