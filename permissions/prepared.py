"""Querysets compiled to SQL once per process, run again with new values.

Building and compiling a queryset costs 0.2-0.6 ms of Python per statement here (cloning
the query, resolving lookups and joins, quoting every column; ``make bench-http`` profiled
with py-spy: about half of an API request's CPU). A read made on every request (a case's
access for the user, a task with its case and agency) is the same statement each time
with other ids, so it is compiled once, with stand-in values, and the stand-ins are
replaced by the real values per call. The rows become objects exactly as the queryset's
own iteration makes them (``Model.from_db``, ``select_related`` populators, the fields'
converters), so the callers get what ``list(queryset)`` would give.

Only scalar values may vary (ids, strings, aware datetimes): a value that changes the statement's shape
(an ``__in`` list of varying length, a condition present or not) is not a parameter, and
``Prepared`` refuses a builder whose stand-ins do not each appear among the parameters. It
also refuses one that reads the database while building (a rule that looked something up
for a stand-in would have decided on nothing), and one built twice (with two sets of
stand-ins) whose statements differ anywhere but in the stand-ins' places: a value the
builder took from elsewhere (``timezone.now()``) would otherwise be frozen into it.
``PreparedShapes`` holds a family of them, one per shape: the statements of a list whose
text depends on the filters asked for and the reader's memberships (``workflows.task_lists``).
Lowest layer with Django, shared by ``permissions`` and ``workflows``.
"""

from __future__ import annotations

import datetime
import itertools
import re
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable, Hashable
from types import SimpleNamespace
from typing import Any, TypeVar

import psycopg
import psycopg.sql
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.base.operations import BaseDatabaseOperations
from django.db.backends.postgresql.operations import DatabaseOperations as PostgreSQLOperations
from django.db.backends.utils import CursorDebugWrapper
from django.db.models import (
    AutoField,
    BigAutoField,
    BigIntegerField,
    BooleanField,
    CharField,
    DateTimeField,
    F,
    Field,
    ForeignKey,
    Func,
    IntegerField,
    JSONField,
    Model,
    PositiveBigIntegerField,
    PositiveIntegerField,
    PositiveSmallIntegerField,
    SmallIntegerField,
    Subquery,
    TextField,
    UUIDField,
)
from django.db.models.base import ModelState
from django.db.models.fields.related_descriptors import ForeignKeyDeferredAttribute
from django.db.models.query import get_related_populators  # type: ignore[attr-defined]  # (not in the stubs)
from django.db.models.query_utils import DeferredAttribute
from django.db.models.signals import post_init, pre_init
from django.utils import timezone

# Stand-ins: values no id, text or moment of ours takes. The integers fit a 32-bit column
# (Django's ``AutoField``, ``auth_user.id``): a lookup on such a column with a value out of
# its range matches nothing and compiles to no statement.
_INT_BASE = -2_137_000_000
_TEXT_BASE = "\x00prepared-stand-in-"
_MOMENT_BASE = datetime.datetime(1901, 1, 1, tzinfo=datetime.UTC)
_KINDS = (int, str, datetime.datetime)


# psycopg converts a statement's placeholders once and remembers it when it is at most this
# long with at most this many values (``psycopg._queries.MAX_CACHED_STATEMENT_*``), and on
# every run otherwise: a longer statement is sent with its placeholders converted here once.
_PSYCOPG_REMEMBERS_LENGTH, _PSYCOPG_REMEMBERS_VALUES = 4096, 50

_SECOND_SET = 1000  # the second build's stand-ins: the first's, this far along


def _standin(kind: type, index: int):
    if kind is int:  # ascending, as every kind's: sorted stand-ins keep their values' order
        return _INT_BASE + index
    if kind is str:
        return f"{_TEXT_BASE}{index}"
    if kind is datetime.datetime:
        return _MOMENT_BASE + datetime.timedelta(microseconds=index + 1)
    raise TypeError(f"a prepared value is one of {_KINDS}, not {kind}")


def _refuse_queries(execute, sql, params, many, context):
    raise RuntimeError("a prepared statement's builder read the database (it would have decided on stand-ins)")


