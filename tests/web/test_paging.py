"""Long lists come in pages of 50, and the pager keeps the filters. The inbox and the case
list count nothing ("Forrige side" / "Neste side"); the shorter lists count a few pages ahead."""

import re

import pytest

from tests.workflows.helpers import start_prison_case
from web.paging import PAGE_SIZE

pytestmark = pytest.mark.django_db

ROWS = re.compile(r'<td data-label="(?:Sak|Case|Person)"><a href="/cases/(\d+)/"')


@pytest.fixture
def many_cases(shipped, users, agencies):
    return [start_prison_case(users, agencies) for _ in range(PAGE_SIZE + 5)]


def _case_ids(response) -> list[int]:
    return _case_ids_in(response.content.decode())


def _case_ids_in(page: str) -> list[int]:
    return [int(pk) for pk in ROWS.findall(page)]


def test_the_case_list_shows_every_case_across_its_pages(web, many_cases):
    client = web("kari")
    first = client.get("/cases/?status=open")
    second = client.get("/cases/?status=open&page=2")

    assert first.status_code == second.status_code == 200
    assert len(_case_ids(first)) == PAGE_SIZE and len(_case_ids(second)) == 5
    assert set(_case_ids(first)) | set(_case_ids(second)) == {case.pk for case in many_cases}
    page = first.content.decode()
    assert 'href="?status=open&amp;page=2" rel="next"' in page and 'rel="prev"' not in page
    assert '<nav class="pager" aria-label="Sider">' in page
    assert '<span aria-current="page">Side 1</span>' in page and "Neste side" in page
    second_page = second.content.decode()
    assert 'href="?status=open&amp;page=1" rel="prev"' in second_page and 'rel="next"' not in second_page
    assert "Forrige side" in second_page and "Side 2" in second_page


def test_a_full_last_page_offers_no_next_page(web, shipped, users, agencies):
    """The row read past the page says whether there is a next one: none after exactly 50."""
    for _ in range(PAGE_SIZE):
        start_prison_case(users, agencies)
    page = web("kari").get("/cases/").content.decode()
    assert len(_case_ids_in(page)) == PAGE_SIZE
    assert 'class="pager"' not in page


@pytest.mark.parametrize("asked", ["99", "abc", "-3", "0", "2.5", ""])
@pytest.mark.parametrize("path", ["/cases/?", "/tasks/?tab=agency&"])
def test_a_page_past_the_end_or_a_bad_page_shows_the_first(web, many_cases, path, asked):
    answer = web("kari").get(f"{path}page={asked}")
    assert answer.status_code == 200
    page = answer.content.decode()
    assert page.count('class="person"') == PAGE_SIZE
    assert '<span aria-current="page">Side 1</span>' in page and 'rel="prev"' not in page


def test_the_inbox_pages_too_and_keeps_its_tab_and_order(web, many_cases):
    client = web("kari")
    first = client.get("/tasks/?tab=agency&sort=-due")
    page = first.content.decode()

    assert page.count('class="task-link"') == PAGE_SIZE
    assert 'href="?tab=agency&amp;sort=-due&amp;page=2" rel="next"' in page
    second = client.get("/tasks/?tab=agency&sort=-due&page=2").content.decode()
    assert second.count('class="task-link"') == 5
    assert 'href="?tab=agency&amp;sort=-due&amp;page=1" rel="prev"' in second and 'rel="next"' not in second


def test_a_short_list_has_no_pager(web, prison_case):
    assert 'class="pager"' not in web("kari").get("/cases/").content.decode()


def test_a_page_counts_no_further_than_ten_pages_past_itself(many_cases, monkeypatch):
    """The counted lists (today's cases, an auditor's, a case's access log): no COUNT(*) over
    the whole list; past the counted pages the pager says "more than"."""
    from web import paging
    from workflows.models import Case

    monkeypatch.setattr(paging, "LOOK_AHEAD", 0)
    page = paging.capped_page(Case.objects.order_by("-id"), "1", per_page=10)
    assert page.paginator.count == 11 and page.paginator.capped and page.has_next()
    assert page.paginator.num_pages == 2  # a lower bound: page 2 asks further
    last = paging.capped_page(Case.objects.order_by("-id"), "6", per_page=10)
    assert len(last) == 5 and not last.paginator.capped and not last.has_next()


