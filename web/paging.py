"""Long lists in pages: the web UI's case list, inbox and the other lists of rows.

No page counts every row of its list: a ``COUNT(*)`` over a visibility join reads every
visible row, and a busy agency's lists hold hundreds of thousands.

The long lists (the inbox's tabs, the case list) count nothing: ``next_page_of`` reads the
page asked for and one row more, which says whether a next page exists; the pager offers
"Forrige side" and "Neste side" and names the page's number. Even a count capped a few
pages ahead was most of their SQL at a million tasks (each row counted is checked for
visibility: for an agency in few cases thousands of rows walked a page).

The shorter lists (today's cases, an auditor's cases, a case's access log) still say
"page 3 of 13": ``CappedPaginator`` counts at most ``LOOK_AHEAD`` pages past the one asked
for (a ``COUNT`` over a ``LIMIT``: the rows up to there, read in the list's index order), so
a page costs the same at any table size; the pager then says "page 3 of more than 13".

The person's access report pages as the API does (``cursor_page_of``: ``workflows.keyset``,
one implementation for both): a signed ``?cursor=`` names where a page starts, so its fifth
page costs what its first does; an ``OFFSET`` grouped the person's reads of every page before.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.utils.functional import cached_property

from core.errors import InvalidInput, field_error
from workflows import keyset

PAGE_SIZE = 50
LOOK_AHEAD = 10  # pages counted past the one shown
# A page asked for past this counts as this one, the last a pager offers. A page is read by
# an OFFSET (and a counted list counts to a few pages past it): every row the reader sees
# before it is read and checked for visibility. ?page=1000000000 read the reader's whole list
# (50 billion rows asked for) on every request; ?page=99999999999999999999 was a 500 (a LIMIT
# past bigint). 200 pages of 50 are 10,000 rows, about what a quiet office's first page walks
# (README "Read paths at scale"); further on, the filters (or the API's cursors) find rows.
MAX_PAGE_ASKED = 200


def _page_number(asked) -> int:
    """The page a ``?page=`` value asks for: 1 for a missing or bad one, at most ``MAX_PAGE_ASKED``."""
    try:
        return min(max(1, int(asked)), MAX_PAGE_ASKED)
    except (TypeError, ValueError):
        return 1


class CappedPaginator(Paginator):
    def __init__(self, object_list, per_page, *, page_asked=None, look_ahead=None, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        self.queryset = object_list
        asked = _page_number(page_asked)
        self.cap = (asked + (LOOK_AHEAD if look_ahead is None else look_ahead)) * per_page

    @cached_property
    def count(self) -> int:
        # The keys only: the list's per-row figures (a case's open tasks, its deadlines)
        # would otherwise be computed for every row counted, not only for the page's.
        upto = getattr(self.queryset, "count_upto", None)  # a list read by prepared statements
        return upto(self.cap + 1) if upto is not None else self.queryset.values("pk")[: self.cap + 1].count()

    @property
    def capped(self) -> bool:
        """There are more rows than were counted (``num_pages`` is a lower bound)."""
        return self.count > self.cap


def capped_page(queryset, number, per_page: int = PAGE_SIZE, look_ahead: int | None = None) -> Page:
    """The page ``number`` asks for (a bad number gives the first page, one past the counted
    end the last counted one), counting no further than ``look_ahead`` (by default
    ``LOOK_AHEAD``) pages past it."""
    return CappedPaginator(queryset, per_page, page_asked=number, look_ahead=look_ahead).get_page(number)


def page_of(request, queryset, per_page: int = PAGE_SIZE, look_ahead: int | None = None) -> tuple[Page, str]:
    """The page ``?page=`` asks for, and the query string of the other parameters for the
    pager's links."""
    page = capped_page(queryset, request.GET.get("page"), per_page, look_ahead)
    others = request.GET.copy()
    others.pop("page", None)
    return page, others.urlencode()


