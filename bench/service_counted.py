"""The loop ``bench.service_instructions`` counts (imported once Django is set up): ``make
bench``'s prison-release cases through ``services.start_case`` and ``services.complete_task``,
each counted call between callgrind's client requests."""

from __future__ import annotations

import gc
import time
from pathlib import Path

from django.contrib.auth import get_user_model
from django.db import connection

from bench.http.instructions import _trampolines
from bench.samples import sample_form_data
from bpmn.loading import bpmn_files, forms_for
from bpmn.registry import runtime_for
from bpmn.services import deploy_definition
from permissions.demo import seed_demo_cast
from permissions.models import Agency
from workflows import services
from workflows.models import ACTIVE_TASK_STATUSES, Task

PROCESS = "prison_release_to_housing"
KINDS = ("prison", "nav", "health", "housing")
PERSON_IDS = ["17912099997", "29822099635", "05840399895"]  # as bench.service's
WORKERS = {"prison": "kari", "nav": "nils", "health": "helga", "housing": "bjorn"}


def deploy_and_seed(processes: Path) -> None:
    for path in bpmn_files([processes]):
        deploy_definition(
            actor=None, bpmn_xml=path.read_bytes(), forms=forms_for(path), filename=path.name, check_permission=False
        )
    seed_demo_cast("bench-password")


def run(cases: int, warmup: int, plain: bool = False) -> dict:
    users = {u.username: u for u in get_user_model().objects.all()}
    agencies = {a.kind: a for a in Agency.objects.all()}
    worker = {agencies[kind].pk: users[name] for kind, name in WORKERS.items()}
    participants = {kind: agencies[kind].pk for kind in KINDS}
    measure, callback = _trampolines()
    counted = {"start": 0, "complete": 0}
    # Round trips and statements (a pipelined batch's texts are joined by "; ") of the counted calls.
    trips = {"start": [0, 0], "complete": [0, 0]}
    current: list = [None]
    data_for: dict = {}
    before: dict = {}

    def tally(execute, sql, params, many, context):
        if current[0] is not None:
            trips[current[0]][0] += 1
            trips[current[0]][1] += sql.count("; ") + 1
        return execute(sql, params, many, context)

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

    with connection.execute_wrapper(tally):
        for number in range(warmup + cases):
            measured = number >= warmup
            if number == warmup:
                before = {} if plain else _database_work()
                # The collector off while counting, as bench.http.instructions does.
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
    report: dict = {
        "calls": counted,
        "round_trips_per_call": {name: round(t[0] / max(counted[name], 1), 2) for name, t in trips.items()},
        "statements_per_call": {name: round(t[1] / max(counted[name], 1), 2) for name, t in trips.items()},
    }
    if plain:
        # One backend throughout (a server under callgrind counts it whole): its process id.
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            report["backend_pid"] = cursor.fetchone()[0]
    else:
        after = _database_work()
        report["database_work_counted_cases"] = {key: value - before[key] for key, value in after.items()}
    connection.close()
    return report


def _database_work() -> dict:
    """This database's counters (pg_stat_database; a backend reports them at its exit, so the
    connection is closed first). Rough: they move with the server's own work too."""
    connection.close()
    time.sleep(1.5)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT xact_commit, blks_hit + blks_read, tup_returned, tup_fetched, tup_inserted,"
            " tup_updated, tup_deleted FROM pg_stat_database WHERE datname = current_database()"
        )
        row = cursor.fetchone()
    names = ("commits", "blocks", "returned", "fetched", "inserted", "updated", "deleted")
    return dict(zip(names, row, strict=True))
