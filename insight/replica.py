"""Leaders' reports from a read replica (``DATABASE_REPLICA_URL``); everything else from the primary.

A streaming replica lags the primary by milliseconds to seconds. That is harmless for the
insight figures (aggregates over summary rows, already a month behind by design) and
wrong for everything a caseworker reads: a list read from a lagging replica would still
show a case to an agency withdrawn from it a second ago, a consent just revoked would
still share, and the task just completed would still be open. So only the summary models
of ``REPORT_APPS``, and only inside ``reading_reports`` (the insight pages and exports),
are read from the replica; the memberships that decide who may read a report, and every
write, stay on the primary. The caseworkers' lists do not need a replica to scale: they
answer from an index at a million tasks (README, "Read paths at scale").

A replica that lags more than ``REPLICA_MAX_LAG_SECONDS`` or cannot be reached is left
alone for ``CHECK_SECONDS``: the reports are read from the primary meanwhile, and a
report whose replica read failed is read again from the primary (never a 500 for it).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TypeVar

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections, router
from django.db.models import Model

REPLICA = "replica"
# The apps whose models a report may read from the replica: summary rows, no case data.
REPORT_APPS = frozenset({"insight"})
# How long a replica's state (its lag, or that it failed) is trusted before it is asked again.
CHECK_SECONDS = 5.0

# What the lag is read from: the primary's WAL position first, then how far the replica has
# replayed, and when it replayed its last transaction (``lag_from``).
PRIMARY_SQL = "SELECT pg_current_wal_lsn() - '0/0'::pg_lsn"
REPLICA_SQL = (
    "SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn() - '0/0'::pg_lsn,"
    " EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())"
)


def lag_from(*, recovering: bool, primary_lsn, replayed_lsn, since_replay) -> float:
    """The replica's lag in seconds: none on a server that is not replaying (a replica
    address that reaches a primary), nor on one that has replayed all the primary had
    written when the check began; else the time since the last transaction it replayed.
    Not "all it has received": a standby whose stream from the primary broke has replayed
    all it received and would read as current for ever, while the workers' heartbeats (every
    10 s) move the primary on."""
    if not recovering:
        return 0.0
    if replayed_lsn is not None and primary_lsn is not None and replayed_lsn >= primary_lsn:
        return 0.0
    return float(since_replay) if since_replay is not None else float("inf")


_reading_reports: ContextVar[bool] = ContextVar("reading_reports", default=False)
T = TypeVar("T")


@dataclass
class State:
    """What the last check found: ``lag`` in seconds, or None when it could not be reached."""

    checked_at: float
    lag: float | None

    @property
    def usable(self) -> bool:
        return self.lag is not None and self.lag <= settings.REPLICA_MAX_LAG_SECONDS

    @property
    def name(self) -> str:
        return "unreachable" if self.lag is None else "ok" if self.usable else "lagging"


_state: State | None = None
_state_lock = threading.Lock()


def configured() -> bool:
    """Reports are routed to a replica: ``DATABASE_REPLICA_URL`` installed the router."""
    return any(isinstance(each, ReportsToReplica) for each in router.routers)


def measure_lag() -> float:
    """The replica's lag in seconds, asked now (a ``DatabaseError`` when it does not answer)."""
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute(PRIMARY_SQL)
        (primary_lsn,) = cursor.fetchone()
    with connections[REPLICA].cursor() as cursor:
        cursor.execute(REPLICA_SQL)
        recovering, replayed_lsn, since_replay = cursor.fetchone()
    return lag_from(
        recovering=recovering, primary_lsn=primary_lsn, replayed_lsn=replayed_lsn, since_replay=since_replay
    )


def _replica_answers() -> bool:
    try:
        with connections[REPLICA].cursor() as cursor:
            cursor.execute("SELECT 1")
        return True
    except DatabaseError:
        return False


def state() -> State | None:
    """The replica's state, asked at most every ``CHECK_SECONDS`` per process; None when no
    replica is configured."""
    global _state
    if not configured():
        return None
    with _state_lock:
        if _state is not None and time.monotonic() - _state.checked_at < CHECK_SECONDS:
            return _state
    try:
        lag: float | None = measure_lag()
    except DatabaseError:
        connections[REPLICA].close()  # a broken connection is not kept for the next check
        lag = None
    found = State(checked_at=time.monotonic(), lag=lag)
    with _state_lock:
        _state = found
    return found


def last_found() -> State | None:
    """The state the last check found, however old, without asking the replica (None: not
    asked yet): for ``/readyz``, which answers at once whatever the replica does (one that
    drops packets holds each check for its connect timeout, longer than a probe waits)."""
    with _state_lock:
        return _state


def _set_unreachable() -> None:
    global _state
    connections[REPLICA].close()
    with _state_lock:
        _state = State(checked_at=time.monotonic(), lag=None)


def forget() -> None:
    """Ask the replica again at the next read (tests; a changed configuration)."""
    global _state
    with _state_lock:
        _state = None


@contextmanager
def _reports() -> Iterator[None]:
    token = _reading_reports.set(True)
    try:
        yield
    finally:
        _reading_reports.reset(token)


def reading_reports(read: Callable[[], T]) -> T:
    """``read()`` with the report models read from the replica while it is usable; read
    again from the primary when the replica fails during it."""
    current = state()
    if current is None or not current.usable:
        return read()
    refused: list[DatabaseError] = []

    def watch(
        execute: Callable[..., object], sql: str, params: object, many: bool, context: dict[str, object]
    ) -> object:
        try:
            return execute(sql, params, many, context)
        except DatabaseError as exc:
            refused.append(exc)
            raise

    try:
        with _reports(), connections[REPLICA].execute_wrapper(watch):
            return read()
    except DatabaseError:
        # A statement the replica refused while it still answers (a hot standby cancels one
        # that conflicts with the WAL it replays, or outlasts its timeout) is read again from
        # the primary; one it could not be asked (a lost connection) when it no longer answers.
        if not refused:
            if _replica_answers():
                raise  # the primary's error, or the read's own: not the replica's to hide
            _set_unreachable()  # the replica failed: the same read from the primary below
    return read()


class ReportsToReplica:
    """The database router installed with ``DATABASE_REPLICA_URL`` (``DATABASE_ROUTERS``)."""

    def db_for_read(self, model: type[Model], **hints: object) -> str | None:
        if _reading_reports.get() and model._meta.app_label in REPORT_APPS:
            return REPLICA
        return None  # the primary

    def db_for_write(self, model: type[Model], **hints: object) -> str | None:
        return None  # the primary, always

    def allow_migrate(self, db: str, app_label: str, **hints: object) -> bool | None:
        if db == REPLICA:
            return False  # the replica follows the primary's schema by replication
        return None
