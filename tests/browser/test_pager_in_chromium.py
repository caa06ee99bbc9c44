"""The long lists' pager ("Forrige side" / "Neste side", no count) in Chromium, on a desktop
and a phone: a landmark named in bokmål, links that keep the filters, axe-core clean, and
nothing wider than the screen."""

import pytest

from tests.workflows.helpers import start_prison_case
from web.paging import PAGE_SIZE

from .conftest import axe_violations, english_on_page, page_checker

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def wider_than_the_screen(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth > window.innerWidth")


@pytest.mark.parametrize("phone", [False, True], ids=["desktop", "phone"])
def test_the_pager_walks_the_case_list_and_the_inbox(as_user, live_server, users, agencies, shipped, phone):
    for _ in range(PAGE_SIZE + 2):
        start_prison_case(users, agencies)
    visit, problems = page_checker(as_user, live_server)

    for path, rows in (("/cases/?status=open", "a.person"), ("/tasks/?tab=agency", "a.task-link")):
        kari = visit("kari", path, phone=phone)
        pager = kari.get_by_role("navigation", name="Sider")
        assert pager.get_by_text("Side 1", exact=True).count() == 1
        assert pager.get_by_role("link", name="Forrige side").count() == 0
        assert kari.locator(rows).count() == PAGE_SIZE
        assert not wider_than_the_screen(kari)

        pager.get_by_role("link", name="Neste side").click()
        kari.wait_for_url(f"**{path}&page=2")
        assert kari.locator(rows).count() == 2
        pager = kari.get_by_role("navigation", name="Sider")
        assert pager.get_by_role("link", name="Neste side").count() == 0
        problems.extend(f"kari page 2 of {path}: {v}" for v in axe_violations(kari))
        problems.extend(f"kari page 2 of {path}: English “{p}”" for p in english_on_page(kari))
        assert not wider_than_the_screen(kari)

        pager.get_by_role("link", name="Forrige side").click()
        kari.wait_for_url(f"**{path}&page=1")
        assert kari.locator(rows).count() == PAGE_SIZE
    assert problems == [], "\n".join(problems)
