"""A message catch whose correlation is computed from data catches only where the data says
so: a split of its own, as a conditional event is (h-attack38).

A process admin's collaboration: the health service's pool assesses the person and throws
"referral" with the assessment as the payload's ``flag``, the correlation property the
message is matched on; the housing office's pool waits for "referral" with the same property
computed as ``True`` (``spiffworkflow:processVariableCorrelation``). SpiffWorkflow's catch
compares the two, so the referral is caught, and the housing office's task after it opens,
only where the person needs treatment. No gateway, no condition: the path analysis took the
catch and the task for reached on every path, and NAV, who does not see health, read the
assessment off the housing pool (the open tasks, the task lists and counts, the timeline, the
diagram, what the case waits for), and off the timeline's "message sent", which only a referral
the pool did not catch leaves. Now such a catch lies on a split reading what its correlation
is computed from (``gateway_paths._correlation_reads``), with the model's throws of its
message, and every rule for a hidden branch covers it."""

import importlib

import pytest
from django.apps import apps

from bpmn.engine.gateway_paths import path_splits
from permissions.rules import PATH_CATEGORY_BITS
from tests.api.path_told import told
from tests.bpmn.engine.bpmn_snippets import definitions, properties
from tests.workflows.helpers import PERSON
from workflows import services
from workflows.jobs import handlers
from workflows.models import Task

pytestmark = pytest.mark.django_db

OTHER_PERSON = {"name": "Kari Nordmann", "national_id": "29822099635"}
HEALTH_FORM = {"type": "object", "properties": {"needs_treatment": {"type": "boolean", "x-category": "health"}}}
HOUSING_FORM = {"type": "object", "properties": {"home_found": {"type": "boolean", "x-category": "housing"}}}
FORM_H, FORM_B = properties(formJsonSchemaFilename="h.schema.json"), properties(formJsonSchemaFilename="b.schema.json")
RETRIEVAL = "<bpmn:messagePath>flag</bpmn:messagePath>"


def model(retrieval: str = RETRIEVAL) -> str:
    return definitions(f"""
        <bpmn:collaboration id="Proc_correlated" name="Henvisning med korrelasjon">
          <bpmn:participant id="P_health" name="Helse" processRef="health_pool"/>
          <bpmn:participant id="P_housing" name="Boligkontoret" processRef="housing_pool"/>
          <bpmn:correlationKey name="referral_key"><bpmn:correlationPropertyRef>p_flag</bpmn:correlationPropertyRef>
          </bpmn:correlationKey>
        </bpmn:collaboration>
        <bpmn:message id="Message_referral" name="referral"/>
        <bpmn:correlationProperty id="p_flag" name="p_flag">
          <bpmn:correlationPropertyRetrievalExpression messageRef="Message_referral">
            {retrieval}
          </bpmn:correlationPropertyRetrievalExpression>
        </bpmn:correlationProperty>
        <bpmn:process id="health_pool" name="Helsevurdering" isExecutable="true">
          <bpmn:startEvent id="Start_health"/>
          <bpmn:sequenceFlow id="H1" sourceRef="Start_health" targetRef="Task_assess"/>
          <bpmn:userTask id="Task_assess" name="Vurdering">{FORM_H}</bpmn:userTask>
          <bpmn:sequenceFlow id="H2" sourceRef="Task_assess" targetRef="Throw_referral"/>
          <bpmn:intermediateThrowEvent id="Throw_referral" name="Henvis">
            <bpmn:messageEventDefinition id="Def_throw" messageRef="Message_referral">
              <bpmn:extensionElements>
                <spiffworkflow:messagePayload>{{"flag": needs_treatment}}</spiffworkflow:messagePayload>
              </bpmn:extensionElements>
            </bpmn:messageEventDefinition>
          </bpmn:intermediateThrowEvent>
          <bpmn:sequenceFlow id="H3" sourceRef="Throw_referral" targetRef="End_health"/>
          <bpmn:endEvent id="End_health"/>
        </bpmn:process>
        <bpmn:process id="housing_pool" name="Boligtilbud" isExecutable="true">
          <bpmn:startEvent id="Start_housing"/>
          <bpmn:sequenceFlow id="B1" sourceRef="Start_housing" targetRef="Catch_referral"/>
          <bpmn:intermediateCatchEvent id="Catch_referral" name="Henvisning mottatt">
            <bpmn:messageEventDefinition id="Def_catch" messageRef="Message_referral">
              <bpmn:extensionElements>
                <spiffworkflow:processVariableCorrelation>
                  <spiffworkflow:propertyId>p_flag</spiffworkflow:propertyId>
                  <spiffworkflow:expression>True</spiffworkflow:expression>
                </spiffworkflow:processVariableCorrelation>
              </bpmn:extensionElements>
            </bpmn:messageEventDefinition>
          </bpmn:intermediateCatchEvent>
          <bpmn:sequenceFlow id="B2" sourceRef="Catch_referral" targetRef="Task_supported"/>
          <bpmn:userTask id="Task_supported" name="Tilby bolig med oppfølging">{FORM_B}</bpmn:userTask>
          <bpmn:sequenceFlow id="B3" sourceRef="Task_supported" targetRef="End_supported"/>
          <bpmn:endEvent id="End_supported"/>
        </bpmn:process>
    """)


