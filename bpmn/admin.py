from django.contrib import admin

from bpmn.models import ProcessDefinition


@admin.register(ProcessDefinition)
class ProcessDefinitionAdmin(admin.ModelAdmin):
    """Read-only: versions are immutable; deploy through the command, API or editor."""

    list_display = ["key", "version", "name", "deployed_by", "deployed_at", "checksum"]
    list_filter = ["key"]
    exclude = ["spec_json"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
