"""Archive packages posted to the archive's endpoint: a real HTTP server on 127.0.0.1 (the
setting that allows loopback on), signed like the webhooks, retried with back-off, failed
with an incident after the last attempt, not redirected, done once on success, also when
a worker is killed after the archive took the package."""

import hashlib
import io
import os
import signal
import subprocess
import sys
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.utils import timezone

from permissions.models import AccessLog
from retention import services
from retention.archive import EVENTS_NAME, PDF_NAME, XML_NAME, build_body, validate
from retention.erasure import erase_case
from retention.models import ArchiveExport, ArchiveStatus, ErasureTrigger
from workflows.jobs import handlers
from workflows.jobs.notify import sign
from workflows.models import Case, Incident, Job, JobKind, JobStatus

from .helpers import ECONOMY_VALUE, HEALTH_VALUE, api, archived

pytestmark = pytest.mark.postgres

SECRET = "arkiv-hemmelighet"
FAILED = "archive endpoint answered HTTP 503"
REFUSED = "archive endpoint refused: the host resolves to a non-public address; ARCHIVE_ENDPOINT_ALLOWED_NETWORKS lists"


class Archive:
    """An archive endpoint on 127.0.0.1: records every POST, answers from ``answers``
    (then 200); with ``gate`` set, holds the first answer until the gate opens."""

    def __init__(self):
        self.posts: list[tuple[dict, bytes]] = []
        self.answers: list[int] = []
        self.gate: threading.Event | None = None
        self.received = threading.Event()
        archive = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                archive.posts.append((dict(self.headers), body))
                archive.received.set()
                if archive.gate is not None and len(archive.posts) == 1:
                    archive.gate.wait(30)
                status = archive.answers.pop(0) if archive.answers else 200
                self.send_response(status)
                if 300 <= status < 400:
                    self.send_header("Location", "http://127.0.0.1:9/elsewhere")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/arkiv/mottak"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def archive(settings, tmp_path):
    server = Archive()
    settings.BROBYGGER = {
        **settings.BROBYGGER,
        "ARCHIVE_EXPORT_DIR": str(tmp_path / "folder"),
        "ARCHIVE_ENDPOINT_URL": server.url,
        "ARCHIVE_ENDPOINT_SECRET": SECRET,
        "ARCHIVE_ENDPOINT_ALLOWED_NETWORKS": ["127.0.0.1/32"],
        "ARCHIVE_ENDPOINT_TIMEOUT_SECONDS": 20,
    }
    yield server
    server.close()


def order(users, case) -> ArchiveExport:
    return services.request_archive_export(actor=users["bjorn"], case_id=case.pk)


def job_of(export) -> Job:
    return Job.objects.get(pk=export.job_id)


def delivered(export) -> list[str]:
    """The categories of the access-log rows of ``export``'s delivery to the endpoint."""
    return sorted(AccessLog.objects.filter(item=f"archive-delivery:{export.pk}").values_list("category", flat=True))


# The closed case's package: the person, the intake's housing fields, the timeline.
CLOSED_CASE_CARRIES = ["coordination", "housing", "identity"]


