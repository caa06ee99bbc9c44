"""A lapsed safety warning's branch is hidden from the timeline as from the diagram (h-attack34).

A gateway chooses a branch by the warning's level (a visit with the police when the prison
recorded violence). While the warning is in force every participant sees it, and the branch
it chose. Once it lapsed, NAV learns only that a warning lapsed, and when: the case page, the
diagram and NAV's task hid the branch, but the API's timeline (``timeline_path_view``) took
the safety category as open to every participant whatever the clock said, and listed the
police visit's task, created, handed over and completed: the lapsed warning's level."""

import pytest
from django.urls import reverse

from bpmn.services import deploy_definition
from tests.api.test_safety_warnings import PERSON, people  # noqa: F401 (fixture)
from tests.bpmn.engine.bpmn_snippets import definitions, lane_set, properties
from tests.clients import api
from workflows import services
from workflows.models import Case, Task

pytestmark = pytest.mark.django_db

LEVEL = {"type": "string", "enum": ["vold", "ingen"], "x-category": "safety"}
FORMS = {
    "level.schema.json": {"type": "object", "properties": {"nivaa": LEVEL}},
    "noted.schema.json": {
        "type": "object",
        "properties": {"notert": {"type": "boolean", "x-category": "coordination"}},
    },
}


def _model() -> str:
    level, noted = (properties(formJsonSchemaFilename=f) for f in ("level.schema.json", "noted.schema.json"))
    lanes = {
        "Boligkontakt": ["S", "T_police", "T_plain", "J", "E"],
        "Kriminalomsorgen": ["T_level", "G"],
        "NAV": ["T_nav"],
    }
    return definitions(f"""
        <bpmn:process id="Proc_level" name="Proc_level" isExecutable="true">
          {lane_set(lanes)}
          <bpmn:startEvent id="S"/>
          <bpmn:sequenceFlow id="F1" sourceRef="S" targetRef="T_level"/>
          <bpmn:userTask id="T_level" name="Advarsel">{level}</bpmn:userTask>
          <bpmn:sequenceFlow id="F2" sourceRef="T_level" targetRef="G"/>
          <bpmn:exclusiveGateway id="G" default="F_plain"/>
          <bpmn:sequenceFlow id="F_police" sourceRef="G" targetRef="T_police">
            <bpmn:conditionExpression>nivaa == "vold"</bpmn:conditionExpression>
          </bpmn:sequenceFlow>
          <bpmn:sequenceFlow id="F_plain" sourceRef="G" targetRef="T_plain"/>
          <bpmn:userTask id="T_police" name="Besøk med politiet">{noted}</bpmn:userTask>
          <bpmn:userTask id="T_plain" name="Vanlig besøk">{noted}</bpmn:userTask>
          <bpmn:sequenceFlow id="F3" sourceRef="T_police" targetRef="J"/>
          <bpmn:sequenceFlow id="F4" sourceRef="T_plain" targetRef="J"/>
          <bpmn:exclusiveGateway id="J"/>
          <bpmn:sequenceFlow id="F5" sourceRef="J" targetRef="T_nav"/>
          <bpmn:userTask id="T_nav" name="NAV">{noted}</bpmn:userTask>
          <bpmn:sequenceFlow id="F6" sourceRef="T_nav" targetRef="E"/>
          <bpmn:endEvent id="E"/>
        </bpmn:process>
    """)


def _timeline_elements(client, case) -> set[str]:
    answer = client.get(reverse("api-case-timeline", args=[case.pk]))
    assert answer.status_code == 200, answer.content
    return {event["element_id"] for event in answer.json()["results"]}


def test_the_branch_a_lapsed_warning_chose_is_not_in_the_timeline_of_those_it_lapsed_for(people, agencies):  # noqa: F811
    deploy_definition(actor=None, bpmn_xml=_model(), forms=FORMS, check_permission=False)
    case = services.start_case(
        actor=people["coordinator"],
        process_key="Proc_level",
        person=PERSON,
        participants={kind: agencies[kind].pk for kind in ("housing", "prison", "nav")},
    )
    task = Task.objects.get(case=case, element_id="T_level")
    services.complete_task(actor=people["recorder"], task_id=task.pk, data={"nivaa": "vold"})
    task = Task.objects.get(case=case, element_id="T_police")
    services.complete_task(actor=people["coordinator"], task_id=task.pk, data={"notert": True})
    nav = api(people["other"])
    assert "T_police" in _timeline_elements(nav, case)  # in force: shown, and the branch with it

    Case.objects.filter(pk=case.pk).update(data_recorded_at={"nivaa": "2020-01-15T10:00:00+00:00"})

    diagram = nav.get(reverse("api-case-diagram", args=[case.pk])).json()
    assert "T_police" not in diagram["completed"]
    assert "T_police" not in _timeline_elements(nav, case)
    # Those who keep the lapsed warning still see its branch.
    assert "T_police" in _timeline_elements(api(people["recorder"]), case)
