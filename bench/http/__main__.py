"""``python -m bench.http``: load the production server with locust, print the figures as JSON.

Environment: DATABASE_URL (PostgreSQL; a throw-away database is made on that server and
dropped; ``--history-cases`` cases of a live database's history are loaded into it first,
``bench.http.history``, and its tables analyzed as autovacuum would while the run grows them,
``bench.http.autoanalyze``), and the server's own knobs passed through as ``make serve`` reads them
(WEB_WORKERS, WEB_THREADS, DB_POOL, DB_CONN_MAX_AGE, JOB_WORKERS ...).
"""

# locust patches the standard library for gevent on import: it comes first.
import locust  # noqa: I001
import gevent
from locust.env import Environment

import argparse
import json
import os
import sys
import tempfile
import time
import urllib.request

import psutil

from . import clients, cpu, server
from .autoanalyze import AutoAnalyze


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.http", description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=8, help="concurrent clients (default 8)")
    parser.add_argument("--seconds", type=float, default=60, help="measured time (default 60)")
    parser.add_argument("--warmup", type=float, default=10, help="unmeasured time first (default 10)")
    parser.add_argument("--out", help="also write the JSON here")
    parser.add_argument(
        "--analyze",
        action="store_true",
        help="ANALYZE after the warm-up, as autovacuum would (README: plans made on nearly empty tables)",
    )
    parser.add_argument(
        "--history-cases",
        type=int,
        default=server.HISTORY_CASES,
        metavar="N",
        help=f"cases of a live database's history loaded first, then analyzed (default {server.HISTORY_CASES:,}; "
        "0: start on the empty tables of a new database)",
    )
    parser.add_argument(
        "--autoanalyze",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="ANALYZE each table when autovacuum would, if the server's autovacuum is off (default on)",
    )
    parser.add_argument("--keep-database", action="store_true", help="keep the database afterwards, to look into")
    args = parser.parse_args(argv)
    if args.history_cases < 0:
        parser.error("--history-cases: 0 or more")
    url = os.environ.get("DATABASE_URL", "")
    keep = args.keep_database
    with server.throwaway_database(url, keep=keep) as database_url, tempfile.TemporaryDirectory() as static_root:
        env = server.server_env(database_url, static_root)
        server.prepare(env)
        history = server.load_history(env, args.history_cases) if args.history_cases else None
        participants = server.demo_participants(database_url, clients.WORKER_OF)
        autoanalyze = AutoAnalyze(database_url) if args.autoanalyze else None
        node = server.Node(env)
        try:
            if autoanalyze is not None:
                autoanalyze.start()
            node.wait_ready()
            result = measure(
                node,
                database_url,
                users=args.users,
                seconds=args.seconds,
                warmup=args.warmup,
                analyze=args.analyze,
                participants=participants,
                autoanalyze=autoanalyze,
            )
            result["history_cases"] = history["history_cases"] if history else 0
            result["history"] = history
            result["autoanalyze"] = _autoanalyze_report(autoanalyze)
            result["server"] = {
                key: env.get(key, "")
                for key in (
                    "WEB_WORKERS",
                    "WEB_THREADS",
                    "JOB_WORKERS",
                    "DB_POOL",
                    "DB_POOL_MAX_SIZE",
                    "DB_CONN_MAX_AGE",
                    "DB_CONN_HEALTH_CHECKS",
                    "DB_PREPARE_THRESHOLD",
                    "LOG_REQUESTS",
                )
            }
        except BaseException:
            if autoanalyze is not None:
                autoanalyze.stop()
            node.stop()
            print(f"{node.tail()}\n(the node's log: {node.log.name})", file=sys.stderr)
            raise
        if autoanalyze is not None:
            autoanalyze.stop()
        node.stop()
        node.remove_log()
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        with open(args.out, "w") as out:
            out.write(text + "\n")
    return 0 if result["errors"] == 0 else 1


def _autoanalyze_report(autoanalyze: AutoAnalyze | None) -> dict:
    if autoanalyze is None:
        return {"asked": False}
    settings = autoanalyze.settings
    return {
        "asked": True,
        # False: the server's own autovacuum is on (it analyzes; the bench does nothing).
        "active": autoanalyze.active,
        "server_autovacuum": settings.autovacuum if settings else None,
        **autoanalyze.summary(),
        "error": repr(autoanalyze.error) if autoanalyze.error else None,
    }