def test_the_package_is_posted_signed_once(archive, closed_case, users, tmp_path):
    export = order(users, closed_case)
    assert handlers.run_one("w1") == 1
    ((headers, body),) = archive.posts
    assert headers["X-Brobygger-Signature"] == sign(SECRET, body)
    assert headers["Idempotency-Key"] == f"archive-export-{export.pk}"
    assert headers["Content-Type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(body)) as package:
        name = f"{closed_case.reference}-{export.pk}"
        assert sorted(package.namelist()) == sorted(f"{name}/{file}" for file in (PDF_NAME, EVENTS_NAME, XML_NAME))
        assert package.read(f"{name}/{PDF_NAME}").startswith(b"%PDF-")
        validate(package.read(f"{name}/{XML_NAME}"))
    export.refresh_from_db()
    assert (export.status, export.package, export.sha256) == (
        ArchiveStatus.DONE,
        f"{name}.zip",
        hashlib.sha256(body).hexdigest(),
    )
    assert job_of(export).status == JobStatus.DONE
    assert delivered(export) == CLOSED_CASE_CARRIES
    for delivery in AccessLog.objects.filter(case=closed_case, item=f"archive-delivery:{export.pk}"):
        assert (delivery.user_id, delivery.username, delivery.action) == (None, "archive-endpoint", "export")
    assert not (tmp_path / "folder").exists()  # posted, not written to the folder
    assert handlers.run_one("w1") == 0 and len(archive.posts) == 1


def test_a_failing_endpoint_is_retried_with_back_off_until_it_takes_the_package(archive, closed_case, users):
    archive.answers = [503]
    export = order(users, closed_case)
    assert handlers.run_one("w1") == 1
    job = job_of(export)
    # Why, in our words (to be said in the reader's language): no value of the case.
    assert (job.status, job.attempts, job.last_error) == (JobStatus.PENDING, 1, FAILED)
    assert job.last_error_message == {"code": "job.archive.http_status", "params": {"status": 503}}
    assert job.due_at > timezone.now()  # backed off
    export.refresh_from_db()
    assert (
        export.status == ArchiveStatus.PENDING
        # the rows are written before the POST, in the job's transaction: the failure rolled them back
        and not AccessLog.objects.filter(case=closed_case, user__isnull=True).exists()
    )
    assert handlers.run_one("w1") == 0  # not due yet
    Job.objects.filter(pk=job.pk).update(due_at=timezone.now())
    assert handlers.run_one("w1") == 1
    assert [headers["Idempotency-Key"] for headers, _ in archive.posts] == [f"archive-export-{export.pk}"] * 2
    export.refresh_from_db()
    assert export.status == ArchiveStatus.DONE and job_of(export).status == JobStatus.DONE
    assert delivered(export) == CLOSED_CASE_CARRIES  # once: the failed attempt's rows rolled back


def test_every_attempt_posts_the_same_package_under_its_key(archive, closed_case, users, monkeypatch):
    """The archive may keep the first package it took under a key (or refuse the key reused
    with another body: 422, as the IETF Idempotency-Key draft has it), so every attempt of an
    export must post the same bytes. They differed: the time of the attempt (the PDF's
    "Laget", the metadata's dates, the zip's entry times) and fresh random Noark systemIDs
    went into each, so the archive's copy and the SHA-256 recorded on the export did not
    match after a retry. Minutes apart, as a backed-off retry is."""
    archive.answers = [503]
    export = order(users, closed_case)
    assert handlers.run_one("w1") == 1
    later = timezone.now() + timezone.timedelta(minutes=3)
    monkeypatch.setattr(timezone, "now", lambda: later)
    assert handlers.run_one("w1", job_id=export.job_id) == 1
    (first_headers, first), (second_headers, second) = archive.posts
    assert first == second
    assert first_headers["Idempotency-Key"] == second_headers["Idempotency-Key"] == f"archive-export-{export.pk}"
    assert first_headers["X-Brobygger-Package-SHA256"] == second_headers["X-Brobygger-Package-SHA256"]
    export.refresh_from_db()
    assert export.status == ArchiveStatus.DONE and export.sha256 == hashlib.sha256(first).hexdigest()


def first_answer_lost(archive, settings, users, case):
    """An export ordered and posted once, the archive holding its answer past the timeout
    (the package left and may be in the archive); its export."""
    settings.BROBYGGER = {**settings.BROBYGGER, "ARCHIVE_ENDPOINT_TIMEOUT_SECONDS": 1}
    archive.gate = threading.Event()
    export = order(users, case)
    try:
        assert handlers.run_one("w1") == 1
    finally:
        archive.gate.set()
    return export


def test_a_package_sent_whose_answer_never_came_stays_logged_once(archive, settings, closed_case, users):
    """The archive holds its answer past the timeout: the package left and may be in the
    archive, so its delivery stays logged though the attempt failed; the next attempt, which
    the archive answers, sends it with the same key and logs nothing more."""
    export = first_answer_lost(archive, settings, users, closed_case)
    job = job_of(export)
    assert (job.status, job.attempts) == (JobStatus.PENDING, 1)
    assert job.last_error_message == {"code": "job.archive.no_answer", "params": {"error_class": "TimeoutError"}}
    assert ArchiveExport.objects.get(pk=export.pk).status == ArchiveStatus.PENDING
    assert delivered(export) == CLOSED_CASE_CARRIES  # it may be in the archive: logged

    Job.objects.filter(pk=job.pk).update(due_at=timezone.now())
    assert handlers.run_one("w1") == 1
    assert [headers["Idempotency-Key"] for headers, _ in archive.posts] == [f"archive-export-{export.pk}"] * 2
    export.refresh_from_db()
    assert export.status == ArchiveStatus.DONE and job_of(export).status == JobStatus.DONE
    assert delivered(export) == CLOSED_CASE_CARRIES  # once


def test_a_package_that_never_left_is_not_logged(archive, settings, closed_case, users):
    """Nothing listens at the endpoint's port: the connection is refused before a byte is sent,
    so the failed attempt logs no delivery."""
    archive.close()
    export = order(users, closed_case)
    assert handlers.run_one("w1") == 1
    job = job_of(export)
    assert (job.status, job.last_error_message["code"]) == (JobStatus.PENDING, "job.archive.unreachable")
    assert delivered(export) == []


def test_the_delivery_logs_each_category_the_package_carries_and_no_other(archive, carrying_case, users):
    """Before, the delivery was logged as identity alone, though the package carries every
    category of the case file: here health and economy besides the defaults, not justice."""
    export = order(users, carrying_case)
    assert handlers.run_one("w1") == 1
    assert delivered(export) == ["coordination", "economy", "health", "housing", "identity"]
    for row in AccessLog.objects.filter(item=f"archive-delivery:{export.pk}"):
        assert (row.case_id, row.person_id) == (carrying_case.pk, carrying_case.person_id)
        assert (row.agency_id, row.basis) == (carrying_case.coordinator_agency_id, "archive-duty")
        written = " ".join(str(value) for value in vars(row).values())
        assert HEALTH_VALUE not in written and ECONOMY_VALUE not in written


def test_after_the_last_attempt_the_export_fails_visibly_with_an_incident(archive, closed_case, users):
    archive.answers = [500, 502]
    export = order(users, closed_case)
    Job.objects.filter(pk=export.job_id).update(max_attempts=2)
    for _ in range(2):
        Job.objects.filter(pk=export.job_id).update(due_at=timezone.now())
        assert handlers.run_one("w1") == 1
    assert job_of(export).status == JobStatus.FAILED
    incident = Incident.objects.get(case=closed_case, job_id=export.job_id)
    assert incident.kind == "archive_export-failed" and incident.resolved_at is None
    client = Client()
    client.force_login(users["bjorn"])
    page = client.get(f"/cases/{closed_case.pk}/retention/").content.decode()
    assert "feilet etter siste forsøk" in page and 'id="export-submit"' in page  # may be ordered again
    again = order(users, closed_case)
    assert ArchiveExport.objects.get(pk=export.pk).status == ArchiveStatus.FAILED
    assert handlers.run_one("w1") == 1
    again.refresh_from_db()
    assert again.status == ArchiveStatus.DONE


def test_a_redirect_is_not_followed(archive, closed_case, users):
    archive.answers = [302]
    export = order(users, closed_case)
    handlers.run_one("w1")
    job = job_of(export)
    assert len(archive.posts) == 1 and job.status == JobStatus.PENDING
    assert job.last_error == "archive endpoint answered HTTP 302 (redirects are not followed)"
    assert job.last_error_message == {"code": "job.archive.redirect", "params": {"status": 302}}


def test_loopback_is_refused_unless_the_setting_allows_it(archive, settings, closed_case, users):
    settings.BROBYGGER = {**settings.BROBYGGER, "ARCHIVE_ENDPOINT_ALLOWED_NETWORKS": []}
    export = order(users, closed_case)
    handlers.run_one("w1")
    job = job_of(export)
    assert archive.posts == [] and job.last_error.startswith(REFUSED)
    assert job.last_error_message["code"] == "job.archive.refused"
    assert job.last_error_message["params"]["reason"]["code"] == "job.address.not_public"
    assert ArchiveExport.objects.get(pk=export.pk).status == ArchiveStatus.PENDING


WORKER = "import django; django.setup(); from workflows.jobs import handlers; handlers.run_one('killed')"


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_after_the_archive_took_the_package_delivers_it_once_more_with_the_same_key(
    archive, closed_case, users
):
    """A worker process is killed (SIGKILL) while the archive holds its POST; the archive
    then takes the package. The job rolled back with the worker: the next worker posts the
    package again with the same Idempotency-Key, and the export is done once."""
    archive.gate = threading.Event()
    export = order(users, closed_case)
    database = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}",
        "ARCHIVE_ENDPOINT_URL": archive.url,
        "ARCHIVE_ENDPOINT_SECRET": SECRET,
        "ARCHIVE_ENDPOINT_ALLOWED_NETWORKS": "127.0.0.1/32",
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    worker = subprocess.Popen([sys.executable, "-c", WORKER], env=env, cwd=settings.BASE_DIR)
    try:
        assert archive.received.wait(60), "the worker never posted"
        worker.send_signal(signal.SIGKILL)
        worker.wait(30)
    finally:
        archive.gate.set()  # the archive answers 200 to nobody: it has the package
        if worker.poll() is None:
            worker.kill()
    job = job_of(export)
    assert (job.status, job.attempts) == (JobStatus.PENDING, 0)  # the claim rolled back with the work
    assert ArchiveExport.objects.get(pk=export.pk).status == ArchiveStatus.PENDING

    assert handlers.run_one("w2") == 1
    keys = [headers["Idempotency-Key"] for headers, _ in archive.posts]
    assert keys == [f"archive-export-{export.pk}"] * 2  # the archive takes the second as the first
    assert archive.posts[0][1] == archive.posts[1][1]  # the same package, byte for byte
    export.refresh_from_db()
    assert export.status == ArchiveStatus.DONE and job_of(export).status == JobStatus.DONE
    assert delivered(export) == CLOSED_CASE_CARRIES  # logged once, with the recorded delivery
    assert Job.objects.filter(kind=JobKind.ARCHIVE_EXPORT, status=JobStatus.DONE).count() == 1