def deploy(**kwargs):
    from bpmn.services import deploy_definition

    return deploy_definition(
        actor=None,
        bpmn_xml=model(**kwargs),
        forms={"h.schema.json": HEALTH_FORM, "b.schema.json": HOUSING_FORM},
        routing={"pools": {"Boligkontoret": "housing"}},
        check_permission=False,
    ).definition


def assessed(users, agencies, person, needs_treatment: bool):
    case = services.start_case(
        actor=users["helga"],
        process_key="Proc_correlated",
        person=person,
        participants={kind: agencies[kind].pk for kind in ("health", "housing", "nav")},
    )
    task = Task.objects.get(case=case, element_id="Task_assess")
    services.complete_task(actor=users["helga"], task_id=task.pk, data={"needs_treatment": needs_treatment})
    while handlers.run_one("w"):  # the referral the housing pool did not catch goes to the outbox
        pass
    return case


@pytest.fixture
def two_cases(users, agencies):
    """``(treated, ordinary)``: only ``treated``'s referral was caught."""
    deploy()
    treated = assessed(users, agencies, PERSON, True)
    ordinary = assessed(users, agencies, OTHER_PERSON, False)
    assert Task.objects.filter(case=treated, status="open").get().element_id == "Task_supported"
    assert not Task.objects.filter(case=ordinary, status="open").exists()
    return treated, ordinary


def test_nav_is_told_the_same_of_both_cases_through_a_correlated_catch(two_cases, users):
    treated, ordinary = two_cases
    assert told(users["nils"], treated) == told(users["nils"], ordinary)


def test_who_sees_the_assessment_or_works_the_task_still_sees_the_referral(two_cases, users):
    treated, ordinary = two_cases
    assert told(users["helga"], treated) != told(users["helga"], ordinary)
    assert "Task_supported" in told(users["bjorn"], treated)["task list"]


def test_the_catch_the_task_after_it_and_the_throw_lie_on_the_split_of_what_the_correlation_reads():
    splits = path_splits(model())
    assert splits["Catch_referral"].reads == {"needs_treatment"}
    assert {"Catch_referral", "Task_supported", "End_supported", "Throw_referral"} <= splits[
        "Catch_referral"
    ].branch_elements
    # Written as bpmn-js writes it, the retrieval reads the same.
    formal = model(retrieval="<bpmn:formalExpression>flag</bpmn:formalExpression>")
    assert path_splits(formal)["Catch_referral"].reads == {"needs_treatment"}


def test_a_correlation_of_constants_splits_nothing():
    assert "Catch_referral" not in path_splits(model(retrieval="<bpmn:messagePath>True</bpmn:messagePath>"))


def test_a_version_deployed_before_is_read_anew_by_the_migration(users, agencies):
    """``workflows/0075`` fills in the stored version's categories and its open task's."""
    definition = deploy()
    treated = assessed(users, agencies, PERSON, True)
    health = PATH_CATEGORY_BITS["health"]
    task = Task.objects.get(case=treated, element_id="Task_supported")
    assert task.path_categories & health
    metadata = dict(definition.metadata)
    metadata["path_categories"] = {
        element: categories
        for element, categories in metadata["path_categories"].items()
        if element not in {"Catch_referral", "Task_supported", "End_supported", "Throw_referral"}
    }
    type(definition).objects.filter(pk=definition.pk).update(metadata=metadata)
    Task.objects.filter(pk=task.pk).update(path_categories=0)

    importlib.import_module("workflows.migrations.0075_path_categories_correlated_catches").fill(apps, None)

    definition.refresh_from_db()
    assert "health" in definition.metadata["path_categories"]["Task_supported"]
    assert Task.objects.get(pk=task.pk).path_categories & health
