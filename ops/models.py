from django.db import models


class RateBucket(models.Model):
    """One rate limit's state (``ops.rate_limit``): a user's API or page requests, a username's
    failed sign-ins. In the database because it is what every web process of every node
    shares (docs/security.md, "Rate limits per user"); on PostgreSQL the table is UNLOGGED
    (no WAL write per request; emptied after a crash, which only gives full buckets)."""

    key = models.CharField(primary_key=True, max_length=200)
    # The generic cell rate algorithm's "theoretical arrival time", in seconds since the
    # epoch: the bucket is full once it is in the past.
    tat = models.FloatField()

    class Meta:
        db_table = "ops_rate_bucket"

    def __str__(self) -> str:
        return self.key
