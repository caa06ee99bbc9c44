"""A message thrown on a hidden gateway branch and caught in another pool of the same case
(a collaboration run as one case). The health service's pool assesses the person; its
gateway reads a health field and, when the person needs treatment, throws
"treatment_referral"; the housing office's pool waits for it and then offers a supported
home. The hidden-branch analysis followed sequence flows only: the catch and the housing
task after it lay on no branch, so NAV, who does not see health, read the health value off
the housing pool: its task in the case's open tasks, the task lists and counts, the
timeline (message received, task created, the handoff), the diagram, what the case waits
for, and the answer to sending the message itself (202 where the catch still waited, 404
where it had been caught). What a branch's message reaches now lies on the branch
(``bpmn.engine.gateway_paths._message_edges``): NAV is told the same of both cases; the
health service, which sees the branch, and the housing office, whose task it is, see it."""

import importlib

import pytest
from django.apps import apps

from bpmn.engine.gateway_paths import gateway_paths
from bpmn.models import ProcessDefinition
from permissions.rules import PATH_CATEGORY_BITS
from tests.api.path_told import told
from tests.bpmn.engine.bpmn_snippets import definitions, properties
from tests.clients import api
from tests.ids import tid
from tests.workflows.helpers import PERSON
from workflows import services
from workflows.models import Case, EventKind, ProcessInstance, Task

pytestmark = pytest.mark.django_db

OTHER_PERSON = {"name": "Kari Nordmann", "national_id": "29822099635"}
HEALTH_FORM = {"type": "object", "properties": {"needs_treatment": {"type": "boolean", "x-category": "health"}}}
FORM_H, FORM_B = properties(formJsonSchemaFilename="h.schema.json"), properties(formJsonSchemaFilename="b.schema.json")
HOUSING_FORM = {"type": "object", "properties": {"home_found": {"type": "boolean", "x-category": "housing"}}}
# The branches' elements: the housing pool's catch and what follows it among them.
BRANCHES = {"Throw_referral", "End_treated", "End_ordinary", "Catch_referral", "Task_supported", "End_supported"}


def model(*, message_flow: bool = True, both_throw: bool = False) -> str:
    """``both_throw``: the ordinary branch throws the message too, from a throw of its own
    (with no payload) in another pool, so the catch and what follows it lie on no branch."""
    flow = '<bpmn:messageFlow id="MF_1" sourceRef="Throw_referral" targetRef="Catch_referral"/>' if message_flow else ""
    ordinary = "Throw_plain" if both_throw else "End_ordinary"
    return definitions(f"""
        <bpmn:collaboration id="Proc_pools" name="Henvisning mellom to baner">
          <bpmn:participant id="P_health" name="Helse" processRef="health_pool"/>
          <bpmn:participant id="P_housing" name="Boligkontoret" processRef="housing_pool"/>
          {flow}
        </bpmn:collaboration>
        <bpmn:message id="Message_referral" name="treatment_referral">
          {properties(senders="nav,health")}
        </bpmn:message>
        <bpmn:process id="health_pool" name="Helsevurdering" isExecutable="true">
          <bpmn:startEvent id="Start_health"/>
          <bpmn:sequenceFlow id="H1" sourceRef="Start_health" targetRef="Task_assess"/>
          <bpmn:userTask id="Task_assess" name="Vurdering">{FORM_H}</bpmn:userTask>
          <bpmn:sequenceFlow id="H2" sourceRef="Task_assess" targetRef="Gateway_treatment"/>
          <bpmn:exclusiveGateway id="Gateway_treatment" default="H_ordinary"/>
          <bpmn:sequenceFlow id="H_treated" sourceRef="Gateway_treatment" targetRef="Throw_referral">
            <bpmn:conditionExpression>needs_treatment == True</bpmn:conditionExpression>
          </bpmn:sequenceFlow>
          <bpmn:sequenceFlow id="H_ordinary" sourceRef="Gateway_treatment" targetRef="{ordinary}"/>
          <bpmn:intermediateThrowEvent id="Throw_referral" name="Henvis">
            <bpmn:messageEventDefinition id="Def_throw" messageRef="Message_referral">
              <bpmn:extensionElements>
                <spiffworkflow:messagePayload>{{"needs_treatment": needs_treatment}}</spiffworkflow:messagePayload>
              </bpmn:extensionElements>
            </bpmn:messageEventDefinition>
          </bpmn:intermediateThrowEvent>
          {THROW_PLAIN if both_throw else ""}
          <bpmn:sequenceFlow id="H3" sourceRef="Throw_referral" targetRef="End_treated"/>
          <bpmn:endEvent id="End_treated"/>
          <bpmn:endEvent id="End_ordinary"/>
        </bpmn:process>
        <bpmn:process id="housing_pool" name="Boligtilbud" isExecutable="true">
          <bpmn:startEvent id="Start_housing"/>
          <bpmn:sequenceFlow id="B1" sourceRef="Start_housing" targetRef="Catch_referral"/>
          <bpmn:intermediateCatchEvent id="Catch_referral" name="Henvisning mottatt">
            <bpmn:messageEventDefinition id="Def_catch" messageRef="Message_referral"/>
          </bpmn:intermediateCatchEvent>
          <bpmn:sequenceFlow id="B2" sourceRef="Catch_referral" targetRef="Task_supported"/>
          <bpmn:userTask id="Task_supported" name="Tilby bolig med oppfølging">{FORM_B}</bpmn:userTask>
          <bpmn:sequenceFlow id="B3" sourceRef="Task_supported" targetRef="End_supported"/>
          <bpmn:endEvent id="End_supported"/>
        </bpmn:process>
    """)


