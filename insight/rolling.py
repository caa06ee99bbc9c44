"""The daily roll of the open-task summary behind "overdue now", through the job table.

PostgreSQL keeps the open tasks with a deadline per scope, UTC day and agency
(``OpenTasksDue``); the days before the roll's day are folded into one row per scope and
agency (``OpenTasksBefore``), so the figure reads as many rows at a million tasks as at ten
thousand (``figures.OVERDUE_SQL``). Each day the roll folds the day rows before yesterday (UTC)
in: ``insight_open_tasks_roll`` of migration 0012, which locks them in the merges' key order.

``manage.py insight_roll_overdue`` (daily from cron or a systemd timer, on any node, as
``enqueue_erasures``; ``manage.py serve`` runs it as it starts) queues the day's
``overdue_roll`` job, due at ``ROLL_AT`` UTC; a partial unique index keeps one pending job a
day, so two nodes at once queue it once. The workers run it (``workflows.jobs.handlers``), and
each roll queues the next day's: the roll goes on without cron once it has run.

The figure does not depend on it: a roll that runs late, twice, or not at all (the workers
down for days) leaves the same count, read from a few more day rows until the next one.
"""

from __future__ import annotations

import datetime

from django.db import IntegrityError, connection, transaction

from insight.models import OpenTasksRoll
from workflows.jobs import queue
from workflows.models import Job, JobKind, JobStatus

ROLL_AT = datetime.time(0, 5, tzinfo=datetime.UTC)


def _utc_day(moment: datetime.datetime) -> datetime.date:
    return moment.astimezone(datetime.UTC).date()


def roll(through: datetime.date | None = None) -> int:
    """Fold the day rows before ``through`` (by default yesterday, UTC, by the job clock: the
    figures of a reader whose clock is a little behind still find their day rows) into the
    totals. Returns the day rows folded; 0 on SQLite, which has no summary (the figure counts
    the tasks there)."""
    if connection.vendor != "postgresql":
        return 0
    if through is None:
        through = _utc_day(queue.now()) - datetime.timedelta(days=1)
    with connection.cursor() as cursor:
        cursor.execute("SELECT insight_open_tasks_roll(%s)", [through])
        return int(cursor.fetchone()[0])


def enqueue_roll(moment: datetime.datetime | None = None) -> int:
    """Queue the roll job of ``moment``'s UTC day (due at ``ROLL_AT``), unless that day's is
    pending or the summary is rolled as far as it would roll it already. Returns how many
    were queued (0 or 1)."""
    day = _utc_day(moment or queue.now())
    due = datetime.datetime.combine(day, ROLL_AT)
    if OpenTasksRoll.objects.filter(through__gte=day - datetime.timedelta(days=1)).exists():
        return 0
    if Job.objects.filter(kind=JobKind.OVERDUE_ROLL, status=JobStatus.PENDING, due_at=due).exists():
        return 0
    try:
        with transaction.atomic():
            Job.objects.create(
                kind=JobKind.OVERDUE_ROLL, due_at=due, max_attempts=queue.conf("JOB_MAX_ATTEMPTS"), payload={}
            )
    except IntegrityError:  # another node queued it meanwhile (``one_pending_overdue_roll``)
        return 0
    if due <= queue.now():
        queue.wake_workers()
    return 1


def run_roll_job(job: Job) -> None:
    """The job: roll, then queue the next day's roll."""
    roll()
    enqueue_roll(queue.now() + datetime.timedelta(days=1))
