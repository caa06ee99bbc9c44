"""Inference through a call activity (issue 11's rule for sub-processes, which a call activity
is, with another process's elements): a gateway that reads a health field sends the case
through a call activity; NAV, which does not see the field, must not learn the branch from the
called process's tasks in the case answer, its task list, the timeline or the diagram. Nor
from the branches of a gateway inside a process of a file deployed with the model (``called``):
its gateways were never read for what their path gives away.

Both failed before 2026-12-06: ``bpmn.engine.gateway_paths`` read the model's own file and did
not hold a call activity as a container, so the called process's task "Omsorgsbolig med
behandling" had ``path_categories`` 0 and was listed to every participant."""

import json

import pytest

from tests.api.test_gateway_inference import HEALTH, HEALTH_FORM, HOUSING, HOUSING_FORM, NAV_FORM, PAY
from tests.bpmn.engine.bpmn_snippets import definitions, lane_set
from tests.clients import api
from tests.workflows.helpers import PERSON
from workflows import services
from workflows.models import Task

pytestmark = pytest.mark.django_db

SUPPORTED = ("Task_supported_home", "Omsorgsbolig med behandling")
FORMS = {"h.schema.json": HEALTH_FORM, "b.schema.json": HOUSING_FORM, "n.schema.json": NAV_FORM}
ASSESS = f"""
          <bpmn:startEvent id="StartEvent_1"/>
          <bpmn:sequenceFlow id="Flow_1" sourceRef="StartEvent_1" targetRef="Task_assess"/>
          <bpmn:userTask id="Task_assess" name="Assess">{HEALTH}</bpmn:userTask>
"""
PAY_TO_END = f"""
          <bpmn:userTask id="Task_pay" name="Pay">{PAY}</bpmn:userTask>
          <bpmn:sequenceFlow id="Flow_6" sourceRef="Task_pay" targetRef="EndEvent_1"/>
          <bpmn:endEvent id="EndEvent_1"/>
"""


def _lanes(lanes, prefix):
    return lane_set(lanes, lane_set_id=f"LaneSet_{prefix}").replace('id="Lane_', f'id="Lane_{prefix}_')


def called_process(*, gateway: bool) -> str:
    """The process a call activity calls: the supported home (with ``gateway``: chosen by a
    gateway on the health field, the ordinary home otherwise)."""
    if not gateway:
        body = f"""
          <bpmn:startEvent id="Start_called"/>
          <bpmn:sequenceFlow id="Flow_c1" sourceRef="Start_called" targetRef="{SUPPORTED[0]}"/>
          <bpmn:userTask id="{SUPPORTED[0]}" name="{SUPPORTED[1]}">{HOUSING}</bpmn:userTask>
          <bpmn:sequenceFlow id="Flow_c2" sourceRef="{SUPPORTED[0]}" targetRef="End_called"/>
          <bpmn:endEvent id="End_called"/>
        """
        nodes = ["Start_called", SUPPORTED[0], "End_called"]
    else:
        body = f"""
          <bpmn:startEvent id="Start_called"/>
          <bpmn:sequenceFlow id="Flow_c1" sourceRef="Start_called" targetRef="Gateway_called"/>
          <bpmn:exclusiveGateway id="Gateway_called" default="Flow_c_ordinary"/>
          <bpmn:sequenceFlow id="Flow_c_supported" sourceRef="Gateway_called" targetRef="{SUPPORTED[0]}">
            <bpmn:conditionExpression>needs_treatment == True</bpmn:conditionExpression>
          </bpmn:sequenceFlow>
          <bpmn:sequenceFlow id="Flow_c_ordinary" sourceRef="Gateway_called" targetRef="Task_ordinary_home"/>
          <bpmn:userTask id="{SUPPORTED[0]}" name="{SUPPORTED[1]}">{HOUSING}</bpmn:userTask>
          <bpmn:userTask id="Task_ordinary_home" name="Ordinary home">{HOUSING}</bpmn:userTask>
          <bpmn:sequenceFlow id="Flow_c2" sourceRef="{SUPPORTED[0]}" targetRef="Join_called"/>
          <bpmn:sequenceFlow id="Flow_c3" sourceRef="Task_ordinary_home" targetRef="Join_called"/>
          <bpmn:exclusiveGateway id="Join_called"/>
          <bpmn:sequenceFlow id="Flow_c4" sourceRef="Join_called" targetRef="End_called"/>
          <bpmn:endEvent id="End_called"/>
        """
        nodes = ["Start_called", "Gateway_called", SUPPORTED[0], "Task_ordinary_home", "Join_called", "End_called"]
    return f"""
        <bpmn:process id="Proc_home" name="Home" isExecutable="true">
          {_lanes({"Boligkontakt": nodes}, "home")}
          {body}
        </bpmn:process>
    """


