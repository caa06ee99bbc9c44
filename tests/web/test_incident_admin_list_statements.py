"""The admin's list of incidents reads the failed jobs it names in the page's statement
(h-review): the ``job`` column (a key that may be none, which Django's own joins leave out)
read each row's job, one statement an incident, a hundred a page of failed webhooks and
connector calls (the test failed before)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.permissions.access_admins import signed_in
from workflows.models import Incident, Job, JobKind, JobStatus

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hashing")]


def _failed_jobs(count: int) -> None:
    for _ in range(count):
        job = Job.objects.create(kind=JobKind.WEBHOOK, due_at=timezone.now(), status=JobStatus.FAILED)
        Incident.objects.create(kind="webhook-failed", error="-", job=job)


def test_the_incident_list_costs_the_same_for_many_failed_jobs(django_user_model):
    client = signed_in(django_user_model.objects.create_superuser("hendelsesoperator", password="x"))
    url = reverse("admin:workflows_incident_changelist")

    def statements() -> int:
        with CaptureQueriesContext(connection) as queries:
            answer = client.get(url, HTTP_ACCEPT_LANGUAGE="nb")
        assert answer.status_code == 200
        assert "Feilet: Webhook" in answer.content.decode()  # the kind by its label
        return len(queries)

    _failed_jobs(2)
    statements()  # the first request of the session reads what the next ones find cached
    few = statements()
    _failed_jobs(10)

    assert statements() == few
