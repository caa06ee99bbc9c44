"""A production node on a throw-away database, started as ``make serve`` starts it."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psutil
import psycopg

REPO = Path(__file__).resolve().parents[2]
# The default of ``--history-cases`` (bench.http.history; README "Production server": loaded
# and summed in 30-47 s on this 2-core machine).
HISTORY_CASES = 30_000
PASSWORD = "bench-http-password"  # noqa: S105 (the throw-away demo cast's)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


@contextlib.contextmanager
def throwaway_database(url: str, *, keep: bool = False):
    """A new empty database on the server of ``url``; dropped afterwards unless ``keep``."""
    if urlsplit(url).scheme not in {"postgres", "postgresql", "pgsql"}:
        raise SystemExit("DATABASE_URL must point to PostgreSQL (postgres://...): the bench measures production")
    name = f"brob_bench_http_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield with_database(url, name)
    finally:
        if keep:
            print(f"kept the database {name}", file=sys.stderr)
        else:
            with psycopg.connect(url, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def server_env(database_url: str, static_root: str, extra: dict | None = None) -> dict:
    env = {key: value for key, value in os.environ.items() if not key.startswith("PROMETHEUS_")}
    env.update(
        {
            "DATABASE_URL": database_url,
            "DEBUG": "false",
            "SECRET_KEY": "bench-http-only-" + "x" * 40,
            "STATIC_ROOT": static_root,
            "DEMO_PASSWORD": PASSWORD,
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
            "PYTHONUNBUFFERED": "1",
            # The clients sign in once with a password before the measured window; the second
            # factor (docs/security.md) is not what is measured, so the demo cast has none.
            "REQUIRE_TWO_FACTOR": "false",
            # Eight clients on four users' tokens working cases flat out: some 45-60 requests
            # a second per token at 50 completions/s, 100+ at the 100/s target (a production
            # default of 1,200 a minute would refuse most of them). Counted, far above it.
            "API_RATE_LIMIT": "1000000/minute",
            "API_RATE_LIMIT_EXTERNAL_TASKS": "1000000/minute",
            "WEB_RATE_LIMIT": "1000000/minute",  # the rounds' page requests, the same way
        }
    )
    env.update(extra or {})
    return env


def prepare(env: dict) -> None:
    """The schema, the shipped processes and the demo cast, as an operator installs them."""
    for argv in (
        ["migrate", "--noinput", "-v0"],
        ["deploy_bpmn", "bpmn/processes"],
        ["seed_demo", "--force", "--cases", "0"],
    ):
        subprocess.run(  # noqa: S603 (our own manage.py)
            [sys.executable, "manage.py", *argv],
            cwd=REPO,
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )


def load_history(env: dict, cases: int) -> dict:
    """``cases`` cases of a live database's history (``bench.http.history``), then ``VACUUM
    ANALYZE``: before the node starts, so its connections plan on tables of that size."""
    loaded = subprocess.run(  # noqa: S603 (our own module)
        [sys.executable, "-m", "bench.http.history_main", str(cases)],
        cwd=REPO,
        env={**env, "DJANGO_SETTINGS_MODULE": "config.settings"},
        check=False,
        capture_output=True,
        text=True,
    )
    if loaded.returncode:
        raise SystemExit(f"loading the history failed:\n{loaded.stderr[-3000:]}")
    return json.loads(loaded.stdout.strip().splitlines()[-1])


def demo_participants(database_url: str, workers: dict[str, str]) -> dict[str, int]:
    """Agency kind -> the id of the agency its demo worker (``workers``: kind -> username) is a
    member of: the agencies the clients' cases go to (the directory lists the history's
    agencies of each kind too)."""
    with psycopg.connect(database_url) as connection:
        rows = connection.execute(
            """SELECT a.kind, min(a.id) FROM permissions_agency a
               JOIN permissions_membership m ON m.agency_id = a.id
               JOIN auth_user u ON u.id = m.user_id
               JOIN unnest(%s::text[], %s::text[]) w(kind, username) ON w.kind = a.kind AND w.username = u.username
               GROUP BY a.kind""",
            [list(workers), list(workers.values())],
        ).fetchall()
    found = {kind: agency for kind, agency in rows}
    if set(found) != set(workers):
        raise RuntimeError(f"no demo agency of kinds {sorted(set(workers) - set(found))}")
    return found


def migrate(env: dict) -> None:
    """New migrations only (a database an earlier run prepared and kept)."""
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=REPO, env=env, check=True)


class Node:
    """``manage.py serve`` on a free port; its log goes to a file."""

    def __init__(self, env: dict, *, port: int | None = None, args: tuple[str, ...] = ()):
        self.port = port or free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = tempfile.NamedTemporaryFile(prefix="brobygger-node-", suffix=".log", delete=False)  # noqa: SIM115
        self.process = subprocess.Popen(  # noqa: S603 (our own command)
            [sys.executable, "manage.py", "serve", "--bind", f"127.0.0.1:{self.port}", *args],
            cwd=REPO,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_ready(self, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the node exited with {self.process.returncode}:\n{self.tail()}")
            try:
                with urllib.request.urlopen(f"{self.base}/readyz", timeout=2) as answer:  # noqa: S310 (loopback)
                    if answer.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"the node was not ready within {timeout} s:\n{self.tail()}")

    def processes(self) -> list[psutil.Process]:
        """The supervisor, gunicorn's master and its workers, the job workers."""
        root = psutil.Process(self.process.pid)
        return [root, *root.children(recursive=True)]

    def rss_mb(self) -> list[dict]:
        rows = []
        for process in self.processes():
            with contextlib.suppress(psutil.NoSuchProcess):
                command = " ".join(process.cmdline()[1:4])
                rows.append(
                    {
                        "pid": process.pid,
                        "role": _role(process, self.process.pid),
                        "command": command,
                        "rss_mb": round(process.memory_info().rss / 2**20, 1),
                    }
                )
        return rows

    def stop(self, timeout: float = 30.0) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.log.close()
        return self.process.returncode

    def remove_log(self) -> None:
        """After a clean run: the log only matters when something went wrong."""
        Path(self.log.name).unlink(missing_ok=True)

    def tail(self, lines: int = 40) -> str:
        self.log.flush()
        return "\n".join(Path(self.log.name).read_text(errors="replace").splitlines()[-lines:])


