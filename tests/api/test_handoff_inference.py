"""Inference through who handed a task over (issue 11, point 7): a gateway reads a health
field; on one branch the housing office does a task before NAV's, on the other the case goes
straight from the health service to NAV. NAV's own task is NAV's either way, but "handed
over by" (the inbox), the handoff into it and the actor of its creation (the timeline) named
the housing office or the health service, so the branch. NAV (health masked) must be told
the same of both cases; the health service, whose field it is, sees who handed over."""

import pytest

from tests.bpmn.engine.bpmn_snippets import definitions, lane_set, properties
from tests.clients import api
from tests.clients import web as page
from tests.workflows.helpers import PERSON
from workflows import services
from workflows.models import Task

pytestmark = pytest.mark.django_db

OTHER_PERSON = {"name": "Kari Nordmann", "national_id": "29822099635"}
FORM_H, FORM_N = properties(formJsonSchemaFilename="h.schema.json"), properties(formJsonSchemaFilename="n.schema.json")
HEALTH_FORM = {"type": "object", "properties": {"needs_treatment": {"type": "boolean", "x-category": "health"}}}
NOTE_FORM = {"type": "object", "properties": {"noted": {"type": "boolean", "x-category": "coordination"}}}


def model() -> str:
    lanes = {"Helse": ["S", "Task_assess", "G"], "Boligkontakt": ["Task_home"], "NAV": ["J", "Task_nav", "E"]}
    return definitions(f"""
        <bpmn:process id="Proc_handed" name="Handed over" isExecutable="true">
          {lane_set(lanes)}
          <bpmn:startEvent id="S"/>
          <bpmn:sequenceFlow id="F1" sourceRef="S" targetRef="Task_assess"/>
          <bpmn:userTask id="Task_assess" name="Vurdering">{FORM_H}</bpmn:userTask>
          <bpmn:sequenceFlow id="F2" sourceRef="Task_assess" targetRef="G"/>
          <bpmn:exclusiveGateway id="G" default="F_no"/>
          <bpmn:sequenceFlow id="F_yes" sourceRef="G" targetRef="Task_home">
            <bpmn:conditionExpression>needs_treatment == True</bpmn:conditionExpression>
          </bpmn:sequenceFlow>
          <bpmn:sequenceFlow id="F_no" sourceRef="G" targetRef="J"/>
          <bpmn:userTask id="Task_home" name="Bolig med oppfølging">{FORM_N}</bpmn:userTask>
          <bpmn:sequenceFlow id="F3" sourceRef="Task_home" targetRef="J"/>
          <bpmn:exclusiveGateway id="J"/>
          <bpmn:sequenceFlow id="F4" sourceRef="J" targetRef="Task_nav"/>
          <bpmn:userTask id="Task_nav" name="NAV-oppgave">{FORM_N}</bpmn:userTask>
          <bpmn:sequenceFlow id="F5" sourceRef="Task_nav" targetRef="E"/>
          <bpmn:endEvent id="E"/>
        </bpmn:process>
    """)


@pytest.fixture
def two_cases(users, agencies):
    """Case ``yes`` went through the housing office's task, case ``no`` straight to NAV."""
    return deployed_two_cases(users, agencies, model())


def deployed_two_cases(users, agencies, bpmn_xml: str) -> dict:
    from bpmn.services import deploy_definition

    deploy_definition(
        actor=None,
        bpmn_xml=bpmn_xml,
        forms={"h.schema.json": HEALTH_FORM, "n.schema.json": NOTE_FORM},
        check_permission=False,
    )
    cases = {}
    for answer, person in ((True, PERSON), (False, OTHER_PERSON)):
        case = services.start_case(
            actor=users["helga"],
            process_key="Proc_handed",
            person=person,
            participants={kind: agencies[kind].pk for kind in ("health", "housing", "nav")},
        )
        task = Task.objects.get(case=case, element_id="Task_assess")
        services.complete_task(actor=users["helga"], task_id=task.pk, data={"needs_treatment": answer})
        if answer:
            task = Task.objects.get(case=case, element_id="Task_home")
            services.complete_task(actor=users["bjorn"], task_id=task.pk, data={"noted": True})
        assert Task.objects.filter(case=case, element_id="Task_nav", status="open").exists()
        cases["yes" if answer else "no"] = case
    return cases


def what_is_told(user, cases) -> dict:
    told = {}
    rows = page(user).get("/tasks/?tab=agency").context["rows"]
    for key, case in cases.items():
        timeline = api(user).get(f"/api/v1/cases/{case.pk}/timeline/").json()["results"]
        events = page(user).get(f"/cases/{case.pk}/sections/events/").context["events"]["rows"]
        told[key] = {
            "api timeline": [
                (e["kind"], e["element_id"], e["actor"], (e["from_agency"] or {}).get("kind")) for e in timeline
            ],
            "page events": [(e.kind, e.element_id, e.actor_id is not None) for e, _label in events],
            "inbox handed over by": [row["handed_over_by"] for row in rows if row["person"] == case.person_name],
        }
    return told


