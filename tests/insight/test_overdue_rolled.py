""" "Overdue now" reads the days before the roll's day folded into a row per scope and agency
(``OpenTasksBefore``), the day rows from there to today and today's live tasks (insight 0012):
the figure is the count of the open tasks whatever the roll did (ran, ran late, twice, never),
whatever changed meanwhile, and it reads as many rows at 330 past days as at 30."""

import datetime
import io
import threading
import time
import uuid
from datetime import timedelta
from unittest import mock

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone

from insight import backfill, figures, rolling
from insight.models import WHOLE_MUNICIPALITY, OpenTasksBefore, OpenTasksChange, OpenTasksDue, OpenTasksRoll
from permissions import grants
from tests.clock import Clock
from tests.insight.conftest import PRISON_PARTICIPANTS, start
from tests.threads import all_at_once
from tests.workflows.helpers import complete, open_tasks
from workflows.jobs.worker import Worker
from workflows.models import ACTIVE_TASK_STATUSES, Job, JobKind, JobStatus, Task, TaskStatus

UTC = datetime.UTC


@pytest.fixture
def merged_at_once(db):
    """The test's transaction never commits: each statement's changes are merged as it ends
    instead (the merge as a commit runs it), so the summary tables hold them."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS insight_open_tasks_merged IMMEDIATE")


def agree(agencies, now):
    for scope in [WHOLE_MUNICIPALITY, *(agency.pk for agency in agencies.values())]:
        assert figures.overdue_counts(scope, now) == figures.counted_overdue(scope, now), (scope, now)


def day(moment, days=0) -> datetime.date:
    return (moment + timedelta(days=days)).astimezone(UTC).date()


def at(date: datetime.date, hour=3) -> datetime.datetime:
    return datetime.datetime.combine(date, datetime.time(hour), tzinfo=UTC)


def through() -> datetime.date | None:
    return OpenTasksRoll.objects.values_list("through", flat=True).first()


def stragglers() -> int:
    """Day rows before the roll's day (a merge that read it just before a roll moved it)."""
    rolled = through()
    return OpenTasksDue.objects.filter(due_day__lt=rolled).count() if rolled else 0


def summary() -> tuple[list, list]:
    return (
        sorted(OpenTasksBefore.objects.values_list("scope", "agency_id", "tasks")),
        sorted(OpenTasksDue.objects.values_list("scope", "due_day", "agency_id", "tasks")),
    )


def five_open_tasks(users, agencies):
    cases = [
        start(users, agencies, "prison_release_to_housing", "kari", PRISON_PARTICIPANTS, national_id)
        for national_id in ("01010012437", "01010012356", "01010012275")
    ]
    complete(open_tasks(cases[0])[0], {"has_home": False}, actor=users["kari"])  # three parallel tasks
    tasks = [task for case in cases for task in open_tasks(case)]
    assert len(tasks) == 5
    return cases, tasks


def due(task, moment) -> None:
    Task.objects.filter(pk=task.pk).update(due_at=moment)


@pytest.mark.postgres
def test_the_figure_is_the_count_across_midnight_and_whatever_the_roll_did(merged_at_once, shipped, users, agencies):
    _cases, tasks = five_open_tasks(users, agencies)
    now = timezone.now()
    today = day(now)
    # Forty days ago, two days ago, yesterday, a minute ago (today: counted live) and tomorrow.
    for task, moment in zip(
        tasks,
        (at(today - timedelta(40)), at(today - timedelta(2)), at(today - timedelta(1)), now - timedelta(minutes=1)),
    ):
        due(task, moment)
    due(tasks[4], at(today + timedelta(1)))
    agree(agencies, now)  # never rolled: every day a day row
    assert through() is None and not OpenTasksBefore.objects.exists()

    assert rolling.roll() > 0  # the days before yesterday folded
    assert through() == today - timedelta(1)
    assert OpenTasksBefore.objects.filter(scope=WHOLE_MUNICIPALITY).exists()
    assert not OpenTasksDue.objects.filter(due_day__lt=through()).exists()
    agree(agencies, now)

    rolled = summary()
    assert rolling.roll() == 0  # twice: nothing more
    assert rolling.roll(today - timedelta(5)) == 0  # a late one, for an earlier day: never back
    assert summary() == rolled and through() == today - timedelta(1)
    agree(agencies, now)

    # Midnight passes: today's task is yesterday's day row, tomorrow's is today's; not rolled yet.
    tomorrow = now + timedelta(days=1)
    agree(agencies, tomorrow)
    rolling.roll(day(tomorrow, -1))
    agree(agencies, tomorrow)
    complete(tasks[1])  # a step on a folded day's task: taken from the totals
    complete(tasks[3])  # and on a day row's
    agree(agencies, tomorrow)

    # The workers down for two days: the figure reads the days not folded, then the roll catches up.
    later = now + timedelta(days=3)
    agree(agencies, later)
    assert rolling.roll(day(later, -1)) > 0
    agree(agencies, later)
    assert stragglers() == 0
    # A reader whose clock is behind the roll's day: counted from the tasks, not from totals
    # that hold days not past yet for it.
    assert through() > today
    agree(agencies, now)


