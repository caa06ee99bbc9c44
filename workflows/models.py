from django.conf import settings
from django.db import models
from django.db.models.lookups import IsNull
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core import public_ids
from core.national_id import shown_masked


class Person(models.Model):
    """The person a case is about. The national id is shown only with the identity category."""

    name = models.CharField(max_length=200)
    national_id = models.CharField(max_length=11, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"{self.name} ({shown_masked(self.national_id)})"


class CaseStatus(models.TextChoices):
    OPEN = "open", _("Open")
    COMPLETED = "completed", _("Completed")
    CANCELLED = "cancelled", _("Cancelled")


class Case(models.Model):
    reference = models.CharField(max_length=32, unique=True)
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="cases")
    # The person's name as this case's starter gave it. Case readers are shown this, never
    # ``Person.name``: one person row serves every case with their national id, so its name
    # would tell a starter who typed a number (with any name) whose it is, and that the
    # services already know them.
    person_name = models.CharField(max_length=200)
    process_key = models.CharField(max_length=200)
    status = models.CharField(max_length=20, choices=CaseStatus.choices, default=CaseStatus.OPEN)
    coordinator_agency = models.ForeignKey(
        "permissions.Agency", on_delete=models.PROTECT, related_name="coordinated_cases"
    )
    # Current value of every form field, and which agency wrote it (the "own data" rule).
    data = models.JSONField(default=dict)
    data_sources = models.JSONField(default=dict)
    # Field -> [value, source agency] as the start form or a step on no branch last wrote it,
    # for the fields a step on a branch may write over (``DefinitionRuntime.branch_rewritten``):
    # a reader from whom the branch is hidden is shown this, as the value the branch wrote
    # tells the branch (``policy.case_data_for(hidden=)``). Absent: no such step wrote it.
    data_common = models.JSONField(default=dict, db_default={}, blank=True)  # rows the bench loader writes by SQL too
    # Safety field -> when its value was recorded or last confirmed (ISO 8601, UTC): a safety
    # warning is shown to the other participants for a limited time after it
    # (``permissions.policy.lapsed_warnings``). Written in the same row update as
    # ``data_sources``; only for fields of the ``safety`` category.
    data_recorded_at = models.JSONField(default=dict, db_default={}, blank=True)
    # Safety field -> the ``data_recorded_at`` entry (the time in force) whose coming lapse its
    # keepers were reminded of (``workflows.jobs.safety_reminders``): once in each time in
    # force; a confirmation starts a new one.
    safety_reminded = models.JSONField(default=dict, db_default={}, blank=True)
    # When the case's safety warnings stop being in force, as columns a list across cases
    # compares with its clock (``permissions.rules.listed_task_rows``): a task or timer on a
    # branch chosen by a safety field is listed to the participants by standing only while
    # every warning of the case is in force, never after one lapsed (its branch would tell
    # the lapsed value). ``safety_since``: the earliest time in force among the warnings
    # that hold ``SAFETY_WARNING_DAYS`` (compared with the setting as it is when read);
    # ``safety_until``: the earliest moment one holding its form's ``"x-valid-days"``
    # lapses. NULL: no such warning. Kept with ``data`` and ``data_recorded_at`` by every
    # writer (``policy.warning_columns``).
    safety_since = models.DateTimeField(null=True, blank=True, editable=False)
    safety_until = models.DateTimeField(null=True, blank=True, editable=False)
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    # The housing contact who owns the case (a caseload): a member of the case's housing
    # agency, set at start and reassigned by its lead (``services.assign_responsible``).
    # No index of its own: ``case_caseload`` begins with it (a case's update that moves its
    # next deadline is no HOT update, and wrote this index's entry too).
    responsible = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="responsible_cases",
        db_index=False,
    )
    # The case this one continues on the person's path (prison release -> settling in ->
    # keeping the home): ``services.start_follow_on`` sets it.
    follows = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="follow_ons")
    opened_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    # The earliest due date of the case's open or claimed tasks, whichever agency's (None:
    # none has one). Written by every step in the batch that creates, completes or cancels
    # its tasks (``workflows.steps.rows.refresh_next_due``), so the overdue filter is a
    # condition on the case row, read from an index, instead of a look at its tasks per
    # row. What a reader is shown is still decided from the tasks they may see: a case
    # is overdue for them when this is past and one of their listed tasks is.
    next_due_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-opened_at"]
        # The case lists, newest first by id (README "Read paths"): each filter with the
        # order, for an agency in many cases, whose page PostgreSQL finds by walking one of
        # these and looking up its participation per row (an agency in fewer cases walks
        # its participations: ``permissions.rules.listed_cases``).
        indexes = [
            models.Index(fields=["responsible", "status"], name="case_caseload"),
            models.Index(fields=["opened_at", "id"], name="case_opened"),  # the auditor's list, a person's path
            # The overdue cases: only cases with a deadline waiting, their next one beside
            # the order's key, so the past ones are told from the index.
            models.Index(
                fields=["id", "next_due_at"],
                name="case_next_due_by_id",
                condition=models.Q(next_due_at__isnull=False),
            ),
            models.Index(fields=["status", "id"], name="case_status_id"),
            models.Index(fields=["process_key", "id"], name="case_process_id"),
        ]

    def __str__(self):
        return self.reference


