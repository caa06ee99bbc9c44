"""Every list answers from an index, whatever the size of the tables (issue 12, point 3).

The tables are filled by the ``make bench-scale`` loader (``bench.scale.load``) to a size
at which PostgreSQL prefers an index to reading a table (20,000 cases, about 67,000 tasks,
as many events), then each list's query, as the API and the pages send it for a page, is
EXPLAINed for the busiest and the quietest agency of a kind: no big table may be read
whole (a ``Seq Scan``); each reads an index.
"""

import re
from types import SimpleNamespace

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.utils import timezone

from api.pagination import ordering_keys, page_queries
from bench.scale.load import PROCESS_KINDS, username
from permissions import rules
from permissions.models import CaseGroupObjectPermission
from tests.loaded import loaded_once
from workflows import selectors
from workflows.filters import CaseFilter, IncidentFilter, TaskFilter
from workflows.models import Case, Task, TaskStatus

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

BIG_TABLES = (
    "workflows_case",
    "workflows_task",
    "workflows_event",
    "workflows_caseparticipant",
    "workflows_person",
    "workflows_processinstance",
    "workflows_incident",
    "permissions_accesslog",
    "permissions_casegroupobjectpermission",
)
PAGE = 51  # a page of 50 and the look-ahead row that says whether there is a next one


def plan(queryset) -> str:
    return queryset[:PAGE].explain()


def whole_table_reads(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if "Seq Scan" in line and any(t in line for t in BIG_TABLES)]


def task_list(user, filters):
    return TaskFilter(
        filters,
        # As ``workflows.task_lists`` sends it: the agency inbox without the rule for other agencies' tasks.
        selectors.task_inbox_for(user, own="assigned" in filters, own_agencies=filters.get("assigned") == "agency"),
        request=SimpleNamespace(user=user),
    ).qs


def case_list(user, filters):
    # As ``workflows.case_lists`` sends it: a search checks the participation per case found.
    walk = "q" not in filters
    return CaseFilter(filters, selectors.cases_for(user, walk=walk), request=SimpleNamespace(user=user)).qs


loaded = loaded_once(cases=20_000, tasks=66_667)


def test_every_list_reads_an_index(loaded, users):
    people = get_user_model().objects.in_bulk(
        [username(kind, index) for kind, index in (("nav", 0), ("nav", 19), ("housing", 0), ("hospital", 4))],
        field_name="username",
    )
    busy_nav, quiet_nav, housing = (
        people[username("nav", 0)],
        people[username("nav", 19)],
        people[username("housing", 0)],
    )
    case = Case.objects.filter(participants__agency__memberships__user=housing).order_by("-id").first()
    lists = {}
    for who, user in (("busy", busy_nav), ("quiet", quiet_nav)):
        lists |= {
            f"{who} agency inbox": task_list(user, {"assigned": "agency", "status": "active"}),
            f"{who} mine": task_list(user, {"assigned": "me", "status": "active"}),
            f"{who} overdue": task_list(user, {"overdue": "true"}),
            f"{who} all tasks": task_list(user, {}),
            f"{who} case list": case_list(user, {}),
            f"{who} open cases": case_list(user, {"status": "open"}),
            f"{who} cases of a process": case_list(user, {"process_key": "institution_discharge_to_housing"}),
            f"{who} overdue cases": case_list(user, {"overdue": "true"}),
            f"{who} case search": case_list(user, {"q": "Person 4711"}),
            f"{who} case search, two characters": case_list(user, {"q": "Zq"}),
        }
    # The API's ``?case=`` reads each task's visibility per row, whatever the reader's reach
    # (``workflows.task_lists``): as the reader the list's statement is compiled for.
    case_reader = rules.reader_for(*rules.reader_shape(housing, widely=True))
    lists |= {
        "cases with an agency": case_list(housing, {"agency": busy_nav.memberships.get().agency_id}),
        "a case's tasks": selectors.case_tasks(case, active_only=False),
        "a case's tasks (api)": task_list(case_reader, {"case": case.pk}),
        "timeline": selectors.case_timeline_for(case, housing),
        "access log": selectors.access_log_for_case(actor=housing, case=case),
        "incidents": IncidentFilter({}, selectors.incidents_for(users["ada"])).qs,
        "open incidents": IncidentFilter({"resolved": "false"}, selectors.incidents_for(users["ada"])).qs,
    }
    plans = {name: plan(queryset) for name, queryset in lists.items()}
    assert {name: whole_table_reads(text) for name, text in plans.items() if whole_table_reads(text)} == {}
    assert [name for name, text in plans.items() if "Index" not in text] == []


