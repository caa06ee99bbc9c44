"""Rate limits whose count every web process of every node shares: a row per bucket in the
database (``accounts.models.RateBucket``), the one store the deployment already has and that all
nodes reach (the default cache is each process's own memory; Redis is no requirement).

Each bucket is a token bucket run as the generic cell rate algorithm (GCRA): ``count``
requests per ``period`` refilled steadily (one every ``period / count`` seconds), at most
``count`` at once. Over any stretch of ``t`` seconds a client gets at most
``count + count * t / period`` requests: no window edge to send twice the rate across (the
fixed window this replaced allowed ``2 * count`` within a moment at each edge), and no list
of request times to keep. One statement per request: an upsert that takes a token only
when one is there (the row lock orders two processes' requests), and a read of the bucket
only for a refusal, to say how long to wait.

It runs in autocommit (the middleware and DRF's throttle run before any view opens a
transaction), so a row is locked for the statement only.
"""

from __future__ import annotations

import time

from django.db import connection

_TAKE = """
INSERT INTO accounts_rate_bucket (key, tat) VALUES (%(key)s, %(now)s + %(interval)s)
ON CONFLICT (key) DO UPDATE SET tat = {greatest}(accounts_rate_bucket.tat, %(now)s) + %(interval)s
WHERE {greatest}(accounts_rate_bucket.tat, %(now)s) + %(interval)s - %(now)s <= %(period)s
RETURNING tat
"""
# Rows whose bucket is full again hold nothing: the workers delete them (``prune_full``, a
# sweep of ``core.hooks.EXPIRED_ROWS``), since a name typed at the sign-in makes a row and
# names are the client's to choose. Never in a request: a request's statements do not depend
# on chance (until 2026-12-06 one request in a thousand also pruned, and the query-count tests
# saw it now and then).
PRUNE_BATCH = 1000


# The same take, for the API's token requests, inside the token's own statement
# (``accounts.tokens``): the bucket named ``prefix`` and the id of the user whose token has
# that key and digest, so a token is charged only once its holder has shown it whole (a
# prefix alone, which anyone may guess, charges nothing). The statement returns the token;
# ``EXISTS (SELECT FROM taken)`` says whether a token was there.
_TAKE_WITH_TOKEN = """
WITH taken AS (
INSERT INTO accounts_rate_bucket (key, tat)
SELECT %s || token.user_id::text, %s + %s FROM knox_authtoken token WHERE token.token_key = %s AND token.digest = %s
ON CONFLICT (key) DO UPDATE SET tat = GREATEST(accounts_rate_bucket.tat, %s) + %s
WHERE GREATEST(accounts_rate_bucket.tat, %s) + %s - %s <= %s
RETURNING tat
)"""  # noqa: S105 (SQL, no password)
TAKEN_WITH_TOKEN = "EXISTS (SELECT FROM taken)"  # noqa: S105 (SQL, no password)


def take_with_token(
    prefix: str, count: int, period: float, *, token_key: str, digest: str, now: float
) -> tuple[str, list]:
    """The ``WITH`` clause and its values that take one token from the bucket ``prefix`` +
    the id of the user of the API token with ``token_key`` and ``digest`` (``take``'s
    upsert); ``TAKEN_WITH_TOKEN`` then says whether it took one."""
    interval = period / count
    return _TAKE_WITH_TOKEN, [prefix, now, interval, token_key, digest, now, interval, now, interval, now, period]


def prune_full(*, limit: int = PRUNE_BATCH, now: float | None = None) -> int:
    """Delete up to ``limit`` rows whose bucket is full again (their last take refilled by
    ``now``); how many. Such a row holds nothing a take needs: a missing row is a full bucket.
    On PostgreSQL the rows are taken with ``SKIP LOCKED``: two workers pruning at once delete
    different rows, and a request taking from a bucket is never waited for."""
    now = time.time() if now is None else now
    skip_locked = " FOR UPDATE SKIP LOCKED" if connection.vendor == "postgresql" else ""
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM accounts_rate_bucket WHERE key IN ("  # noqa: S608 - a constant clause, values bound
            f"SELECT key FROM accounts_rate_bucket WHERE tat < %s LIMIT %s{skip_locked})",
            [now, limit],
        )
        return cursor.rowcount


def take(key: str, count: int, period: float, *, now: float | None = None) -> float | None:
    """Take one token from ``key``'s bucket of ``count`` per ``period`` seconds: None when
    there was one, else the seconds until there is."""
    now = time.time() if now is None else now
    interval = period / count
    greatest = "GREATEST" if connection.vendor == "postgresql" else "MAX"
    params: dict[str, str | float] = {"key": key, "now": now, "interval": interval, "period": period}
    with connection.cursor() as cursor:
        cursor.execute(_TAKE.format(greatest=greatest), params)
        taken = cursor.fetchone() is not None
        if taken:
            return None
        cursor.execute("SELECT tat FROM accounts_rate_bucket WHERE key = %s", [key])
        row = cursor.fetchone()
    if row is None:  # pruned by another process in between: the bucket is full
        return None
    return max(row[0] + interval - period - now, 0.0)


def wait(key: str, count: int, period: float, *, now: float | None = None) -> float:
    """The seconds until ``key``'s bucket of ``count`` per ``period`` has a token (0: it has
    one now; read only: nothing taken)."""
    now = time.time() if now is None else now
    with connection.cursor() as cursor:
        cursor.execute("SELECT tat FROM accounts_rate_bucket WHERE key = %s", [key])
        row = cursor.fetchone()
    return 0.0 if row is None else max(row[0] + period / count - period - now, 0.0)


def empty(key: str, count: int, period: float, *, now: float | None = None) -> bool:
    """No token left in ``key``'s bucket of ``count`` per ``period`` (read only: nothing taken)."""
    now = time.time() if now is None else now
    with connection.cursor() as cursor:
        cursor.execute("SELECT tat FROM accounts_rate_bucket WHERE key = %s", [key])
        row = cursor.fetchone()
    return row is not None and row[0] + period / count - now > period


def give_back(key: str, count: int, period: float) -> None:
    """Undo one ``take`` from ``key``'s bucket of ``count`` per ``period`` (a request taken
    from that turned out not to be the bucket owner's: ``accounts.tokens``)."""
    with connection.cursor() as cursor:
        cursor.execute("UPDATE accounts_rate_bucket SET tat = tat - %s WHERE key = %s", [period / count, key])


def forget(key: str) -> None:
    """Fill ``key``'s bucket again (its row deleted)."""
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM accounts_rate_bucket WHERE key = %s", [key])
