"""Keyset (cursor) pages for every API list (issue 12, point 3; ``api.pagination``).

A client walks a list by its ``next`` and ``previous`` links: every row once, in the list's
order, NULL due dates included; a row inserted meanwhile does not shift the pages; a bad,
altered or foreign cursor is a 400 naming ``cursor``; no page counts rows.
"""

import datetime
import uuid

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from api.pagination import MAX_PAGE_SIZE, ordering_keys
from tests.ids import access_key, event_key, task_key
from tests.query_counts import Growth, count_queries
from workflows.models import Case, Task

pytestmark = pytest.mark.django_db

BASE = timezone.now().replace(microsecond=123456) + datetime.timedelta(days=30)
# Due dates of the clones: shared values, NULLs, and a value between the others.
DUE = [BASE, BASE, None, BASE + datetime.timedelta(hours=1), None, BASE - datetime.timedelta(hours=1), BASE, None]


def _clone(task, due_at):
    return Task.objects.create(
        spiff_task_id=uuid.uuid4(),
        instance_id=task.instance_id,
        case_id=task.case_id,
        element_id=task.element_id,
        name=task.name,
        lane=task.lane,
        agency_id=task.agency_id,
        due_at=due_at,
    )


@pytest.fixture
def nav_tasks(prison_case):
    """NAV's tasks of the prison case, some due at the same moment, some never."""
    from tests.workflows.helpers import complete, open_tasks

    complete(open_tasks(prison_case)[0], {"has_home": False})
    model = next(task for task in open_tasks(prison_case) if task.agency.kind == "nav")
    for due_at in DUE:
        _clone(model, due_at)
    return prison_case


def _in_order(user_tasks):
    return list(user_tasks.order_by(F("due_at").asc(nulls_last=True), "id").values_list("id", flat=True))


def _walk(client, url, link="next"):
    """Every page from ``url`` on, following ``link``: [(ids of the page, body)], the keys of
    tasks and events (the API shows their public ids: ``tests/ids.py``)."""
    key = task_key if "/api/v1/tasks/" in url else event_key if "/timeline/" in url else None
    pages = []
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.content
        body = response.json()
        assert set(body) == {"next", "previous", "results"}  # no count
        ids = [row.get("id", row) for row in body["results"]]
        pages.append(([key(number) for number in ids] if key else ids, body))
        url = body[link]
    return pages


def _visible_to_nils(client):
    """The tasks nils sees (some of the case's may be hidden from him: the gateway path), in
    one page of 200."""
    rows = client.get(f"/api/v1/tasks/?page_size={MAX_PAGE_SIZE}").json()["results"]
    return Task.objects.filter(pk__in=[task_key(row["id"]) for row in rows])


def test_next_links_give_every_task_once_in_order(client_for, nav_tasks):
    nils = client_for("nils")
    expected = _in_order(_visible_to_nils(nils))
    assert len(expected) > 6 and Task.objects.filter(pk__in=expected, due_at__isnull=True).exists()
    pages = _walk(nils, "/api/v1/tasks/?page_size=3")
    assert [len(ids) for ids, _body in pages[:-1]] == [3] * (len(pages) - 1)
    assert [task for ids, _body in pages for task in ids] == expected
    assert pages[0][1]["previous"] is None and pages[-1][1]["next"] is None


def test_previous_links_walk_back_to_the_first_page(client_for, nav_tasks):
    nils = client_for("nils")
    forward = _walk(nils, "/api/v1/tasks/?page_size=3")
    backward = _walk(nils, forward[-1][1]["previous"], link="previous")
    assert [ids for ids, _body in reversed(backward)] == [ids for ids, _body in forward[:-1]]
    # Back at the start, the page is whole and says so; its next link goes on as before.
    assert backward[-1][1]["previous"] is None
    assert nils.get(backward[-1][1]["next"]).json()["results"] == forward[1][1]["results"]


def test_a_next_link_stays_valid_when_rows_are_inserted(client_for, nav_tasks):
    nils = client_for("nils")
    before = _in_order(_visible_to_nils(nils))
    first = nils.get("/api/v1/tasks/?page_size=4").json()
    # Inserted ahead of the page and among its NULLs: page numbers would shift by one.
    model = Task.objects.get(pk=before[0])
    _clone(model, timezone.now() - datetime.timedelta(days=365))
    late = _clone(model, None)
    rest = [task for ids, _body in _walk(nils, first["next"]) for task in ids]
    assert [task_key(row["id"]) for row in first["results"]] == before[:4]
    assert rest == [*before[4:], late.pk]


