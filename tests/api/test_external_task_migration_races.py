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
from tests.workflows.service_models import FORMS, external_model
from tests.workflows.test_lock_order import _backend_pid, wait_until_blocked
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
