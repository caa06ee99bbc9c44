"""Inference through the diagram and timeline (issue 11, point 7): a reader sees which
branch a gateway took only if they may see every field its condition reads. Here the
gateway reads a health field; NAV (health masked) sees it in progress or done, never the
branch, in the diagram, the timeline, the open tasks and the swimlanes."""

import json

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tests.bpmn.engine.bpmn_snippets import definitions, lane_set, properties
from tests.clients import api
from tests.workflows.helpers import PERSON
from workflows import selectors, services
from workflows.models import Task

pytestmark = pytest.mark.django_db

HEALTH_FORM = {"type": "object", "properties": {"needs_treatment": {"type": "boolean", "x-category": "health"}}}
HOUSING_FORM = {"type": "object", "properties": {"home_found": {"type": "boolean", "x-category": "housing"}}}
NAV_FORM = {"type": "object", "properties": {"paid": {"type": "boolean", "x-category": "economy"}}}
BRANCH = ("Task_supported_home", "Omsorgsbolig med behandling")


def model():
    lanes = {
        "Helse": ["StartEvent_1", "Task_assess", "Gateway_treatment"],
        "Boligkontakt": [BRANCH[0], "Task_ordinary_home", "Gateway_join"],
        "NAV": ["Task_pay", "EndEvent_1"],
    }
    return definitions(f"""
        <bpmn:process id="Proc_branch" name="Branch on health" isExecutable="true">
          {lane_set(lanes)}
          <bpmn:startEvent id="StartEvent_1"/>
          <bpmn:sequenceFlow id="Flow_1" sourceRef="StartEvent_1" targetRef="Task_assess"/>
          <bpmn:userTask id="Task_assess" name="Assess">{HEALTH}</bpmn:userTask>
          <bpmn:sequenceFlow id="Flow_2" sourceRef="Task_assess" targetRef="Gateway_treatment"/>
          <bpmn:exclusiveGateway id="Gateway_treatment" default="Flow_ordinary"/>
          <bpmn:sequenceFlow id="Flow_supported" sourceRef="Gateway_treatment" targetRef="{BRANCH[0]}">
            <bpmn:conditionExpression>needs_treatment == True</bpmn:conditionExpression>
          </bpmn:sequenceFlow>
          <bpmn:sequenceFlow id="Flow_ordinary" sourceRef="Gateway_treatment" targetRef="Task_ordinary_home"/>
          <bpmn:userTask id="{BRANCH[0]}" name="{BRANCH[1]}">{HOUSING}</bpmn:userTask>
          <bpmn:userTask id="Task_ordinary_home" name="Ordinary home">{HOUSING}</bpmn:userTask>
          <bpmn:sequenceFlow id="Flow_3" sourceRef="{BRANCH[0]}" targetRef="Gateway_join"/>
          <bpmn:sequenceFlow id="Flow_4" sourceRef="Task_ordinary_home" targetRef="Gateway_join"/>
          <bpmn:exclusiveGateway id="Gateway_join"/>
          <bpmn:sequenceFlow id="Flow_5" sourceRef="Gateway_join" targetRef="Task_pay"/>
          <bpmn:userTask id="Task_pay" name="Pay">{PAY}</bpmn:userTask>
          <bpmn:sequenceFlow id="Flow_6" sourceRef="Task_pay" targetRef="EndEvent_1"/>
          <bpmn:endEvent id="EndEvent_1"/>
        </bpmn:process>
    """)


HEALTH = properties(formJsonSchemaFilename="h.schema.json")
HOUSING = properties(formJsonSchemaFilename="b.schema.json")
PAY = properties(formJsonSchemaFilename="n.schema.json")


@pytest.fixture
def branched_case(users, agencies):
    """The health service assessed: the gateway sent the case to the supported home."""
    from bpmn.services import deploy_definition

    deploy_definition(
        actor=None,
        bpmn_xml=model(),
        forms={"h.schema.json": HEALTH_FORM, "b.schema.json": HOUSING_FORM, "n.schema.json": NAV_FORM},
        check_permission=False,
    )
    case = services.start_case(
        actor=users["helga"],
        process_key="Proc_branch",
        person=PERSON,
        participants={kind: agencies[kind].pk for kind in ("health", "housing", "nav")},
    )
    task = Task.objects.get(case=case, element_id="Task_assess")
    services.complete_task(actor=users["helga"], task_id=task.pk, data={"needs_treatment": True})
    return case


def diagram(user, case):
    answer = api(user).get(f"/api/v1/cases/{case.pk}/diagram/")
    assert answer.status_code == 200
    return set(answer.json()["completed"]), set(answer.json()["active"])


def test_nav_sees_the_gateway_in_progress_not_the_branch(branched_case, users):
    completed, active = diagram(users["nils"], branched_case)
    assert "Gateway_treatment" in active and "Task_assess" in completed
    assert BRANCH[0] not in active | completed
    # The health service reads the field: it sees the branch.
    completed, active = diagram(users["helga"], branched_case)
    assert BRANCH[0] in active and "Gateway_treatment" in completed


