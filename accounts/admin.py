from django.contrib import admin

from accounts.models import ExternalIdentity, GroupMapping


@admin.register(GroupMapping)
class GroupMappingAdmin(admin.ModelAdmin):
    list_display = ("group", "agency", "role")
    list_filter = ("role", "agency")
    search_fields = ("group", "agency__name")


@admin.register(ExternalIdentity)
class ExternalIdentityAdmin(admin.ModelAdmin):
    list_display = ("user", "issuer", "subject", "last_login_groups")
    search_fields = ("user__username", "subject")
    readonly_fields = ("user", "issuer", "subject", "last_login_groups")
