"""A thrown message's payload enters the receiving case only as far as its agencies may see
what it carries there (README "Messages between cases").

The health service's case of the person throws "housing_ready" with the applicant's id, a
note computed from the diagnosis (a health value under a name no form declares) and a
literal. The case that waits for it (NAV, the health service and the housing contact take
part in both; the housing contact coordinates) holds it in its workflow's data, which no
page masks: its gateways, scripts, timers and connectors read it. So the note arrives only
when every agency of the receiving case may see health data there: the health service by
its own service, NAV and the housing contact by the person's consent recorded in the
receiving case. Before, the payload arrived whole, whatever the consents."""

import pytest
from django.utils import timezone

from bpmn.services import deploy_definition
from permissions.models import AccessAction, AccessLog, Consent
from permissions.rules import ROLE_MESSAGE, active_consents
from tests.workflows.helpers import PERSON, open_tasks
from tests.workflows.jobs.test_service_tasks import ready_task_data
from tests.workflows.message_models import HEADER, MOVE_IN_FLOW
from workflows import services
from workflows.jobs.worker import Worker
from workflows.models import Event, EventKind, OutboxMessage, ProcessInstance
from workflows.services.consents import person_consent_basis, record_consent

pytestmark = pytest.mark.django_db

DIAGNOSIS = "F20 paranoid schizofreni"
PAYLOAD = '{"applicant_id": applicant_id, "diagnosis_note": "Dx: " + diagnosis, "ready": True}'
FORM = """<bpmn:extensionElements><spiffworkflow:properties>
  <spiffworkflow:property name="formJsonSchemaFilename" value="{form}"/>
</spiffworkflow:properties></bpmn:extensionElements>"""


def care_notice_model():
    """The health service notes the diagnosis and throws the note with the applicant's id."""
    return (
        HEADER.format(pid="care_notice")
        + f"""
  <bpmn:process id="care_notice" name="Care notice" isExecutable="true">
    <bpmn:laneSet id="LaneSet_1"><bpmn:lane id="Lane_health" name="Helse">
      <bpmn:flowNodeRef>Start_1</bpmn:flowNodeRef><bpmn:flowNodeRef>Task_prepare</bpmn:flowNodeRef>
      <bpmn:flowNodeRef>Throw_ready</bpmn:flowNodeRef><bpmn:flowNodeRef>End_1</bpmn:flowNodeRef>
    </bpmn:lane></bpmn:laneSet>
    <bpmn:startEvent id="Start_1"><bpmn:outgoing>F1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="Task_prepare" name="Prepare">{FORM.format(form="care_applicant.schema.json")}
      <bpmn:incoming>F1</bpmn:incoming><bpmn:outgoing>F2</bpmn:outgoing></bpmn:userTask>
    <bpmn:intermediateThrowEvent id="Throw_ready" name="Housing ready">
      <bpmn:incoming>F2</bpmn:incoming><bpmn:outgoing>F3</bpmn:outgoing>
      <bpmn:messageEventDefinition id="Def_throw" messageRef="Message_ready">
        <bpmn:extensionElements>
          <spiffworkflow:messagePayload>{PAYLOAD}</spiffworkflow:messagePayload>
        </bpmn:extensionElements>
      </bpmn:messageEventDefinition>
    </bpmn:intermediateThrowEvent>
    <bpmn:endEvent id="End_1"><bpmn:incoming>F3</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="F1" sourceRef="Start_1" targetRef="Task_prepare"/>
    <bpmn:sequenceFlow id="F2" sourceRef="Task_prepare" targetRef="Throw_ready"/>
    <bpmn:sequenceFlow id="F3" sourceRef="Throw_ready" targetRef="End_1"/>
  </bpmn:process>
</bpmn:definitions>"""
    )


def care_move_in_model():
    """NAV registers and waits for the message; the housing contact moves the person in,
    noting support needs (health: so a consent can open health to NAV and housing here)."""
    return (
        HEADER.format(pid="care_move_in")
        + """
  <bpmn:process id="care_move_in" name="Move in with care" isExecutable="true">
    <bpmn:laneSet id="LaneSet_1">
      <bpmn:lane id="Lane_nav" name="NAV"><bpmn:flowNodeRef>Start_1</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>Task_register</bpmn:flowNodeRef><bpmn:flowNodeRef>Receive_ready</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>End_1</bpmn:flowNodeRef></bpmn:lane>
      <bpmn:lane id="Lane_housing" name="Boligkontakt"><bpmn:flowNodeRef>Task_move</bpmn:flowNodeRef></bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="Start_1"><bpmn:outgoing>F1</bpmn:outgoing></bpmn:startEvent>
"""
        + MOVE_IN_FLOW.replace("move.schema.json", "care_move.schema.json")
    )


