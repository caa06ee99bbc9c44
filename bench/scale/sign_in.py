"""Inside the bench database's Django (``bench.scale.load_main`` runs it): load the rows (or
find them, in a database kept from an earlier run), fill the insight summary tables from
them, give a signed-in session to each user the bench reads as, and name one case of each
one's agency. The API tokens come over HTTP, as a client gets them."""

from __future__ import annotations

import time

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Sum
from django.test import Client

from bench.scale.load import AGENCY_COUNTS, Loaded, add_leaders, bench_case, load, username
from insight import backfill
from insight.models import WHOLE_MUNICIPALITY, TaskTime
from workflows.models import Task, TaskStatus


def _found() -> Loaded:
    """What an earlier run loaded into this database (``--reuse-database``)."""
    if not get_user_model().objects.filter(username=username("nav", 0)).exists():
        raise SystemExit("this database holds no bench.scale rows: load it first (--keep-database)")
    with connection.cursor() as cursor:
        cursor.execute("SELECT (SELECT count(*) FROM workflows_case), (SELECT count(*) FROM workflows_task)")
        cases, tasks = cursor.fetchone()
    users = {}
    for kind, count in AGENCY_COUNTS.items():
        users[f"busy {kind}"] = username(kind, 0)
        users[f"quiet {kind}"] = username(kind, count - 1)
    return Loaded(cases=cases, tasks=tasks, users=users)


def _summaries_current() -> bool:
    """The summary tables count every completed task (a kept database filled before)."""
    counted = TaskTime.objects.filter(scope=WHOLE_MUNICIPALITY).aggregate(n=Sum("completed"))["n"] or 0
    return counted == Task.objects.filter(status=TaskStatus.COMPLETED, completed_at__isnull=False).count()


def load_and_sign_in(cases: int, tasks: int, password: str, *, reuse: bool = False) -> dict:
    started = time.monotonic()
    loaded = _found() if reuse else load(cases=cases, tasks=tasks, password=password, readers=True)
    seconds = time.monotonic() - started
    # The insight pages read summary tables that steps keep current; rows written by SQL
    # took no step, so the summaries are rebuilt from them, as an installation's are.
    started = time.monotonic()
    summary_rows = None if reuse and _summaries_current() else backfill.rebuild()
    insight_seconds = time.monotonic() - started
    leaders = add_leaders(password)
    users = get_user_model().objects
    readers = {role: users.get(username=name) for role, name in {**loaded.users, **leaders}.items()}
    readers["process admin"] = users.get(username="ada")
    signed_in = {}
    for role, user in readers.items():
        client = Client()
        client.force_login(user)
        case = bench_case(user)
        signed_in[role] = {
            "username": user.username,
            "session": client.cookies["sessionid"].value,
            "case": case.pk if case else None,
        }
    return {
        "cases": loaded.cases,
        "tasks": loaded.tasks,
        "load_seconds": seconds,
        "insight_backfill_seconds": insight_seconds,
        "insight_rows": summary_rows,
        "readers": signed_in,
    }
