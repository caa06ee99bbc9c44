"""Message start events: a hospital system's ``patient_admitted`` starts a case through
``POST /api/v1/messages/`` with ``start`` (the person and the participating agencies)."""

import pytest
from rest_framework.test import APIClient

from bpmn.services import InvalidModel
from core.errors import InvalidInput
from tests.bpmn.engine.bpmn_snippets import definitions, lane_set, properties
from tests.workflows.helpers import PERSON, open_tasks
from workflows import services
from workflows.models import Case, Event, EventKind, ReceivedMessage

pytestmark = pytest.mark.django_db

FORM = {
    "type": "object",
    "properties": {
        "ward": {"type": "string", "x-category": "coordination"},
        "admitted_on": {"type": "string", "format": "date", "x-category": "coordination"},
        "done": {"type": "boolean", "x-category": "coordination"},
    },
    "required": ["done"],
    "additionalProperties": False,
}


def admission_model(process_id="Proc_admission", message="patient_admitted"):
    """Message start (hospital) -> housing task -> end: two lanes."""
    form = properties(formJsonSchemaFilename="plan.schema.json")
    return definitions(f"""
        <bpmn:message id="Message_admitted" name="{message}">
          {properties(senders="hospital", fields="ward, admitted_on")}
        </bpmn:message>
        <bpmn:process id="{process_id}" name="Admission" isExecutable="true">
          {lane_set({"Sykehus": ["StartEvent_admitted"], "Boligkontakt": ["Task_plan", "EndEvent_1"]})}
          <bpmn:startEvent id="StartEvent_admitted" name="Patient admitted">
            <bpmn:messageEventDefinition messageRef="Message_admitted"/>
          </bpmn:startEvent>
          <bpmn:sequenceFlow id="Flow_1" sourceRef="StartEvent_admitted" targetRef="Task_plan"/>
          <bpmn:userTask id="Task_plan" name="Plan housing">{form}</bpmn:userTask>
          <bpmn:sequenceFlow id="Flow_2" sourceRef="Task_plan" targetRef="EndEvent_1"/>
          <bpmn:endEvent id="EndEvent_1"/>
        </bpmn:process>
    """)


def deploy(xml, filename="admission.bpmn"):
    from bpmn.services import deploy_definition

    return deploy_definition(
        actor=None, bpmn_xml=xml, forms={"plan.schema.json": FORM}, filename=filename, check_permission=False
    ).definition


@pytest.fixture
def admission(db):
    return deploy(admission_model())


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def send(client, **body):
    return client.post("/api/v1/messages/", body, format="json")


def start_body(agencies):
    return {"person": PERSON, "participants": {"hospital": agencies["hospital"].pk, "housing": agencies["housing"].pk}}


def test_a_start_message_starts_a_case_on_the_right_agency(admission, users, agencies):
    answer = send(
        api(users["siri"]),
        name="patient_admitted",
        message_id="dips-1",
        payload={"ward": "Psykiatri", "admitted_on": "2026-11-02"},
        start=start_body(agencies),
    )
    assert answer.status_code == 202, answer.json()
    body = answer.json()
    case = Case.objects.get(pk=body["case_id"])
    assert body == {
        "status": "started",
        "case_id": case.pk,
        "case_reference": case.reference,
        "message_id": "dips-1",
        "element_ids": ["StartEvent_admitted"],
    }
    assert case.process_key == "Proc_admission" and case.person.national_id == PERSON["national_id"]
    assert case.data == {"ward": "Psykiatri", "admitted_on": "2026-11-02"}
    assert set(case.data_sources.values()) == {agencies["hospital"].pk}
    (task,) = open_tasks(case)
    assert task.element_id == "Task_plan" and task.agency == agencies["housing"]
    received = Event.objects.get(case=case, kind=EventKind.MESSAGE_RECEIVED)
    assert received.element_id == "StartEvent_admitted"
    assert received.detail == {"name": "patient_admitted", "message_id": "dips-1", "fields": ["admitted_on", "ward"]}
    assert ReceivedMessage.objects.get(message_id="dips-1").case == case
    # the payload reached the workflow: the housing task's data holds it
    from workflows import steps

    _, workflow = steps.load(case.instances.get())
    (ready,) = [t for t in workflow.get_tasks() if t.task_spec.bpmn_id == "Task_plan"]
    assert ready.data["ward"] == "Psykiatri" and ready.data["admitted_on"] == "2026-11-02"

    # housing can work it
    services.complete_task(actor=users["bjorn"], task_id=task.pk, data={"done": True})
    assert not open_tasks(case)


