"""A withdrawn attachment's file in ``ATTACHMENT_DIR`` is deleted, however long it takes.

The withdrawal deleted the file once, after its commit: a delete that failed then (a
read-only or full disk, a permission, a worker killed between the commit and the delete)
left the file on disk for good, the row already emptied of its name, so nothing retried
it. Now a ``file_deletion`` job, written in the withdrawal's transaction, tries again
until the delete passes (``workflows.jobs.files``), and the erasure of the case deletes
what such a job has not deleted yet."""

from contextlib import suppress
from datetime import UTC, datetime

import pytest
from django.core.files.storage import FileSystemStorage
from django.utils import timezone

from retention.erasure import erase_case
from retention.models import ErasureTrigger
from tests.clock import Clock
from tests.retention.helpers import age, archived
from tests.workflows.helpers import start_prison_case
from workflows import services
from workflows.jobs import handlers
from workflows.models import Case, CaseStatus, Incident, Job, JobKind, JobStatus

from .test_attachments import PDF, upload

pytestmark = pytest.mark.postgres


@pytest.fixture
def folder(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "attachments": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path), "base_url": None},
        },
    }
    return tmp_path


def files_in(folder):
    return [path for path in folder.rglob("*") if path.is_file()]


@pytest.fixture
def failing_delete(monkeypatch):
    """The disk refuses the next ``times`` deletes (a read-only mount, a permission)."""
    real_delete, left = FileSystemStorage.delete, {"times": 0}

    def delete(storage, name):
        if left["times"]:
            left["times"] -= 1
            raise PermissionError(13, "Permission denied")
        real_delete(storage, name)

    monkeypatch.setattr(FileSystemStorage, "delete", delete)

    def fail(times):
        left["times"] = times

    return fail


def withdrawn_with_its_delete_failing(users, agencies, folder, failing_delete, capture):
    case = start_prison_case(users, agencies)
    attachment = services.add_attachment(actor=users["nils"], case=case.pk, upload=upload(PDF))
    assert len(files_in(folder)) == 1
    failing_delete(1)
    with suppress(PermissionError), capture(execute=True):
        services.withdraw_attachment(actor=users["nils"], case=case.pk, attachment_id=attachment.pk)
    assert len(files_in(folder)) == 1  # the delete after the commit failed
    return case


def test_a_withdrawn_file_whose_delete_failed_is_deleted_by_a_worker_later(
    shipped, users, agencies, folder, failing_delete, monkeypatch, settings, django_capture_on_commit_callbacks
):
    settings.BROBYGGER = {**settings.BROBYGGER, "JOB_BACKOFF_BASE_SECONDS": 30}
    clock = Clock(monkeypatch, datetime.now(UTC))
    withdrawn_with_its_delete_failing(users, agencies, folder, failing_delete, django_capture_on_commit_callbacks)

    failing_delete(3)  # the disk stays read-only a while: the job backs off and tries again
    for _ in range(4):
        handlers.run_one("w")
        clock.advance(hours=1)
    assert files_in(folder) == []
    job = Job.objects.get(kind=JobKind.FILE_DELETION)
    assert job.status == JobStatus.DONE and job.attempts == 4


def test_a_deletion_failing_past_the_usual_attempts_is_an_incident_the_admin_sees_without_the_file(
    shipped, users, agencies, folder, failing_delete, monkeypatch, settings, django_capture_on_commit_callbacks
):
    """The job never gives up (it is the only record of the file), but past the attempts
    other jobs get it is an incident in the process admins' list, naming neither the file nor
    anything of the person, and the attempt that passes at last resolves it."""
    from rest_framework.test import APIClient

    settings.BROBYGGER = {**settings.BROBYGGER, "JOB_BACKOFF_BASE_SECONDS": 30, "JOB_MAX_ATTEMPTS": 3}
    clock = Clock(monkeypatch, datetime.now(UTC))
    case = withdrawn_with_its_delete_failing(
        users, agencies, folder, failing_delete, django_capture_on_commit_callbacks
    )
    name = Job.objects.get(kind=JobKind.FILE_DELETION).payload["name"]

    failing_delete(4)
    for _ in range(2):
        handlers.run_one("w")
        clock.advance(hours=2)
    assert not Incident.objects.exists()  # two failed attempts: backing off, as any job
    handlers.run_one("w")
    clock.advance(hours=4)
    incident = Incident.objects.get()  # the third: as many as other jobs get
    assert (incident.case_id, incident.kind, incident.resolved_at) == (case.pk, "file_deletion-failed", None)
    job = Job.objects.get(kind=JobKind.FILE_DELETION)
    assert job.status == JobStatus.PENDING  # and it goes on trying

    ada = APIClient()
    ada.force_authenticate(users["ada"])
    listed = ada.get("/api/v1/incidents/")
    assert listed.status_code == 200
    (shown,) = listed.json()["results"]
    text = listed.content.decode()
    assert name not in text and name.rsplit("/", 1)[-1] not in text
    assert case.person_name not in text and case.person.national_id not in text
    assert "PermissionError" in str(shown)

    handlers.run_one("w")  # a fourth failure counts on the same incident
    clock.advance(hours=8)
    assert Incident.objects.get().attempts == 4
    handlers.run_one("w")  # the disk takes deletes again
    assert files_in(folder) == []
    assert Job.objects.get(kind=JobKind.FILE_DELETION).status == JobStatus.DONE
    assert Incident.objects.get().resolved_at is not None


