"""The history a live municipality database holds, loaded before ``bench.http``'s node starts.

``python -m bench.http --history-cases N`` (and ``bench.http.serial_cpu``) load N cases with
``bench.scale.load``'s rows and spread (3.33 tasks a case: 30,000 cases, 100,000 tasks; 70 %
closed, the open ones with one task waiting, persons, participations, grants, process
instances, events, access log, incidents), then ``VACUUM ANALYZE`` and the leaders' summary
tables rebuilt from them (``insight.backfill``), before the server's
connections plan anything: they plan on tables of a live database's size, with statistics,
not on the empty tables of a new one (README, "Production server").

The history's cases belong to ``bench.scale``'s own 55 agencies ("... skala NN"), whose users
cannot sign in; the demo cast's agencies, which the clients work, hold none of them, so each
client's inbox lists only the bench's own open tasks (one page), as an agency that works its
inbox down sees it, over tables that hold everyone's history.

Imported once Django is set up: ``python -m bench.http.history_main N`` (the harness starts
it with the node's environment) prints its facts as JSON on the last line.
"""

from __future__ import annotations

import time

from django.db import connection

from bench.scale.load import load
from insight import backfill

TASKS_PER_CASE = 10 / 3  # bench.scale's: 300,000 cases for a million tasks


def load_history(cases: int) -> dict:
    """Load ``cases`` cases of history; the facts the bench reports."""
    started = time.monotonic()
    loaded = load(cases=cases, tasks=round(cases * TASKS_PER_CASE), password=None)
    seconds = time.monotonic() - started
    # The leaders' summary tables count what steps did; rows written by SQL took none, so
    # they are rebuilt from the history, as an installation's are (bench.scale does the same).
    started = time.monotonic()
    backfill.rebuild()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # the summary tables' new rows
    insight_seconds = time.monotonic() - started
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM workflows_case")
        (all_cases,) = cursor.fetchone()
    return {
        "history_cases": loaded.cases,
        "history_tasks": loaded.tasks,
        "cases_in_database": all_cases,
        "load_seconds": round(seconds, 1),
        "insight_backfill_seconds": round(insight_seconds, 1),
    }