def branch_model(*, with_called: bool) -> str:
    """Health assesses; its field sends the case through the call activity, or to the
    ordinary home; NAV pays after either."""
    lanes = {
        "Helse": ["StartEvent_1", "Task_assess", "Gateway_treatment"],
        "Boligkontakt": ["Call_supported", "Task_ordinary_home", "Gateway_join"],
        "NAV": ["Task_pay", "EndEvent_1"],
    }
    return definitions(f"""
        <bpmn:process id="Proc_call" name="Branch through a call" isExecutable="true">
          {_lanes(lanes, "main")}
          {ASSESS}
          <bpmn:sequenceFlow id="Flow_2" sourceRef="Task_assess" targetRef="Gateway_treatment"/>
          <bpmn:exclusiveGateway id="Gateway_treatment" default="Flow_ordinary"/>
          <bpmn:sequenceFlow id="Flow_supported" sourceRef="Gateway_treatment" targetRef="Call_supported">
            <bpmn:conditionExpression>needs_treatment == True</bpmn:conditionExpression>
          </bpmn:sequenceFlow>
          <bpmn:sequenceFlow id="Flow_ordinary" sourceRef="Gateway_treatment" targetRef="Task_ordinary_home"/>
          <bpmn:callActivity id="Call_supported" calledElement="Proc_home"/>
          <bpmn:userTask id="Task_ordinary_home" name="Ordinary home">{HOUSING}</bpmn:userTask>
          <bpmn:sequenceFlow id="Flow_3" sourceRef="Call_supported" targetRef="Gateway_join"/>
          <bpmn:sequenceFlow id="Flow_4" sourceRef="Task_ordinary_home" targetRef="Gateway_join"/>
          <bpmn:exclusiveGateway id="Gateway_join"/>
          <bpmn:sequenceFlow id="Flow_5" sourceRef="Gateway_join" targetRef="Task_pay"/>
          {PAY_TO_END}
        </bpmn:process>
        {called_process(gateway=False) if with_called else ""}
    """)


def calling_model() -> str:
    """Health assesses, then the call activity (on every path): the gateway is in the called file."""
    lanes = {"Helse": ["StartEvent_1", "Task_assess"], "Boligkontakt": ["Call_home"], "NAV": ["Task_pay", "EndEvent_1"]}
    return definitions(f"""
        <bpmn:process id="Proc_call" name="A call whose process branches" isExecutable="true">
          {_lanes(lanes, "main")}
          {ASSESS}
          <bpmn:sequenceFlow id="Flow_2" sourceRef="Task_assess" targetRef="Call_home"/>
          <bpmn:callActivity id="Call_home" calledElement="Proc_home"/>
          <bpmn:sequenceFlow id="Flow_3" sourceRef="Call_home" targetRef="Task_pay"/>
          {PAY_TO_END}
        </bpmn:process>
    """)


def _assessed_case(users, agencies, bpmn_xml, called):
    from bpmn.services import deploy_definition

    deploy_definition(actor=None, bpmn_xml=bpmn_xml, forms=FORMS, called=called, check_permission=False)
    case = services.start_case(
        actor=users["helga"],
        process_key="Proc_call",
        person=PERSON,
        participants={kind: agencies[kind].pk for kind in ("health", "housing", "nav")},
    )
    task = Task.objects.get(case=case, element_id="Task_assess")
    services.complete_task(actor=users["helga"], task_id=task.pk, data={"needs_treatment": True})
    assert Task.objects.filter(case=case, element_id=SUPPORTED[0], status="open").exists()
    return case