THROW_PLAIN = """<bpmn:intermediateThrowEvent id="Throw_plain" name="Meld">
            <bpmn:messageEventDefinition id="Def_plain" messageRef="Message_referral"/>
          </bpmn:intermediateThrowEvent>
          <bpmn:sequenceFlow id="H4" sourceRef="Throw_plain" targetRef="End_ordinary"/>"""


def deploy(**kwargs):
    from bpmn.services import deploy_definition

    return deploy_definition(
        actor=None,
        bpmn_xml=model(**kwargs),
        forms={"h.schema.json": HEALTH_FORM, "b.schema.json": HOUSING_FORM},
        routing={"pools": {"Boligkontoret": "housing"}},
        check_permission=False,
    ).definition


BOTH_PERSONS = ((PERSON, True), (OTHER_PERSON, False))  # needs treatment, or not


def assessed(users, agencies, person, needs_treatment: bool):
    """A case of the pools model whose health assessment the health service has completed."""
    case = services.start_case(
        actor=users["helga"],
        process_key="Proc_pools",
        person=person,
        participants={kind: agencies[kind].pk for kind in ("health", "housing", "nav")},
    )
    task = Task.objects.get(case=case, element_id="Task_assess")
    services.complete_task(actor=users["helga"], task_id=task.pk, data={"needs_treatment": needs_treatment})
    return case


@pytest.fixture
def two_cases(users, agencies):
    """``(treated, ordinary)``: the health service assessed both; only ``treated`` needs
    treatment, so only its referral reached the housing pool."""
    deploy()
    treated, ordinary = (assessed(users, agencies, person, needs) for person, needs in BOTH_PERSONS)
    assert set(Task.objects.filter(case=treated, status="open").values_list("element_id", flat=True)) == {
        "Task_supported"
    }
    assert not Task.objects.filter(case=ordinary, status="open").exists()
    return treated, ordinary


def test_nav_is_told_the_same_of_both_cases_through_the_housing_pool(two_cases, users):
    treated, ordinary = two_cases
    for reader in ("nils",):
        assert told(users[reader], treated) == told(users[reader], ordinary), reader


def test_the_health_service_sees_the_branch_and_the_housing_office_its_task(two_cases, users):
    treated, ordinary = two_cases
    helga = told(users["helga"], treated)
    assert "Task_supported" in helga["open tasks"]
    assert (EventKind.MESSAGE_RECEIVED, "Catch_referral") in helga["timeline"]
    assert helga != told(users["helga"], ordinary)
    hanne = told(users["hanne"], treated)
    assert "Task_supported" in hanne["task list"] and "Task_supported" in hanne["open tasks"]