FORMS = {
    "applicant.schema.json": {
        "type": "object",
        "properties": {"applicant_id": {"type": "string", "title": "Søker", "x-category": "coordination"}},
        "required": ["applicant_id"],
        "additionalProperties": False,
    },
    "care_applicant.schema.json": {
        "type": "object",
        "properties": {
            "applicant_id": {"type": "string", "title": "Søker", "x-category": "coordination"},
            "diagnosis": {"type": "string", "title": "Diagnose", "x-category": "health"},
        },
        "required": ["applicant_id", "diagnosis"],
        "additionalProperties": False,
    },
    "care_move.schema.json": {
        "type": "object",
        "properties": {
            "moved": {"type": "boolean", "title": "Flyttet", "x-category": "housing"},
            "support_needs": {"type": "string", "title": "Oppfølgingsbehov", "x-category": "health"},
        },
        "additionalProperties": False,
    },
}


def start_both(users, agencies, forms=FORMS):
    """The receiving case waiting for the message (NAV has registered the applicant), and
    the sender's case with the diagnosis noted, its message not yet delivered."""
    for xml in (care_notice_model(), care_move_in_model()):
        deploy_definition(actor=None, bpmn_xml=xml, forms=forms, check_permission=False)
    participants = {kind: agencies[kind].pk for kind in ("nav", "health", "housing")}
    waiting = services.start_case(
        actor=users["bjorn"], process_key="care_move_in", person=PERSON, participants=participants
    )
    (register,) = open_tasks(waiting)
    services.complete_task(actor=users["nils"], task_id=register.pk, data={"applicant_id": "A-17"})
    sender = services.start_case(
        actor=users["helga"], process_key="care_notice", person=PERSON, participants=participants
    )
    (prepare,) = open_tasks(sender)
    services.complete_task(
        actor=users["helga"], task_id=prepare.pk, data={"applicant_id": "A-17", "diagnosis": DIAGNOSIS}
    )
    assert sender.coordinator_agency_id == waiting.coordinator_agency_id == agencies["housing"].pk
    return waiting, sender


@pytest.fixture
def cases(users, agencies, legal_bases):
    return start_both(users, agencies)


def consent_to_health(users, case, *, kind: str, recorded_by: str):
    return record_consent(
        actor=users[recorded_by],
        case=case,
        agency_kind=kind,
        categories=["health"],
        purpose="Bolig med oppfølging",
        legal_basis=person_consent_basis(),
    )


def delivered(waiting):
    Worker(name="w").run(once=True)
    assert [task.element_id for task in open_tasks(waiting)] == ["Task_move"]  # caught, advanced
    state = ProcessInstance.objects.get(case=waiting).state
    event = Event.objects.get(case=waiting, kind=EventKind.MESSAGE_RECEIVED)
    rows = AccessLog.objects.filter(case=waiting, role=ROLE_MESSAGE)
    return state, event.detail, rows


def test_a_health_value_none_of_whose_readers_has_consent_does_not_arrive(cases):
    waiting, _sender = cases

    state, detail, rows = delivered(waiting)

    assert DIAGNOSIS not in state  # the receiving workflow never holds it
    assert ready_task_data(waiting)["notice"] == {"applicant_id": "A-17", "ready": True}
    assert detail["fields"] == ["applicant_id", "ready"]
    assert detail["withheld"] == ["diagnosis_note"]
    assert not rows.filter(category="health").exists()


def test_the_consent_of_one_agency_is_not_enough_when_another_reads_it_too(cases, users):
    """NAV may see health data in the receiving case; the housing contact, who reads the same
    workflow data, may not: the note stays out."""
    waiting, _sender = cases
    consent_to_health(users, waiting, kind="nav", recorded_by="bjorn")

    state, detail, rows = delivered(waiting)

    assert DIAGNOSIS not in state and detail["withheld"] == ["diagnosis_note"]
    assert not rows.filter(category="health").exists()


def test_consent_in_the_sending_case_does_not_open_the_receiving_one(cases, users):
    """Consent is given per case: the person agreed to NAV and the housing contact seeing
    health data for the sending case's purpose, not for the receiving case's."""
    waiting, sender = cases
    for kind in ("nav", "housing"):  # written as they stand (the sender's lanes do not need them)
        Consent.objects.create(
            person_id=sender.person_id,
            case=sender,
            agency_kind=kind,
            categories=["health"],
            purpose="Bolig med oppfølging",
            legal_basis=person_consent_basis(),
            given_at=timezone.now(),
            recorded_by=users["bjorn"],
        )
    assert len(active_consents(sender)) == 2

    state, detail, _rows = delivered(waiting)

    assert DIAGNOSIS not in state and detail["withheld"] == ["diagnosis_note"]


