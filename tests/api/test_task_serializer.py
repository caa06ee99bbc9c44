"""``TaskSerializer`` writes its fields out by hand (the task lists' largest Python cost after
the statement): the answer is DRF's own field-by-field answer, value for value and format
for format, for tasks in every state."""

import datetime

import pytest
from django.utils import timezone
from rest_framework import serializers

from api.serializers import TaskSerializer
from tests.query_counts import Growth
from workflows import services
from workflows.models import Task, TaskStatus

pytestmark = pytest.mark.django_db


def drf_own(task) -> dict:
    return serializers.Serializer.to_representation(TaskSerializer(), task)


def test_each_task_is_written_as_drf_writes_it(users, agencies, shipped, consent_basis):
    growth = Growth(users, agencies, consent_basis)
    growth.step()
    services.claim_task(actor=users["nils"], task_id=growth.open_task.pk)
    late = Task.objects.filter(status=TaskStatus.OPEN).exclude(pk=growth.open_task.pk).first()
    late.due_at = timezone.now() - datetime.timedelta(days=3, microseconds=7)
    late.save(update_fields=["due_at"])
    without_deadline = Task.objects.filter(status=TaskStatus.COMPLETED).first()
    Task.objects.filter(pk=without_deadline.pk).update(due_at=None)
    tasks = list(Task.objects.select_related("agency", "case", "assignee"))
    assert {task.status for task in tasks} >= {TaskStatus.OPEN, TaskStatus.CLAIMED, TaskStatus.COMPLETED}
    assert any(task.due_at is None for task in tasks) and any(task.due_at is not None for task in tasks)
    for zone in ("UTC", "Europe/Oslo"):
        with timezone.override(zone):
            written = [TaskSerializer(task).data for task in tasks]
            assert written == [drf_own(task) for task in tasks]
    assert any(row["overdue"] for row in written) and any(row["assignee"] == "nils" for row in written)
    assert list(written[0]) == list(TaskSerializer().fields)
