"""A split after the branches meet that reads what a branch's step wrote, in the lists
across cases (h-paths4).

The health service's assessment (``needs_treatment``, health) sends the case to one of two
housing tasks, each writing ``treatment_home_plan`` (coordination, open to every
participant): the treatment branch's the plan of a home with treatment, the other's "none".
After the branches meet, a gateway on ``treatment_home_plan`` opens one of two housing
follow-ups. The case's own view hid them from NAV (``selectors._path_view``'s ``unseen``),
but the lists across cases decide from ``Task.path_categories``, which held the field's own
category (coordination) rather than what chose the branch that wrote it (health): NAV's task
list showed the treatment follow-up in one case and the ordinary one in the other. A form
field (a message's declared field, a service task's output) written on a split's branch now
carries what the split reads (``gateway_paths.paths_and_sources(writes=)``), as a script's
variable did, at deploy, in the registry and for stored versions (workflows 0059)."""

import pytest
from django.urls import reverse

from tests.api.test_branch_written_data import treatment_split
from tests.api.test_gateway_inference_lists import what_lists_tell
from tests.bpmn.engine.bpmn_snippets import definitions, lane_set, properties
from tests.clients import api
from tests.workflows.helpers import PERSON
from workflows import services
from workflows.models import Case, Task

pytestmark = pytest.mark.django_db

OTHER_PERSON = {"name": "Kari Nordmann", "national_id": "29822099635"}
PLAN = {"type": "string", "x-category": "coordination"}
FORMS = {
    "h.schema.json": {"type": "object", "properties": {"needs_treatment": {"type": "boolean", "x-category": "health"}}},
    "a.schema.json": {"type": "object", "properties": {"treatment_home_plan": PLAN}},
    "b.schema.json": {"type": "object", "properties": {"treatment_home_plan": PLAN, "ordinary_plan": PLAN}},
    "n.schema.json": {"type": "object", "properties": {"noted": {"type": "boolean", "x-category": "coordination"}}},
}
WRITTEN = {True: {"treatment_home_plan": "Bolig med behandling"}, False: {"treatment_home_plan": "Ingen"}}
FOLLOW_UPS = {"T_follow_treatment", "T_follow_ordinary"}


def model():
    form = {name[0]: properties(formJsonSchemaFilename=name) for name in FORMS}
    lanes = {
        "Helse": ["S", "T_assess", "G"],
        "Boligkontakt": ["T_a", "T_b", "J", "G2", *sorted(FOLLOW_UPS), "J2"],
        "NAV": ["T_final", "E"],
    }
    return definitions(f"""
        <bpmn:process id="Proc_branch_lists" name="Branch data in lists" isExecutable="true">
          {lane_set(lanes)}
          <bpmn:startEvent id="S"/>
          <bpmn:sequenceFlow id="F1" sourceRef="S" targetRef="T_assess"/>
          {treatment_split(form, "Bolig med behandling")}
          <bpmn:sequenceFlow id="F5" sourceRef="J" targetRef="G2"/>
          <bpmn:exclusiveGateway id="G2" default="F_ordinary"/>
          <bpmn:sequenceFlow id="F_treatment" sourceRef="G2" targetRef="T_follow_treatment">
            <bpmn:conditionExpression>treatment_home_plan != "Ingen"</bpmn:conditionExpression>
          </bpmn:sequenceFlow>
          <bpmn:sequenceFlow id="F_ordinary" sourceRef="G2" targetRef="T_follow_ordinary"/>
          <bpmn:userTask id="T_follow_treatment" name="Oppfølging av behandlingsbolig">{form["n"]}</bpmn:userTask>
          <bpmn:userTask id="T_follow_ordinary" name="Vanlig oppfølging">{form["n"]}</bpmn:userTask>
          <bpmn:sequenceFlow id="F6" sourceRef="T_follow_treatment" targetRef="J2"/>
          <bpmn:sequenceFlow id="F7" sourceRef="T_follow_ordinary" targetRef="J2"/>
          <bpmn:exclusiveGateway id="J2"/>
          <bpmn:sequenceFlow id="F8" sourceRef="J2" targetRef="T_final"/>
          <bpmn:userTask id="T_final" name="Avslutning">{form["n"]}</bpmn:userTask>
          <bpmn:sequenceFlow id="F9" sourceRef="T_final" targetRef="E"/>
          <bpmn:endEvent id="E"/>
        </bpmn:process>
    """)


