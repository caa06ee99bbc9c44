"""Keyset (cursor) pagination for every API list (issue 12, point 3): the pages themselves
are ``workflows.keyset``'s (shared with the web pages that page the same way); here the
query parameters, the ``next`` and ``previous`` links, the 400 for a bad cursor and the schema.
"""

from __future__ import annotations

from django.db.models import QuerySet
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

from api.exceptions import coded
from core.errors import InvalidInput, field_error
from workflows.keyset import (  # re-exported: the lists' tests read the pages' parts from here
    SALT,
    BadCursor,
    Cursor,
    CursorSigner,
    Key,
    ordering_keys,
    page_queries,
    read_after,
    read_listing_after,
    read_narrowed,
    read_page,
)

__all__ = ["Key", "ordering_keys", "page_queries", "read_after", "read_listing_after"]

CURSOR = "cursor"
PAGE_SIZE = "page_size"
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
EXAMPLE_LINK = (  # what a link looks like: the list's URL, its filters, the signed cursor
    "https://brobygger.example/api/v1/tasks/?assigned=agency&cursor="
    "eyJvIjoiZHVlX2F0LGlkIiwiciI6ZmFsc2UsInYiOltudWxsLDQyXX0:1tQa2b:Kx3Vd0pQ"
)


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
    unique: str | None = None  # the order's last key when not the primary key (grouped rows)

    def paginate_queryset(self, queryset, request, view=None):
        """A page of ``queryset``, or of a ``TaskListing`` (its statements compiled once)."""
        check_parameters(request, view)
        self.request = request
        self.page_size = self.get_page_size(request)
        self.base_url = request.build_absolute_uri()
        self.model = queryset.model
        listing = not isinstance(queryset, QuerySet)
        # What a view logs of a page read (``before_page_read``): once the request's query is
        # known good, so a refused one (a 400) logs nothing.
        before_read = getattr(view, "before_page_read", None) or (lambda: None)
        if queryset.empty if listing else queryset.query.is_empty():  # a selector's none(): no rows, no links
            self.next_cursor = self.previous_cursor = None
            before_read()
            return []
        self.ordered = queryset.in_order() if listing else queryset
        self.keys = self.keys_of(self.ordered)
        self.signer = CursorSigner(self.ordered, self.keys, f"{SALT}:{request.path}", self.unique)
        reader = read_listing_after if listing else read_after
        narrow = getattr(view, "narrow_page", None)  # a bound the cursor's condition cannot give
        if not listing and narrow is not None:
            reader = read_narrowed(narrow)
        cursor = self.decode_cursor(request)
        before_read()
        page = read_page(queryset, self.keys, cursor, self.page_size, reader)
        self.next_cursor, self.previous_cursor = page.next, page.previous
        return page.rows

    def keys_of(self, queryset: QuerySet) -> list[Key]:
        return ordering_keys(queryset, unique=self.unique)

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

    def decode_cursor(self, request) -> Cursor | None:
        raw = request.query_params.get(self.cursor_query_param)
        if raw is None:
            return None
        try:
            return self.signer.loads(raw)
        except BadCursor:
            raise ValidationError({self.cursor_query_param: [coded("query.invalid_cursor")]}) from None

    def encode_cursor(self, cursor: Cursor) -> str:
        return replace_query_param(self.base_url, self.cursor_query_param, self.signer.dumps(cursor))

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
    (``workflows.selectors.AccessLines.narrow_page``: the days a page spans)."""

    unique = "last_id"
