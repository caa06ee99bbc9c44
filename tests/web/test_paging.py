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
