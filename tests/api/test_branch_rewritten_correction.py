"""Correcting a value a hidden branch may have written over (h-paths4).

NAV records ``move_date`` (coordination) before the split; the health service's assessment
(``needs_treatment``, health) sends the case to the treatment branch, whose housing task moves
``move_date``, or to the other. NAV (health masked) is shown ``move_date`` as every case's steps
left it (``Case.data_common``, h-paths3), but could not correct the value it recorded itself:
the correction was compared with the branch's value, so it was refused in every case, and the
value NAV and every reader from whom the branch is hidden are shown stayed wrong. The
correction now corrects that value (``Case.data_common``), and the case's own only where no
branch wrote over it: NAV's correction answers and shows the same in both cases, and the
treatment branch's own value stays as the housing office wrote it."""

import pytest
from django.urls import reverse

from retention import services as retention
from tests.api.test_branch_rewritten_data import DATE
from tests.api.test_branch_written_data import treatment_split
from tests.bpmn.engine.bpmn_snippets import definitions, lane_set, properties
from tests.clients import api
from tests.workflows.helpers import PERSON
from workflows import services
from workflows.models import Case, Event, Task

pytestmark = pytest.mark.django_db

OTHER_PERSON = {"name": "Kari Nordmann", "national_id": "29822099635"}
FORMS = {
    "i.schema.json": {"type": "object", "properties": {"move_date": DATE}},
    "h.schema.json": {"type": "object", "properties": {"needs_treatment": {"type": "boolean", "x-category": "health"}}},
    "a.schema.json": {"type": "object", "properties": {"move_date": DATE}},
    "b.schema.json": {"type": "object", "properties": {"ordinary": {"type": "boolean", "x-category": "coordination"}}},
    "n.schema.json": {"type": "object", "properties": {"noted": {"type": "boolean", "x-category": "coordination"}}},
}


def model():
    form = {name[0]: properties(formJsonSchemaFilename=name) for name in FORMS}
    lanes = {"NAV": ["S", "T_intake", "T_final", "E"], "Helse": ["T_assess", "G"], "Boligkontakt": ["T_a", "T_b", "J"]}
    return definitions(f"""
        <bpmn:process id="Proc_rewritten_fix" name="Rewritten corrected" isExecutable="true">
          {lane_set(lanes)}
          <bpmn:startEvent id="S"/>
          <bpmn:sequenceFlow id="F0" sourceRef="S" targetRef="T_intake"/>
          <bpmn:userTask id="T_intake" name="Flyttedato">{form["i"]}</bpmn:userTask>
          <bpmn:sequenceFlow id="F1" sourceRef="T_intake" targetRef="T_assess"/>
          {treatment_split(form, "Ny flyttedato")}
          <bpmn:sequenceFlow id="F5" sourceRef="J" targetRef="T_final"/>
          <bpmn:userTask id="T_final" name="Avslutning">{form["n"]}</bpmn:userTask>
          <bpmn:sequenceFlow id="F6" sourceRef="T_final" targetRef="E"/>
          <bpmn:endEvent id="E"/>
        </bpmn:process>
    """)


@pytest.fixture
def cases(users, agencies):
    """NAV recorded 2027-01-10; case True's treatment branch moved it to 2027-03-01."""
    from bpmn.services import deploy_definition

    deploy_definition(actor=None, bpmn_xml=model(), forms=FORMS, check_permission=False)
    found = {}
    for needs_treatment, person in ((True, PERSON), (False, OTHER_PERSON)):
        case = services.start_case(
            actor=users["nils"],
            process_key="Proc_rewritten_fix",
            person=person,
            participants={kind: agencies[kind].pk for kind in ("health", "housing", "nav")},
        )
        intake = Task.objects.get(case=case, element_id="T_intake")
        services.complete_task(actor=users["nils"], task_id=intake.pk, data={"move_date": "2027-01-10"})
        assess = Task.objects.get(case=case, element_id="T_assess")
        services.complete_task(actor=users["helga"], task_id=assess.pk, data={"needs_treatment": needs_treatment})
        housing_task = Task.objects.get(case=case, status="open")
        data = {"move_date": "2027-03-01"} if needs_treatment else {"ordinary": True}
        services.complete_task(actor=users["bjorn"], task_id=housing_task.pk, data=data)
        found[needs_treatment] = Case.objects.get(pk=case.pk)
    return found


def _move_date(user, case):
    answer = api(user).get(reverse("api-case", args=[case.pk])).json()
    return answer["data"]["coordination"]["values"].get("move_date")


def test_nav_corrects_the_value_it_recorded_alike_whichever_branch(cases, users):
    told = {}
    for branch, case in cases.items():
        correctable = "move_date" in retention.correctable_fields(users["nils"], case)
        correction = retention.correct_value(
            actor=users["nils"], case_id=case.pk, field="move_date", value="2027-01-20", reason="Feil dato"
        )
        event = Event.objects.get(case=case, kind="value_corrected")
        told[branch] = (correctable, correction.old_value, _move_date(users["nils"], case), event.agency_id)
    assert told[True] == told[False], told
    assert told[True][:3] == (True, "2027-01-10", "2027-01-20"), told


def test_the_branch_s_own_value_stays_as_the_housing_office_wrote_it(cases, users):
    for case in cases.values():
        retention.correct_value(
            actor=users["nils"], case_id=case.pk, field="move_date", value="2027-01-20", reason="Feil dato"
        )
    assert _move_date(users["helga"], cases[True]) == "2027-03-01"
    assert _move_date(users["helga"], cases[False]) == "2027-01-20"
    case = Case.objects.get(pk=cases[True].pk)
    assert case.data["move_date"] == "2027-03-01" and case.data_common["move_date"][0] == "2027-01-20"


def test_the_housing_office_corrects_the_branch_s_value_and_nav_s_stays(cases, users):
    retention.correct_value(
        actor=users["bjorn"], case_id=cases[True].pk, field="move_date", value="2027-03-05", reason="Feil dato"
    )
    assert _move_date(users["helga"], cases[True]) == "2027-03-05"
    assert _move_date(users["nils"], cases[True]) == "2027-01-10"