class Prepared:
    """``Prepared(lambda case_id, user_id: Model.objects.filter(...), kinds=(int, int))``; then
    ``prepared.objects(case_id, user_id)`` (model instances) or ``prepared.rows(...)``
    (tuples, for a ``values_list`` queryset)."""

    def __init__(
        self,
        build: Callable[..., Any],
        *,
        kinds: tuple[type, ...],
        every_value: bool = True,
        server_prepared: bool = True,
        generic: bool = False,
    ):
        self._build = build
        self._kinds = kinds
        self._every_value = every_value
        # Run with PostgreSQL's one plan made for any value, not planned anew each time
        # (``_Compiled.fetch``): for a list whose one plan is known to walk its index for
        # every reader (``workflows.task_lists``, proven by a test at scale), where planning
        # was most of what the read cost PostgreSQL. Its constants are written into the text.
        self._generic = generic
        # Prepared on the server too (``config.database``: PostgreSQL then parses and plans
        # it once per connection): a point read, whose one plan serves every value. A list
        # family is not (``PreparedShapes``): PostgreSQL may keep a generic plan for it after
        # five runs, and for a busy or a quiet agency's list that plan was 10-50 times slower.
        self._server_prepared = server_prepared
        self._compiled: dict[tuple[str, str], _Compiled] = {}
        self._lock = threading.Lock()

    def objects(self, *values) -> list:
        compiled, db = self._for(values)
        return compiled.objects(db, compiled.fetch(db, values, self._server_prepared))

    def rows(self, *values) -> list[tuple]:
        compiled, db = self._for(values)
        return [tuple(row) for row in compiled.fetch(db, values, self._server_prepared)]

    def statement(self, *values) -> tuple[str, list]:
        """The SQL and parameters, to send among other statements (``workflows.steps.rows``);
        ``objects_from(cursor)`` reads its result."""
        compiled, db = self._for(values)
        return compiled.sql, compiled.params_for(db, values)

    def objects_from(self, cursor) -> list:
        """The objects of ``statement()``'s result, at ``cursor``."""
        compiled, db = self._for(None)
        return compiled.objects(db, compiled.converted(cursor.fetchall()))

    def rows_from(self, cursor) -> list[tuple]:
        """``rows()`` of ``statement()``'s result, at ``cursor``."""
        compiled, _db = self._for(None)
        return [tuple(row) for row in compiled.converted(cursor.fetchall())]

    def objects_after(self, values: tuple, before: str, before_params: list, extra: str) -> list[tuple[Any, Any]]:
        """The statement's objects, each with a value of its own, from one statement sent as
        ``{before} SELECT found.*, {extra} FROM ({statement}) found``: ``before`` a ``WITH``
        clause (a write PostgreSQL runs once, whatever reads it: ``accounts.tokens``), with
        ``before_params``; ``extra`` an expression without parameters. Prepared on the
        server as the statement itself is."""
        compiled, db = self._for(values)
        sql = f"{before} SELECT found.*, {extra} FROM ({compiled.sql}) found"  # noqa: S608 (our own SQL)
        params = [*before_params, *compiled.params_for(db, values)]
        with db.cursor() as cursor:
            if not prepares_statements(db):
                cursor.execute(sql, params)
                rows = cursor.fetchall()
            else:
                raw_sql = compiled.numbered.get(sql)
                if raw_sql is None:
                    raw_sql = compiled.numbered[sql] = numbered_placeholders(sql, len(params))
                raw = psycopg.RawCursor(cursor.db.connection)
                try:
                    execute_through(
                        cursor, sql, params, lambda _cursor, _sql, params: raw.execute(raw_sql, params, prepare=True)
                    )
                    rows = raw.fetchall()
                finally:
                    raw.close()
        found = compiled.objects(db, compiled.converted([row[:-1] for row in rows]))
        return [(obj, row[-1]) for obj, row in zip(found, rows, strict=True)]

    def count(self, *values) -> int:
        """How many rows the statement gives (of a sliced queryset: a count capped there)."""
        compiled, db = self._for(values)
        with db.cursor() as cursor:
            # The statement is our own compiled queryset, its values parameters: no text from outside.
            cursor.execute(f"SELECT COUNT(*) FROM ({compiled.sql}) counted", compiled.params_for(db, values))  # noqa: S608
            return cursor.fetchone()[0]

    def _for(self, values) -> tuple[_Compiled, Any]:
        if values is not None and len(values) != len(self._kinds):
            raise TypeError(f"expected {len(self._kinds)} values, got {len(values)}")
        db = connections[DEFAULT_DB_ALIAS]
        key = (db.alias, db.vendor)
        compiled = self._compiled.get(key)
        if compiled is None:
            with self._lock:
                compiled = self._compiled.get(key) or self._compile(db)
                self._compiled[key] = compiled
        return compiled, db

    def _compile(self, db) -> _Compiled:
        sql, params, slots, compiler = self._build_with(db, 0)
        again, params_again, slots_again, _compiler = self._build_with(db, _SECOND_SET)
        placed = {position for position, _index in slots}
        fixed = [param for position, param in enumerate(params) if position not in placed]
        fixed_again = [param for position, param in enumerate(params_again) if position not in placed]
        if again != sql or slots_again != slots or fixed != fixed_again:
            raise ValueError("the statement depends on something other than its stand-ins")
        if self._generic and db.vendor == "postgresql" and prepares_statements(db):
            sql, params, slots = constants_written_in(sql, tuple(params), slots)
            return _Compiled(sql, tuple(params), slots, compiler, generic=True)
        return _Compiled(sql, tuple(params), slots, compiler)

    def _build_with(self, db, first_index: int):
        standins = [_standin(kind, first_index + index) for index, kind in enumerate(self._kinds)]
        with db.execute_wrapper(_refuse_queries):
            queryset = self._build(*standins)
            compiler = queryset.query.get_compiler(using=db.alias)
            sql, params = compiler.as_sql()
        # A backend may adapt a value before it becomes a parameter (SQLite sends a moment
        # as text): the stand-ins are looked for, and the values later sent, adapted alike.
        adapted = [_adapt(db, standin) for standin in standins]
        slots = []
        for position, param in enumerate(params):
            if param in adapted and type(param) is type(adapted[adapted.index(param)]):
                slots.append((position, adapted.index(param)))
        if self._every_value and {index for _position, index in slots} != set(range(len(standins))):
            raise ValueError("every stand-in must reach the statement as a parameter of its own")
        return sql, tuple(params), tuple(slots), compiler


def _adapt(db, value):
    """``value`` as the backend's lookups put it among a statement's parameters."""
    if isinstance(value, datetime.datetime):
        return db.ops.adapt_datetimefield_value(value)
    return value


# The constants a statement run with its one generic plan has written into its text
# (``constants_written_in``): our own words (statuses, a permission's keys) and numbers.
_WORD = re.compile(r"[A-Za-z0-9_]*")


def constants_written_in(sql: str, params: tuple, slots: tuple) -> tuple[str, tuple, tuple]:
    """``sql`` (with ``%s`` placeholders) with each parameter that is not a stand-in's slot
    and is a word or an integer written in as a literal; the other parameters stay, their
    slots renumbered. A plan made for any value cannot use a partial index whose condition
    names a status sent as a value (``task_agency_active``: open and claimed tasks only);
    with the statuses in the text, the one plan PostgreSQL keeps uses it."""
    slot_of = dict(slots)
    kept: list = []
    new_slots: list[tuple[int, int]] = []
    pieces = iter(params)
    position = -1

    def replace(match: re.Match) -> str:
        nonlocal position
        if match.group(1) == "%":
            return "%%"
        if match.group(1) != "s":
            raise ValueError(f"only %s and %% may follow a percent sign, not {match.group(0)!r}")
        position += 1
        value = next(pieces)
        if position not in slot_of:
            if type(value) is int:
                return str(value)
            # A choice (``TaskStatus.OPEN``) as psycopg sends it: the text it holds.
            text = str.__str__(value) if isinstance(value, str) else None
            if text is not None and _WORD.fullmatch(text):
                return f"'{text}'"
        else:
            new_slots.append((len(kept), slot_of[position]))
        kept.append(value)
        return "%s"

    written = _PLACEHOLDER.sub(replace, sql)
    if position != len(params) - 1:
        raise ValueError("the statement's placeholders and values differ in number")
    return written, tuple(kept), tuple(new_slots)


