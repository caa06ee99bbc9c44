"""Two process admins retrying the incident of one failed job (a message, a timer) at once:
exactly one retry runs it and resolves the incident; the other is told it was resolved
(409 ``incident.resolved``), and the case's timeline says once who resolved it."""

import threading
from contextlib import suppress
from datetime import UTC, datetime

import pytest
from django.db.models.signals import pre_save

from core.errors import Conflict
from permissions.models import Membership, Role
from tests.clock import Clock
from tests.threads import all_at_once
from tests.workflows.helpers import open_tasks
from workflows import services, steps
from workflows.jobs import handlers
from workflows.jobs import incidents as job_incidents
from workflows.models import Event, EventKind, Incident, Job, JobKind, JobStatus

from .conftest import start_timer_case
from .test_messages_between_cases import models, start  # noqa: F401  (the fixture)

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def second_process_admin(users, django_user_model):
    bo = django_user_model.objects.create_user("bo")
    for membership in Membership.objects.filter(user=users["ada"], role=Role.PROCESS_ADMIN):
        Membership.objects.create(user=bo, agency=membership.agency, role=Role.PROCESS_ADMIN)
        bo.groups.add(membership.agency.group)
    return bo


def _two_admins_retry_at_once(monkeypatch, incident, admins):
    """Both have read the incident as open; then one retry runs after the other. Exactly one
    wins (its incident, resolved) and the other is told it is resolved; returns the winners."""
    both_read, one_at_a_time = threading.Barrier(2, timeout=30), threading.Lock()
    run_again = job_incidents._run_again

    def after_both_read(*args):
        both_read.wait()
        with one_at_a_time:
            return run_again(*args)

    monkeypatch.setattr(job_incidents, "_run_again", after_both_read)
    retries = [lambda actor=actor: services.retry_incident(actor=actor, incident_id=incident.pk) for actor in admins]
    outcomes = all_at_once(retries)
    won = [outcome for outcome in outcomes if isinstance(outcome, Incident)]
    lost = [outcome for outcome in outcomes if isinstance(outcome, Exception)]
    assert len(won) == 1 and len(lost) == 1, outcomes
    assert isinstance(lost[0], Conflict) and lost[0].code == "incident.resolved"
    return won


def test_two_admins_retrying_one_failed_message_job_at_once_run_it_once(
    models,  # noqa: F811
    users,
    agencies,
    monkeypatch,
    django_user_model,
):
    clock = Clock(monkeypatch, datetime.now(UTC))
    sender = start(users, agencies, "notice", "A-17")
    for _ in range(2):  # nothing waits for the message: its last attempt fails
        handlers.run_one("w")
        clock.advance(seconds=30)
    incident = Incident.objects.get(case=sender, kind="message-failed")
    waiting = start(users, agencies, "move_in", "A-17")
    bo = second_process_admin(users, django_user_model)

    won = _two_admins_retry_at_once(monkeypatch, incident, (users["ada"], bo))
    incident.refresh_from_db()
    assert incident.resolved_at is not None and incident.resolved_by_id == won[0].resolved_by_id
    resolved = Event.objects.filter(case=sender, kind=EventKind.INCIDENT_RESOLVED)
    assert [event.actor_id for event in resolved] == [incident.resolved_by_id]
    assert Job.objects.get(kind=JobKind.MESSAGE, case=sender).status == JobStatus.DONE
    assert [task.element_id for task in open_tasks(waiting)] == ["Task_move"]
    assert Event.objects.filter(case=waiting, kind=EventKind.MESSAGE_RECEIVED).count() == 1


