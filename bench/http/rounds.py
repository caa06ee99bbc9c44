"""The rounds of ``bench.http.request_profile`` (imported once Django is set up)."""

from __future__ import annotations

import cProfile
import io
import json
import pstats
import statistics
import time

from django.core.management import call_command
from django.db import connection
from django.test import Client

from bench.samples import sample_form_data
from permissions.models import Agency

from .cases import NATIONAL_IDS, OVERRIDES, PROCESS, WORKER_OF
from .server import PASSWORD

WARMUP_ROUNDS = 5
PROFILED_ROUNDS = 20


class Queries:
    """Counts statements and the time spent in them (``connection.execute_wrapper``)."""

    def __init__(self):
        self.count, self.seconds, self.statements = 0, 0.0, []

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            elapsed = time.perf_counter() - started
            self.seconds += elapsed
            self.count += 1
            self.statements.append(f"{elapsed * 1000:6.2f} ms  {' '.join(sql.split())[:150]}")


def profile(rounds: int, top: int) -> str:
    for command, args in (
        ("migrate", ["-v0"]),
        ("deploy_bpmn", ["bpmn/processes"]),
        ("seed_demo", ["--force", "--cases", "0"]),
    ):
        call_command(command, *args, stdout=io.StringIO())
    anonymous = Client()
    tokens = {
        name: anonymous.post(
            "/api/v1/auth/token/", {"username": name, "password": PASSWORD}, content_type="application/json"
        ).json()["token"]
        for name in WORKER_OF.values()
    }
    clients = {kind: Client(HTTP_AUTHORIZATION=f"Token {tokens[name]}") for kind, name in WORKER_OF.items()}
    participants = {a.kind: a.pk for a in Agency.objects.filter(kind__in=list(WORKER_OF))}
    figures: dict[str, list[tuple[float, int, float]]] = {}
    profiles = {"inbox": cProfile.Profile(), "complete": cProfile.Profile()}
    last_statements: dict[str, list[str]] = {}

    def timed(route, call, record, profiler=None):
        queries = Queries()
        with connection.execute_wrapper(queries):
            started = time.perf_counter()
            if profiler is not None:
                profiler.enable()
            response = call()
            if profiler is not None:
                profiler.disable()
            elapsed = time.perf_counter() - started
        assert response.status_code in (200, 201), response.content[:300]
        if record:
            figures.setdefault(route, []).append((elapsed, queries.count, queries.seconds))
            last_statements[route] = queries.statements
        return response.json()

    # Warm-up rounds (caches), timed rounds, then profiled rounds (cProfile doubles Python's time).
    for number in range(WARMUP_ROUNDS + rounds + PROFILED_ROUNDS):
        record = WARMUP_ROUNDS <= number < WARMUP_ROUNDS + rounds
        profiled = number >= WARMUP_ROUNDS + rounds
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
        )
        tasks = case["open_tasks"]
        while tasks:
            kind = tasks[0]["agency"]["kind"]
            client = clients[kind]
            inbox = timed(
                "GET /api/v1/tasks/?assigned=agency",
                lambda c=client: c.get("/api/v1/tasks/?assigned=agency&status=active"),
                record,
                profiles["inbox"] if profiled else None,
            )
            mine = next(r for r in inbox["results"] if r["case"]["id"] == case["id"] and r["agency"]["kind"] == kind)
            opened = timed(
                "GET /api/v1/tasks/{id}/", lambda c=client, t=mine["id"]: c.get(f"/api/v1/tasks/{t}/"), record
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
            tasks = done["open_tasks"]

    summary = {
        route: {
            "requests": len(rows),
            "wall_ms_p50": round(statistics.median(r[0] for r in rows) * 1000, 2),
            "sql_statements_p50": statistics.median(r[1] for r in rows),
            "sql_ms_p50": round(statistics.median(r[2] for r in rows) * 1000, 2),
            "python_ms_p50": round(statistics.median(r[0] - r[2] for r in rows) * 1000, 2),
        }
        for route, rows in figures.items()
    }
    out = io.StringIO()
    out.write(json.dumps(summary, indent=2) + "\n")
    for route, statements in last_statements.items():
        out.write(f"\n=== SQL of one {route} ===\n" + "\n".join(statements) + "\n")
    for name, profiler in profiles.items():
        out.write(f"\n=== cProfile: {name} (cumulative) ===\n")
        pstats.Stats(profiler, stream=out).strip_dirs().sort_stats("cumulative").print_stats(top)
        out.write(f"\n=== cProfile: {name} (own time) ===\n")
        pstats.Stats(profiler, stream=out).strip_dirs().sort_stats("tottime").print_stats(top)
    return out.getvalue()
