"""An agency's system answering its external task while the process admin moves the case
to a new version that reroutes that task.

The answer holds the job row and then waits for the instance, as every job runner takes
them (the job first). The migration held the instance and then wanted the job row to
reroute it: each waited for the other, PostgreSQL broke the deadlock by failing one, and
that request answered 500. The interleaving is forced: the answer holds the job row, the
migration is let go until it waits for a lock, then the answer goes on."""

import threading

import pytest
from django.db import connections

from bpmn.services import deploy_definition
from tests.api.test_external_tasks import waiting_on_nav_system
from tests.threads import all_at_once
from tests.workflows.helpers import PERSON, open_tasks
from tests.workflows.service_models import FORMS, external_model
from tests.workflows.test_lock_order import _backend_pid, wait_until_blocked
from workflows import services, steps
from workflows.models import Event, EventKind, Job, JobKind, JobStatus, ProcessInstance
from workflows.services import external_tasks, versions

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_an_answer_meeting_a_migration_that_reroutes_its_task_neither_deadlocks_nor_fails(users, agencies, monkeypatch):
    case = waiting_on_nav_system(users, agencies)
    (locked,) = external_tasks.fetch_and_lock(
        actor=users["nils"], worker_id="w1", topics=[{"topic": "housing-register", "lock_seconds": 60}], max_tasks=1
    )
    deploy_definition(
        actor=None, bpmn_xml=external_model(topic="housing-register-2"), forms=FORMS, check_permission=False
    )

    job_held, go_on = threading.Event(), threading.Event()
    locked_job = external_tasks._locked_job

    def hold_then_go_on(*args):
        job = locked_job(*args)
        job_held.set()
        assert go_on.wait(timeout=30)
        return job

    monkeypatch.setattr(external_tasks, "_locked_job", hold_then_go_on)
    pids: dict = {}

    def answer():
        return external_tasks.complete_external_task(
            actor=users["nils"], task_id=locked["id"], worker_id="w1", variables={"register_status": "listed"}
        )

    def migrate():
        assert job_held.wait(timeout=30)
        pids["migration"] = _backend_pid()
        try:
            return versions.migrate_instances(actor=users["ada"], key="register_check", from_version=1)
        finally:
            connections.close_all()

    def release():
        wait_until_blocked(pids, "migration")
        go_on.set()

    answered, record, _ = all_at_once([answer, migrate, release])

    assert answered is None, answered  # 204: the task completed
    assert not isinstance(record, Exception), record
    job = Job.objects.get(kind=JobKind.EXTERNAL_TASK)
    assert job.status == JobStatus.DONE
    assert Event.objects.filter(case=case, kind=EventKind.SERVICE_CALLED).count() == 1
    instance = ProcessInstance.objects.get(case=case)
    # The migration waited for the answer: the case moved on past the task, on whichever
    # version it then found it (nothing half-written either way).
    migrated = record.migrated == [instance.pk]
    assert instance.definition.version == (2 if migrated else 1)
    assert Event.objects.filter(case=case, kind=EventKind.VERSION_MIGRATED).count() == int(migrated)


def test_an_answer_to_a_task_created_while_the_migration_took_its_locks_neither_deadlocks_nor_fails(
    users, agencies, monkeypatch
):
    """The window the test above left: the migration held the instance's owed jobs (none
    yet), and before it took the instance a step wrote one (the task before the service
    task completed). The agency's system fetched it and answered, holding the job and
    waiting for the instance, which the migration held; its rerouting then took that job
    after the instance, and PostgreSQL failed one of the two. Forced: the step and the fetch
    run between the migration's two locks, the answer holds the job once the migration holds
    the instance."""
    deploy_definition(actor=None, bpmn_xml=external_model(), forms=FORMS, check_permission=False)
    case = services.start_case(
        actor=users["nils"], process_key="register_check", person=PERSON, participants={"nav": agencies["nav"].pk}
    )
    deploy_definition(
        actor=None, bpmn_xml=external_model(topic="housing-register-2"), forms=FORMS, check_permission=False
    )
    jobs_taken, job_written, instance_held, job_held = (threading.Event() for _ in range(4))
    migrating: dict = {}
    lock_owed = versions._lock_owed_service_jobs

    def lock_owed_then_let_a_step_write_a_job(instance_id):
        held = lock_owed(instance_id)
        if not jobs_taken.is_set():
            jobs_taken.set()
            assert job_written.wait(timeout=30)
        return held

    lock_instance = steps.lock_instance

    def lock_instance_then_let_the_answer_take_its_job(instance_id):
        instance = lock_instance(instance_id)
        if threading.get_ident() == migrating.get("thread") and not instance_held.is_set():
            instance_held.set()
            assert job_held.wait(timeout=30)
        return instance

    locked_job = external_tasks._locked_job

    def hold(*args):
        job = locked_job(*args)
        job_held.set()
        return job

    monkeypatch.setattr(versions, "_lock_owed_service_jobs", lock_owed_then_let_a_step_write_a_job)
    monkeypatch.setattr(steps, "lock_instance", lock_instance_then_let_the_answer_take_its_job)
    monkeypatch.setattr(external_tasks, "_locked_job", hold)

    def migrate():
        migrating["thread"] = threading.get_ident()
        return versions.migrate_instances(actor=users["ada"], key="register_check", from_version=1)

    def step_then_fetch_then_answer():
        assert jobs_taken.wait(timeout=30)
        (ask,) = open_tasks(case)
        services.complete_task(actor=users["nils"], task_id=ask.pk, data={"applicant_id": "A-17"})
        (locked,) = external_tasks.fetch_and_lock(
            actor=users["nils"], worker_id="w1", topics=[{"topic": "housing-register", "lock_seconds": 60}], max_tasks=1
        )
        job_written.set()
        assert instance_held.wait(timeout=30)
        return external_tasks.complete_external_task(
            actor=users["nils"], task_id=locked["id"], worker_id="w1", variables={"register_status": "listed"}
        )

    record, answered = all_at_once([migrate, step_then_fetch_then_answer])

    assert not isinstance(record, Exception), record
    assert answered is None, answered  # 204: the task completed
    assert Job.objects.get(kind=JobKind.EXTERNAL_TASK).status == JobStatus.DONE
    assert Event.objects.filter(case=case, kind=EventKind.SERVICE_CALLED).count() == 1
    instance = ProcessInstance.objects.get(case=case)
    assert record.migrated == [instance.pk] and instance.definition.version == 2
