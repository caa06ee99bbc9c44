"""``python -m bench.scale``: the read paths over HTTP at 10,000 and 1,000,000 tasks, as JSON.

For each size: a throw-away database on the server of DATABASE_URL (migrated, the shipped
processes deployed, the demo cast seeded, as ``make bench-http`` prepares it), the rows of
``bench.scale.load`` (300,000 cases for 1,000,000 tasks), then ``manage.py serve`` as
``make serve`` starts it, and each list and page read one request after another
(``--requests`` times after a warm-up) as the busiest and the quietest agency of a kind:
p50 and p95 in milliseconds.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from urllib.parse import urlsplit

from bench.http import server
from bench.scale.searched import SEARCHED_NAME

API = "/api/v1"
# (name, reader role, path; {case} is a case of the reader's agency)
LISTS = [
    ("api agency inbox", "nav", API + "/tasks/?assigned=agency&status=active"),
    ("api mine", "nav", API + "/tasks/?assigned=me&status=active"),
    ("api overdue", "nav", API + "/tasks/?overdue=true"),
    ("api all tasks", "nav", API + "/tasks/"),
    ("api case list", "nav", API + "/cases/"),
    ("api open cases", "nav", API + "/cases/?status=open"),
    ("api overdue cases", "nav", API + "/cases/?overdue=true"),
    # A search: a family name the loader gives the same 300 cases at every size
    # (``bench.scale.searched``), so the same request at 10,000 tasks and a million.
    ("api case search", "nav", API + f"/cases/?q={SEARCHED_NAME}"),
    ("api a case's tasks", "housing", API + "/tasks/?case={case}"),
    ("api timeline", "housing", API + "/cases/{case}/timeline/"),
    ("api access log", "housing", API + "/cases/{case}/access-log/"),
    ("api incidents", "process admin", API + "/incidents/?resolved=false"),
    ("page inbox", "nav", "/tasks/?tab=agency"),
    ("page mine", "nav", "/tasks/?tab=mine"),
    ("page overdue", "nav", "/tasks/?tab=overdue"),
    ("page case list", "nav", "/cases/"),
    ("page open cases", "nav", "/cases/?status=open"),
    ("page case search", "nav", f"/cases/?q={SEARCHED_NAME}"),
    ("page case", "housing", "/cases/{case}/"),
    # Issue 16: the leaders' pages, from the summary tables (target p95 < 200 ms) ...
    ("page insight", "leader", "/insight/"),
    ("page annual report", "leader", "/insight/annual/"),
    ("page heatmap", "leader", "/insight/heatmap/?process=prison_release_to_housing"),
    # ... and the one figure read live from the task table: open tasks past their deadline.
    ("export overdue now", "leader", "/insight/export/overdue_now.csv"),
]
INSIGHT_TARGET_MS = 200


def _connect(base: str) -> http.client.HTTPConnection:
    parts = urlsplit(base)
    return http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=60)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(share * len(ordered)))], 1)


def time_route(base: str, reader: dict, path: str, requests: int) -> dict:
    connection = _connect(base)
    if path.startswith(API):
        headers = {"Authorization": f"Token {reader['token']}"}
    else:
        headers = {"Cookie": f"sessionid={reader['session']}"}
    path = path.format(case=reader["case"])
    timings, errors, first = [], 0, None
    for number in range(requests + 3):  # three unmeasured: connections, caches
        started = time.perf_counter()
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        response.read()
        elapsed = (time.perf_counter() - started) * 1000
        if response.status != 200:
            errors += 1
            print(f"GET {path} as {reader['username']}: {response.status}", file=sys.stderr)
        elif number >= 3:
            timings.append(elapsed)
        if number == 0:
            first = round(elapsed, 1)
    connection.close()
    if not timings:
        return {"errors": errors}
    return {
        "p50": percentile(timings, 0.5),
        "p95": percentile(timings, 0.95),
        "mean": round(statistics.mean(timings), 1),
        # The first request, unmeasured in p50/p95: a new connection, and for the insight
        # pages the figures computed from the summary tables (later ones come from the cache).
        "first": first,
        "errors": errors,
    }


def _token(base: str, username: str) -> str:
    connection = _connect(base)
    body = json.dumps({"username": username, "password": server.PASSWORD})
    connection.request("POST", API + "/auth/token/", body=body, headers={"Content-Type": "application/json"})
    response = connection.getresponse()
    token = json.loads(response.read())["token"]
    connection.close()
    return token


@contextlib.contextmanager
def _database(url: str, keep: bool, reuse: str | None):
    if reuse:
        yield server.with_database(url, reuse)
    else:
        with server.throwaway_database(url, keep=keep) as database_url:
            yield database_url


def measure_size(
    url: str, cases: int, tasks: int, requests: int, keep: bool, reuse: str | None = None, only: str = ""
) -> dict:
    with _database(url, keep, reuse) as database_url, tempfile.TemporaryDirectory() as static_root:
        env = server.server_env(database_url, static_root)
        if reuse:  # migrated, deployed and loaded by the run that kept it; new migrations applied
            server.migrate(env)
        else:
            server.prepare(env)
        loaded = subprocess.run(  # noqa: S603 (our own module)
            [
                sys.executable,
                "-m",
                "bench.scale.load_main",
                str(cases),
                str(tasks),
                server.PASSWORD,
                *(["--reuse"] if reuse else []),
            ],
            cwd=server.REPO,
            env={**env, "DJANGO_SETTINGS_MODULE": "config.settings"},
            check=False,
            capture_output=True,
            text=True,
        )
        if loaded.returncode:
            raise SystemExit(f"loading failed:\n{loaded.stderr[-3000:]}")
        facts = json.loads(loaded.stdout.strip().splitlines()[-1])
        node = server.Node(env)
        try:
            node.wait_ready()
            readers = facts["readers"]
            for reader in readers.values():
                reader["token"] = _token(node.base, reader["username"])
            figures: dict[str, dict] = {}
            load_before = os.getloadavg()
            for name, kind, path in LISTS:
                if only not in name:
                    continue
                if kind == "process admin":
                    who = ["process admin"]
                elif kind == "leader":
                    who = ["municipal leader", "agency leader"]
                else:
                    who = [f"busy {kind}", f"quiet {kind}"]
                for role in who:
                    figures[f"{name} ({role})"] = time_route(node.base, readers[role], path, requests)
            load_after = os.getloadavg()
        finally:
            node.stop()
            node.remove_log()
    return {
        "cases": facts["cases"],
        "tasks": facts["tasks"],
        "load_seconds": round(facts["load_seconds"], 1),
        "insight_backfill_seconds": round(facts["insight_backfill_seconds"], 1),
        "insight_rows": facts["insight_rows"],
        # The machine's load (1, 5, 15 min) before and after the timings: the figures are wall
        # time, including any wait for a CPU that other work holds.
        "load_average": {"before": [round(v, 1) for v in load_before], "after": [round(v, 1) for v in load_after]},
        "ms": figures,
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.scale", description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, nargs="+", default=[10_000, 1_000_000], help="sizes (tasks)")
    parser.add_argument("--requests", type=int, default=40, help="measured requests per list and reader")
    parser.add_argument("--out", help="also write the JSON here")
    parser.add_argument(
        "--keep-database", action="store_true", help="keep the databases (to look into, or for --reuse-database)"
    )
    parser.add_argument(
        "--reuse-database",
        metavar="NAME",
        help="time the lists on a database a run with --keep-database left (its name is printed), "
        "without loading again (one size: the one it holds)",
    )
    parser.add_argument("--only", default="", metavar="TEXT", help="time only the lists whose name contains TEXT")
    args = parser.parse_args(argv)
    url = os.environ.get("DATABASE_URL", "")
    sizes = []
    for tasks in [0] if args.reuse_database else args.tasks:
        cases = max(100, round(tasks * 0.3))  # 300,000 cases for a million tasks
        sizes.append(measure_size(url, cases, tasks, args.requests, args.keep_database, args.reuse_database, args.only))
    text = json.dumps({"sizes": sizes}, indent=2)
    print(text)
    if args.out:
        with open(args.out, "w") as out:
            out.write(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
