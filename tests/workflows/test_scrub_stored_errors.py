"""Errors carry no values in rows written before they were scrubbed (issue 11, point 3): the data
migration ``workflows 0018`` scrubs the stored text of incidents, incident events and job errors
once, and the Django admin shows an incident's and a job's error only scrubbed."""

import importlib
import json

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from tests.api.test_errors_carry_no_values import DIAGNOSIS, failed_case  # noqa: F401 (a fixture)
from workflows.models import Event, EventKind, Incident, Job

pytestmark = pytest.mark.django_db

migration = importlib.import_module("workflows.migrations.0018_scrub_stored_errors")
RAW = f"ValueError: invalid literal for int() with base 10: '{DIAGNOSIS}'"
# A value of the case's data that no generic rule would catch: unquoted, mid-sentence.
RAW_UNQUOTED = f"Script_parse failed on {DIAGNOSIS} while parsing"


def _as_an_old_version_wrote(case):
    """The rows an old version left: the raw exception text in the incident and its event."""
    incident = Incident.objects.get(case=case)
    Incident.objects.filter(pk=incident.pk).update(error=RAW)
    event = Event.objects.get(case=case, kind=EventKind.INCIDENT)
    Event.objects.filter(pk=event.pk).update(detail={**event.detail, "error": RAW_UNQUOTED})
    job = Job.objects.create(kind="notify", case=case, payload={}, due_at=timezone.now(), last_error=RAW_UNQUOTED)
    return incident, event, job


def test_the_migration_scrubs_old_incidents_events_and_jobs_once(failed_case):  # noqa: F811
    incident, event, job = _as_an_old_version_wrote(failed_case)
    assert DIAGNOSIS in Incident.objects.get(pk=incident.pk).error

    changed = migration.scrub_stored_errors(apps)
    assert changed == {"incidents": 1, "events": 1, "jobs": 1}

    incident.refresh_from_db()
    event.refresh_from_db()
    job.refresh_from_db()
    assert DIAGNOSIS not in incident.error and "invalid literal for int() with base 10" in incident.error
    assert DIAGNOSIS not in event.detail["error"] and event.detail["error"].startswith("Script_parse failed on")
    assert event.detail["error_class"] == "ValueError" and event.detail["incident"] == incident.pk
    assert DIAGNOSIS not in job.last_error
    assert migration.scrub_stored_errors(apps) == {"incidents": 0, "events": 0, "jobs": 0}  # once


def test_values_found_only_in_the_saved_state_are_scrubbed_too(failed_case):  # noqa: F811
    # a script's variable: in the workflow's saved state, never in the case's data
    from workflows.models import ProcessInstance

    instance = ProcessInstance.objects.get(case=failed_case)
    assert "Gjeldsordning hos Lindorff" not in str(failed_case.data)
    state = json.loads(instance.state)
    state["data"]["plan"] = "Gjeldsordning hos Lindorff"
    ProcessInstance.objects.filter(pk=instance.pk).update(state=json.dumps(state))
    Incident.objects.filter(case=failed_case).update(error="failed on Gjeldsordning hos Lindorff")

    migration.scrub_stored_errors(apps)
    assert "Lindorff" not in Incident.objects.get(case=failed_case).error


def test_the_admin_shows_only_scrubbed_error_text(failed_case):  # noqa: F811
    incident, _event, job = _as_an_old_version_wrote(failed_case)
    staff = Client()
    staff.force_login(get_user_model().objects.create_superuser("root-admin", "r@example.org", "pw-1234567"))
    page = staff.get(f"/admin/workflows/incident/{incident.pk}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "invalid literal for int()" in html and DIAGNOSIS not in html
    job_page = staff.get(f"/admin/workflows/job/{job.pk}/change/")
    assert job_page.status_code == 200 and DIAGNOSIS not in job_page.content.decode()
    assert DIAGNOSIS not in staff.get("/admin/workflows/incident/").content.decode()