def test_the_loader_writes_what_it_says(loaded):
    with connection.cursor() as cursor:
        cursor.execute("SELECT status, count(*) FROM workflows_task GROUP BY status")
        by_status = dict(cursor.fetchall())
        cursor.execute(
            "SELECT count(*) FROM workflows_caseparticipant p LEFT JOIN permissions_casegroupobjectpermission g"
            " ON g.content_object_id = p.case_id AND g.group_id = (SELECT group_id FROM permissions_agency a"
            " WHERE a.id = p.agency_id) WHERE g.id IS NULL"
        )
        (participants_without_grant,) = cursor.fetchone()
    assert loaded.cases == Case.objects.count() - len(PROCESS_KINDS) == 20_000  # and a started case of each
    assert abs(loaded.tasks - 66_667) < 100 and sum(by_status.values()) == loaded.tasks
    assert 0.88 < by_status["completed"] / loaded.tasks < 0.93
    assert participants_without_grant == 0


def _scans(index: str) -> re.Pattern:
    """A scan of ``index``: in the order of the index, or a bitmap of it (then sorted)."""
    return re.compile(rf"(?:using|Bitmap Index Scan on) {re.escape(index)} ")


def walked(text: str, index: str) -> list[int]:
    """The rows each scan of ``index`` returned (EXPLAIN ANALYZE)."""
    found = []
    for line in text.splitlines():
        if _scans(index).search(line):
            found.append(int(re.search(r"actual time=\S+ rows=(\d+)", line).group(1)))
    return found


def after_scan(text: str, index: str) -> str:
    """The plan from the first scan of ``index`` on (its Index Cond first)."""
    return _scans(index).split(text, maxsplit=1)[1]


def sorts_rows(text: str) -> list[str]:
    """Sort nodes over a list's rows (the permission's one-row lookup sorts too: not counted)."""
    return [line.strip() for line in text.splitlines() if "Sort Key: workflows_" in line]


def test_a_busy_agency_reads_its_lists_in_index_order_and_stops_after_a_page(loaded):
    """The busiest NAV office takes part in a third of the cases: its inbox, all its tasks and
    its overdue cases are read in the order of an index and stop after a page (no sort of
    everything it sees, which the planner chose while it estimated the participation and the
    grant as independent and expected the office to see almost nothing)."""
    busy = get_user_model().objects.get(username=username("nav", 0))
    inbox = task_list(busy, {"assigned": "agency", "status": "active"})[:PAGE].explain(analyze=True)
    everything = task_list(busy, {})[:PAGE].explain(analyze=True)
    overdue_cases = case_list(busy, {"overdue": "true"})[:PAGE].explain()
    assert (sorts_rows(inbox), sorts_rows(everything), sorts_rows(overdue_cases)) == ([], [], [])
    assert 0 < walked(inbox, "task_agency_active")[0] <= PAGE
    # Its tasks in the task-reader index: a page within a few hundred of its rows (the
    # rest are other agencies' tasks on a path the office may not see).
    assert 0 < walked(everything, "taskreader_list")[0] < 10 * PAGE
    # Newest first among the cases with a deadline waiting (``Case.next_due_at``), each
    # case's own tasks looked at per row, never every overdue task of the table hashed first.
    assert "Backward using case_next_due_by_id" in overdue_cases or "Backward using participant_agency_case" in (
        overdue_cases
    )
    assert "hashed SubPlan" not in overdue_cases


