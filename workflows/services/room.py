"""Room for a repeatable write: a user or an agency does it a bounded number of times in a case
or on a task (claims, messages, changes of the responsible contact, emergency openings), each
an event of the case's timeline or a row an auditor reviews, so that no one participant makes
a case's timeline, its engine state or its reviews grow without end."""

from __future__ import annotations

from django.db.models import QuerySet

from core.errors import Conflict


def refuse_when_full(made: QuerySet, limit: int, *, code: str, **params) -> None:
    """Conflict ``code`` (with ``limit`` and ``params``) when ``made`` holds ``limit`` rows or
    more: counted no further than the limit, unordered. Read it with the lock the write takes,
    so that of two writes at once for the last room one is refused."""
    if made.order_by()[:limit].count() >= limit:
        raise Conflict(code, limit=limit, **params)
