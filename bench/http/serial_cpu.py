"""``python -m bench.http.serial_cpu``: the CPU each process of a node spends on a round, one client.

A node as ``make serve`` starts it (``bench.http.server``), one client working whole
prison-release cases over one keep-alive connection, as the bench's clients do (start, the
agency's inbox, the task opened, completed; the inbox lookups of next tasks an answer did
not list). Over ``--cases`` cases after ``--warmup``, the CPU of every process of the node
(all its threads: ``/proc/PID/task/*/schedstat``, the scheduler's own account) and of its
PostgreSQL backends, per completion round and per request. No load generator beside it and
one request at a time, so a shared machine's load changes the figures less than a run of
``python -m bench.http``'s (README "Production server": the web process and the job worker
apart). ``--database NAME``: a database an earlier run kept (``--keep-database``), migrated
only.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import re
import sys
import tempfile
import time

import psutil

from bench.samples import sample_form_data

from . import server
from .autoanalyze import AutoAnalyze
from .cases import NATIONAL_IDS, OVERRIDES, PROCESS, WORKER_OF, find_in_inbox, known_open


def backend_roles(database_url: str, roles: dict[int, str]) -> dict[int, str]:
    """Each PostgreSQL backend of the database named by the node process it serves (its client
    port among the process's connections); ``other`` for the rest (autovacuum, this script)."""
    port_role = {}
    for pid, role in roles.items():
        with contextlib.suppress(psutil.Error):
            for connection in psutil.Process(pid).net_connections(kind="tcp"):
                if connection.laddr:
                    port_role[connection.laddr.port] = role
    found = {}
    for process in server.postgres_backends(database_url):
        with contextlib.suppress(psutil.Error):
            client = re.search(r"\((\d+)\)", " ".join(process.cmdline()))
            found[process.pid] = port_role.get(int(client.group(1)), "other") if client else "other"
    return found


def cpu_ns(pid: int) -> int:
    """Nanoseconds all threads of ``pid`` have run (``/proc/PID/schedstat`` is its first thread's only)."""
    total = 0
    with contextlib.suppress(OSError):
        for thread in os.listdir(f"/proc/{pid}/task"):
            path = f"/proc/{pid}/task/{thread}/schedstat"
            with contextlib.suppress(OSError, ValueError, IndexError), open(path) as stat:
                total += int(stat.read().split()[0])
    return total


class Client:
    def __init__(self, port: int):
        self.connection = http.client.HTTPConnection("127.0.0.1", port)
        self.counts: dict[str, int] = {}

    def call(self, method: str, path: str, token: str | None = None, body=None, name: str = "other"):
        headers = {"Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Token {token}"
        data = None
        if body is not None:
            data, headers["Content-Type"] = json.dumps(body).encode(), "application/json"
        self.connection.request(method, path, body=data, headers=headers)
        answer = self.connection.getresponse()
        raw = answer.read()
        self.counts[name] = self.counts.get(name, 0) + 1
        if answer.status >= 300:
            raise RuntimeError(f"{method} {path}: {answer.status} {raw[:300]!r}")
        return json.loads(raw)


def work_a_case(client: Client, tokens: dict, participants: dict, number: int) -> int:
    """One whole case, as ``clients.CaseWorkers`` works it; the completions made."""

    def token(kind):
        return tokens[WORKER_OF[kind]]

    person = {"name": f"Last Testperson {number}", "national_id": NATIONAL_IDS[number % 3]}
    body = {"process_key": PROCESS, "participants": participants, "person": person}
    started = client.call("POST", "/api/v1/cases/", token("prison"), body, "start")
    known, status, completed = known_open([], None, started["open_tasks"]), started["status"], 0
    while status == "open":
        if not known:
            for kind in WORKER_OF:
                url = f"/api/v1/tasks/?assigned=agency&status=active&case={started['id']}"
                if found := client.call("GET", url, token(kind), name="inbox lookup")["results"]:
                    known = found
                    break
            if not known:
                break
        kind = known[0]["agency"]["kind"]

        def read_page(url: str, kind: str = kind) -> dict:
            return client.call("GET", url, token(kind), name="inbox")

        mine = find_in_inbox(read_page, known[0]["id"])
        if mine is None:
            raise RuntimeError(f"the task of case {started['id']} is not in the {kind} inbox")
        opened = client.call("GET", f"/api/v1/tasks/{mine['id']}/", token(kind), name="open")
        data = sample_form_data(opened["form_schema"], OVERRIDES)
        done = client.call("POST", f"/api/v1/tasks/{mine['id']}/complete/", token(kind), {"data": data}, "complete")
        completed += 1
        known, status = known_open(known, known[0], done["open_tasks"]), done["case_status"]
    return completed


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.http.serial_cpu", description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=20, help="cases measured per window (default 20)")
    parser.add_argument("--warmup", type=int, default=3, help="cases worked first (default 3)")
    parser.add_argument("--windows", type=int, default=2, help="measured windows (default 2)")
    parser.add_argument("--database", help="a database kept by an earlier run (migrated, not seeded again)")
    parser.add_argument(
        "--history-cases",
        type=int,
        default=server.HISTORY_CASES,
        metavar="N",
        help=f"cases of a live database's history loaded into the new database first, as python -m bench.http "
        f"(default {server.HISTORY_CASES:,}; 0: empty tables)",
    )
    parser.add_argument(
        "--autoanalyze",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="ANALYZE each table when autovacuum would, if the server's autovacuum is off (default on)",
    )
    parser.add_argument("--keep-database", action="store_true", help="keep the new database afterwards")
    args = parser.parse_args(argv)
    url = os.environ.get("DATABASE_URL", "")
    database = (
        contextlib.nullcontext(server.with_database(url, args.database))
        if args.database
        else server.throwaway_database(url, keep=args.keep_database)
    )
    with database as database_url, tempfile.TemporaryDirectory() as static_root:
        env = server.server_env(database_url, static_root)
        (server.migrate if args.database else server.prepare)(env)
        if args.history_cases and not args.database:
            history = server.load_history(env, args.history_cases)
            print(json.dumps({"history": history}), flush=True)
        autoanalyze = AutoAnalyze(database_url) if args.autoanalyze else None
        node = server.Node(env)
        try:
            if autoanalyze is not None:
                autoanalyze.start()
            node.wait_ready()
            client = Client(node.port)
            tokens = {
                name: client.call("POST", "/api/v1/auth/token/", body={"username": name, "password": server.PASSWORD})[
                    "token"
                ]
                for name in WORKER_OF.values()
            }
            # The demo workers' own agencies (the directory lists a loaded history's too).
            participants = server.demo_participants(database_url, WORKER_OF)
            number = 0
            for number in range(1, args.warmup + 1):
                work_a_case(client, tokens, participants, number)
            time.sleep(1.0)  # the job worker's e-mails of the warm-up sent
            processes = node.processes()
            roles = {process.pid: server._role(process, node.process.pid) for process in processes}
            for window in range(args.windows):
                backends = server.postgres_backends(database_url)
                before = {pid: cpu_ns(pid) for pid in roles}
                pg_before = {process.pid: cpu_ns(process.pid) for process in backends}
                client.counts = {}
                completions, began = 0, time.monotonic()
                for _ in range(args.cases):
                    number += 1
                    completions += work_a_case(client, tokens, participants, number)
                time.sleep(0.5)  # the last e-mails sent
                after = {pid: cpu_ns(pid) for pid in roles}
                pg_after = {process.pid: cpu_ns(process.pid) for process in server.postgres_backends(database_url)}
                by_role: dict[str, float] = {}
                for pid, used in after.items():
                    by_role[roles[pid]] = by_role.get(roles[pid], 0) + used - before.get(pid, 0)
                requests = sum(client.counts.values())
                postgres = sum(used - pg_before.get(pid, 0) for pid, used in pg_after.items())
                postgres_by_role: dict[str, float] = {}
                for pid, role in backend_roles(database_url, roles).items():
                    used = pg_after.get(pid, 0) - pg_before.get(pid, 0)
                    postgres_by_role[role] = postgres_by_role.get(role, 0) + used
                print(
                    json.dumps(
                        {
                            "window": window,
                            "completions": completions,
                            "requests": client.counts,
                            "seconds": round(time.monotonic() - began, 2),
                            "machine_load_average_1min": round(os.getloadavg()[0], 2),
                            "cpu_ms_per_completion_round": {
                                role: round(used / 1e6 / completions, 2) for role, used in sorted(by_role.items())
                            }
                            | {"postgresql": round(postgres / 1e6 / completions, 2)},
                            # The postgresql figure split by the process each backend serves.
                            "postgresql_cpu_ms_per_completion_round_by_client": {
                                role: round(used / 1e6 / completions, 2)
                                for role, used in sorted(postgres_by_role.items())
                            },
                            "web_cpu_ms_per_request": round(by_role.get("gunicorn worker", 0) / 1e6 / requests, 3),
                            "analyzes_so_far": len(autoanalyze.analyzed) if autoanalyze is not None else 0,
                        }
                    ),
                    flush=True,
                )
        finally:
            if autoanalyze is not None:
                autoanalyze.stop()
            node.stop()
            node.remove_log()
    return 0


if __name__ == "__main__":
    sys.exit(main())
