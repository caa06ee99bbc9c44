"""`make bench`: the prison-release process through the service layer (one caller, then
several at once in one process), beside its two floors: the bare engine loop and the
database's share alone (``bench_floor``); then timers fired by worker processes.

Runs in a throw-away test database on the configured server, so the figures are for the
real database (PostgreSQL when DATABASE_URL points to it) and no demo data is touched.
"""

from __future__ import annotations

import statistics
import threading
import time

import psutil
from django.db import connection, connections

from bench.http.cpu import used
from bench.samples import sample_form_data
from bpmn.engine import runtime as engine
from bpmn.loading import bpmn_files, forms_for
from bpmn.registry import runtime_for
from bpmn.services import deploy_definition
from permissions.demo import seed_demo_cast
from permissions.models import Agency
from workflows import services
from workflows.models import ACTIVE_TASK_STATUSES, Task

PROCESS = "prison_release_to_housing"
KINDS = ("prison", "nav", "health", "housing")
# Synthetic test numbers (month + 80); the individual digits vary per case.
PERSON_IDS = ["17912099997", "29822099635", "05840399895"]


def _percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))
    return ordered[index]


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 3)


def run(*, cases: int = 200, processes_dir, timer_count: int = 500, threads: int = 4) -> dict:
    for path in bpmn_files([processes_dir]):
        deploy_definition(
            actor=None, bpmn_xml=path.read_bytes(), forms=forms_for(path), filename=path.name, check_permission=False
        )
    seed_demo_cast("bench-password")
    from django.contrib.auth import get_user_model

    users = {u.username: u for u in get_user_model().objects.all()}
    agencies = {a.kind: a for a in Agency.objects.all()}
    worker = {
        agencies["prison"].pk: users["kari"],
        agencies["nav"].pk: users["nils"],
        agencies["health"].pk: users["helga"],
        agencies["housing"].pk: users["bjorn"],
    }
    participants = {kind: agencies[kind].pk for kind in KINDS}

    start_times, case_rows = [], []
    for i in range(cases):
        person = {"name": f"Bench Person {i}", "national_id": PERSON_IDS[i % len(PERSON_IDS)]}
        began = time.perf_counter()
        case_rows.append(
            services.start_case(actor=users["kari"], process_key=PROCESS, person=person, participants=participants)
        )
        start_times.append(time.perf_counter() - began)

    first_task = Task.objects.select_related("instance").filter(case=case_rows[0]).first()
    assert first_task is not None, "a started case has a task"
    definition_runtime = runtime_for(first_task.instance.definition_id)
    data_for = {}
    complete_times = []
    backend = _backend_process()
    cpu_python = cpu_postgresql = 0.0
    for case in case_rows:
        overrides = {"has_home": False, "home_found": True}
        while True:
            task = Task.objects.filter(case=case, status__in=ACTIVE_TASK_STATUSES).order_by("id").first()
            if task is None:
                break
            if task.element_id not in data_for:
                schema, _ = definition_runtime.form_for(task.element_id)
                data_for[task.element_id] = sample_form_data(schema, overrides)
            # The CPU read outside the timed call: the reads cost CPU of their own.
            postgresql_before = used(backend) if backend else 0.0
            python_before = time.process_time()
            began = time.perf_counter()
            services.complete_task(actor=worker[task.agency_id], task_id=task.pk, data=data_for[task.element_id])
            complete_times.append(time.perf_counter() - began)
            cpu_python += time.process_time() - python_before
            if backend:
                cpu_postgresql += used(backend) - postgresql_before

    concurrent = (
        _concurrent_completions(
            users=users,
            worker=worker,
            participants=participants,
            data_for=data_for,
            cases=cases,
            threads=threads,
        )
        if threads > 1
        else None
    )
    from bench.floor import run as database_floor

    floor_case = services.start_case(
        actor=users["kari"],
        process_key=PROCESS,
        participants=participants,
        person={"name": "Floor", "national_id": PERSON_IDS[0]},
    )
    floor = database_floor(Task.objects.select_related("instance", "case").get(case=floor_case), rounds=cases)
    bare = _bare_engine_loop(definition_runtime, data_for, rounds=cases)
    from bench.timers import run as timer_throughput

    timers = timer_throughput(timers=timer_count, user=users["kari"]) if timer_count else None
    return {
        "database": connection.vendor,
        "process": PROCESS,
        "cases": cases,
        "cases_started_per_second": round(cases / sum(start_times), 1),
        "start_case_p50_ms": _ms(statistics.median(start_times)),
        "task_completions": len(complete_times),
        "task_completions_per_second": round(len(complete_times) / sum(complete_times), 1),
        "complete_task_p50_ms": _ms(statistics.median(complete_times)),
        "complete_task_p95_ms": _ms(_percentile(complete_times, 95)),
        # Where a completion's CPU goes, one caller: this process (the service layer, Django,
        # the engine, psycopg) and its PostgreSQL backend (None when the server is not local).
        "cpu_per_completion_ms": {
            "python": round(cpu_python * 1000 / len(complete_times), 3),
            "postgresql": round(cpu_postgresql * 1000 / len(complete_times), 3) if backend else None,
        },
        "concurrent": concurrent,
        "database_floor": floor,
        "bare_engine": bare,
        "timer_throughput": timers,
    }


