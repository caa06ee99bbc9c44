from django.contrib import admin

from .models import Incident


@admin.register(Incident)
class IncidentAdmin(admin.ModelAdmin):
    """Incidents carry no case data: the error, the element and the attempts."""

    list_display = ["id", "kind", "element_id", "attempts", "created_at", "resolved_at"]
    list_filter = ["kind", "resolved_at"]
    readonly_fields = ["instance", "case", "element_id", "kind", "error", "attempts", "created_at",
                       "resolved_at", "resolved_by"]
