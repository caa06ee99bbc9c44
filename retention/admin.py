from django.contrib import admin

from permissions.admin import GatedAdmin, ReadOnlyAdmin
from retention.models import ArchiveExport, Correction, ErasureRecord, RetentionRule, RetentionRuleChange


@admin.register(RetentionRule)
class RetentionRuleAdmin(ReadOnlyAdmin):
    """The process admin's retention rules (docs/data-protection.md), read only here: they
    are set on the rules' page or through the API, whose service logs every change for the
    auditor (a change here would leave no trace)."""

    list_display = ["process_key", "category", "keep_years", "access_log_years", "in_case_file", "legal_basis"]
    list_filter = ["category", "in_case_file"]
    search_fields = ["process_key", "legal_basis"]


@admin.register(RetentionRuleChange)
class RetentionRuleChangeAdmin(ReadOnlyAdmin):
    list_display = ["changed_at", "action", "rule_id", "process_key", "category", "changed_by"]
    list_filter = ["action"]


# What the coordinator and the auditor wrote about the person's request (why erase, why
# correct, the review) is case data, as a consent's purpose and note are
# (``permissions.admin.ConsentAdmin``): the retention pages and the API show it to the case's
# coordinator and auditors. Operators read the records' states, never those texts.
FREE_TEXTS = ["reason", "review_note"]


# Erasures, archive exports and corrections name a case and what happened to it (erased on
# the person's request, the person's last case, which categories went to the archive): the
# superusers' in the admin (``GatedAdmin``); the case's coordinator and auditors read them on
# the retention pages. Until 2026-12-06 Django's view permission alone showed them to any
# staff user.
@admin.register(ErasureRecord)
class ErasureRecordAdmin(GatedAdmin, ReadOnlyAdmin):
    list_display = ["case", "trigger", "erased_at", "rule", "rule_category", "keep_years", "reviewed_at"]
    list_filter = ["trigger", "rule"]
    # Nor the person's pseudonymous key: the same in every erased case of the person, it ties
    # them together (the access log's admin hides it too).
    exclude = [*FREE_TEXTS, "person_key"]


@admin.register(ArchiveExport)
class ArchiveExportAdmin(GatedAdmin, ReadOnlyAdmin):
    list_display = ["case", "status", "requested_by", "requested_at", "done_at", "package"]
    list_filter = ["status"]


@admin.register(Correction)
class CorrectionAdmin(GatedAdmin, ReadOnlyAdmin):
    """Corrections without their old values (those stay in the table, for the audit trail) and
    without the words about the person's request."""

    list_display = ["case", "field", "category", "status", "corrected_by", "corrected_at"]
    list_filter = ["status"]
    exclude = ["old_value", "new_value", *FREE_TEXTS]
