"""Posting an archive package to the municipality's archive endpoint (``ARCHIVE_ENDPOINT_URL``).

The package goes as one zip (``saksmappe.pdf`` and ``arkivstruktur.xml``), signed like
the webhooks: ``X-Brobygger-Signature: sha256=<HMAC-SHA256 of the body with
ARCHIVE_ENDPOINT_SECRET>``. It travels under the webhooks' guard
(``workflows.jobs.webhook_transport``): the host is resolved when the call is made, a
non-public address is refused unless ``ARCHIVE_ENDPOINT_ALLOWED_NETWORKS`` lists it, the
connection goes to the address checked, and redirects are never followed.

``Idempotency-Key: archive-export-<export id>`` is the same on every attempt of one
export: an attempt whose answer was lost (the worker killed after the archive took the
package) is posted again with the same key, so the archive takes the case file once. The
bytes are the same too: a package that may be in the archive is kept on its export and
posted again as it is (``retention.archive.write_package``). A case file corrected after an
export goes as a new export, under its own key, with ``X-Brobygger-Replaces:
archive-export-<id>`` naming the export it corrects.

Failures raise ``ArchiveDeliveryFailed``: the job records its ``job_error`` (why, as a
code with its params, said in the reader's language where the job's error is shown; no
value of the case, an unreachable endpoint by the class of the error only); the job backs
off and retries, and after its last attempt it fails with an incident on the case.
"""

from __future__ import annotations

import hashlib
import http.client
import io
import zipfile
from collections.abc import Callable
from datetime import datetime

from django.conf import settings
from django.utils import timezone

from workflows.jobs import webhook_transport
from workflows.jobs.errors import JobError
from workflows.jobs.notify import SIGNATURE_HEADER, sign


class ArchiveDeliveryFailed(Exception):
    """The archive did not take the package (refused address, unreachable, or not 2xx), or
    its answer never came after the package was sent (``sent``: it may hold the package).
    ``job_error``: why, as the job records it; ``kept_after_rollback``: what the job records
    all the same (``workflows.jobs.handlers``)."""

    def __init__(self, code: str, *, sent: bool = False, **params):
        self.job_error = JobError(code, **params)
        self.sent = sent
        self.kept_after_rollback: Callable[[], None] | None = None
        super().__init__(self.job_error)


def conf(name: str):
    return settings.BROBYGGER[name]


def configured() -> bool:
    return bool(conf("ARCHIVE_ENDPOINT_URL"))


def zip_package(name: str, files: dict[str, bytes], produced_at: datetime) -> bytes:
    """The package as one zip: ``<name>/<file>`` for each file, each dated ``produced_at``
    (not the clock's time, which the zip would carry: a later attempt would post other bytes
    under the same Idempotency-Key)."""
    stamp = timezone.localtime(produced_at).timetuple()[:6]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for filename, content in files.items():
            entry = zipfile.ZipInfo(f"{name}/{filename}", date_time=stamp)
            archive.writestr(entry, content, compress_type=zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def deliver(export_id: int, name: str, body: bytes, *, replaces: int | None = None) -> None:
    """POST the zipped package ``body`` of export ``export_id``; returns when the archive
    answered 2xx, raises ``ArchiveDeliveryFailed`` otherwise (``sent`` once the request has
    begun to leave: a timeout or a dropped connection then says nothing of whether the
    archive took it)."""
    headers = {
        "Content-Type": "application/zip",
        "Content-Disposition": f'attachment; filename="{name}.zip"',
        "Idempotency-Key": f"archive-export-{export_id}",
        "X-Brobygger-Event": "archive_export",
        "X-Brobygger-Package-SHA256": hashlib.sha256(body).hexdigest(),
        SIGNATURE_HEADER: sign(conf("ARCHIVE_ENDPOINT_SECRET"), body),
        "User-Agent": "Brobygger-archive/1",
    }
    if replaces is not None:  # a corrected case file: the package that it corrects
        headers["X-Brobygger-Replaces"] = f"archive-export-{replaces}"
    allowed = webhook_transport.parse_networks(conf("ARCHIVE_ENDPOINT_ALLOWED_NETWORKS"))
    sending: list[bool] = []
    try:
        status = webhook_transport.post(
            conf("ARCHIVE_ENDPOINT_URL"),
            body,
            headers,
            timeout=conf("ARCHIVE_ENDPOINT_TIMEOUT_SECONDS"),
            allowed_networks=allowed,
            networks_setting="ARCHIVE_ENDPOINT_ALLOWED_NETWORKS",
            before_sending=lambda: sending.append(True),
        )
    except webhook_transport.WebhookRefused as exc:
        raise ArchiveDeliveryFailed("job.archive.refused", reason=exc.message) from None
    except (TimeoutError, OSError, http.client.HTTPException) as exc:
        if sending:
            raise ArchiveDeliveryFailed("job.archive.no_answer", sent=True, error_class=type(exc).__name__) from None
        raise ArchiveDeliveryFailed("job.archive.unreachable", error_class=type(exc).__name__) from None
    if not 200 <= status < 300:
        raise ArchiveDeliveryFailed(
            "job.archive.redirect" if status < 400 else "job.archive.http_status", status=status
        )
