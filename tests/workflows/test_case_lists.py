"""``workflows.case_lists``: the case lists read by statements compiled once per shape give
every reader exactly the rows (and the statement) of ``cases_for`` narrowed by
``CaseFilter``, page after page, and a second reader of the same shape reuses the statement
with their own ids. Readers of every kind: one agency (its participations walked, busy and
quiet), two agencies (each pair checked per row)."""

from types import SimpleNamespace
from unittest import mock

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from api.pagination import ordering_keys, read_after, read_listing_after
from api.serializers import CaseSummarySerializer
from bench.scale.load import username
from permissions import rules
from permissions.models import Agency, Membership
from tests.loaded import loaded_once
from workflows import case_lists, selectors
from workflows.case_lists import CaseListing
from workflows.filters import CaseFilter
from workflows.models import Case

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

PAGE = 51


loaded = loaded_once(cases=900, tasks=3000)


def filters_for():
    nav = Agency.objects.filter(kind="nav").order_by("pk").first()
    return [
        {},
        {"status": "open"},
        {"status": "completed"},
        {"overdue": "true"},
        {"overdue": "false"},
        {"process_key": "institution_discharge_to_housing"},
        {"agency": nav.pk},
        {"status": "open", "overdue": "true", "process_key": "prison_release_to_housing"},
        {"q": "Person 1"},
        {"q": "pe"},  # the start of a word
        {"q": "17.09.1980"},  # a date of birth, or a name
        {"q": "5%_\\"},  # the pattern's own characters, searched as they are
    ]


def readers():
    kinds = [("nav", 0), ("nav", 19), ("housing", 0), ("housing", 9), ("prison", 0), ("hospital", 4)]
    people = get_user_model().objects.in_bulk([username(kind, index) for kind, index in kinds], field_name="username")
    found = list(people.values())
    # In two agencies: a NAV office's member who also works in a health service.
    two = get_user_model().objects.create_user("two-agencies", password="x")
    Membership.objects.create(user=two, agency=Agency.objects.get(name__endswith="skala 03", kind="nav"), role="member")
    Membership.objects.create(user=two, agency=Agency.objects.filter(kind="health").order_by("pk").last(), role="lead")
    return [*found, two]


def queryset_of(user, filters):
    return CaseFilter(filters, selectors.cases_for(user), request=SimpleNamespace(user=user)).qs


def listing_of(user, filters, **options):
    filterset = CaseFilter(filters, queryset=Case.objects.none(), request=SimpleNamespace(user=user))
    assert filterset.is_valid()
    return CaseListing(user, filterset, **options)


def fresh(user):
    """The user as a new request has it (nothing remembered on it)."""
    return get_user_model().objects.get(pk=user.pk)


def sent(read) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        read()
    return [query["sql"] for query in queries.captured_queries]


def first_difference(got: list[str], expected: list[str]) -> tuple[str, str] | None:
    for one, other in zip(got, expected, strict=False):
        if one != other:
            at = next(i for i, (a, b) in enumerate(zip(one, other, strict=False)) if a != b)
            return one[at - 200 : at + 200], other[at - 200 : at + 200]
    return None


def summary(cases):
    return [(case.pk, case.open_task_count, case.next_timer_at, case.person.name) for case in cases]


def test_every_reader_gets_the_querysets_rows_in_its_order(loaded):
    readers_ = readers()
    assert {rules.walks_participations(user) for user in readers_} == {True, False}
    for user in readers_:
        for filters in filters_for():
            expected = list(queryset_of(fresh(user), filters)[:PAGE])
            listing = listing_of(fresh(user), filters)
            got = listing[0:PAGE]
            assert got == expected, (user.username, filters)
            assert summary(got) == summary(expected)
            assert listing.count_upto(PAGE) == len(expected)
    # What the lists hold: the visible cases, newest first by id, each once.
    for user in readers_:
        ids = [case.pk for case in queryset_of(fresh(user), {})]
        visible = rules.visible_cases(fresh(user), Case.objects.all()).values_list("pk", flat=True)
        assert ids == sorted(visible, reverse=True), user.username


def test_the_statement_is_the_querysets_own(loaded):
    """The same text and values as the queryset sends, so its plan is the one
    ``tests/workflows/test_read_plans.py`` EXPLAINs."""
    for user in readers():
        for filters in filters_for()[:6]:
            with mock.patch("django.utils.timezone.now", return_value=timezone.now()):  # one clock for both
                queryset = queryset_of(fresh(user), filters)
                listing = listing_of(fresh(user), filters)
            expected = sent(lambda queryset=queryset: list(queryset[:PAGE]))
            got = sent(lambda listing=listing: listing[0:PAGE])
            assert got == expected, (user.username, filters, first_difference(got, expected))


def test_keyset_pages_follow_the_cursor_as_the_queryset_does(loaded):
    """Page after page through a NAV office's cases and its open ones, forward and back, as
    the API's cursor reads them; the walk is bounded by the cursor too."""
    for (kind, index), filters, size in (
        (("nav", 1), {}, 10),
        (("nav", 0), {"status": "open"}, 5),
        (("housing", 0), {"overdue": "false"}, 9),
    ):
        user = get_user_model().objects.get(username=username(kind, index))
        queryset = queryset_of(user, filters)
        listing = listing_of(user, filters)
        keys = ordering_keys(listing.in_order())
        assert keys == ordering_keys(queryset) and [key.name for key in keys] == ["id"]
        values, pages, seen = None, 0, []
        while True:
            expected = read_after(queryset, keys, values, size)
            assert read_listing_after(listing, keys, values, size) == expected
            back = [key.reversed() for key in keys]
            if values is not None:
                assert read_listing_after(listing, back, values, 7) == read_after(queryset, back, values, 7)
            seen += expected
            if len(expected) < size:
                break
            values, pages = [expected[-1].pk], pages + 1
        assert pages > 2 and len(set(seen)) == len(seen) == queryset.count(), filters


