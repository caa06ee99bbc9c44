"""Expired sessions are deleted by the workers (``Worker.prune_sessions``).

Sessions live in the database (``SESSION_ENGINE = "accounts.sessions"``, Django's
``django_session`` table). A session ends for its browser when it expires, but its row stays
until something deletes it, and a row may hold what a person typed about someone: a consent
form sent back with errors keeps its purpose and note in the session for the next page. Django
leaves that to ``manage.py clearsessions``, which nothing ran; the workers do it instead, in
small batches over the table's index on ``expire_date``.
"""

from __future__ import annotations

from django.contrib.sessions.models import Session
from django.db import connection
from django.utils import timezone

PRUNE_BATCH = 500


def prune_expired(*, limit: int | None = None) -> int:
    """Delete up to ``limit`` (``PRUNE_BATCH``) sessions that have expired, oldest first;
    returns how many. A live session is never touched. On PostgreSQL one statement over the
    ``expire_date`` index whose rows are taken with ``SKIP LOCKED``: two workers pruning at once
    delete different rows and never wait for each other (or for a request saving a session)."""
    cutoff, limit = timezone.now(), limit or PRUNE_BATCH
    if connection.vendor != "postgresql":  # SQLite (the demo): one writer
        doomed = Session.objects.filter(expire_date__lt=cutoff).order_by("expire_date")
        keys = list(doomed.values_list("pk", flat=True)[:limit])
        return Session.objects.filter(pk__in=keys).delete()[1].get(Session._meta.label, 0)
    ops = connection.ops
    table = ops.quote_name(Session._meta.db_table)
    # Table name only: the values travel as parameters.
    sql = (
        f"WITH doomed AS (SELECT session_key FROM {table} WHERE expire_date < %s "  # noqa: S608
        "ORDER BY expire_date LIMIT %s FOR UPDATE SKIP LOCKED), "
        f"gone AS (DELETE FROM {table} WHERE session_key IN (SELECT session_key FROM doomed) RETURNING 1) "
        "SELECT COUNT(*) FROM gone"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [ops.adapt_datetimefield_value(cutoff), limit])
        return cursor.fetchone()[0]
