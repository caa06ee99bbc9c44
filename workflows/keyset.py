"""Keyset (cursor) pages, one implementation for the API's lists and the web pages that
page the same way (issue 12, point 3).

A page is the rows after (or, going back, before) the last row a reader saw, in the list's
own order: ``WHERE (due_at, id) > (last due_at, last id) ORDER BY due_at, id LIMIT n``.
No row is counted and no row before the page is read, so a page costs the same on the
first page and the thousandth, and a row inserted or completed meanwhile never shifts a
row from one page to the next (page numbers did: ``COUNT(*)``, then ``OFFSET``).

Why not DRF's ``CursorPagination`` as it is: its cursor holds the first ordering field
only, plus an offset to skip the rows sharing that value (up to 1000), and it cannot hold
a NULL. Tasks are ordered by ``due_at, id`` and most have no due date: DRF would offset
through them. Here the cursor holds every key of the order, NULL included, and the order
is the one the selector gave (``workflows.selectors``), whose indexes serve it.

A list's order must be total: its last key is the primary key (added when a selector's
order lacks it). Only its first key may be nullable (``Task.due_at``); the rows past a
NULL boundary are then a second indexed read (``due_at IS NULL AND id > ...``), made only
for the page that crosses it.

The cursor is signed (``django.core.signing``, salted with the list's path: ``CursorSigner``):
a cursor that was altered, cut short or taken to another list is refused (``BadCursor``; the
API answers 400 naming ``cursor``, a page too). It carries the last row's order values, which
the reader saw in that row. Signed is not secret (its payload is base64 JSON): a key of a row
shown by its public id (``core.public_ids``: tasks, events, access-log rows) travels as that
public id, never as the key, which would count the rows hidden from the reader.

The interfaces wrap it: ``api.pagination.KeysetPagination`` (links in the answer) and the
person's access report page (``web.cases.person_access_report``: "Nyere"/"Eldre" links).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

from django.core import signing
from django.core.exceptions import ImproperlyConfigured
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import connections
from django.db.models import F, Model, Q, QuerySet
from django.db.models.expressions import OrderBy

from core import public_ids

SALT = "api.pagination.cursor"  # as the API's first cursors were signed: they stay good
PUBLIC_KINDS = {  # rows shown by public id
    "workflows.task": "task",
    "workflows.event": "event",
    "permissions.accesslog": "access",
}


class Key(NamedTuple):
    """One key of a list's order, as read in one direction."""

    name: str
    descending: bool
    nulls_last: bool  # where NULLs come when reading in this direction
    nullable: bool

    def reversed(self) -> Key:
        return Key(self.name, not self.descending, not self.nulls_last, self.nullable)

    def order(self) -> OrderBy | str:
        if not self.nullable:  # as the selector wrote it, so the SQL matches the index's order
            return f"-{self.name}" if self.descending else self.name
        nulls = {"nulls_last": True} if self.nulls_last else {"nulls_first": True}
        return OrderBy(F(self.name), descending=self.descending, **nulls)


def key_field(queryset: QuerySet, name: str):
    """The field of a key: the model's own, or an annotation's (a related row's column that
    equals the row's own: ``selectors.LIST_DUE_AT``, which the list's index holds)."""
    if name in queryset.query.annotations:
        return queryset.query.annotations[name].output_field
    return queryset.model._meta.pk if name == "pk" else queryset.model._meta.get_field(name)


def ordering_keys(queryset: QuerySet, unique: str | None = None) -> list[Key]:
    """The keys of ``queryset``'s order, made total with the primary key when it does not
    end with it (selectors write it: the index of the order should hold it); ImproperlyConfigured
    for an order a cursor cannot follow (an expression, a NULL in a key after the first).
    ``unique``: the name of the order's last key when it is unique without the primary key
    (grouped rows: ``GroupKeysetPagination``)."""
    model = queryset.model
    query = queryset.query
    terms = query.order_by or (model._meta.ordering if query.default_ordering else ())
    nulls_largest = connections[queryset.db].features.nulls_order_largest
    keys = []
    for term in terms:
        if isinstance(term, str):
            name, descending, nulls_last = term.lstrip("-"), term.startswith("-"), None
        elif isinstance(term, OrderBy) and isinstance(term.expression, F):
            name, descending = term.expression.name, term.descending
            nulls_last = True if term.nulls_last else (False if term.nulls_first else None)
        else:
            raise ImproperlyConfigured(f"{model.__name__}: a cursor cannot follow the order term {term!r}")
        field = key_field(queryset, name)
        attname = name if name in query.annotations else field.attname
        if nulls_last is None:  # the database's own place for NULLs
            nulls_last = nulls_largest != descending
        keys.append(Key(attname, descending, nulls_last, field.null))
    pk = model._meta.pk.attname
    if unique is not None:
        if not keys or keys[-1].name != unique:
            raise ImproperlyConfigured(f"{model.__name__}: the order must end with {unique}")
    elif not keys or keys[-1].name != pk:  # the tie-breaker, in the direction of the last key
        descending = bool(keys) and keys[-1].descending
        keys.append(Key(pk, descending, True, False))
    if any(key.nullable for key in keys[1:]):
        raise ImproperlyConfigured(f"{model.__name__}: only the first key of a cursor's order may be NULL")
    return keys


