"""The agency that recorded a value a branch it sees later wrote over corrects its own
earlier value (GDPR art. 16; h-correct).

The health service records ``move_date`` (coordination) at intake, then assesses
(``needs_treatment``, health); the treatment branch's housing task moves ``move_date``, the
other branch leaves it. NAV (health masked) is shown the date as the health service recorded
it (``Case.data_common``); the health service, which sees the branch, was shown the housing
office's date, which it may not correct (403), and its own earlier date nowhere, so it could
not correct it at all. A correction now says which value it is of (``"of": "earlier"``), the
health service is shown its earlier value in the case answer, and the correction follows the
rules of one where no branch wrote over it."""

import pytest
from django.urls import reverse

from permissions.models import AccessLog
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
BODY = {"field": "move_date", "value": "2027-01-20", "reason": "Feil dato", "of": "earlier"}


def model(process="Proc_earlier_fix", *, intake_lane="Helse", branch_lane="Boligkontakt", forms=FORMS):
    form = {name[0]: properties(formJsonSchemaFilename=name) for name in forms}
    lanes: dict[str, list[str]] = {}
    placed = ((intake_lane, ["T_intake"]), ("Helse", ["T_assess", "G"]), (branch_lane, ["T_a", "T_b", "J"]))
    for lane, elements in placed:
        lanes.setdefault(lane, []).extend(elements)
    lanes.setdefault("NAV", []).extend(["S", "T_final", "E"])
    return definitions(f"""
        <bpmn:process id="{process}" name="Earlier corrected" isExecutable="true">
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


def start_cases(users, agencies, *, process="Proc_earlier_fix", recorder="helga", writer="bjorn", **shape):
    """Case True: the treatment branch moved the date recorded at intake (2027-01-10) to
    2027-03-01; case False: the other branch left it."""
    from bpmn.services import deploy_definition

    forms = shape.pop("forms", FORMS)
    deploy_definition(actor=None, bpmn_xml=model(process, forms=forms, **shape), forms=forms, check_permission=False)
    found = {}
    for needs_treatment, person in ((True, PERSON), (False, OTHER_PERSON)):
        case = services.start_case(
            actor=users["nils"],
            process_key=process,
            person=person,
            participants={kind: agencies[kind].pk for kind in ("health", "housing", "nav")},
        )
        intake = Task.objects.get(case=case, element_id="T_intake")
        services.complete_task(actor=users[recorder], task_id=intake.pk, data={"move_date": "2027-01-10"})
        assess = Task.objects.get(case=case, element_id="T_assess")
        services.complete_task(actor=users["helga"], task_id=assess.pk, data={"needs_treatment": needs_treatment})
        branch_task = Task.objects.get(case=case, status="open")
        data = {"move_date": "2027-03-01"} if needs_treatment else {"ordinary": True}
        services.complete_task(actor=users[writer], task_id=branch_task.pk, data=data)
        found[needs_treatment] = Case.objects.get(pk=case.pk)
    return found


@pytest.fixture
def cases(users, agencies):
    return start_cases(users, agencies)


def _correct(user, case, **body):
    return api(user).post(reverse("api-case-corrections", args=[case.pk]), {**BODY, **body}, format="json")


def _coordination(user, case) -> dict:
    return api(user).get(reverse("api-case", args=[case.pk])).json()["data"]["coordination"]


def test_the_health_service_is_shown_its_earlier_value_and_corrects_it(cases, users):
    case = cases[True]
    own_reads = AccessLog.objects.filter(case=case, username="helga", category="coordination", basis="own-data")
    before = own_reads.count()
    shown = _coordination(users["helga"], case)
    assert shown["values"]["move_date"] == "2027-03-01" and shown["earlier"] == {"move_date": "2027-01-10"}
    # The read of the health service's own earlier value is logged as such.
    assert own_reads.count() == before + 1
    # The branch's value is the housing office's: as before, not the health service's to correct.
    assert _correct(users["helga"], case, of="current").status_code == 403
    assert _correct(users["helga"], case, of=None).status_code == 400  # null: not a choice
    answer = _correct(users["helga"], case)
    assert answer.status_code == 201, answer.json()
    case.refresh_from_db()
    assert (
        case.data["move_date"] == "2027-03-01"
        and case.data_sources["move_date"] == cases[True].data_sources["move_date"]
    )
    assert case.data_common["move_date"][0] == "2027-01-20"
    event = Event.objects.get(case=case, kind="value_corrected")
    assert event.agency.kind == "health" and event.detail["field"] == "move_date"
    # NAV, from whom the branch is hidden, reads the corrected value; the health service its
    # corrected earlier value beside the branch's.
    assert _coordination(users["nils"], case)["values"]["move_date"] == "2027-01-20"
    assert _coordination(users["helga"], case)["earlier"] == {"move_date": "2027-01-20"}
    assert _coordination(users["bjorn"], case)["values"]["move_date"] == "2027-03-01"


def test_where_no_branch_wrote_over_it_the_earlier_value_is_the_case_s(cases, users):
    case = cases[False]
    assert "earlier" not in _coordination(users["helga"], case)
    assert _correct(users["helga"], case).status_code == 201
    case.refresh_from_db()
    assert case.data["move_date"] == "2027-01-20" and case.data_common["move_date"][0] == "2027-01-20"
    assert _coordination(users["nils"], case)["values"]["move_date"] == "2027-01-20"
    assert _coordination(users["helga"], case)["values"]["move_date"] == "2027-01-20"


def test_nav_reads_the_same_whichever_branch_the_health_service_corrected(cases, users):
    for case in cases.values():
        assert _correct(users["helga"], case).status_code == 201
    assert _coordination(users["nils"], cases[True]) == _coordination(users["nils"], cases[False])


def test_bad_of_answers_400_naming_it(cases, users):
    for bad in ("both", 3, ["earlier"], {"x": 1}):
        answer = _correct(users["helga"], cases[True], of=bad)
        assert answer.status_code == 400, bad
        assert [error["field"] for error in answer.json()["errors"]] == ["of"], answer.json()
    # A field no step every case passes recorded has no earlier value: 400 naming ``of``.
    answer = _correct(users["helga"], cases[True], field="needs_treatment", value=False)
    assert answer.status_code == 400 and [e["field"] for e in answer.json()["errors"]] == ["of"]
    # Nor has the person's name (the coordinator's to correct).
    answer = _correct(users["bjorn"], cases[True], field="person.name", value="Ola N.")
    assert answer.status_code == 400 and [e["field"] for e in answer.json()["errors"]] == ["of"]
    case = Case.objects.get(pk=cases[True].pk)
    assert case.data_common["move_date"][0] == "2027-01-10" and case.person_name == PERSON["name"]


def test_another_agency_neither_reads_nor_corrects_the_earlier_value(cases, users, agencies):
    for case in cases.values():
        # The housing office wrote the branch's value; the earlier one is the health service's.
        assert "earlier" not in _coordination(users["bjorn"], case)
        assert _correct(users["bjorn"], case).status_code == 403
        assert "earlier" not in _coordination(users["nils"], case)
    # NAV, from whom the branch is hidden, answers alike in both cases (the health service's
    # value, 403), with or without ``of``: it tells nothing of the branch.
    told = {
        branch: [(_correct(users["nils"], case, **of).status_code) for of in ({}, {"of": "current"})]
        for branch, case in cases.items()
    }
    assert told[True] == told[False] == [403, 403], told
    # An agency not in the case: 404, as for any correction.
    assert _correct(users["kari"], cases[True]).status_code == 404
    for case in cases.values():
        fresh = Case.objects.get(pk=case.pk)
        assert fresh.data_common["move_date"][0] == "2027-01-10"
    assert not Event.objects.filter(kind="value_corrected").exists()


def test_the_schema_documents_of(client_for, users):
    schema = client_for("nils").get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    body = schema["components"]["schemas"]["CorrectionInputRequest"]
    of = body["properties"]["of"]
    assert "of" not in body.get("required", [])
    assert of["description"] and "earlier" in of["description"]
    (ref,) = of["allOf"]
    assert ref["$ref"].endswith("/CorrectionOfEnum")
    assert set(schema["components"]["schemas"]["CorrectionOfEnum"]["enum"]) == {"current", "earlier"}
    category = schema["components"]["schemas"]["CategoryView"]["properties"]
    assert "earlier" in category and category["earlier"]["description"]


def test_the_outcome_and_messages_follow_alike_whichever_branch(users, agencies, outcome_kinds):
    """The health service records the outcome form at intake (its date housed is
    ``move_date``, thrown in a message before the split) and corrects it as ``earlier``: as a
    correction by a reader from whom the branch is hidden, the outcome recorded on no branch
    and the message follow in both cases alike (``test_branch_rewritten_outcome``)."""
    from bpmn.services import deploy_definition
    from tests.api import test_branch_rewritten_outcome as outcome
    from workflows.models import CaseOutcome, OutboxMessage

    intake = "<bpmn:flowNodeRef>T_intake</bpmn:flowNodeRef>"
    xml = outcome.model().replace(intake, "", 1)
    assessed = "<bpmn:flowNodeRef>T_assess</bpmn:flowNodeRef>"
    xml = xml.replace(assessed, intake + assessed, 1)
    deploy_definition(actor=None, bpmn_xml=xml, forms=outcome.FORMS, check_permission=False)
    told = {}
    for needs_treatment, person in ((True, PERSON), (False, OTHER_PERSON)):
        case = services.start_case(
            actor=users["nils"],
            process_key="Proc_rewritten_outcome",
            person=person,
            participants={kind: agencies[kind].pk for kind in ("health", "housing", "nav")},
        )
        task = Task.objects.get(case=case, element_id="T_intake")
        data = {"outcome": "bosatt", "outcome_tenure": "privat_leie", "move_date": "2027-01-10"}
        services.complete_task(actor=users["helga"], task_id=task.pk, data=data)
        task = Task.objects.get(case=case, element_id="T_assess")
        services.complete_task(actor=users["helga"], task_id=task.pk, data={"needs_treatment": needs_treatment})
        task = Task.objects.get(case=case, status="open")
        data = {"move_date": "2027-03-01"} if needs_treatment else {"ordinary": True}
        services.complete_task(actor=users["bjorn"], task_id=task.pk, data=data)
        assert _correct(users["helga"], case).status_code == 201
        (thrown,) = OutboxMessage.objects.filter(case=case)
        told[needs_treatment] = (str(CaseOutcome.objects.get(case=case).housed_date), thrown.payload)
    assert told[True] == told[False], told
    assert told[True][0] == "2027-01-20" and "2027-01-10" not in str(told), told
