"""Messages: "release date changed" moves the escalation deadline; duplicates are ignored;
a message nothing waits for answers 404."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from rest_framework.test import APIClient

from core.errors import InvalidInput, NotFound
from tests.clock import Clock
from tests.workflows.helpers import open_tasks, start_prison_case
from workflows import services
from workflows.models import Event, EventKind, Job, JobKind, JobStatus, ProcessInstance

from .conftest import walk_to_find_home

OSLO = ZoneInfo("Europe/Oslo")
pytestmark = pytest.mark.django_db


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def send(client, **body):
    return client.post("/api/v1/messages/", body, format="json")


def timer_job(case):
    return Job.objects.get(case=case, kind=JobKind.TIMER, status=JobStatus.PENDING)


@pytest.fixture
def case(shipped, users, agencies, monkeypatch):
    Clock(monkeypatch, datetime(2026, 8, 3, 12, tzinfo=UTC))
    return walk_to_find_home(users, agencies, "2027-01-15")


def test_release_date_changed_moves_the_escalation_deadline(case, users, agencies):
    instance = ProcessInstance.objects.get(case=case)
    assert instance.next_timer_at == datetime(2026, 11, 15, 9, tzinfo=OSLO)

    answer = send(
        api(users["kari"]),
        name="release_date_changed",
        case_reference=case.reference,
        payload={"expected_release_date": "2027-03-01"},
        message_id="prison-4711",
    )
    assert answer.status_code == 202, answer.json()
    assert answer.json() == {
        "status": "delivered",
        "case_id": case.pk,
        "case_reference": case.reference,
        "message_id": "prison-4711",
        "element_ids": ["BoundaryEvent_release_date_changed"],
    }

    instance.refresh_from_db()
    new_deadline = datetime(2027, 1, 1, 9, tzinfo=OSLO)
    assert instance.next_timer_at == new_deadline == timer_job(case).due_at
    case.refresh_from_db()
    assert case.data["expected_release_date"] == "2027-03-01"
    assert case.data_sources["expected_release_date"] == agencies["prison"].pk
    # the housing contact adjusts the plan; finding a home goes on
    assert sorted(t.element_id for t in open_tasks(case)) == ["Task_adjust_housing_plan", "Task_find_home"]
    received = Event.objects.get(case=case, kind=EventKind.MESSAGE_RECEIVED)
    assert received.detail == {
        "name": "release_date_changed",
        "message_id": "prison-4711",
        "fields": ["expected_release_date"],
    }

    # the same message again is ignored: nothing changes
    again = send(
        api(users["kari"]),
        name="release_date_changed",
        case_reference=case.reference,
        payload={"expected_release_date": "2027-05-01"},
        message_id="prison-4711",
    )
    assert again.status_code == 202 and again.json()["status"] == "duplicate"
    assert Event.objects.filter(case=case, kind=EventKind.MESSAGE_RECEIVED).count() == 1
    instance.refresh_from_db()
    assert instance.next_timer_at == new_deadline

    # a new change while the adjustment it opened is open: the date and the timer move, and
    # the open task takes it in (no second adjustment beside it; docs/security.md)
    result = services.correlate_message(
        actor=users["kari"],
        name="release_date_changed",
        case_reference=case.reference,
        payload={"expected_release_date": "2026-12-31"},
        message_id="prison-4712",
    )
    assert result.status == "delivered"
    instance.refresh_from_db()
    assert instance.next_timer_at == datetime(2026, 10, 31, 9, tzinfo=OSLO)
    assert [t.element_id for t in open_tasks(case)].count("Task_adjust_housing_plan") == 1


def test_an_earlier_release_date_escalates_at_once(case, users):
    services.correlate_message(
        actor=users["kari"],
        name="release_date_changed",
        case_reference=case.reference,
        payload={"expected_release_date": "2026-09-01"},
    )
    assert "Task_escalation_no_home" in {t.element_id for t in open_tasks(case)}
    fired = Event.objects.get(case=case, kind=EventKind.TIMER_FIRED)
    assert fired.element_id == "BoundaryEvent_no_home_timer"
    assert not Job.objects.filter(case=case, kind=JobKind.TIMER, status=JobStatus.PENDING).exists()


def test_a_message_nothing_waits_for_answers_404(shipped, users, agencies):
    waiting_at_intake = start_prison_case(users, agencies)
    answer = send(
        api(users["kari"]),
        name="release_date_changed",
        case_reference=waiting_at_intake.reference,
        payload={"expected_release_date": "2027-03-01"},
        message_id="m-1",
    )
    assert answer.status_code == 404
    assert "waits for the message" in answer.json()["detail"]
    # nothing was recorded: the same id may be sent again once the process waits
    assert not waiting_at_intake.received_messages.exists()
    waiting_at_intake.refresh_from_db()
    assert "expected_release_date" not in waiting_at_intake.data
    assert (
        send(api(users["kari"]), name="release_date_changed", case_reference="BK-1999-000001", payload={}).status_code
        == 404
    )


def test_unknown_message_name_and_outsiders_answer_404(case, users):
    with pytest.raises(NotFound):
        services.correlate_message(
            actor=users["kari"], name="no_such_message", case_reference=case.reference, payload={}
        )
    # siri (hospital) takes no part in the case: it does not exist for her
    answer = send(
        api(users["siri"]),
        name="release_date_changed",
        case_reference=case.reference,
        payload={"expected_release_date": "2027-03-01"},
    )
    assert answer.status_code == 404


def test_an_outsider_is_answered_as_if_no_case_held_the_reference_or_key(case, users):
    """Siri (hospital) takes no part in the prison case. Whether she names it by its
    reference or by its correlation key, with a payload valid or not, a message id or not, a
    message the case waits for or not, she gets the answer given for a reference or key no
    case holds: nothing tells her that the person has a case, in prison."""
    ProcessInstance.objects.filter(case=case).update(correlation_key="KDI-2026-77")
    siri = api(users["siri"])

    def answer(response):
        return {key: value for key, value in response.json().items() if key != "request_id"}  # each its own

    for name in ("release_date_changed", "no_such_message"):
        for payload in ({"expected_release_date": "2027-03-01"}, {"favourite_colour": "blue"}):
            for message_id in ({}, {"message_id": "m-1"}):
                body = {"name": name, "payload": payload, **message_id}
                for held, free in (
                    ({"case_reference": case.reference}, {"case_reference": "BK-1999-000001"}),
                    ({"correlation_key": "KDI-2026-77"}, {"correlation_key": "KDI-2026-00"}),
                ):
                    told, untold = send(siri, **body, **held), send(siri, **body, **free)
                    assert told.status_code == untold.status_code == 404, body
                    assert answer(told) == answer(untold), body
    assert not case.received_messages.exists()
    assert not Event.objects.filter(case=case, kind=EventKind.MESSAGE_RECEIVED).exists()


def test_payload_fields_are_validated(case, users):
    with pytest.raises(InvalidInput) as raised:
        services.correlate_message(
            actor=users["kari"],
            name="release_date_changed",
            case_reference=case.reference,
            payload={"expected_release_date": "soon", "favourite_colour": "blue"},
        )
    fields = {error["field"] for error in raised.value.errors}
    assert fields == {"payload.expected_release_date", "payload.favourite_colour"}
    answer = send(api(users["kari"]), name="release_date_changed", payload={})
    assert answer.status_code == 400
    assert not Event.objects.filter(case=case, kind=EventKind.MESSAGE_RECEIVED).exists()


def test_correlation_key_finds_the_case(case, users, agencies):
    ProcessInstance.objects.filter(case=case).update(correlation_key="KDI-2026-88")
    other = start_prison_case(users, agencies, correlation_key="KDI-2026-99")
    assert ProcessInstance.objects.get(case=other).correlation_key == "KDI-2026-99"
    answer = send(
        api(users["kari"]),
        name="release_date_changed",
        correlation_key="KDI-2026-88",
        payload={"expected_release_date": "2027-02-01"},
    )
    assert answer.status_code == 202 and answer.json()["case_reference"] == case.reference


def test_a_key_held_by_a_case_the_sender_cannot_see_is_neither_counted_nor_told(case, users, agencies):
    """Two running cases hold one key (a legacy number reused): the prison takes part in one
    of them. Before, anyone signed in got 409 "matches 2 cases" and so learned that the key
    was on cases they take no part in; now only the cases the sender may see count."""
    hospital_case = services.start_case(
        actor=users["siri"],
        process_key="institution_discharge_to_housing",
        person={"name": "Kari Utskrevet", "national_id": "29822099635"},
        participants={kind: agencies[kind].pk for kind in ("hospital", "health", "nav", "housing")},
    )
    ProcessInstance.objects.filter(case__in=[case, hospital_case]).update(correlation_key="KDI-dup")
    body = {"name": "release_date_changed", "correlation_key": "KDI-dup"}

    prison = send(api(users["kari"]), **body, payload={"expected_release_date": "2027-02-01"})
    assert prison.status_code == 202 and prison.json()["case_reference"] == case.reference

    hospital = send(api(users["siri"]), **body, payload={})
    # Her one case is the one meant, and it waits for no such message: no count is told.
    assert hospital.status_code == 404 and hospital_case.reference in hospital.json()["detail"]

    nils = send(api(users["nils"]), **body, payload={})  # NAV takes part in both: told, as before
    assert nils.status_code == 409 and nils.json()["code"] == "message.ambiguous_correlation"


def test_a_thrown_message_goes_to_the_outbox(db, users, agencies):
    from bpmn.services import deploy_definition
    from tests.bpmn.engine.bpmn_snippets import definitions, lane_set, properties
    from workflows.models import OutboxMessage

    form = {
        "type": "object",
        "properties": {"ok": {"type": "boolean", "x-category": "coordination"}},
        "additionalProperties": False,
    }
    xml = definitions(f"""
        <bpmn:message id="Message_1" name="housing_found"/>
        <bpmn:process id="Proc_throw" isExecutable="true">
          {lane_set({"Kriminalomsorgen": ["StartEvent_1", "Throw_1", "Task_1", "EndEvent_1"]})}
          <bpmn:startEvent id="StartEvent_1"/>
          <bpmn:sequenceFlow id="Flow_1" sourceRef="StartEvent_1" targetRef="Throw_1"/>
          <bpmn:intermediateThrowEvent id="Throw_1"><bpmn:messageEventDefinition messageRef="Message_1"/>
          </bpmn:intermediateThrowEvent>
          <bpmn:sequenceFlow id="Flow_2" sourceRef="Throw_1" targetRef="Task_1"/>
          <bpmn:userTask id="Task_1" name="Next">{properties(formJsonSchemaFilename="f.schema.json")}</bpmn:userTask>
          <bpmn:sequenceFlow id="Flow_3" sourceRef="Task_1" targetRef="EndEvent_1"/>
          <bpmn:endEvent id="EndEvent_1"/>
        </bpmn:process>
    """)
    deploy_definition(
        actor=None, bpmn_xml=xml, forms={"f.schema.json": form}, filename="throw.bpmn", check_permission=False
    )
    case = services.start_case(
        actor=users["kari"],
        process_key="Proc_throw",
        person={"name": "Ola Nordmann", "national_id": "17912099997"},
        participants={"prison": agencies["prison"].pk},
    )
    (message,) = OutboxMessage.objects.filter(case=case)
    assert message.name == "housing_found" and message.status == "pending"
    assert Event.objects.filter(case=case, kind=EventKind.MESSAGE_THROWN, detail__name="housing_found").count() == 1
    assert [t.element_id for t in open_tasks(case)] == ["Task_1"]


def test_the_api_shows_the_next_deadline_of_a_case(case, users):
    client = api(users["bjorn"])
    deadline = ProcessInstance.objects.get(case=case).next_timer_at
    listed = next(row for row in client.get("/api/v1/cases/").json()["results"] if row["id"] == case.pk)
    detail = client.get(f"/api/v1/cases/{case.pk}/").json()
    assert datetime.fromisoformat(listed["next_timer_at"]) == deadline
    assert datetime.fromisoformat(detail["next_timer_at"]) == deadline == datetime(2026, 11, 15, 9, tzinfo=OSLO)
