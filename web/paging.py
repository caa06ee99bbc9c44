"""Long lists in pages: the web UI's case list and inbox."""

from __future__ import annotations

from django.core.paginator import Page, Paginator

PAGE_SIZE = 50


def page_of(request, queryset, per_page: int = PAGE_SIZE) -> tuple[Page, str]:
    """The page ``?page=`` asks for (a bad number gives the first page, one past the end the
    last), and the query string of the other parameters for the pager's links."""
    page = Paginator(queryset, per_page).get_page(request.GET.get("page"))
    others = request.GET.copy()
    others.pop("page", None)
    return page, others.urlencode()