@pytest.mark.parametrize("path", ["/cases/?status=open", "/cases/", "/tasks/?tab=agency", "/tasks/?tab=overdue"])
def test_the_long_lists_count_nothing_and_read_a_page_and_one_row(web, many_cases, path):
    """At a million tasks even a capped count was most of these pages' SQL (README "Read
    paths at scale"): each reads its page and one row more, whichever page is asked for."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for page in ("", "page=2"):
        with CaptureQueriesContext(connection) as queries:
            assert web("kari").get(f"{path}{'&' if '?' in path else '?'}{page}").status_code == 200
        statements = [query["sql"] for query in queries.captured_queries]
        assert not [sql for sql in statements if sql.startswith("SELECT COUNT(")]  # (a row's own counts are not)
        offset = " OFFSET 50" if page else ""
        assert [sql for sql in statements if sql.endswith(f"LIMIT {PAGE_SIZE + 1}{offset}")], statements


@pytest.mark.postgres
@pytest.mark.parametrize("path", ["/cases/", "/tasks/"])
def test_a_page_number_past_any_count_shows_the_first_page_not_a_500(web, prison_case, path):
    # Attack: ?page=99999999999999999999 made the capped count a LIMIT past bigint (500);
    # as an OFFSET it would be one too.
    answer = web("kari").get(path, {"page": "99999999999999999999"})
    assert answer.status_code == 200
    assert f"/cases/{prison_case.pk}/" in answer.content.decode()


def test_a_counted_pager_says_more_than_when_it_did_not_count_to_the_end(many_cases, monkeypatch):
    from django.template.loader import render_to_string
    from django.utils import translation

    from web import paging
    from workflows.models import Case

    monkeypatch.setattr(paging, "LOOK_AHEAD", 0)
    page = paging.capped_page(Case.objects.order_by("-id"), "1", per_page=10)
    with translation.override("nb"):
        pager = render_to_string("_pager.html", {"page": page, "query": "status=open"})
    assert "Side 1 av over 2" in pager and 'href="?status=open&amp;page=2" rel="next"' in pager


@pytest.mark.parametrize(
    ("username", "path"),
    [("kari", "/cases/"), ("kari", "/tasks/"), ("kari", "/tasks/?tab=all"), ("bjorn", "/today/"), ("aud", "/audit/")],
)
def test_a_far_page_reads_no_further_than_the_last_page_offered(web, prison_case, username, path):
    """Attack: ?page=1000000000 made every list read (and check for visibility) each row the
    reader sees before the page it asked for, an OFFSET of 50 billion, or count them all: a
    statement as long as the reader's whole list, on every such request. A page past
    ``MAX_PAGE_ASKED`` is read as that page, which bounds both, and offers no page after it."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from web.paging import MAX_PAGE_ASKED

    with CaptureQueriesContext(connection) as queries:
        answer = web(username).get(path, {"page": "1000000000"})
    assert answer.status_code == 200
    limits = [
        int(number)
        for query in queries.captured_queries
        for number in re.findall(r"(?:LIMIT|OFFSET) (\d+)", query["sql"])
    ]
    assert limits and max(limits) <= (MAX_PAGE_ASKED + 11) * PAGE_SIZE, limits
    assert MAX_PAGE_ASKED * PAGE_SIZE <= 10_000  # about a first page's worth of rows walked at most


def test_the_last_page_offered_links_no_page_after_it():
    from web.paging import MAX_PAGE_ASKED, uncounted_page

    rows = list(range((MAX_PAGE_ASKED + 2) * PAGE_SIZE))
    last = uncounted_page(rows, str(MAX_PAGE_ASKED))
    assert last.number == MAX_PAGE_ASKED and len(last) == PAGE_SIZE and not last.has_next()
    assert uncounted_page(rows, str(MAX_PAGE_ASKED - 1)).has_next()
    assert uncounted_page(rows, "1000000000").number == MAX_PAGE_ASKED
