"""What autovacuum's ``ANALYZE`` would do during a bench run, on a server where it is off.

A production server runs autovacuum (the default); this machine's shared PostgreSQL has it
off, and its configuration is not the bench's to change. So while a run grows the tables,
the bench analyzes a table when autovacuum would: once the rows changed since its last
analysis (``pg_stat_user_tables.n_mod_since_analyze``) exceed
``autovacuum_analyze_threshold + autovacuum_analyze_scale_factor x reltuples`` (the table's
own storage parameters first, as autovacuum reads them; a table with ``autovacuum_enabled``
off is left alone). Polled every ``interval`` seconds in its own connection; autovacuum's
launcher visits a database once a ``autovacuum_naptime`` (a minute), which on a live
database's large tables changes little but would let a 30 s run see none. Only ``ANALYZE``:
no ``VACUUM`` (dead rows, the visibility map), which a run of a minute hardly needs.

On a server with autovacuum on (or ``track_counts`` off, without which it has nothing to
go by) it does nothing: the server's own does it.
"""

from __future__ import annotations

import contextlib
import threading
import time
from dataclasses import dataclass

import psycopg
from psycopg import sql

STATS = """
SELECT s.schemaname, s.relname, c.reltuples, s.n_mod_since_analyze, coalesce(c.reloptions, '{}')
FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid
WHERE c.relkind = 'r'
"""


@dataclass(frozen=True)
class Settings:
    autovacuum: bool
    track_counts: bool
    threshold: int  # autovacuum_analyze_threshold
    scale_factor: float  # autovacuum_analyze_scale_factor

    @property
    def needed(self) -> bool:
        """Whether the bench must do autovacuum's analyzing itself."""
        return not self.autovacuum and self.track_counts


@dataclass(frozen=True)
class TableStats:
    schema: str
    name: str
    reltuples: float  # -1 when never analyzed or vacuumed (PostgreSQL 14+)
    changed: int  # n_mod_since_analyze
    options: tuple[str, ...] = ()  # pg_class.reloptions, "name=value"


def read_settings(connection: psycopg.Connection) -> Settings:
    def show(name: str) -> str:
        row = connection.execute(sql.SQL("SHOW {}").format(sql.Identifier(name))).fetchone()
        return str(row[0]) if row else ""

    return Settings(
        autovacuum=show("autovacuum") == "on",
        track_counts=show("track_counts") == "on",
        threshold=int(show("autovacuum_analyze_threshold")),
        scale_factor=float(show("autovacuum_analyze_scale_factor")),
    )


def _option(options: tuple[str, ...], name: str) -> str | None:
    for option in options:
        key, _, value = option.partition("=")
        if key == name:
            return value
    return None


def due(table: TableStats, settings: Settings) -> bool:
    """Whether autovacuum would analyze ``table`` now (``relation_needs_vacanalyze``)."""
    if (_option(table.options, "autovacuum_enabled") or "true").lower() in {"false", "off", "0", "no"}:
        return False
    threshold = _option(table.options, "autovacuum_analyze_threshold")
    scale_factor = _option(table.options, "autovacuum_analyze_scale_factor")
    base = int(threshold) if threshold is not None else settings.threshold
    scale = float(scale_factor) if scale_factor is not None else settings.scale_factor
    return table.changed > base + scale * max(table.reltuples, 0.0)


class AutoAnalyze:
    """``start()`` a poller that analyzes each table when autovacuum would; ``stop()`` it.
    ``analyzed``: (seconds since start, "schema.table") of each ``ANALYZE`` it ran."""

    def __init__(self, database_url: str, *, interval: float = 2.0):
        self.database_url = database_url
        self.interval = interval
        self.analyzed: list[tuple[float, str]] = []
        self.settings: Settings | None = None
        self.backend_pid: int | None = None
        self.error: BaseException | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._connection: psycopg.Connection | None = None
        self._began = 0.0

    @property
    def active(self) -> bool:
        return self._connection is not None

    def open(self, settings: Settings | None = None) -> bool:
        """Connect and read the server's settings (``settings``: as if it had these); keep the
        connection when the bench must analyze. Whether it must."""
        connection = psycopg.connect(self.database_url, autocommit=True)
        self.settings = settings or read_settings(connection)
        if not self.settings.needed:
            connection.close()
            return False
        self._connection = connection
        self.backend_pid = connection.info.backend_pid
        self._began = time.monotonic()
        return True

    def start(self) -> AutoAnalyze:
        """Connect (the backend is there before a measured window opens, so its CPU counts in
        PostgreSQL's) and poll, unless the server's autovacuum does it."""
        if self.open():
            # A thread, or under locust's gevent a greenlet (psycopg waits cooperatively there).
            self._thread = threading.Thread(target=self._run, name="bench-autoanalyze", daemon=True)
            self._thread.start()
        return self

    def poll_once(self) -> list[str]:
        """Analyze the tables that are due; their names."""
        assert self._connection is not None and self.settings is not None
        tables = [TableStats(row[0], row[1], row[2], row[3], tuple(row[4])) for row in self._connection.execute(STATS)]
        done = []
        for table in tables:
            if due(table, self.settings):
                statement = sql.SQL("ANALYZE {}.{}").format(sql.Identifier(table.schema), sql.Identifier(table.name))
                self._connection.execute(statement)
                name = f"{table.schema}.{table.name}"
                self.analyzed.append((round(time.monotonic() - self._began, 1), name))
                done.append(name)
        return done

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.poll_once()
            except psycopg.Error as error:  # the database dropped at the end, or gone
                self.error = error
                return

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        if self._connection is not None:
            with contextlib.suppress(psycopg.Error):
                self._connection.close()

    def count_since(self, seconds: float) -> int:
        """How many ``ANALYZE`` ran from ``seconds`` after the start on."""
        return sum(1 for at, _name in self.analyzed if at >= seconds)

    def elapsed(self) -> float:
        return time.monotonic() - self._began if self._began else 0.0

    def summary(self) -> dict:
        tables: dict[str, int] = {}
        for _at, name in self.analyzed:
            tables[name] = tables.get(name, 0) + 1
        return {"runs": len(self.analyzed), "tables": dict(sorted(tables.items()))}
