"""Long lists come in pages of 50, and the pager keeps the filters."""

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
    return [int(pk) for pk in ROWS.findall(response.content.decode())]


def test_the_case_list_shows_every_case_across_its_pages(web, many_cases):
    client = web("kari")
    first = client.get("/cases/?status=open")
    second = client.get("/cases/?status=open&page=2")

    assert first.status_code == second.status_code == 200
    assert len(_case_ids(first)) == PAGE_SIZE and len(_case_ids(second)) == 5
    assert set(_case_ids(first)) | set(_case_ids(second)) == {case.pk for case in many_cases}
    page = first.content.decode()
    assert 'href="?status=open&amp;page=2" rel="next"' in page
    assert "Side 1 av 2" in page
    assert 'rel="prev"' in second.content.decode() and 'rel="next"' not in second.content.decode()


def test_a_page_past_the_end_shows_the_last_and_a_bad_page_the_first(web, many_cases):
    client = web("kari")
    assert len(_case_ids(client.get("/cases/?page=99"))) == 5
    assert len(_case_ids(client.get("/cases/?page=abc"))) == PAGE_SIZE


def test_the_inbox_pages_too_and_keeps_its_tab_and_order(web, many_cases):
    client = web("kari")
    first = client.get("/tasks/?tab=agency&sort=-due")
    page = first.content.decode()

    assert page.count('class="task-link"') == PAGE_SIZE
    assert 'href="?tab=agency&amp;sort=-due&amp;page=2" rel="next"' in page
    second = client.get("/tasks/?tab=agency&sort=-due&page=2").content.decode()
    assert second.count('class="task-link"') == 5


def test_a_short_list_has_no_pager(web, prison_case):
    assert 'class="pager"' not in web("kari").get("/cases/").content.decode()


def test_a_page_counts_no_further_than_ten_pages_past_itself(many_cases, monkeypatch):
    """No COUNT(*) over the whole list: past the counted pages the pager says "more than"."""
    from web import paging
    from workflows.models import Case

    monkeypatch.setattr(paging, "LOOK_AHEAD", 0)
    page = paging.capped_page(Case.objects.order_by("-id"), "1", per_page=10)
    assert page.paginator.count == 11 and page.paginator.capped and page.has_next()
    assert page.paginator.num_pages == 2  # a lower bound: page 2 asks further
    last = paging.capped_page(Case.objects.order_by("-id"), "6", per_page=10)
    assert len(last) == 5 and not last.paginator.capped and not last.has_next()


def test_the_count_reads_the_keys_of_the_rows_not_what_each_row_shows(web, many_cases):
    """The case list's count leaves out its per-row figures (open tasks, next timer, next
    due date: a subquery each per counted row); the page itself reads them for its rows."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        assert web("kari").get("/cases/?status=open").status_code == 200
    (count,) = [query["sql"] for query in queries.captured_queries if query["sql"].startswith("SELECT COUNT(*)")]
    assert "workflows_case" in count
    assert "workflows_task" not in count and "workflows_processinstance" not in count


def test_the_pager_says_more_than_when_it_did_not_count_to_the_end(web, many_cases, monkeypatch):
    from web import paging

    monkeypatch.setattr(paging, "LOOK_AHEAD", 0)
    page = web("kari").get("/cases/?status=open").content.decode()
    assert "Side 1 av over 2" in page and 'rel="next"' in page


@pytest.mark.postgres
@pytest.mark.parametrize("path", ["/cases/", "/tasks/"])
def test_a_page_number_past_any_count_shows_the_last_page_not_a_500(web, prison_case, path):
    # Attack: ?page=99999999999999999999 made the capped count a LIMIT past bigint (500).
    answer = web("kari").get(path, {"page": "99999999999999999999"})
    assert answer.status_code == 200
    assert f"/cases/{prison_case.pk}/" in answer.content.decode()


def test_the_inbox_counts_two_pages_past_the_one_shown(web, many_cases):
    """The inbox's count reads at most three pages and a row (README "Read paths at scale")."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from web.paging import PAGE_SIZE
    from web.tasks import INBOX_LOOK_AHEAD

    for page, counted in (("", 1 + INBOX_LOOK_AHEAD), ("&page=4", 4 + INBOX_LOOK_AHEAD)):
        with CaptureQueriesContext(connection) as queries:
            assert web("kari").get(f"/tasks/?tab=agency{page}").status_code == 200
        (count,) = [query["sql"] for query in queries.captured_queries if query["sql"].startswith("SELECT COUNT(*)")]
        assert f"LIMIT {counted * PAGE_SIZE + 1})" in count
