"""The rounds of ``bench.http.request_profile`` (imported once Django is set up)."""

from __future__ import annotations

import cProfile
import io
import json
import os
import pstats
import statistics
import tempfile
import time

import psycopg
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from bench.samples import sample_form_data
from permissions.models import Agency

from .cases import NATIONAL_IDS, OVERRIDES, PROCESS, WORKER_OF, known_open

WARMUP_ROUNDS = 5
PROFILED_ROUNDS = 20
# Besides the completion round: what every request pays before and after its view (docs/performance-history.md,
# "CPU per request"), on a trivial API route, the caller's own inbox, and a trivial page and
# the inbox page of a password session that gave its second factor (as production asks).
OVERHEAD_ROUTES = {
    "GET /api/v1/agencies/": ("api", "/api/v1/agencies/"),
    "GET /api/v1/tasks/?assigned=me&status=active": ("api", "/api/v1/tasks/?assigned=me&status=active"),
    "GET /accounts/password_change/ (page)": ("page", "/accounts/password_change/"),
    "GET /tasks/?tab=mine (page)": ("page", "/tasks/?tab=mine"),
}
PROFILED_OVERHEAD = {
    "GET /api/v1/agencies/": "trivial API route",
    "GET /accounts/password_change/ (page)": "trivial page",
}


