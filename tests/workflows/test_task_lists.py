"""``workflows.task_lists``: the task lists read by statements compiled once per shape give
every reader exactly the rows (and the statement) of ``task_inbox_for`` narrowed by
``TaskFilter``, and a second reader of the same shape reuses the statement with their own ids."""

import datetime
from types import SimpleNamespace
from unittest import mock

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from api.pagination import ordering_keys, read_after, read_listing_after
from api.serializers import TaskSerializer
from bench.scale.load import username
from permissions import rules
from tests.loaded import loaded_once
from web.tasks import INBOX_ROW_FIELDS, _inbox_rows
from workflows import selectors, task_lists
from workflows.filters import TaskFilter
from workflows.models import Task, TaskStatus
from workflows.task_lists import TaskListing

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

FILTERS = [
    {},
    {"assigned": "agency", "status": "active"},
    {"assigned": "me", "status": "active"},
    {"assigned": "me"},
    {"overdue": "true"},
    {"overdue": "false", "status": "open"},
    {"status": "completed"},
    {"responsible": "me", "status": "active"},
]
PAGE = 51


loaded = loaded_once(cases=900, tasks=3000)


def readers():
    kinds = [("nav", 0), ("nav", 1), ("nav", 19), ("housing", 0), ("housing", 9), ("prison", 0), ("hospital", 4)]
    people = get_user_model().objects.in_bulk([username(kind, index) for kind, index in kinds], field_name="username")
    return list(people.values())


def queryset_of(user, filters, *, own_agencies=False):
    """The list as the rules define it; ``own_agencies``: as the agency inbox sends it."""
    inbox = selectors.task_inbox_for(user, own="assigned" in filters, own_agencies=own_agencies)
    return TaskFilter(filters, inbox, request=SimpleNamespace(user=user)).qs


def listing_of(user, filters, **options):
    filterset = TaskFilter(filters, queryset=Task.objects.none(), request=SimpleNamespace(user=user))
    assert filterset.is_valid()
    return TaskListing(user, filterset, **options)


def fresh(user):
    """The user as a new request has it (nothing remembered on it)."""
    return get_user_model().objects.get(pk=user.pk)


def sent(read) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        read()
    return [query["sql"] for query in queries.captured_queries]


@pytest.mark.parametrize("walk", [False, True])
def test_every_reader_gets_the_querysets_rows_in_its_order(loaded, monkeypatch, walk):
    # Both forms of the visibility check: from the participations (few cases) and walked
    # in the list's order (``WALK_FROM_PARTICIPATIONS`` cases or more).
    monkeypatch.setattr(rules, "WALK_FROM_PARTICIPATIONS", 20 if walk else 10**9)
    some = Task.objects.filter(status__in=["open", "claimed"]).order_by("id")[:40]
    Task.objects.filter(pk__in=[task.pk for task in some]).update(
        assignee=get_user_model().objects.get(username=username("nav", 0)), status=TaskStatus.CLAIMED
    )
    for user in readers():
        for filters in FILTERS:
            expected = list(queryset_of(fresh(user), filters)[:PAGE])
            listing = listing_of(fresh(user), filters)
            assert listing[0:PAGE] == expected, (user.username, filters)
            assert listing.count_upto(PAGE) == len(expected)
            assert listing_of(fresh(user), filters, descending=True)[0:10] == list(
                queryset_of(fresh(user), filters).order_by("-due_at", "-id")[:10]
            )


def test_the_statement_is_the_querysets_own(loaded):
    """The same text and values as the queryset sends, so its plan is the one
    ``tests/workflows/test_read_plans.py`` EXPLAINs."""
    for user in readers():
        for filters in FILTERS[:5]:
            with mock.patch("django.utils.timezone.now", return_value=timezone.now()):  # one clock for both
                queryset = queryset_of(fresh(user), filters, own_agencies=filters.get("assigned") == "agency")
                listing = listing_of(fresh(user), filters)
            expected = sent(lambda queryset=queryset: list(queryset[:PAGE]))
            assert sent(lambda listing=listing: listing[0:PAGE]) == expected, (user.username, filters)


def test_the_agency_inbox_leaves_out_the_rule_for_other_agencies_tasks(loaded):
    """Every task of the reader's own agencies is listed to them whatever its path read, so
    the agency inbox sends no condition on the path or the case's coordinator (they cost
    PostgreSQL 0.6 ms of planning a read); the rows are the full rule's (the test above)."""
    for user in readers():
        agency_inbox = sent(lambda user=user: listing_of(fresh(user), FILTERS[1])[0:PAGE])[-1]
        everything = sent(lambda user=user: listing_of(fresh(user), FILTERS[0])[0:PAGE])[-1]
        assert '"path_categories" IN' not in agency_inbox, user.username
        assert '"path_categories" IN' in everything, user.username


