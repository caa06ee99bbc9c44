"""Overdue work counts the open tasks past their deadline at this moment, live."""

import datetime
from datetime import timedelta

import pytest
from django.utils import timezone

from insight import backfill, figures
from insight.models import WHOLE_MUNICIPALITY, OpenTasksChange, OpenTasksDue
from permissions import grants
from permissions.models import CaseParticipant
from tests.insight.conftest import PRISON_PARTICIPANTS, start
from tests.threads import all_at_once
from tests.workflows.helpers import complete, open_tasks
from workflows.models import ACTIVE_TASK_STATUSES, Task


def overdue(scope: int, agency_id: int | None = None) -> dict[str, int]:
    figure = figures.overdue_now(scope, agency_id)
    return {row[0]: figure.ledger.values[row[1].cell] for row in figure.rows}


def test_an_open_task_past_its_deadline_counts_for_its_agency_at_once(finished_cases, users, agencies):
    prison, hospital = agencies["prison"], agencies["hospital"]
    case = start(users, agencies, "prison_release_to_housing", "kari", PRISON_PARTICIPANTS, "01010012437")
    task = open_tasks(case)[0]
    Task.objects.filter(pk=task.pk).update(due_at=timezone.now() + datetime.timedelta(hours=1))
    assert overdue(WHOLE_MUNICIPALITY).get(task.agency.name, 0) == 0  # not yet past it
    Task.objects.filter(pk=task.pk).update(due_at=timezone.now() - datetime.timedelta(minutes=1))
    assert overdue(WHOLE_MUNICIPALITY)[task.agency.name] == 1
    assert overdue(prison.pk)[task.agency.name] == 1  # prison takes part in the case
    assert task.agency.name not in overdue(hospital.pk)  # the hospital does not
    assert list(overdue(WHOLE_MUNICIPALITY, task.agency_id)) == [task.agency.name]  # the agency filter


def test_the_page_shows_it_as_a_small_count(client, finished_cases, users, agencies):
    case = start(users, agencies, "prison_release_to_housing", "kari", PRISON_PARTICIPANTS, "01010012437")
    Task.objects.filter(case=case).update(due_at=timezone.now() - datetime.timedelta(days=1))
    client.force_login(users["leif"])
    html = client.get("/insight/").content.decode()
    section = html[html.index('id="figure-overdue_now"') :]
    assert "&lt;5" in section[: section.index("</section>")]  # a count of 1 to 4, hidden


def test_a_task_counts_once_for_an_agency_that_plays_two_parts_in_its_case(finished_cases, users, agencies):
    prison = agencies["prison"]
    case = start(users, agencies, "prison_release_to_housing", "kari", PRISON_PARTICIPANTS, "01010012437")
    task = open_tasks(case)[0]
    Task.objects.filter(pk=task.pk).update(due_at=timezone.now() - datetime.timedelta(minutes=1))
    CaseParticipant.objects.create(case=case, kind="extra", agency=prison)  # a second part in the case
    assert overdue(prison.pk)[task.agency.name] == 1


def agree(agencies, now=None):
    """The figure from the summary PostgreSQL keeps equals the count of the open tasks, for
    the whole municipality and every agency's scope."""
    now = now or timezone.now()
    for scope in [WHOLE_MUNICIPALITY, *(agency.pk for agency in agencies.values())]:
        assert figures.overdue_counts(scope, now) == figures.counted_overdue(scope, now), scope


def test_the_summary_follows_every_write_to_the_tasks_and_the_participants(shipped, users, agencies):
    cases = [
        start(users, agencies, "prison_release_to_housing", "kari", PRISON_PARTICIPANTS, national_id)
        for national_id in ("01010012437", "01010012356")
    ]
    complete(open_tasks(cases[0])[0], {"has_home": False}, actor=users["kari"])  # three parallel tasks
    now = timezone.now()
    tasks = [task for case in cases for task in open_tasks(case)]
    assert len(tasks) == 4
    # Deadlines on earlier days (from the summary), today (counted live) and ahead, written
    # straight to the rows: the triggers see every write, not only the steps'.
    for task, due in zip(tasks, (timedelta(days=-40), timedelta(days=-1), timedelta(days=-1), timedelta(hours=-1))):
        Task.objects.filter(pk=task.pk).update(due_at=now + due)
    assert sum(figures.overdue_counts(WHOLE_MUNICIPALITY, now).values()) == 4
    agree(agencies, now)
    assert figures.overdue_counts(agencies["hospital"].pk, now) == {}

    complete(tasks[1])  # a step: one done
    agree(agencies)
    grants.remove_participant(cases[0], "nav")  # NAV leaves: its scope loses the case's tasks
    agree(agencies)
    grants.add_participant(cases[0], "nav", agencies["nav"])
    grants.add_participant(cases[0], "hospital", agencies["hospital"])
    assert figures.overdue_counts(agencies["hospital"].pk, timezone.now())
    agree(agencies)
    Task.objects.filter(pk=tasks[0].pk).update(agency=agencies["hospital"])  # a version migration moves it
    Task.objects.filter(pk=tasks[2].pk).delete()
    agree(agencies)
    agree(agencies, timezone.now() + timedelta(days=1))  # today's deadlines from the summary tomorrow
    backfill.rebuild()
    agree(agencies)


