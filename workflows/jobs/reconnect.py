"""Riding out a lost database connection (a PostgreSQL restart, a failover).

A worker must never exit because PostgreSQL went away for a while: it drops the broken
connection, waits with exponential backoff (with jitter, so a fleet of workers does not
reconnect in lockstep) and carries on. Whatever it was doing rolled back with the
connection, so no job stays half-done: timers fire in the transaction that marks their
job done, and the e-mail/webhook jobs it had leased it gives back once it is connected
again (``queue.release_leases``); those of a worker that died come back when their lease
ends.
"""

from __future__ import annotations

import logging
import random
import time

import psycopg
from django.db import DatabaseError, InterfaceError, OperationalError, connection

log = logging.getLogger(__name__)

# Django wraps driver errors; the worker's LISTEN connection is bare psycopg.
UNAVAILABLE = (OperationalError, InterfaceError, psycopg.OperationalError, psycopg.InterfaceError)


def connection_lost(exc: BaseException) -> bool:
    """True when ``exc`` came from a connection that is gone, not from the statement."""
    if not isinstance(exc, UNAVAILABLE):
        return False
    raw = connection.connection
    return raw is None or bool(getattr(raw, "closed", False)) or bool(getattr(raw, "broken", False))


def drop_connection() -> None:
    """Forget the default connection; the next query opens a new one."""
    try:
        connection.close()
    except DatabaseError:
        # Closing a dead connection may fail; Django has dropped its reference either way.
        connection.connection = None


class Backoff:
    """0.5 s, 1 s, 2 s ... at most ``cap`` seconds between attempts, each with +-25 % jitter."""

    def __init__(self, *, first: float = 0.5, cap: float = 30.0):
        self.first, self.cap, self.failures = first, cap, 0

    def next_delay(self) -> float:
        delay = min(self.first * 2**self.failures, self.cap)
        self.failures += 1
        return delay * random.uniform(0.75, 1.25)  # noqa: S311 (jitter, not a secret)

    def reset(self) -> None:
        self.failures = 0


def wait_after(exc: BaseException, backoff: Backoff, sleep=time.sleep) -> float:
    """Drop the connection, log why, sleep the next backoff delay. Returns the delay."""
    drop_connection()
    delay = backoff.next_delay()
    log.warning(
        "database unavailable (%s: %s); retrying in %.1f s",
        type(exc).__name__,
        str(exc).strip().splitlines()[0] if str(exc).strip() else "",
        delay,
    )
    sleep(delay)
    return delay