def _cpu_ns(path: str) -> int:
    """Nanoseconds a thread or process has run on a CPU (the scheduler's own account, exact
    unlike the clock-tick ``cpu_times``): the first field of ``/proc/.../schedstat``."""
    try:
        with open(path) as stat:
            return int(stat.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 0


class Queries:
    """Counts statements and the time spent in them (``connection.execute_wrapper``)."""

    width = int(os.environ.get("PROFILE_SQL_WIDTH") or 150)  # characters of each statement shown

    def __init__(self, backend: str = ""):
        self.count, self.seconds = 0, 0.0
        self.statements: list[str] = []
        self.backend = backend  # the backend's schedstat: its CPU per statement
        self.pg_cpu: list[tuple[str, int]] = []

    def __call__(self, execute, sql, params, many, context):
        started, pg_before = time.perf_counter(), _cpu_ns(self.backend) if self.backend else 0
        try:
            return execute(sql, params, many, context)
        finally:
            elapsed = time.perf_counter() - started
            pg = _cpu_ns(self.backend) - pg_before if self.backend else 0
            self.seconds += elapsed
            self.count += 1
            self.pg_cpu.append((" ".join(sql.split())[:90], pg))
            self.statements.append(
                f"{elapsed * 1000:6.2f} ms  (PostgreSQL CPU {pg / 1e6:5.2f} ms)  {' '.join(sql.split())[: self.width]}"
            )


class Wire:
    """Round trips and statements as the wire carries them (libpq's trace, ``PQtrace``), which
    Django's execute wrappers do not see: BEGIN and COMMIT, each statement of a pipelined
    batch. A round trip is a run of the client's messages ended by a ``Sync`` or a simple
    ``Query`` (after which it waits for the server); a statement is an ``Execute`` or a
    ``Query``. ``--trips`` (off by default: tracing costs the process a little)."""

    def __init__(self, enabled: bool):
        self.enabled = enabled
        self.trips = self.statements = 0
        self.messages: list[str] = []

    def __enter__(self):
        if self.enabled:
            connection.ensure_connection()
            self._pgconn = connection.connection.pgconn
            self._file = tempfile.TemporaryFile()
            self._pgconn.trace(self._file.fileno())
            self._pgconn.set_trace_flags(psycopg.pq.Trace.SUPPRESS_TIMESTAMPS)
        return self

    def __exit__(self, *exc) -> None:
        if not self.enabled:
            return
        self._pgconn.untrace()
        self._file.seek(0)
        lines = self._file.read().decode(errors="replace").splitlines()
        self._file.close()
        sent: list[str] = []
        executed = 0
        for line in lines:
            direction, *rest = line.split("\t")
            if direction != "F" or len(rest) < 2:
                continue
            message = " ".join(rest[1:]).strip()
            kind = message.split(" ", 1)[0]
            if kind in ("Execute", "Query"):
                # A simple query's text may hold several statements (``permissions.prepared.
                # run_generic``: SET, EXECUTE, RESET): counted as the server runs them (by
                # their separator: our own texts put none inside a value).
                count = message.count("; ") + 1 if kind == "Query" else 1
                self.statements += count
                executed += count
            if kind in ("Parse", "Query"):
                sent.append(" ".join(message.split())[:70])
            if kind in ("Sync", "Query"):
                self.trips += 1
                self.messages.append(f"{executed} statement(s); parsed: " + (" | ".join(sent) or "none (prepared)"))
                sent, executed = [], 0


def profile(rounds: int, top: int, trips: bool = False) -> str:
    for command, args in (
        ("migrate", ["-v0"]),
        ("deploy_bpmn", ["bpmn/processes"]),
        ("seed_demo", ["--force", "--cases", "0"]),
    ):
        call_command(command, *args, stdout=io.StringIO())
    # Issued by POST /api/v1/auth/token/ with a one-time code (not what is measured): a token
    # issued without the code is refused to these users when the second factor is asked.
    tokens = {name: token_with_second_factor(name) for name in WORKER_OF.values()}
    clients = {kind: Client(HTTP_AUTHORIZATION=f"Token {tokens[name]}") for kind, name in WORKER_OF.items()}
    browser = signed_in_with_second_factor(WORKER_OF["nav"])
    overhead_client = {"api": clients["nav"], "page": browser}
    participants = {a.kind: a.pk for a in Agency.objects.filter(kind__in=list(WORKER_OF))}
    figures: dict[str, list[tuple[float, int, float, int, int]]] = {}
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = f"/proc/{cursor.fetchone()[0]}/schedstat"  # the server on this machine (else 0)
    own = "/proc/thread-self/schedstat"
    profiles = {
        "start": cProfile.Profile(),
        "inbox": cProfile.Profile(),
        "open": cProfile.Profile(),
        "complete": cProfile.Profile(),
        "trivial API route": cProfile.Profile(),
        "trivial page": cProfile.Profile(),
    }
    last_statements: dict[str, list[str]] = {}
    wire: dict[str, list[tuple[int, int]]] = {}
    last_trips: dict[str, list[str]] = {}
    statement_cpu: dict[str, dict[tuple[int, str], list[int]]] = {}

    def timed(route, call, record, profiler=None):
        queries = Queries(backend)
        with connection.execute_wrapper(queries), Wire(trips and profiler is None) as on_wire:
            cpu_before, pg_before = _cpu_ns(own), _cpu_ns(backend)
            started = time.perf_counter()
            if profiler is not None:
                profiler.enable()
            response = call()
            if profiler is not None:
                profiler.disable()
            elapsed = time.perf_counter() - started
            cpu, pg_cpu = _cpu_ns(own) - cpu_before, _cpu_ns(backend) - pg_before
        assert response.status_code in (200, 201), response.content[:300]
        if record:
            figures.setdefault(route, []).append((elapsed, queries.count, queries.seconds, cpu, pg_cpu))
            per_statement = statement_cpu.setdefault(route, {})
            for position, (text, used) in enumerate(queries.pg_cpu):
                per_statement.setdefault((position, text), []).append(used)
            per_statement.setdefault((99, "(outside the statements: COMMIT, ...)"), []).append(
                pg_cpu - sum(used for _text, used in queries.pg_cpu)
            )
            last_statements[route] = queries.statements
            if on_wire.enabled:
                wire.setdefault(route, []).append((on_wire.trips, on_wire.statements))
                last_trips[route] = on_wire.messages
        return response.json() if response["Content-Type"].startswith("application/json") else None

    # Warm-up rounds (caches), timed rounds, then profiled rounds (cProfile doubles Python's time).
    for number in range(WARMUP_ROUNDS + rounds + PROFILED_ROUNDS):
        record = WARMUP_ROUNDS <= number < WARMUP_ROUNDS + rounds
        profiled = number >= WARMUP_ROUNDS + rounds
        for route, (kind, path) in OVERHEAD_ROUTES.items():
            profile_name = PROFILED_OVERHEAD.get(route)
            timed(
                route,
                lambda c=overhead_client[kind], p=path: c.get(p),
                record,
                profiles[profile_name] if profiled and profile_name else None,
            )
        case = timed(
            "POST /api/v1/cases/",
            lambda n=number: clients["prison"].post(
                "/api/v1/cases/",
                {
                    "process_key": PROCESS,
                    "participants": participants,
                    "person": {"name": f"Profil Person {n}", "national_id": NATIONAL_IDS[n % 3]},
                },
                content_type="application/json",
            ),
            record,
            profiles["start"] if profiled else None,
        )
        tasks, status = known_open([], None, case["open_tasks"]), case["status"]
        while status == "open":
            if not tasks:
                # The answer lists only the next tasks its reader may see: each agency's inbox
                # is asked in turn, as the load clients do (bench.http.clients), and timed as
                # part of the round, so that a round here costs what one does over HTTP.
                for lookup_client in clients.values():
                    tasks = timed(
                        "GET /api/v1/tasks/?assigned=agency (lookup)",
                        lambda c=lookup_client, n=case["id"]: c.get(
                            f"/api/v1/tasks/?assigned=agency&status=active&case={n}"
                        ),
                        record,
                    )["results"]
                    if tasks:
                        break
                if not tasks:
                    break
            kind = tasks[0]["agency"]["kind"]
            client = clients[kind]
            inbox = timed(
                "GET /api/v1/tasks/?assigned=agency",
                lambda c=client: c.get("/api/v1/tasks/?assigned=agency&status=active"),
                record,
                profiles["inbox"] if profiled else None,
            )
            mine = next(r for r in inbox["results"] if r["id"] == tasks[0]["id"])
            opened = timed(
                "GET /api/v1/tasks/{id}/",
                lambda c=client, t=mine["id"]: c.get(f"/api/v1/tasks/{t}/"),
                record,
                profiles["open"] if profiled else None,
            )
            data = sample_form_data(opened["form_schema"], OVERRIDES)
            done = timed(
                "POST /api/v1/tasks/{id}/complete/",
                lambda c=client, t=mine["id"], d=data: c.post(
                    f"/api/v1/tasks/{t}/complete/", {"data": d}, content_type="application/json"
                ),
                record,
                profiles["complete"] if profiled else None,
            )
            tasks, status = known_open(tasks, tasks[0], done["open_tasks"]), done["case_status"]

    summary = {
        route: {
            "requests": len(rows),
            "wall_ms_p50": round(statistics.median(r[0] for r in rows) * 1000, 2),
            "sql_statements_p50": statistics.median(r[1] for r in rows),
            "sql_ms_p50": round(statistics.median(r[2] for r in rows) * 1000, 2),
            "python_ms_p50": round(statistics.median(r[0] - r[2] for r in rows) * 1000, 2),
            # CPU actually used (mean), by this process and by its PostgreSQL backend: unlike
            # the wall times, hardly moved by other work on the machine.
            "cpu_ms_mean": round(statistics.fmean(r[3] for r in rows) / 1e6, 2),
            "postgres_cpu_ms_mean": round(statistics.fmean(r[4] for r in rows) / 1e6, 2),
        }
        for route, rows in figures.items()
    }
    for route, counted in wire.items():
        summary[route]["round_trips_mean"] = round(statistics.fmean(c[0] for c in counted), 2)
        summary[route]["statements_on_wire_mean"] = round(statistics.fmean(c[1] for c in counted), 2)
    completions = len(figures.get("POST /api/v1/tasks/{id}/complete/", [])) or 1
    in_round = [rows for route, rows in figures.items() if route not in OVERHEAD_ROUTES]
    summary["per completion round"] = {
        "requests": round(sum(len(rows) for rows in in_round) / completions, 2),
        "cpu_ms": round(sum(r[3] for rows in in_round for r in rows) / 1e6 / completions, 2),
        "postgres_cpu_ms": round(sum(r[4] for rows in in_round for r in rows) / 1e6 / completions, 2),
    }
    if wire:
        in_round_wire = [counted for route, counted in wire.items() if route not in OVERHEAD_ROUTES]
        summary["per completion round"]["round_trips"] = round(
            sum(c[0] for counted in in_round_wire for c in counted) / completions, 2
        )
        summary["per completion round"]["statements_on_wire"] = round(
            sum(c[1] for counted in in_round_wire for c in counted) / completions, 2
        )
    out = io.StringIO()
    out.write(json.dumps(summary, indent=2) + "\n")
    for route, statements in last_statements.items():
        out.write(f"\n=== SQL of one {route} ===\n" + "\n".join(statements) + "\n")
    for route, messages in last_trips.items():
        out.write(f"\n=== Round trips of one {route} (statements parsed in each) ===\n")
        out.write("\n".join(f"  {number}. {trip}" for number, trip in enumerate(messages, 1)) + "\n")
    for route, by_statement in statement_cpu.items():
        out.write(f"\n=== PostgreSQL CPU per statement (mean ms, times run): {route} ===\n")
        for (_position, text), used in sorted(by_statement.items()):
            out.write(f"{statistics.fmean(used) / 1e6:6.3f} ms {len(used):5d}x  {text}\n")
    dump_to = os.environ.get("PROFILE_DUMP_DIR")  # each profile as a pstats file, for callers and callees
    for name, profiler in profiles.items():
        if dump_to:
            profiler.dump_stats(os.path.join(dump_to, name.replace(" ", "_") + ".prof"))
        out.write(f"\n=== cProfile: {name} (cumulative) ===\n")
        pstats.Stats(profiler, stream=out).strip_dirs().sort_stats("cumulative").print_stats(top)
        out.write(f"\n=== cProfile: {name} (own time) ===\n")
        pstats.Stats(profiler, stream=out).strip_dirs().sort_stats("tottime").print_stats(top)
    return out.getvalue()


def token_with_second_factor(username: str) -> str:
    """An API token as a client gets it: password and a code of a confirmed TOTP device."""
    user = get_user_model().objects.get(username=username)
    device = TOTPDevice.objects.create(user=user, name="token", confirmed=True)
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    code = f"{totp.token():0{device.digits}d}"
    body = {"username": username, "password": settings.BROBYGGER["DEMO_PASSWORD"], "otp": code}
    answer = Client().post("/api/v1/auth/token/", body, content_type="application/json")
    assert answer.status_code == 200, answer.content
    return answer.json()["token"]


def signed_in_with_second_factor(username: str) -> Client:
    """A browser signed in with a password and a confirmed TOTP device, as the two-factor
    page leaves it (``django_otp.login``): every request then checks the device."""
    user = get_user_model().objects.get(username=username)
    device = TOTPDevice.objects.create(user=user, name="profile", confirmed=True)
    browser = Client()
    browser.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    session = browser.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return browser