class CaseReferenceCounter(models.Model):
    """Per-year sequence for readable case references (BK-2026-000123)."""

    year = models.PositiveIntegerField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self):
        return f"{self.year}: {self.last}"


class InstanceStatus(models.TextChoices):
    RUNNING = "running", _("Running")
    COMPLETED = "completed", _("Completed")
    INCIDENT = "incident", _("Incident")
    CANCELLED = "cancelled", _("Cancelled")


class ProcessInstance(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="instances")
    definition = models.ForeignKey("bpmn.ProcessDefinition", on_delete=models.PROTECT, related_name="instances")
    # JSON as text, never jsonb: jsonb reorders keys and SpiffWorkflow's data deltas
    # depend on their order (engine-notes 5).
    state = models.TextField()
    serializer_version = models.CharField(max_length=16)
    spiff_version = models.CharField(max_length=16)
    status = models.CharField(max_length=20, choices=InstanceStatus.choices, default=InstanceStatus.RUNNING)
    next_timer_at = models.DateTimeField(null=True, blank=True, db_index=True)
    # The categories read by the gateways on whose branches any timer of its model lies
    # (issue 11: a waiting timer tells the branch): a list shows the next timer only to a
    # reader who sees them all (``permissions.rules.listed_timer_rows``). Kept by every step.
    timer_path_categories = models.PositiveSmallIntegerField(db_default=0)  # rows the bench loader writes by SQL too
    # An external system's key for this instance (e.g. the prison's own case number):
    # messages may name it instead of the case reference.
    correlation_key = models.CharField(max_length=200, blank=True, db_index=True)
    # The agency whose system the key is, the one the case was started through: a key is
    # looked up only among its agency's (``workflows.services.messages``), so another agency
    # that names it on a case of its own neither blocks it nor receives its messages. None
    # for keys set before keys had agencies: those are looked up as before, by visibility.
    correlation_agency = models.ForeignKey(
        "permissions.Agency", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    version = models.PositiveIntegerField(default=1, help_text="Incremented on every state change")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"{self.case} {self.definition}"


# The instance statuses a message may reach and a correlation key must be unique among.
LIVE_INSTANCE_STATUSES = (InstanceStatus.RUNNING, InstanceStatus.INCIDENT)


class TaskStatus(models.TextChoices):
    OPEN = "open", _("open")
    CLAIMED = "claimed", _("taken")
    COMPLETED = "completed", _("completed")
    CANCELLED = "cancelled", _("cancelled")


ACTIVE_TASK_STATUSES = (TaskStatus.OPEN, TaskStatus.CLAIMED)


def active_claimant() -> models.Case:
    """A task's claimant while it is active (NULL for every other task): "mine" among the
    active tasks (``filters.TaskFilter``) and the leading column of its index
    (``task_claimant_active``). Not the assignee column itself: that also names who did each
    completed task, so its statistics told PostgreSQL a busy caseworker's active desk was as
    large as every task they ever did (1,550 rows for 300 at 20,000 cases), and it walked
    every active task of the table for theirs, or read their whole desk and sorted it. The
    expression's own statistics (PostgreSQL keeps them for an index on an expression) count
    active tasks alone."""
    return models.Case(models.When(status__in=ACTIVE_TASK_STATUSES, then=models.F("assignee_id")))


class Task(models.Model):
    """Relational projection of a ready user/manual task: inboxes never load engine state."""

    spiff_task_id = models.UUIDField()
    # No index of their own on the instance, the agency and the assignee: ``unique_spiff_task``,
    # ``task_inbox`` and ``task_assignee`` begin with them and serve the same lookups (the
    # foreign keys' too), and every insert and every completion (a status change is no HOT
    # update) wrote three index entries more for nothing (README "Performance").
    instance = models.ForeignKey(ProcessInstance, on_delete=models.CASCADE, related_name="tasks", db_index=False)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="tasks")
    element_id = models.CharField(max_length=200)
    name = models.CharField(max_length=300)
    lane = models.CharField(max_length=200, blank=True)
    agency = models.ForeignKey("permissions.Agency", on_delete=models.PROTECT, related_name="tasks", db_index=False)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="claimed_tasks",
        db_index=False,
    )
    status = models.CharField(max_length=20, choices=TaskStatus.choices, default=TaskStatus.OPEN)
    form = models.CharField(max_length=200, blank=True)
    handed_over_by = models.ForeignKey(
        "permissions.Agency",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The agency whose completed work created this task",
    )
    due_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The categories read by the gateways whose branches the task lies on, as bits
    # (``permissions.rules.PATH_CATEGORY_BITS``): lists across cases show another agency's
    # task only to readers who see them (``rules.listed_task_rows``). 0: on no such branch.
    path_categories = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["due_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["instance", "spiff_task_id"], name="unique_spiff_task"),
            # Only a completion names a completer, and it ends the task (no active task ever
            # had one): "mine" among active tasks is then the claimant's alone, read in the
            # list's order from ``task_claimant_active`` (``filters.TaskFilter``).
            models.CheckConstraint(
                condition=models.Q(completed_by__isnull=True) | ~models.Q(status__in=ACTIVE_TASK_STATUSES),
                name="task_active_has_no_completer",
            ),
        ]
        # The task lists in their order (due_at, id), README "Read paths": the inboxes read
        # active tasks only, so their indexes hold only those (a tenth of the rows).
        indexes = [
            models.Index(fields=["agency", "status", "due_at"], name="task_inbox"),
            models.Index(fields=["assignee", "status"], name="task_assignee"),
            models.Index(
                fields=["agency", "due_at", "id"],
                name="task_agency_active",
                condition=models.Q(status__in=ACTIVE_TASK_STATUSES),
            ),
            # "Mine" (``assigned=me&status=active``) in its order: a page of a desk of any size.
            models.Index(
                active_claimant(),
                models.F("due_at"),
                models.F("id"),
                name="task_claimant_active",
                # The active tasks alone: those with a claimant in it (the list's condition
                # on the claimant implies it, with no condition on the status to estimate).
                condition=models.Q(IsNull(active_claimant(), False)),
            ),
            # Also the insight page's "overdue now" per agency, read from the index alone.
            models.Index(
                fields=["due_at", "id"],
                name="task_active_due",
                include=["agency", "case"],
                condition=models.Q(status__in=ACTIVE_TASK_STATUSES),
            ),
            models.Index(fields=["due_at", "id"], name="task_due"),
            # A case's open tasks: whether it is overdue (the overdue cases, checked per case
            # as the case list is read), its next deadline and its open-task count.
            models.Index(
                fields=["case", "due_at"], name="task_case_active", condition=models.Q(status__in=ACTIVE_TASK_STATUSES)
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.case})"

    @property
    def public_id(self) -> int:
        """What the API and the pages call this task (``core.public_ids``): never its key."""
        return public_ids.encode("task", self.pk)

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_TASK_STATUSES

    # What "still workable by this user" means, once for the database and once for Python
    # (``tests/workflows/test_rows.py`` checks that both agree on every status and assignee).
    @staticmethod
    def open_to(user_id) -> models.Q:
        """Tasks that ``user_id`` may still claim or complete: active, and not claimed by another."""
        return models.Q(status__in=ACTIVE_TASK_STATUSES) & (
            models.Q(assignee__isnull=True) | models.Q(assignee_id=user_id)
        )

    def is_open_to(self, user_id) -> bool:
        return self.status in ACTIVE_TASK_STATUSES and self.assignee_id in (None, user_id)


