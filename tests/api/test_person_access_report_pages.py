"""The person's access report is bounded: reads alike on one day are one line (their number,
first and last time), and the lines come in keyset pages (the API's ``next``/``previous``
links, the page's "Nyere lesinger"/"Eldre lesinger"). Before, every access-log row was its
own entry, all at once: a participant reading the case page at the rate limit adds 1,800
rows a minute, and at 20,000 rows the report took 6.7 s and 6.9 MB (API), 7.3 s and 5.9 MB (page)."""

import datetime
import html
import re
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from permissions.models import AccessLog, Membership, Role
from tests.clients import api, web
from workflows import selectors

from .conftest import PERSON, PRISON_KINDS, THIRD_PERSON, start

pytestmark = pytest.mark.django_db

ZONE = timezone.get_default_timezone()


def _user(name, agency, role):
    user = get_user_model().objects.create_user(name, password="x", first_name=name.capitalize())
    Membership.objects.create(user=user, agency=agency, role=role)
    return user


@pytest.fixture
def report_case(agencies, shipped):
    """A prison case whose housing coordinator (``koordinator-r``) gives the report, and a
    NAV caseworker (``leser-r``) who reads it."""
    starter = _user("fengsel-r", agencies["prison"], Role.MEMBER)
    case = start(starter, "prison_release_to_housing", PERSON, agencies, PRISON_KINDS)
    coordinator = _user("koordinator-r", agencies["housing"], Role.COORDINATOR)
    reader = _user("leser-r", agencies["nav"], Role.MEMBER)
    return case, coordinator, reader


def _reads(case, reader, agency, *, days, per_day, category="housing", start_at=None):
    """``per_day`` reads of ``category`` by ``reader`` on each of ``days`` days, the latest yesterday."""
    start_at = start_at or timezone.now().astimezone(ZONE).replace(hour=9, minute=0) - datetime.timedelta(days=1)
    rows = [
        AccessLog(
            user=reader,
            username=reader.username,
            role="member",
            agency=agency,
            case=case,
            person_id=case.person_id,
            category=category,
            basis="shared-field",
            at=start_at - datetime.timedelta(days=day) + datetime.timedelta(seconds=second),
        )
        for day in range(days)
        for second in range(per_day)
    ]
    rows.sort(key=lambda row: row.at)  # written as read: the oldest first
    AccessLog.objects.bulk_create(rows, batch_size=2000)


def _entries_of(answer, username):
    return [entry for entry in answer["entries"] if entry["username"] == username]


def test_reads_alike_on_one_day_are_one_line_with_their_number(report_case, agencies):
    case, coordinator, reader = report_case
    _reads(case, reader, agencies["nav"], days=2, per_day=300)

    answer = api(coordinator).get(reverse("api-person-access-report", args=[case.pk]))

    assert answer.status_code == 200, answer.content
    lines = _entries_of(answer.json(), reader.username)
    assert [line["reads"] for line in lines] == [300, 300]
    newest = lines[0]
    assert newest["day"] > lines[1]["day"]
    assert newest["first_at"] < newest["last_at"]
    assert (newest["agency"]["id"], newest["case"]["id"], newest["category"], newest["action"]) == (
        agencies["nav"].pk,
        case.pk,
        "housing",
        "read",
    )
    page = web(coordinator).get(reverse("person-access-report", args=[case.pk])).content.decode()
    assert page.count(">300</td>") == 2 and "Antall lesinger" in page


def test_the_api_pages_walk_every_line_once_and_back(report_case, agencies):
    case, coordinator, reader = report_case
    _reads(case, reader, agencies["nav"], days=120, per_day=2)
    client = api(coordinator)
    url = reverse("api-person-access-report", args=[case.pk])

    first = client.get(url, {"page_size": 50}).json()
    assert first["previous"] is None and first["next"]
    seen, pages, answer = [], [first], first
    while answer["next"]:
        answer = client.get(answer["next"]).json()
        pages.append(answer)
    for page in pages:
        seen += [(e["day"], e["username"], e["category"]) for e in _entries_of(page, reader.username)]
        assert page["cases"] == first["cases"] and page["person"] == first["person"]
    assert len(seen) == len(set(seen)) == 120
    assert [day for day, _, _ in seen] == sorted((day for day, _, _ in seen), reverse=True)
    assert all(len(page["entries"]) <= 50 for page in pages)
    back = client.get(pages[1]["previous"]).json()
    assert _entries_of(back, reader.username) == _entries_of(first, reader.username) and back["previous"] is None


def test_a_bad_cursor_or_parameter_is_400_naming_it(report_case):
    case, coordinator, _reader = report_case
    client = api(coordinator)
    url = reverse("api-person-access-report", args=[case.pk])
    for params, field in (({"cursor": "x"}, "cursor"), ({"page_size": "0"}, "page_size"), ({"page": "2"}, "page")):
        answer = client.get(url, params)
        assert answer.status_code == 400, params
        assert field in answer.content.decode()


def _link(url, page, rel):
    """Where the page's ``rel`` link goes ("Eldre lesinger": next, "Nyere lesinger": prev)."""
    found = re.search(rf'<a href="([^"]+)" rel="{rel}">', page.content.decode())
    return urljoin(url, html.unescape(found.group(1))) if found else None