def _backend_process() -> psutil.Process | None:
    """The PostgreSQL server process of this connection, when it runs on this machine."""
    if connection.vendor != "postgresql":
        return None
    connection.ensure_connection()
    try:
        process = psutil.Process(connection.connection.info.backend_pid)
        return process if "postgres" in process.name() else None
    except psutil.Error:  # another machine's process id
        return None


def _concurrent_completions(*, users, worker, participants, data_for, cases: int, threads: int) -> dict:
    """Throughput of one process serving several callers at once, as a threaded web server
    does: ``threads`` callers, each working its own cases to the end, each on its own
    database connection. Asking for the case's next task is part of each caller's loop."""
    case_ids = [
        services.start_case(
            actor=users["kari"],
            process_key=PROCESS,
            participants=participants,
            person={"name": f"Concurrent {i}", "national_id": PERSON_IDS[i % len(PERSON_IDS)]},
        ).pk
        for i in range(cases)
    ]
    completions, failures = [0] * threads, []
    latencies: list[list[float]] = [[] for _ in range(threads)]
    barrier = threading.Barrier(threads + 1)

    def caller(index: int) -> None:
        try:
            barrier.wait()
            for case_id in case_ids[index::threads]:
                while True:
                    task = (
                        Task.objects.filter(case_id=case_id, status__in=ACTIVE_TASK_STATUSES)
                        .only("id", "element_id", "agency_id")
                        .order_by("id")
                        .first()
                    )
                    if task is None:
                        break
                    began = time.perf_counter()
                    services.complete_task(
                        actor=worker[task.agency_id], task_id=task.pk, data=data_for[task.element_id]
                    )
                    latencies[index].append(time.perf_counter() - began)
                    completions[index] += 1
        except Exception as exc:  # reported below: a failed bench must not look fast
            failures.append(repr(exc))
        finally:
            connections.close_all()

    pool = [threading.Thread(target=caller, args=(i,)) for i in range(threads)]
    for thread in pool:
        thread.start()
    barrier.wait()
    began = time.perf_counter()
    for thread in pool:
        thread.join()
    elapsed = time.perf_counter() - began
    if failures:
        raise RuntimeError(f"concurrent callers failed: {failures[:3]}")
    every = [latency for per_thread in latencies for latency in per_thread]
    return {
        "threads": threads,
        "task_completions": sum(completions),
        "task_completions_per_second": round(sum(completions) / elapsed, 1),
        "complete_task_p50_ms": _ms(statistics.median(every)),
        "complete_task_p95_ms": _ms(_percentile(every, 95)),
    }


def _bare_engine_loop(definition_runtime, data_for, *, rounds: int) -> dict:
    """The ceiling: load state text, complete a task, run engine steps, save - no database."""
    bundle = definition_runtime.bundle
    step_times = []
    for _ in range(rounds):
        workflow = engine.new_workflow(bundle)
        engine.advance(workflow)
        state = engine.dump_workflow(workflow)
        while True:
            began = time.perf_counter()
            workflow = engine.load_workflow(bundle, state)
            ready = engine.ready_user_tasks(workflow)
            if not ready:
                break
            engine.complete_user_task(workflow, ready[0].id, data_for.get(ready[0].element_id, {}))
            engine.advance(workflow)
            state = engine.dump_workflow(workflow)
            step_times.append(time.perf_counter() - began)
    return {
        "steps": len(step_times),
        "steps_per_second": round(len(step_times) / sum(step_times), 1),
        "step_p50_ms": _ms(statistics.median(step_times)),
        "step_p95_ms": _ms(_percentile(step_times, 95)),
    }
