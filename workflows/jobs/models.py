"""The engine's own job table (design §5) and the message tables.

Imported by ``workflows.models``: these are models of the ``workflows`` app.
"""

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from permissions.models import signing_secret_error


def password_reset_key(field: str) -> Cast:
    """A password-reset job's digest ``field`` (``address`` or ``client``) as text, as its
    index holds it. (Cast: compared with a string as it is, SQLite reads the string as JSON.)"""
    return Cast(KeyTextTransform(field, "payload"), models.CharField(max_length=64))


class JobKind(models.TextChoices):
    TIMER = "timer", _("Timer")
    NOTIFICATION = "notification", _("E-mail notification")
    WEBHOOK = "webhook", _("Webhook")
    SERVICE = "service", _("Service call (HTTP connector)")
    EXTERNAL_TASK = "external_task", _("External task (fetched by an agency's system)")
    MESSAGE = "message", _("A thrown message, delivered to the case waiting for it")
    # Work of a unit above workflows, run through ``workflows.jobs.handlers``.
    ERASURE = "erasure", _("Erasure of a case past its retention")
    ARCHIVE_EXPORT = "archive_export", _("Archive export of a closed case")
    # The password-reset mail (``web.password_reset``): sent by a worker, not by the request.
    PASSWORD_RESET = "password_reset", _("Password-reset e-mail")
    # A withdrawn attachment's file in ``ATTACHMENT_DIR`` (``workflows.jobs.files``): retried
    # until it is gone.
    FILE_DELETION = "file_deletion", _("Deletion of a withdrawn attachment's file")
    # The reminder that a case's safety warning lapses soon (``workflows.jobs.safety_reminders``).
    SAFETY_REMINDER = "safety_reminder", _("Reminder of a safety warning about to lapse")
    # One mail of such a reminder, to one address, sent outside the case's lock; a retry sends
    # that mail only (``workflows.jobs.safety_reminders.send_reminder_mail``).
    SAFETY_REMINDER_MAIL = "safety_reminder_mail", _("Mail of a reminder of a safety warning")
    # The daily roll of the open-task summary of the leaders' "overdue now" (``insight.rolling``).
    OVERDUE_ROLL = "overdue_roll", _("Daily roll of the open tasks past their deadline")


class JobStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    RUNNING = "running", _("Running (leased)")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed (incident)")
    CANCELLED = "cancelled", _("Cancelled")


# Jobs a worker may still work (``job_due_open``), and jobs the workers delete once they have
# been finished for ``JOB_DONE_KEEP_DAYS`` (``queue.prune_finished``): a failed one too, unless
# an open incident names it (its retry runs it again).
UNFINISHED = (JobStatus.PENDING.value, JobStatus.RUNNING.value)
PRUNED = (JobStatus.DONE.value, JobStatus.CANCELLED.value, JobStatus.FAILED.value)