@pytest.mark.postgres
def test_a_late_change_a_participant_and_a_cancelled_task_land_where_the_day_is(
    merged_at_once, shipped, users, agencies
):
    cases, tasks = five_open_tasks(users, agencies)
    now = timezone.now()
    today = day(now)
    for task, days in zip(tasks, (-30, -20, -3, -2, 4)):
        due(task, at(today + timedelta(days)))
    rolling.roll()
    agree(agencies, now)
    before = dict(OpenTasksBefore.objects.filter(scope=WHOLE_MUNICIPALITY).values_list("agency_id", "tasks"))

    due(tasks[4], at(today - timedelta(100)))  # a late change to an old day: into the totals
    after = dict(OpenTasksBefore.objects.filter(scope=WHOLE_MUNICIPALITY).values_list("agency_id", "tasks"))
    assert after[tasks[4].agency_id] == before.get(tasks[4].agency_id, 0) + 1
    assert not OpenTasksDue.objects.filter(due_day=today - timedelta(100)).exists()
    agree(agencies, now)
    due(tasks[0], at(today + timedelta(2)))  # an old day's task moved ahead: out of them
    agree(agencies, now)

    hospital = agencies["hospital"]
    assert not OpenTasksBefore.objects.filter(scope=hospital.pk).exists()
    grants.add_participant(cases[0], "hospital", hospital)  # its scope gains the case's old days
    assert OpenTasksBefore.objects.filter(scope=hospital.pk).exists()
    agree(agencies, now)
    grants.remove_participant(cases[0], "hospital")
    assert not OpenTasksBefore.objects.filter(scope=hospital.pk).exists()
    grants.remove_participant(cases[1], "nav")
    agree(agencies, now)

    Task.objects.filter(pk=tasks[1].pk).update(status=TaskStatus.CANCELLED)  # withdrawn with its branch
    agree(agencies, now)
    Task.objects.filter(pk=tasks[2].pk).delete()
    agree(agencies, now)
    assert stragglers() == 0 and not OpenTasksBefore.objects.filter(tasks=0).exists()

    kept = summary()
    backfill.rebuild()  # counted again from the tasks: the same rows, split at the same day
    assert summary() == kept
    agree(agencies, now)


@pytest.mark.postgres
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_completions_and_rolls_at_the_same_moment_keep_the_summary_exact(shipped, users, agencies):
    """Completions of tasks due on the same old days (the same totals and day rows) and two
    rolls folding those days, each in its own transaction, all at once: no deadlock, no count
    lost or counted twice."""
    cases = [start(users, agencies, "prison_release_to_housing", "kari", PRISON_PARTICIPANTS) for _ in range(6)]
    for case in cases:
        complete(open_tasks(case)[0], {"has_home": False}, actor=users["kari"])
    now = timezone.now()
    active = list(Task.objects.filter(status__in=ACTIVE_TASK_STATUSES).order_by("pk"))
    for index, task in enumerate(active):  # half folded by the rolls below, half the day rows kept
        due(task, at(day(now, -10 if index % 2 else -1)))
    calls = [lambda task=task: complete(task) for case in cases for task in open_tasks(case)]
    assert len(calls) == 18
    calls[6:6] = [rolling.roll]
    calls[12:12] = [rolling.roll]

    outcomes = all_at_once(calls)

    assert [outcome for outcome in outcomes if isinstance(outcome, Exception)] == []
    assert not OpenTasksChange.objects.exists()
    assert through() == day(now, -1)
    agree(agencies, now)
    rolling.roll()  # any straggler folded
    kept = summary()
    backfill.rebuild()
    assert summary() == kept


