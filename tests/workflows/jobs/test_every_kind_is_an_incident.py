"""Every job that fails past its attempts is an incident the process admins see.

Until 2026-12-06 a job opened one only when it named an instance (or was a deletion's): an
archive export of a case without an instance, a message whose job named no instance, a
password-reset mail failed for good with nothing but the worker's log to tell. Now every
kind (the handlers' registry walked) opens one, with a case or not, its text the error's
code and class (never a file's name or a value), seen in the incidents list by the process
admins who work no cases and by nobody else (the case's own agencies, another agency's
staff), and retried as any other."""

from datetime import UTC, datetime

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from retention.models import ArchiveExport, ArchiveStatus
from tests.workflows.helpers import start_prison_case
from workflows.jobs import handlers, queue
from workflows.jobs.errors import JobError
from workflows.models import Incident, Job, JobKind, JobStatus

pytestmark = pytest.mark.postgres

SECRET = "Ola Nordmann"
FILE = "/srv/brobygger/vedlegg/ola-nordmann-dom.pdf"


def _without_instance(users, agencies):
    """A case whose instances are gone (its jobs name the case alone)."""
    case = start_prison_case(users, agencies)
    case.instances.all().delete()
    return case


def _fail_for_good(job, monkeypatch):
    """Run ``job`` to its last failed attempt the way its kind runs: a registered handler
    raising (what it says names a file and a value), any other kind's failure recorded."""
    if handlers.handles(job.kind):

        def refuse(_job):
            raise OSError(f"could not write {FILE} for {SECRET}")

        monkeypatch.setitem(handlers._handlers, job.kind, refuse)
        assert handlers.run_one("w", job_id=job.pk) == 1
    else:
        queue.record_failed_attempt(job.pk, JobError("job.failed", error_class="OSError"))
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED


@pytest.mark.parametrize("with_case", [True, False], ids=["case-without-instance", "no-case"])
@pytest.mark.parametrize("kind", JobKind.values)
def test_every_job_kind_failing_past_its_attempts_opens_an_incident(
    kind, with_case, shipped, users, agencies, monkeypatch
):
    case = _without_instance(users, agencies) if with_case else None
    job = Job.objects.create(kind=kind, due_at=queue.now(), case=case, max_attempts=1, payload={"email": "a@b.no"})

    _fail_for_good(job, monkeypatch)

    incident = Incident.objects.get(job=job)
    # A kind whose failures fold (``queue.FOLDED``: an agency's address, the mail server) has
    # its incident apart from any case, as the failures it counts come from many.
    on_case = case.pk if case and kind not in queue.FOLDED else None
    assert (incident.case_id, incident.instance_id) == (on_case, None)
    assert incident.kind == f"{kind}-failed" and incident.resolved_at is None
    assert SECRET not in incident.error and "ola-nordmann" not in incident.error and "OSError" in incident.error


def test_the_walk_covers_every_registered_handler():
    """A kind a unit registers later is a ``JobKind`` too, so the walk above covers it."""
    assert handlers.kinds() and set(handlers.kinds()) <= set(JobKind.values)


def test_a_failed_reset_mail_keeps_no_address_while_its_incident_is_open(users, monkeypatch):
    """Its retry sends nothing (no address is left: the person asks again) and resolves it:
    the process admin's way to clear it."""
    job = Job.objects.create(
        kind=JobKind.PASSWORD_RESET,
        due_at=queue.now(),
        max_attempts=1,
        payload={"email": "someone@example.no", "address": "digest-a", "client": "digest-c"},
    )
    _fail_for_good(job, monkeypatch)
    assert job.payload == {"address": "digest-a", "client": "digest-c"}
    incident = Incident.objects.get(job=job, resolved_at__isnull=True)

    monkeypatch.undo()
    assert _api(users["ada"]).post(reverse("api-incident-retry", args=[incident.pk])).status_code == 200
    incident.refresh_from_db()
    assert incident.resolved_by == users["ada"]


def _api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_an_archive_export_of_a_case_without_instance_failing_for_good_is_the_process_admins_to_see_and_retry(
    shipped, users, agencies, settings, tmp_path, monkeypatch
):
    """The export's folder cannot be made (its path is a file): the error names the package.
    The incident shows the case's reference, the error's code and class only; the case's
    own agencies and another agency see no incident at all; the process admin's retry, once
    the folder is right, delivers and resolves it."""
    blocked = tmp_path / "arkiv"
    blocked.write_text("not a folder")
    settings.BROBYGGER = {**settings.BROBYGGER, "ARCHIVE_EXPORT_DIR": str(blocked), "JOB_MAX_ATTEMPTS": 1}
    case = _without_instance(users, agencies)
    export = ArchiveExport.objects.create(case=case, requested_by=users["bjorn"], requested_at=timezone.now())
    job = Job.objects.create(
        kind=JobKind.ARCHIVE_EXPORT,
        due_at=datetime.now(UTC),
        case=case,
        max_attempts=1,
        payload={"export_id": export.pk},
    )

    assert handlers.run_one("w", job_id=job.pk) == 1

    incident = Incident.objects.get(job=job)
    listed = _api(users["ada"]).get(reverse("api-incidents"))
    assert listed.status_code == 200
    (shown,) = listed.json()["results"]
    assert shown["id"] == incident.pk and shown["case"]["reference"] == case.reference
    assert shown["kind"] == "archive_export-failed" and "FileExistsError" in shown["error"]
    body = listed.content.decode()
    assert "arkiv" not in body and case.person.name not in body

    for name in ("kari", "bjorn", "nils", "siri", "aud"):  # the case's agencies, another, the auditor
        other = _api(users[name])
        assert other.get(reverse("api-incidents")).status_code == 403
        assert other.post(reverse("api-incident-retry", args=[incident.pk])).status_code in (403, 404)
    incident.refresh_from_db()
    assert incident.resolved_at is None

    blocked.unlink()
    assert _api(users["ada"]).post(reverse("api-incident-retry", args=[incident.pk])).status_code == 200
    incident.refresh_from_db()
    export.refresh_from_db()
    assert incident.resolved_at is not None and incident.resolved_by == users["ada"]
    assert export.status == ArchiveStatus.DONE