# Around a statement run with its generic plan, in the same query text (one round trip, one
# message): the setting is PostgreSQL's way to skip planning for one statement and no other.
# The text's statements run as one transaction (or in the caller's): a failed statement's
# rollback undoes the setting should its reset be skipped.
_GENERIC_PLAN = "SET plan_cache_mode TO force_generic_plan"
_PLAN_AS_BEFORE = "RESET plan_cache_mode"
_GENERIC_NAMES = itertools.count(1)  # the names of the statements prepared for it, per process


def run_generic(cursor, sql: str, raw_sql: str, params: list):
    """Run ``sql`` (Django's text, for the execute wrappers and the query log; ``raw_sql`` the
    same with ``$1``, ``$2`` ...) with the one plan PostgreSQL makes for any value
    (``plan_cache_mode``, set for it alone): not planned on each run, as PostgreSQL keeps
    doing for a statement whose plans for some values look cheaper than the plan for any
    value (a quiet reader's list, the moment's due jobs), though that plan serves them all.
    Prepared by name once per connection (``PREPARE``, in the first run's text) and run by
    ``EXECUTE`` with the values written in (an id as its digits, anything else quoted by
    psycopg): one query text of three statements is one message and one round trip, which
    psycopg sends and reads with less of its Python than the statement alone with values, or
    a pipeline. Returns a raw cursor at the statement's rows (the caller closes it).
    PostgreSQL only, with statements prepared (``prepares_statements``)."""
    connection = cursor.db.connection
    names = _generic_names(connection)
    name = names.pop(raw_sql, None)  # known again only once this run succeeds
    prepare = ""
    if name is None:
        # A new name each time: a PREPARE that ran before its text failed (it outlives a
        # rollback) keeps its name taken.
        name = f"brobygger_generic_{next(_GENERIC_NAMES)}"
        prepare = f"PREPARE {name} AS {raw_sql}; "
    values = ", ".join(
        str(value) if type(value) is int else psycopg.sql.Literal(value).as_string(connection) for value in params
    )
    text = f"{prepare}{_GENERIC_PLAN}; EXECUTE {name}({values}); {_PLAN_AS_BEFORE}"
    raw = psycopg.RawCursor(connection)
    try:
        execute_through(cursor, sql, params, lambda _cursor, _sql, _params: raw.execute(text, prepare=False))
        for _statement in range(2 if prepare else 1):  # to the EXECUTE's result
            raw.nextset()
    except BaseException:
        raw.close()
        raise
    names[raw_sql] = name
    return raw


def _generic_names(connection) -> dict[str, str]:
    """What each statement run by ``run_generic`` is prepared as on ``connection`` (a psycopg
    connection: a new one after a reconnect knows none). psycopg deallocates every statement
    of the session (``DEALLOCATE ALL``) when it forgets its own: after a rollback (also to a
    savepoint), a ``DROP``, an ``ALTER``, a ``DISCARD ALL``. It forgets them in its prepared
    statements' ``clear``, which here forgets these too, before that deallocation is sent
    (``tests/permissions/test_generic_plan_statements.py`` holds psycopg 3.3 to this)."""
    manager = connection._prepared
    names = manager.__dict__.get("_brobygger_generic")
    if names is None:
        names = manager.__dict__["_brobygger_generic"] = {}
        forget_its_own = manager.clear

        def clear() -> bool:
            names.clear()
            return forget_its_own()

        manager.clear = clear
    return names


class _Compiled:
    def __init__(self, sql: str, params: tuple, slots: tuple, compiler, *, generic: bool = False):
        self.sql, self.params, self.slots, self.compiler = sql, params, slots, compiler
        self.generic = generic
        # The fields' converters, found once: ``results_iter`` looks them up for every result
        # (each column's field and the backend asked again), which was a tenth of a prepared
        # read's Python.
        self._fields = [column[0] for column in compiler.select[: compiler.col_count]]
        self._converters = compiler.get_converters(self._fields)
        self._composite = compiler.has_composite_fields(self._fields)
        self._raw_sql: str | None = None  # the statement with $1, $2 ... (``_fetch_raw``)
        self.numbered: dict[str, str] = {}  # ``Prepared.objects_after``'s statements, with $1, $2 ...
        # ``objects``' way from a row to its objects, by database alias (``_makers``).
        self._makers: dict[str, tuple] = {}

    def params_for(self, db, values) -> list:
        params = list(self.params)
        for position, index in self.slots:
            params[position] = _adapt(db, values[index])
        return params

    def fetch(self, db, values, server_prepared: bool = False) -> list:
        with db.cursor() as cursor:
            params = self.params_for(db, values)
            if self.generic:
                return self.converted(self._fetch_generic(cursor, params))
            if not prepares_statements(db):
                cursor.execute(self.sql, params)
            elif server_prepared and not self._long:
                execute_through(
                    cursor,
                    self.sql,
                    params,
                    lambda psycopg_cursor, sql, params: psycopg_cursor.execute(sql, params, prepare=True),
                )
            else:
                return self.converted(self._fetch_raw(cursor, params, prepare=True if server_prepared else None))
            return self.converted(cursor.fetchall())

    @property
    def _long(self) -> bool:
        """Longer than psycopg converts once and remembers (``_fetch_raw``)."""
        return len(self.sql) > _PSYCOPG_REMEMBERS_LENGTH or len(self.params) > _PSYCOPG_REMEMBERS_VALUES

    def _fetch_raw(self, cursor, params, prepare: bool | None = None) -> list:
        """Run the statement with PostgreSQL's own placeholders, converted once: psycopg
        splits a statement at its placeholders on every run unless it is short (4 kB, 50
        values), and a list's statement is longer (0.1 ms of a 2.7 ms inbox read), as is an
        opened task's with its policy's rows (``workflows.selectors._TASK_OPENING``).
        ``prepare``: psycopg's (True: prepared on the server at its first run)."""
        raw_sql = self._raw_sql
        if raw_sql is None:
            raw_sql = self._raw_sql = numbered_placeholders(self.sql, len(self.params))
        raw = psycopg.RawCursor(cursor.db.connection)
        try:
            execute_through(
                cursor, self.sql, params, lambda _cursor, _sql, params: raw.execute(raw_sql, params, prepare=prepare)
            )
            return raw.fetchall()
        finally:
            raw.close()

    def _fetch_generic(self, cursor, params) -> list:
        """The rows of the statement run with its one plan for any value (``run_generic``)."""
        raw_sql = self._raw_sql
        if raw_sql is None:
            raw_sql = self._raw_sql = numbered_placeholders(self.sql, len(self.params))
        raw = run_generic(cursor, self.sql, raw_sql, params)
        try:
            return raw.fetchall()
        finally:
            raw.close()

    def converted(self, rows) -> list:
        compiler = self.compiler
        if compiler.has_extra_select:
            rows = [row[: compiler.col_count] for row in rows]
        # The fields' converters, as the queryset's own iteration (``results_iter``) applies them.
        if self._converters:
            rows = compiler.apply_converters(rows, self._converters)
        if self._composite:
            rows = compiler.composite_fields_to_tuples(rows, self._fields)
        return list(rows)

    def _makers_for(self, alias: str) -> tuple:
        """The model, its row's slice and field names, the ``select_related`` populators and
        the annotations' positions, as the queryset's own iteration finds them on every run
        (``ModelIterable``), found once per statement and database: they depend on the
        compiled statement alone (a populator keeps only its columns' positions, its model
        and its setters, and makes a new object on every ``populate``). Making them was 3 % of
        a web process's samples in a completion round (py-spy) and 1.6 % of its instructions
        (callgrind; README "Production server")."""
        makers = self._makers.get(alias)
        if makers is None:
            compiler = self.compiler
            klass_info, select = compiler.klass_info, compiler.select
            fields = klass_info["select_fields"]
            start, end = fields[0], fields[-1] + 1
            makers = self._makers[alias] = (
                quick_from_db(klass_info["model"]),
                start,
                end,
                [column[0].target.attname for column in select[start:end]],
                _quick_populators(get_related_populators(klass_info, select, alias)),
                tuple((compiler.annotation_col_map or {}).items()),
            )
        return makers

    def objects(self, db, rows) -> list:
        """Model objects as the queryset's own iteration builds them: ``Model.from_db``,
        the ``select_related`` populators, the annotations."""
        from_db, start, end, init_list, populators, annotations = self._makers_for(db.alias)
        found = []
        for row in rows:
            obj = from_db(db.alias, init_list, row[start:end])
            for populator in populators:
                populator.populate(row, obj)
            for name, position in annotations:
                setattr(obj, name, row[position])
            found.append(obj)
        return found