def test_keyset_pages_follow_the_cursor_as_the_queryset_does(loaded):
    """Page after page through a NAV office's tasks (deadlines, then those without one),
    forward and back, as the API's cursor reads them."""
    user = get_user_model().objects.get(username=username("nav", 1))
    queryset = queryset_of(user, {})
    Task.objects.filter(pk__in=[task.pk for task in queryset[:200:3]]).update(due_at=None)
    listing = listing_of(user, {})
    keys = ordering_keys(listing.in_order())
    assert keys == ordering_keys(queryset)
    values, pages, seen = None, 0, []
    while True:
        expected = read_after(queryset, keys, values, 20)
        assert read_listing_after(listing, keys, values, 20) == expected
        back = [key.reversed() for key in keys]
        if values is not None:
            assert read_listing_after(listing, back, values, 7) == read_after(queryset, back, values, 7)
        seen += expected
        if len(expected) < 20:
            break
        values, pages = [getattr(expected[-1], key.name) for key in keys], pages + 1
    assert pages > 3 and any(task.due_at is None for task in seen) and len(set(seen)) == len(seen)


def test_a_reader_of_the_same_shape_reuses_the_statement_with_their_own_ids(loaded):
    first, second = (get_user_model().objects.get(username=username("nav", index)) for index in (0, 1))
    assert rules.reader_shape(first)[0] == rules.reader_shape(second)[0]
    listing_of(first, {"assigned": "agency", "status": "active"})[0:PAGE]
    with mock.patch.object(selectors, "task_inbox_for", side_effect=AssertionError("built again")):
        rows = listing_of(second, {"assigned": "agency", "status": "active"})[0:PAGE]
    agency = rules.case_agency_ids(second)
    assert rows and {task.agency_id for task in rows} == agency
    assert rows == list(queryset_of(second, {"assigned": "agency", "status": "active"})[:PAGE])


def test_over_http_the_lists_answer_as_before_and_compile_once(loaded):
    user = get_user_model().objects.get(username=username("nav", 19))
    client = Client()
    client.force_login(user)
    paths = [
        "/api/v1/tasks/?assigned=agency&status=active",
        "/api/v1/tasks/?page_size=5",
        "/tasks/?tab=agency",
        "/tasks/?tab=mine&sort=-due",
    ]
    answers = {path: client.get(path) for path in paths}
    assert {path: answer.status_code for path, answer in answers.items()} == dict.fromkeys(paths, 200)
    expected = [task.pk for task in queryset_of(user, {"assigned": "agency", "status": "active"})[:50]]
    assert [row["id"] for row in answers[paths[0]].json()["results"]] == expected
    shapes = len(task_lists._STATEMENTS)
    with mock.patch.object(selectors, "task_inbox_for", side_effect=AssertionError("built again")):
        for path in paths:
            assert client.get(path).status_code == 200
    assert len(task_lists._STATEMENTS) == shapes
    following = client.get(answers[paths[1]].json()["next"])
    assert following.status_code == 200
    assert len(task_lists._STATEMENTS) == shapes + 1  # the cursor's page: a shape of its own
    assert following.json()["results"][0]["id"] not in [row["id"] for row in answers[paths[1]].json()["results"]]


def test_a_bad_filter_is_a_400_naming_it(loaded):
    client = Client()
    client.force_login(get_user_model().objects.get(username=username("nav", 0)))
    for path, field in (("/api/v1/tasks/?overdue=maybe", "overdue"), ("/api/v1/tasks/?case=-3", "case")):
        answer = client.get(path)
        assert answer.status_code == 400
        assert field in answer.content.decode()


def test_the_api_and_the_inbox_page_read_only_what_they_show(loaded):
    """The API's answer and the inbox page's rows are made from rows read with only the
    fields they show (``task_lists.TASK_ANSWER_FIELDS``, ``web.tasks.INBOX_ROW_FIELDS``): the
    same answer as from whole rows, made without a further query (a field left out would be
    read per row), from statements that join no person (the page shows the case's own name)
    and read no case data."""
    nav = get_user_model().objects.get(username=username("nav", 0))
    some = Task.objects.filter(status__in=["open", "claimed"], agency__memberships__user=nav).order_by("id")[:5]
    Task.objects.filter(pk__in=[task.pk for task in some]).update(assignee=nav, status=TaskStatus.CLAIMED)
    now, claimed_shown = timezone.now(), False
    for user in readers():
        for filters in ({}, {"assigned": "agency", "status": "active"}):
            whole = listing_of(fresh(user), filters)[0:PAGE]
            with CaptureQueriesContext(connection) as queries:
                answer_rows = listing_of(fresh(user), filters, fields=task_lists.TASK_ANSWER_FIELDS)[0:PAGE]
                answer = TaskSerializer(answer_rows, many=True).data
                page_rows = listing_of(fresh(user), filters, fields=INBOX_ROW_FIELDS)[0:PAGE]
                inbox = _inbox_rows(page_rows, now, user)
            statements = [query["sql"] for query in queries.captured_queries if "workflows_task" in query["sql"]]
            assert len(statements) == 2, (user.username, filters, statements)  # the two lists, nothing per row
            assert answer == TaskSerializer(whole, many=True).data and answer_rows == whole
            assert inbox == _inbox_rows(whole, now, user) and page_rows == whole
            claimed_shown |= any(task.assignee_id for task in whole)
            api_statement, page_statement = statements
            assert '"workflows_person"' not in api_statement and '"workflows_person"' not in page_statement
            assert '"workflows_case"."person_name"' in page_statement  # the case's own name, no join
            for statement in statements:
                assert '"workflows_case"."data"' not in statement and '"auth_user"."password"' not in statement
    assert claimed_shown  # a claimed task's assignee among the rows compared