def test_an_agency_reads_its_case_lists_from_its_participations_and_stops_after_a_page(loaded):
    """A NAV office's case lists, newest first by id, whatever its share of the cases: its
    participations read backwards from their index alone (``rules.listed_cases``), a page of
    them and a few more, each case looked up by its key. Before, the list walked every case
    in the order it was opened and checked each for the office: a page cost a page divided
    by the office's share (3,000 rows for the quietest NAV office at a million tasks)."""
    for number in (0, 19):
        user = get_user_model().objects.get(username=username("nav", number))
        for filters, most in (({}, PAGE), ({"status": "open"}, 3 * PAGE)):
            text = case_list(user, filters)[:PAGE].explain(analyze=True)
            if number == 0 and "Index Only Scan Backward using participant_agency_case" not in text:
                # The busiest office takes part in about one case in ten, and its planner may as
                # well walk every participation newest first, filtered: the two plans are within
                # a few per cent, and ANALYZE's sample decides (one run in four or five, before
                # and after the permission lookup changed on 2026-12-06). Still a page's worth
                # of rows divided by that share, never the table.
                rest = after_scan(text, "workflows_caseparticipant_case_id_2407704f")  # Django's name for it
                removed = int(re.search(r"Rows Removed by Filter: (\d+)", rest).group(1))
                assert removed <= 20 * PAGE and sorts_rows(text) == [], (filters, text)
                continue
            assert "Index Only Scan Backward using participant_agency_case" in text, (number, filters, text)
            assert 0 < walked(text, "participant_agency_case")[0] <= most, (number, filters, text)
            assert sorts_rows(text) == [] and walked(text, "case_opened") == [], (number, filters)


def test_a_quiet_agency_reads_a_page_of_its_own_cases_tasks_from_the_task_reader_index(loaded):
    """The quietest NAV office takes part in about 1 % of the cases: in the whole table's
    order a page of its lists lay far apart (3,000 rows at a million; from its participations,
    all of its tasks sorted). The task-reader index holds its cases' tasks alone, in the
    lists' order: a page costs a page of rows, the first and any later one, each row still
    checked by the rules (participation and grant, per row)."""
    quiet = get_user_model().objects.get(username=username("nav", 19))
    everything = task_list(quiet, {})
    overdue = task_list(quiet, {"overdue": "true"})
    plans = {"all": everything[:PAGE].explain(analyze=True), "overdue": overdue[:PAGE].explain(analyze=True)}
    assert sorts_rows(plans["all"]) == []
    assert 0 < walked(plans["all"], "taskreader_list")[0] < 10 * PAGE
    # Its active rows past their deadline only (a page or two at this size: read in order, or
    # found from a bitmap of the index and sorted).
    (active_rows,) = walked(plans["overdue"], "taskreader_active")
    assert active_rows <= 2 * PAGE and "due_at < " in after_scan(plans["overdue"], "taskreader_active").split("->")[0]
    for text in plans.values():
        assert walked(text, "task_due") == walked(text, "task_active_due") == []
        assert "participant_agency_case" in text and "casegroupobjectpermission" in text  # the rule, per row
    # A later page (the API's cursor): the index read from the cursor's deadline on.
    keys = ordering_keys(everything)
    last = everything[200]
    (later, _without_deadline) = page_queries(everything, keys, [getattr(last, key.name) for key in keys])
    text = later[:PAGE].explain(analyze=True)
    assert sorts_rows(text) == [] and 0 < walked(text, "taskreader_list")[0] < 10 * PAGE
    scan = text.split("using taskreader_list")[1].split("->")[0]
    assert "Index Cond: ((agency_id = " in scan and "due_at >= " in scan