class UncountedPage:
    """A page of a list nobody counts: its rows, its number, whether there is a page before
    and after. ``templates/_pager.html`` reads it as it reads a counted ``Page``."""

    paginator = None  # no count: the pager says "page 3", not "page 3 of 13"

    def __init__(self, rows: list[Any], number: int, *, more: bool):
        self.object_list = rows
        self.number = number
        self._more = more

    def has_next(self) -> bool:
        return self._more

    def has_previous(self) -> bool:
        return self.number > 1

    def next_page_number(self) -> int:
        return self.number + 1

    def previous_page_number(self) -> int:
        return self.number - 1

    def __len__(self) -> int:
        return len(self.object_list)

    def __iter__(self) -> Iterator[Any]:
        return iter(self.object_list)


def uncounted_page(rows, number, per_page: int = PAGE_SIZE) -> UncountedPage:
    """The page ``number`` asks for of ``rows`` (a queryset or anything sliced as one), read
    with one row more to know whether a next page exists. A bad number gives the first page,
    and so does a page past the end (a second read: only for a link or bookmark gone stale);
    one past ``MAX_PAGE_ASKED`` gives that page, which links no page after it."""
    number = _page_number(number)
    start = (number - 1) * per_page
    found = list(rows[start : start + per_page + 1])
    if not found and number > 1:
        number, found = 1, list(rows[: per_page + 1])
    return UncountedPage(found[:per_page], number, more=len(found) > per_page and number < MAX_PAGE_ASKED)


def next_page_of(request, rows, per_page: int = PAGE_SIZE) -> tuple[UncountedPage, str]:
    """``page_of`` without a count: the page ``?page=`` asks for (``uncounted_page``) and the
    query string of the other parameters for the pager's links."""
    page = uncounted_page(rows, request.GET.get("page"), per_page)
    others = request.GET.copy()
    others.pop("page", None)
    return page, others.urlencode()


# --- keyset pages ----------------------------------------------------------------------------

CURSOR = "cursor"


class CursorPage:
    """A keyset page (``workflows.keyset``, the API's pages): its rows and the query strings
    of the links to the page before and after it (None at either end). No page number: a
    page starts after the last row of the one before, so every page costs what the first
    does, where ``?page=5`` read the four pages before it again (``OFFSET``)."""

    def __init__(self, rows: list[Any], previous: str | None, following: str | None, first: str):
        self.object_list = rows
        self.previous_query = previous
        self.next_query = following
        self.first_query = first  # the first page: the other parameters, no cursor

    def has_previous(self) -> bool:
        return self.previous_query is not None

    def has_next(self) -> bool:
        return self.next_query is not None

    def __len__(self) -> int:
        return len(self.object_list)

    def __iter__(self) -> Iterator[Any]:
        return iter(self.object_list)


def cursor_page_of(
    request,
    rows: QuerySet,
    *,
    unique: str | None = None,
    narrow=None,
    per_page: int = PAGE_SIZE,
    before_read: Callable[[], None] | None = None,
):
    """The page ``?cursor=`` points to (the first without one) of ``rows`` in their order,
    read as the API reads its pages (``keyset.read_page``; ``narrow``: a bound on the page's
    statement, ``keyset.read_narrowed``; ``unique``: ``keyset.ordering_keys``). A cursor is
    signed for this page's path: one altered, cut short or taken from another page is
    ``InvalidInput`` naming ``cursor`` (the view answers 400), never a page of other rows.
    ``before_read``: what the view logs of the read, called once the cursor is read (a refused
    one logs nothing)."""
    keys = keyset.ordering_keys(rows, unique=unique)
    signer = keyset.CursorSigner(rows, keys, f"{keyset.SALT}:{request.path}", unique)
    raw = request.GET.get(CURSOR)
    try:
        cursor = None if raw is None else signer.loads(raw)
    except keyset.BadCursor:
        raise InvalidInput("query.invalid", errors=[field_error(CURSOR, "query.invalid_cursor")]) from None
    if before_read is not None:
        before_read()
    reader = keyset.read_after if narrow is None else keyset.read_narrowed(narrow)
    page = keyset.read_page(rows, keys, cursor, per_page, reader)
    others = request.GET.copy()
    others.pop(CURSOR, None)
    others.pop("page", None)  # the numbered pages' parameter, in links made before

    def link(to: keyset.Cursor | None) -> str | None:
        if to is None:
            return None
        query = others.copy()
        query[CURSOR] = signer.dumps(to)
        return query.urlencode()

    return CursorPage(page.rows, link(page.previous), link(page.next), others.urlencode())