class TaskReader(models.Model):
    """A task once for each agency taking part in its case (in any part), in the task lists'
    order: the index the lists of one agency's reader walk (``selectors.task_inbox_for``),
    so a page costs about a page of rows however small the agency's share of the tasks
    (README "Read paths at scale"). It only narrows: whether the reader sees a row is still
    decided per row by ``permissions.rules`` (participation and grant), so a row here that
    the rules refuse (an agency whose grant was withdrawn) is never shown.

    Kept by PostgreSQL in the writing transaction (migration ``0024_task_reader``: triggers
    on the tasks and the case participants, for the steps, the bench loader, a version
    migration, an erasure alike). SQLite keeps no rows here and reads the lists as before."""

    pk = models.CompositePrimaryKey("task", "agency")
    # No foreign-key checks or indexes of their own: the triggers write these rows from
    # the tasks and participations themselves; the primary key finds a task's rows.
    task = models.ForeignKey(
        Task, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="readers"
    )
    agency = models.ForeignKey(
        "permissions.Agency", on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+"
    )
    due_at = models.DateTimeField(null=True, blank=True)  # the task's, kept equal
    active = models.BooleanField()  # the task is open or claimed

    class Meta:
        indexes = [
            models.Index(fields=["agency", "due_at", "task"], name="taskreader_list"),
            models.Index(
                fields=["agency", "due_at", "task"], name="taskreader_active", condition=models.Q(active=True)
            ),
        ]

    def __str__(self):
        return f"{self.task_id} / {self.agency_id}"


