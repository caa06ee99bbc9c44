"""An ad-hoc sub-process ends when its completion condition holds after one of its tasks,
cancelling what still runs inside it: a split of its own, as a loop's count is (h-attack38).

A process admin's model: the health service's assessment and a follow-up task run side by
side in an ad-hoc sub-process whose ``completionCondition`` is ``needs_treatment == True``.
Where the person needs treatment, the assessment ended the sub-process and cancelled the
follow-up; elsewhere it stayed open. No gateway: the analysis took both tasks for reached on
every path, and NAV, who does not see health, read the assessment off the follow-up (open or
cancelled: the case's open tasks, the lists and counts, the timeline, the diagram). Now such
a sub-process and what is inside it lie on a split reading what its condition reads
(``gateway_paths.loop_paths``). That the case then ends, and when, shows as it does after a loop
(docs/security.md, "Not covered: whether and when the case ended")."""

import pytest

from bpmn.engine.gateway_paths import path_splits
from tests.api.path_told import told
from tests.bpmn.engine.bpmn_snippets import definitions, lane_set, properties
from tests.workflows.helpers import PERSON
from workflows import services
from workflows.models import Task

pytestmark = pytest.mark.django_db

OTHER_PERSON = {"name": "Kari Nordmann", "national_id": "29822099635"}
HEALTH_FORM = {"type": "object", "properties": {"needs_treatment": {"type": "boolean", "x-category": "health"}}}
HOUSING_FORM = {"type": "object", "properties": {"home_found": {"type": "boolean", "x-category": "housing"}}}
FORM_H, FORM_B = properties(formJsonSchemaFilename="h.schema.json"), properties(formJsonSchemaFilename="b.schema.json")


def model(condition: str = "needs_treatment == True") -> str:
    return definitions(f"""
        <bpmn:process id="Proc_adhoc" name="Samtidig vurdering" isExecutable="true">
          {lane_set({"Helse": ["Start_1", "Adhoc", "Task_h", "Task_b", "End_1"]})}
          <bpmn:startEvent id="Start_1"/>
          <bpmn:sequenceFlow id="F1" sourceRef="Start_1" targetRef="Adhoc"/>
          <bpmn:adHocSubProcess id="Adhoc" name="Samtidig" cancelRemainingInstances="true">
            <bpmn:completionCondition>{condition}</bpmn:completionCondition>
            <bpmn:userTask id="Task_h" name="Vurdering">{FORM_H}</bpmn:userTask>
            <bpmn:userTask id="Task_b" name="Bolig">{FORM_B}</bpmn:userTask>
          </bpmn:adHocSubProcess>
          <bpmn:sequenceFlow id="F2" sourceRef="Adhoc" targetRef="End_1"/>
          <bpmn:endEvent id="End_1"/>
        </bpmn:process>
    """)


def assessed(users, agencies, person, needs_treatment: bool):
    case = services.start_case(
        actor=users["helga"],
        process_key="Proc_adhoc",
        person=person,
        participants={kind: agencies[kind].pk for kind in ("health", "housing", "nav")},
    )
    task = Task.objects.get(case=case, element_id="Task_h")
    services.complete_task(actor=users["helga"], task_id=task.pk, data={"needs_treatment": needs_treatment})
    return case


def without_the_end(view: dict) -> dict:
    """What a reader is told but whether the case ended (its status tells it anyway)."""
    completed, active = view["diagram"]
    return {
        **view,
        "timeline": [event for event in view["timeline"] if event[0] != "case_completed"],
        "diagram": ([element for element in completed if element != "End_1"], active),
    }


def test_nav_is_told_the_same_of_the_follow_up_whichever_the_assessment(users, agencies):
    from bpmn.services import deploy_definition

    deploy_definition(
        actor=None,
        bpmn_xml=model(),
        forms={"h.schema.json": HEALTH_FORM, "b.schema.json": HOUSING_FORM},
        check_permission=False,
    )
    treated = assessed(users, agencies, PERSON, True)
    ordinary = assessed(users, agencies, OTHER_PERSON, False)
    assert Task.objects.get(case=treated, element_id="Task_b").status == "cancelled"
    assert Task.objects.get(case=ordinary, element_id="Task_b").status == "open"

    assert without_the_end(told(users["nils"], treated)) == without_the_end(told(users["nils"], ordinary))
    assert "Task_b" in told(users["helga"], ordinary)["task list"]  # the health service's own work


def test_the_sub_process_and_its_tasks_lie_on_the_split_of_its_condition():
    split = path_splits(model())["Adhoc"]
    assert split.reads == {"needs_treatment"}
    assert {"Adhoc", "Task_h", "Task_b"} <= split.branch_elements
    assert "Adhoc" not in path_splits(model(condition="True"))