def test_with_every_reader_covered_it_arrives_and_each_disclosure_is_logged(cases, users, agencies):
    waiting, sender = cases
    nav_consent = consent_to_health(users, waiting, kind="nav", recorded_by="bjorn")
    housing_consent = consent_to_health(users, waiting, kind="housing", recorded_by="helga")

    state, detail, rows = delivered(waiting)

    assert f"Dx: {DIAGNOSIS}" in state
    assert ready_task_data(waiting)["notice"] == {
        "applicant_id": "A-17",
        "diagnosis_note": f"Dx: {DIAGNOSIS}",
        "ready": True,
    }
    assert detail["fields"] == ["applicant_id", "diagnosis_note", "ready"] and detail["withheld"] == []
    outbox = OutboxMessage.objects.get(case=sender)
    health = {(row.agency_id, row.basis, row.consent_id) for row in rows.filter(category="health")}
    assert health == {
        (agencies["nav"].pk, f"consent:{nav_consent.pk}", nav_consent.pk),
        (agencies["housing"].pk, f"consent:{housing_consent.pk}", housing_consent.pk),
        (agencies["health"].pk, "own-service", None),
    }
    for row in rows:
        assert (row.action, row.user_id, row.username, row.item) == (
            AccessAction.EXPORT,
            None,
            "housing_ready",
            f"message:{outbox.pk}",
        )
        assert row.person_id == waiting.person_id
    # The applicant's id is the receiving case's own (it correlated on it), the literal
    # carries nothing: only the note discloses anything.
    assert set(rows.values_list("category", flat=True)) == {"health"}


def test_the_value_the_receiver_correlated_on_arrives_whatever_its_category(users, agencies, legal_bases):
    """The sender's applicant id has no category (restricted: the coordinator and the writer
    only, so NAV has no ground for it), but the receiving case correlated on the same value
    from its own data: the field tells it nothing new, and its catch needs it."""
    restricted = {
        **FORMS,
        "care_applicant.schema.json": {
            **FORMS["care_applicant.schema.json"],
            "properties": {
                **FORMS["care_applicant.schema.json"]["properties"],
                "applicant_id": {"type": "string", "title": "Søker"},
            },
        },
    }
    waiting, _sender = start_both(users, agencies, restricted)

    _state, detail, rows = delivered(waiting)

    assert detail["fields"] == ["applicant_id", "ready"] and detail["withheld"] == ["diagnosis_note"]
    assert not rows.exists()


def test_a_value_corrected_before_its_message_is_delivered_does_not_arrive_as_it_was(cases, users):
    """The health service corrects the diagnosis (a wrong one, perhaps another patient's)
    while the message computed from it waits in the outbox: the old value must stay nowhere
    but in the correction (docs/data-protection.md). Before, the outbox kept it and the
    worker delivered it afterwards into the receiving case's workflow, which its gateways,
    scripts and connectors read. Now a field of a waiting message computed from the value is
    corrected with it when it is the value itself, else left out."""
    from retention.services import correct_value

    waiting, sender = cases
    consent_to_health(users, waiting, kind="nav", recorded_by="bjorn")
    consent_to_health(users, waiting, kind="housing", recorded_by="helga")
    assert DIAGNOSIS in str(OutboxMessage.objects.get(case=sender).payload)

    correct_value(actor=users["helga"], case_id=sender.pk, field="diagnosis", value="F32 depresjon", reason="Feil")

    assert DIAGNOSIS not in str(OutboxMessage.objects.get(case=sender).payload)
    state, detail, _rows = delivered(waiting)
    assert DIAGNOSIS not in state
    assert detail["fields"] == ["applicant_id", "ready"] and ready_task_data(waiting)["notice"] == {
        "applicant_id": "A-17",
        "ready": True,
    }


def test_a_corrected_value_a_waiting_message_carries_as_it_is_arrives_corrected(users, agencies, legal_bases):
    """A payload field that is the corrected value itself (``{"applicant_id": applicant_id}``)
    arrives with the new value."""
    from retention.services import correct_value

    _waiting, sender = start_both(users, agencies)

    correct_value(actor=users["helga"], case_id=sender.pk, field="applicant_id", value="A-71", reason="Feil")

    payload = OutboxMessage.objects.get(case=sender).payload
    assert payload["applicant_id"] == "A-71" and "A-17" not in str(payload)