def _post_json(url: str, body: dict, token: str | None = None) -> dict:
    request = urllib.request.Request(  # noqa: S310 (loopback)
        url,
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310 (loopback)
        return json.load(answer)


def _get_json(url: str, token: str) -> dict:
    request = urllib.request.Request(url, headers={"Authorization": f"Token {token}"})  # noqa: S310 (loopback)
    with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310 (loopback)
        return json.load(answer)


def measure(
    node: server.Node,
    database_url: str,
    *,
    users: int,
    seconds: float,
    warmup: float,
    analyze: bool = False,
    participants: dict[str, int] | None = None,
    autoanalyze: AutoAnalyze | None = None,
) -> dict:
    api = f"{node.base}/api/v1"
    tokens = {
        name: _post_json(f"{api}/auth/token/", {"username": name, "password": server.PASSWORD})["token"]
        for name in clients.WORKER_OF.values()
    }
    if participants is None:
        agencies = _get_json(f"{api}/agencies/", tokens["kari"])
        rows = agencies["results"] if isinstance(agencies, dict) else agencies
        participants = {row["kind"]: row["id"] for row in rows if row["kind"] in clients.WORKER_OF}
    clients.CaseWorkers.tokens = tokens
    clients.CaseWorkers.participants = participants
    clients.CaseWorkers.host = node.base

    timings: dict[str, list[float]] = {}
    failures: dict[str, int] = {}

    def record(request_type, name, response_time, response_length, exception=None, **_):
        if exception is not None:
            failures[name] = failures.get(name, 0) + 1
        else:
            timings.setdefault(name, []).append(response_time)

    environment = Environment(user_classes=[clients.CaseWorkers])
    environment.events.request.add_listener(record)
    runner = environment.create_local_runner()
    runner.start(users, spawn_rate=users)
    gevent.sleep(warmup)
    if analyze:  # as autovacuum would: the plans made on the empty tables are made again (server.analyze)
        server.analyze(database_url)
    # The measured window starts here: empty the records, note the CPU each process has used.
    timings.clear()
    failures.clear()
    environment.stats.reset_all()
    runner.exceptions.clear()
    clients.CaseWorkers.inbox_page_races = 0
    clients.CaseWorkers.inbox_lookups = 0
    scans_before = server.table_scans(database_url)
    statements_before = server.statements(database_url)
    processes_before = cpu.used_by(node.processes())
    backends = server.postgres_backends(database_url)
    postmasters = cpu.parents_of(backends)
    postgres_before = cpu.used_by([*postmasters, *backends])
    backends_before = cpu.used_by(backends)
    own_before = cpu.used(psutil.Process())
    load_before = os.getloadavg()[0]
    analyzes_before = autoanalyze.elapsed() if autoanalyze is not None else 0.0
    began = time.monotonic()
    gevent.sleep(seconds)
    elapsed = time.monotonic() - began
    processes_after = cpu.used_by(node.processes())
    used = {pid: round(total - processes_before.get(pid, 0.0), 2) for pid, total in processes_after.items()}
    # Processes that ended in the window (a recycled gunicorn worker, a backend whose
    # connection closed) left their CPU in their parent's reaped-children times, which the
    # sums include; what they had used before the window is taken off.
    server_cpu = sum(processes_after.values()) - sum(processes_before.values())
    postgres_after = cpu.used_by([*postmasters, *server.postgres_backends(database_url)])
    postgres_cpu = sum(postgres_after.values()) - sum(postgres_before.values())
    # The bench's own backends alone, those there all through the window: on a machine
    # shared with other databases' work, the server's reaped children (above) count that too.
    backends_cpu = sum(
        total - backends_before[pid] for pid, total in cpu.used_by(backends).items() if pid in backends_before
    )
    own_cpu = cpu.used(psutil.Process()) - own_before
    backends_by_client = _backends_by_client(node, database_url, backends, backends_before)
    load = (load_before, os.getloadavg()[0])
    runner.quit()
    time.sleep(1.1)  # the backends' table counts are flushed at most once a second
    scans = server.scans_between(scans_before, server.table_scans(database_url))
    statements = server.statements_between(statements_before, server.statements(database_url))
    rss = node.rss_mb()
    result = _report(timings, failures, runner, elapsed, users, rss, used, server_cpu, own_cpu)
    completions = max(result["task_completions"], 1)
    result["gunicorn_workers_recycled"] = len(set(processes_before) - set(processes_after))
    result["postgres_cpu_ms_per_completion_round"] = round(postgres_cpu * 1000 / completions, 2)
    result["postgres_backends_cpu_ms_per_completion_round"] = round(backends_cpu * 1000 / completions, 2)
    result["postgres_backends_cpu_ms_per_completion_round_by_client"] = {
        role: round(used * 1000 / completions, 2) for role, used in sorted(backends_by_client.items())
    }
    result["load_generator_cpu_ms_per_completion_round"] = round(own_cpu * 1000 / completions, 2)
    result["analyzed_after_warmup"] = analyze
    # ANALYZE run as autovacuum would (bench.http.autoanalyze): from the node's start, and in the window.
    result["analyzes_during_run"] = len(autoanalyze.analyzed) if autoanalyze is not None else 0
    result["analyzes_in_window"] = autoanalyze.count_since(analyzes_before) if autoanalyze is not None else 0
    result["inbox_page_races"] = clients.CaseWorkers.inbox_page_races
    result["inbox_lookups_for_unlisted_tasks"] = clients.CaseWorkers.inbox_lookups
    # Sequential scans that read 1,000 rows or more in the window, by table: a plan made on
    # nearly empty tables and kept as they grew shows here (README, "A live database's history").
    result["sequential_scans_in_window"] = scans
    result["machine_load_average_1min"] = [round(value, 2) for value in load]
    if statements is not None:
        # pg_stat_statements (when the server loads it) in the window, per completion round.
        result["statements_per_completion_round"] = server.per_round(statements, completions)
        if os.environ.get("BENCH_STATEMENTS_FILE"):
            with open(os.environ["BENCH_STATEMENTS_FILE"], "w") as out:
                json.dump({"completions": completions, "statements": statements}, out)
    return result


def _backends_by_client(node, database_url, backends, backends_before) -> dict[str, float]:
    """The CPU of the backends there all through the window, by the process each serves
    (a gunicorn worker, the job worker; ``bench`` for this process's own: the autoanalyze)."""
    from .serial_cpu import backend_roles

    roles = {process.pid: server._role(process, node.process.pid) for process in node.processes()}
    roles[os.getpid()] = "bench"
    role_of = backend_roles(database_url, roles)
    found: dict[str, float] = {}
    for pid, total in cpu.used_by(backends).items():
        if pid in backends_before:
            role = role_of.get(pid, "other")
            found[role] = found.get(role, 0.0) + total - backends_before[pid]
    return found


def _percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def _report(timings, failures, runner, elapsed, users, rss, used_by_pid, server_cpu, own_cpu) -> dict:
    requests = sum(len(values) for values in timings.values())
    completions = len(timings.get(clients.ROUTES["complete"], []))
    routes = {
        name: {
            "requests": len(values),
            "p50_ms": round(_percentile(values, 50), 1),
            "p95_ms": round(_percentile(values, 95), 1),
            "p99_ms": round(_percentile(values, 99), 1),
            "max_ms": round(max(values), 1),
            "failures": failures.get(name, 0),
        }
        for name, values in sorted(timings.items())
    }
    errors = sum(failures.values()) + sum(error["count"] for error in runner.exceptions.values())
    for row in rss:
        row["cpu_seconds"] = used_by_pid.get(row["pid"])
    return {
        "users": users,
        "seconds": round(elapsed, 1),
        "requests": requests,
        "requests_per_second": round(requests / elapsed, 1),
        "task_completions": completions,
        "task_completions_per_second": round(completions / elapsed, 1),
        "routes": routes,
        "errors": errors,
        "error_samples": [error["msg"][:300] for error in list(runner.exceptions.values())[:5]],
        "server_cpu_ms_per_request": round(server_cpu * 1000 / max(requests, 1), 2),
        "server_cpu_ms_per_completion_round": round(server_cpu * 1000 / max(completions, 1), 2),
        "load_generator_cpu_seconds": round(own_cpu, 1),
        "processes": rss,
        "max_rss_mb": max(row["rss_mb"] for row in rss),
        "machine_cpus": psutil.cpu_count(),
    }


if __name__ == "__main__":
    locust.__name__  # imported first for its gevent patching  # noqa: B018
    sys.exit(main())
