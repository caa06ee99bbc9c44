from datetime import UTC, datetime

from django.contrib import admin

from .models import RateBucket


@admin.register(RateBucket)
class RateBucketAdmin(admin.ModelAdmin):
    """The rate limits' buckets (``ops.rate_limit``): ``login:<username>`` is a username's
    failed sign-ins from every address; deleting it lifts that lock (docs/security.md)."""

    list_display = ("key", "full_again_at")
    search_fields = ("key",)

    @admin.display(description="full again at")
    def full_again_at(self, bucket: RateBucket) -> datetime:
        return datetime.fromtimestamp(bucket.tat, tz=UTC)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
