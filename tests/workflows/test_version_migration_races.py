"""Moving a case to a new version while someone works its task (issue 14, point 6).

The migration holds the instance while it moves the case; a request on one of its tasks
waits for that lock and then reads the task row. After waiting, PostgreSQL re-reads only the
rows it locks: a task row read in the same statement is the one from before the migration.
A task the new version routes to another agency must then be refused to its old agency, as
it is to anyone who comes after the migration."""

import threading

import pytest
from django.db import connections, transaction

from bpmn.services import deploy_definition
from core.errors import Forbidden
from tests.threads import all_at_once
from workflows import services, steps
from workflows.models import Event, EventKind, Task, TaskStatus
from workflows.services import versions

from .helpers import PERSON, complete, form_data, open_tasks
from .test_lock_order import _backend_pid, wait_until_blocked
from .version_models import FORMS, model

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def deploy(xml):
    return deploy_definition(actor=None, bpmn_xml=xml, forms=FORMS, check_permission=False).definition


@pytest.fixture
def at_b(db, users, agencies):
    """A case of version 1 waiting at NAV's Task_b, with a health agency taking part; version 2
    routes Task_b to health."""
    deploy(model())
    case = services.start_case(
        actor=users["nils"],
        process_key="versioned",
        person=PERSON,
        participants={"nav": agencies["nav"].pk, "health": agencies["health"].pk},
    )
    complete(open_tasks(case)[0])
    deploy(model(b_lane="Helse"))
    (task_b,) = open_tasks(case)
    assert task_b.element_id == "Task_b" and task_b.agency == agencies["nav"]
    return case, task_b


def while_migrating(case, users, request):
    """``request`` starts while the migration holds the instance, and waits for it."""
    pids: dict = {}
    holding = threading.Event()

    def migrate():
        with transaction.atomic():
            steps.lock_instance(case.instances.get().pk)
            holding.set()
            wait_until_blocked(pids, "request")
            return versions.migrate_instances(actor=users["ada"], key="versioned", from_version=1)

    def work():
        assert holding.wait(timeout=30)
        pids["request"] = _backend_pid()
        try:
            return request()
        finally:
            connections.close_all()

    return all_at_once([migrate, work])


def test_a_completion_waiting_for_a_migration_that_moves_the_task_is_refused(at_b, users, agencies):
    case, task_b = at_b
    record, completed = while_migrating(
        case,
        users,
        lambda: services.complete_task(actor=users["nils"], task_id=task_b.pk, data=form_data(task_b)),
    )
    assert not isinstance(record, Exception) and record.migrated == [case.instances.get().pk], record
    assert isinstance(completed, Forbidden), completed
    task_b.refresh_from_db()
    assert (task_b.status, task_b.agency_id, task_b.completed_by_id) == (TaskStatus.OPEN, agencies["health"].pk, None)
    assert not Event.objects.filter(case=case, kind=EventKind.TASK_COMPLETED, task=task_b).exists()
    # the health agency works it now
    services.complete_task(actor=users["helga"], task_id=task_b.pk, data=form_data(task_b))
    assert Task.objects.get(pk=task_b.pk).completed_by == users["helga"]


def test_a_claim_waiting_for_a_migration_that_moves_the_task_is_refused(at_b, users, agencies):
    case, task_b = at_b
    record, claimed = while_migrating(case, users, lambda: services.claim_task(actor=users["nils"], task_id=task_b.pk))
    assert not isinstance(record, Exception) and record.migrated, record
    assert isinstance(claimed, Forbidden), claimed
    task_b.refresh_from_db()
    assert (task_b.status, task_b.agency_id, task_b.assignee_id) == (TaskStatus.OPEN, agencies["health"].pk, None)
    assert not Event.objects.filter(case=case, kind=EventKind.TASK_CLAIMED, task=task_b).exists()
