"""Retention rules: how long a closed case's data is kept, per process and data category.

A rule with an empty process applies to every process, an empty category to every
category; the most specific rule wins (``retention.rules.rule_for``). Without any rule the
defaults of the settings apply (``RETENTION_CASE_YEARS``, ``RETENTION_ACCESS_LOG_YEARS``,
``RETENTION_CASE_FILE_CATEGORIES``; docs/data-protection.md says why these).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from permissions.models import ALL_CATEGORIES, CATEGORY_LABELS

CATEGORY_CHOICES = [("", _("every category"))] + [(category, category) for category in ALL_CATEGORIES]


class RetentionRule(models.Model):
    process_key = models.CharField(
        _("process"), max_length=200, blank=True, help_text=_("The process key; empty: every process.")
    )
    category = models.CharField(
        _("data category"),
        max_length=20,
        blank=True,
        choices=CATEGORY_CHOICES,
        help_text=_("Empty: every category without a rule of its own."),
    )
    keep_years = models.PositiveSmallIntegerField(
        _("years kept after the case closes"),
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text=_("The case's data is erased when the longest period of its categories has passed."),
    )
    access_log_years = models.PositiveSmallIntegerField(
        _("years the access log is kept after erasure"),
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text=_(
            "The access log outlives the data it describes, so the person can still ask who saw it; "
            "its person is then only a pseudonymous key."
        ),
    )
    in_case_file = models.BooleanField(
        _("part of the archived case file"),
        default=False,
        help_text=_("Fields and notes of this category go into the case file handed to the archive."),
    )
    legal_basis = models.CharField(
        _("legal basis"),
        max_length=300,
        help_text=_("The law or decision that sets this period, e.g. arkivforskriften or the municipality's plan."),
    )
    changed_at = models.DateTimeField(auto_now=True, verbose_name=_("changed at"))
    # Counts the rule's changes: a change made from an older version is refused (409), so
    # that of two process admins editing one rule the second does not silently undo the
    # first's change (``retention.services.save_retention_rule``).
    version = models.PositiveIntegerField(default=1, verbose_name=_("version"))

    class Meta:
        ordering = ["process_key", "category"]
        verbose_name = _("retention rule")
        verbose_name_plural = _("retention rules")
        constraints = [
            models.UniqueConstraint(fields=["process_key", "category"], name="unique_retention_rule"),
            models.CheckConstraint(
                condition=models.Q(category="") | models.Q(category__in=ALL_CATEGORIES),
                name="retention_rule_known_category",
            ),
            models.CheckConstraint(condition=models.Q(keep_years__gte=1), name="retention_keep_at_least_a_year"),
            models.CheckConstraint(
                condition=models.Q(access_log_years__gte=1), name="retention_access_log_outlives_data"
            ),
        ]

    def __str__(self):
        return gettext("{process} / {category}: {years} years").format(
            process=self.process_key or gettext("all processes"),
            category=CATEGORY_LABELS.get(self.category, self.category) if self.category else gettext("every category"),
            years=self.keep_years,
        )


class RuleChange(models.TextChoices):
    CREATED = "created", _("added")
    CHANGED = "changed", _("changed")
    DELETED = "deleted", _("deleted")


class RetentionRuleChange(models.Model):
    """One change of a retention rule, for the auditor: who, when, which rule, its values
    before and after. Written in the transaction of the change by the one service the page
    and the API share (``retention.services``); never changed or deleted. Holds no personal
    data but the process admin's user. Kept as long as the erasure records that name the
    rule by its id (``rule:<id>``), so the auditor can tell which values an erasure followed."""

    rule_id = models.PositiveIntegerField(
        help_text=_("The rule's id (the rule may be deleted since)"), verbose_name=_("rule id")
    )
    action = models.CharField(max_length=10, choices=RuleChange.choices, verbose_name=_("action"))
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("changed by")
    )
    changed_at = models.DateTimeField(verbose_name=_("changed at"))
    process_key = models.CharField(
        max_length=200, blank=True, help_text=_("The rule's process after the change"), verbose_name=_("process key")
    )
    category = models.CharField(
        max_length=20, blank=True, help_text=_("The rule's category after the change"), verbose_name=_("category")
    )
    before = models.JSONField(
        null=True, blank=True, help_text=_("The rule's values before (none: added)"), verbose_name=_("before")
    )
    after = models.JSONField(
        null=True, blank=True, help_text=_("The rule's values after (none: deleted)"), verbose_name=_("after")
    )

    class Meta:
        ordering = ["-changed_at", "-id"]
        verbose_name = _("retention rule change")
        verbose_name_plural = _("retention rule changes")
        indexes = [models.Index(fields=["-changed_at", "-id"], name="retention_rule_change_newest")]

    def __str__(self):
        return gettext("rule {id} {action} {date}").format(
            id=self.rule_id, action=self.get_action_display(), date=f"{self.changed_at:%Y-%m-%d}"
        )


class ErasureTrigger(models.TextChoices):
    RETENTION = "retention", _("retention period passed")
    REQUEST = "request", _("the person's request")


# The kinds of ``ErasureRecord.removed`` (counted by ``retention.erasure``) for what an erasure
# did beyond its own case: the person row deleted (their last case) or renamed
# (this was their first), the rows about the person without a case. These tell whether the
# person has other cases, so only the auditors of the case's coordinating agency are told them
# (``retention.selectors.removed_told_to``); its coordinator, who may have started the case
# with any national id, and the other agencies' auditors are not.
PERSON_WIDE_REMOVALS = frozenset(
    {
        "persons",
        "person_names",
        "person_admin_log_entries",
        "person_access_log_rows_pseudonymised",
        "person_access_log_rows_deleted",
    }
)


class ErasureRecord(models.Model):
    """That a case's personal data was erased: when, why, by which rule, and how much.

    Holds no personal data (the case is a tombstone by then) beyond the person's
    pseudonymous key, which it holds only until the person's access log without a case is
    deleted: the auditor's record, kept as long as the case row.
    """

    case = models.OneToOneField(
        "workflows.Case", on_delete=models.PROTECT, related_name="erasure", verbose_name=_("case")
    )
    trigger = models.CharField(max_length=20, choices=ErasureTrigger.choices, verbose_name=_("trigger"))
    erased_at = models.DateTimeField(verbose_name=_("erased at"))
    closed_at = models.DateTimeField(null=True, help_text=_("When the case closed"), verbose_name=_("closed at"))
    due_at = models.DateTimeField(
        null=True, help_text=_("When its retention ended (by the rule below)"), verbose_name=_("due at")
    )
    rule = models.CharField(max_length=40, help_text=_('"rule:<id>" or "default"'), verbose_name=_("rule"))
    rule_category = models.CharField(
        max_length=20, help_text=_("The category whose period decided"), verbose_name=_("rule category")
    )
    keep_years = models.PositiveSmallIntegerField(verbose_name=_("keep years"))
    legal_basis = models.CharField(max_length=300, verbose_name=_("legal basis"))
    access_log_until = models.DateTimeField(
        help_text=_("The access log of the case is kept until then, pseudonymised"), verbose_name=_("access log until")
    )
    access_log_deleted_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text=_("When the retention job deleted the access log of the case (its period over)"),
        verbose_name=_("access log deleted at"),
    )
    # The person's pseudonymous key (as in the access log) while access-log rows about the
    # person without a case may still need this record's period: those rows are deleted
    # when the periods of all the person's erased cases are over, and the key is emptied
    # then (``retention.erasure.delete_access_log``).
    person_key = models.CharField(
        max_length=64,
        blank=True,
        db_index=True,
        help_text=_("The person's pseudonymous key, until their log is gone"),
        verbose_name=_("person key"),
    )
    person_erased = models.BooleanField(
        default=False,
        help_text=_("This erasure removed the person's last case (the person row was deleted)"),
        verbose_name=_("person erased"),
    )
    removed = models.JSONField(
        default=dict, help_text=_("What was removed or emptied, counted per kind"), verbose_name=_("removed")
    )
    job = models.ForeignKey(
        "workflows.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("job")
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("requested by"),
    )
    reason = models.TextField(blank=True, help_text=_("Why, for an erasure on request"), verbose_name=_("reason"))
    # An erasure on request is reviewed by an auditor afterwards (GDPR art. 17 needs a
    # ground; the auditor checks the coordinator named one that holds).
    reviewed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("reviewed at"))
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("reviewed by"),
    )
    review_note = models.TextField(blank=True, verbose_name=_("review note"))

    class Meta:
        ordering = ["-erased_at", "-id"]
        verbose_name = _("erasure")
        verbose_name_plural = _("erasures")

    def __str__(self):
        return gettext("{case} erased {date} ({trigger})").format(
            case=self.case, date=f"{self.erased_at:%Y-%m-%d}", trigger=self.get_trigger_display()
        )


class CorrectionStatus(models.TextChoices):
    DONE = "done", _("corrected")
    # A national id waits for an auditor of the coordinating agency: whether another person
    # holds it is told to them only, never to the coordinator who asked.
    WAITING = "waiting", _("waiting for review")
    # Confirmed, but another person holds the number: the auditor merges the two persons or
    # refuses (``retention.services.merge_persons``); the coordinator reads it as waiting.
    MERGE = "merge", _("another person holds the number: waiting for the auditor to merge the persons")
    REFUSED = "refused", _("not carried out after the auditor's review")


class Correction(models.Model):
    """A wrong value corrected on the person's request (GDPR art. 16): the old value is kept
    here only, for the audit trail, and goes with the rest when the case is erased. A national
    id is asked for first (``new_value``, ``WAITING``) and changed when an auditor confirms."""

    case = models.ForeignKey(
        "workflows.Case", on_delete=models.CASCADE, related_name="corrections", verbose_name=_("case")
    )
    field = models.CharField(
        max_length=200, help_text=_('A form field, or "person.name" / "person.national_id"'), verbose_name=_("field")
    )
    category = models.CharField(max_length=20, verbose_name=_("category"))
    old_value = models.JSONField(null=True, verbose_name=_("old value"))
    reason = models.TextField(verbose_name=_("reason"))
    corrected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("corrected by")
    )
    # The agency the correction was made for (the one that recorded the value, or the
    # coordinating agency): the room for corrections is counted per agency, so one agency
    # does not fill a case's room and block the others (``services._check_room``).
    agency = models.ForeignKey(
        "permissions.Agency", on_delete=models.PROTECT, related_name="+", verbose_name=_("agency")
    )
    corrected_at = models.DateTimeField(verbose_name=_("corrected at"))
    status = models.CharField(
        max_length=20, choices=CorrectionStatus.choices, default=CorrectionStatus.DONE, verbose_name=_("status")
    )
    new_value = models.JSONField(
        null=True,
        blank=True,
        help_text=_("The national id asked for, until it is decided"),
        verbose_name=_("new value"),
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("reviewed by"),
    )
    reviewed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("reviewed at"))
    review_note = models.TextField(blank=True, verbose_name=_("review note"))

    class Meta:
        ordering = ["-corrected_at", "-id"]
        indexes = [models.Index(fields=["case", "agency"], name="correction_case_agency")]
        verbose_name = _("correction")
        verbose_name_plural = _("corrections")

    def __str__(self):
        return f"{self.case}: {self.field} ({self.get_status_display()}, {self.corrected_at:%Y-%m-%d})"

    @property
    def status_for_case(self) -> str:
        """The status the case's coordinator and the API read. A number another person holds
        reads as waiting, as it did before the auditor's first decision, until the auditor
        merges the persons (done) or refuses (refused): the coordinator reads the same steps
        as for a number nobody holds, so they learn nothing of whether it is in use. The
        auditor's first decision is logged about the holder, not in this case's log
        (``retention.services.merge_persons``): a review row beside a status that did not
        move would tell them (a probe found that once)."""
        return CorrectionStatus.WAITING if self.status == CorrectionStatus.MERGE else self.status


class ArchiveStatus(models.TextChoices):
    PENDING = "pending", _("pending")
    DONE = "done", _("handed to the archive")
    FAILED = "failed", _("failed")


class ArchiveExport(models.Model):
    """A closed case's case file handed to the municipality's archive (arkivlova): the
    archive duty is met once one is done, and only then may the case be erased."""

    case = models.ForeignKey(
        "workflows.Case", on_delete=models.PROTECT, related_name="archive_exports", verbose_name=_("case")
    )
    status = models.CharField(
        max_length=20, choices=ArchiveStatus.choices, default=ArchiveStatus.PENDING, verbose_name=_("status")
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("requested by"),
    )
    requested_at = models.DateTimeField(verbose_name=_("requested at"))
    job = models.ForeignKey(
        "workflows.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("job")
    )
    done_at = models.DateTimeField(null=True, blank=True, verbose_name=_("done at"))
    package = models.CharField(
        max_length=200, blank=True, help_text=_("The package's name where it was delivered"), verbose_name=_("package")
    )
    sha256 = models.CharField(
        max_length=64, blank=True, help_text=_("Of the package as delivered"), verbose_name=_("sha256")
    )
    # Seeds the Noark systemIDs of the package (``retention.archive.arkivstruktur``): random
    # per export and kept, so every attempt of one export builds the same bytes.
    package_key = models.UUIDField(default=uuid.uuid4, editable=False, verbose_name=_("package key"))
    # The package as it may already be in the archive under this export's key (posted, its
    # answer lost; or the case file corrected while the export waited): every later attempt
    # posts these bytes, never a rebuild (``retention.archive.write_package``). Personal
    # data: emptied once the archive has it, and by the erasure.
    body = models.BinaryField(null=True, blank=True, editable=False, verbose_name=_("body"))
    body_categories = models.CharField(
        max_length=200,
        blank=True,
        help_text=_("The data categories the kept package carries, comma-separated"),
        verbose_name=_("body categories"),
    )
    replaces = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("The export this one corrects: queued when the case file was corrected after it"),
        verbose_name=_("replaces"),
    )

    class Meta:
        ordering = ["-requested_at", "-id"]
        verbose_name = _("archive export")
        verbose_name_plural = _("archive exports")

    def __str__(self):
        return gettext("archive export of {case} ({status})").format(case=self.case, status=self.get_status_display())