@pytest.mark.postgres
def test_a_statement_queues_one_merge_however_many_changes_it_logs(shipped, users, agencies):
    """A write to the tasks logs a change per scope, day and agency, but only one of its rows
    queues the deferred merge: one call at commit, not ten (the first call moves the whole
    transaction's log, so the others found nothing)."""
    from django.db import connection
    from django.db.models import Max

    case = start(users, agencies, "prison_release_to_housing", "kari", PRISON_PARTICIPANTS, "01010012437")
    merged_as_at_commit()
    logged_before = OpenTasksChange.objects.aggregate(last=Max("id"))["last"] or 0
    Task.objects.filter(case=case).update(due_at=timezone.now() - timedelta(days=30))  # one statement

    logged = OpenTasksChange.objects.filter(id__gt=logged_before)
    assert logged.count() >= 1 + len(PRISON_PARTICIPANTS)  # the whole municipality and every participant
    assert logged.filter(merges=True).count() == 1
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_get_triggerdef(oid) FROM pg_trigger WHERE tgname = 'insight_open_tasks_merged'")
        (definition,) = cursor.fetchone()
    assert "WHEN (new.merges)" in definition


@pytest.mark.postgres
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_completions_at_the_same_moment_keep_the_summary_exact(shipped, users, agencies):
    cases = [start(users, agencies, "prison_release_to_housing", "kari", PRISON_PARTICIPANTS) for _ in range(6)]
    for case in cases:
        complete(open_tasks(case)[0], {"has_home": False}, actor=users["kari"])
    # Every open task due the same day: the completions all take from the same summary rows
    # (and the tasks they create add to others), each in its own transaction.
    Task.objects.filter(status__in=ACTIVE_TASK_STATUSES).update(due_at=timezone.now() - timedelta(days=1))
    calls = [lambda task=task: complete(task) for case in cases for task in open_tasks(case)]
    assert len(calls) == 18

    outcomes = all_at_once(calls)

    assert [outcome for outcome in outcomes if isinstance(outcome, Exception)] == []
    assert not OpenTasksChange.objects.exists()  # each transaction's changes merged as it committed
    agree(agencies)
    summary = sorted(OpenTasksDue.objects.values_list("scope", "due_day", "agency_id", "tasks"))
    assert sum(tasks for scope, _day, _agency, tasks in summary if scope == WHOLE_MUNICIPALITY) == 6  # find home
    backfill.rebuild()
    assert sorted(OpenTasksDue.objects.values_list("scope", "due_day", "agency_id", "tasks")) == summary


@pytest.mark.postgres
def test_the_log_of_a_running_transaction_writes_no_wal(db):
    """The change log holds only the rows of transactions still running (each merge deletes
    its own at commit), so a crash can take nothing committed from it: UNLOGGED, so the five to
    ten rows a completion logs and deletes write no WAL; and no index on the agency, which no
    read of the log uses (it is found by transaction). Both were there before migration 0009."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT relpersistence FROM pg_class WHERE oid = 'insight_opentaskschange'::regclass")
        assert cursor.fetchone() == ("u",)
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE tablename = 'insight_opentaskschange'")
        indexed = sorted(definition.split(" USING btree ")[1] for (definition,) in cursor.fetchall())
    assert indexed == ["(id)", "(transaction_id)"]
    # What makes UNLOGGED safe, that no row outlives its transaction's commit, is
    # test_completions_at_the_same_moment_keep_the_summary_exact's (committed transactions).


@pytest.mark.postgres
def test_a_transaction_queues_one_merge_however_many_statements_log(shipped, users, agencies):
    """A completion that creates a task logs in two statements (its task leaving the counts,
    the new one joining them): only the first queues the merge, which moves the whole
    transaction's log at commit (each statement queued one before migration 0010, and the
    second call found nothing). A statement rolled back to its savepoint takes its mark
    with it: the next one marks a row again."""
    from django.db import transaction

    case = start(users, agencies, "prison_release_to_housing", "kari", PRISON_PARTICIPANTS, "01010012437")
    merged_as_at_commit()
    Task.objects.filter(case=case).update(due_at=timezone.now() - timedelta(days=30))
    Task.objects.filter(case=case).update(due_at=timezone.now() - timedelta(days=20))
    assert OpenTasksChange.objects.count() >= 2 * (1 + len(PRISON_PARTICIPANTS))
    assert OpenTasksChange.objects.filter(merges=True).count() == 1

    merged_as_at_commit()
    try:
        with transaction.atomic():
            Task.objects.filter(case=case).update(due_at=timezone.now() - timedelta(days=10))
            raise RuntimeError("rolled back to the savepoint")
    except RuntimeError:
        pass
    assert not OpenTasksChange.objects.exists()
    Task.objects.filter(case=case).update(due_at=timezone.now() - timedelta(days=5))
    assert OpenTasksChange.objects.filter(merges=True).count() == 1


def merged_as_at_commit() -> None:
    """The test runs in one transaction, which never commits: what a commit's merge does to
    the log (empties it), so that the next statement is as the first of a new transaction."""
    OpenTasksChange.objects.all().delete()
