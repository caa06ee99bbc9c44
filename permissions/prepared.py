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
``Prepared`` refuses a builder whose stand-ins do not each appear among the parameters.
Lowest layer with Django, shared by ``permissions`` and ``workflows``.
"""

from __future__ import annotations

import datetime
import threading
from collections.abc import Callable
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models.query import get_related_populators  # type: ignore[attr-defined]  # (not in the stubs)

# Stand-ins: values no id, text or moment of ours takes.
_INT_BASE = -9_137_000_000_000
_TEXT_BASE = "\x00prepared-stand-in-"
_MOMENT_BASE = datetime.datetime(1901, 1, 1, tzinfo=datetime.UTC)
_KINDS = (int, str, datetime.datetime)


def _standin(kind: type, index: int):
    if kind is int:
        return _INT_BASE - index
    if kind is str:
        return f"{_TEXT_BASE}{index}"
    if kind is datetime.datetime:
        return _MOMENT_BASE + datetime.timedelta(microseconds=index + 1)
    raise TypeError(f"a prepared value is one of {_KINDS}, not {kind}")


class Prepared:
    """``Prepared(lambda case_id, user_id: Model.objects.filter(...), kinds=(int, int))``; then
    ``prepared.objects(case_id, user_id)`` (model instances) or ``prepared.rows(...)``
    (tuples, for a ``values_list`` queryset)."""

    def __init__(self, build: Callable[..., Any], *, kinds: tuple[type, ...]):
        self._build = build
        self._kinds = kinds
        self._compiled: dict[tuple[str, str], _Compiled] = {}
        self._lock = threading.Lock()

    def objects(self, *values) -> list:
        compiled, db = self._for(values)
        return compiled.objects(db, compiled.fetch(db, values))

    def rows(self, *values) -> list[tuple]:
        compiled, db = self._for(values)
        return [tuple(row) for row in compiled.fetch(db, values)]

    def statement(self, *values) -> tuple[str, list]:
        """The SQL and parameters, to send among other statements (``workflows.steps.rows``);
        ``objects_from(cursor)`` reads its result."""
        compiled, db = self._for(values)
        return compiled.sql, compiled.params_for(db, values)

    def objects_from(self, cursor) -> list:
        """The objects of ``statement()``'s result, at ``cursor``."""
        compiled, db = self._for(None)
        return compiled.objects(db, compiled.converted(cursor.fetchall()))

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
        standins = [_standin(kind, index) for index, kind in enumerate(self._kinds)]
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
        if {index for _position, index in slots} != set(range(len(standins))):
            raise ValueError("every stand-in must reach the statement as a parameter of its own")
        return _Compiled(sql, tuple(params), tuple(slots), compiler)


def _adapt(db, value):
    """``value`` as the backend's lookups put it among a statement's parameters."""
    if isinstance(value, datetime.datetime):
        return db.ops.adapt_datetimefield_value(value)
    return value


class _Compiled:
    def __init__(self, sql: str, params: tuple, slots: tuple, compiler):
        self.sql, self.params, self.slots, self.compiler = sql, params, slots, compiler

    def params_for(self, db, values) -> list:
        params = list(self.params)
        for position, index in self.slots:
            params[position] = _adapt(db, values[index])
        return params

    def fetch(self, db, values) -> list:
        with db.cursor() as cursor:
            cursor.execute(self.sql, self.params_for(db, values))
            return self.converted(cursor.fetchall())

    def converted(self, rows) -> list:
        compiler = self.compiler
        if compiler.has_extra_select:
            rows = [row[: compiler.col_count] for row in rows]
        # The fields' converters, as the queryset's own iteration applies them.
        return list(compiler.results_iter([rows]))

    def objects(self, db, rows) -> list:
        """Model objects as the queryset's own iteration builds them: ``Model.from_db``,
        the ``select_related`` populators, the annotations."""
        compiler = self.compiler
        klass_info, select = compiler.klass_info, compiler.select
        model = klass_info["model"]
        fields = klass_info["select_fields"]
        start, end = fields[0], fields[-1] + 1
        init_list = [column[0].target.attname for column in select[start:end]]
        populators = get_related_populators(klass_info, select, db.alias)
        annotations = compiler.annotation_col_map
        found = []
        for row in rows:
            obj = model.from_db(db.alias, init_list, row[start:end])
            for populator in populators:
                populator.populate(row, obj)
            for name, position in (annotations or {}).items():
                setattr(obj, name, row[position])
            found.append(obj)
        return found
