"""``python -m bench.http.instructions``: the web process's instructions per request, counted.

Instruction counts do not move with the machine's load, so they compare two versions of the
code where CPU times on a shared machine cannot. Three steps:

    python -m bench.http.instructions prepare --database NAME
        a database with the schema, the shipped processes, the demo cast and their API
        tokens (no valgrind; once, then a copy for each version measured:
        ``CREATE DATABASE copy TEMPLATE NAME``)
    valgrind --tool=callgrind --collect-atstart=no --callgrind-out-file=DIR/cg.out \\
        python -m bench.http.instructions run --database copy
        works whole prison-release cases as the bench-http clients do (start, then for each
        task the agency's inbox, the task, its completion), each request through Django's
        WSGI handler as gunicorn calls it (every middleware, the token, DRF, the view, the
        body and ``close()``), less gunicorn's own HTTP parsing. Callgrind counts only inside
        the measured cases' requests (the first ``--warmup`` cases are not counted), with the
        garbage collector off, and writes each request's count to a file of its own, named
        after its route.
    python -m bench.http.instructions summary DIR
        the instructions per request of each route (mean, min, max) and per completion round.
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import io
import json
import os
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

from .server import PASSWORD, REPO, setup_django_in_process, with_database

ROUTES = ("start", "inbox", "lookup", "open", "complete")
# Callgrind's client requests (no-ops outside valgrind): count only inside the request, then
# write the count to a file of its own named after the route.
C_SOURCE = """#include <valgrind/callgrind.h>
void brob_measure(void (*call)(void), const char *route) {
    CALLGRIND_TOGGLE_COLLECT;
    call();
    CALLGRIND_TOGGLE_COLLECT;
    CALLGRIND_DUMP_STATS_AT(route);
}
"""


def _environment(database_url: str) -> None:
    setup_django_in_process(
        {
            "DATABASE_URL": database_url,
            "DEBUG": "false",
            "DEMO_PASSWORD": PASSWORD,
            "LOG_REQUESTS": "true",
            "LOG_FORMAT": "json",
            "REQUIRE_TWO_FACTOR": "false",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
            "API_RATE_LIMIT": "1000000/minute",
            "API_RATE_LIMIT_EXTERNAL_TASKS": "1000000/minute",
            "WEB_RATE_LIMIT": "1000000/minute",
            "SECRET_KEY": os.environ.get("SECRET_KEY") or "instructions-only-" + "x" * 40,
        }
    )


def prepare(database_url: str) -> None:
    for argv in (
        ["migrate", "--noinput", "-v0"],
        ["deploy_bpmn", "bpmn/processes"],
        ["seed_demo", "--force", "--cases", "0"],
    ):
        env = {**os.environ, "DATABASE_URL": database_url, "DEMO_PASSWORD": PASSWORD, "REQUIRE_TWO_FACTOR": "false"}
        subprocess.run([sys.executable, "manage.py", *argv], cwd=REPO, env=env, check=True)  # noqa: S603
    _environment(database_url)
    from django.db import connection
    from django.test import Client

    from .cases import WORKER_OF

    tokens = {}
    for name in WORKER_OF.values():
        body = {"username": name, "password": PASSWORD}
        answer = Client(HTTP_HOST="127.0.0.1").post("/api/v1/auth/token/", body, content_type="application/json")
        assert answer.status_code == 200, answer.content
        tokens[name] = answer.json()["token"]
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE bench_instruction_tokens (tokens jsonb)")
        cursor.execute("INSERT INTO bench_instruction_tokens VALUES (%s)", [json.dumps(tokens)])


def _trampolines():
    build = Path(tempfile.mkdtemp(prefix="brob-instructions-"))
    (build / "routes.c").write_text(C_SOURCE)
    subprocess.run(  # noqa: S603
        ["gcc", "-O0", "-shared", "-fPIC", "-o", str(build / "routes.so"), str(build / "routes.c")],  # noqa: S607
        check=True,
    )
    measure = ctypes.CDLL(str(build / "routes.so")).brob_measure
    callback = ctypes.CFUNCTYPE(None)
    measure.argtypes = [callback, ctypes.c_char_p]
    return measure, callback


def run(database_url: str, cases: int, warmup: int) -> dict:
    _environment(database_url)
    from django.core.handlers.wsgi import WSGIHandler
    from django.db import connection

    from bench.samples import sample_form_data

    from .cases import NATIONAL_IDS, OVERRIDES, PROCESS, WORKER_OF, known_open

    with connection.cursor() as cursor:
        cursor.execute("SELECT tokens FROM bench_instruction_tokens")
        (tokens,) = cursor.fetchone()
        if isinstance(tokens, str):
            tokens = json.loads(tokens)
    application = WSGIHandler()
    measure, callback = _trampolines()
    counted: Counter[str] = Counter()

    def request(route: str, kind: str, method: str, path: str, body: dict | None, measured: bool) -> dict:
        path_info, _, query = path.partition("?")
        payload = json.dumps(body).encode() if body is not None else b""
        environ = {
            "REQUEST_METHOD": method,
            "SCRIPT_NAME": "",
            "PATH_INFO": path_info,
            "QUERY_STRING": query,
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "8000",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1",
            "HTTP_HOST": "127.0.0.1:8000",
            "HTTP_USER_AGENT": "locust/2",
            "HTTP_ACCEPT_ENCODING": "gzip, deflate",
            "HTTP_AUTHORIZATION": f"Token {tokens[WORKER_OF[kind]]}",
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(payload),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": True,
            "wsgi.run_once": False,
        }
        if body is not None:
            environ["CONTENT_TYPE"] = "application/json"
            environ["CONTENT_LENGTH"] = str(len(payload))
        answer: dict = {}

        def start_response(status, headers, exc_info=None):
            answer["status"] = int(status.split()[0])

        def call():
            result = application(environ, start_response)
            try:
                answer["body"] = b"".join(result)
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()

        if measured:
            measure(callback(call), f"route {route}".encode())
            counted[route] += 1
        else:
            call()
        assert answer["status"] in (200, 201), (route, answer)
        return json.loads(answer["body"])

    # The agencies' ids as the bench's clients find them (their public ids, from the API).
    agencies = request("start", "prison", "GET", "/api/v1/agencies/", None, False)
    rows = agencies["results"] if isinstance(agencies, dict) else agencies
    participants = {row["kind"]: row["id"] for row in rows if row["kind"] in WORKER_OF}
    for number in range(warmup + cases):
        measured = number >= warmup
        if number == warmup:
            # The collector off while counting: a collection runs in whichever request crosses
            # its threshold (a full one walked 190,000 objects), which moved a route's mean by
            # more than a change measured; its cost under gunicorn: ``ops.gunicorn_conf``.
            gc.collect()
            gc.freeze()
            gc.disable()
        case = request(
            "start",
            "prison",
            "POST",
            "/api/v1/cases/",
            {
                "process_key": PROCESS,
                "participants": participants,
                "person": {"name": f"Telt Person {number}", "national_id": NATIONAL_IDS[number % 3]},
            },
            measured,
        )
        tasks, status = known_open([], None, case["open_tasks"]), case["status"]
        while status == "open":
            if not tasks:
                for kind in WORKER_OF:
                    path = f"/api/v1/tasks/?assigned=agency&status=active&case={case['id']}"
                    tasks = request("lookup", kind, "GET", path, None, measured)["results"]
                    if tasks:
                        break
                if not tasks:
                    break
            kind = tasks[0]["agency"]["kind"]
            inbox = request("inbox", kind, "GET", "/api/v1/tasks/?assigned=agency&status=active", None, measured)
            mine = next(r for r in inbox["results"] if r["id"] == tasks[0]["id"])
            opened = request("open", kind, "GET", f"/api/v1/tasks/{mine['id']}/", None, measured)
            data = sample_form_data(opened["form_schema"], OVERRIDES)
            done = request("complete", kind, "POST", f"/api/v1/tasks/{mine['id']}/complete/", {"data": data}, measured)
            tasks, status = known_open(tasks, tasks[0], done["open_tasks"]), done["case_status"]
    connection.close()
    return dict(counted)


def summary(directory: str) -> dict:
    """The dumps' counts by route: each file's description names it (``route NAME``)."""
    counts: dict[str, list[int]] = {}
    for dump in sorted(Path(directory).glob("*.out.*")):
        route, total = None, None
        with open(dump) as lines:
            for line in lines:
                if line.startswith("desc: Trigger: Client Request: route "):
                    route = line.rsplit(" ", 1)[1].strip()
                elif line.startswith(("summary:", "totals:")):
                    total = int(line.split()[1])
        if route is not None and total is not None:
            counts.setdefault(route, []).append(total)
    report: dict = {
        route: {
            "requests": len(totals),
            "mean_M": round(sum(totals) / len(totals) / 1e6, 3),
            "min_M": round(min(totals) / 1e6, 3),
            "max_M": round(max(totals) / 1e6, 3),
        }
        for route, totals in sorted(counts.items())
    }
    completions = len(counts.get("complete", [])) or 1
    report["per completion round"] = {
        "requests": round(sum(len(t) for t in counts.values()) / completions, 2),
        "instructions_M": round(sum(sum(t) for t in counts.values()) / completions / 1e6, 2),
    }
    return report


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.http.instructions", description=__doc__.splitlines()[0])
    parser.add_argument("step", choices=["prepare", "run", "summary"])
    parser.add_argument("directory", nargs="?", help="summary: the directory of callgrind's files")
    parser.add_argument("--database", help="prepare, run: a database name on DATABASE_URL's server")
    parser.add_argument("--cases", type=int, default=3, help="cases measured (run; default 3)")
    parser.add_argument("--warmup", type=int, default=3, help="cases worked before (run; default 3)")
    args = parser.parse_args(argv)
    if args.step == "summary":
        print(json.dumps(summary(args.directory or "."), indent=2))
        return 0
    if not args.database:
        parser.error("--database is required")
    url = with_database(os.environ.get("DATABASE_URL", ""), args.database)
    if args.step == "prepare":
        prepare(url)
    else:
        print(json.dumps({"requests": run(url, args.cases, args.warmup)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
