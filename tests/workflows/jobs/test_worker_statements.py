"""What the job worker costs PostgreSQL for each new task: the notification job's own
statements, and one look at what is due instead of an empty claim per kind of job."""

from datetime import datetime, timedelta

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.workflows.helpers import start_prison_case
from workflows.jobs import notify, queue, service
from workflows.jobs.worker import Worker
from workflows.models import Job, JobKind, JobStatus

pytestmark = pytest.mark.django_db

# What is due (1), the claim (one UPDATE ... RETURNING), the task read (1), the outcome (1),
# what is due again (1), which is also all the idle worker needs. Before the due-work
# statement: 22, and the idle worker's own look for the next due time; before the one-statement
# claim: 8 (the claim was BEGIN, SELECT ... FOR UPDATE, UPDATE, COMMIT).
NOTIFICATION_BUDGET = 5


def test_a_new_task_notification_is_sent_with_one_look_at_what_is_due_around_it(shipped, users, agencies):
    case = start_prison_case(users, agencies)
    worker = Worker(name="w")
    worker.heartbeat(force=True)  # every 10 s, not per job
    with CaptureQueriesContext(connection) as queries:
        assert worker.run_due() == 1
    assert len(mail.outbox) == 1
    sent = Job.objects.get(case=case, kind=JobKind.NOTIFICATION, payload__event="task_created")
    assert sent.status == JobStatus.DONE and sent.locked_by == "" and sent.lease_until is None
    statements = [query["sql"] for query in queries.captured_queries]
    # No claim that could only come back empty: no timer or handler claim at all.
    assert not [sql for sql in statements if "FOR UPDATE" in sql and "'timer'" in sql], statements
    assert len(statements) <= NOTIFICATION_BUDGET, "\n".join(statements)
    # The overdue reminder stays pending: it is what the idle worker waits for.
    overdue = Job.objects.get(case=case, kind=JobKind.NOTIFICATION, payload__event="task_overdue")
    assert worker._next_due_at == overdue.due_at


def test_the_e_mails_of_several_new_tasks_are_sent_with_the_statements_of_one(shipped, users, agencies):
    cases = [start_prison_case(users, agencies) for _ in range(3)]
    worker = Worker(name="w")
    worker.heartbeat(force=True)
    with CaptureQueriesContext(connection) as queries:
        assert worker.run_due() == 3
    assert len(mail.outbox) == 3
    assert len(queries.captured_queries) <= NOTIFICATION_BUDGET, "\n".join(q["sql"] for q in queries)
    sent = Job.objects.filter(case__in=cases, kind=JobKind.NOTIFICATION, payload__event="task_created")
    assert {(job.status, job.attempts, job.locked_by) for job in sent} == {(JobStatus.DONE, 1, "")}
    assert len(sent) == 3


def test_a_claimed_job_whose_lease_would_run_out_before_its_call_is_given_back_unperformed(
    shipped, users, agencies, monkeypatch
):
    """The calls before it took so long that another worker could take it while it is sent:
    it is pending again, its attempt not counted, and sent by the next claim."""
    for index in range(2):
        start_prison_case(users, agencies)
    (first, second) = queue.claim_external("w", limit=2)
    moment, lease = queue.now(), first.lease_until
    send = notify._send_email

    def slow_send(task, event):  # the first call ends with less than two call timeouts of the lease left
        monkeypatch.setattr(queue, "now", lambda: lease - timedelta(seconds=15))
        return send(task, event)

    monkeypatch.setattr(notify, "_send_email", slow_send)
    performed = service.perform_claimed_batch([first, second], "w")

    assert [(job.pk, error) for job, error in performed] == [(first.pk, None)]
    assert len(mail.outbox) == 1
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, first.attempts) == (JobStatus.DONE, 1)
    assert (second.status, second.locked_by, second.lease_until, second.attempts) == (JobStatus.PENDING, "", None, 0)
    assert second.due_at <= moment
    monkeypatch.setattr(notify, "_send_email", send)
    assert [job.pk for job in queue.claim_external("v", limit=5)] == [second.pk]


def test_what_is_due_answers_each_kind_and_an_external_job_whose_lease_ran_out(shipped, users, agencies):
    nothing = queue.due_work([])
    assert not nothing.anything and nothing.next_due_at is None
    case = start_prison_case(users, agencies)
    due = queue.due_work([])
    assert due.external and not due.timers and not due.handled
    (job,) = queue.claim_external("gone", limit=1)
    assert job.payload["event"] == "task_created"
    overdue = Job.objects.get(case=case, kind=JobKind.NOTIFICATION, payload__event="task_overdue")
    assert queue.due_work([]) == queue.Due(False, False, False, overdue.due_at)
    Job.objects.filter(pk=job.pk).update(lease_until=queue.now() - queue.timedelta(seconds=1))
    assert queue.due_work([]).external
    Job.objects.filter(pk=overdue.pk).update(kind=JobKind.ERASURE, due_at=queue.now())
    assert queue.due_work([JobKind.ERASURE]).handled and not queue.due_work([]).handled


