"""A step's reads and writes in few round trips, without the ORM's per-statement overhead.

Completing a task touches seven to ten rows (the task, the case, the instance, a timer
job, new tasks, their events and jobs). Through the ORM that was eleven statements,
each one a round trip (about 0.25 ms here: two process wake-ups on a shared 2-vCPU
machine) plus 0.2-0.3 ms of Python building it. So the hot path compiles each statement
once per model and column list, and a ``Batch`` sends a step's statements together: one
round trip on PostgreSQL (psycopg's pipeline mode, each statement prepared on the server;
several statements in one query text when nothing may be prepared); one after the other
on SQLite, which has no round trips to save.

The statements come from the model's own metadata (table, columns, quoting) and the
values are what the fields themselves prepare (``pre_save`` and ``get_db_prep_save``, or
their equal for the common value kinds: ``permissions.prepared.save_values``), so they
write what ``save(update_fields=...)`` and ``bulk_create()`` would write. Model
signals are not sent: nothing listens on these models (``tests/workflows/test_rows.py``
keeps it so).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import cast

import psycopg
from django.core.exceptions import ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.models import Field, Model, Subquery

from permissions import rules
from permissions.models import Agency, CaseParticipant
from permissions.prepared import (
    Prepared,
    execute_through,
    numbered_placeholders,
    prepares_statements,
    save_values,
)
from workflows.models import (
    ACTIVE_TASK_STATUSES,
    Case,
    Incident,
    Job,
    JobKind,
    JobStatus,
    ProcessInstance,
    Task,
    TaskStatus,
    WorkflowEviction,
)


class Batch:
    """Statements sent together at ``flush``; each may hand its result to a callback.

    Nothing is sent before ``flush``: a caller that reads what it queued must flush first.
    """

    def __init__(self):
        # The connection itself, not the ``django.db.connection`` proxy: every attribute
        # read through the proxy is a thread-local lookup, and a step makes a hundred.
        self.db = connections[DEFAULT_DB_ALIAS]
        self._statements: list[tuple[str, list, Callable | None]] = []
        # Indexes in ``_statements`` of writes that may ride in the next statement (``add``).
        self._riders: set[int] = set()
        # Of those, the riders that take no lock (``add``'s ``locks``).
        self._free_riders: set[int] = set()
        self._notified = False
        self._notify: str | None = None  # the channel to NOTIFY at the end of the next flush
        # COMMIT at the end of the next flush, in its round trip (``Step.commits``): set only
        # where ``commits_in_batch`` says the transaction may end there.
        self.commit_at_flush = False

    def add(
        self,
        sql: str,
        params: list,
        on_result: Callable | None = None,
        *,
        rides: bool = False,
        locks: bool = True,
    ) -> None:
        """``on_result(cursor)`` is called with the cursor at this statement's result.

        ``rides``: a write whose result nobody reads and that no later statement of the
        batch reads (the insight counters' upserts, the new tasks' e-mail jobs): on
        PostgreSQL it travels as a data-modifying ``WITH`` of the next statement when that
        one only inserts new rows (``_ride``), one statement less for PostgreSQL to bind,
        start and end. ``locks=False``: the rider takes no row lock and waits on none (an
        insert of new rows that no unique index could make wait: ``insert``'s ``rides``),
        so it may travel beside another rider (``_ride``)."""
        if rides:
            self._riders.add(len(self._statements))
            if not locks:
                self._free_riders.add(len(self._statements))
        self._statements.append((sql, params, on_result))

    def update(self, obj: Model, field_names: tuple[str, ...], *, rides: bool = False) -> None:
        """UPDATE ``field_names`` of ``obj``'s row; ``auto_now`` fields among them are stamped.

        ``rides``: the transaction holds the row's lock already (the step's instance), so the
        update waits on no lock, and the statement that follows it in the batch does not
        read the table: it rides (``add``) without locks."""
        db = self.db
        sql, fields = _update_sql(db.vendor, type(obj), tuple(field_names))
        params: list = []
        save_values(db, type(obj), fields, (obj,), False, params)
        params.append(obj.pk)
        self.add(sql, params, rides=rides, locks=not rides)

    def insert(self, objs: Sequence[Model], *, on_conflict: str = "", rides: bool = False) -> None:
        """INSERT ``objs`` (one model) in one statement; their keys are set at ``flush``.

        ``on_conflict``: an ``ON CONFLICT`` clause (an upsert), instead of returning keys.
        ``rides``: the keys are not read, nor the rows by a later statement of the batch, and
        no unique index could make the insert wait on another transaction's rows: it rides
        (``add``) without locks, and ``objs`` keep no key.
        """
        if not objs:
            return
        db = self.db
        if not db.features.can_return_rows_from_bulk_insert:
            raise ImproperlyConfigured("Brobygger needs SQLite 3.35 or newer (INSERT ... RETURNING)")
        model = type(objs[0])
        sql, fields = _insert_sql(db.vendor, model, len(objs))
        relations = _relations(model)
        for obj in objs:
            _attach_saved_parents(obj, relations)
        params: list = []
        save_values(db, model, fields, objs, True, params)
        if on_conflict:
            self.add(f"{sql} {on_conflict}", params)
            return
        if rides:
            self.add(sql, params, rides=True, locks=False)
            return
        self.add(f"{sql} RETURNING {_pk(type(objs[0])._meta)}", params, lambda cursor: _saved(objs, cursor, db))

    def insert_values(
        self, model: type[Model], columns: tuple[str, ...], rows: list[tuple], *, on_conflict: str
    ) -> None:
        """INSERT ``rows`` of plain values (numbers, text, dates: what the ``columns`` of
        ``model`` store as they are) with an ``ON CONFLICT`` clause, without building model
        instances: the counters every step upserts (``insight.recording``), where the
        instances and their fields' preparation were 5 % of a completion's Python."""
        if rows:
            sql = _insert_columns_sql(self.db.vendor, model, columns, len(rows))
            self.add(f"{sql} {on_conflict}", [value for row in rows for value in row], rides=True)

    def notify(self, channel: str) -> None:
        """PostgreSQL NOTIFY, delivered when the transaction commits (once per batch). Sent
        last in the next flush: where in the transaction makes no difference to when it is
        delivered, and it does not part a rider from the statement it rides in."""
        if self.db.vendor == "postgresql" and not self._notified:
            self._notified = True
            self._notify = channel

    def flush(self) -> None:
        if self._notify is not None:
            self.add(f"NOTIFY {self._notify}", [])
            self._notify = None
        statements, self._statements = self._statements, []
        riders, self._riders = self._riders, set()
        free, self._free_riders = self._free_riders, set()
        commit, self.commit_at_flush = self.commit_at_flush, False
        if not statements:
            return
        if riders and self.db.vendor == "postgresql":
            statements = _ride(statements, riders, free)
        if self.db.vendor != "postgresql":
            with self.db.cursor() as cursor:
                for sql, params, on_result in statements:
                    cursor.execute(sql, params)
                    if on_result is not None:
                        on_result(cursor)
        elif prepares_statements(self.db):
            self._flush_pipelined(statements, commit=commit)
        else:
            self._flush_joined(statements)

    def _flush_joined(self, statements) -> None:
        """The statements merged with their values in the client and sent as one text: the
        one way to send them together when nothing may be prepared on the server."""
        with _client_side_cursor(self.db) as cursor:
            # Each statement merged with its values on its own, then the texts sent as one: psycopg
            # remembers how to split a statement it has seen when it is short, and a step's
            # joined text (over 4 kB, a different one every time) it would parse every time.
            mogrify = cursor.cursor.mogrify
            cursor.execute("; ".join(mogrify(sql, params) for sql, params, _ in statements))
            for index, (_, _, on_result) in enumerate(statements):
                if index:
                    cursor.nextset()
                if on_result is not None:
                    on_result(cursor)

    def _flush_pipelined(self, statements, *, commit: bool = False) -> None:
        """Every statement sent as PostgreSQL's own prepared statement, all of them in one
        round trip (psycopg's pipeline mode): the values travel apart from the text, dumped
        by psycopg's C code instead of quoted into it in Python, and PostgreSQL parses and
        plans each statement once per connection instead of on every step. A step's
        statements are point writes and reads by key (and upserts): one plan serves every
        value, so a generic plan costs nothing (unlike the lists: ``config.database``).

        The batch goes through Django's execute wrappers and query log as one statement,
        its texts joined, as one round trip did before: what counts the trips sees them.

        Inside ``transaction.atomic``, a batch that is the transaction's first statement sends
        its BEGIN in the same round trip (``send_pipelined``); ``commit``: COMMIT ends it."""
        db = self.db
        cursors: list = []
        with db.cursor() as wrapper:
            psycopg_connection = db.connection  # open now: the wrapper's cursor opened it

            def send(_cursor, _sql, _params) -> None:
                cursors.extend(
                    send_pipelined(
                        psycopg_connection,
                        [(sql, params) for sql, params, _ in statements],
                        begin=db.in_atomic_block,
                        commit=commit,
                    )
                )

            try:
                execute_through(
                    wrapper,
                    "; ".join(sql for sql, _, _ in statements),
                    [param for _, params, _ in statements for param in params],
                    send,
                )
                for cursor, (_, _, on_result) in zip(cursors, statements, strict=True):
                    if on_result is not None:
                        on_result(cursor)
            finally:
                for cursor in cursors:
                    cursor.close()


def _ride(
    statements: list[tuple[str, list, Callable | None]], riders: set[int], free: frozenset | set = frozenset()
) -> list:
    """Each run of riders (``Batch.add``) joined to the statement after it as ``WITH ... AS
    (rider)`` when that statement is a plain ``INSERT`` (new rows only: no ``ON CONFLICT``,
    no ``WITH`` of its own) that names none of the riders' tables, and the riders' tables
    are all different. PostgreSQL runs a ``WITH`` write once and to its end whatever the
    outer statement reads, in the outer statement's snapshot: a rider cannot see the outer
    statement's rows nor they its own, nor the riders each other's, which is why none may
    read another's table. A plain insert locks no existing row (but the key rows its
    foreign keys name, which the step holds already), so a rider's row locks are taken in
    its own key order as before, whichever PostgreSQL runs first. At most one rider of a
    run takes locks (``free``: those that take none): two would lock their tables in an
    order PostgreSQL does not promise. A run that cannot ride whole is sent as before: its
    last rider alone joined to the statement after it when it may be."""
    joined: list[tuple[str, list, Callable | None]] = []
    index = 0
    while index < len(statements):
        end = index
        while end in riders:
            end += 1
        if end > index and end < len(statements):
            outer_sql, outer_params, outer_result = statements[end]
            run = statements[index:end]
            tables = [_table_of(sql) for sql, _, _ in run]
            if (
                outer_sql.startswith("INSERT INTO ")
                and " ON CONFLICT " not in outer_sql
                and len(set(tables)) == len(tables)
                and not any(table in outer_sql for table in tables)
                and sum(position not in free for position in range(index, end)) <= 1
            ):
                params = [param for _, rider_params, _ in run for param in rider_params]
                joined.append(
                    (_riding(tuple(sql for sql, _, _ in run), outer_sql), [*params, *outer_params], outer_result)
                )
                index = end + 1
                continue
            joined.extend(statements[index : end - 1])  # the run's first riders on their own
            index = end - 1
        sql, params, on_result = statements[index]
        if index in riders and index + 1 < len(statements) and index + 1 not in riders:
            outer_sql, outer_params, outer_result = statements[index + 1]
            if (
                outer_sql.startswith("INSERT INTO ")
                and " ON CONFLICT " not in outer_sql
                and _table_of(sql) not in outer_sql
            ):
                joined.append((_riding((sql,), outer_sql), [*params, *outer_params], outer_result))
                index += 2
                continue
        joined.append((sql, params, on_result))
        index += 1
    return joined


@lru_cache(maxsize=256)
def _riding(riders: tuple[str, ...], outer: str) -> str:
    names = ", ".join(f"rider{number or ''} AS ({rider})" for number, rider in enumerate(riders))
    return f"WITH {names} {outer}"


def _table_of(sql: str) -> str:
    """The quoted table of ``INSERT INTO "table" ...`` or ``UPDATE "table" ...``."""
    prefix = "UPDATE " if sql.startswith("UPDATE ") else "INSERT INTO "
    return sql[len(prefix) :].split(" ", 1)[0]


def send_pipelined(
    psycopg_connection, statements: Sequence[tuple[str, list]], *, begin: bool = False, commit: bool = False
) -> list:
    """Send ``(sql, params)`` pairs in one pipeline, each statement prepared on the server;
    a raw cursor at each one's result, in order (the caller closes them). Shared with the
    database floor (``bench.floor``), which must send exactly as a step does.

    ``begin``: the caller is in a transaction of its own (Django's ``atomic``). When none is
    open on the server yet, psycopg would send BEGIN before the first statement, in a round
    trip of its own (it syncs the pipeline after it); BEGIN goes first in this pipeline
    instead (``_begins_in_pipeline``). ``commit``: COMMIT goes last (``Step.commits``): the
    transaction ends in this round trip, or, when a statement fails, stays open and failed
    for the caller's rollback (PostgreSQL skips the rest of a pipeline after an error)."""
    cursors = []
    controls = []
    began = begin and _begins_in_pipeline(psycopg_connection)
    try:
        with psycopg_connection.pipeline():
            if began:
                controls.append(_control(psycopg_connection, "BEGIN"))
            for sql, params in statements:
                cursor = psycopg.RawCursor(psycopg_connection)
                cursors.append(cursor)
                cursor.execute(_numbered(sql, len(params)), params, prepare=bool(params))
            if commit:
                controls.append(_control(psycopg_connection, "COMMIT"))
    except BaseException:
        for cursor in cursors:
            cursor.close()
        if began and psycopg_connection.pgconn.transaction_status == psycopg.pq.TransactionStatus.IDLE:
            # BEGIN never ran (or the COMMIT ended the transaction): psycopg begins the next
            # one itself again, so nothing that follows in the caller's block runs autocommitted.
            psycopg_connection.autocommit = False
        raise
    finally:
        for cursor in controls:
            cursor.close()
    if commit and begin and psycopg_connection.autocommit:
        # Ended: a statement after it in the caller's block (there should be none) runs in a
        # transaction psycopg begins and Django's exit commits, not autocommitted.
        psycopg_connection.autocommit = False
    return cursors


def _begins_in_pipeline(psycopg_connection) -> bool:
    """Whether psycopg would begin a transaction before the next statement (not autocommit,
    none open: what its ``_start_query`` asks), which then goes in the pipeline: psycopg is
    switched to autocommit through its public setter, which sends nothing while no
    transaction is open, so it sends no BEGIN of its own; the server's transaction, begun by
    the pipeline's BEGIN, goes on until Django's ``commit()`` or ``rollback()``, which psycopg
    sends by the server's transaction status, not by its autocommit flag. Django switches
    autocommit back on when the block ends, and off at the next block's start, so psycopg's
    flag is Django's again from there (``tests/workflows/test_begin_in_pipeline.py`` holds
    psycopg to this). Not when the transaction is to begin otherwise than a plain BEGIN (an
    isolation level, read only, deferrable in the connection's options): psycopg's words."""
    if psycopg_connection.autocommit:
        return False
    if psycopg_connection.pgconn.transaction_status != psycopg.pq.TransactionStatus.IDLE:
        return False
    if (
        psycopg_connection.isolation_level is not None
        or psycopg_connection.read_only is not None
        or psycopg_connection.deferrable is not None
    ):
        return False
    psycopg_connection.autocommit = True
    return True


def _control(psycopg_connection, command: str):
    """A transaction's BEGIN or COMMIT queued in the pipeline (not prepared)."""
    cursor = psycopg.RawCursor(psycopg_connection)
    cursor.execute(command, prepare=False)
    return cursor


def commits_in_batch(db) -> bool:
    """Whether a step may send COMMIT in its last batch (``Step.commits``): its block is the
    connection's one ``atomic`` block (not inside another's, nor a test's transaction), which
    commits on its exit, on PostgreSQL with pipelines; then Django's ``commit()`` at the block's
    exit finds no transaction open and sends nothing, and its on-commit hooks run as ever."""
    return (
        db.vendor == "postgresql"
        and len(db.atomic_blocks) == 1
        and db.commit_on_exit
        and not db.needs_rollback
        and not db.savepoint_ids
        and prepares_statements(db)
    )


@lru_cache(maxsize=512)
def _numbered(sql: str, count: int) -> str:
    """``sql`` with ``$1``, ``$2`` ... (``numbered_placeholders``), converted once per text:
    a step's statements are a few hundred texts at most (a row count makes a text)."""
    return numbered_placeholders(sql, count)


def _client_side_cursor(db):
    """A cursor that binds parameters in the client, which is what lets several statements
    travel in one query text (PostgreSQL only); the connection's own cursors bind on the
    server when prepared statements are on (``DB_PREPARE_THRESHOLD``). Wrapped as Django
    wraps its cursors (errors, execute wrappers, the query log)."""
    from django.db.backends.postgresql.base import Cursor  # psycopg's ClientCursor, as Django adapts it

    db.close_if_health_check_failed()
    db.ensure_connection()
    with db.wrap_database_errors:
        return db._prepare_cursor(Cursor(db.connection))


@dataclass
class Completion:
    """What completing a task reads and does in its first round trip."""

    task: Task | None = None  # with .agency, .instance and .case (instance and case locked)
    completed: bool = False  # the task was open (or claimed by the actor) and is now completed
    participants: dict[str, Agency] | None = None  # agency kind -> agency of the case
    # Every membership of the actor, each with ``stands`` in the task's case
    # (``rules.memberships_with_standing``): for ``rules.remember_standing``.
    memberships: list | None = None
    # The task's agency still takes part in the case and holds its grant
    # (``rules.agency_works_case``), as the actor's membership in that agency says: False when
    # they have none, and then they may not work the task whatever its agency's standing.
    agency_standing: bool = False
    # (agency id, element id) of the task as the completion found it (its latest version):
    # when they differ from ``task``'s, the task was moved (a version migration) while we
    # waited for the lock, and ``task`` is the row as it was before.
    completed_as: tuple[int, str] | None = None

    @property
    def moved(self) -> bool:
        return (
            self.completed
            and self.task is not None
            and self.completed_as != (self.task.agency_id, self.task.element_id)
        )


def lock_and_complete(task_id: int, actor_id: int, now) -> Completion:
    """Lock the task's instance and case rows and read them, mark the task completed if it
    is still open or claimed by the actor, and read the case's participants and the actor's
    memberships with their standing in the case: one trip.

    The task row is not locked by the read (every writer of tasks locks the instance
    first, so locking both in one statement could deadlock); the conditional UPDATE that
    follows under the instance lock sees its latest version, so of two people completing
    one task exactly one gets ``completed``. After waiting for the lock the read's task row
    is the one from before the wait (PostgreSQL re-reads only the rows it locks): the
    UPDATE returns the task's agency and element as they are now (``Completion.moved``).
    The caller decides with what it read, and raises (rolling the completion back) when
    the actor may not complete it.
    """
    completion = Completion()
    batch = Batch()
    db = batch.db

    def read_task(cursor):
        for task in _LOCKED_TASK.objects_from(cursor):
            task.case = task.instance.case
            task.instance.eviction_mark = task.eviction_mark
            completion.task = task

    def read_completed(cursor):
        row = cursor.fetchone()
        completion.completed = row is not None
        if row is not None:
            completion.completed_as = (row[0], row[1])

    def read_participants(cursor):
        completion.participants = _agencies_by_kind(_PARTICIPANTS_BY_TASK.objects_from(cursor))

    def read_memberships(cursor):
        completion.memberships = _MEMBERSHIPS_BY_TASK.objects_from(cursor)
        task = completion.task
        completion.agency_standing = task is not None and any(
            membership.agency_id == task.agency_id and membership.stands for membership in completion.memberships
        )

    def read_completed_and_memberships(cursor):
        # One row per membership, each led by what the UPDATE returned (NULLs: not
        # completed); one row of NULL memberships when the actor has none.
        found = cursor.fetchall()
        read_completed(_Rows([row[:2] for row in found if row[0] is not None][:1]))
        read_memberships(_Rows([row[2:] for row in found if row[2] is not None]))

    completed_at = Task._meta.get_field("completed_at").get_db_prep_save(now, db)
    task_sql, task_params = _LOCKED_TASK.statement(task_id)
    batch.add(task_sql, task_params, read_task)
    complete_sql = _complete_task_sql(db.vendor)[0]
    complete_params = _complete_task_params(db.vendor, task_id, actor_id, completed_at)
    memberships_sql, memberships_params = _MEMBERSHIPS_BY_TASK.statement(actor_id, task_id)
    if db.vendor == "postgresql":
        # The conditional UPDATE and the memberships' read in one statement (one snapshot,
        # taken as before after the lock statement's): one statement less a completion.
        batch.add(
            _completing_with_memberships(complete_sql, memberships_sql),
            [*complete_params, *memberships_params],
            read_completed_and_memberships,
        )
    else:
        batch.add(complete_sql, complete_params, read_completed)
    participants_sql, participants_params = _PARTICIPANTS_BY_TASK.statement(task_id)
    batch.add(participants_sql, participants_params, read_participants)
    if db.vendor != "postgresql":
        batch.add(memberships_sql, memberships_params, read_memberships)
    batch.flush()
    return completion


class _Rows:
    """Rows already fetched, read as a cursor's (``fetchone``, ``fetchall``)."""

    def __init__(self, rows: list):
        self._rows = rows

    def fetchone(self):
        return self._rows[0] if self._rows else None

    def fetchall(self) -> list:
        return self._rows


@lru_cache(maxsize=8)
def _completing_with_memberships(complete_sql: str, memberships_sql: str) -> str:
    """``complete_sql`` (``_complete_task_sql``, ``RETURNING`` the task's agency and element)
    as a ``WITH`` of the memberships' read: every row starts with the UPDATE's two values,
    and one row comes back even when the actor has no membership (the one-row join)."""
    return (
        f"WITH completed AS ({complete_sql}) SELECT completed.*, memberships.* FROM (SELECT 1) AS one "
        f"LEFT JOIN completed ON TRUE LEFT JOIN ({memberships_sql}) AS memberships ON TRUE"
    )


def participant_agencies(case_id: int) -> dict[str, Agency]:
    """The agency playing each agency kind (lane) in the case."""
    return _agencies_by_kind(_PARTICIPANTS.objects(case_id))


def participant_kinds(cases) -> dict[int, set[str]]:
    """The agency kinds (lanes) each of ``cases`` (a queryset of case ids) has a participant
    for, in one statement however many cases there are."""
    kinds: dict[int, set[str]] = {}
    for case_id, kind in CaseParticipant.objects.filter(case_id__in=cases).order_by().values_list("case_id", "kind"):
        kinds.setdefault(case_id, set()).add(kind)
    return kinds


def _agencies_by_kind(participants) -> dict[str, Agency]:
    return {participant.kind: participant.agency for participant in participants}


# --- reads, compiled once (``permissions.prepared``) ----------------------------------------

# The instance without the columns the step does not read (its serializer's versions,
# correlation key, stamps); the whole task and case rows: the caller answers with them (the
# API's completion response), and a deferred field would be one query each. The instance
# and case rows are locked (the task's is not: see ``lock_and_complete``).
_INSTANCE_READ = ("id", "case", "definition", "state", "status", "next_timer_at", "version")
_LOCKED_TASK = Prepared(
    lambda task_id: (
        Task.objects.filter(pk=task_id)
        .select_related("agency", "instance__case")
        .defer(*(f"instance__{f.name}" for f in ProcessInstance._meta.concrete_fields if f.name not in _INSTANCE_READ))
        .select_for_update(of=("instance", "instance__case"))
        # The newest eviction of cached workflows, in the same statement (``runner.load``).
        .annotate(eviction_mark=Subquery(WorkflowEviction.objects.order_by("-id").values("id")[:1]))
        .order_by()
    ),
    kinds=(int,),
)


def _participants(case):
    return CaseParticipant.objects.filter(case=case).select_related("agency").defer("case", "added_at").order_by()


_PARTICIPANTS = Prepared(_participants, kinds=(int,))
_PARTICIPANTS_BY_TASK = Prepared(
    lambda task_id: _participants(Subquery(Task.objects.filter(pk=task_id).values("case_id").order_by())),
    kinds=(int,),
)


# The completing actor's memberships, each with its standing in the task's case: what the
# work rule and the answer's visibility check would otherwise read in two more statements.
_MEMBERSHIPS_BY_TASK = Prepared(
    lambda user_id, task_id: rules.memberships_with_standing(
        user_id, Subquery(Task.objects.filter(pk=task_id).values("case_id").order_by())
    ),
    kinds=(int, int),
)


def upsert_pending_timer(batch: Batch, job: Job) -> None:
    """Insert the instance's pending timer job, or move the one it has to ``job.due_at``."""
    batch.insert([job], on_conflict=_timer_conflict_clause(batch.db.vendor))


def delete_pending_timer(batch: Batch, instance_id: int) -> None:
    """Delete the instance's pending timer job; incidents naming it keep their row (the
    job foreign key is SET_NULL, which the ORM's delete would do in Python)."""
    unlink, delete = _delete_timer_sql(batch.db.vendor)
    batch.add(unlink, [instance_id])
    batch.add(delete, [instance_id])


def refresh_next_due(batch: Batch, case: Case, fields: tuple[str, ...] = ()) -> None:
    """Queue the write of ``case.next_due_at``: the earliest due date of its open or claimed
    tasks, as the statements queued before it leave them (one index read of
    ``task_case_active``). Written only when it changed; ``case`` gets the new value.

    ``fields``: other fields of ``case`` to write with it (the data a step merged:
    ``Step.merge_case_data``), in the same statement: the row is written once, not twice."""
    db = batch.db
    if fields:
        sql, written, field, converters = _write_with_next_due_sql(db.vendor, fields)
        params = [column.get_db_prep_save(column.pre_save(case, False), db) for column in written]
        params += [case.pk, case.pk]
    else:
        sql, field, converters = _next_due_sql(db.vendor)
        params = [case.pk, case.pk, case.pk]

    def read_next_due(cursor):
        row = cursor.fetchone()
        if row is not None:
            value = row[0]
            for converter in converters:
                value = converter(value, field, db)
            case.next_due_at = value

    batch.add(sql, params, read_next_due)


def _earliest_due_sql() -> str:
    task = Task._meta
    due, case_id, status = (_field(task, name) for name in ("due_at", "case", "status"))
    active = ", ".join(f"'{status_value}'" for status_value in ACTIVE_TASK_STATUSES)
    return f"(SELECT MIN({due}) FROM {_column(task.db_table)} WHERE {case_id} = %s AND {status} IN ({active}))"


def _next_due_column():
    case = Case._meta
    column = case.get_field("next_due_at").get_col(case.db_table)
    return column, connection.ops.get_db_converters(column) + column.get_db_converters(connection)


@cache
def _write_with_next_due_sql(vendor: str, field_names: tuple[str, ...]):
    case = Case._meta
    written = tuple(cast(Field, case.get_field(name)) for name in field_names)
    assignments = ", ".join(f"{_column(field.column)} = %s" for field in written)
    next_due = _field(case, "next_due_at")
    sql = (
        f"UPDATE {_column(case.db_table)} SET {assignments}, {next_due} = {_earliest_due_sql()} "
        f"WHERE {_pk(case)} = %s RETURNING {next_due}"
    )
    return (sql, written, *_next_due_column())


@cache
def _next_due_sql(vendor: str):
    case = Case._meta
    next_due = _field(case, "next_due_at")
    # SQLite spells "IS DISTINCT FROM" as "IS NOT" (both compare NULLs as values).
    distinct = "IS DISTINCT FROM" if vendor == "postgresql" else "IS NOT"
    earliest = _earliest_due_sql()
    sql = (
        f"UPDATE {_column(case.db_table)} SET {next_due} = {earliest} "
        f"WHERE {_pk(case)} = %s AND {next_due} {distinct} {earliest} "
        f"RETURNING {next_due}"
    )
    return (sql, *_next_due_column())


def _saved(objs, cursor, db) -> None:
    for obj, (pk,) in zip(objs, cursor.fetchall(), strict=True):
        obj.pk = pk
        obj._state.adding, obj._state.db = False, db.alias


@cache
def _relations(model: type[Model]) -> tuple:
    """The concrete fields of ``model`` that relate to another row (its foreign keys)."""
    meta = model._meta
    return tuple(field for field in meta.concrete_fields if field is not meta.pk and field.is_relation)


def _attach_saved_parents(obj: Model, relations) -> None:
    """A foreign key set to an object saved after this one was built gets its id now
    (what bulk_create does); an unsaved parent is a bug, not a NULL."""
    cached = obj._state.fields_cache
    if not cached:
        return
    for field in relations:
        if field.is_cached(obj):
            parent = field.get_cached_value(obj)
            if parent is None:
                continue
            if parent.pk is None:
                raise ValueError(f"{type(obj).__name__}.{field.name} refers to an unsaved {type(parent).__name__}")
            if getattr(obj, field.attname) is None:
                setattr(obj, field.attname, parent.pk)


# --- statements, built once per database vendor --------------------------------------------
# Only quoted names from the models' metadata and constants of this module are formatted
# into them; every value is a parameter.


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
    # Concrete columns only: the callers name the fields they update.
    fields = tuple(cast(Field, meta.get_field(name)) for name in field_names)
    assignments = ", ".join(f"{_column(field.column)} = %s" for field in fields)
    return f"UPDATE {_column(meta.db_table)} SET {assignments} WHERE {_pk(meta)} = %s", fields


@lru_cache(maxsize=256)
def _insert_sql(vendor: str, model: type[Model], rows: int):
    meta = model._meta
    fields = tuple(field for field in meta.concrete_fields if field is not meta.pk)
    columns = ", ".join(_column(field.column) for field in fields)
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    return f"INSERT INTO {_column(meta.db_table)} ({columns}) VALUES {', '.join([row] * rows)}", fields


@lru_cache(maxsize=256)
def _insert_columns_sql(vendor: str, model: type[Model], columns: tuple[str, ...], rows: int) -> str:
    meta = model._meta
    known = {field.column for field in meta.concrete_fields}
    unknown = set(columns) - known
    if unknown:
        raise ImproperlyConfigured(f"{meta.label} has no column {sorted(unknown)}")
    row = "(" + ", ".join(["%s"] * len(columns)) + ")"
    names = ", ".join(_column(column) for column in columns)
    return f"INSERT INTO {_column(meta.db_table)} ({names}) VALUES {', '.join([row] * rows)}"


# Stand-ins compiled into the completion's WHERE clause, replaced by the real ids per call.
_TASK_ID, _ACTOR_ID = -7_000_001, -7_000_002


@cache
def _complete_task_sql(vendor: str) -> tuple[str, tuple]:
    """``UPDATE`` the task to completed where it is still ``Task.open_to`` the actor: the
    condition is the model's own, compiled once by the ORM (with stand-in ids)."""
    meta = Task._meta
    status, completed_at, completed_by, assignee = (
        _field(meta, name) for name in ("status", "completed_at", "completed_by", "assignee")
    )
    query = Task.objects.filter(Task.open_to(_ACTOR_ID), pk=_TASK_ID).query
    where, where_params = query.get_compiler(connection=connection).compile(query.where)
    sql = (
        f"UPDATE {_column(meta.db_table)} SET {status} = %s, {completed_at} = %s, {completed_by} = %s, "
        f"{assignee} = COALESCE({assignee}, %s) WHERE {where} "
        f"RETURNING {_field(meta, 'agency')}, {_field(meta, 'element_id')}"
    )
    return sql, tuple(where_params)


def _complete_task_params(vendor: str, task_id: int, actor_id: int, completed_at) -> list:
    _, where_params = _complete_task_sql(vendor)
    ids = {_TASK_ID: task_id, _ACTOR_ID: actor_id}
    return [
        TaskStatus.COMPLETED,
        completed_at,
        actor_id,
        actor_id,
        *(ids.get(param, param) if type(param) is int else param for param in where_params),
    ]


@cache
def _timer_conflict_clause(vendor: str) -> str:
    # The target repeats the partial unique index one_pending_timer_job word for word
    # (SQLite matches it literally), so the constants are written in, not bound.
    meta = Job._meta
    return (
        f"ON CONFLICT ({_field(meta, 'instance')}) WHERE ({_field(meta, 'kind')} = '{JobKind.TIMER.value}' "
        f"AND {_field(meta, 'status')} = '{JobStatus.PENDING.value}') "
        f"DO UPDATE SET {_field(meta, 'due_at')} = excluded.{_field(meta, 'due_at')}"
    )


@cache
def _delete_timer_sql(vendor: str) -> tuple[str, str]:
    job, incident = Job._meta, Incident._meta
    pending = (
        f"{_field(job, 'instance')} = %s AND {_field(job, 'kind')} = '{JobKind.TIMER.value}' "
        f"AND {_field(job, 'status')} = '{JobStatus.PENDING.value}'"
    )
    return (
        f"UPDATE {_column(incident.db_table)} SET {_field(incident, 'job')} = NULL WHERE {_field(incident, 'job')} "
        f"IN (SELECT {_pk(job)} FROM {_column(job.db_table)} WHERE {pending})",
        f"DELETE FROM {_column(job.db_table)} WHERE {pending}",
    )