def test_two_admins_retrying_one_failed_timer_at_once_fire_it_once(
    timer_process, users, agencies, monkeypatch, settings, django_user_model
):
    settings.BROBYGGER = {**settings.BROBYGGER, "JOB_MAX_ATTEMPTS": 1}
    clock = Clock(monkeypatch, datetime(2026, 9, 1, 12, tzinfo=UTC))
    case = start_timer_case(users, agencies, "2026-09-01T14:05:00+02:00")
    clock.advance(minutes=6)

    def broken(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(steps, "run_step", broken)
    assert services.fire_timer("w")[0] == "failed"
    monkeypatch.undo()
    Clock(monkeypatch, datetime(2026, 9, 1, 12, 30, tzinfo=UTC))
    incident = Incident.objects.get(case=case, kind="timer-failed")
    bo = second_process_admin(users, django_user_model)

    _two_admins_retry_at_once(monkeypatch, incident, (users["ada"], bo))
    assert Event.objects.filter(case=case, kind=EventKind.INCIDENT_RESOLVED).count() == 1
    assert Event.objects.filter(case=case, kind=EventKind.TIMER_FIRED).count() == 1
    assert [task.element_id for task in open_tasks(case)] == ["Task_after"]


def _failed_message_job(users, agencies, monkeypatch):
    """A message job whose last attempt failed (nothing waited for it), its incident open,
    and the case that now waits for the message."""
    clock = Clock(monkeypatch, datetime.now(UTC))
    sender = start(users, agencies, "notice", "A-17")
    for _ in range(2):
        handlers.run_one("w")
        clock.advance(seconds=30)
    incident = Incident.objects.get(case=sender, kind="message-failed")
    waiting = start(users, agencies, "move_in", "A-17")
    return sender, incident, waiting


def test_the_admin_whose_retry_ran_the_job_is_the_one_who_resolved_it(
    models,  # noqa: F811
    users,
    agencies,
    monkeypatch,
    django_user_model,
):
    """Ada's retry runs the message job; before it recorded who resolved the incident (that
    was written after the job's transaction), Bo's retry found the job done and resolved it
    as his: the incident and the timeline named Bo, and Ada, whose retry delivered the
    message, was told someone else had. Now the resolution is in the job's transaction: Bo
    is told it was resolved, and Ada is named."""
    sender, incident, waiting = _failed_message_job(users, agencies, monkeypatch)
    bo = second_process_admin(users, django_user_model)
    ada_ran, bo_done = threading.Event(), threading.Event()
    run_one = handlers.run_one

    def ada_pauses_after_her_run(worker, **kwargs):
        ran = run_one(worker, **kwargs)
        if worker == "retry:ada":
            ada_ran.set()
            assert bo_done.wait(timeout=30)
        return ran

    monkeypatch.setattr(handlers, "run_one", ada_pauses_after_her_run)

    def bo_retries_meanwhile():
        assert ada_ran.wait(timeout=30)
        try:
            return services.retry_incident(actor=bo, incident_id=incident.pk)
        finally:
            bo_done.set()

    ada, bo_outcome = all_at_once(
        [lambda: services.retry_incident(actor=users["ada"], incident_id=incident.pk), bo_retries_meanwhile]
    )

    assert isinstance(ada, Incident), ada
    assert isinstance(bo_outcome, Conflict) and bo_outcome.code == "incident.resolved", bo_outcome
    incident.refresh_from_db()
    assert incident.resolved_at is not None and incident.resolved_by == users["ada"]
    resolved = Event.objects.filter(case=sender, kind=EventKind.INCIDENT_RESOLVED)
    assert [event.actor_id for event in resolved] == [users["ada"].pk]
    assert Event.objects.filter(case=waiting, kind=EventKind.MESSAGE_RECEIVED).count() == 1


class WorkerKilled(Exception):
    """The process ends here (a deploy, the OOM killer)."""


def test_a_retry_killed_before_it_names_its_resolver_leaves_no_resolved_incident_without_one(
    models,  # noqa: F811
    users,
    agencies,
    monkeypatch,
):
    """The retry's run of the job and the incident's resolution committed, then who resolved
    it was written on its own: a retry that died between the two left the incident resolved
    by nobody, and the timeline without its event. Now the three are one transaction: the
    incident is resolved with its resolver and its event, or not at all (and the next retry
    runs the job again)."""
    sender, incident, _waiting = _failed_message_job(users, agencies, monkeypatch)

    def killed_while_naming_the_resolver(sender, instance, update_fields=None, **kwargs):
        if update_fields and "resolved_by" in update_fields:
            raise WorkerKilled

    pre_save.connect(killed_while_naming_the_resolver, sender=Incident)
    try:
        with suppress(WorkerKilled, Conflict):
            services.retry_incident(actor=users["ada"], incident_id=incident.pk)
    finally:
        pre_save.disconnect(killed_while_naming_the_resolver, sender=Incident)

    incident.refresh_from_db()
    resolved_events = Event.objects.filter(case=sender, kind=EventKind.INCIDENT_RESOLVED).count()
    assert (incident.resolved_at, incident.resolved_by_id, resolved_events) == (None, None, 0)
    assert Job.objects.get(kind=JobKind.MESSAGE, case=sender).status != JobStatus.DONE

    # The next retry runs it, and says who.
    services.retry_incident(actor=users["ada"], incident_id=incident.pk)
    incident.refresh_from_db()
    assert incident.resolved_at is not None and incident.resolved_by == users["ada"]
    assert Event.objects.filter(case=sender, kind=EventKind.INCIDENT_RESOLVED).count() == 1
