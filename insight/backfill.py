"""Rebuilding the summary tables from what is recorded: cases, outcomes, tasks, timer events.

For an installation that had cases before the tables existed. It replaces every summary
row, so it must not run after people have been erased (their cases gone, their figures
only in these tables): ``insight_backfill`` refuses non-empty tables without ``--replace``.
On PostgreSQL the tables are locked for the run: a step that commits meanwhile waits and
adds its increments after the rebuild, so nothing is counted twice or lost.
"""

from __future__ import annotations

from collections import defaultdict

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from insight.models import FiguresVersion, OpenTasksBefore, OpenTasksDue
from insight.recording import DISCHARGE_FIELD, READY_FOR_DISCHARGE_FIELD, TABLES, Tally, scopes_of
from permissions.models import CaseParticipant
from workflows.models import Case, CaseOutcome, CaseStatus, Event, EventKind, Task, TaskStatus

INSERT_CHUNK = 2000


def has_rows() -> bool:
    return any(model._default_manager.exists() for model in TABLES)


def _scopes_by_case() -> dict[int, list[int]]:
    agencies = defaultdict(set)
    for case_id, agency_id in CaseParticipant.objects.values_list("case_id", "agency_id").iterator(chunk_size=5000):
        agencies[case_id].add(agency_id)
    return {case_id: scopes_of(ids) for case_id, ids in agencies.items()}


def tally_history() -> Tally:
    tally = Tally()
    scopes = _scopes_by_case()
    outcomes = {outcome.case_id: outcome for outcome in CaseOutcome.objects.select_related("kind")}
    cases = Case.objects.values_list("pk", "process_key", "status", "opened_at", "closed_at")
    for case_id, process_key, status, opened_at, closed_at in cases.iterator(chunk_size=5000):
        own = scopes.get(case_id, scopes_of(()))
        tally.case_opened(own, day=timezone.localdate(opened_at), process_key=process_key)
        if status == CaseStatus.COMPLETED and closed_at is not None:
            day = timezone.localdate(closed_at)
            tally.case_closed(own, day=day, process_key=process_key, outcome=outcomes.get(case_id))
    tasks = Task.objects.filter(status=TaskStatus.COMPLETED, completed_at__isnull=False).values_list(
        "case_id", "instance__definition_id", "element_id", "agency_id", "created_at", "completed_at", "due_at"
    )
    for case_id, definition_id, element_id, agency_id, created_at, completed_at, due_at in tasks.iterator(
        chunk_size=5000
    ):
        tally.task_completed(
            scopes.get(case_id, scopes_of(())),
            definition_id=definition_id,
            element_id=element_id,
            agency_id=agency_id,
            created_at=created_at,
            completed_at=completed_at,
            due_at=due_at,
        )
    timers = Event.objects.filter(kind=EventKind.TIMER_FIRED, instance__isnull=False).values_list(
        "case_id", "instance__definition_id", "element_id", "created_at"
    )
    for case_id, definition_id, element_id, created_at in timers.iterator(chunk_size=5000):
        tally.timer_fired(
            scopes.get(case_id, scopes_of(())),
            day=timezone.localdate(created_at),
            definition_id=definition_id,
            element_id=element_id,
        )
    _tally_discharges(tally, scopes)
    return tally


def _tally_discharges(tally: Tally, scopes: dict[int, list[int]]) -> None:
    """Each completion that wrote the discharge date, on the day it was completed (as the
    step counted it: a date in a month already ended then counts in the month recorded)."""
    discharged = Case.objects.filter(
        **{f"data__{DISCHARGE_FIELD}__isnull": False, f"data__{READY_FOR_DISCHARGE_FIELD}__isnull": False}
    )
    completions = Event.objects.filter(
        kind=EventKind.TASK_COMPLETED, case__in=discharged, task__completed_at__isnull=False
    ).values_list("case_id", "detail", "task__completed_at")
    days = defaultdict(list)
    for case_id, detail, completed_at in completions.iterator(chunk_size=5000):
        if DISCHARGE_FIELD in (detail or {}).get("fields", ()):
            days[case_id].append(timezone.localdate(completed_at))
    for case_id, data in discharged.values_list("pk", "data").iterator(chunk_size=1000):
        for day in days.get(case_id, ()):
            tally.discharged(scopes.get(case_id, scopes_of(())), data, day=day)


def rebuild() -> dict[str, int]:
    """Replace every summary row by the counts of the recorded history; rows per table."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            tables = ", ".join(connection.ops.quote_name(model._meta.db_table) for model in TABLES)
            with connection.cursor() as cursor:
                cursor.execute(f"LOCK TABLE {tables} IN EXCLUSIVE MODE")
        for model in TABLES:
            model._default_manager.all().delete()
        tally = tally_history()
        written: dict[str, int] = {}
        for model in TABLES:
            objects = model._default_manager.bulk_create(tally.objects(model), batch_size=INSERT_CHUNK)
            written[str(model._meta.model_name)] = len(objects)
        if connection.vendor == "postgresql":
            # Open tasks by deadline, the days before yesterday folded (migration 0012's function).
            with connection.cursor() as cursor:
                cursor.execute("SELECT insight_open_tasks_rebuild()")
            written[str(OpenTasksDue._meta.model_name)] = OpenTasksDue.objects.count()
            written[str(OpenTasksBefore._meta.model_name)] = OpenTasksBefore.objects.count()
        # Every scope's figures changed: no cached figure of before the rebuild is used again.
        FiguresVersion.objects.update(version=F("version") + 1)
        FiguresVersion.objects.bulk_create(
            [FiguresVersion(scope=scope, version=1) for scope in tally.scopes()], ignore_conflicts=True
        )
    return written