# The class attributes of a field that ``Model.__init__`` sets as a plain value: Django's
# own, whose ``__set__`` (a foreign key's) only forgets a related object a new one has not.
_PLAIN_ATTRIBUTES = (DeferredAttribute, ForeignKeyDeferredAttribute)


def quick_from_db(model: type[Model]) -> Callable:
    """``model.from_db`` (as a queryset's iteration calls it: the database's alias, the
    columns' field names and a row of values), or an equal that makes the same object for
    less: ``Model.__init__`` sends two signals and sets each field through ``setattr`` (a
    foreign key through its descriptor's ``__set__``), 6-11 us an object here, the quick way
    about 2 us. Taken only when that is all ``__init__`` would do: the model's ``__init__``,
    ``from_db`` and ``__setattr__`` are Django's, every field is a plain attribute, and
    nothing listens to ``pre_init`` or ``post_init`` when the object is made; else
    ``model.from_db`` itself. A row without every field (``only``, ``defer``) sets the
    fields it has, as Django's does (the others deferred: read when asked for)."""
    opts = model._meta
    attnames = tuple(field.attname for field in opts.concrete_fields)
    plain = (
        not opts.abstract
        and model.__init__ is Model.__init__
        and getattr(model.from_db, "__func__", None) is Model.from_db.__func__  # type: ignore[attr-defined]
        and model.__setattr__ is object.__setattr__
        and all(type(getattr(model, name, None)) in _PLAIN_ATTRIBUTES for name in attnames)
    )
    if not plain:
        return model.from_db
    count = len(attnames)
    make = object.__new__

    def from_db(db: str, field_names, values):
        if pre_init.receivers or post_init.receivers:
            return model.from_db(db, field_names, values)
        obj = make(model)
        state = ModelState()
        state.adding = False
        state.db = db
        fields = obj.__dict__
        fields["_state"] = state
        if len(values) == count:
            fields.update(zip(attnames, values, strict=True))
        else:  # some deferred: as Django's ``from_db``, the values in field order, the rest left unset
            given = iter(values)
            fields.update((name, next(given)) for name in attnames if name in field_names)
        return obj

    return from_db


_NEW_MAKERS: dict[type, Callable] = {}
_M = TypeVar("_M", bound=Model)


def quick_new(model: type[_M]) -> Callable[..., _M]:
    """``model(**values)`` for a new row, or an equal that makes the same object for less:
    ``Model.__init__`` sends two signals, looks each field's value up by name, sets each
    through ``setattr`` and a related object through its descriptor's ``__set__`` (type,
    router and cache), 15-35 us an object with several keys here. The quick way sets the
    same attributes, the related objects' keys and cache entries and the object's database
    as the descriptors do (the router asked as they ask it when one is configured), each
    field not given its default. Taken when that is all ``__init__`` would do (as
    ``quick_from_db``: Django's ``__init__`` and ``__setattr__``, plain attributes, foreign
    keys through Django's own descriptors, nothing listening to ``pre_init`` or
    ``post_init``) and every name given is a field's name or key (``agency=`` or
    ``agency_id=``, not both); else ``model(**values)`` itself
    (``tests/permissions/test_quick_new_objects.py``)."""
    maker = _NEW_MAKERS.get(model)
    if maker is None:
        maker = _NEW_MAKERS[model] = _new_maker(model)
    return maker