def test_a_repeated_message_id_starts_nothing(admission, users, agencies):
    first = send(
        api(users["siri"]), name="patient_admitted", message_id="dips-2", payload={}, start=start_body(agencies)
    )
    assert first.status_code == 202
    again = send(
        api(users["siri"]),
        name="patient_admitted",
        message_id="dips-2",
        payload={"ward": "B"},
        start=start_body(agencies),
    )
    assert again.status_code == 202
    assert again.json()["status"] == "duplicate"
    assert again.json()["case_id"] == first.json()["case_id"]
    assert Case.objects.count() == 1


def test_a_repeated_message_id_of_a_sender_in_two_agencies_names_the_case_it_started(admission, users, agencies):
    """Siri works at the hospital and at the housing office, both taking part; only the
    hospital may send ``patient_admitted``. The message id is the hospital's: the repeat
    finds the case the first one started, and names it to her."""
    from permissions.models import Membership, Role

    siri = users["siri"]
    Membership.objects.create(user=siri, agency=agencies["housing"], role=Role.MEMBER)
    first = send(api(siri), name="patient_admitted", message_id="dips-9", payload={}, start=start_body(agencies))
    assert first.status_code == 202, first.json()
    again = send(api(siri), name="patient_admitted", message_id="dips-9", payload={}, start=start_body(agencies))
    assert again.status_code == 202
    assert again.json() == {**first.json(), "status": "duplicate", "element_ids": []}
    assert Case.objects.count() == 1
    assert ReceivedMessage.objects.get(message_id="dips-9").sender_agency == agencies["hospital"]


def test_unknown_message_name_answers_404(admission, users, agencies):
    answer = send(api(users["siri"]), name="patient_discharged", payload={}, start=start_body(agencies))
    assert answer.status_code == 404
    assert not Case.objects.exists()


def test_a_start_message_without_start_answers_400_naming_start(admission, users, agencies):
    answer = send(api(users["siri"]), name="patient_admitted", payload={"ward": "B"}, message_id="dips-3")
    assert answer.status_code == 400
    assert [error["field"] for error in answer.json()["errors"]] == ["start"]
    assert not Case.objects.exists() and not ReceivedMessage.objects.exists()


def test_start_and_payload_are_validated_per_field(admission, users, agencies):
    answer = send(
        api(users["siri"]),
        name="patient_admitted",
        payload={"admitted_on": "soon", "colour": "blue"},
        start=start_body(agencies),
    )
    assert answer.status_code == 400
    assert {e["field"] for e in answer.json()["errors"]} == {"payload.admitted_on", "payload.colour"}
    with pytest.raises(InvalidInput) as raised:
        services.correlate_message(
            actor=users["siri"],
            name="patient_admitted",
            payload={},
            start={"person": {"name": "", "national_id": "123"}, "participants": {"hospital": agencies["hospital"].pk}},
        )
    fields = {error["field"] for error in raised.value.errors}
    assert fields == {"start.person.name", "start.person.national_id", "start.participants.housing"}
    both = send(
        api(users["siri"]), name="patient_admitted", case_reference="BK-2026-000001", start=start_body(agencies)
    )
    assert both.status_code == 400 and [e["field"] for e in both.json()["errors"]] == ["start"]
    assert not Case.objects.exists()


def test_a_sender_without_a_role_in_the_participants_is_refused(admission, users, agencies):
    # kari works at the prison, which is not among the participants
    answer = send(
        api(users["kari"]), name="patient_admitted", payload={}, message_id="dips-4", start=start_body(agencies)
    )
    assert answer.status_code in (403, 404)
    assert not Case.objects.exists() and not ReceivedMessage.objects.exists()


def test_several_processes_starting_on_the_message_answer_409(admission, users, agencies):
    deploy(admission_model(process_id="Proc_admission_2"), filename="admission2.bpmn")
    answer = send(api(users["siri"]), name="patient_admitted", payload={}, start=start_body(agencies))
    assert answer.status_code == 409
    assert not Case.objects.exists()


def test_a_message_started_process_is_not_started_without_its_message(admission, users, agencies):
    with pytest.raises(InvalidInput) as raised:
        services.start_case(
            actor=users["siri"],
            process_key="Proc_admission",
            person=PERSON,
            participants=start_body(agencies)["participants"],
        )
    assert [error["field"] for error in raised.value.errors] == ["process_key"]
    assert "patient_admitted" in raised.value.detail


def test_a_message_start_event_must_be_the_only_start_event(db):
    xml = admission_model().replace(
        '<bpmn:sequenceFlow id="Flow_1"',
        '<bpmn:startEvent id="StartEvent_plain"/>'
        '<bpmn:sequenceFlow id="Flow_0" sourceRef="StartEvent_plain" targetRef="Task_plan"/>'
        '<bpmn:sequenceFlow id="Flow_1"',
    )
    with pytest.raises(InvalidModel) as raised:
        deploy(xml)
    assert [issue.code for issue in raised.value.issues] == ["message-start-event"]