def waiting_roll() -> bool:
    """A roll is waiting for a row lock (another connection's)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")  # read again inside the transaction
        cursor.execute(
            "SELECT EXISTS (SELECT FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
            " AND query LIKE '%insight_open_tasks_roll%' AND pid <> pg_backend_pid())"
        )
        return cursor.fetchone()[0]


def in_thread(call):
    outcome: dict = {}

    def run():
        try:
            outcome["result"] = call()
        except Exception as exc:
            outcome["error"] = exc
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_roll_waits_for_a_committing_merge_which_never_waits_for_it(shipped, users, agencies):
    """A merge holds the day rows it wrote (here from its statement on, as under SET
    CONSTRAINTS ... IMMEDIATE) and then adds to the totals; a roll meanwhile waits at those day
    rows before it takes any total, so the merge goes on, and the roll after it: one order."""
    _cases, tasks = five_open_tasks(users, agencies)
    now = timezone.now()
    today = day(now)
    # tasks[3] and tasks[4] are their cases' first task: the same agency, so the same totals.
    assert tasks[3].agency_id == tasks[4].agency_id
    for task, days in zip(tasks, (-30, -5, 3, 4, -30)):
        due(task, at(today + timedelta(days)))
    rolling.roll(today - timedelta(10))

    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS insight_open_tasks_merged IMMEDIATE")
        due(tasks[1], at(today - timedelta(6)))  # holds the day rows of five days ago (emptied)
        roller, outcome = in_thread(lambda: rolling.roll(today - timedelta(1)))
        deadline = time.monotonic() + 10
        while not waiting_roll():
            assert time.monotonic() < deadline, ("the roll never waited for the merge's day rows", outcome)
            time.sleep(0.05)
        due(tasks[3], at(today - timedelta(40)))  # then a day before the roll's: tasks[4]'s totals
    roller.join(timeout=30)

    assert not roller.is_alive() and "error" not in outcome, outcome
    assert through() == today - timedelta(1)
    agree(agencies, now)  # six days ago's new rows, which the roll could not see, are read too
    rolling.roll()
    assert stragglers() == 0
    agree(agencies, now)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_merge_that_read_the_roll_s_day_before_it_moved_leaves_a_counted_straggler(shipped, users, agencies):
    """A transaction writes a day row of a day the roll folds while the roll runs (it read the
    roll's day before): the roll does not see the row yet, and it commits after it, before the
    roll's day. The figure reads every day row before today, so it counts it; the next roll folds it."""
    _cases, tasks = five_open_tasks(users, agencies)
    now = timezone.now()
    today = day(now)
    for task, days in zip(tasks, (-30, -20, 3, 4, 5)):
        due(task, at(today + timedelta(days)))
    rolling.roll(today - timedelta(10))

    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS insight_open_tasks_merged IMMEDIATE")
        due(tasks[2], at(today - timedelta(5)))  # a new day row, read the roll's day as ten days ago
        roller, outcome = in_thread(lambda: rolling.roll(today - timedelta(1)))
        roller.join(timeout=30)
        assert not roller.is_alive() and "error" not in outcome, outcome  # nothing of it to wait for

    assert through() == today - timedelta(1)
    assert stragglers() > 0
    agree(agencies, now)
    rolling.roll()
    assert stragglers() == 0
    agree(agencies, now)


def rows_read(scope: int, now) -> int:
    """The summary rows the figure's statement reads (index path), from EXPLAIN ANALYZE."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + figures.OVERDUE_SQL, figures.overdue_params(scope, now))
        (plan,) = cursor.fetchone()
        cursor.execute("SET LOCAL enable_seqscan = on")
    plan = plan[0] if isinstance(plan, list) else plan

    def walk(node) -> int:
        read = 0
        if node.get("Relation Name") in ("insight_opentasksdue", "insight_opentasksbefore"):
            read += node["Actual Rows"] * node["Actual Loops"]
            read += node.get("Rows Removed by Filter", 0) + node.get("Rows Removed by Index Recheck", 0)
        return read + sum(walk(child) for child in node.get("Plans", ()))

    return walk(plan["Plan"])


@pytest.mark.postgres
def test_the_figure_reads_as_many_rows_at_330_past_days_as_at_30(merged_at_once, shipped, users, agencies):
    """An open task past its deadline on each of 30, then 330 past days (one agency, one case):
    the figure, with the roll current, reads the same few summary rows (it read one a day)."""
    case = start(users, agencies, "prison_release_to_housing", "kari", PRISON_PARTICIPANTS, "01010012437")
    (task,) = open_tasks(case)
    now = timezone.now()

    def past_days(first: int, last: int) -> None:
        copies = []
        for days in range(first, last):
            copy = Task.objects.get(pk=task.pk)
            copy.pk, copy.spiff_task_id, copy.due_at = None, uuid.uuid4(), now - timedelta(days=days)
            copies.append(copy)
        Task.objects.bulk_create(copies, batch_size=100)

    read = {}
    for first, last in ((2, 32), (32, 332)):
        past_days(first, last)
        rolling.roll()
        read[last - 2] = {scope: rows_read(scope, now) for scope in (WHOLE_MUNICIPALITY, agencies["prison"].pk)}
        agree(agencies, now)
    assert read[30] == read[330], read
    assert max(read[330].values()) <= 2, read  # a total and a day row (yesterday's) for the one agency


@pytest.mark.postgres
def test_the_daily_job_rolls_and_queues_the_next_day_s(merged_at_once, monkeypatch, shipped, users, agencies):
    """``manage.py insight_roll_overdue`` (daily, on any node) queues the day's roll once; a
    worker runs it, and it queues the next day's. Run days late (the workers were down), it
    rolls to the day before the one it runs on."""
    _cases, tasks = five_open_tasks(users, agencies)
    noon = at(day(timezone.now()), hour=12)
    clock = Clock(monkeypatch, noon)
    for task, days in zip(tasks, (-30, -20, -3, 1, 2)):
        due(task, noon + timedelta(days=days))
    rolls = Job.objects.filter(kind=JobKind.OVERDUE_ROLL)

    call_command("insight_roll_overdue", stdout=io.StringIO())
    call_command("insight_roll_overdue", stdout=io.StringIO())  # a second node: the same job
    assert list(rolls.values_list("status", "due_at")) == [(JobStatus.PENDING, at(day(noon), 0) + timedelta(minutes=5))]
    Worker(name="w").run(once=True)
    assert through() == day(noon, -1)
    assert stragglers() == 0
    agree(agencies, noon)
    tomorrow = at(day(noon, 1), 0) + timedelta(minutes=5)
    assert sorted(rolls.values_list("status", "due_at")) == [(JobStatus.DONE, mock.ANY), (JobStatus.PENDING, tomorrow)]
    call_command("insight_roll_overdue", stdout=io.StringIO())  # rolled already today
    assert rolls.count() == 2

    clock.set(noon + timedelta(days=3))  # tomorrow's roll runs three days late
    agree(agencies, clock.moment)
    Worker(name="w").run(once=True)
    assert through() == day(noon, 2)
    assert rolls.filter(status=JobStatus.PENDING).get().due_at == at(day(noon, 4), 0) + timedelta(minutes=5)
    agree(agencies, clock.moment)


def test_the_job_runs_on_either_database(merged_at_once, monkeypatch, shipped, users, agencies):
    """The SQLite demo has no summary (the figure counts the tasks): its roll job does
    nothing but queue the next day's, and the figure is the count either way."""
    _cases, tasks = five_open_tasks(users, agencies)
    noon = at(day(timezone.now()), hour=12)
    Clock(monkeypatch, noon)
    for task, days in zip(tasks, (-30, -20, -3, 1, 2)):
        due(task, noon + timedelta(days=days))
    assert rolling.enqueue_roll() == 1
    Worker(name="w").run(once=True)
    rolls = Job.objects.filter(kind=JobKind.OVERDUE_ROLL)
    assert sorted(rolls.values_list("status", flat=True)) == [JobStatus.DONE, JobStatus.PENDING]
    agree(agencies, noon)