def test_nav_timeline_and_case_answer_do_not_name_the_branch(branched_case, users):
    timeline = api(users["nils"]).get(f"/api/v1/cases/{branched_case.pk}/timeline/")
    assert timeline.status_code == 200
    assert BRANCH[0] not in timeline.content.decode() and BRANCH[1] not in timeline.content.decode()
    # The branch's events are left out, not kept as their kind and time (which counted them).
    helga = api(users["helga"]).get(f"/api/v1/cases/{branched_case.pk}/timeline/").json()["results"]
    assert [e["element_id"] for e in helga if e["element_id"] == BRANCH[0]]
    assert len(timeline.json()["results"]) == len([e for e in helga if e["element_id"] != BRANCH[0]])
    detail = api(users["nils"]).get(f"/api/v1/cases/{branched_case.pk}/").json()
    assert BRANCH[0] not in json.dumps(detail["open_tasks"])
    assert BRANCH[0] in json.dumps(api(users["helga"]).get(f"/api/v1/cases/{branched_case.pk}/").json())


def test_nav_case_page_timeline_swimlanes_and_holders_do_not_name_the_branch(branched_case, users):
    client = Client()
    client.force_login(users["nils"])
    page = client.get(f"/cases/{branched_case.pk}/")
    assert page.status_code == 200
    events = client.get(f"/cases/{branched_case.pk}/sections/events/")  # the folded events list
    shown = [event.element_id for event, _label in events.context["events"]["rows"]]
    assert BRANCH[0] not in shown
    assert BRANCH[1] not in [bar.label for bar in page.context["chart"].bars]
    assert all(task.element_id != BRANCH[0] for holder in page.context["holders"] for task in holder["tasks"])
    assert page.context["diagram"]["active"] == ["Gateway_treatment"]


def test_after_the_branches_meet_nav_sees_its_own_task_and_the_gateway_done(branched_case, users):
    task = Task.objects.get(case=branched_case, element_id=BRANCH[0])
    services.complete_task(actor=users["bjorn"], task_id=task.pk, data={"home_found": True})
    completed, active = diagram(users["nils"], branched_case)
    assert active == {"Task_pay"} and "Gateway_treatment" in completed
    assert BRANCH[0] not in completed


def _timeline_elements(user, case_id, decide):
    case = selectors.case_for(user, case_id)
    events = list(selectors.case_timeline_for(case, user))
    return [event.element_id for event in decide(user, case, events).events(events)]


def test_the_timeline_hides_exactly_what_the_readers_whole_path_view_hides(branched_case, users, agencies, legal_bases):
    """The API's timeline decides what it leaves out from the model's gateways
    (``timeline_path_view``: no consents read when the reader's standing opens every
    field they read): the same elements hidden as by the reader's whole path view, before and
    after a consent opens health to NAV."""

    def shortcut(user, case, _events):
        return selectors.timeline_path_view(user, case)

    def whole(user, case, _events):
        return selectors.path_view_for(user, case)

    def hidden_for_each():
        return {
            name: (
                _timeline_elements(users[name], branched_case.pk, shortcut),
                _timeline_elements(users[name], branched_case.pk, whole),
            )
            for name in ("nils", "helga", "bjorn")
        }

    before = hidden_for_each()
    assert all(page == full for page, full in before.values())
    assert BRANCH[0] not in before["nils"][0] and BRANCH[0] in before["helga"][0]
    services.record_consent(
        actor=users["helga"],
        case=branched_case,
        agency=agencies["nav"],
        categories=["health"],
        purpose="Oppfølging",
        legal_basis=legal_bases["forvaltningsloven § 13 a nr. 1"],
    )
    after = hidden_for_each()
    assert all(page == full for page, full in after.values())
    assert BRANCH[0] in after["nils"][0]
    timeline = api(users["nils"]).get(f"/api/v1/cases/{branched_case.pk}/timeline/").content.decode()
    assert BRANCH[0] in timeline


def test_a_reader_whose_standing_opens_the_gateways_fields_reads_no_consent(branched_case, users):
    """The health service sees its own health field: the timeline reads no consent or opening
    to decide what to hide (two statements less), and still shows the branch."""
    with CaptureQueriesContext(connection) as helga:
        answer = api(users["helga"]).get(f"/api/v1/cases/{branched_case.pk}/timeline/")
    assert BRANCH[0] in answer.content.decode()
    statements = " ".join(query["sql"] for query in helga.captured_queries)
    assert "permissions_consent" not in statements and "permissions_breakglass" not in statements
    with CaptureQueriesContext(connection) as nils:  # NAV's health is masked: consents decide
        api(users["nils"]).get(f"/api/v1/cases/{branched_case.pk}/timeline/")
    assert "permissions_consent" in " ".join(query["sql"] for query in nils.captured_queries)