def test_nav_is_not_told_who_handed_its_task_over_when_that_tells_the_branch(two_cases, users):
    told = what_is_told(users["nils"], two_cases)
    assert told["yes"] == told["no"], told
    assert told["yes"]["inbox handed over by"] == ["(vises ikke)"], told


def test_the_health_service_sees_who_handed_over(two_cases, users):
    told = what_is_told(users["helga"], two_cases)
    assert ("handoff", "Task_nav", "bjorn", "housing") in told["yes"]["api timeline"]
    assert ("handoff", "Task_nav", "helga", "health") in told["no"]["api timeline"]


def contained_model(kind: str) -> str:
    """``model()`` with the housing office's task inside a sub-process, or inside a process a
    call activity on the branch calls."""
    inner = f"""
            <bpmn:startEvent id="S_in"/>
            <bpmn:sequenceFlow id="Fi1" sourceRef="S_in" targetRef="Task_home"/>
            <bpmn:userTask id="Task_home" name="Bolig med oppfølging">{FORM_N}</bpmn:userTask>
            <bpmn:sequenceFlow id="Fi2" sourceRef="Task_home" targetRef="E_in"/>
            <bpmn:endEvent id="E_in"/>"""
    if kind == "sub-process":
        branch, called, home = (
            f'<bpmn:subProcess id="Home">{inner}</bpmn:subProcess>',
            "",
            ["Home", "S_in", "Task_home"],
        )
    else:
        branch = '<bpmn:callActivity id="Home" calledElement="Proc_home"/>'
        lanes = lane_set({"Boligkontakt": ["S_in", "Task_home", "E_in"]}, lane_set_id="LaneSet_home")
        called = f'<bpmn:process id="Proc_home" isExecutable="true">{lanes.replace("Lane_", "Lane_home_")}{inner}'
        called += "</bpmn:process>"
        home = ["Home"]
    lanes = {"Helse": ["S", "Task_assess", "G"], "Boligkontakt": home, "NAV": ["J", "Task_nav", "E"]}
    if kind == "sub-process":
        lanes["Boligkontakt"].append("E_in")
    return definitions(f"""
        <bpmn:process id="Proc_handed" name="Handed over" isExecutable="true">
          {lane_set(lanes)}
          <bpmn:startEvent id="S"/>
          <bpmn:sequenceFlow id="F1" sourceRef="S" targetRef="Task_assess"/>
          <bpmn:userTask id="Task_assess" name="Vurdering">{FORM_H}</bpmn:userTask>
          <bpmn:sequenceFlow id="F2" sourceRef="Task_assess" targetRef="G"/>
          <bpmn:exclusiveGateway id="G" default="F_no"/>
          <bpmn:sequenceFlow id="F_yes" sourceRef="G" targetRef="Home">
            <bpmn:conditionExpression>needs_treatment == True</bpmn:conditionExpression>
          </bpmn:sequenceFlow>
          <bpmn:sequenceFlow id="F_no" sourceRef="G" targetRef="J"/>
          {branch}
          <bpmn:sequenceFlow id="F3" sourceRef="Home" targetRef="J"/>
          <bpmn:exclusiveGateway id="J"/>
          <bpmn:sequenceFlow id="F4" sourceRef="J" targetRef="Task_nav"/>
          <bpmn:userTask id="Task_nav" name="NAV-oppgave">{FORM_N}</bpmn:userTask>
          <bpmn:sequenceFlow id="F5" sourceRef="Task_nav" targetRef="E"/>
          <bpmn:endEvent id="E"/>
        </bpmn:process>
        {called}
    """)


@pytest.mark.parametrize("kind", ["sub-process", "call-activity"])
def test_a_task_inside_a_sub_process_on_the_branch_hands_over_unnamed_too(kind, users, agencies):
    """The walk back from NAV's task passed the sub-process (or call activity) as a plain node
    and found only the health service's assessment: NAV's timeline then named the housing
    office and bjorn as who handed its task over on one branch, the health service and helga
    on the other (2026-12-06)."""
    cases = deployed_two_cases(users, agencies, contained_model(kind))
    told = what_is_told(users["nils"], cases)
    assert told["yes"] == told["no"], told
    assert ("handoff", "Task_nav", "bjorn", "housing") in what_is_told(users["helga"], cases)["yes"]["api timeline"]
