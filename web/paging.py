"""Long lists in pages: the web UI's case list, inbox and the other lists of rows.

No page counts every row of its list: a ``COUNT(*)`` over a visibility join reads every
visible row, and a busy agency's lists hold hundreds of thousands. ``CappedPaginator``
counts at most ``LOOK_AHEAD`` pages past the one asked for (a ``COUNT`` over a ``LIMIT``:
the rows up to there, read in the list's index order), so a page costs the same at any
table size; the pager then says "page 3 of more than 13".
"""

from __future__ import annotations

from django.core.paginator import Page, Paginator
from django.utils.functional import cached_property

PAGE_SIZE = 50
LOOK_AHEAD = 10  # pages counted past the one shown
# A page asked for past this counts as this one (the last page is shown either way): the
# count's LIMIT must stay within PostgreSQL's bigint (?page=99999999999999999999 was a 500).
MAX_PAGE_ASKED = 10**9


class CappedPaginator(Paginator):
    def __init__(self, object_list, per_page, *, page_asked=None, look_ahead=None, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        self.queryset = object_list
        try:
            asked = min(max(1, int(page_asked)), MAX_PAGE_ASKED)
        except (TypeError, ValueError):
            asked = 1
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