def correct_intake(users, case):
    """The prison corrects what it recorded in the closed case's file (GDPR art. 16)."""
    services.correct_value(actor=users["kari"], case_id=case.pk, field="has_home", value=True, reason="Feil svar")


def test_a_retry_after_a_lost_answer_posts_the_first_bytes_though_the_case_file_was_corrected(
    archive, settings, closed_case, users
):
    """The answer to the first post never came (the archive may hold the package); the case
    file is corrected before the retry. The retry posts the first bytes under the first key
    (the archive keeps one version per key), and the correction goes as a new export under a
    key of its own, naming the export it replaces."""
    export = first_answer_lost(archive, settings, users, closed_case)
    assert job_of(export).last_error_message["code"] == "job.archive.no_answer"
    correct_intake(users, closed_case)
    Job.objects.filter(pk=export.job_id).update(due_at=timezone.now())
    assert handlers.run_one("w1", job_id=export.job_id) == 1
    (first_headers, first), (retry_headers, retry) = archive.posts
    assert retry == first and retry_headers["Idempotency-Key"] == first_headers["Idempotency-Key"]
    export.refresh_from_db()
    assert export.status == ArchiveStatus.DONE and export.sha256 == hashlib.sha256(first).hexdigest()
    assert export.body is None  # the archive has it: not kept any longer
    (correction,) = ArchiveExport.objects.filter(case=closed_case, replaces=export)
    assert handlers.run_one("w1", job_id=correction.job_id) == 1
    headers, corrected = archive.posts[2]
    assert headers["Idempotency-Key"] == f"archive-export-{correction.pk}" != first_headers["Idempotency-Key"]
    assert headers["X-Brobygger-Replaces"] == f"archive-export-{export.pk}"
    assert corrected != first
    correction.refresh_from_db()
    assert correction.status == ArchiveStatus.DONE


