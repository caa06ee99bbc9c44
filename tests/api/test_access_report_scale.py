"""A page of the person's access report reads the rows of the days it shows, not all of the
person's (issue 12, point 3). Its lines come newest day first, and every day with a read has
a line: the lines of a page lie within as many of the person's days as it has lines
(``selectors.AccessLines``). Before, each page grouped every row of the person, and the
statement that asks which cases name a task read them all again: at 200,000 rows a page of
the API took 1.0 s and of the page 1.2 s, growing with every read (perf23). The page pages as
the API does (a cursor: ``workflows.keyset``), so its fifth page reads what its first does."""

import html
import re
from urllib.parse import urljoin

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from permissions.models import Membership, Role
from tests.clients import api, web

from .conftest import PERSON, PRISON_KINDS, THIRD_PERSON, start

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

DAYS, CATEGORIES, BASES = 120, ("housing", "economy", "health", "justice", "safety"), ("shared-field", "own-data")
PER_LINE = 6  # reads of each line on each day
LINES_A_DAY = len(CATEGORIES) * len(BASES)
ROWS_A_DAY = LINES_A_DAY * PER_LINE
PAGE_SIZE = 25  # pages end inside a day


def _user(name, agency, role):
    user = get_user_model().objects.create_user(name, password="x")
    Membership.objects.create(user=user, agency=agency, role=role)
    return user


def _reads(case, reader, agency, *, days):
    """``ROWS_A_DAY`` reads by ``reader`` on each of ``days`` days up to now, oldest first."""
    rows = days * ROWS_A_DAY
    with connection.cursor() as cursor:
        cursor.execute(
            """INSERT INTO permissions_accesslog (user_id, username, role, agency_id, case_id, person_id,
                   person_key, category, action, basis, item, at)
               SELECT %s, %s, 'member', %s, %s, %s, '', (%s::text[])[1 + g %% %s], 'read',
                   (%s::text[])[1 + (g / %s) %% %s], '', now() - interval '1 day' * %s * (%s - g) / %s
               FROM generate_series(1, %s) g ORDER BY g""",
            [
                *(reader.pk, reader.username, agency.pk, case.pk, case.person_id),
                *(list(CATEGORIES), len(CATEGORIES), list(BASES), len(CATEGORIES), len(BASES)),
                *(days, rows, rows, rows),
            ],
        )


def _rows_read(sql: str) -> list[int]:
    """The rows each scan of the access log in ``sql``'s plan returned, times its loops."""
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, FORMAT TEXT) " + sql)
        plan = [row[0] for row in cursor.fetchall()]
    scans = re.compile(r"Scan (?:using \w+ )?on (?:permissions_accesslog|accesslog_\w+)|Index Scan on accesslog_\w+")
    return [
        int(found.group(1)) * int(found.group(2))
        for line in plan
        if scans.search(line) and (found := re.search(r"actual time=\S+ rows=(\d+) loops=(\d+)", line))
    ]


def _reads_of(queries) -> list[int]:
    return [
        rows
        for query in queries
        if "permissions_accesslog" in query["sql"] and query["sql"].lstrip().upper().startswith(("SELECT", "WITH"))
        for rows in _rows_read(query["sql"])
    ]


def test_a_page_of_the_report_groups_the_rows_of_its_days_only(agencies, shipped):
    starter = _user("fengsel-s", agencies["prison"], Role.MEMBER)
    coordinator = _user("koordinator-s", agencies["housing"], Role.COORDINATOR)
    reader = _user("leser-s", agencies["nav"], Role.MEMBER)
    case = start(starter, "prison_release_to_housing", PERSON, agencies, PRISON_KINDS)
    other = start(starter, "prison_release_to_housing", THIRD_PERSON, agencies, PRISON_KINDS)
    _reads(other, reader, agencies["nav"], days=4 * DAYS)  # someone else's, four times as many
    _reads(case, reader, agencies["nav"], days=DAYS)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE permissions_accesslog")
    client, url = api(coordinator), reverse("api-person-access-report", args=[case.pk])
    # What a page may read: the rows of one day more than it has lines, and its own day's.
    bound = (PAGE_SIZE + 2) * ROWS_A_DAY

    pages, link = [], None
    while len(pages) < 4:
        with CaptureQueriesContext(connection) as queries:
            answer = client.get(link or url, None if link else {"page_size": PAGE_SIZE}).json()
        read = _reads_of(queries.captured_queries)
        # Today's rows include the report's own reads, one a request so far (logged before its
        # page is read): a full day of rows and those, just before the local midnight.
        assert read and max(read) <= bound + len(pages) + 1, (len(pages), read)
        pages.append([(e["day"], e["username"], e["category"], e["basis"]) for e in answer["entries"]])
        link = answer["next"]
    # Every line once, newest day first, the pages' ends inside days.
    seen = [line for page in pages for line in page]
    assert len(seen) == len(set(seen)) == 4 * PAGE_SIZE
    assert [line[0] for line in seen] == sorted((line[0] for line in seen), reverse=True)
    assert {line[1] for line in seen[PAGE_SIZE:]} == {reader.username}
    back = client.get(answer["previous"]).json()
    assert [(e["day"], e["username"], e["category"], e["basis"]) for e in back["entries"]] == pages[2]


def _link(url: str, page, rel: str) -> str | None:
    """Where the page's ``rel`` link goes ("Eldre lesinger": next, "Nyere lesinger": prev)."""
    found = re.search(rf'<a href="([^"]+)" rel="{rel}">', page.content.decode())
    return urljoin(url, html.unescape(found.group(1))) if found else None


def test_the_page_s_fifth_page_groups_the_rows_of_its_days_only(agencies, shipped):
    """The page walked to its fifth page by its "Eldre lesinger" links: each page groups the
    rows of one day more than it has lines, as the first does. Its numbered pages grouped the
    lines of every page before too: ``?page=5`` the rows of 251 days (416-444 ms at 200,000
    rows, where the first page took 45-75 ms)."""
    starter = _user("fengsel-w", agencies["prison"], Role.MEMBER)
    coordinator = _user("koordinator-w", agencies["housing"], Role.COORDINATOR)
    reader = _user("leser-w", agencies["nav"], Role.MEMBER)
    case = start(starter, "prison_release_to_housing", PERSON, agencies, PRISON_KINDS)
    _reads(case, reader, agencies["nav"], days=DAYS)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE permissions_accesslog")
    client, url = web(coordinator), reverse("person-access-report", args=[case.pk])
    # The rows of one day more than a page has lines, its own day's, and a day's more: the
    # reads are spread evenly in time, so a calendar day holds a row more or less than another.
    bound = (50 + 3) * ROWS_A_DAY

    pages, link = [], url
    while len(pages) < 5:
        assert link, len(pages)
        with CaptureQueriesContext(connection) as queries:
            page = client.get(link)
        assert page.status_code == 200, (len(pages), page.status_code)
        read = _reads_of(queries.captured_queries)
        assert read and max(read) <= bound, (len(pages) + 1, read)
        pages.append([(g.day, g.username, g.category, g.basis) for g, _category in page.context["entries"]])
        link = _link(url, page, "next")
    seen = [line for lines in pages for line in lines]
    assert len(seen) == len(set(seen)) == 5 * 50
    assert [line[0] for line in seen] == sorted((line[0] for line in seen), reverse=True)
    back = client.get(_link(url, page, "prev"))
    assert [(g.day, g.username, g.category, g.basis) for g, _category in back.context["entries"]] == pages[3]
