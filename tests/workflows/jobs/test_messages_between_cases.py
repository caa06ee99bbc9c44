"""A thrown message goes through the job table to the case that waits for it, chosen by
its correlation key: once, only to a case of the same person, and an incident on the
sender when nothing waits for it after the last attempt."""

from datetime import UTC, datetime

import pytest

from bpmn.services import deploy_definition
from tests.clock import Clock
from tests.workflows.helpers import PERSON, open_tasks
from tests.workflows.message_models import FORMS, move_in_model, notice_ending_with_the_message, notice_model
from workflows import services
from workflows.jobs import handlers
from workflows.jobs.worker import Worker
from workflows.models import Event, EventKind, Incident, Job, JobKind, JobStatus, OutboxMessage, OutboxStatus

pytestmark = pytest.mark.django_db
OTHER_PERSON = {"name": "Kari Nordmann", "national_id": "29822099635"}


@pytest.fixture
def models(settings):
    settings.BROBYGGER = {**settings.BROBYGGER, "JOB_MAX_ATTEMPTS": 2, "JOB_BACKOFF_BASE_SECONDS": 10}
    for xml in (notice_model(), move_in_model()):
        deploy_definition(actor=None, bpmn_xml=xml, forms=FORMS, check_permission=False)


def start(users, agencies, key, applicant, person=PERSON):
    case = services.start_case(
        actor=users["nils"], process_key=key, person=person, participants={"nav": agencies["nav"].pk}
    )
    (task,) = open_tasks(case)
    services.complete_task(actor=users["nils"], task_id=task.pk, data={"applicant_id": applicant})
    return case


def test_the_case_waiting_with_the_same_key_catches_it_once(models, users, agencies):
    waiting_other_key = start(users, agencies, "move_in", "A-99")
    waiting = start(users, agencies, "move_in", "A-17")
    sender = start(users, agencies, "notice", "A-17")
    job = Job.objects.get(kind=JobKind.MESSAGE, case=sender)
    assert Event.objects.filter(case=sender, kind=EventKind.MESSAGE_THROWN).count() == 1

    Worker(name="w1").run(once=True)
    Worker(name="w2").run(once=True)

    job.refresh_from_db()
    assert job.status == JobStatus.DONE
    assert OutboxMessage.objects.get(case=sender).status == OutboxStatus.DELIVERED
    assert [t.element_id for t in open_tasks(waiting)] == ["Task_move"]
    assert open_tasks(waiting_other_key) == []
    received = Event.objects.get(kind=EventKind.MESSAGE_RECEIVED)
    assert received.case_id == waiting.pk and received.detail["from_case"] == sender.reference
    assert received.detail["fields"] == ["applicant_id", "ready"]


def test_another_persons_case_never_catches_it(models, users, agencies, monkeypatch):
    clock = Clock(monkeypatch, datetime.now(UTC))
    start(users, agencies, "move_in", "A-17", person=OTHER_PERSON)  # same key, another person
    sender = start(users, agencies, "notice", "A-17")
    for _ in range(2):
        assert handlers.run_one("w") == 1
        clock.advance(seconds=30)
    job = Job.objects.get(kind=JobKind.MESSAGE, case=sender)
    assert job.status == JobStatus.FAILED
    incident = Incident.objects.get(job=job)
    assert incident.case_id == sender.pk and incident.kind == "message-failed"
    assert not Event.objects.filter(kind=EventKind.MESSAGE_RECEIVED).exists()


def test_a_message_thrown_before_the_receiver_waits_is_delivered_on_a_later_attempt(
    models, users, agencies, monkeypatch
):
    clock = Clock(monkeypatch, datetime.now(UTC))
    sender = start(users, agencies, "notice", "A-17")
    assert handlers.run_one("w") == 1  # nothing waits yet: backs off
    job = Job.objects.get(kind=JobKind.MESSAGE, case=sender)
    assert job.status == JobStatus.PENDING and job.attempts == 1
    waiting = start(users, agencies, "move_in", "A-17")
    clock.advance(seconds=30)
    assert handlers.run_one("w") == 1
    assert [t.element_id for t in open_tasks(waiting)] == ["Task_move"]


def test_the_process_admin_retries_the_incident_once_a_case_waits(models, users, agencies, monkeypatch):
    clock = Clock(monkeypatch, datetime.now(UTC))
    sender = start(users, agencies, "notice", "A-17")
    for _ in range(2):
        handlers.run_one("w")
        clock.advance(seconds=30)
    incident = Incident.objects.get(case=sender, kind="message-failed")
    waiting = start(users, agencies, "move_in", "A-17")

    services.retry_incident(actor=users["ada"], incident_id=incident.pk)

    incident.refresh_from_db()
    assert incident.resolved_at is not None
    assert [t.element_id for t in open_tasks(waiting)] == ["Task_move"]


def test_a_message_end_event_is_delivered_the_same_way(models, users, agencies):
    deploy_definition(actor=None, bpmn_xml=notice_ending_with_the_message(), forms=FORMS, check_permission=False)
    waiting_other_key = start(users, agencies, "move_in", "A-99")
    waiting = start(users, agencies, "move_in", "A-17")
    sender = start(users, agencies, "notice_end", "A-17")
    assert Job.objects.filter(kind=JobKind.MESSAGE, case=sender).count() == 1

    Worker(name="w1").run(once=True)

    assert OutboxMessage.objects.get(case=sender).status == OutboxStatus.DELIVERED
    assert [t.element_id for t in open_tasks(waiting)] == ["Task_move"]
    assert open_tasks(waiting_other_key) == []
    received = Event.objects.get(kind=EventKind.MESSAGE_RECEIVED)
    assert received.case_id == waiting.pk and received.detail["from_case"] == sender.reference


def test_the_receiving_case_names_the_sending_case_only_to_who_sees_it(models, users, agencies):
    """Before, NAV read in its own case's timeline (GET /api/v1/cases/{id}/timeline/) the
    reference of the prison case that sent the message, though NAV takes no part in it (that
    the person is in prison is itself confidential). The row keeps it, for a reader who sees
    the sending case too."""
    from rest_framework.test import APIClient

    deploy_definition(
        actor=None,
        bpmn_xml=notice_model(pid="prison_notice").replace('name="NAV"', 'name="Kriminalomsorgen"'),
        forms=FORMS,
        check_permission=False,
    )
    waiting = start(users, agencies, "move_in", "A-17")
    sender = services.start_case(
        actor=users["kari"], process_key="prison_notice", person=PERSON, participants={"prison": agencies["prison"].pk}
    )
    (task,) = open_tasks(sender)
    services.complete_task(actor=users["kari"], task_id=task.pk, data={"applicant_id": "A-17"})
    Worker(name="w1").run(once=True)
    assert Event.objects.get(kind=EventKind.MESSAGE_RECEIVED, case=waiting).detail["from_case"] == sender.reference

    def received(username):
        client = APIClient()
        client.force_authenticate(users[username])
        events = client.get(f"/api/v1/cases/{waiting.pk}/timeline/").json()["results"]
        return next(event["detail"] for event in events if event["kind"] == "message_received")

    nils = received("nils")
    assert nils["name"] == "housing_ready" and "from_case" not in nils
    assert sender.reference not in str(nils)