@pytest.fixture
def cases(users, agencies):
    """Case "yes" took the treatment branch, case "no" the other; the housing office wrote its
    plan on each, and each case waits at the housing follow-up the later gateway chose."""
    from bpmn.services import deploy_definition

    deploy_definition(actor=None, bpmn_xml=model(), forms=FORMS, check_permission=False)
    found = {}
    for needs_treatment, person in ((True, PERSON), (False, OTHER_PERSON)):
        case = services.start_case(
            actor=users["helga"],
            process_key="Proc_branch_lists",
            person=person,
            participants={kind: agencies[kind].pk for kind in ("health", "housing", "nav")},
        )
        assess = Task.objects.get(case=case, element_id="T_assess")
        services.complete_task(actor=users["helga"], task_id=assess.pk, data={"needs_treatment": needs_treatment})
        housing_task = Task.objects.get(case=case, status="open")
        services.complete_task(actor=users["bjorn"], task_id=housing_task.pk, data=WRITTEN[needs_treatment])
        found["yes" if needs_treatment else "no"] = case
    Case.objects.update(responsible=users["bjorn"])
    assert Task.objects.get(case=found["yes"], status="open").element_id == "T_follow_treatment"
    assert Task.objects.get(case=found["no"], status="open").element_id == "T_follow_ordinary"
    return found


def test_nav_s_lists_across_cases_tell_neither_branch(cases, users):
    seen = what_lists_tell(users["nils"], cases)
    assert seen["yes"] == seen["no"], seen
    assert seen["yes"]["api all tasks"] == ["T_assess"] and seen["yes"]["api open_task_count"] == 0, seen


def test_the_follow_ups_carry_what_chose_the_branch_that_wrote_the_plan(cases):
    from permissions.rules import path_mask

    health = path_mask(["health"])
    for task in Task.objects.filter(element_id__in=FOLLOW_UPS):
        assert task.path_categories & health, task.element_id


def test_the_health_service_and_the_housing_office_list_them(cases, users):
    """The health service sees what chose both branches; the housing office works the tasks."""
    for reader in ("helga", "bjorn"):
        seen = what_lists_tell(users[reader], cases)
        shown = {key: [e for e in seen[key]["api all tasks"] if e in FOLLOW_UPS] for key in seen}
        assert shown == {"yes": ["T_follow_treatment"], "no": ["T_follow_ordinary"]}, reader


def test_one_task_by_id_agrees(cases, users):
    for task in Task.objects.filter(element_id__in=FOLLOW_UPS):
        assert api(users["nils"]).get(reverse("api-task", args=[task.pk])).status_code == 404


def test_the_migration_fills_in_what_versions_deployed_before_store(cases, users):
    """Versions deployed before stored the follow-ups' categories without the fields the
    branches' steps write (coordination only): ``0056`` reads them anew, and NAV's lists of
    stored cases tell neither branch."""
    import importlib

    from django.apps import apps

    from bpmn.models import ProcessDefinition
    from permissions.rules import path_mask

    definition = ProcessDefinition.objects.get(key="Proc_branch_lists")
    stored = {**definition.metadata["path_categories"]}
    before = {element: ["coordination"] for element in FOLLOW_UPS}
    ProcessDefinition.objects.filter(pk=definition.pk).update(
        metadata={**definition.metadata, "path_categories": {**stored, **before}}
    )
    Task.objects.filter(element_id__in=FOLLOW_UPS).update(path_categories=path_mask(["coordination"]))
    importlib.import_module("workflows.migrations.0059_path_categories_branch_written_fields").fill(apps, None)
    definition.refresh_from_db()
    assert definition.metadata["path_categories"] == stored
    for task in Task.objects.filter(element_id__in=FOLLOW_UPS):
        assert task.path_categories & path_mask(["health"]), task.element_id
    seen = what_lists_tell(users["nils"], cases)
    assert seen["yes"] == seen["no"], seen
