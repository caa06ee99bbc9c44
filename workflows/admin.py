from django.contrib import admin
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from bpmn.engine.errors import BpmnValidationError
from bpmn.registry import runtime_for
from permissions import rules
from permissions.admin import GatedAdmin, WriteOnlySecretAdmin, WriteOnlySecretForm
from workflows import selectors
from workflows.models import (
    Incident,
    Job,
    JobKind,
    OutboxMessage,
    OutcomeKind,
    ReceivedMessage,
    ServiceConnector,
    WorkerHeartbeat,
    incident_kind_label,
)


class OperatorsOnlyAdmin(GatedAdmin):
    """Incidents, jobs and the messages a case sent and received: for who sees incidents
    outside the admin (``rules.admin_shows_incidents``: the process admin who works no cases)
    and superusers."""

    shown_to = staticmethod(rules.admin_shows_incidents)


class IncidentKindFilter(admin.SimpleListFilter):
    """The kinds present, by their labels (the code stays the query's value)."""

    title = _("kind")
    parameter_name = "kind"

    def lookups(self, request, model_admin):
        kinds = Incident.objects.order_by().values_list("kind", flat=True).distinct()
        return sorted(((kind, incident_kind_label(kind)) for kind in kinds), key=lambda pair: pair[1])

    def queryset(self, request, queryset):
        return queryset.filter(kind=self.value()) if self.value() else queryset


@admin.register(Incident)
class IncidentAdmin(OperatorsOnlyAdmin):
    """Incidents carry no case data: the error (scrubbed of the case's values as the API
    shows it, never the stored text), the element and the attempts."""

    list_display = ["id", "kind_label", "element_id", "attempts", "occurrences", "job", "created_at", "resolved_at"]
    list_select_related = ["job"]  # a job's incident names it: one statement a page, not one a row
    list_filter = [IncidentKindFilter, "resolved_at"]
    # The stored text and its message (code and params) carry another system's words
    # unscrubbed: only ``error_text`` (scrubbed, in the reader's language) is shown.
    # ``kind`` is shown by its label (``kind_label``).
    exclude = ["error", "error_message", "fold_key", "kind"]
    readonly_fields = [
        "instance",
        "case",
        "element_id",
        "kind_label",
        "error_text",
        "attempts",
        "occurrences",
        "last_occurred_at",
        "job",
        "created_at",
        "resolved_at",
        "resolved_by",
    ]

    def has_add_permission(self, request):
        # Rows the engine or a sign-in writes: the add page's form has none of their fields
        # (all read-only), and saving it was a 500.
        return False

    @admin.display(description=_("kind"), ordering="kind")
    def kind_label(self, incident) -> str:
        return incident_kind_label(incident.kind)

    @admin.display(description=_("error"))
    def error_text(self, incident) -> str:
        return selectors.incident_error(incident, gettext)


@admin.register(Job)
class JobAdmin(OperatorsOnlyAdmin):
    """The job table: what the workers owe. Payloads hold ids only, never case data."""

    list_display = ["id", "kind", "status", "due_at", "attempts", "max_attempts", "locked_by", "lease_until", "case"]
    list_filter = ["kind", "status"]
    search_fields = ["=id", "case__reference", "locked_by"]
    date_hierarchy = "due_at"
    readonly_fields = [
        "kind",
        "instance",
        "case",
        "payload_shown",
        "created_at",
        "finished_at",
        "locked_by",
        "lease_until",
        "last_error_text",
    ]
    exclude = ["payload", "last_error", "last_error_message"]  # shown as ``payload_shown``, ``last_error_text``
    raw_id_fields = ["instance", "case"]

    def has_add_permission(self, request):
        # The engine's work, written with the state change that causes it: a job added here
        # had no kind (a row no worker can run), an outbox message no case (a 500).
        return False

    @admin.display(description=_("payload"))
    def payload_shown(self, job):
        """Ids, as every job's payload holds; a password-reset job's typed address (kept until
        its mail is sent, or until the failed job is pruned, ``JOB_DONE_KEEP_DAYS``) is not the
        operators' to read."""
        if job.kind == JobKind.PASSWORD_RESET:
            return {key: "…" for key in job.payload or {}}
        return job.payload

    @admin.display(description=_("last error"))
    def last_error_text(self, job) -> str:
        """The job's last error without the values its case holds and held (a job's exception,
        another system's words, may quote them), as an incident's error is shown."""
        return selectors.job_error(job, gettext)


