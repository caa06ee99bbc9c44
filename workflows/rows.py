"""Writing a step's rows without the ORM's per-statement overhead.

Completing a task writes five to seven rows (the task, the case, the instance, new tasks,
their events and jobs). Building each of those statements through the ORM cost more
Python time than the database spent executing it (make bench: 0.2-0.3 ms per statement
on a 2-vCPU machine), so the hot path compiles each INSERT and UPDATE once per model and
column list and keeps it.

The statements come from the model's own metadata (table, columns, quoting) and the
values are prepared by the fields themselves (``pre_save`` and ``get_db_prep_save``), so
they write what ``save(update_fields=...)`` and ``bulk_create()`` would write, on
PostgreSQL and SQLite alike. Model signals are not sent: nothing listens on these models
(``tests/workflows/test_rows.py`` keeps it so).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache, lru_cache

from django.db import connection
from django.db.models import Model

from permissions.models import Agency

from .models import (
    ACTIVE_TASK_STATUSES,
    Case,
    CaseParticipant,
    Job,
    JobKind,
    JobStatus,
    ProcessInstance,
    Task,
    TaskStatus,
)


def update(obj: Model, field_names: tuple[str, ...]) -> int:
    """UPDATE ``field_names`` of ``obj``'s row; ``auto_now`` fields among them are stamped."""
    sql, fields = _update_sql(connection.vendor, type(obj), tuple(field_names))
    params = [field.get_db_prep_save(field.pre_save(obj, False), connection) for field in fields]
    params.append(obj.pk)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def insert(objs: list[Model]) -> None:
    """INSERT ``objs`` (one model) in one statement and set their primary keys."""
    if not objs:
        return
    model = type(objs[0])
    if not connection.features.can_return_rows_from_bulk_insert:  # SQLite before 3.35
        model.objects.bulk_create(objs)
        return
    sql, fields = _insert_sql(connection.vendor, model, len(objs))
    params = []
    for obj in objs:
        _attach_saved_parents(obj, fields)
        params += [field.get_db_prep_save(field.pre_save(obj, True), connection) for field in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for obj, (pk,) in zip(objs, cursor.fetchall(), strict=True):
            obj.pk = pk
    for obj in objs:
        obj._state.adding, obj._state.db = False, connection.alias


def complete_open_task(task_id: int, actor_id: int, now) -> bool:
    """Mark the task completed by ``actor_id`` if it is still open or claimed by them.

    The condition is evaluated on the row's latest version under the row lock, so of two
    people completing one task exactly one gets True.
    """
    sql = _complete_task_sql(connection.vendor)
    completed_at = Task._meta.get_field("completed_at").get_db_prep_save(now, connection)
    with connection.cursor() as cursor:
        cursor.execute(sql, [TaskStatus.COMPLETED, completed_at, actor_id, actor_id, task_id,
                             *ACTIVE_TASK_STATUSES, actor_id])
        return cursor.rowcount == 1


def move_pending_timer(instance_id: int, due) -> bool:
    """Move the instance's pending timer job to ``due``; False when it has none."""
    sql = _move_timer_sql(connection.vendor)
    due_at = Job._meta.get_field("due_at").get_db_prep_save(due, connection)
    with connection.cursor() as cursor:
        cursor.execute(sql, [due_at, instance_id, JobKind.TIMER, JobStatus.PENDING])
        return cursor.rowcount > 0


def locked_task(task_id: int) -> Task | None:
    """The task with its agency, and its instance and case rows locked (``FOR UPDATE OF``).

    The task row is not locked: every writer of tasks locks the instance first, so
    locking both in one statement could deadlock. Its status may therefore be older than
    the lock; ``complete_open_task`` re-checks it.
    """
    select = _locked_task_select(connection.vendor)
    with connection.cursor() as cursor:
        cursor.execute(select.sql, [task_id])
        row = cursor.fetchone()
    if row is None:
        return None
    task, agency, instance, case = select.build(row)
    task.agency, task.instance, task.case, instance.case = agency, instance, case, case
    return task


def participant_agencies(case_id: int) -> dict[str, Agency]:
    """The agency playing each agency kind (lane) in the case."""
    select = _participants_select(connection.vendor)
    with connection.cursor() as cursor:
        cursor.execute(select.sql, [case_id])
        return {participant.kind: agency for participant, agency in map(select.build, cursor.fetchall())}


# --- statements, built once per database vendor --------------------------------------------


def _column(name: str) -> str:
    return connection.ops.quote_name(name)


def _pk(meta) -> str:
    return _column(meta.pk.column)


def _field(meta, name: str) -> str:
    """The quoted column of field ``name`` (a foreign key's ``*_id`` column too)."""
    return _column(meta.get_field(name).column)


@cache
def _update_sql(vendor: str, model: type[Model], field_names: tuple[str, ...]):
    meta = model._meta
    fields = tuple(meta.get_field(name) for name in field_names)
    assignments = ", ".join(f"{_column(field.column)} = %s" for field in fields)
    # Only quoted names from the model's metadata are formatted in; values are parameters.
    sql = f"UPDATE {_column(meta.db_table)} SET {assignments} WHERE {_column(meta.pk.column)} = %s"
    return sql, fields


@lru_cache(maxsize=256)
def _insert_sql(vendor: str, model: type[Model], rows: int):
    meta = model._meta
    fields = tuple(field for field in meta.concrete_fields if field is not meta.pk)
    columns = ", ".join(_column(field.column) for field in fields)
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    sql = (f"INSERT INTO {_column(meta.db_table)} ({columns}) VALUES {', '.join([row] * rows)} "
           f"RETURNING {_column(meta.pk.column)}")
    return sql, fields


@cache
def _complete_task_sql(vendor: str) -> str:
    meta = Task._meta
    column = {name: _column(meta.get_field(name).column) for name in
              ("status", "completed_at", "completed_by", "assignee")}
    return (
        f"UPDATE {_column(meta.db_table)} SET {column['status']} = %s, {column['completed_at']} = %s, "
        f"{column['completed_by']} = %s, {column['assignee']} = COALESCE({column['assignee']}, %s) "
        f"WHERE {_column(meta.pk.column)} = %s AND {column['status']} IN (%s, %s) "
        f"AND ({column['assignee']} IS NULL OR {column['assignee']} = %s)"
    )


def _attach_saved_parents(obj: Model, fields) -> None:
    """A foreign key set to an object saved after this one was built gets its id now
    (what bulk_create does); an unsaved parent is a bug, not a NULL."""
    for field in fields:
        if field.is_relation and field.is_cached(obj):
            parent = field.get_cached_value(obj)
            if parent is None:
                continue
            if parent.pk is None:
                raise ValueError(f"{type(obj).__name__}.{field.name} refers to an unsaved {type(parent).__name__}")
            if getattr(obj, field.attname) is None:
                setattr(obj, field.attname, parent.pk)


@cache
def _move_timer_sql(vendor: str) -> str:
    meta = Job._meta
    return (f"UPDATE {_column(meta.db_table)} SET {_field(meta, 'due_at')} = %s WHERE {_field(meta, 'instance')} = %s "
            f"AND {_field(meta, 'kind')} = %s AND {_field(meta, 'status')} = %s")


@dataclass(frozen=True)
class _Select:
    """A SELECT of several models' columns, and how to turn a row back into model objects
    (with the same converters the ORM applies: JSON, dates and UUIDs come back alike)."""

    sql: str
    parts: tuple  # (model, attnames, [(column expression, converters)])

    def build(self, row) -> list[Model]:
        objs, index = [], 0
        for model, attnames, columns in self.parts:
            values = []
            for column, converters in columns:
                value = row[index]
                index += 1
                for converter in converters:
                    value = converter(value, column, connection)
                values.append(value)
            objs.append(model.from_db(connection.alias, attnames, values))
        return objs


def _select(models: list[tuple[str, type[Model], tuple[str, ...] | None]], rest: str) -> _Select:
    """``models``: (table alias, model, field names or None for all concrete fields)."""
    columns, parts = [], []
    for alias, model, names in models:
        # In the model's field order: Model.from_db() matches a partial row by that order.
        wanted = None if names is None else {model._meta.get_field(name) for name in names}
        fields = [field for field in model._meta.concrete_fields if wanted is None or field in wanted]
        part_columns = []
        for field in fields:
            column = field.get_col(alias)
            part_columns.append((column, connection.ops.get_db_converters(column)
                                 + column.get_db_converters(connection)))
            columns.append(f"{_column(alias)}.{_column(field.column)}")
        parts.append((model, [field.attname for field in fields], part_columns))
    return _Select(sql=f"SELECT {', '.join(columns)} {rest}", parts=tuple(parts))


@cache
def _locked_task_select(vendor: str) -> _Select:
    task, agency, instance, case = (model._meta for model in (Task, Agency, ProcessInstance, Case))
    lock = " FOR UPDATE OF i, c" if connection.features.has_select_for_update_of else ""
    return _select(
        [
            ("t", Task, ("id", "spiff_task_id", "instance", "case", "element_id", "name", "agency", "status",
                         "assignee")),
            ("a", Agency, None),
            ("i", ProcessInstance, ("id", "case", "definition", "state", "status", "next_timer_at", "version")),
            ("c", Case, ("id", "data", "data_sources", "status")),
        ],
        f"FROM {_column(task.db_table)} t "
        f"JOIN {_column(agency.db_table)} a ON a.{_pk(agency)} = t.{_field(task, 'agency')} "
        f"JOIN {_column(instance.db_table)} i ON i.{_pk(instance)} = t.{_field(task, 'instance')} "
        f"JOIN {_column(case.db_table)} c ON c.{_pk(case)} = i.{_field(instance, 'case')} "
        f"WHERE t.{_pk(task)} = %s{lock}",
    )


@cache
def _participants_select(vendor: str) -> _Select:
    participant, agency = CaseParticipant._meta, Agency._meta
    return _select(
        [("p", CaseParticipant, ("id", "kind")), ("a", Agency, None)],
        f"FROM {_column(participant.db_table)} p "
        f"JOIN {_column(agency.db_table)} a ON a.{_pk(agency)} = p.{_field(participant, 'agency')} "
        f"WHERE p.{_field(participant, 'case')} = %s",
    )