def test_the_erasure_deletes_a_withdrawn_file_its_job_has_not_deleted_yet(
    shipped, users, agencies, folder, failing_delete, django_capture_on_commit_callbacks
):
    case = withdrawn_with_its_delete_failing(
        users, agencies, folder, failing_delete, django_capture_on_commit_callbacks
    )
    Case.objects.filter(pk=case.pk).update(status=CaseStatus.COMPLETED, closed_at=timezone.now())
    age(case, 5)
    archived(case)
    record = erase_case(case.pk, trigger=ErasureTrigger.RETENTION)
    assert record is not None and record.removed["withdrawn_attachment_files"] == 1
    assert files_in(folder) == []
    handlers.run_one("w")  # its job finds nothing left, and is done
    assert Job.objects.get(kind=JobKind.FILE_DELETION).status == JobStatus.DONE


def test_a_withdrawal_in_the_database_storage_writes_no_job(shipped, users, agencies):
    case = start_prison_case(users, agencies)
    attachment = services.add_attachment(actor=users["nils"], case=case.pk, upload=upload(PDF))
    services.withdraw_attachment(actor=users["nils"], case=case.pk, attachment_id=attachment.pk)
    assert not Job.objects.filter(kind=JobKind.FILE_DELETION).exists()


def test_a_deletion_job_of_no_case_failing_is_an_incident_too_and_its_retry_resolves_it(
    users, folder, failing_delete, monkeypatch, settings
):
    """A file's deletion job without a case (or whose case has no instance) opened no
    incident: nothing but the worker's log told that a file stayed on disk. It now opens one
    with neither case nor instance, in the admins' list without the file's name, and an
    admin's retry that passes resolves it."""
    from rest_framework.test import APIClient

    from workflows.jobs.files import file_deletion

    settings.BROBYGGER = {**settings.BROBYGGER, "JOB_BACKOFF_BASE_SECONDS": 30, "JOB_MAX_ATTEMPTS": 2}
    clock = Clock(monkeypatch, datetime.now(UTC))
    name = "vedlegg/ola-nordmann-dom.pdf"
    (folder / "vedlegg").mkdir()
    (folder / name).write_bytes(PDF)
    file_deletion(None, name).save()

    failing_delete(5)
    for _ in range(2):
        handlers.run_one("w")
        clock.advance(hours=2)
    incident = Incident.objects.get()
    assert (incident.case_id, incident.instance_id, incident.kind) == (None, None, "file_deletion-failed")

    ada = APIClient()
    ada.force_authenticate(users["ada"])
    listed = ada.get("/api/v1/incidents/")
    assert listed.status_code == 200
    (shown,) = listed.json()["results"]
    assert shown["case"] is None and "PermissionError" in str(shown)
    assert "ola-nordmann" not in listed.content.decode()
    assert ada.post(f"/api/v1/incidents/{incident.pk}/data/", {"data": {"x": 1}}, format="json").status_code == 409

    failing_delete(0)
    assert ada.post(f"/api/v1/incidents/{incident.pk}/retry/").status_code == 200
    assert files_in(folder) == []
    incident.refresh_from_db()
    assert incident.resolved_at is not None and incident.resolved_by == users["ada"]


def test_an_erasure_job_failing_past_its_attempts_is_an_incident(shipped, users, agencies, monkeypatch, settings):
    """An erasure's job has a case but no instance: past its attempts it failed with no
    incident, and the case's data stayed with nobody told. It is now one, on the case's first
    instance, its text the error's code and class."""
    from workflows.jobs import queue

    settings.BROBYGGER = {**settings.BROBYGGER, "JOB_MAX_ATTEMPTS": 1}
    case = start_prison_case(users, agencies)
    Job.objects.create(
        kind=JobKind.ERASURE, due_at=queue.now(), case=case, max_attempts=1, payload={"case_id": case.pk}
    )

    def refuse(job):
        raise OSError("disk full while erasing Ola Nordmann")

    monkeypatch.setitem(handlers._handlers, JobKind.ERASURE, refuse)
    handlers.run_one("w")

    incident = Incident.objects.get()
    assert (incident.case_id, incident.instance_id) == (case.pk, case.instances.get().pk)
    assert incident.kind == "erasure-failed" and "Ola" not in incident.error and "OSError" in incident.error