def test_the_page_shows_fifty_lines_and_a_next_page(report_case, agencies):
    case, coordinator, reader = report_case
    _reads(case, reader, agencies["nav"], days=60, per_day=1)
    client = web(coordinator)
    url = reverse("person-access-report", args=[case.pk])

    first = client.get(url)
    second = client.get(_link(url, first, "next"))

    assert first.status_code == second.status_code == 200
    assert len(first.context["entries"]) == 50 and "Eldre lesinger" in first.content.decode()
    assert _link(url, first, "prev") is None and _link(url, second, "next") is None
    assert "Nyere lesinger" in second.content.decode() and "Nyeste lesinger" in second.content.decode()
    lines = [g.day for page in (first, second) for g, _ in page.context["entries"] if g.username == reader.username]
    assert len(lines) == len(set(lines)) == 60
    back = client.get(_link(url, second, "prev"))
    assert [g.day for g, _ in back.context["entries"]] == [g.day for g, _ in first.context["entries"]]


def test_a_cursor_not_made_for_the_page_is_400_never_another_page(report_case, agencies):
    """A cursor altered, cut short, the API's, or another report's is refused (400) and shows
    no lines; an old numbered page's link (``?page=2``) gives the first page."""
    case, coordinator, reader = report_case
    _reads(case, reader, agencies["nav"], days=60, per_day=1)
    other = start(
        get_user_model().objects.get(username="fengsel-r"),
        "prison_release_to_housing",
        THIRD_PERSON,
        agencies,
        PRISON_KINDS,
    )
    _reads(other, reader, agencies["nav"], days=60, per_day=1)
    client = web(coordinator)
    url, other_url = (reverse("person-access-report", args=[c.pk]) for c in (case, other))
    cursor = parse_qs(urlsplit(_link(url, client.get(url), "next")).query)["cursor"][0]
    api_next = api(coordinator).get(reverse("api-person-access-report", args=[case.pk])).json()["next"]
    others_cursor = parse_qs(urlsplit(_link(other_url, client.get(other_url), "next")).query)["cursor"][0]
    swapped = cursor[:5] + ("A" if cursor[5] != "A" else "B") + cursor[6:]

    for bad in ("x", "", cursor[:-3], swapped, parse_qs(urlsplit(api_next).query)["cursor"][0], others_cursor):
        page = client.get(url, {"cursor": bad})
        assert page.status_code == 400, bad
        assert "leser-r" not in page.content.decode() and "report-entries" not in page.content.decode()
        assert "markøren er ugyldig" in page.content.decode()
    old = client.get(url, {"page": "2"})
    assert old.status_code == 200 and len(old.context["entries"]) == 50 and _link(url, old, "prev") is None


def _answers(coordinator, case):
    with CaptureQueriesContext(connection) as queries:
        answer = api(coordinator).get(reverse("api-person-access-report", args=[case.pk]))
        page = web(coordinator).get(reverse("person-access-report", args=[case.pk]))
    assert answer.status_code == page.status_code == 200
    return len(queries), len(answer.content), len(page.content)


def test_the_answer_and_its_queries_do_not_grow_with_the_reads(report_case, agencies):
    """At 30 reads and at 3,000 (a hundred times as many) of the same three lines a day for
    ten days: the same number of queries, and answers of about the same size."""
    case, coordinator, reader = report_case
    _reads(case, reader, agencies["nav"], days=10, per_day=1)
    _reads(case, reader, agencies["nav"], days=10, per_day=1, category="economy")
    _reads(case, reader, agencies["nav"], days=10, per_day=1, category="health")
    _answers(coordinator, case)  # the first report read logs its own row: read once before counting
    few = _answers(coordinator, case)
    for category in ("housing", "economy", "health"):
        _reads(case, reader, agencies["nav"], days=10, per_day=99, category=category)
    many = _answers(coordinator, case)

    assert many[0] == few[0]
    assert many[1] < few[1] * 1.1 and many[2] < few[2] * 1.1


@pytest.mark.postgres
def test_the_report_reads_the_person_s_rows_from_their_index(report_case, agencies):
    """Among many people's rows, a page of the report reads the person's from
    ``accesslog_person_time``, never the whole access log."""
    case, coordinator, reader = report_case
    starter = get_user_model().objects.get(username="fengsel-r")
    other = start(starter, "prison_release_to_housing", THIRD_PERSON, agencies, PRISON_KINDS)
    _reads(other, reader, agencies["nav"], days=20, per_day=1000)
    _reads(case, reader, agencies["nav"], days=3, per_day=10)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE permissions_accesslog")
    report = selectors.person_access_report(actor=coordinator, case=case.pk)

    plan = report.entries[:51].explain()

    assert "accesslog_person_time" in plan, plan
    assert not [line for line in plan.splitlines() if "Seq Scan on permissions_accesslog" in line], plan


def test_the_schema_documents_the_report_s_pages(report_case):
    _case, coordinator, _reader = report_case
    schema = api(coordinator).get(reverse("api-schema"), {"format": "json"}).json()
    operation = schema["paths"]["/api/v1/cases/{id}/person-access-report/"]["get"]
    names = {parameter["name"] for parameter in operation["parameters"] if parameter["in"] == "query"}
    assert names == {"cursor", "page_size"}
    report = schema["components"]["schemas"]["PersonAccessReport"]
    assert {"next", "previous", "entries"} <= set(report["properties"])
    line = schema["components"]["schemas"]["PersonAccessGroup"]
    assert {"day", "first_at", "last_at", "reads"} <= set(line["properties"])