class EventKind(models.TextChoices):
    CASE_STARTED = "case_started", _("Case started")
    CASE_COMPLETED = "case_completed", _("Case completed")
    TASK_CREATED = "task_created", _("Task created")
    TASK_CLAIMED = "task_claimed", _("Task taken")
    TASK_UNCLAIMED = "task_unclaimed", _("Task released")
    TASK_COMPLETED = "task_completed", _("Task completed")
    TASK_CANCELLED = "task_cancelled", _("Task cancelled")
    HANDOFF = "handoff", _("Handoff")
    TIMER_FIRED = "timer_fired", _("Timer fired")
    MESSAGE_RECEIVED = "message_received", _("Message received")
    MESSAGE_THROWN = "message_thrown", _("Message sent")
    INCIDENT = "incident", _("Incident")
    INCIDENT_RESOLVED = "incident_resolved", _("Incident resolved")
    INCIDENT_DATA_SET = "incident_data_set", _("Data set for a retry")
    CONSENT_GIVEN = "consent_given", _("Consent given")
    CONSENT_REVOKED = "consent_revoked", _("Consent revoked")
    RESPONSIBLE_CHANGED = "responsible_changed", _("Responsible housing contact changed")
    FOLLOW_ON_STARTED = "follow_on_started", _("Follow-on case started")
    # Notes and attachments: the event names the item and its category, never its content.
    NOTE_ADDED = "note_added", _("Note added")
    NOTE_CORRECTED = "note_corrected", _("Note corrected")
    NOTE_WITHDRAWN = "note_withdrawn", _("Note withdrawn")
    ATTACHMENT_ADDED = "attachment_added", _("Attachment added")
    ATTACHMENT_WITHDRAWN = "attachment_withdrawn", _("Attachment withdrawn")
    # A value corrected on the person's request: names the field, never a value.
    VALUE_CORRECTED = "value_corrected", _("Value corrected")
    # A process admin moved the case to a new version of its process (element ids only).
    VERSION_MIGRATED = "version_migrated", _("Moved to a new process version")
    # A service task's call: the fields sent and taken (names only), never their values.
    SERVICE_CALLED = "service_called", _("Service task done")
    # The coordinator withdrew an agency from the case (its access ends): names it, with the reason.
    AGENCY_WITHDRAWN = "agency_withdrawn", _("Agency withdrawn from the case")
    # A safety warning confirmed again by its recording agency or the coordinator: names the
    # field, never its value.
    SAFETY_CONFIRMED = "safety_confirmed", _("Safety warning confirmed")


