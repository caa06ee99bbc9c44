"""Keyset (cursor) pagination for every API list (issue 12, point 3).

A page is the rows after (or, going back, before) the last row a client saw, in the list's
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

The cursor is signed (``django.core.signing``, salted with the list's path): a cursor
that was altered, cut short or taken to another list is refused with 400 naming
``cursor``. It carries the last row's order values, which the client saw in that row. Signed
is not secret (its payload is base64 JSON): a key of a row shown by its public id
(``core.public_ids``: tasks, events) travels as that public id, never as the key, which would
count the rows hidden from the reader.
"""

from __future__ import annotations

import datetime
from typing import Any, NamedTuple

from django.core import signing
from django.core.exceptions import ImproperlyConfigured
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import connections
from django.db.models import F, Model, Q, QuerySet
from django.db.models.expressions import OrderBy
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

from api.exceptions import coded
from core import public_ids
from core.errors import InvalidInput, field_error

CURSOR = "cursor"
PAGE_SIZE = "page_size"
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
SALT = "api.pagination.cursor"
PUBLIC_KINDS = {  # rows shown by public id
    "workflows.task": "task",
    "workflows.event": "event",
    "permissions.accesslog": "access",
}
EXAMPLE_LINK = (  # what a link looks like: the list's URL, its filters, the signed cursor
    "https://brobygger.example/api/v1/tasks/?assigned=agency&cursor="
    "eyJvIjoiZHVlX2F0LGlkIiwiciI6ZmFsc2UsInYiOltudWxsLDQyXX0:1tQa2b:Kx3Vd0pQ"
)


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


def _position(row: Model | dict, keys: list[Key]) -> list[Any]:
    if isinstance(row, dict):  # a group of rows (``values().annotate()``)
        return [row[key.name] for key in keys]
    return [getattr(row, key.name) for key in keys]


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime.datetime | datetime.date) else value


# Read by every list besides its page's parameters: DRF's choice of renderer (JSON only).
FORMAT = "format"


def list_parameters(view) -> frozenset[str]:
    """The query parameters a list reads: its page's, its filter set's, and those its view
    names in ``query_parameters``."""
    filterset = getattr(view, "filterset_class", None)
    filters = filterset.base_filters if filterset is not None else {}
    return frozenset({CURSOR, PAGE_SIZE, FORMAT, *filters, *getattr(view, "query_parameters", ())})


def check_parameters(request, view) -> None:
    """400 naming each query parameter the list does not read, or that is given twice. Both
    were ignored: a misspelt filter (``asigned=me``) answered the unfiltered list as if it
    were the filtered one, ``status=open&status=closed`` the closed rows alone (the last
    value won), and ``page=2`` (gone with page numbers) the first page, again and again."""
    known = list_parameters(view)
    errors = []
    for name, values in request.query_params.lists():
        if name not in known:
            errors.append(field_error(name, "query.unknown_parameter", known=", ".join(sorted(known))))
        elif len(values) > 1:
            errors.append(field_error(name, "query.repeated_parameter"))
    if errors:
        raise InvalidInput("query.invalid", errors=errors)