class ServiceConnectorForm(WriteOnlySecretForm):
    write_only_field = "secret"
    write_only_required = True


@admin.register(ServiceConnector)
class ServiceConnectorAdmin(WriteOnlySecretAdmin):
    form = ServiceConnectorForm
    list_display = ["name", "url", "agency", "active"]
    list_filter = ["active"]


@admin.register(WorkerHeartbeat)
class WorkerHeartbeatAdmin(admin.ModelAdmin):
    list_display = readonly_fields = ("name", "hostname", "pid", "started_at", "beat_at", "jobs_done", "stopped_at")

    def has_add_permission(self, request):
        # Rows the engine or a sign-in writes: the add page's form has none of their fields
        # (all read-only), and saving it was a 500.
        return False


@admin.register(OutboxMessage)
class OutboxMessageAdmin(OperatorsOnlyAdmin):
    list_display = ["id", "name", "case", "status", "created_at", "delivered_at"]
    list_filter = ["status", "name"]
    # The payload and the correlation values are case data (a national id among them):
    # operators read which fields and keys a message carries, never their values (design §2).
    exclude = ["payload", "correlations"]
    readonly_fields = ["name", "payload_fields", "correlation_keys", "instance", "case", "element_id", "created_at"]

    def has_add_permission(self, request):
        # The engine's work, written with the state change that causes it: a job added here
        # had no kind (a row no worker can run), an outbox message no case (a 500).
        return False

    @admin.display(description=_("payload fields"))
    def payload_fields(self, message):
        """The fields by the names the sending model gives them; a key the payload computed
        from the case's data (``{diagnosis: True}``) is a value, counted and not named: a
        process admin who deploys such a model reads no case data here."""
        keys = sorted(message.payload or {})
        try:
            named = runtime_for(message.instance.definition_id).payload_names(message.name) if message.instance else ()
        except BpmnValidationError:  # a model the engine cannot read (no deploy stores one): none named
            named = ()
        shown = [key for key in keys if key in named]
        unnamed = len(keys) - len(shown)
        if unnamed:
            shown.append(gettext("%(count)d more, named from the case's data") % {"count": unnamed})
        return ", ".join(shown) or "-"

    @admin.display(description=_("correlation keys"))
    def correlation_keys(self, message):
        return ", ".join(sorted(message.correlations or {})) or "-"


@admin.register(ReceivedMessage)
class ReceivedMessageAdmin(OperatorsOnlyAdmin):
    # The ``message_id`` is the sender's own text, read by the sending agency and the case's
    # coordinator only (``rules.reads_message_id``): operators read the message's name,
    # agency, case and moment, and find it by its case, never by guessing its id (design §2).
    list_display = readonly_fields = ("id", "name", "sender_agency", "case", "sender", "received_at")
    exclude = ["message_id"]
    search_fields = ["=case__reference"]

    def has_add_permission(self, request):
        # Rows the engine or a sign-in writes: the add page's form has none of their fields
        # (all read-only), and saving it was a 500.
        return False


@admin.register(OutcomeKind)
class OutcomeKindAdmin(admin.ModelAdmin):
    """Outcome kinds are the admin's list; recorded outcomes (case data) are not shown here.

    A kind is retired (``active`` off), never deleted: outcomes already recorded keep it.
    Its code cannot change once saved, as recorded outcomes and forms refer to it.
    """

    list_display = ["label", "code", "has_home", "needs_tenure", "needs_reason", "position", "active"]
    list_editable = ["position", "active"]
    list_filter = ["active", "has_home"]
    search_fields = ["code", "label"]

    def get_readonly_fields(self, request, obj=None):
        return ["code"] if obj is not None else []

    def has_delete_permission(self, request, obj=None):
        return False
