"""A thrown message goes through the job table to the case that waits for it, chosen by
its correlation key: once, only to a case of the same person coordinated by the same
agency, and an incident on the sender when nothing waits for it after the last attempt (a
case elsewhere that waits counts as nothing)."""

from datetime import UTC, datetime

import pytest
from django.contrib.auth.models import Group
from rest_framework.test import APIClient

from bpmn.services import deploy_definition
from core.errors import Conflict
from permissions.models import Agency, AgencyKind, Membership, Role
from tests.clock import Clock
from tests.workflows.helpers import PERSON, open_tasks
from tests.workflows.message_models import (
    FORMS,
    move_in_model,
    notice_ending_with_the_message,
    notice_model,
    settling_model,
)
from workflows import services
from workflows.jobs import handlers
from workflows.jobs.worker import Worker
from workflows.models import (
    Case,
    Event,
    EventKind,
    Incident,
    Job,
    JobKind,
    JobStatus,
    OutboxMessage,
    OutboxStatus,
    ProcessInstance,
)

pytestmark = pytest.mark.django_db
OTHER_PERSON = {"name": "Kari Nordmann", "national_id": "29822099635"}


@pytest.fixture
def models(settings):
    settings.BROBYGGER = {**settings.BROBYGGER, "JOB_MAX_ATTEMPTS": 2, "JOB_BACKOFF_BASE_SECONDS": 10}
    for xml in (notice_model(), move_in_model()):
        deploy_definition(actor=None, bpmn_xml=xml, forms=FORMS, check_permission=False)


@pytest.fixture
def prison_notice(models):
    """``notice`` worked by the prison (its lane is Kriminalomsorgen's)."""
    xml = notice_model(pid="prison_notice").replace('name="NAV"', 'name="Kriminalomsorgen"')
    deploy_definition(actor=None, bpmn_xml=xml, forms=FORMS, check_permission=False)


def start(users, agencies, key, applicant, person=PERSON, *, actor="nils", participants=None):
    case = services.start_case(
        actor=users[actor],
        process_key=key,
        person=person,
        participants=participants or {"nav": agencies["nav"].pk},
    )
    (task,) = open_tasks(case)
    services.complete_task(actor=users[actor], task_id=task.pk, data={"applicant_id": applicant})
    return case


def other_nav_office(django_user_model):
    """NAV Halden, with its member per: an office the Sarpsborg cases do not involve."""
    halden = Agency.objects.create(name="NAV Halden", kind=AgencyKind.NAV, group=Group.objects.create(name="agency:h"))
    per = django_user_model.objects.create_user("per")
    Membership.objects.create(user=per, agency=halden, role=Role.MEMBER)
    per.groups.add(halden.group)
    return halden, per


def run_due_jobs():
    while handlers.run_one("w"):
        pass


def what_the_sender_sees(sender) -> dict:
    """Everything of the sender's message the sending case, its timeline, the job table and
    the process admin's incidents show (ids and the case's own reference left out)."""
    job = Job.objects.get(kind=JobKind.MESSAGE, case=sender)
    return {
        "job": (job.status, job.attempts, job.max_attempts, job.last_error, job.due_at, job.finished_at),
        "incidents": list(
            Incident.objects.filter(case=sender).values_list("kind", "element_id", "error", "attempts", "resolved_at")
        ),
        "outbox": list(OutboxMessage.objects.filter(case=sender).values_list("name", "status", "delivered_at")),
        "timeline": list(Event.objects.filter(case=sender).order_by("id").values_list("kind", "element_id")),
        "case_status": Case.objects.get(pk=sender.pk).status,
    }


def retried(users, sender) -> tuple:
    incident = Incident.objects.get(case=sender, kind="message-failed")
    try:
        services.retry_incident(actor=users["ada"], incident_id=incident.pk)
    except Conflict as exc:
        return "conflict", exc.code, str(exc)
    return ("resolved",)


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


def test_the_receiving_case_names_the_sending_case_only_to_who_sees_it(prison_notice, users, agencies):
    """Before, NAV read in its own case's timeline (GET /api/v1/cases/{id}/timeline/) the
    reference of the prison case that sent the message, though NAV takes no part in it (that
    the person is in prison is itself confidential). The row keeps it, for a reader who sees
    the sending case too: here the housing contact, who coordinates both cases. (A message
    reaches only a case with the same agencies as its sender's, so NAV took part in the
    prison case when the message came; its part there is gone when it reads.)"""
    from permissions.models import CaseParticipant

    both = {"housing": agencies["housing"].pk, "nav": agencies["nav"].pk, "prison": agencies["prison"].pk}
    waiting = start(users, agencies, "move_in", "A-17", participants=both)
    sender = start(users, agencies, "prison_notice", "A-17", actor="kari", participants=both)
    assert sender.coordinator_agency_id == waiting.coordinator_agency_id == agencies["housing"].pk
    Worker(name="w1").run(once=True)
    CaseParticipant.objects.filter(case=sender, agency=agencies["nav"]).delete()
    assert Event.objects.get(kind=EventKind.MESSAGE_RECEIVED, case=waiting).detail["from_case"] == sender.reference

    def received(username):
        client = APIClient()
        client.force_authenticate(users[username])
        events = client.get(f"/api/v1/cases/{waiting.pk}/timeline/").json()["results"]
        return next(event["detail"] for event in events if event["kind"] == "message_received")

    nils = received("nils")
    assert nils["name"] == "housing_ready" and "from_case" not in nils
    assert sender.reference not in str(nils)
    assert received("bjorn")["from_case"] == sender.reference