class Event(models.Model):
    """Append-only case history: the timeline and the source of analytics."""

    # No index of its own: ``event_case_time_id`` begins with the case (one entry less an event).
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events", db_index=False)
    instance = models.ForeignKey(ProcessInstance, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    task = models.ForeignKey(Task, null=True, blank=True, on_delete=models.SET_NULL, related_name="events")
    kind = models.CharField(max_length=30, choices=EventKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    agency = models.ForeignKey("permissions.Agency", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    from_agency = models.ForeignKey(
        "permissions.Agency", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    to_agency = models.ForeignKey(
        "permissions.Agency", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    element_id = models.CharField(max_length=200, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["case", "created_at", "id"], name="event_case_time_id")]

    def __str__(self):
        return f"{self.case}: {self.get_kind_display()}"

    @property
    def public_id(self) -> int:
        """What the API and the pages call this event (``core.public_ids``): never its key."""
        return public_ids.encode("event", self.pk)


# What a process admin reads for an incident's kind (the code stays the API's and the filter's
# value). A job's failure is its kind's code with "-failed" (``queue._record_incident``); its
# label is the job kind's own (``incident_kind_label``).
STEP_INCIDENT_KINDS = {
    "expression-error": _("Expression error"),
    "data-error": _("Missing or wrong data"),
    "engine-error": _("Engine error"),
    "step-limit": _("Step limit reached"),
    "state-too-large": _("Case state too large"),
    "timer-date-out-of-range": _("Timer date out of range"),
    "lane-without-participant": _("No agency in the lane"),
}


def incident_kind_label(kind: str) -> str:
    """The kind in the reader's language; an unknown code (a kind of a later version, read
    by an earlier one) as it is."""
    if kind in STEP_INCIDENT_KINDS:
        return str(STEP_INCIDENT_KINDS[kind])
    if kind.endswith("-failed"):
        job_kind = kind.removesuffix("-failed")
        if job_kind in JobKind.values:
            return gettext("Failed: {job}").format(job=JobKind(job_kind).label)
    return kind


class Incident(models.Model):
    """A step that failed: an expression error, an engine step limit, a lane with no participant.
    Or a job that failed (``job``): every job has one, even without an instance or a case
    (``queue._record_incident``), as the admins must see it."""

    instance = models.ForeignKey(
        ProcessInstance,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="incidents",
        verbose_name=_("instance"),
    )
    case = models.ForeignKey(
        Case, null=True, blank=True, on_delete=models.CASCADE, related_name="incidents", verbose_name=_("case")
    )
    element_id = models.CharField(_("element id"), max_length=200, blank=True)
    kind = models.CharField(_("kind"), max_length=40)
    error = models.TextField(_("error"))
    # ``error`` as a code of ``core.messages`` with its params (a job's own error,
    # ``workflows.jobs.errors``): shown in the reader's language. None: the text is shown.
    error_message = models.JSONField(null=True, blank=True, verbose_name=_("error message"))
    attempts = models.PositiveIntegerField(_("attempts"), default=1)
    # Failures of one kind folded into this open incident (``queue.FOLDED``: a password-reset
    # mail the mail server refuses, each request's job failing the same way), and the last
    # one's time; ``fold_key`` says which kind (the job's kind and its error), "" for none.
    occurrences = models.PositiveIntegerField(_("occurrences"), default=1, db_default=1)
    last_occurred_at = models.DateTimeField(_("last occurred at"), null=True, blank=True)
    fold_key = models.CharField(max_length=64, blank=True, default="", db_default="", verbose_name=_("fold key"))
    # Set when a job (a notification, a webhook, a timer) gave up: retry runs the job again.
    job = models.ForeignKey(
        "workflows.Job",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="incidents",
        verbose_name=_("job"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("resolved by"),
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("incident")
        verbose_name_plural = _("incidents")
        indexes = [
            models.Index(fields=["created_at", "id"], name="incident_created"),
            models.Index(
                fields=["created_at", "id"], name="incident_open", condition=models.Q(resolved_at__isnull=True)
            ),
        ]
        constraints = [
            # One open incident per kind of failure folded (two workers failing at once: one
            # opens it, the other counts on it).
            models.UniqueConstraint(
                fields=["fold_key"],
                name="incident_open_fold",
                condition=models.Q(resolved_at__isnull=True) & ~models.Q(fold_key=""),
            ),
        ]

    def __str__(self):
        where = incident_kind_label(self.kind)
        if self.element_id:
            where = gettext("{kind} at {element}").format(kind=where, element=self.element_id)
        return f"{where} ({self.case})" if self.case_id else where


class VersionMigration(models.Model):
    """One migration of running cases to a new version of their process, by a process
    admin: the audit record of the action as a whole (each case's timeline has its own
    event). ``refused`` lists the instances that stayed, with element ids and reason codes."""

    key = models.CharField(max_length=200)
    from_definition = models.ForeignKey("bpmn.ProcessDefinition", on_delete=models.PROTECT, related_name="+")
    to_definition = models.ForeignKey("bpmn.ProcessDefinition", on_delete=models.PROTECT, related_name="+")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    migrated = models.JSONField(default=list, blank=True, help_text="Instance ids moved")
    refused = models.JSONField(default=list, blank=True, help_text="[{instance, case, problems}]")

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.key} v{self.from_definition_id} -> {self.to_definition_id}"


class FailureTextScrub(models.Model):
    """One pass of ``workflows.failure_texts.rescrub``: every stored failure text (a job's last
    error, an incident's error, an incident event's) scrubbed again with the scrubber of the
    day, in batches. ``progress``: the last id done of each table (a pass broken off goes on
    from there); ``finished_at``: done, so ``manage.py serve`` and the upgrade step skip it.
    Names a pass, never a value."""

    name = models.CharField(max_length=60, unique=True)
    progress = models.JSONField(default=dict, blank=True)
    changed = models.JSONField(default=dict, blank=True)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return self.name


# The job table and the message tables live in their own module (imported for Django).
class WorkflowEviction(models.Model):
    """An instance whose cached workflow every process must drop (``bpmn.engine.workflow_cache``):
    its case was erased, corrected or its person merged, and the workflow a process kept in
    memory after its last step held the data as it was. Each process reads the newest id with
    the instance it locks for a step, and drops the instances evicted since it last looked.
    No foreign key: the row outlives an instance deleted with its case."""

    id = models.BigAutoField(primary_key=True)
    instance_id = models.BigIntegerField()
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("workflow eviction")
        verbose_name_plural = _("workflow evictions")
        # The pruning's newest old row (``runner._prune_evictions``), one index entry read.
        indexes = [models.Index(fields=["at", "id"], name="workflow_eviction_at")]

    def __str__(self):
        return f"{self.instance_id} {self.at:%Y-%m-%d %H:%M}"


from workflows.jobs.models import (  # noqa: E402
    FinishedExternalTask,
    Job,
    JobKind,
    JobStatus,
    OutboxMessage,
    OutboxStatus,
    ReceivedMessage,
    ServiceConnector,
    WorkerHeartbeat,
)
from workflows.notes import Attachment, AttachmentBlob, Note, NoteRevision  # noqa: E402
from workflows.outcomes import CaseOutcome, OutcomeKind, Tenure  # noqa: E402

__all__ = [
    "ACTIVE_TASK_STATUSES",
    "LIVE_INSTANCE_STATUSES",
    "Attachment",
    "AttachmentBlob",
    "Case",
    "CaseOutcome",
    "CaseReferenceCounter",
    "CaseStatus",
    "Event",
    "EventKind",
    "FailureTextScrub",
    "FinishedExternalTask",
    "Incident",
    "InstanceStatus",
    "Job",
    "JobKind",
    "JobStatus",
    "Note",
    "NoteRevision",
    "OutboxMessage",
    "OutboxStatus",
    "OutcomeKind",
    "Person",
    "ProcessInstance",
    "ReceivedMessage",
    "ServiceConnector",
    "Task",
    "TaskStatus",
    "Tenure",
    "VersionMigration",
    "WorkerHeartbeat",
]
