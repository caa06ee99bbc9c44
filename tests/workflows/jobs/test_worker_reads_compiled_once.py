"""What the job worker does for each new task's e-mail, without building querysets anew
(README "Production server", the job worker): the jobs' tasks are read by a statement
compiled once per number of ids, with only the fields a call uses, and the successes are
recorded by one ``UPDATE`` made once. The tasks, the e-mails and the recorded rows are what
they were."""

from contextlib import contextmanager

import pytest
from django.core import mail
from django.db import connection
from django.db.models.sql.compiler import SQLCompiler, SQLUpdateCompiler

from tests.workflows.helpers import start_prison_case
from workflows.jobs import notify, queue, service
from workflows.models import Job, JobKind, JobStatus, Task


@contextmanager
def compilations():
    """How many querysets were compiled to SQL meanwhile."""
    counted = {"n": 0}
    originals = {compiler: compiler.__dict__["as_sql"] for compiler in (SQLCompiler, SQLUpdateCompiler)}

    def counting(original):
        def as_sql(self, *args, **kwargs):
            counted["n"] += 1
            return original(self, *args, **kwargs)

        return as_sql

    for compiler, original in originals.items():
        compiler.as_sql = counting(original)
    try:
        yield counted
    finally:
        for compiler, original in originals.items():
            compiler.as_sql = original


def _task_created_jobs(case):
    return list(Job.objects.filter(case=case, kind=JobKind.NOTIFICATION, payload__event="task_created").order_by("pk"))


@pytest.mark.django_db
def test_the_jobs_tasks_are_the_orms_tasks_read_without_building_a_queryset(shipped, users, agencies):
    case = start_prison_case(users, agencies)
    jobs = _task_created_jobs(case)
    assert jobs
    notify.tasks_of(jobs)  # the first call of this number of ids compiles its statement
    with compilations() as counted:
        found = notify.tasks_of(jobs)
        again = notify.tasks_of(jobs[:1])
        notify.tasks_of(jobs[:1])
    assert counted["n"] <= 1  # one number of ids met for the first time here, at most
    expected = Task.objects.select_related("agency", "case").filter(pk__in=[job.payload["task_id"] for job in jobs])
    assert set(found) == {task.pk for task in expected}
    assert set(again) == {jobs[0].payload["task_id"]}
    for task in expected:
        read = found[task.pk]
        assert read.is_active == task.is_active
        assert read.case.reference == task.case.reference
        for field in ("name", "notification_email", "webhook_url", "webhook_secret"):
            assert getattr(read.agency, field) == getattr(task.agency, field)
    # A call reads nothing else of the task (the case's data above all): no more statements.
    assert "data" in found[jobs[0].payload["task_id"]].case.get_deferred_fields()


@pytest.mark.django_db
@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="PostgreSQL's own statements (the UPDATE built once, the plan) are what it checks",
)
def test_a_batch_sends_its_e_mails_and_records_only_the_jobs_its_worker_holds(shipped, users, agencies):
    case = start_prison_case(users, agencies)
    claimed = queue.claim_external("w1", limit=10)
    assert claimed and {job.kind for job in claimed} == {JobKind.NOTIFICATION}
    # One of them was taken over by another worker meanwhile (its lease ran out).
    lost = claimed[-1]
    Job.objects.filter(pk=lost.pk).update(locked_by="w2")
    mail.outbox.clear()
    notify.tasks_of(claimed)  # this number of ids compiled (the first batch of its size in the process)
    with compilations() as counted:
        service.perform_claimed_batch(claimed, "w1")
    sent = {message.subject for message in mail.outbox}
    assert sent == {f"Ny oppgave i sak {case.reference}"}
    assert len(mail.outbox) == len([job for job in claimed if job.payload.get("event") == "task_created"])
    kept = {job.pk for job in claimed} - {lost.pk}
    rows = {job.pk: job for job in Job.objects.filter(pk__in=[job.pk for job in claimed])}
    for pk in kept:
        row = rows[pk]
        assert (row.status, row.locked_by, row.lease_until, row.last_error, row.last_error_message) == (
            JobStatus.DONE,
            "",
            None,
            "",
            None,
        )
        assert row.finished_at is not None
    assert (rows[lost.pk].status, rows[lost.pk].locked_by) == (JobStatus.RUNNING, "w2")
    # The tasks read and the successes recorded without building a queryset.
    assert counted["n"] == 0
    assert queue.finish_first_attempts_done([rows[lost.pk]], "w1") == 0


@pytest.mark.django_db
def test_claimed_jobs_are_the_rows_as_the_orm_reads_them(shipped, users, agencies):
    start_prison_case(users, agencies)
    claimed = queue.claim_external("w1", limit=10)
    assert claimed
    for job in claimed:
        stored = Job.objects.get(pk=job.pk)
        for field in Job._meta.concrete_fields:
            assert getattr(job, field.attname) == getattr(stored, field.attname), field.name
        assert isinstance(job.payload, dict) and job.payload["event"] in ("task_created", "task_overdue")
        assert (job.status, job.locked_by, job.attempts) == (JobStatus.RUNNING, "w1", 1)
        assert not job._state.adding and job._state.db == "default"