def test_an_external_task_waiting_for_an_agency_system_does_not_keep_the_worker_awake(shipped, users, agencies):
    start_prison_case(users, agencies)
    queue.claim_external("w", limit=1)
    Job.objects.filter(kind=JobKind.NOTIFICATION, status=JobStatus.PENDING).update(
        kind=JobKind.EXTERNAL_TASK, due_at=queue.now() - queue.timedelta(days=1)
    )
    due = queue.due_work([])
    assert not due.anything and due.next_due_at is None


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="PostgreSQL's own statements (the UPDATE built once, the plan) are what it checks",
)
def test_what_is_due_is_read_from_the_index_when_the_table_has_statistics():
    # As a live database has them (autovacuum's ANALYZE): many finished e-mails whose due
    # times are past, and the pending overdue reminders due days later. PostgreSQL took the
    # finished ones' past due times for due rows and read the whole table for each EXISTS, in
    # every round of every worker; each part now walks ``job_due_open`` over due rows only.
    moment = queue.now()
    Job.objects.bulk_create(
        [
            Job(kind=JobKind.NOTIFICATION, status=JobStatus.DONE, due_at=moment - timedelta(minutes=n), payload={})
            for n in range(3000)
        ]
        + [
            Job(kind=kind, status=JobStatus.PENDING, due_at=moment + timedelta(days=1, minutes=n), payload={})
            for n in range(1500)
            for kind in (JobKind.NOTIFICATION, JobKind.TIMER)
        ]
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE workflows_job")
    sent = []

    def keep(execute, sql, params, many, context):
        sent.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(keep):
        due = queue.due_work([JobKind.ERASURE])
    assert not (due.timers or due.external or due.handled)
    ((statement, params),) = sent
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + statement, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "Seq Scan" not in plan, plan


def test_a_listening_worker_sends_a_new_task_s_e_mail_after_one_look_at_what_is_due(shipped, users, agencies):
    """With a listener (every job made due from then on wakes it) the round that sent every
    due e-mail does not ask again what is due (it found nothing: one statement per new
    task); it sleeps until the overdue reminder, which stays pending."""
    case = start_prison_case(users, agencies)
    worker = Worker(name="w")
    worker.heartbeat(force=True)
    with CaptureQueriesContext(connection) as queries:
        assert worker.run_due(listening=True) == 1
    assert len(mail.outbox) == 1
    statements = [query["sql"] for query in queries.captured_queries]
    assert len([sql for sql in statements if sql.startswith("SELECT (SELECT due_at")]) == 1, "\n".join(statements)
    assert len(statements) == NOTIFICATION_BUDGET - 1, "\n".join(statements)
    overdue = Job.objects.get(case=case, kind=JobKind.NOTIFICATION, payload__event="task_overdue")
    assert worker._next_due_at == overdue.due_at
    # Another task's e-mail later: found at the next wake, as before.
    start_prison_case(users, agencies)
    assert worker.run_due(listening=True) == 1
    assert len(mail.outbox) == 2


@pytest.mark.postgres
def test_a_listening_worker_s_loop_asks_once_what_is_due_for_a_new_task_s_e_mail(shipped, users, agencies, monkeypatch):
    """The loop around ``run_due`` (``Worker.run``, with its listener): the round that sent
    the e-mail found nothing more due, so the worker goes to sleep without asking again (it
    asked twice: once in the round, once more in the loop's next turn, which found nothing).
    The sleep is where it stops here."""
    case = start_prison_case(users, agencies)
    worker = Worker(name="w")
    worker.heartbeat(force=True)
    monkeypatch.setattr(worker, "prune", lambda: False)
    monkeypatch.setattr(worker, "prune_sessions", lambda: False)
    slept = []

    def idle(listener):
        assert listener is not None
        slept.append(worker._next_due_at)
        worker.stop()

    monkeypatch.setattr(worker, "idle", idle)
    with CaptureQueriesContext(connection) as queries:
        assert worker.run() == 1
    assert len(mail.outbox) == 1
    statements = [query["sql"] for query in queries.captured_queries]
    assert len([sql for sql in statements if sql.startswith("SELECT (SELECT due_at")]) == 1, "\n".join(statements)
    # It sleeps until the overdue reminder, which stays pending.
    overdue = Job.objects.get(case=case, kind=JobKind.NOTIFICATION, payload__event="task_overdue")
    assert slept == [overdue.due_at]


def test_a_listening_worker_whose_e_mail_failed_asks_again_for_the_retry(shipped, users, agencies, monkeypatch):
    """A failed e-mail's retry is due later and announced to nobody: the worker asks what is
    due again and sleeps until the retry, not until the overdue reminder."""
    case = start_prison_case(users, agencies)
    worker = Worker(name="w")
    worker.heartbeat(force=True)
    monkeypatch.setattr(notify, "perform", lambda job, tasks: "the mail server is down")
    assert worker.run_due(listening=True) == 1  # tried once
    retry = Job.objects.get(case=case, kind=JobKind.NOTIFICATION, payload__event="task_created")
    assert retry.status == JobStatus.PENDING and retry.attempts == 1
    assert worker._next_due_at == retry.due_at


def _gone_task_e_mail(number: int) -> Job:
    """A new task's e-mail whose task is gone by the time it is sent: done without a call."""
    return Job.objects.create(
        kind=JobKind.NOTIFICATION,
        due_at=queue.now(),
        max_attempts=3,
        payload={"event": "task_created", "task_id": 2_000_000_000 + number, "agency_id": 1, "element_id": "x"},
    )


@pytest.mark.postgres
def test_the_worker_s_statements_for_each_e_mail_are_prepared_on_the_server_and_keep_one_plan():
    """What is due, the claim, the task read and the outcome are parsed and planned once per
    connection (PostgreSQL planned each anew for every new task's e-mail: 1 ms of its CPU of
    the 2.2 ms the worker's statements cost it), and after its five first runs PostgreSQL
    keeps one plan for each instead of planning every run."""
    from permissions.prepared import prepares_statements

    if not prepares_statements(connection):
        pytest.skip("DB_PREPARE_THRESHOLD=0: nothing is prepared")
    worker = Worker(name="w")
    worker.heartbeat(force=True)
    for number in range(8):
        job = _gone_task_e_mail(number)
        assert worker.run_due(listening=True) == 1
        job.refresh_from_db()
        assert (job.status, job.attempts, job.locked_by) == (JobStatus.DONE, 1, "")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements WHERE statement LIKE %s",
            ['%"workflows_%'],
        )
        prepared = [(sql, generic) for sql, generic, _custom in cursor.fetchall()]
        cursor.execute(
            "SELECT statement, custom_plans FROM pg_prepared_statements WHERE statement LIKE %s",
            ['%"workflows_job"%'],
        )
        custom = cursor.fetchall()

    def statement(sql: str) -> str:
        # What is due and the claim run with their one plan (``queue._execute_prepared``'s
        # ``generic``): prepared by name, in the text of their first run.
        if sql.startswith("PREPARE brobygger_generic_"):
            return sql.split(" AS ", 1)[1].split("; SET plan_cache_mode", 1)[0]
        return sql

    def plans(start: str, *within: str) -> list[int]:
        return [
            generic
            for sql, generic in prepared
            if statement(sql).startswith(start) and all(part in statement(sql) for part in within)
        ]

    due = plans('SELECT (SELECT due_at FROM "workflows_job"')
    claim = plans('UPDATE "workflows_job" SET status = ', "SKIP LOCKED")
    done = plans('UPDATE "workflows_job" SET "status" = ', '"id" IN ($')
    task = plans('SELECT "workflows_task"."id"', '"workflows_task"."id" IN ($1)')
    assert due and claim and done and task, prepared
    assert min(due + claim + done + task) >= 1, prepared  # one plan kept and used
    # What is due and the claim never planned for the moment's value: PostgreSQL, left to
    # choose, planned the claim anew on about half its runs once the job table had statistics.
    walks = [
        plans
        for sql, plans in custom
        if statement(sql).startswith(
            ('SELECT (SELECT due_at FROM "workflows_job"', 'UPDATE "workflows_job" SET status = ')
        )
    ]
    assert walks and max(walks) == 0, custom