def analyze(database_url: str) -> None:
    """``ANALYZE`` the database, as autovacuum would, and wait until the backend that ran it
    has ended (its CPU then counts before a window, not in it). ``python -m bench.http
    --analyze``, after the warm-up.

    The bench starts on nearly empty tables, and PostgreSQL keeps the plans a connection made
    then (the foreign-key checks, the statements prepared on the server, the triggers'
    statements) while the run grows the tables: reads by key planned as sequential scans of a
    page or two go on scanning thousands of rows. ``ANALYZE`` makes every connection plan them
    again, but on statistics of a few hundred rows, the same mistake for the tables that grow
    after it (README, "PostgreSQL's CPU per request kind"): not the default.
    """
    with psycopg.connect(database_url, autocommit=True) as connection:
        pid = connection.info.backend_pid
        connection.execute("ANALYZE")
    deadline = time.monotonic() + 5
    while psutil.pid_exists(pid) and time.monotonic() < deadline:
        time.sleep(0.05)


def table_scans(database_url: str) -> dict[str, tuple[int, int, int]]:
    """Each table's sequential scans, rows they read, and index scans so far
    (``pg_stat_user_tables``): a window's difference shows plans that read tables whole."""
    with psycopg.connect(database_url, autocommit=True) as connection:
        rows = connection.execute(
            "SELECT relname, seq_scan, seq_tup_read, coalesce(idx_scan, 0) FROM pg_stat_user_tables"
        ).fetchall()
    return {name: (scans, read, index) for name, scans, read, index in rows}


def statements(database_url: str) -> dict[str, tuple] | None:
    """The statements of ``database_url``'s (throw-away) database in ``pg_stat_statements``,
    where the server loads it (``shared_preload_libraries``; the extension is made in the
    throw-away database to read them); None elsewhere. "queryid:toplevel" -> (query, calls,
    plans, plan ms, execution ms, rows, shared blocks hit)."""
    name = urlsplit(database_url).path.lstrip("/")
    try:
        with psycopg.connect(database_url, autocommit=True) as connection:
            connection.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
            rows = connection.execute(
                """SELECT s.queryid::text || ':' || s.toplevel::text, s.query, s.calls, s.plans,
                          s.total_plan_time, s.total_exec_time, s.rows, s.shared_blks_hit
                   FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid WHERE d.datname = %s""",
                [name],
            ).fetchall()
    except psycopg.Error:
        return None
    return {row[0]: tuple(row[1:]) for row in rows}