def _new_maker(model: type[_M]) -> Callable[..., _M]:
    from django.db import router
    from django.db.models.fields.related_descriptors import ForwardManyToOneDescriptor

    opts = model._meta
    fields = [field for field in opts.fields if field.column is not None and not field.generated]
    specs: list[tuple[str, str, Callable[[], Any], type[Model] | None, str | None]] = []
    for field in fields:
        descriptor = model.__dict__.get(field.name)
        if type(field) is ForeignKey:
            related = field.remote_field
            if (
                type(descriptor) is not ForwardManyToOneDescriptor
                or type(model.__dict__.get(field.attname)) is not ForeignKeyDeferredAttribute
                or not related.multiple
                or len(field.related_fields) != 1
            ):
                return model
            target = related.model._meta.concrete_model
            specs.append((field.name, field.attname, field.get_default, target, field.related_fields[0][1].attname))
        elif field.is_relation or type(getattr(model, field.attname, None)) is not DeferredAttribute:
            return model
        else:
            specs.append((field.name, field.attname, field.get_default, None, None))
    if opts.abstract or model.__init__ is not Model.__init__ or model.__setattr__ is not object.__setattr__:
        return model
    make = object.__new__

    def new(**values):
        if pre_init.receivers or post_init.receivers:
            return model(**values)
        obj = make(model)
        state = ModelState()
        attributes = obj.__dict__
        attributes["_state"] = state
        cache = state.fields_cache
        taken = 0
        for name, attname, default, target, target_attname in specs:
            if target is not None and name in values:
                taken += 1
                related = values[name]
                if related is None:
                    attributes[attname] = None
                    cache[name] = None
                    continue
                if not isinstance(related, target):
                    return model(**values)  # Django's refusal
                related_state = related._state
                if router.routers:  # as the descriptor asks them
                    if state.db is None:
                        state.db = router.db_for_write(model, instance=related)
                    if related_state.db is None:
                        related_state.db = router.db_for_write(type(related), instance=obj)
                    allowed = router.allow_relation(related, obj)
                else:  # what the router answers without any: the related object's database, or the default
                    if state.db is None:
                        state.db = related_state.db or DEFAULT_DB_ALIAS
                    if related_state.db is None:
                        related_state.db = state.db or DEFAULT_DB_ALIAS
                    allowed = related_state.db == state.db
                if not allowed:
                    return model(**values)  # Django's refusal
                attributes[attname] = getattr(related, target_attname)
                cache[name] = related
            elif attname in values:
                taken += 1
                attributes[attname] = values[attname]
            else:
                attributes[attname] = default()
        if taken != len(values):
            return model(**values)  # a property, a key given twice or no field: Django's way
        return obj

    return new


class _QuickModel:
    """A ``select_related`` populator's model as its ``populate`` uses it (``from_db``),
    with ``quick_from_db``'s; anything else asked of it is the model's own."""

    def __init__(self, model: type[Model]):
        self.model = model
        self.from_db = quick_from_db(model)

    def __getattr__(self, name: str):
        return getattr(self.model, name)


def _quick_populators(populators: list) -> list:
    """Django's ``RelatedPopulator`` objects, each (and its own, nested) making its objects
    by ``quick_from_db``."""
    for populator in populators:
        populator.model_cls = _QuickModel(populator.model_cls)
        _quick_populators(populator.related_populators)
    return populators


def prepares_statements(db) -> bool:
    """Whether statements may be prepared on the server over ``db``: not on SQLite, and not
    with ``DB_PREPARE_THRESHOLD=0`` (``config.database``: behind a pooler that hands a server
    connection to another client after each transaction, a prepared statement would be
    missing there). psycopg prepares only with server-side binding, so that option says it."""
    return bool(db.settings_dict["OPTIONS"].get("server_side_binding"))


def execute_through(cursor, sql: str, params: list, run: Callable[[Any, str, list], Any]) -> None:
    """``run(psycopg_cursor, sql, params)`` in place of Django's ``cursor.execute(sql,
    params)``, through what that goes through: the execute wrappers, the error
    translation and, when queries are logged, the log. Used with server-side binding only,
    where Django logs ``sql`` with its values written in, whatever cursor sent it."""

    def executor(sql, params, _many, _context):
        cursor.db.validate_no_broken_transaction()
        with cursor.db.wrap_database_errors:
            return run(cursor.cursor, sql, params)

    if isinstance(cursor, CursorDebugWrapper):
        with cursor.debug_sql(sql, params, use_last_executed_query=True):
            cursor._execute_with_wrappers(sql, params, many=False, executor=executor)
        return
    cursor._execute_with_wrappers(sql, params, many=False, executor=executor)


_PLACEHOLDER = re.compile(r"%(.|$)", re.DOTALL)


def numbered_placeholders(sql: str, count: int) -> str:
    """``sql`` as Django writes it (``%s`` for each value, ``%%`` for a percent sign) with
    PostgreSQL's ``$1``, ``$2`` ... instead, as psycopg would send it; any other ``%`` is
    refused, as psycopg refuses it."""
    numbers = iter(range(1, count + 1))

    def replace(match: re.Match) -> str:
        if match.group(1) == "%":
            return "%"
        if match.group(1) == "s":
            try:
                return f"${next(numbers)}"
            except StopIteration:
                raise ValueError("the statement has more placeholders than values") from None
        raise ValueError(f"only %s and %% may follow a percent sign, not {match.group(0)!r}")

    converted = _PLACEHOLDER.sub(replace, sql)
    if next(numbers, None) is not None:
        raise ValueError("the statement has fewer placeholders than values")
    return converted


class PreparedShapes:
    """A family of ``Prepared`` statements, one per shape: ``member(shape, build, kinds)`` gives
    the one for ``shape``, compiled from ``build`` the first time (so ``build`` must make the
    same statement whenever it is given the same shape). At most ``most`` shapes are kept,
    the longest unused given up first: a page size or a page number asked for is part of a
    shape, so a client cannot make the family grow without end. A member may leave some of
    its values out of its statement (a reader's membership in a role the list does not
    read): its shape, which the caller names, decides its text, and the second build checks
    that nothing else does. ``server_prepared``: each member prepared on the server too
    (``Prepared``), for a family of point reads whose one plan serves every value (a list's
    family is not: its generic plan went bad for some readers)."""

    def __init__(self, *, most: int = 256, server_prepared: bool = False):
        self._members: OrderedDict[Hashable, Prepared] = OrderedDict()
        self._most = most
        self._server_prepared = server_prepared
        self._lock = threading.Lock()

    def member(
        self, shape: Hashable, build: Callable[..., Any], kinds: tuple[type, ...], *, generic: bool = False
    ) -> Prepared:
        """``generic``: run with the one plan made for any value (``Prepared``); part of the
        key, so a shape is never both."""
        key = (shape, kinds, generic)
        with self._lock:
            member = self._members.get(key)
            if member is None:
                member = self._members[key] = Prepared(
                    build, kinds=kinds, every_value=False, server_prepared=self._server_prepared, generic=generic
                )
                if len(self._members) > self._most:
                    self._members.popitem(last=False)
            else:
                self._members.move_to_end(key)
        return member

    def __len__(self) -> int:
        return len(self._members)