@pytest.mark.postgres
def test_the_one_plan_kept_for_what_is_due_and_the_claim_walks_the_index():
    """The plan PostgreSQL keeps for a prepared statement is made for any value: one for a
    status sent as a value could not use ``job_due_open`` (an index of pending and running
    jobs only) and read the whole table. The statuses and kinds are written in."""
    from permissions.prepared import numbered_placeholders

    moment = queue.now()
    Job.objects.bulk_create(
        [
            Job(kind=JobKind.NOTIFICATION, status=JobStatus.DONE, due_at=moment - timedelta(minutes=n), payload={})
            for n in range(2000)
        ]
        + [
            Job(kind=JobKind.NOTIFICATION, status=JobStatus.PENDING, due_at=moment + timedelta(days=1, minutes=n))
            for n in range(1000)
        ]
    )
    sent = []

    def keep(execute, sql, params, many, context):
        sent.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(keep):
        queue.due_work([JobKind.ERASURE])
        assert queue.claim_external("w", limit=10) == []
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE workflows_job")
        cursor.execute("SET LOCAL plan_cache_mode = force_generic_plan")
        for number, (sql, params) in enumerate(sent):
            cursor.execute(f"PREPARE probe_{number} AS {numbered_placeholders(sql, len(params))}")
            values = ", ".join("now()" if isinstance(value, datetime) else "'w'" for value in params)
            cursor.execute(f"EXPLAIN EXECUTE probe_{number}({values})")
            plan = "\n".join(row[0] for row in cursor.fetchall())
            cursor.execute(f"DEALLOCATE probe_{number}")
            assert "Seq Scan" not in plan and "job_due_open" in plan, plan