def test_a_correction_while_an_export_waits_keeps_its_package_as_it_stood(archive, closed_case, users):
    """The export is ordered (a worker may have posted it and been killed, leaving no trace);
    the case file is then corrected. The waiting export posts the case file as it stood when
    ordered, the correction goes as a new export."""
    export = order(users, closed_case)
    as_ordered, _ = build_body(export, closed_case)
    correct_intake(users, closed_case)
    assert handlers.run_one("w1", job_id=export.job_id) == 1
    ((headers, posted),) = archive.posts
    assert posted == as_ordered and headers["Idempotency-Key"] == f"archive-export-{export.pk}"
    (correction,) = ArchiveExport.objects.filter(case=closed_case, replaces=export)
    assert correction.status == ArchiveStatus.PENDING and correction.job_id is not None


def test_a_correction_after_the_export_is_done_goes_as_a_new_export(archive, closed_case, users):
    export = order(users, closed_case)
    assert handlers.run_one("w1") == 1
    correct_intake(users, closed_case)
    (correction,) = ArchiveExport.objects.filter(case=closed_case, replaces=export)
    assert handlers.run_one("w1") == 1
    (_, first), (headers, corrected) = archive.posts
    assert headers["Idempotency-Key"] == f"archive-export-{correction.pk}"
    assert headers["X-Brobygger-Replaces"] == f"archive-export-{export.pk}"
    assert corrected != first
    assert ArchiveExport.objects.get(pk=correction.pk).status == ArchiveStatus.DONE
    # The coordinator reads which export carries the corrected case file.
    exports = api(users["bjorn"]).get(f"/api/v1/cases/{closed_case.pk}/retention/").json()["exports"]
    assert sorted((item["id"], item["replaces"]) for item in exports) == [(export.pk, None), (correction.pk, export.pk)]
    browser = Client()
    browser.force_login(users["bjorn"])
    assert "(den rettede saksmappen)" in browser.get(f"/cases/{closed_case.pk}/retention/").content.decode()


def test_a_kept_package_is_erased_with_the_case(archive, settings, closed_case, users):
    """A package kept for a retry is the case file: the erasure empties it (here an export
    kept after a lost answer, whose job then failed for good, beside one done before)."""
    archived(closed_case)
    export = first_answer_lost(archive, settings, users, closed_case)
    assert ArchiveExport.objects.get(pk=export.pk).body is not None
    Job.objects.filter(pk=export.job_id).update(status=JobStatus.FAILED)
    Case.objects.filter(pk=closed_case.pk).update(closed_at=timezone.now() - timezone.timedelta(days=12 * 365))
    assert erase_case(closed_case.pk, trigger=ErasureTrigger.RETENTION) is not None
    kept = ArchiveExport.objects.get(pk=export.pk)
    assert (kept.body, kept.body_categories) == (None, "")