class TakesValues:
    """A filter's value that shapes a compiled list's statement and also takes ``count``
    values of its own (a search: its conditions, then their patterns): ``taking(values)`` is
    the value the filter is given, made of the stand-ins or the request's values."""

    count: int

    def taking(self, values: list) -> Any:
        raise NotImplementedError


class ShapedListing:
    """A list read a page at a time by statements compiled once per shape (the task and case
    lists: ``workflows.task_lists``, ``workflows.case_lists``). A subclass sets ``statements``
    (its family), and per list ``empty``, ``_shape`` (all that decides the statement's text),
    ``_values`` (the request's own ids, filter values and clock) and ``_queryset(standins)``
    (the list's queryset for stand-ins of those values). Read as ``rows[bottom:top]``,
    ``count_upto(n)`` and ``read`` (the API's keyset pages, ``api.pagination``)."""

    statements: PreparedShapes
    empty = False
    _shape: tuple
    _values: tuple

    def _queryset(self, standins) -> Any:
        raise NotImplementedError

    def _filtered(self, filterset_class, queryset, reader, standins, id_count: int, filters, reads_now: bool) -> Any:
        """``queryset`` narrowed by the shape's ``filters`` through ``filterset_class``, as its
        ``.qs`` would: a filter whose choice is a type (an id, a key) takes its value from
        ``standins`` in turn, one that ``TakesValues`` as many as it counts; the clock, when
        the filters read it, is the last stand-in."""
        filterset = filterset_class(
            queryset=queryset,
            request=SimpleNamespace(user=reader),
            now=standins[len(self._values) - 1] if reads_now else None,
        )
        given = iter(standins[id_count:])
        values = []
        for name, value in filters:
            if isinstance(value, type):
                value = next(given)
            elif isinstance(value, TakesValues):
                value = value.taking([next(given) for _ in range(value.count)])
            values.append((name, value))
        return filterset.narrowed(queryset, values)

    def read(self, shape: Hashable, page: Callable[..., Any], values: tuple = ()) -> list:
        """The rows of ``page(queryset, *values)``: the list's queryset made into one page (its
        order, a cursor's condition, a slice); ``shape`` names all of ``page`` but its ``values``."""
        if self.empty:
            return []
        return self._statement(shape, page, values).objects(*self._values, *values)

    def count_upto(self, most: int) -> int:
        """How many rows the list has, counting no further than ``most``."""
        if self.empty:
            return 0
        return self._statement(("count", most), lambda queryset: self._counted(queryset)[:most], ()).count(
            *self._values
        )

    def _counted(self, queryset) -> Any:
        """What a count reads of each row (the rows themselves unless a subclass says less)."""
        return queryset

    def __getitem__(self, rows: slice) -> list:
        start, stop = rows.start or 0, rows.stop
        if stop is not None and stop <= start:  # an empty list's first page
            return []
        return self.read(("slice", start, stop), lambda queryset: queryset[start:stop])

    def _statement(self, shape: Hashable, page: Callable[..., Any], values: tuple) -> Any:
        count = len(self._values)

        def build(*standins):
            return page(self._queryset(standins[:count]), *standins[count:])

        kinds = tuple(type(value) for value in (*self._values, *values))
        return self.statements.member((self._shape, shape), build, kinds, generic=self._generic(shape))

    def _generic(self, shape: Hashable) -> bool:
        """Whether the page ``shape`` of this list runs with the one plan PostgreSQL makes for
        any value (``Prepared``'s ``generic``): only where a test shows that plan walks the
        list's index for a busy and a quiet reader alike. None by default."""
        return False


class PreparedList:
    """A list read a page at a time by statements compiled once per shape, for the API's keyset
    pages (``api.pagination.read_listing_after``): the rows of ``build(*values)``, a queryset
    in the list's order (``order``), each page's statement compiled once per ``shape`` (which
    names all of ``build`` but its ``values``: the list, and any filter choice that changes
    its text) and per cursor shape, then sent with the request's own ids and cursor.

    ``build`` is the selector's own queryset, so the rows are exactly those it gives; building
    and compiling it (the joins, the order, the cursor's condition) is what is saved."""

    empty = False

    def __init__(
        self,
        family: PreparedShapes,
        shape: Hashable,
        build: Callable[..., Any],
        values: tuple = (),
        *,
        model: type,
        order: tuple[str, ...],
    ):
        self._family, self._shape, self._build, self._values = family, shape, build, tuple(values)
        self.model, self._order = model, order

    def in_order(self):
        """A queryset in the list's order (for its keys; never read)."""
        return self.model._default_manager.order_by(*self._order)

    def read(self, shape: Hashable, page: Callable[..., Any], values: tuple = ()) -> list:
        """The rows of ``page(queryset, *values)``: the list made into one page (its order, a
        cursor's condition, a slice); ``shape`` names all of ``page`` but its ``values``."""
        count = len(self._values)

        def build(*standins):
            return page(self._build(*standins[:count]), *standins[count:])

        kinds = tuple(type(value) for value in (*self._values, *values))
        return self._family.member((self._shape, shape), build, kinds).objects(*self._values, *values)


# --- rows of other tables folded into one statement ---------------------------------------


def folds_rows(db) -> bool:
    """Whether ``RowsInJSON`` reads fold into another statement over ``db`` (PostgreSQL: its
    ``JSONB_AGG``); elsewhere the caller reads them in statements of their own."""
    return db.vendor == "postgresql"


class _Row(Func):
    """One row's columns as a JSON array (``JSONArray`` without its casts: the columns keep
    their own types, which ``JSONB_BUILD_ARRAY`` writes as ``to_jsonb`` does)."""

    function = "JSONB_BUILD_ARRAY"
    output_field = JSONField()


class _RowsAsJSON(Subquery):
    """A queryset of one JSON array per row as one JSON array of them (``[]`` for no row)."""

    template = "(SELECT COALESCE(JSONB_AGG(found.row), '[]'::jsonb) FROM (%(subquery)s) found(row))"
    output_field = JSONField()


def values_in_json(queryset, *columns: str) -> Subquery:
    """``queryset.values_list(*columns)`` as one JSON value of another statement: a list of
    lists, in no order (``RowsInJSON`` for plain values: no model objects are built). Only
    columns whose type JSON keeps (integers, text, booleans). PostgreSQL only (``folds_rows``)."""
    return _RowsAsJSON(queryset.order_by().values(row=_Row(*(F(column) for column in columns))))