def test_the_case_list_and_a_timeline_walk_by_their_links(client_for, users, nav_tasks, discharge_case):
    from workflows import selectors

    nils = client_for("nils")
    cases = [case for ids, _body in _walk(nils, "/api/v1/cases/?page_size=1") for case in ids]
    assert cases == list(Case.objects.order_by("-opened_at", "-id").values_list("id", flat=True))
    timeline = [event for ids, _ in _walk(nils, f"/api/v1/cases/{nav_tasks.pk}/timeline/?page_size=2") for event in ids]
    # Every event but those of the elements NAV's path view hides (the intake's branch).
    hidden = selectors.path_view_for(users["nils"], nav_tasks).hidden
    shown = nav_tasks.events.exclude(element_id__in=hidden).order_by("created_at", "id")
    assert timeline == list(shown.values_list("id", flat=True))


def _rows(client, path, size):
    separator = "&" if "?" in path else "?"
    return [row for ids, _body in _walk(client, f"{path}{separator}page_size={size}") for row in ids]


def test_every_list_pages_by_cursor(users, agencies, shipped, consent_basis, client_for):
    """Each list of the API (every GET route ``test_query_counts`` knows, which must be every
    one), a row per page, gives what one page of 200 gives, in the same order."""
    from tests.api.test_query_counts import ROUTES

    growth = Growth(users, agencies, consent_basis)
    growth.step()
    subject = growth.subject
    names = {"g": growth, "note": subject.notes.first(), "attachment": subject.attachments.first()}
    walked = set()
    for route, lines in ROUTES.items():
        for username, path in lines:
            client, path = client_for(username), path.format(**names)
            response = client.get(path)
            if "json" not in response.get("Content-Type", "") or "results" not in response.json():
                continue  # one object, not a list
            whole = _rows(client, path, MAX_PAGE_SIZE)
            paged = _rows(client, path, 1)
            if route == "api-case-access-log":
                # Each read of the log is a row of it (its item "access-log"): the walk's first
                # page shows those of the reads before it, newer than the whole page's rows
                # (their ids are opaque: compared by key).
                paged = [row for row in paged if access_key(row) <= access_key(whole[0])]
            assert paged == whole, path
            if len(whole) > 1:  # walked over more than one page
                walked.add(route)
    assert {
        "api-agencies",
        "api-legal-bases",
        "api-process-definitions",
        "api-cases",
        "api-tasks",
        "api-case-timeline",
        "api-case-consents",
        "api-case-access-log",
        "api-case-break-glass",
        "api-break-glass-review-list",
        "api-case-notes",
        "api-case-attachments",
        "api-incidents",
    } <= walked


def test_no_page_counts_rows(client_for, nav_tasks):
    nils = client_for("nils")
    second = nils.get("/api/v1/tasks/?page_size=2").json()["next"]
    for url in ("/api/v1/tasks/?assigned=agency", "/api/v1/cases/", second):
        with CaptureQueriesContext(connection) as context:
            assert nils.get(url).status_code == 200
        counts = [query["sql"] for query in context.captured_queries if query["sql"].startswith("SELECT COUNT(*)")]
        assert not counts, url  # (the case list's per-row count of open tasks is a subquery of its page)


def _refused(response, field):
    assert response.status_code == 400, response.content
    assert [error["field"] for error in response.json()["errors"]] == [field]


def test_a_bad_or_altered_cursor_is_400_naming_it(client_for, nav_tasks, discharge_case):
    nils = client_for("nils")
    next_tasks = nils.get("/api/v1/tasks/?page_size=2").json()["next"]
    cursor = next_tasks.split("cursor=")[1].split("&")[0]
    next_cases = nils.get("/api/v1/cases/?page_size=1").json()["next"]
    timeline = nils.get(f"/api/v1/cases/{nav_tasks.pk}/timeline/?page_size=1").json()["next"]
    altered = cursor[:5] + ("A" if cursor[5] != "A" else "B") + cursor[6:]
    for url in (
        "/api/v1/tasks/?cursor=nonsense",
        "/api/v1/tasks/?cursor=",
        f"/api/v1/tasks/?cursor={altered}",
        f"/api/v1/tasks/?cursor={cursor[:-3]}",
        "/api/v1/tasks/?" + next_cases.split("?")[1],  # another list's cursor
        f"/api/v1/cases/{discharge_case.pk}/timeline/?" + timeline.split("?")[1],  # another case's timeline
    ):
        _refused(nils.get(url), "cursor")


