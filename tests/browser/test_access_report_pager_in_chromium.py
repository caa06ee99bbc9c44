"""The person's access report's pages in Chromium, on a desktop and a phone: "Eldre lesinger"
and "Nyere lesinger" are links in a landmark named in bokmål, they walk to the older lines
and back (a cursor, as the API's pages: ``web.paging.cursor_page_of``), each page passes
axe-core and nothing is wider than the screen."""

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from permissions.models import AccessLog, Membership, Role
from tests.workflows.helpers import start_prison_case
from web.paging import PAGE_SIZE

from .conftest import PASSWORD, axe_violations, english_on_page, page_checker

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
DAYS = PAGE_SIZE + 10  # a line a day: two pages


def wider_than_the_screen(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth > window.innerWidth")


@pytest.mark.parametrize("phone", [False, True], ids=["desktop", "phone"])
def test_the_report_s_links_walk_to_older_lines_and_back(as_user, live_server, users, agencies, shipped, phone):
    case = start_prison_case(users, agencies)
    coordinator = get_user_model().objects.create_user("koordinator-p", password=PASSWORD)
    Membership.objects.create(user=coordinator, agency=agencies["housing"], role=Role.COORDINATOR)
    reader = get_user_model().objects.create_user("leser-p", password=PASSWORD)
    Membership.objects.create(user=reader, agency=agencies["nav"], role=Role.MEMBER)
    yesterday = timezone.now() - datetime.timedelta(days=1)
    AccessLog.objects.bulk_create(
        AccessLog(
            user=reader,
            username=reader.username,
            role="member",
            agency=agencies["nav"],
            case=case,
            person_id=case.person_id,
            category="housing",
            basis="shared-field",
            at=yesterday - datetime.timedelta(days=day),
        )
        for day in reversed(range(DAYS))
    )
    visit, problems = page_checker(as_user, live_server)
    path = f"/cases/{case.pk}/person-access-report/"

    page = visit("koordinator-p", path, phone=phone)
    pager = page.get_by_role("navigation", name="Sider i rapporten")
    assert pager.get_by_role("link", name="Nyere lesinger").count() == 0
    first = page.locator("#report-entries tbody tr").all_inner_texts()
    assert len(first) == PAGE_SIZE and not wider_than_the_screen(page)

    pager.get_by_role("link", name="Eldre lesinger").click()
    page.wait_for_url("**?cursor=*")
    older = page.locator("#report-entries tbody tr").all_inner_texts()
    assert older and not set(older) & set(first)
    pager = page.get_by_role("navigation", name="Sider i rapporten")
    assert pager.get_by_role("link", name="Eldre lesinger").count() == 0
    problems.extend(f"the older page: {v}" for v in axe_violations(page))
    problems.extend(f"the older page: English “{p}”" for p in english_on_page(page))
    assert not wider_than_the_screen(page)

    pager.get_by_role("link", name="Nyere lesinger").click()
    page.wait_for_load_state("load")
    # The same lines of the reader's (the coordinator's own reads of the report count up).
    again = page.locator("#report-entries tbody tr").all_inner_texts()
    assert [line for line in again if "leser-p" in line] == [line for line in first if "leser-p" in line]
    assert problems == [], "\n".join(problems)