def test_the_task_reached_by_the_message_carries_the_gateways_category(two_cases, users):
    treated, _ordinary = two_cases
    supported = Task.objects.get(case=treated, element_id="Task_supported")
    assert supported.path_categories & PATH_CATEGORY_BITS["health"]
    # One task by id: NAV is answered as for a task that does not exist.
    assert api(users["nils"]).get(f"/api/v1/tasks/{tid(supported.pk)}/").status_code == 404
    assert api(users["hanne"]).get(f"/api/v1/tasks/{tid(supported.pk)}/").status_code == 200


def test_nav_sending_the_message_is_answered_the_same_whichever_branch(two_cases, users):
    """The catch waits in the ordinary case (no referral came) and was caught in the treated
    one: NAV, which may send the message, was answered 202 and 404, and its 202 started the
    housing task. A catch on a branch hidden from the sender counts as nothing waiting."""
    treated, ordinary = two_cases
    answers = [
        api(users["nils"]).post(
            "/api/v1/messages/", {"name": "treatment_referral", "case_reference": case.reference}, format="json"
        )
        for case in (treated, ordinary)
    ]
    assert [a.status_code for a in answers] == [404, 404]
    assert answers[0].json()["code"] == answers[1].json()["code"] == "message.nothing_waits"
    assert not Task.objects.filter(case=ordinary, element_id="Task_supported").exists()


def test_the_branch_reaches_through_the_message_by_name_without_a_drawn_flow():
    (path,) = [p for g, p in gateway_paths(model(message_flow=False)).items() if g == "Gateway_treatment"]
    assert path.branch_elements == BRANCHES
    assert gateway_paths(model())["Gateway_treatment"].branch_elements == path.branch_elements


def test_the_migration_fills_in_what_the_message_reaches_for_stored_versions_and_tasks(two_cases, users):
    treated, _ordinary = two_cases
    definition = ProcessDefinition.objects.get(key="Proc_pools")
    before = {**definition.metadata, "path_categories": {"Throw_referral": ["health"], "End_treated": ["health"]}}
    ProcessDefinition.objects.filter(pk=definition.pk).update(metadata=before)
    Task.objects.filter(case=treated).update(path_categories=0)
    migration = importlib.import_module("workflows.migrations.0041_path_categories_messages_timers")
    migration.fill(apps, None)
    definition.refresh_from_db()
    assert definition.metadata["path_categories"]["Task_supported"] == ["health"]
    supported = Task.objects.get(case=treated, element_id="Task_supported")
    assert supported.path_categories == PATH_CATEGORY_BITS["health"]
    assert ProcessInstance.objects.filter(case=treated).count() == 1
    assert Case.objects.filter(pk=treated.pk).exists()


def test_a_catch_both_branches_message_reaches_does_not_name_the_throw(users, agencies):
    """Both branches throw the referral, from throws of their own: the housing pool's catch
    and task lie on no branch and show, but the message received named the throw that sent
    it (and the fields its payload wrote): NAV read the branch off the event's detail."""
    deploy(both_throw=True)
    assert "Catch_referral" not in gateway_paths(model(both_throw=True))["Gateway_treatment"].branch_elements
    details = []
    for person, needs in BOTH_PERSONS:
        case = assessed(users, agencies, person, needs)
        timeline = api(users["nils"]).get(f"/api/v1/cases/{case.pk}/timeline/").json()["results"]
        (received,) = [e for e in timeline if e["kind"] == EventKind.MESSAGE_RECEIVED]
        details.append(received["detail"])
        helga = api(users["helga"]).get(f"/api/v1/cases/{case.pk}/timeline/").json()["results"]
        (seen,) = [e for e in helga if e["kind"] == EventKind.MESSAGE_RECEIVED]
        assert seen["detail"]["from_element"] == ("Throw_referral" if needs else "Throw_plain")
    assert details[0] == details[1] == {"name": "treatment_referral", "to_pool": "Boligkontoret"}
