"""The database's share of a task completion, measured alone: `make bench` prints it.

The same round trips a completion makes (lock and read, complete the task, read the
participants; update the case and the instance, insert a new task; insert its events and
notification jobs, NOTIFY; commit), with the same statements (``workflows.steps.rows``) and
values prepared once beforehand, sent as a step sends them (each trip's statements
prepared on the server and pipelined: ``rows.Batch``) through bare psycopg in a loop: no
Django, no engine, no permission check or form validation. No service-layer completion
can be faster than this on the same machine and server.
"""

from __future__ import annotations

import statistics
import time
import uuid
from collections.abc import Sequence
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.models import Model
from django.utils import timezone

from workflows.models import Event, EventKind, Job, JobKind, Task
from workflows.steps import rows


def run(task: Task, *, rounds: int = 300) -> dict | None:
    """``task``: an open task (its row is written but stays open). PostgreSQL only."""
    db = connections[DEFAULT_DB_ALIAS]
    if db.vendor != "postgresql":
        return None
    with transaction.atomic():  # the locking read compiles only inside a transaction
        trips = _round_trips(db, task)
    db.ensure_connection()
    raw = db.connection  # Django's own psycopg connection, in autocommit between blocks
    times = []
    for _ in range(rounds):
        began = time.perf_counter()
        with raw.transaction():
            new_task_id = None
            for statements, returns_task_id in trips:
                filled = [
                    (
                        sql,
                        [
                            uuid.uuid4() if param is _NEW_UUID else new_task_id if param is _NEW_TASK else param
                            for param in params
                        ],
                    )
                    for sql, params in statements
                ]
                for cursor in rows.send_pipelined(raw, filled):  # read every result, as the service layer does
                    if cursor.description is not None:
                        last_rows = cursor.fetchall()
                    cursor.close()
                if returns_task_id:  # the second trip ends with the new task's id
                    new_task_id = last_rows[0][0]
        times.append(time.perf_counter() - began)
    return {
        "transactions": rounds,
        "per_second": round(rounds / sum(times), 1),
        "p50_ms": round(statistics.median(times) * 1000, 3),
    }


_NEW_UUID, _NEW_TASK = object(), object()  # placeholders filled in each round


def _round_trips(db, task: Task) -> list[tuple[list[tuple[str, list]], bool]]:
    """The three batches of a completion that creates one task: ((statement, params) of
    each, whether the batch ends with the new task's id)."""
    instance, case = task.instance, task.case
    now = timezone.now()
    task_table, task_pk = db.ops.quote_name(Task._meta.db_table), _quoted_pk(db, Task)
    status = db.ops.quote_name(Task._meta.get_field("status").column)
    first = [
        rows._LOCKED_TASK.statement(task.pk),
        (f"UPDATE {task_table} SET {status} = {status} WHERE {task_pk} = %s", [task.pk]),  # writes, stays open
        rows._PARTICIPANTS_BY_TASK.statement(task.pk),
    ]
    new_task = Task(
        spiff_task_id=uuid.uuid4(),
        instance=instance,
        case=case,
        element_id=task.element_id,
        name=task.name,
        agency_id=task.agency_id,
        due_at=now,
    )
    second = [
        _update(db, case, ("data", "data_sources")),
        _update(db, instance, ("state", "version", "updated_at")),
        _insert(db, [new_task], new_uuid_field="spiff_task_id", returning=True),
    ]
    events = [
        Event(
            case=case, instance=instance, task=new_task, kind=kind, agency_id=task.agency_id, detail={"name": task.name}
        )
        for kind in (EventKind.TASK_COMPLETED, EventKind.TASK_CREATED, EventKind.HANDOFF)
    ]
    notifications = [
        Job(kind=JobKind.NOTIFICATION, due_at=now, instance=instance, case=case, payload={"event": "task_created"})
        for _ in range(2)
    ]
    third = [_insert(db, events, new_task_field="task"), _insert(db, notifications), ("NOTIFY bench_floor", [])]
    return [(first, False), (second, True), (third, False)]


def _update(db: Any, obj: Model, field_names: tuple[str, ...]) -> tuple[str, list[Any]]:
    sql, fields = rows._update_sql(db.vendor, type(obj), field_names)
    return sql, [field.get_db_prep_save(field.pre_save(obj, False), db) for field in fields] + [obj.pk]


def _insert(
    db: Any, objs: Sequence[Model], *, new_uuid_field=None, new_task_field=None, returning=False
) -> tuple[str, list]:
    sql, fields = rows._insert_sql(db.vendor, type(objs[0]), len(objs))
    params = []
    for obj in objs:
        for field in fields:
            if field.name == new_uuid_field:
                params.append(_NEW_UUID)
            elif field.name == new_task_field:
                params.append(_NEW_TASK)
            else:
                params.append(field.get_db_prep_save(field.pre_save(obj, True), db))
    return (f"{sql} RETURNING {_quoted_pk(db, type(objs[0]))}" if returning else sql), params


def _quoted_pk(db, model) -> str:
    return db.ops.quote_name(model._meta.pk.column)
