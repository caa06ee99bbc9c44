"""A correction of a value a hidden branch wrote over reaches the outcome recorded before it
(h-paths5).

NAV's intake is the outcome form (the kind, and ``move_date`` as the date housed); the health
service's assessment (``needs_treatment``, health) sends the case to the treatment branch,
whose housing task moves ``move_date``, or to the other. NAV corrects the date it recorded
(``Case.data_common``, h-paths4): where no branch wrote over it the outcome's date followed,
where the treatment branch did it kept the wrong date, so whoever reads the outcome (the case
page's *Utfall*, the API's ``outcome``, the archive's case file) told the two cases apart, and
the health value with them; so did a message the case threw with the date before the branch
(its receiving case would get the wrong date in one case and none in the other). The
outcome recorded by a step on no branch, and such a message, now follow in both."""

import pytest

from retention import services as retention
from tests.api.test_branch_written_data import treatment_split
from tests.bpmn.engine.bpmn_snippets import definitions, lane_set, properties
from tests.workflows.helpers import PERSON
from workflows import services
from workflows.models import CaseOutcome, OutboxMessage, Task

pytestmark = pytest.mark.django_db

OTHER_PERSON = {"name": "Kari Nordmann", "national_id": "29822099635"}
DATE = {"type": "string", "format": "date", "x-category": "housing"}
FORMS = {
    "i.schema.json": {
        "type": "object",
        "properties": {
            "outcome": {"type": "string", "enum": ["bosatt"], "x-category": "housing", "x-outcome": "kind"},
            "outcome_tenure": {
                "type": "string",
                "enum": ["privat_leie"],
                "x-category": "housing",
                "x-outcome": "tenure",
            },
            "move_date": {**DATE, "x-outcome": "housed_date"},
        },
    },
    "h.schema.json": {"type": "object", "properties": {"needs_treatment": {"type": "boolean", "x-category": "health"}}},
    "a.schema.json": {"type": "object", "properties": {"move_date": DATE}},
    "b.schema.json": {"type": "object", "properties": {"ordinary": {"type": "boolean", "x-category": "coordination"}}},
    "n.schema.json": {"type": "object", "properties": {"noted": {"type": "boolean", "x-category": "coordination"}}},
}


def model():
    form = {name[0]: properties(formJsonSchemaFilename=name) for name in FORMS}
    lanes = {
        "NAV": ["S", "T_intake", "Throw_moved", "T_final", "E"],
        "Helse": ["T_assess", "G"],
        "Boligkontakt": ["T_a", "T_b", "J"],
    }
    return definitions(f"""
        <bpmn:message id="Message_moved" name="flyttedato"/>
        <bpmn:process id="Proc_rewritten_outcome" name="Rewritten outcome" isExecutable="true">
          {lane_set(lanes)}
          <bpmn:startEvent id="S"/>
          <bpmn:sequenceFlow id="F0" sourceRef="S" targetRef="T_intake"/>
          <bpmn:userTask id="T_intake" name="Utfall">{form["i"]}</bpmn:userTask>
          <bpmn:sequenceFlow id="F1" sourceRef="T_intake" targetRef="Throw_moved"/>
          <bpmn:intermediateThrowEvent id="Throw_moved" name="Flyttedato">
            <bpmn:messageEventDefinition id="Def_moved" messageRef="Message_moved">
              <bpmn:extensionElements>
                <spiffworkflow:messagePayload>{{"move_date": move_date}}</spiffworkflow:messagePayload>
              </bpmn:extensionElements>
            </bpmn:messageEventDefinition>
          </bpmn:intermediateThrowEvent>
          <bpmn:sequenceFlow id="F1b" sourceRef="Throw_moved" targetRef="T_assess"/>
          {treatment_split(form, "Ny flyttedato")}
          <bpmn:sequenceFlow id="F5" sourceRef="J" targetRef="T_final"/>
          <bpmn:userTask id="T_final" name="Avslutning">{form["n"]}</bpmn:userTask>
          <bpmn:sequenceFlow id="F6" sourceRef="T_final" targetRef="E"/>
          <bpmn:endEvent id="E"/>
        </bpmn:process>
    """)


def test_nav_s_correction_reaches_the_outcome_alike_whichever_branch(users, agencies, outcome_kinds):
    from bpmn.services import deploy_definition

    deploy_definition(actor=None, bpmn_xml=model(), forms=FORMS, check_permission=False)
    told = {}
    for needs_treatment, person in ((True, PERSON), (False, OTHER_PERSON)):
        case = services.start_case(
            actor=users["nils"],
            process_key="Proc_rewritten_outcome",
            person=person,
            participants={kind: agencies[kind].pk for kind in ("health", "housing", "nav")},
        )
        intake = Task.objects.get(case=case, element_id="T_intake")
        services.complete_task(
            actor=users["nils"],
            task_id=intake.pk,
            data={"outcome": "bosatt", "outcome_tenure": "privat_leie", "move_date": "2027-01-10"},
        )
        assess = Task.objects.get(case=case, element_id="T_assess")
        services.complete_task(actor=users["helga"], task_id=assess.pk, data={"needs_treatment": needs_treatment})
        housing_task = Task.objects.get(case=case, status="open")
        data = {"move_date": "2027-03-01"} if needs_treatment else {"ordinary": True}
        services.complete_task(actor=users["bjorn"], task_id=housing_task.pk, data=data)
        retention.correct_value(
            actor=users["nils"], case_id=case.pk, field="move_date", value="2027-01-20", reason="Feil dato"
        )
        (thrown,) = OutboxMessage.objects.filter(case=case)
        told[needs_treatment] = (str(CaseOutcome.objects.get(case=case).housed_date), thrown.payload)
    # The date carries what the split read (the branch writes it over), so the message's field
    # is left out rather than replaced (``_correct_outbox``), in both cases alike.
    assert told[True] == told[False], told
    assert told[True][0] == "2027-01-20" and "2027-01-10" not in str(told), told
