"""A follow-on carries a value as it is, never as the starter was shown it masked.

The carry reads the earlier case as the starter sees it (``policy.case_data_for``, logged as an
export). A national id in the identity category is shown masked to a housing contact without
a task that needs the full identity, so the next case's start form was given "290822*****"
for the child's number: a broken value the next case's participants took for the real one.
It is withheld now, as any value the starter may not carry whole."""

import pytest

from tests.bpmn.engine.bpmn_snippets import definitions, lane_set, properties
from tests.workflows.helpers import PERSON
from workflows import services
from workflows.models import Case, Task

pytestmark = pytest.mark.django_db

CHILD = "29822099635"  # synthetic (Skatteetaten's test numbers: month + 80)
IDENTITY = {"type": "string", "x-category": "identity"}
NOTED = {"type": "object", "properties": {"noted": {"type": "boolean", "x-category": "coordination"}}}
FORMS = {
    "child.schema.json": {"type": "object", "properties": {"barnets_fodselsnr": IDENTITY}},
    "noted.schema.json": NOTED,
    "next_start.schema.json": {
        "type": "object",
        "properties": {"barnets_fnr_tidligere": {**IDENTITY, "x-inherit": ["barnets_fodselsnr"]}},
    },
}


def _model(process_id: str, start_form: str | None) -> str:
    start = properties(formJsonSchemaFilename=start_form) if start_form else ""
    child, noted = (properties(formJsonSchemaFilename=f) for f in ("child.schema.json", "noted.schema.json"))
    lanes = {"Boligkontakt": ["S", "T_child", "E"], "NAV": ["T_nav"]}
    return definitions(f"""
        <bpmn:process id="{process_id}" name="{process_id}" isExecutable="true">
          {lane_set(lanes)}
          <bpmn:startEvent id="S">{start}</bpmn:startEvent>
          <bpmn:sequenceFlow id="F1" sourceRef="S" targetRef="T_child"/>
          <bpmn:userTask id="T_child" name="Barn">{child}</bpmn:userTask>
          <bpmn:sequenceFlow id="F2" sourceRef="T_child" targetRef="T_nav"/>
          <bpmn:userTask id="T_nav" name="NAV">{noted}</bpmn:userTask>
          <bpmn:sequenceFlow id="F3" sourceRef="T_nav" targetRef="E"/>
          <bpmn:endEvent id="E"/>
        </bpmn:process>
    """)


def test_a_national_id_the_starter_is_shown_masked_is_withheld_not_carried_masked(users, agencies):
    from bpmn.services import deploy_definition

    deploy_definition(actor=None, bpmn_xml=_model("Proc_child_id", None), forms=FORMS, check_permission=False)
    deploy_definition(
        actor=None, bpmn_xml=_model("Proc_child_next", "next_start.schema.json"), forms=FORMS, check_permission=False
    )
    case = services.start_case(
        actor=users["bjorn"],
        process_key="Proc_child_id",
        person=PERSON,
        participants={kind: agencies[kind].pk for kind in ("housing", "nav")},
    )
    task = Task.objects.get(case=case, element_id="T_child")
    services.complete_task(actor=users["bjorn"], task_id=task.pk, data={"barnets_fodselsnr": CHILD})

    result = services.start_follow_on(actor=users["bjorn"], case=case.pk, process_key="Proc_child_next")

    carried = Case.objects.get(pk=result.case.pk).data
    assert carried.get("barnets_fnr_tidligere") in (None, CHILD), carried  # never a masked text
    assert "barnets_fnr_tidligere" in result.withheld
