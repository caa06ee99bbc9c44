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
