from django.contrib import admin

from retention.models import RetentionRule


@admin.register(RetentionRule)
class RetentionRuleAdmin(admin.ModelAdmin):
    """The process admin's retention rules (docs/data-protection.md). A rule applies to
    cases closed before and after it is changed: the erasure job reads it when it runs."""

    list_display = ["process_key", "category", "keep_years", "access_log_years", "in_case_file", "legal_basis"]
    list_filter = ["category", "in_case_file"]
    search_fields = ["process_key", "legal_basis"]