class Job(models.Model):
    """Work the engine owes: written in the transaction of the state change that caused it.

    ``delivery_key`` is the idempotency key of every external call it makes.
    """

    kind = models.CharField(max_length=20, choices=JobKind.choices, verbose_name=_("kind"))
    status = models.CharField(
        max_length=20, choices=JobStatus.choices, default=JobStatus.PENDING, verbose_name=_("status")
    )
    due_at = models.DateTimeField(verbose_name=_("due at"))
    attempts = models.PositiveIntegerField(default=0, verbose_name=_("attempts"))
    max_attempts = models.PositiveIntegerField(default=5, verbose_name=_("max attempts"))
    lease_until = models.DateTimeField(null=True, blank=True, verbose_name=_("lease until"))
    locked_by = models.CharField(max_length=200, blank=True, verbose_name=_("locked by"))
    last_error = models.TextField(blank=True, verbose_name=_("last error"))
    # ``last_error`` as a code of ``core.messages`` with its params, when the error is one
    # of ours (``workflows.jobs.errors``): shown in the reader's language. None: the text is
    # another system's, or was stored before errors had codes (shown as it is).
    last_error_message = models.JSONField(null=True, blank=True, verbose_name=_("last error message"))
    # Ids and the event only: never case data (notifications carry a reference and a link).
    # A password-reset job holds the typed address, only until its mail is sent, and keyed
    # digests of the address and the client, which its page counts.
    payload = models.JSONField(default=dict, blank=True, verbose_name=_("payload"))
    instance = models.ForeignKey(
        "workflows.ProcessInstance",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="jobs",
        verbose_name=_("instance"),
    )
    case = models.ForeignKey(
        "workflows.Case", null=True, blank=True, on_delete=models.CASCADE, related_name="jobs", verbose_name=_("case")
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    finished_at = models.DateTimeField(null=True, blank=True, verbose_name=_("finished at"))
    # What a receiver is told of the job (a webhook's and a connector call's ``id`` and
    # ``Idempotency-Key``), the same on every attempt. Random, not the job id: the ids are
    # sequential over every job of the municipality (every timer, e-mail and message of
    # every agency), so two calls to one agency would tell it how many came between.
    delivery_key = models.UUIDField(default=uuid.uuid4, editable=False, verbose_name=_("delivery key"))

    class Meta:
        ordering = ["due_at", "id"]
        verbose_name = _("job")
        verbose_name_plural = _("jobs")
        indexes = [
            # What the workers look for (``queue.due_work`` and the claims): the unfinished jobs
            # only. Done jobs are most of the table until they are pruned (``queue.prune_finished``),
            # and a job that finishes leaves this index instead of entering it again.
            models.Index(fields=["status", "due_at"], name="job_due_open", condition=Q(status__in=UNFINISHED)),
            # What the pruning walks: finished jobs, oldest first (``queue.prune_finished``).
            models.Index(fields=["finished_at"], name="job_prunable", condition=Q(status__in=PRUNED)),
            # An agency's system completes an external task by its key: only those jobs are
            # indexed, so the timers' and e-mails' inserts pay nothing for it.
            models.Index(
                fields=["delivery_key"], name="job_external_task_key", condition=models.Q(kind="external_task")
            ),
            # The password-reset page counts the recent requests per address and per client
            # (keyed digests in the payload: ``web.password_reset``); only those jobs are indexed.
            models.Index(
                password_reset_key("address"),
                "created_at",
                name="job_reset_address",
                condition=models.Q(kind="password_reset"),
            ),
            models.Index(
                password_reset_key("client"),
                "created_at",
                name="job_reset_client",
                condition=models.Q(kind="password_reset"),
            ),
        ]
        constraints = [
            # One pending timer job per instance: it is due at the instance's next_timer_at.
            models.UniqueConstraint(
                fields=["instance"], condition=Q(kind="timer", status="pending"), name="one_pending_timer_job"
            ),
            # One pending erasure job per case: the daily sweep may run on several nodes.
            models.UniqueConstraint(
                fields=["case"], condition=Q(kind="erasure", status="pending"), name="one_pending_erasure_job"
            ),
            # One pending safety reminder per case: the daily sweep may run on several nodes.
            models.UniqueConstraint(
                fields=["case"],
                condition=Q(kind="safety_reminder", status="pending"),
                name="one_pending_safety_reminder_job",
            ),
            # One pending roll of the overdue figure's summary a day (``insight.rolling``): the
            # daily command, run on several nodes, and the roll that queues the next day's.
            models.UniqueConstraint(
                fields=["due_at"], condition=Q(kind="overdue_roll", status="pending"), name="one_pending_overdue_roll"
            ),
        ]

    def __str__(self):
        return gettext("job {id}: {kind} ({status})").format(
            id=self.pk, kind=self.get_kind_display(), status=self.get_status_display()
        )


class FinishedExternalTask(models.Model):
    """What is left of an external task once its finished job is pruned
    (``queue.prune_finished``): its key, the agency whose system it was routed to, its case
    and how it ended. An agency's system that answers it late is told that the task was done
    (409), as it was while the job was kept, not that no such task exists; any other caller
    still gets 404 (``external_tasks._locked_job``). No case data: ids, a status, a time.

    The case and the agency are plain ids, not foreign keys: the pruning writes these rows
    while it holds the job rows, and a foreign-key check would wait for a case held
    ``FOR UPDATE`` by an erasure that waits for those job rows (README, "One lock order")."""

    delivery_key = models.UUIDField(primary_key=True)
    agency_id = models.PositiveBigIntegerField()
    case_id = models.PositiveBigIntegerField()
    status = models.CharField(max_length=20, choices=JobStatus.choices)
    finished_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return gettext("external task {key} ({status})").format(key=self.delivery_key, status=self.get_status_display())


class ServiceConnector(models.Model):
    """Where a service task's HTTP connector posts (a model names the connector, never an
    address): configured by the operator in the admin. The call is signed with ``secret``
    like the webhooks and goes only to public addresses (or ``WEBHOOK_ALLOWED_NETWORKS``)."""

    name = models.CharField(
        max_length=200, unique=True, help_text=_("The name the model's service task gives"), verbose_name=_("name")
    )
    url = models.URLField(verbose_name=_("url"))
    secret = models.CharField(
        max_length=200, help_text=_("Signs each call (X-Brobygger-Signature, HMAC-SHA256)"), verbose_name=_("secret")
    )
    agency = models.ForeignKey(
        "permissions.Agency",
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Whose system answers: the fields sent go to this agency"),
        verbose_name=_("agency"),
    )
    active = models.BooleanField(default=True, verbose_name=_("active"))

    class Meta:
        verbose_name = _("service connector")
        verbose_name_plural = _("service connectors")

    def __str__(self):
        return self.name

    def clean(self):
        """The secret signs every call: long enough (``signing_secret_error``; an empty one is
        refused by the field itself, which is required)."""
        super().clean()
        error = signing_secret_error(self.secret) if self.secret else None
        if error is not None:
            raise ValidationError({"secret": error})


class WorkerHeartbeat(models.Model):
    """One row per worker process: when it last looked for work and what it has done."""

    name = models.CharField(max_length=200, unique=True, verbose_name=_("name"))
    hostname = models.CharField(max_length=200, verbose_name=_("hostname"))
    pid = models.PositiveIntegerField(verbose_name=_("pid"))
    started_at = models.DateTimeField(verbose_name=_("started at"))
    beat_at = models.DateTimeField(verbose_name=_("beat at"))
    jobs_done = models.PositiveIntegerField(default=0, verbose_name=_("jobs done"))
    stopped_at = models.DateTimeField(null=True, blank=True, verbose_name=_("stopped at"))

    class Meta:
        ordering = ["-beat_at"]
        verbose_name = _("worker heartbeat")
        verbose_name_plural = _("worker heartbeats")

    def __str__(self):
        return self.name


class ReceivedMessage(models.Model):
    """Message ids already delivered: a repeated ``message_id`` of the same sender agency is
    ignored. Each agency has its own id namespace: another agency's ids neither block its
    messages nor tell it anything."""

    message_id = models.CharField(max_length=200, verbose_name=_("message id"))
    name = models.CharField(max_length=200, verbose_name=_("name"))
    case = models.ForeignKey(
        "workflows.Case", on_delete=models.CASCADE, related_name="received_messages", verbose_name=_("case")
    )
    received_at = models.DateTimeField(auto_now_add=True, verbose_name=_("received at"))
    sender = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("sender"),
    )
    sender_agency = models.ForeignKey(
        "permissions.Agency", null=True, on_delete=models.CASCADE, related_name="+", verbose_name=_("sender agency")
    )

    class Meta:
        verbose_name = _("received message")
        verbose_name_plural = _("received messages")
        constraints = [
            models.UniqueConstraint(fields=["sender_agency", "message_id"], name="unique_message_id_per_sender_agency"),
        ]

    def __str__(self):  # not its id: the sender's own text (``rules.reads_message_id``)
        return f"{self.name} ({self.pk})"


class OutboxStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    DELIVERED = "delivered", _("Delivered")
    UNDELIVERED = "undelivered", _("Nothing waited for it")


class OutboxMessage(models.Model):
    """A message thrown by a process that it did not catch itself; routed by a job."""

    name = models.CharField(max_length=200, verbose_name=_("name"))
    payload = models.JSONField(default=dict, blank=True, verbose_name=_("payload"))
    correlations = models.JSONField(default=dict, blank=True, verbose_name=_("correlations"))
    instance = models.ForeignKey(
        "workflows.ProcessInstance", on_delete=models.CASCADE, related_name="outbox", verbose_name=_("instance")
    )
    case = models.ForeignKey("workflows.Case", on_delete=models.CASCADE, related_name="outbox", verbose_name=_("case"))
    element_id = models.CharField(max_length=200, blank=True, verbose_name=_("element id"))
    status = models.CharField(
        max_length=20, choices=OutboxStatus.choices, default=OutboxStatus.PENDING, verbose_name=_("status")
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    delivered_at = models.DateTimeField(null=True, blank=True, verbose_name=_("delivered at"))

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("outbox message")
        verbose_name_plural = _("outbox messages")

    def __str__(self):
        return gettext("{name} from case {case}").format(name=self.name, case=self.case)
