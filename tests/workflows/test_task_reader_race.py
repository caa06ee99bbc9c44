"""The task-reader index (``TaskReader``) under concurrent writes: an agency joining a case
while a task of that case is created in another transaction, both written before either
commits. Without a lock per case each trigger read the other table without the other's
row, and the agency's lists never showed the task (migration 0026)."""

import threading
import time
import uuid

import pytest
from django.db import connections, transaction

from permissions.models import CaseParticipant
from tests.workflows.helpers import start_prison_case
from workflows.models import Task, TaskReader

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_an_agency_joining_while_a_task_is_created_reads_that_task(users, agencies, shipped):
    case = start_prison_case(users, agencies)
    hospital = agencies["hospital"]
    model = Task.objects.filter(case=case).first()
    joined = threading.Event()  # the participation is written, not yet committed
    made = {}

    def join():
        try:
            with transaction.atomic():
                CaseParticipant.objects.create(case_id=case.pk, kind="hospital", agency=hospital)
                joined.set()
                time.sleep(1.5)  # the task is created meanwhile, in the other transaction
        finally:
            connections.close_all()

    def create():
        try:
            assert joined.wait(timeout=30)
            with transaction.atomic():
                made["task"] = Task.objects.create(
                    spiff_task_id=uuid.uuid4(),
                    instance_id=model.instance_id,
                    case_id=case.pk,
                    element_id="E",
                    name="Ny",
                    lane="hospital",
                    agency=hospital,
                )
        finally:
            connections.close_all()

    threads = [threading.Thread(target=join), threading.Thread(target=create)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert TaskReader.objects.filter(task=made["task"], agency=hospital).exists()


def _join_while(change, case, agency):
    """``change`` (a write to the case's tasks) is made and left uncommitted while ``agency``
    joins the case in another transaction; then both commit."""
    changed = threading.Event()
    joining = threading.Event()

    def write():
        try:
            with transaction.atomic():
                change()
                changed.set()
                assert joining.wait(timeout=30)
                time.sleep(1.0)  # the join's trigger runs meanwhile (or waits for this commit)
        finally:
            connections.close_all()

    def join():
        try:
            assert changed.wait(timeout=30)
            joining.set()
            with transaction.atomic():
                CaseParticipant.objects.create(case_id=case.pk, kind="hospital", agency=agency)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=write), threading.Thread(target=join)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)


def _rows(case, agency):
    return set(TaskReader.objects.filter(task__case=case, agency=agency).values_list("task_id", "due_at", "active"))


def _truth(case):
    return {(t.pk, t.due_at, t.status in ("open", "claimed")) for t in Task.objects.filter(case=case)}


def test_an_agency_joining_while_a_task_is_completed_reads_it_completed(users, agencies, shipped):
    """A completed task is not in the joining agency's active or overdue lists: its row was
    read from the task as committed before the completion (the update's trigger took no lock)."""
    case = start_prison_case(users, agencies)
    task = Task.objects.filter(case=case).first()
    _join_while(lambda: Task.objects.filter(pk=task.pk).update(status="completed"), case, agencies["hospital"])
    assert _rows(case, agencies["hospital"]) == _truth(case)


def test_an_agency_joining_while_a_deadline_moves_reads_the_new_deadline(users, agencies, shipped):
    case = start_prison_case(users, agencies)
    task = Task.objects.filter(case=case).first()
    _join_while(lambda: Task.objects.filter(pk=task.pk).update(due_at=None), case, agencies["hospital"])
    assert _rows(case, agencies["hospital"]) == _truth(case)


def test_an_agency_joining_while_a_task_is_deleted_keeps_no_row_of_it(users, agencies, shipped):
    case = start_prison_case(users, agencies)
    task = Task.objects.filter(case=case).first()
    _join_while(lambda: Task.objects.filter(pk=task.pk).delete(), case, agencies["hospital"])
    assert not TaskReader.objects.filter(task_id=task.pk).exists()
