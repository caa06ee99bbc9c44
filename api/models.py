from django.conf import settings
from django.db import models


class IdempotencyKey(models.Model):
    """The first successful answer to a request sent with an ``Idempotency-Key`` header.

    Keys are per user. The row is inserted in the same transaction as the action it
    guards, so a request whose action failed leaves no key behind (it had no effect and
    may simply be sent again), and a second request with the same key waits on the unique
    index until the first commits, then replays its answer.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=500)
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of method, path and body")
    status_code = models.PositiveSmallIntegerField()
    response_body = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="unique_idempotency_key_per_user")]
        indexes = [models.Index(fields=["created_at"], name="idempotency_key_age")]  # the daily purge

    def __str__(self):
        return f"{self.user_id} {self.key}"