def test_page_size_is_checked_and_capped(client_for, nav_tasks):
    nils = client_for("nils")
    for bad in ("abc", "0", "-1", "1.5"):
        _refused(nils.get(f"/api/v1/tasks/?page_size={bad}"), "page_size")
    assert len(nils.get("/api/v1/tasks/?page_size=1").json()["results"]) == 1
    assert nils.get("/api/v1/tasks/?page_size=100000").json()["results"] == nils.get("/api/v1/tasks/").json()["results"]


def test_page_size_over_the_cap_gives_the_cap(client_for, nav_tasks):
    model = Task.objects.filter(case=nav_tasks, due_at=BASE).first()  # a clone of NAV's task
    for _ in range(MAX_PAGE_SIZE + 1):
        _clone(model, BASE)
    body = client_for("nils").get("/api/v1/tasks/?page_size=100000").json()
    assert len(body["results"]) == MAX_PAGE_SIZE and body["next"]


def test_a_cursor_shows_another_agency_only_its_own_rows(client_for, nav_tasks, small_case):
    """A cursor is a position, not a grant: siri (hospital) following nils's link sees the
    tasks of her own cases after that position, never the prison case's."""
    link = client_for("nils").get("/api/v1/tasks/?page_size=1").json()["next"]
    siri = client_for("siri")
    seen = {task_key(row["id"]) for row in siri.get(link).json()["results"]}
    assert seen and seen <= set(Task.objects.filter(case=small_case).values_list("id", flat=True))


def test_an_order_is_made_total_or_refused():
    assert [key.name for key in ordering_keys(Task.objects.order_by("due_at"))] == ["due_at", "id"]
    assert [key.descending for key in ordering_keys(Case.objects.order_by("-opened_at"))] == [True, True]
    with pytest.raises(ImproperlyConfigured, match="only the first key"):
        ordering_keys(Task.objects.order_by("agency_id", "due_at", "id"))
    keys = ordering_keys(Task.objects.order_by("due_at", "id"))
    assert [(key.name, key.nullable) for key in keys] == [("due_at", True), ("id", False)]


def test_the_schema_documents_cursor_pages(client_for):
    schema = client_for("nils").get("/api/v1/schema/?format=json").json()
    lists = {
        path: operation["get"]
        for path, operation in schema["paths"].items()
        if "get" in operation and "Paginated" in str(operation["get"]["responses"].get("200", {}).get("content"))
    }
    assert {"/api/v1/tasks/", "/api/v1/cases/", "/api/v1/cases/{id}/notes/", "/api/v1/incidents/"} <= set(lists)
    for path, operation in lists.items():
        names = {parameter["name"] for parameter in operation["parameters"] if parameter["in"] == "query"}
        assert {"cursor", "page_size"} <= names and "page" not in names, path
    page = schema["components"]["schemas"]["PaginatedTaskList"]
    assert set(page["properties"]) == {"next", "previous", "results"}
    assert set(page["required"]) == {"next", "previous", "results"}


def test_a_later_page_costs_what_the_first_costs_whatever_the_rows(users, agencies, shipped, consent_basis, client_for):
    """The query count of a page reached by its ``next`` link, at N and at 3N rows: the
    same (``tests.query_counts``), and no more than one query over the first page's (the
    tasks past the last due date, read apart)."""
    growth = Growth(users, agencies, consent_basis)
    nils = client_for("nils")
    lists = (
        "/api/v1/tasks/?page_size=2",
        "/api/v1/cases/?page_size=2",
        f"/api/v1/cases/{growth.subject.pk}/notes/?page_size=1",
    )

    def counts():
        found = {}
        for path in lists:
            link = nils.get(path).json()["next"]
            found[path] = (count_queries(nils, path), count_queries(nils, link))
        return found

    growth.step()
    small = counts()
    growth.step()
    growth.step()
    large = counts()
    assert small == large
    assert all(later <= first + 1 for first, later in large.values()), large


def test_the_schema_builds_without_warnings_and_documents_the_token(tmp_path):
    """``manage.py spectacular --validate --fail-on-warn``: a class drf-spectacular cannot
    describe (the API's own token authentication, once) fails here, not in a client."""
    import json

    from django.core.management import call_command

    path = tmp_path / "schema.json"
    call_command("spectacular", "--validate", "--fail-on-warn", "--format", "openapi-json", "--file", str(path))
    schema = json.loads(path.read_text())
    assert "knoxApiToken" in schema["components"]["securitySchemes"]
    assert {"knoxApiToken": []} in schema["paths"]["/api/v1/tasks/"]["get"]["security"]
