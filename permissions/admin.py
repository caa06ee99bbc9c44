from django.contrib import admin

from permissions.models import AccessLog, Agency, Consent, Membership


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Agency)
class AgencyAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "municipality", "notification_email"]
    list_filter = ["kind"]
    search_fields = ["name"]
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "agency", "role"]
    list_filter = ["role", "agency"]


class ReadOnlyAdmin(admin.ModelAdmin):
    """Shown, never changed here: consents change through the services (with an event),
    the access log never changes."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Consent)
class ConsentAdmin(ReadOnlyAdmin):
    list_display = ["id", "person", "case", "agency", "agency_kind", "basis", "given_at", "expires_at", "revoked_at"]
    list_filter = ["basis", "agency_kind"]
    raw_id_fields = ["person", "case"]


@admin.register(AccessLog)
class AccessLogAdmin(ReadOnlyAdmin):
    list_display = ["at", "username", "role", "agency", "case", "category", "action", "basis"]
    list_filter = ["action", "category", "role"]
    search_fields = ["username", "basis"]
    date_hierarchy = "at"
