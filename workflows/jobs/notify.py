"""External calls of notification and webhook jobs, made outside any transaction.

They carry the case reference and a link, never case data: no person, no category.
The job's ``delivery_key`` (random, the same on every attempt) is the idempotency key
(``Idempotency-Key`` header, and ``id`` in the body): never the job id, which counts the
municipality's jobs.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json

from django.conf import settings
from django.core.mail import send_mail

from core import public_ids
from core.ids import lookup_id
from permissions.prepared import PreparedShapes
from workflows.jobs import webhook_transport
from workflows.jobs.errors import JobError, Refusal, detail, mail_failure, unreachable
from workflows.models import JobKind, Task

SIGNATURE_HEADER = "X-Brobygger-Signature"
SUBJECTS = {
    "task_created": "Ny oppgave i sak {reference}",
    "task_overdue": "Oppgave over frist i sak {reference}",
}


def task_link(task) -> str:
    return f"{settings.BROBYGGER['SITE_URL'].rstrip('/')}/tasks/{public_ids.encode('task', task.pk)}/"


def sign(secret: str, body: bytes) -> str:
    """``sha256=`` and the HMAC-SHA256 of ``body`` keyed with ``secret``. Never with an empty
    key: anybody could make that signature (the callers refuse to call without a secret)."""
    if not secret.strip():
        raise ValueError("refusing to sign with an empty secret")
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


# What a call reads of a job's task (``perform``): whether it is still open, its agency's
# addresses and its case's reference. Only these: the case row's whole data was read and
# decoded for every e-mail.
CALL_FIELDS = (
    "id",
    "status",
    "agency__name",
    "agency__notification_email",
    "agency__webhook_url",
    "agency__webhook_secret",
    "case__reference",
)
# The jobs' tasks, one statement per number of ids, compiled once (``permissions.prepared``):
# building the queryset was half of the job worker's CPU for each new task's e-mail
# (README "Production server", the job worker). A worker claims at most 10 jobs at once.
# Read by primary key: prepared on the server too (one plan serves every id).
_TASKS_BY_ID = PreparedShapes(most=10, server_prepared=True)


def _tasks_read(*ids: int):
    return Task.objects.select_related("agency", "case").only(*CALL_FIELDS).filter(pk__in=ids)


def tasks_of(jobs) -> dict[int, Task]:
    """The tasks (with their agency and case, the fields in ``CALL_FIELDS``) that ``jobs``
    tell about, by id: one statement for a worker's batch instead of one per job."""
    ids = {lookup_id((job.payload or {}).get("task_id")) for job in jobs} - {0}
    if not ids:
        return {}
    if len(ids) > 10:  # more than a worker claims at once (a test's batch): read as it comes
        return {task.pk: task for task in _tasks_read(*ids)}
    member = _TASKS_BY_ID.member(len(ids), _tasks_read, kinds=(int,) * len(ids))
    return {task.pk: task for task in member.objects(*sorted(ids))}


def perform(job, tasks: dict[int, Task] | None = None) -> str | None:
    """Make the call of ``job``. Returns None when done (or nothing is left to do), else
    the error text. Never raises. ``tasks``: the jobs' tasks read beforehand (``tasks_of``)."""
    try:
        payload = job.payload or {}
        event = payload.get("event", "")
        if tasks is None:
            tasks = tasks_of([job])
        task = tasks.get(lookup_id(payload.get("task_id")))
        if task is None or not task.is_active:
            return None  # the task is gone or already done: nothing to tell
        if job.kind == JobKind.NOTIFICATION:
            return _send_email(task, event)
        if job.kind == JobKind.WEBHOOK:
            return _call_webhook(job, task, event)
        return JobError("job.unknown_kind", kind=job.kind)
    except Exception as exc:  # the mail server's (or another library's) words, as they are
        return JobError("job.call_failed", detail=detail(f"{type(exc).__name__}: {exc}"))


def _send_email(task, event: str) -> str | None:
    address = task.agency.notification_email
    if not address:
        return None
    reference = task.case.reference
    subject = SUBJECTS.get(event, "Sak {reference}").format(reference=reference)
    body = f"{subject}.\n\nÅpne oppgaven i Brobygger: {task_link(task)}\n"
    try:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [address])
    except Exception as exc:  # the server's words name the addresses: its reply codes only
        return mail_failure(exc, (address, settings.DEFAULT_FROM_EMAIL))
    return None


def _call_webhook(job, task, event: str) -> str | None:
    agency = task.agency
    if not agency.webhook_url:
        return None
    if not agency.webhook_url.startswith(("https://", "http://")):
        return JobError("job.webhook.bad_url")
    if not (agency.webhook_secret or "").strip():
        # Saved before a secret was required (or past the admin's form): a call signed with
        # an empty key is one anybody could forge. Nothing is sent; the incident names the
        # agency, and its retry sends the call once the agency has a secret.
        return Refusal("job.webhook.no_secret", agency=agency.name)
    body = json.dumps(
        {
            "id": str(job.delivery_key),
            "event": event,
            "case_reference": task.case.reference,
            "task_id": public_ids.encode("task", task.pk),  # the API's id of the task (opaque)
            "link": task_link(task),
        },
        separators=(",", ":"),
    ).encode()
    headers = {
        "Content-Type": "application/json",
        "Idempotency-Key": str(job.delivery_key),
        "X-Brobygger-Event": event,
        SIGNATURE_HEADER: sign(agency.webhook_secret, body),
        "User-Agent": "Brobygger-webhook/1",
    }
    timeout = settings.BROBYGGER["WEBHOOK_TIMEOUT_SECONDS"]
    allowed = webhook_transport.parse_networks(settings.WEBHOOK_ALLOWED_NETWORKS)
    try:
        status = webhook_transport.post(agency.webhook_url, body, headers, timeout=timeout, allowed_networks=allowed)
    except (webhook_transport.HostUnknown, TimeoutError, OSError, http.client.HTTPException) as exc:
        # One error whatever the cause (``errors.unreachable``): which one (a name the internal
        # name servers do not know, a port refused, a port whose service never answers or
        # speaks no HTTP) probed the networks ``WEBHOOK_ALLOWED_NETWORKS`` lists.
        return unreachable("job.webhook.unreachable", exc, job)
    except webhook_transport.WebhookRefused as exc:
        return JobError("job.webhook.refused", reason=exc.message)
    if 300 <= status < 400:
        return JobError("job.webhook.redirect", status=status)
    return None if 200 <= status < 300 else JobError("job.webhook.http_status", status=status)