def _strictly_after(keys: list[Key], values: list[Any]) -> Q:
    """Rows after ``values`` on keys that are never NULL, written so that the first key's
    bound is a range an index reads (``k >= v AND (k > v OR ...)``)."""
    key, value = keys[0], values[0]
    beyond = "lt" if key.descending else "gt"
    if len(keys) == 1:
        return Q(**{f"{key.name}__{beyond}": value})
    return Q(**{f"{key.name}__{beyond}e": value}) & (
        Q(**{f"{key.name}__{beyond}": value}) | _strictly_after(keys[1:], values[1:])
    )


def segments_after(keys: list[Key], values: list[Any]) -> list[Q]:
    """The rows after ``values``, as one or two conditions to read one after the other in
    the keys' order: the second when the first key is nullable and the NULLs come after."""
    first, value = keys[0], values[0]
    if not first.nullable:
        return [_strictly_after(keys, values)]
    is_null = Q(**{f"{first.name}__isnull": True})
    if value is None:  # within the NULLs: the rest of them, then (nulls first) the values
        among_nulls = is_null & _strictly_after(keys[1:], values[1:])
        return [among_nulls] if first.nulls_last else [among_nulls, ~is_null]
    among_values = _strictly_after(keys, values)  # a comparison never holds for NULL
    return [among_values, is_null] if first.nulls_last else [among_values]


def page_queries(queryset: QuerySet, keys: list[Key], values: list[Any] | None) -> list[QuerySet]:
    """The queries that read the rows after ``values`` (from the start when None), one after
    the other, each in the keys' order (``tests/workflows/test_cursor_plans.py`` EXPLAINs them)."""
    ordered = queryset.order_by(*(key.order() for key in keys))
    if values is None:
        return [ordered]
    return [ordered.filter(condition) for condition in segments_after(keys, values)]


def read_after(queryset: QuerySet, keys: list[Key], values: list[Any] | None, limit: int) -> list[Model]:
    """Up to ``limit`` rows after ``values``, in the keys' order; the second query only when
    the first did not fill the page."""
    rows: list[Model] = []
    for query in page_queries(queryset, keys, values):
        rows += query[: limit - len(rows)]
        if len(rows) >= limit:
            break
    return rows


def read_listing_after(listing, keys: list[Key], values: list[Any] | None, limit: int) -> list[Model]:
    """``read_after`` for a list read by statements compiled once per shape
    (``workflows.task_lists.TaskListing``, ``workflows.case_lists.CaseListing``): the same
    page queries, their shape named by the keys, which cursor values are NULL, the segment
    and the rows asked for."""
    nulls = None if values is None else tuple(value is None for value in values)
    given = () if values is None else tuple(value for value in values if value is not None)
    segments = 1 if values is None else len(segments_after(keys, values))
    # A listing may bound its page where the cursor's condition cannot reach (the case
    # lists' walk of the reader's participations: ``CaseListing.narrow_page``).
    narrow = getattr(listing, "narrow_page", lambda queryset, _keys, _values: queryset)
    rows: list[Model] = []
    for segment in range(segments):
        wanted = limit - len(rows)

        def page(queryset, *standins, segment=segment, wanted=wanted):
            if nulls is None:
                return page_queries(queryset, keys, None)[segment][:wanted]
            found = iter(standins)
            cursor = [None if null else next(found) for null in nulls]
            return page_queries(narrow(queryset, keys, cursor), keys, cursor)[segment][:wanted]

        rows += listing.read(("page", tuple(keys), nulls, segment, wanted), page, given)
        if len(rows) >= limit:
            break
    return rows


def position(row: Model | dict, keys: list[Key]) -> list[Any]:
    if isinstance(row, dict):  # a group of rows (``values().annotate()``)
        return [row[key.name] for key in keys]
    return [getattr(row, key.name) for key in keys]


def jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime.datetime | datetime.date) else value


class BadCursor(ValueError):
    """A cursor altered, cut short, made for another list or another order."""