# A value in a JSON row becomes what the database driver gives for its column: moments and
# days come as ISO 8601 text; text, numbers, booleans, nulls and JSON values as they are.
_FROM_JSON: dict[str, Callable[[Any], Any] | None] = {
    "DateTimeField": datetime.datetime.fromisoformat,
    "DateField": datetime.date.fromisoformat,
    **dict.fromkeys(
        (
            "AutoField",
            "BigAutoField",
            "BigIntegerField",
            "BooleanField",
            "CharField",
            "ForeignKey",
            "IntegerField",
            "OneToOneField",
            "PositiveIntegerField",
            "PositiveSmallIntegerField",
            "SmallIntegerField",
            "TextField",
        )
    ),
}


class RowsInJSON:
    """Rows of ``model`` (each with its ``related`` rows, as ``select_related`` gives them, and
    its ``annotations``) read as one value of another statement: ``of(queryset)`` is that
    value's expression, an annotation of the outer queryset; ``objects(value)`` the model
    objects, as ``list(queryset.select_related(*related))`` would give them (in no order).
    A point read's policy rows (the reader's memberships, the person's consents) then ride
    on the read of the task itself: one statement, not four. PostgreSQL only (``folds_rows``).

    Every concrete field is read; a field whose type is not known here to come back from
    JSON as its column does (a decimal, a UUID, a custom field) is refused."""

    def __init__(self, model, *, related: tuple[str, ...] = (), annotations: tuple[str, ...] = ()):
        links = [(model, None)] + [
            (model._meta.get_field(name).related_model, model._meta.get_field(name)) for name in related
        ]
        prefixes = [""] + [f"{name}__" for name in related]
        # Per part (the model, then each related one): its model, its fields' attnames, where
        # its primary key is among them, and the field of ``model`` that links it.
        self._parts = []
        self._columns: list[str] = []
        self._converters: list[Callable[[Any], Any] | None] = []
        for (part_model, link), prefix in zip(links, prefixes, strict=True):
            attnames = []
            for model_field in part_model._meta.concrete_fields:
                kind = model_field.get_internal_type()
                if kind == "JSONField":
                    if model_field.decoder is not None:
                        raise TypeError(f"{part_model.__name__}.{model_field.name}: a JSON field with its own decoder")
                elif kind not in _FROM_JSON or hasattr(model_field, "from_db_value"):
                    raise TypeError(f"{part_model.__name__}.{model_field.name}: {kind} is not read from JSON here")
                attnames.append(model_field.attname)
                self._columns.append(prefix + model_field.attname)
                self._converters.append(_FROM_JSON.get(kind))
            primary = attnames.index(part_model._meta.pk.attname)
            self._parts.append((quick_from_db(part_model), tuple(attnames), primary, link))
        self._annotations = annotations
        self._columns += annotations
        self._converters += [None] * len(annotations)

    def of(self, queryset) -> Subquery:
        return _RowsAsJSON(queryset.order_by().values(row=_Row(*(F(column) for column in self._columns))))

    def objects(self, value, alias: str = DEFAULT_DB_ALIAS) -> list:
        found = []
        converters = self._converters
        for row in value:
            row = [
                item if convert is None or item is None else convert(item)
                for convert, item in zip(converters, row, strict=True)
            ]
            start, obj = 0, None
            for part_from_db, attnames, primary, link in self._parts:
                values = row[start : start + len(attnames)]
                start += len(attnames)
                part = None if values[primary] is None else part_from_db(alias, attnames, values)
                if link is None:
                    obj = part
                else:
                    link.set_cached_value(obj, part)
            for name, annotation in zip(self._annotations, row[start:], strict=True):
                setattr(obj, name, annotation)
            found.append(obj)
        return found


# --- rows inserted by a statement compiled once --------------------------------------------


_INSERTS: dict[tuple, str] = {}
_MOST_INSERTED = 16


_CONVERTERS: dict[tuple, list] = {}
_SLOW = object()


def _quick_value(field, db) -> Callable | None:
    """What ``field.get_db_prep_save(field.pre_save(obj, True), db)`` gives for the value
    types that ``insert_rows`` meets on every read (an integer key, a text, an aware moment,
    ``None``), without its calls: 5-15,000 instructions a field (a key's value goes through
    the foreign key, its target field and the backend; a moment through three methods, the
    settings and the backend). Only for Django's own field classes as they are (the exact
    class, no ``auto_now``); any other value, or any other field, takes Django's path
    (``_SLOW``). ``tests/permissions/test_inserted_rows_quick_values.py`` holds each against
    Django's."""
    kind = type(field)
    if kind.pre_save is not Field.pre_save and kind is not DateTimeField:
        return None
    if kind is CharField or kind is TextField:

        def text(value):
            # A ``str`` subclass (a ``TextChoices`` member) as Django's ``to_python`` keeps it.
            return value if value is None or isinstance(value, str) else _SLOW

        return text
    if kind is ForeignKey and type(field.target_field) in (AutoField, BigAutoField):
        ops = type(db.ops)
        if getattr(ops.validate_autopk_value, "__func__", ops.validate_autopk_value) is not (
            BaseDatabaseOperations.validate_autopk_value
        ):
            return None

        def key(value):
            return value if value is None or type(value) is int else _SLOW

        return key
    if kind is DateTimeField and not (field.auto_now or field.auto_now_add):
        return _moment(db)
    if kind in _INTEGER_FIELDS:
        adapt_integer = type(db.ops).adapt_integerfield_value
        if adapt_integer is BaseDatabaseOperations.adapt_integerfield_value:
            wrap = None  # the value as it is
        elif adapt_integer is PostgreSQLOperations.adapt_integerfield_value:
            wrap = db.ops.integerfield_type_map[field.get_internal_type()]  # psycopg's Int2, Int4, Int8
        else:
            return None

        def number(value):
            if value is None:
                return None
            if type(value) is not int:
                return _SLOW
            return value if wrap is None else wrap(value)

        return number
    if kind is BooleanField:

        def truth(value):
            return value if value is None or type(value) is bool else _SLOW

        return truth
    if kind is UUIDField:
        native = db.features.has_native_uuid_field

        def uuid_value(value):
            if value is None:
                return None
            if type(value) is not uuid.UUID:
                return _SLOW
            return value if native else value.hex

        return uuid_value
    if kind is JSONField:
        adapt_json, encoder = db.ops.adapt_json_value, field.encoder

        def document(value):
            # An object or a list of values (Django's ``get_prep_value`` leaves them as they
            # are); ``None`` is SQL's NULL, as Django's ``get_db_prep_save`` sends it.
            if value is None:
                return None
            return adapt_json(value, encoder) if type(value) is dict or type(value) is list else _SLOW

        return document
    return None