def test_the_api_overdue_list_walks_the_task_reader_index_without_the_person(loaded):
    """EXPLAIN of the API's statement for a quiet office's overdue tasks: still a walk of its
    active rows in the task-reader index, the rules checked per row, and no person table
    (the answer shows none of it: a lookup per row in a million-row index, and a relation
    more for the planner)."""
    quiet = get_user_model().objects.get(username=username("nav", 19))
    Task.objects.filter(status__in=["open", "claimed"]).update(due_at=timezone.now() - datetime.timedelta(days=1))
    listing = listing_of(quiet, {"overdue": "true"}, fields=task_lists.TASK_ANSWER_FIELDS)
    (statement,) = sent(lambda: listing[0:PAGE])
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {statement}")
        plan = "\n".join(row[0] for row in cursor.fetchall())
    # An ordered walk of the index, or, for the few rows a quiet office has here, the same
    # index's rows sorted (the planner's choice moved with the time of day against the
    # loader's deadlines): read through the task-reader index either way.
    reads = ("using taskreader_active on workflows_taskreader", "Bitmap Index Scan on taskreader_active")
    assert any(read in plan for read in reads), plan
    assert "Seq Scan on workflows_task" not in plan, plan  # nor on workflows_taskreader
    assert "participant_agency_case" in plan and "casegroupobjectpermission" in plan  # the rules, per row
    assert "workflows_person" not in plan


def test_an_agency_inbox_s_first_page_keeps_one_plan_and_answers_as_the_queryset(loaded):
    """The API's first page of an agency's active tasks, and of a case's among them, for a
    reader of one agency: sent prepared and run with the plan PostgreSQL makes once for any
    value (planned on every read before: most of what the read cost it), with the same rows
    as the queryset; ``plan_cache_mode`` is back as it was after each read. No other list is
    (``tests/workflows/test_read_plans.py`` shows those plans walk their index)."""
    from permissions.prepared import prepares_statements

    if not prepares_statements(connection):
        pytest.skip("DB_PREPARE_THRESHOLD=0: nothing is prepared")
    inbox = {"assigned": "agency", "status": "active"}
    for _run in range(3):
        for user in readers():
            listing = listing_of(fresh(user), inbox)
            keys = ordering_keys(listing.in_order())
            expected = read_after(queryset_of(fresh(user), inbox, own_agencies=True), keys, None, PAGE)
            assert read_listing_after(listing, keys, None, PAGE) == expected, user.username
            if not expected:  # a quiet office
                continue
            of_a_case = {**inbox, "case": expected[-1].case_id}
            listing = listing_of(fresh(user), of_a_case)
            in_case = read_after(queryset_of(fresh(user), of_a_case, own_agencies=True), keys, None, PAGE)
            assert read_listing_after(listing, keys, None, PAGE) == in_case, user.username
            assert expected[-1] in in_case

    def prepared_count() -> int:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_prepared_statements")
            return cursor.fetchone()[0]

    before = prepared_count()
    for filters in ({"assigned": "me", "status": "active"}, {"overdue": "true"}, {}):  # planned each read, as before
        other = listing_of(fresh(readers()[0]), filters)
        read_listing_after(other, ordering_keys(other.in_order()), None, PAGE)
    assert prepared_count() == before
    with connection.cursor() as cursor:
        cursor.execute("SHOW plan_cache_mode")
        assert cursor.fetchone() == ("auto",)
        cursor.execute(
            "SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements WHERE statement LIKE %s",
            ["%SELECT %"],
        )
        prepared = cursor.fetchall()
    lists = [(statement, generic, custom) for statement, generic, custom in prepared if "LIMIT 51" in statement]
    # A statement per reader shape (an agency kind makes one), each with and without the case.
    with_case = [statement for statement, _generic, _custom in lists if '"workflows_task"."case_id" = $' in statement]
    assert with_case and len(with_case) < len(lists), prepared
    assert all(custom == 0 and generic >= 3 for _statement, generic, custom in lists), prepared
    assert all("'open'" in statement for statement, _generic, _custom in lists), prepared