class Cursor(NamedTuple):
    """Where a page starts: after ``values`` (a row's order values), or before them going back."""

    reverse: bool
    values: list[Any]


@dataclass(frozen=True)
class KeysetPage:
    rows: list
    next: Cursor | None  # None on the last page
    previous: Cursor | None  # None on the first page


Reader = Callable[[Any, list[Key], list[Any] | None, int], list]


def read_page(queryset, keys: list[Key], cursor: Cursor | None, size: int, reader: Reader = read_after) -> KeysetPage:
    """The page of ``size`` rows ``cursor`` points to (the first page when None), read by
    ``reader`` (``read_after``, ``read_listing_after``, or one that narrows the statement
    first) with one row more, which says whether a page lies beyond. Going back past the
    start gives the first page, whole."""
    reverse, values = cursor or (False, None)
    read_keys = [key.reversed() for key in keys] if reverse else keys
    rows = reader(queryset, read_keys, values, size + 1)
    page, more = rows[:size], len(rows) > size
    if reverse and not more:  # back at the start: the first page, whole
        reverse, values = False, None
        rows = reader(queryset, keys, None, size + 1)
        page, more = rows[:size], len(rows) > size
    elif reverse:
        page.reverse()
    first = position(page[0], keys) if page else values
    last = position(page[-1], keys) if page else values
    # Going forward, there is a page before when we came from one; going back, after.
    has_next, has_previous = (True, more) if reverse else (more, values is not None)
    return KeysetPage(
        rows=page,
        next=Cursor(False, last) if has_next and last is not None else None,
        previous=Cursor(True, first) if has_previous and first is not None else None,
    )


@dataclass(frozen=True)
class CursorSigner:
    """Cursors of one list signed and read back: ``salt`` names the list (its path), and a
    cursor also names the order it was made for, so one list's cursor is refused by another.
    ``unique``: the order's last key when it is an aggregate naming a row (grouped rows,
    ``ordering_keys(unique=)``), shown, as a primary key is, by its public id."""

    ordered: QuerySet
    keys: list[Key]
    salt: str
    unique: str | None = None

    def public_kind(self, key: Key) -> str | None:
        """The public ids' kind of ``key`` when it names a row shown by public id."""
        model = self.ordered.model
        names_a_row = key.name == (self.unique or model._meta.pk.attname)
        return PUBLIC_KINDS.get(model._meta.label_lower) if names_a_row else None

    def order_signature(self) -> str:
        return ",".join(("-" if key.descending else "") + key.name for key in self.keys)

    def dumps(self, cursor: Cursor) -> str:
        shown = [
            value if value is None or (kind := self.public_kind(key)) is None else public_ids.encode(kind, value)
            for key, value in zip(self.keys, cursor.values, strict=True)
        ]
        token = {"o": self.order_signature(), "r": cursor.reverse, "v": [jsonable(value) for value in shown]}
        return signing.dumps(token, salt=self.salt)

    def loads(self, raw: str) -> Cursor:
        """The cursor ``raw`` signs; ``BadCursor`` for anything else."""
        try:
            token = signing.loads(raw, salt=self.salt)
            if not isinstance(token, dict) or token.get("o") != self.order_signature():
                raise ValueError("another order")
            reverse, raw_values = token["r"], token["v"]
            if not isinstance(reverse, bool) or not isinstance(raw_values, list) or len(raw_values) != len(self.keys):
                raise ValueError("malformed")
            values = [self._value(key, value) for key, value in zip(self.keys, raw_values, strict=True)]
        except (signing.BadSignature, ValueError, TypeError, KeyError, DjangoValidationError):
            raise BadCursor from None
        return Cursor(reverse, values)

    def _value(self, key: Key, raw: Any) -> Any:
        if raw is None:
            if not key.nullable:
                raise ValueError("null")
            return None
        if (kind := self.public_kind(key)) is not None:
            if isinstance(raw, bool) or not isinstance(raw, int):
                raise ValueError("not a public id")
            return public_ids.decode(kind, raw)
        value = key_field(self.ordered, key.name).to_python(raw)
        if isinstance(value, datetime.datetime) and value.tzinfo is None:
            raise ValueError("naive")
        return value


def read_narrowed(narrow: Callable[[QuerySet, list[Key], list[Any] | None, int], QuerySet]) -> Reader:
    """``read_after`` of the statement ``narrow(queryset, keys, values, limit)`` bounds first:
    a bound the cursor's condition cannot give (``selectors.AccessLines.narrow_page``)."""

    def reader(queryset, keys, values, limit):
        return read_after(narrow(queryset, keys, values, limit), keys, values, limit)

    return reader