class KeysetPagination(CursorPagination):
    """``?cursor=`` (from a ``next`` or ``previous`` link) and ``?page_size=`` (default 50,
    at most 200); the answer is ``{"next", "previous", "results"}``, no count."""

    page_size = DEFAULT_PAGE_SIZE
    max_page_size = MAX_PAGE_SIZE
    page_size_query_param = PAGE_SIZE
    cursor_query_param = CURSOR
    cursor_query_description = "where the page starts: take it from the `next` or `previous` link of a page"
    page_size_query_description = f"rows per page, 1 and up (default {DEFAULT_PAGE_SIZE}; at most {MAX_PAGE_SIZE})"
    template = None

    def paginate_queryset(self, queryset, request, view=None):
        """A page of ``queryset``, or of a ``TaskListing`` (its statements compiled once)."""
        check_parameters(request, view)
        self.request = request
        self.page_size = self.get_page_size(request)
        self.base_url = request.build_absolute_uri()
        self.model = queryset.model
        listing = not isinstance(queryset, QuerySet)
        if queryset.empty if listing else queryset.query.is_empty():  # a selector's none(): no rows, no links
            self.next_cursor = self.previous_cursor = None
            return []
        self.ordered = queryset.in_order() if listing else queryset
        self.keys = self.keys_of(self.ordered)
        reader = read_listing_after if listing else read_after
        narrow = getattr(view, "narrow_page", None)  # a bound the cursor's condition cannot give
        if not listing and narrow is not None:

            def reader(queryset, keys, values, limit):
                return read_after(narrow(queryset, keys, values, limit), keys, values, limit)

        reverse, values = self.decode_cursor(request) or (False, None)
        keys = [key.reversed() for key in self.keys] if reverse else self.keys
        rows = reader(queryset, keys, values, self.page_size + 1)
        page, more = rows[: self.page_size], len(rows) > self.page_size
        if reverse and not more:  # back at the start: the first page, whole
            reverse, values = False, None
            rows = reader(queryset, self.keys, None, self.page_size + 1)
            page, more = rows[: self.page_size], len(rows) > self.page_size
        elif reverse:
            page.reverse()
        first = _position(page[0], self.keys) if page else values
        last = _position(page[-1], self.keys) if page else values
        # Going forward, there is a page before when we came from one; going back, after.
        has_next, has_previous = (True, more) if reverse else (more, values is not None)
        self.next_cursor = (False, last) if has_next else None
        self.previous_cursor = (True, first) if has_previous else None
        return page

    def keys_of(self, queryset: QuerySet) -> list[Key]:
        return ordering_keys(queryset)

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None or raw == "":
            return self.page_size
        try:
            size = int(raw)
        except ValueError:
            size = 0
        if size < 1:
            raise ValidationError({self.page_size_query_param: [coded("query.invalid_page_size")]})
        return min(size, self.max_page_size)

    def _salt(self) -> str:
        return f"{SALT}:{self.request.path}"

    def _order_signature(self) -> str:
        return ",".join(("-" if key.descending else "") + key.name for key in self.keys)

    def decode_cursor(self, request):
        raw = request.query_params.get(self.cursor_query_param)
        if raw is None:
            return None
        try:
            token = signing.loads(raw, salt=self._salt())
            if not isinstance(token, dict) or token.get("o") != self._order_signature():
                raise ValueError("another order")
            reverse, raw_values = token["r"], token["v"]
            if not isinstance(reverse, bool) or not isinstance(raw_values, list) or len(raw_values) != len(self.keys):
                raise ValueError("malformed")
            values = [self._value(key, value) for key, value in zip(self.keys, raw_values, strict=True)]
        except (signing.BadSignature, ValueError, TypeError, KeyError, DjangoValidationError):
            raise ValidationError({self.cursor_query_param: [coded("query.invalid_cursor")]}) from None
        return reverse, values

    def _public_kind(self, key: Key) -> str | None:
        """The public ids' kind of ``key`` when it is the key of a row shown by public id."""
        if key.name != self.model._meta.pk.attname:
            return None
        return PUBLIC_KINDS.get(self.model._meta.label_lower)

    def _value(self, key: Key, raw: Any) -> Any:
        if raw is None:
            if not key.nullable:
                raise ValueError("null")
            return None
        if (kind := self._public_kind(key)) is not None:
            if isinstance(raw, bool) or not isinstance(raw, int):
                raise ValueError("not a public id")
            return public_ids.decode(kind, raw)
        value = key_field(self.ordered, key.name).to_python(raw)
        if isinstance(value, datetime.datetime) and value.tzinfo is None:
            raise ValueError("naive")
        return value

    def encode_cursor(self, cursor):
        reverse, values = cursor
        shown = [
            value if value is None or (kind := self._public_kind(key)) is None else public_ids.encode(kind, value)
            for key, value in zip(self.keys, values, strict=True)
        ]
        token = {"o": self._order_signature(), "r": reverse, "v": [_jsonable(value) for value in shown]}
        return replace_query_param(self.base_url, self.cursor_query_param, signing.dumps(token, salt=self._salt()))

    def get_next_link(self):
        return self.encode_cursor(self.next_cursor) if self.next_cursor else None

    def get_previous_link(self):
        return self.encode_cursor(self.previous_cursor) if self.previous_cursor else None

    def get_paginated_response(self, data):
        return Response({"next": self.get_next_link(), "previous": self.get_previous_link(), "results": data})

    def get_paginated_response_schema(self, schema):
        answer = super().get_paginated_response_schema(schema)
        answer["required"] = ["next", "previous", "results"]
        for link, description in (
            ("next", "the next page; null on the last page"),
            ("previous", "the page before; null on the first page"),
        ):
            answer["properties"][link]["description"] = description
            answer["properties"][link]["example"] = EXAMPLE_LINK
        return answer

    def get_schema_operation_parameters(self, view):
        cursor, size = super().get_schema_operation_parameters(view)
        size["schema"] = {"type": "integer", "minimum": 1, "default": self.page_size}
        return [cursor, size]


class GroupKeysetPagination(KeysetPagination):
    """Keyset pages of grouped rows (``values(...).annotate(...)``: dicts, no primary key):
    their order ends with ``unique``, an aggregate of the primary key that names one row of
    each group (``Max("id")``: its newest), so the order is total as it is. The cursor shows
    it as that row's public id (``PUBLIC_KINDS``), never as the key. The person's access
    report (``workflows.selectors.access_groups``). A view's ``narrow_page(queryset, keys,
    values, limit)`` bounds each page's statement to the rows its groups can come from
    (``workflows.selectors.AccessLines``: the days a page spans)."""

    unique = "last_id"

    def keys_of(self, queryset: QuerySet) -> list[Key]:
        return ordering_keys(queryset, unique=self.unique)

    def _public_kind(self, key: Key) -> str | None:
        return PUBLIC_KINDS.get(self.model._meta.label_lower) if key.name == self.unique else None