@pytest.mark.parametrize("elsewhere", ["nav_only", "nav_and_housing"])
def test_a_case_of_the_person_another_agency_coordinates_never_catches_it_nor_is_told(
    prison_notice, users, agencies, monkeypatch, elsewhere
):
    """Before, a message with a correlation key went to any live case of the person: the
    prison's "housing ready" (the key the person's applicant number) reached a case NAV (or
    the housing office) coordinates without the prison, which then read in its timeline that
    a message came and had the prison's payload written into its case: the person is a client
    elsewhere, in prison. And the prison learned from the missing incident that the person
    has a case waiting elsewhere. Now the case elsewhere is not reached, and the sender sees
    exactly what it sees when no case waits at all: the same attempts, back-off, incident
    and retry."""
    clock = Clock(monkeypatch, datetime(2026, 9, 1, 10, tzinfo=UTC))
    receivers = {"nav": agencies["nav"].pk}
    if elsewhere == "nav_and_housing":  # the prison takes part; the coordinating housing office sees no prison case
        receivers |= {"housing": agencies["housing"].pk, "prison": agencies["prison"].pk}
    waiting = start(users, agencies, "move_in", "A-17", participants=receivers)
    prison = {"prison": agencies["prison"].pk}
    told = start(users, agencies, "prison_notice", "A-17", actor="kari", participants=prison)
    untold = start(users, agencies, "prison_notice", "A-18", actor="kari", participants=prison)  # nothing waits
    assert told.coordinator_agency_id != waiting.coordinator_agency_id
    data_before = Case.objects.get(pk=waiting.pk).data
    state_before = ProcessInstance.objects.get(case=waiting).state

    for _ in range(2):
        run_due_jobs()
        assert what_the_sender_sees(told) == what_the_sender_sees(untold)
        clock.advance(seconds=30)
    assert what_the_sender_sees(told)["job"][0] == JobStatus.FAILED
    assert what_the_sender_sees(told)["incidents"][0][0] == "message-failed"
    assert retried(users, told) == retried(users, untold)
    assert what_the_sender_sees(told) == what_the_sender_sees(untold)

    # The case elsewhere learned nothing: no event, no data, still waiting.
    assert not Event.objects.filter(kind=EventKind.MESSAGE_RECEIVED).exists()
    assert open_tasks(waiting) == []
    assert Case.objects.get(pk=waiting.pk).data == data_before
    assert ProcessInstance.objects.get(case=waiting).state == state_before


def test_a_case_of_the_person_in_another_nav_office_never_catches_it(models, users, agencies, django_user_model):
    """The same process on both sides, each case in its own NAV office: the person's case in
    Halden is no business of Sarpsborg's, nor is Sarpsborg's of Halden's."""
    halden, per = other_nav_office(django_user_model)
    in_halden = start({**users, "per": per}, agencies, "move_in", "A-17", actor="per", participants={"nav": halden.pk})
    in_sarpsborg = start(users, agencies, "move_in", "A-17")
    sender = start(users, agencies, "notice", "A-17")

    Worker(name="w1").run(once=True)

    assert [t.element_id for t in open_tasks(in_sarpsborg)] == ["Task_move"]
    assert open_tasks(in_halden) == []
    (received,) = Event.objects.filter(kind=EventKind.MESSAGE_RECEIVED)
    assert received.case_id == in_sarpsborg.pk and received.detail["from_case"] == sender.reference


def test_the_next_case_of_the_persons_path_catches_what_the_earlier_one_threw(models, users, agencies, monkeypatch):
    """A follow-on (``services.start_follow_on``) keeps the earlier case's housing agency,
    its coordinator: the earlier case's last message, thrown as it ended, reaches the case
    that continues it once that case waits for it."""
    clock = Clock(monkeypatch, datetime(2026, 9, 1, 10, tzinfo=UTC))
    deploy_definition(actor=None, bpmn_xml=settling_model(), forms=FORMS, check_permission=False)
    participants = {"nav": agencies["nav"].pk, "housing": agencies["housing"].pk}
    earlier = start(users, agencies, "notice", "A-17", participants=participants)
    assert handlers.run_one("w") == 1  # nothing waits yet: backs off
    assert Job.objects.get(kind=JobKind.MESSAGE, case=earlier).status == JobStatus.PENDING

    follow_on = services.start_follow_on(actor=users["bjorn"], case=earlier.pk, process_key="settling")
    following = follow_on.case
    assert following.follows_id == earlier.pk and follow_on.carried == ["applicant_id"]
    (register,) = open_tasks(following)
    services.complete_task(actor=users["nils"], task_id=register.pk, data={"applicant_id": "A-17"})
    clock.advance(seconds=30)
    assert handlers.run_one("w") == 1

    assert Job.objects.get(kind=JobKind.MESSAGE, case=earlier).status == JobStatus.DONE
    (move,) = open_tasks(following)
    assert move.element_id == "Task_move" and move.agency_id == agencies["housing"].pk
    received = Event.objects.get(kind=EventKind.MESSAGE_RECEIVED)
    assert received.case_id == following.pk and received.detail["from_case"] == earlier.reference
