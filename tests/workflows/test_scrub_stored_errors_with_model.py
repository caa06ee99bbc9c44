"""Incident texts stored before the scrub read the model (``scrub.model_tokens``) are
scrubbed once with it by the data migration ``workflows 0056``: a value computed from the
case's data (a word of a note, a number made from it) is no literal of the data, and stayed
in every incident raised before; the model's own names stay."""

import importlib

import pytest
from django.apps import apps

from tests.api.test_errors_carry_no_values import failed_case  # noqa: F401 (a fixture)
from workflows.models import Event, EventKind, Incident

pytestmark = pytest.mark.django_db

migration = importlib.import_module("workflows.migrations.0056_scrub_stored_errors_with_model")
# What an old version stored: a word of the note quoted, a number computed from it.
COMPUTED = "KeyError 'schizofreni' in Script_parse; days=1000000020"


def _as_an_old_version_wrote(case):
    incident = Incident.objects.get(case=case)
    message = {"code": "incident.step.task_engine_error", "params": {"detail": COMPUTED}}
    Incident.objects.filter(pk=incident.pk).update(error=f"failed: {COMPUTED}", error_message=message)
    event = Event.objects.get(case=case, kind=EventKind.INCIDENT)
    Event.objects.filter(pk=event.pk).update(detail={**event.detail, "error": COMPUTED, "error_message": None})
    return incident, event


def test_the_migration_scrubs_values_computed_from_the_data_once(failed_case):  # noqa: F811
    incident, event = _as_an_old_version_wrote(failed_case)

    assert migration.scrub_stored_errors_with_model(apps) == {"incidents": 1, "events": 1}

    incident.refresh_from_db()
    event.refresh_from_db()
    for text in (incident.error, str(incident.error_message), event.detail["error"]):
        assert "schizofreni" not in text and "1000000020" not in text
        assert "Script_parse" in text  # the model's own name stays
    assert incident.error_message["code"] == "incident.step.task_engine_error"
    assert migration.scrub_stored_errors_with_model(apps) == {"incidents": 0, "events": 0}  # once


def test_a_job_s_incident_is_left_to_the_read_time_scrub(failed_case):  # noqa: F811
    from django.utils import timezone

    from workflows.models import Job

    incident, _event = _as_an_old_version_wrote(failed_case)
    job = Job.objects.create(kind="notify", case=failed_case, payload={}, due_at=timezone.now())
    Incident.objects.filter(pk=incident.pk).update(job=job)
    assert migration.scrub_stored_errors_with_model(apps)["incidents"] == 0
