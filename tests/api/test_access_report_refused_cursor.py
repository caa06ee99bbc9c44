"""A person's access report refused for its query logs no read of it (h-lists).

The report's read is logged in the access log of each case it covers (``policy.
log_access_report``). Its pages are keyset pages: a cursor that is altered, cut short or taken
from another list, or a page size that is no number, is a 400, and no report is given. Until
h-lists the API and the page logged the read first and refused the cursor after: every refused
request stood in the person's cases as a report given them ("personens krav på innsyn")."""

import pytest
from django.urls import reverse

from permissions.models import AccessLog
from tests.api.test_safety_warnings import people, warned  # noqa: F401 (fixtures)
from tests.clients import api, web

pytestmark = pytest.mark.django_db


def _reports(case) -> int:
    return AccessLog.objects.filter(case=case, item="access-report").count()


def _another_list_s_cursor(client, case) -> str:
    """A cursor signed for another list (the case's timeline, a page of one)."""
    answer = client.get(reverse("api-case-timeline", args=[case.pk]), {"page_size": 1}).json()
    return answer["next"].split("cursor=")[1].split("&")[0]


@pytest.mark.parametrize(
    "query", [{"cursor": "garbage"}, {"cursor": "another list's"}, {"page_size": "many"}, {"page_size": "0"}]
)
def test_the_api_refuses_a_bad_cursor_or_page_size_before_it_logs_the_report(warned, people, query):  # noqa: F811
    client = api(people["coordinator"])
    if query.get("cursor") == "another list's":
        query = {"cursor": _another_list_s_cursor(client, warned)}
    answer = client.get(reverse("api-person-access-report", args=[warned.pk]), query)
    assert answer.status_code == 400, answer.content
    assert _reports(warned) == 0

    assert client.get(reverse("api-person-access-report", args=[warned.pk])).status_code == 200
    assert _reports(warned) == 1


@pytest.mark.parametrize("cursor", ["garbage", "another list's"])
def test_the_page_refuses_a_bad_cursor_before_it_logs_the_report(warned, people, cursor):  # noqa: F811
    if cursor == "another list's":
        cursor = _another_list_s_cursor(api(people["coordinator"]), warned)
    client = web(people["coordinator"])
    answer = client.get(reverse("person-access-report", args=[warned.pk]), {"cursor": cursor})
    assert answer.status_code == 400
    assert _reports(warned) == 0

    assert client.get(reverse("person-access-report", args=[warned.pk])).status_code == 200
    assert _reports(warned) == 1


def test_a_good_cursor_s_page_is_logged_as_before(warned, people):  # noqa: F811
    """A later page (the API's ``next``) is a read of the report as the first is."""
    for reader in ("other", "recorder"):  # reads of the case by others: lines of the report
        assert api(people[reader]).get(reverse("api-case", args=[warned.pk])).status_code == 200
    client = api(people["coordinator"])
    first = client.get(reverse("api-person-access-report", args=[warned.pk]), {"page_size": 1}).json()
    assert _reports(warned) == 1 and first["next"]
    assert client.get(first["next"]).status_code == 200
    assert _reports(warned) == 2