def statements_between(before: dict | None, after: dict | None) -> list[dict] | None:
    """Each statement's calls, plans and times between two ``statements``, most time first;
    ``toplevel``: sent by a client (a nested one's time is also in the statement that ran it)."""
    if before is None or after is None:
        return None
    found = []
    for key, (query, calls, plans, plan_ms, exec_ms, count, hits) in after.items():
        was = before.get(key, (query, 0, 0, 0.0, 0.0, 0, 0))
        if calls - was[1] > 0:
            found.append(
                {
                    "query": query,
                    "toplevel": key.endswith(":true"),
                    "calls": calls - was[1],
                    "plans": plans - was[2],
                    "plan_ms": plan_ms - was[3],
                    "ms": plan_ms + exec_ms - was[3] - was[4],
                    "rows": count - was[5],
                    "shared_blks_hit": hits - was[6],
                }
            )
    return sorted(found, key=lambda row: -row["ms"])


def per_round(statements: list[dict], completions: int) -> dict:
    """``statements_between`` per completion round: wall time (planning and execution, what
    waiting for locks and for the CPU adds included) of the top-level statements, the largest 40."""
    top = [row for row in statements if row["toplevel"]]
    return {
        "ms_per_round": round(sum(row["ms"] for row in top) / completions, 3),
        "plan_ms_per_round": round(sum(row["plan_ms"] for row in top) / completions, 3),
        "calls_per_round": round(sum(row["calls"] for row in top) / completions, 2),
        "plans_per_round": round(sum(row["plans"] for row in top) / completions, 2),
        "top": [
            {
                "calls_per_round": round(row["calls"] / completions, 3),
                "plans_per_round": round(row["plans"] / completions, 3),
                "ms_per_round": round(row["ms"] / completions, 4),
                "plan_ms_per_round": round(row["plan_ms"] / completions, 4),
                "rows_per_call": round(row["rows"] / row["calls"], 1),
                "blks_per_call": round(row["shared_blks_hit"] / row["calls"], 1),
                "toplevel": row["toplevel"],
                "query": " ".join(row["query"].split())[:300],
            }
            for row in statements[:40]
        ],
    }


def scans_between(before: dict, after: dict, *, least_rows: int = 1000) -> dict[str, dict]:
    """The tables whose sequential scans read at least ``least_rows`` rows between two
    ``table_scans``, most rows first."""
    found = {}
    for name, (scans, read, index) in after.items():
        was = before.get(name, (0, 0, 0))
        if read - was[1] >= least_rows:
            found[name] = {"seq_scans": scans - was[0], "rows_read": read - was[1], "index_scans": index - was[2]}
    return dict(sorted(found.items(), key=lambda item: -item[1]["rows_read"]))


def postgres_backends(database_url: str) -> list[psutil.Process]:
    """The PostgreSQL server processes serving ``database_url``'s database (when on this machine)."""
    name = urlsplit(database_url).path.lstrip("/")
    found = []
    for process in psutil.process_iter(["cmdline"]):
        command = " ".join(process.info["cmdline"] or [])
        if command.startswith("postgres:") and f" {name} " in f"{command} ":
            found.append(process)
    return found


def _role(process: psutil.Process, root_pid: int) -> str:
    command = " ".join(process.cmdline())
    if process.pid == root_pid:
        return "supervisor (manage.py serve)"
    if "gunicorn" in command:
        return "gunicorn master" if process.ppid() == root_pid else "gunicorn worker"
    if "manage.py worker" in command:
        return "job worker"
    return "other"


def setup_django_in_process(environment: dict[str, str]) -> None:
    """Django set up in this process with ``environment`` as the production server's, for the
    tools that run requests through Django's handler themselves (``request_profile``,
    ``instructions``): each request's JSON log line is made, as in production, and written to
    /dev/null rather than shown."""
    os.environ.update(environment)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    import logging

    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(open(os.devnull, "w"))  # noqa: SIM115 (open for the whole run)