def claim_desk(user, agency_id: int, every: int) -> list[int]:
    """``user`` takes every ``every``-th open task of their agency, in deadline order (a busy
    caseworker's desk, spread over the whole list as it grew); the statistics see them."""
    open_tasks = Task.objects.filter(agency_id=agency_id, status=TaskStatus.OPEN).order_by("due_at", "id")
    desk = list(open_tasks.values_list("pk", flat=True))[::every]
    Task.objects.filter(pk__in=desk).update(assignee=user, status=TaskStatus.CLAIMED, claimed_at=timezone.now())
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE workflows_task")
    return desk


def test_mine_reads_a_page_of_a_busy_desk_from_the_claimants_index(loaded):
    """ "Mine" (``assigned=me&status=active``, the inbox's first tab) for caseworkers holding
    hundreds of claimed tasks among thousands of active ones: its first page, soonest or
    latest due first, is read from their own active tasks in the list's order
    (``task_claimant_active``: an active task's claimant, due_at, id) and stops after it.
    Before, the list's "claimed or completed by me" was an OR over two indexes: PostgreSQL
    either read every one of the user's active tasks and sorted them (a BitmapOr), or walked
    every active task of the table in deadline order for theirs (933 rows for a page of 51
    with a desk of 300 here; a desk's share of the active tasks shrinks as the table grows).
    An active task has no completer (``task_active_has_no_completer``), so "mine" among
    active tasks is the claimant's alone. A later page (the API's cursor) starts at the
    cursor in the same index. A claimed task of a case the user may no longer see is not
    listed."""
    people = get_user_model().objects.in_bulk([username("housing", 0), username("nav", 0)], field_name="username")
    housing, nav = people[username("housing", 0)], people[username("nav", 0)]
    desks = {
        # The busiest housing office's coordinator takes every fourth of its open tasks (about
        # 550 of 6,000 active tasks); the busiest NAV office's member (who completed a tenth
        # of all tasks: many "completed by me") every one of theirs (about 150).
        user: claim_desk(user, user.memberships.get().agency_id, every)
        for user, every in ((housing, 4), (nav, 1))
    }
    assert [len(desk) > 2 * PAGE for desk in desks.values()] == [True, True]
    # A case the housing office no longer sees: its grant taken back (the task still claimed).
    hidden = Task.objects.select_related("case").get(pk=desks[housing][1])
    group_id = housing.memberships.get().agency.group_id
    CaseGroupObjectPermission.objects.filter(content_object=hidden.case, group_id=group_id).delete()
    for user in desks:
        mine = task_list(user, {"assigned": "me", "status": "active"})
        latest_first = task_list(user, {"assigned": "me", "status": "active"}).order_by("-due_at", "-id")
        for name, text in {
            "first": mine[:PAGE].explain(analyze=True),
            "latest first": latest_first[:PAGE].explain(analyze=True),
        }.items():
            # Neither every active task of the table walked for theirs, nor all theirs sorted:
            assert walked(text, "task_active_due") == walked(text, "task_due") == [], (user.username, name, text)
            assert whole_table_reads(text) == [] and sorts_rows(text) == [], (user.username, name, text)
            # a page of their own, in order.
            assert [0 < rows <= PAGE for rows in walked(text, "task_claimant_active")] == [True], (user.username, name)
        keys = ordering_keys(mine)
        some = list(mine[:200])
        last = some[len(some) // 2]
        later = page_queries(mine, keys, [getattr(last, key.name) for key in keys])[0][:PAGE].explain(analyze=True)
        # From the cursor on (its bound the index scan's start), never a walk of all active
        # tasks. (Whether PostgreSQL stops after the page or reads the rest of the desk and
        # sorts it is its estimate's: a claimant's share by default, 0.5 % of the tasks,
        # and the tasks due after the cursor by the whole table's deadlines, mostly past;
        # both much less than a page at this size.)
        assert whole_table_reads(later) == [] and "due_at >= " in after_scan(later, "task_claimant_active")
        assert walked(later, "task_active_due") == walked(later, "task_due") == []
    listed = {task.pk for task in task_list(housing, {"assigned": "me", "status": "active"})}
    assert listed == set(desks[housing]) - {hidden.pk}


@pytest.mark.parametrize("query", ["Person 4711", "erson 471", "BK-S-0000471", "Zq", "Q"])
def test_a_search_reads_the_cases_it_finds_from_the_search_index(loaded, query):
    """Part of a name or a reference (``ILIKE '%...%'``) from the trigram indexes (workflows
    0044), one or two characters by the start of a word: before, a search walked every case
    the reader sees (110,000 participations, 490 ms, for the busiest NAV office at a million
    tasks), since no b-tree answers a pattern inside a text."""
    for number in (0, 19):
        user = get_user_model().objects.get(username=username("nav", number))
        text = case_list(user, {"q": query})[:PAGE].explain(analyze=True)
        assert "Bitmap Index Scan on case_search_name" in text, (number, query, text)
        # The reader's participations are looked up per case found, never walked in order.
        assert "Backward using participant_agency_case" not in text, (number, query, text)


def _one_plan_for_any_value(statement: str, params: list) -> str:
    """The plan PostgreSQL keeps for ``statement`` prepared (``plan_cache_mode`` forced, as
    ``permissions.prepared`` runs a list's generic member), for the ``params`` it was sent with."""
    from permissions.prepared import numbered_placeholders

    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL plan_cache_mode = force_generic_plan")
        cursor.execute(f"PREPARE one_plan AS {numbered_placeholders(statement, len(params))}")
        try:
            assert all(type(value) is int for value in params), params  # the reader's and the case's ids
            cursor.execute("EXPLAIN EXECUTE one_plan(" + ", ".join(str(value) for value in params) + ")")
            return "\n".join(row[0] for row in cursor.fetchall())
        finally:
            cursor.execute("DEALLOCATE one_plan")
            cursor.execute("SET LOCAL plan_cache_mode = auto")


def test_the_agency_inbox_and_a_case_s_tasks_keep_one_plan_that_walks_their_index(loaded):
    """The API's agency inbox and its tasks of one case (``workflows.task_lists``: run with the
    plan PostgreSQL makes once for any value, not planned on each read) walk the agency's and
    the case's index of active tasks in the list's order, for a busy agency and a quiet one:
    the statuses are written into the statement, or no plan for any value could use those
    partial indexes (it walked every task by due date)."""
    from rest_framework.test import APIClient

    from permissions.prepared import prepares_statements

    if not prepares_statements(connection):
        pytest.skip("DB_PREPARE_THRESHOLD=0: nothing is prepared")
    people = get_user_model().objects.in_bulk(
        [username("nav", 0), username("nav", 19), username("housing", 0)], field_name="username"
    )
    housing = people[username("housing", 0)]
    case = Case.objects.filter(participants__agency__memberships__user=housing).order_by("-id")[0]
    inbox = "/api/v1/tasks/?assigned=agency&status=active"
    reads = {
        # In the list's order: a page is read and no more.
        "busy agency inbox": (username("nav", 0), inbox, "task_agency_active"),
        "quiet agency inbox": (username("nav", 19), inbox, "task_agency_active"),
        # A case's active tasks are a handful, sorted after the read.
        "a case's tasks": (
            username("housing", 0),
            f"{inbox}&case={case.pk}",
            "task_case_active",
        ),
    }
    for name, (who, url, index) in reads.items():
        sent = []

        def keep(execute, sql, params, many, context, sent=sent):
            sent.append((sql, params))
            return execute(sql, params, many, context)

        client = APIClient()
        client.force_authenticate(people[who])
        with connection.execute_wrapper(keep):
            assert client.get(url).status_code == 200
        ((statement, params),) = [(sql, p) for sql, p in sent if sql.startswith('SELECT "workflows_task"."id"')]
        assert "'open'" in statement and "'claimed'" in statement, statement  # written in
        text = _one_plan_for_any_value(statement, list(params))
        assert f"Index Scan using {index} on workflows_task" in text, (name, text)
        assert whole_table_reads(text) == [], (name, text)
        if index == "task_agency_active":
            assert "Sort" not in text.split(f"using {index}")[0], (name, text)  # in the index's order