def test_a_reader_of_the_same_shape_reuses_the_statement_with_their_own_ids(loaded):
    first, second = (get_user_model().objects.get(username=username("nav", index)) for index in (0, 7))
    assert rules.reader_shape(first, reach=False)[0] == rules.reader_shape(second, reach=False)[0]
    listing_of(first, {"status": "open"})[0:PAGE]
    with mock.patch.object(selectors, "cases_for", side_effect=AssertionError("built again")):
        rows = listing_of(second, {"status": "open"})[0:PAGE]
    assert rows and rows == list(queryset_of(second, {"status": "open"})[:PAGE])
    agency = rules.case_agency_ids(second)
    assert all(case.participants.filter(agency_id__in=agency).exists() for case in rows)


def test_over_http_the_list_answers_as_the_queryset_and_compiles_once(loaded):
    user = get_user_model().objects.get(username=username("nav", 19))
    client = Client()
    client.force_login(user)
    paths = ["/api/v1/cases/", "/api/v1/cases/?status=completed&page_size=5", "/api/v1/cases/?overdue=true"]
    answers = {path: client.get(path) for path in paths}
    assert {path: answer.status_code for path, answer in answers.items()} == dict.fromkeys(paths, 200)
    expected = [case.pk for case in queryset_of(user, {})[:50]]
    assert [row["id"] for row in answers[paths[0]].json()["results"]] == expected
    shapes = len(case_lists._STATEMENTS)
    with mock.patch.object(selectors, "cases_for", side_effect=AssertionError("built again")):
        for path in paths:
            assert client.get(path).status_code == 200
    assert len(case_lists._STATEMENTS) == shapes
    following = client.get(answers[paths[1]].json()["next"])
    assert following.status_code == 200
    first_ids = [row["id"] for row in answers[paths[1]].json()["results"]]
    assert [row["id"] for row in following.json()["results"]] == [
        case.pk for case in queryset_of(user, {"status": "completed"}).filter(pk__lt=first_ids[-1])[:5]
    ]


def test_a_bad_filter_is_a_400_naming_it(loaded):
    client = Client()
    client.force_login(get_user_model().objects.get(username=username("nav", 0)))
    for path, field in (
        ("/api/v1/cases/?overdue=maybe", "overdue"),
        ("/api/v1/cases/?agency=-3", "agency"),
        ("/api/v1/cases/?status=lost", "status"),
    ):
        answer = client.get(path)
        assert answer.status_code == 400
        assert field in answer.content.decode()


def test_a_reader_without_a_case_role_gets_an_empty_list(loaded, users):
    for name in ("ada", "aud", "oscar"):
        client = Client()
        client.force_login(users[name])
        answer = client.get("/api/v1/cases/?status=open")
        assert answer.status_code == 200 and answer.json() == {"next": None, "previous": None, "results": []}


def test_the_api_reads_only_what_its_answer_shows(loaded):
    """The API's case list is made from rows read with only the fields it shows
    (``case_lists.CASE_ANSWER_FIELDS``): the same answer as from whole rows, with no query per
    row (a field left out would be read per row), from a statement that joins no person and
    reads neither the case's data nor the responsible contact's password hash (EXPLAINed: the
    walk of the reader's participations kept)."""
    Case.objects.filter(pk__in=Case.objects.order_by("-id").values("pk")[:30]).update(
        responsible=get_user_model().objects.get(username=username("housing", 0))
    )
    responsible_shown = False
    for user in readers():
        for filters in filters_for():
            whole = listing_of(fresh(user), filters)[0:PAGE]
            listing = listing_of(fresh(user), filters, fields=case_lists.CASE_ANSWER_FIELDS)
            with CaptureQueriesContext(connection) as queries:
                rows = listing[0:PAGE]
                answer = CaseSummarySerializer(rows, many=True).data
            assert len(queries.captured_queries) == 1, (user.username, filters)
            assert rows == whole and answer == CaseSummarySerializer(whole, many=True).data, (user.username, filters)
            (statement,) = [query["sql"] for query in queries.captured_queries]
            assert '"workflows_person"' not in statement or "q" in filters  # a search reads the name
            assert '"workflows_case"."data"' not in statement and '"auth_user"."password"' not in statement
            responsible_shown |= any(case.responsible_id for case in whole)
    assert responsible_shown
    busy = get_user_model().objects.get(username=username("nav", 0))
    listing = listing_of(busy, {"overdue": "true"}, fields=case_lists.CASE_ANSWER_FIELDS)
    (statement,) = sent(lambda: listing[0:PAGE])
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {statement}")
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "participant_agency_case" in plan and "workflows_person" not in plan, plan


def test_a_search_is_compiled_once_per_shape_and_sent_with_its_words(loaded):
    """A search's words are values of the statement (its conditions are the shape): another
    search of the same kind reuses the statement and finds its own cases."""
    user = get_user_model().objects.get(username=username("nav", 0))
    listing_of(user, {"q": "Person 12"})[0:PAGE]
    with mock.patch.object(selectors, "cases_for", side_effect=AssertionError("built again")):
        rows = listing_of(fresh(user), {"q": "Person 47"})[0:PAGE]
    assert rows and rows == list(queryset_of(user, {"q": "Person 47"})[:PAGE])
    assert all("Person 47" in case.person_name for case in rows)