# Django's integer fields whose ``get_db_prep_save`` of an ``int`` is the ``int`` itself
# (``IntegerField.get_prep_value`` and the backend's ``adapt_integerfield_value``).
_INTEGER_FIELDS = frozenset(
    (
        IntegerField,
        SmallIntegerField,
        BigIntegerField,
        PositiveIntegerField,
        PositiveSmallIntegerField,
        PositiveBigIntegerField,
    )
)


def _moment(db) -> Callable:
    """An aware ``datetime`` as ``DateTimeField.get_db_prep_save`` sends it (``_quick_value``)."""
    adapt = db.ops.adapt_datetimefield_value

    def moment(value):
        if value is None:
            return None  # the backend's ``adapt_datetimefield_value`` keeps it
        if type(value) is not datetime.datetime or value.utcoffset() is None:
            return _SLOW  # a naive moment (warned and made aware), anything else
        return adapt(value)

    return moment


def _stamped(field, add: bool) -> bool:
    """Whether ``field.pre_save(obj, add)`` stamps the moment on ``obj`` (``auto_now``, or
    ``auto_now_add`` on an insert): Django's own ``DateTimeField`` only."""
    return type(field) is DateTimeField and bool(field.auto_now or (field.auto_now_add and add))


_SAVE_VALUES: dict[tuple, tuple] = {}


def save_values(db, model: type[Model], fields, objs, add: bool, params: list) -> None:
    """Append to ``params`` each of ``objs``' values of ``fields`` as
    ``field.get_db_prep_save(field.pre_save(obj, add), db)`` gives it (what ``save`` and
    ``bulk_create`` send), taking ``_quick_value``'s way where it applies: an integer, a
    key, a text, an aware moment, a UUID, an object or list of JSON, ``None``. A moment
    ``pre_save`` stamps (``auto_now``, ``auto_now_add`` on an insert) is stamped as Django
    does, ``timezone.now()`` set on the object, field by field. Any other value or field
    takes Django's calls (``tests/permissions/test_inserted_rows_quick_values.py``)."""
    key = (db.alias, db.vendor, model, tuple(fields), add)
    converters = _SAVE_VALUES.get(key)
    if converters is None:
        converters = _SAVE_VALUES[key] = tuple(
            (field, field.attname, _moment(db) if stamp else _quick_value(field, db), stamp)
            for field, stamp in ((field, _stamped(field, add)) for field in fields)
        )
    append = params.append
    for obj in objs:
        values = obj.__dict__
        for field, attname, quick, stamp in converters:
            if stamp:
                value = values[attname] = timezone.now()  # as ``DateTimeField.pre_save`` sets it
                converted = quick(value)
                append(field.get_db_prep_save(value, db) if converted is _SLOW else converted)
                continue
            converted = _SLOW if quick is None or attname not in values else quick(values[attname])
            append(field.get_db_prep_save(field.pre_save(obj, add), db) if converted is _SLOW else converted)


def insert_rows(objs: list) -> None:
    """INSERT ``objs`` (new instances of one model, their primary keys unset and left so) in
    one statement, as ``bulk_create`` writes them (every concrete field's value as ``save``
    would send it) but without compiling the statement on every call or wrapping the one
    statement in a transaction of its own: the statement per model and row count is built
    once and, over PostgreSQL with server-side binding, prepared on the server. For rows
    written on every read (``permissions.policy``'s access log), where ``bulk_create``'s
    compilation and its ``COMMIT`` were a fifth of an opened task's Python. More than
    ``_MOST_INSERTED`` rows go through ``bulk_create`` (which sets their keys)."""
    if not objs:
        return
    model = type(objs[0])
    if len(objs) > _MOST_INSERTED:  # a statement per row count: a few of them, not one per list's length
        model._default_manager.bulk_create(objs)
        return
    db = connections[DEFAULT_DB_ALIAS]
    meta = model._meta
    fields = [field for field in meta.concrete_fields if field is not meta.pk]
    key = (db.alias, db.vendor, model, len(objs))
    sql = _INSERTS.get(key)
    if sql is None:
        quote = db.ops.quote_name
        row = "(" + ", ".join(["%s"] * len(fields)) + ")"
        columns = ", ".join(quote(field.column) for field in fields)
        values = ", ".join([row] * len(objs))
        # Names quoted by the backend, every value a parameter: no text from outside.
        sql = _INSERTS[key] = f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES {values}"  # noqa: S608
    converters = _CONVERTERS.get(key[:3])
    if converters is None:
        converters = _CONVERTERS[key[:3]] = [(field, field.attname, _quick_value(field, db)) for field in fields]
    params: list = []
    add = params.append
    for obj in objs:
        if type(obj) is not model or obj.pk is not None:
            raise ValueError("insert_rows takes new rows of one model")
        values = obj.__dict__
        for field, attname, quick in converters:
            value = _SLOW if quick is None or attname not in values else quick(values[attname])
            add(field.get_db_prep_save(field.pre_save(obj, True), db) if value is _SLOW else value)
    with db.cursor() as cursor:
        if not prepares_statements(db):
            cursor.execute(sql, params)
        elif len(sql) > _PSYCOPG_REMEMBERS_LENGTH or len(params) > _PSYCOPG_REMEMBERS_VALUES:
            # Longer than psycopg converts once (an opened task's access-log rows, five or more:
            # 0.4 of a read): sent with PostgreSQL's placeholders, converted once, as
            # ``Prepared._fetch_raw`` sends a long read.
            raw_key = (*key, "raw")
            raw_sql = _INSERTS.get(raw_key)
            if raw_sql is None:
                raw_sql = _INSERTS[raw_key] = numbered_placeholders(sql, len(params))
            raw = psycopg.RawCursor(db.connection)
            try:
                execute_through(
                    cursor, sql, params, lambda _c, _sql, params: raw.execute(raw_sql, params, prepare=True)
                )
            finally:
                raw.close()
        else:
            execute_through(
                cursor,
                sql,
                params,
                lambda psycopg_cursor, sql, params: psycopg_cursor.execute(sql, params, prepare=True),
            )
