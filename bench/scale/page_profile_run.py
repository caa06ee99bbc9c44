"""The measured reads of ``bench.scale.page_profile`` (imported once Django is set up)."""

from __future__ import annotations

import cProfile
import io
import json
import pstats
import statistics
import time

from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client

from bench.http.rounds import Queries, _cpu_ns
from bench.scale.load import AGENCY_COUNTS, username
from permissions.models import AgencyKind
from workflows.models import Case

WARMUP = 3


def _reader(role: str):
    which, kind = role.split(" ", 1)
    name = username(kind, 0 if which == "busy" else AGENCY_COUNTS[AgencyKind(kind)] - 1)
    return get_user_model().objects.get(username=name)


def run(path: str, roles: list[str], requests: int, args) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = f"/proc/{cursor.fetchone()[0]}/schedstat"
    own = "/proc/thread-self/schedstat"
    summary, out = {}, io.StringIO()
    for role in roles:
        user = _reader(role)
        # The case bench.scale reads (``bench.scale.sign_in``): the agency's newest.
        case = Case.objects.filter(participants__agency__memberships__user=user).order_by("-id").first()
        url = path.format(case=case.pk if case else 0)
        client = Client()
        client.force_login(user)
        rows, profiler, statements = [], cProfile.Profile(), []
        for number in range(WARMUP + requests + (1 if args.profile else 0)):
            queries = Queries()
            profiled = number == WARMUP + requests
            with connection.execute_wrapper(queries):
                cpu, pg = _cpu_ns(own), _cpu_ns(backend)
                started = time.perf_counter()
                if profiled:
                    profiler.enable()
                response = client.get(url)
                if profiled:
                    profiler.disable()
                wall = time.perf_counter() - started
                cpu, pg = _cpu_ns(own) - cpu, _cpu_ns(backend) - pg
            assert response.status_code == 200, (url, response.status_code)
            if WARMUP <= number < WARMUP + requests:
                rows.append((wall, queries.count, queries.seconds, cpu, pg, len(response.content)))
            statements = queries.statements
        summary[f"{role} {url}"] = {
            "wall_ms_p50": round(statistics.median(r[0] for r in rows) * 1000, 1),
            "statements": statistics.median(r[1] for r in rows),
            "sql_ms_p50": round(statistics.median(r[2] for r in rows) * 1000, 1),
            "cpu_ms_p50": round(statistics.median(r[3] for r in rows) / 1e6, 1),
            "postgres_cpu_ms_p50": round(statistics.median(r[4] for r in rows) / 1e6, 1),
            "bytes": rows[-1][5],
        }
        if args.profile:
            out.write(f"\n=== SQL of one request: {role} ===\n" + "\n".join(statements) + "\n")
            out.write(f"\n=== cProfile: {role} (cumulative) ===\n")
            pstats.Stats(profiler, stream=out).strip_dirs().sort_stats("cumulative").print_stats(args.top)
    return json.dumps(summary, indent=2) + "\n" + out.getvalue()
