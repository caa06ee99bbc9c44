"""Review probes: a stored job error's params reach no reader unscrubbed."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from tests.api.test_incident_language import few_attempts, message_incident  # noqa: F401
from workflows.models import Incident, Job

pytestmark = pytest.mark.django_db

QUOTED = {"code": "job.webhook.unreachable", "params": {"detail": "connection to Ola Nordmann refused"}}


def _staff() -> Client:
    staff = Client()
    staff.force_login(get_user_model().objects.create_superuser("root-probe", "r@example.org", "pw-1234567"))
    return staff


def test_the_admin_change_pages_do_not_show_a_stored_errors_raw_params(message_incident):  # noqa: F811
    Incident.objects.filter(pk=message_incident.pk).update(
        error="webhook unreachable: connection to Ola Nordmann refused", error_message=QUOTED
    )
    Job.objects.filter(pk=message_incident.job_id).update(
        last_error="webhook unreachable: connection to Ola Nordmann refused", last_error_message=QUOTED
    )
    staff = _staff()
    incident_page = staff.get(f"/admin/workflows/incident/{message_incident.pk}/change/").content.decode()
    job_page = staff.get(f"/admin/workflows/job/{message_incident.job_id}/change/").content.decode()
    assert "webhook unreachable" in incident_page or "kunne ikke" in incident_page
    assert "Ola Nordmann" not in incident_page
    assert "Ola Nordmann" not in job_page