def _what_shows(user, case) -> dict[str, bool]:
    client = api(user)
    detail = client.get(f"/api/v1/cases/{case.pk}/").json()
    diagram = client.get(f"/api/v1/cases/{case.pk}/diagram/").json()
    return {
        "case answer": SUPPORTED[0] in json.dumps(detail["open_tasks"]),
        "case list": client.get("/api/v1/cases/").json()["results"][0]["open_task_count"] > 0,
        "task list": SUPPORTED[1] in client.get("/api/v1/tasks/").content.decode(),
        "timeline": SUPPORTED[0] in client.get(f"/api/v1/cases/{case.pk}/timeline/").content.decode(),
        "diagram": SUPPORTED[0] in diagram["active"] + diagram["completed"],
    }


@pytest.mark.parametrize(
    "where", ["in-the-file", "called-file", "called-file-sharing-the-start-id"], ids=lambda where: where
)
def test_a_call_activity_on_a_hidden_branch_hides_what_the_called_process_does(where, users, agencies):
    """bpmn-js names every new diagram's start ``StartEvent_1``: a called file sharing it with
    the model deploys, and what it does stays as hidden (the analysis keeps the two starts
    apart: ``test_timer_firing_inference``, where joining them leaked)."""
    called_file = definitions(called_process(gateway=False))
    if where == "called-file-sharing-the-start-id":
        called_file = called_file.replace('"Start_called"', '"StartEvent_1"').replace(
            ">Start_called<", ">StartEvent_1<"
        )
        assert called_file.count("StartEvent_1") == 3  # the start, its flow and its lane's reference
    called = None if where == "in-the-file" else [{"filename": "home.bpmn", "bpmn_xml": called_file}]
    case = _assessed_case(users, agencies, branch_model(with_called=where == "in-the-file"), called)
    assert not any(_what_shows(users["nils"], case).values()), _what_shows(users["nils"], case)
    # Health reads the field and housing works the task: both see it.
    assert all(_what_shows(users["helga"], case).values())
    assert all(_what_shows(users["bjorn"], case).values())


def test_a_gateway_inside_a_called_file_hides_its_branches(users, agencies):
    called = [{"filename": "home.bpmn", "bpmn_xml": definitions(called_process(gateway=True))}]
    case = _assessed_case(users, agencies, calling_model(), called)
    shown = _what_shows(users["nils"], case)
    assert not any(shown.values()), shown
    assert all(_what_shows(users["helga"], case).values())


def test_the_migration_fills_in_the_categories_of_a_called_files_tasks(users, agencies):
    """Versions deployed before: their stored categories and their tasks' are filled in again."""
    import importlib

    from django.apps import apps

    from bpmn.models import ProcessDefinition
    from permissions.rules import path_mask

    called = [{"filename": "home.bpmn", "bpmn_xml": definitions(called_process(gateway=False))}]
    case = _assessed_case(users, agencies, branch_model(with_called=False), called)
    definition = ProcessDefinition.objects.get(key="Proc_call")
    stored = dict(definition.metadata["path_categories"])
    assert stored[SUPPORTED[0]] == ["health"]
    before = {element: cats for element, cats in stored.items() if element == "Call_supported"}
    ProcessDefinition.objects.filter(pk=definition.pk).update(
        metadata={**definition.metadata, "path_categories": before}
    )
    Task.objects.filter(case=case).update(path_categories=0)
    importlib.import_module("workflows.migrations.0050_path_categories_called_files_and_branches").fill(apps, None)
    definition.refresh_from_db()
    assert definition.metadata["path_categories"] == stored
    assert Task.objects.get(case=case, element_id=SUPPORTED[0]).path_categories == path_mask(["health"])
