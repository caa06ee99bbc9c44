"""``python -m bench.service_instructions``: ``make bench``'s service layer, counted in instructions.

Wall-clock figures of ``make bench`` move with the machine's load by more than a change is worth;
instruction counts do not. The same loop as ``bench.service`` (the prison-release process through
``services.start_case`` and ``services.complete_task``, the demo cast's workers), in three steps:

    python -m bench.service_instructions prepare --database NAME
        the schema, the shipped processes and the demo cast (no valgrind; once, then a copy
        for each run: ``CREATE DATABASE copy TEMPLATE NAME``)
    valgrind --tool=callgrind --collect-atstart=no --callgrind-out-file=DIR/cg.out \\
        python -m bench.service_instructions run --database copy
        works ``--warmup`` cases uncounted, then ``--cases`` cases with callgrind counting only
        inside each ``start_case`` and ``complete_task`` call (the garbage collector off), one
        dump per call named after it
    python -m bench.service_instructions summary DIR
        instructions per call (mean, min, max) of each.
"""

from __future__ import annotations

import argparse
import gc
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

from bench.http.instructions import _trampolines
from bench.http.server import with_database

REPO = Path(__file__).resolve().parent.parent
PROCESS = "prison_release_to_housing"
KINDS = ("prison", "nav", "health", "housing")
PERSON_IDS = ["17912099997", "29822099635", "05840399895"]
WORKERS = {"prison": "kari", "nav": "nils", "health": "helga", "housing": "bjorn"}


def _setup(database_url: str) -> None:
    os.environ.update({"DATABASE_URL": database_url, "DEBUG": "false"})
    os.environ.setdefault("SECRET_KEY", "instructions-only-" + "x" * 40)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    logging.disable(logging.WARNING)


def prepare(database_url: str) -> None:
    env = {**os.environ, "DATABASE_URL": database_url, "DEBUG": "false"}
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=REPO, env=env, check=True)
    _setup(database_url)
    from bpmn.loading import bpmn_files, forms_for
    from bpmn.services import deploy_definition
    from permissions.demo import seed_demo_cast

    for path in bpmn_files([REPO / "bpmn" / "processes"]):
        deploy_definition(
            actor=None, bpmn_xml=path.read_bytes(), forms=forms_for(path), filename=path.name, check_permission=False
        )
    seed_demo_cast("bench-password")


def run(database_url: str, cases: int, warmup: int, plain: bool = False) -> dict:
    _setup(database_url)
    from django.contrib.auth import get_user_model
    from django.db import connection

    from bench.samples import sample_form_data
    from bpmn.registry import runtime_for
    from permissions.models import Agency
    from workflows import services
    from workflows.models import ACTIVE_TASK_STATUSES, Task

    users = {u.username: u for u in get_user_model().objects.all()}
    agencies = {a.kind: a for a in Agency.objects.all()}
    worker = {agencies[kind].pk: users[name] for kind, name in WORKERS.items()}
    participants = {kind: agencies[kind].pk for kind in KINDS}
    measure, callback = _trampolines()
    counted = {"start": 0, "complete": 0}
    data_for: dict = {}
    # Statements and round trips of the counted calls, and the database's work for them (its
    # rows and buffer pages as pg_stat_database reports them, read after the backend's exit).
    trips = {"start": [0, 0], "complete": [0, 0]}
    current: list = [None]

    def tally(execute, sql, params, many, context):
        if current[0] is not None:
            trips[current[0]][0] += 1
            trips[current[0]][1] += sql.count("; ") + 1
        return execute(sql, params, many, context)

    wrapping = connection.execute_wrapper(tally)
    wrapping.__enter__()

    def counted_call(name: str, measured: bool, function):
        answer = {}

        def call():
            answer["value"] = function()

        if measured:
            current[0] = name
            measure(callback(call), f"route {name}".encode())
            current[0] = None
            counted[name] += 1
        else:
            call()
        return answer["value"]

    for number in range(warmup + cases):
        measured = number >= warmup
        if number == warmup:
            before = {} if plain else _database_work(connection)
            gc.collect()
            gc.freeze()
            gc.disable()
        person = {"name": f"Bench Person {number}", "national_id": PERSON_IDS[number % len(PERSON_IDS)]}
        case = counted_call(
            "start",
            measured,
            lambda person=person: services.start_case(
                actor=users["kari"], process_key=PROCESS, person=person, participants=participants
            ),
        )
        overrides = {"has_home": False, "home_found": True}
        while True:
            task = Task.objects.filter(case=case, status__in=ACTIVE_TASK_STATUSES).order_by("id").first()
            if task is None:
                break
            if task.element_id not in data_for:
                schema, _ = runtime_for(task.instance.definition_id).form_for(task.element_id)
                data_for[task.element_id] = sample_form_data(schema, overrides)
            counted_call(
                "complete",
                measured,
                lambda task=task: services.complete_task(
                    actor=worker[task.agency_id], task_id=task.pk, data=data_for[task.element_id]
                ),
            )
    if plain:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            (backend,) = cursor.fetchone()
        connection.close()
        return {"calls": counted, "backend_pid": backend}
    connection.close()
    work = {key: value - before[key] for key, value in _database_work(connection).items()}
    connection.close()
    wrapping.__exit__(None, None, None)
    return {
        "calls": counted,
        "round_trips_per_call": {name: round(t[0] / max(counted[name], 1), 2) for name, t in trips.items()},
        "statements_per_call": {name: round(t[1] / max(counted[name], 1), 2) for name, t in trips.items()},
        "database_work_counted_cases": work,
    }


def _database_work(connection) -> dict:
    """This database's counters, after closing the connection (a backend reports at its exit)."""
    import time

    connection.close()
    time.sleep(1.5)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT xact_commit, blks_hit + blks_read, tup_returned, tup_fetched, tup_inserted,"
            " tup_updated, tup_deleted FROM pg_stat_database WHERE datname = current_database()"
        )
        row = cursor.fetchone()
    names = ("commits", "blocks", "returned", "fetched", "inserted", "updated", "deleted")
    return dict(zip(names, row, strict=True))


def summary(directory: str) -> dict:
    from bench.http.instructions import summary as by_route

    report = by_route(directory)
    report.pop("per completion round", None)
    return report


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.service_instructions", description=__doc__.splitlines()[0])
    parser.add_argument("step", choices=["prepare", "run", "summary"])
    parser.add_argument("directory", nargs="?", help="summary: the directory of callgrind's files")
    parser.add_argument("--database", help="prepare, run: a database name on DATABASE_URL's server")
    parser.add_argument("--cases", type=int, default=3, help="cases counted (run; default 3)")
    parser.add_argument("--warmup", type=int, default=3, help="cases worked before (run; default 3)")
    parser.add_argument("--plain", action="store_true", help="one connection throughout (for a server under callgrind)")
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
        print(json.dumps(run(url, args.cases, args.warmup, args.plain)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
