"""The job table (design §5): enqueue in the caller's transaction, claim, finish, back off.

Timer jobs are fired by ``workflows.jobs.worker`` inside the transaction that holds the
instance lock. External jobs (e-mail, webhooks) are claimed with a lease, performed
outside any transaction by ``workflows.jobs.notify`` and recorded here afterwards.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from django.conf import settings
from django.db import IntegrityError, connection, models, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.db.models.functions import Greatest
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from bpmn.engine import service_tasks as engine_services
from permissions.prepared import execute_through, numbered_placeholders, prepares_statements, quick_new, run_generic
from workflows import selectors
from workflows.jobs.errors import MAX_ERROR, JobError, message_of
from workflows.jobs.models import PRUNED
from workflows.models import Event, EventKind, FinishedExternalTask, Incident, Job, JobKind, JobStatus, ProcessInstance
from workflows.steps import rows

NOTIFY_CHANNEL = "brobygger_jobs"
# Claimed by the workers; external tasks are fetched and locked by an agency's own system.
EXTERNAL_KINDS = (JobKind.NOTIFICATION, JobKind.WEBHOOK, JobKind.SERVICE)
SERVICE_KINDS = (JobKind.SERVICE, JobKind.EXTERNAL_TASK)


@dataclass(frozen=True)
class Retry:
    """An admin's retry of a failed job's incident (``workflows.jobs.incidents``): ``actor``
    (a user; None: the system) resolves the incident when the job passes, in the job's own
    transaction (``record_outcome_resolved``)."""

    actor: Any = None


def now():
    """The job clock (one place, so tests can move it)."""
    return timezone.now()


def conf(name: str):
    return settings.BROBYGGER[name]


def backoff(attempts: int) -> timedelta:
    """Wait before attempt ``attempts + 1``: base * 2**(attempts-1), at most the cap."""
    seconds = conf("JOB_BACKOFF_BASE_SECONDS") * 2 ** max(attempts - 1, 0)
    return timedelta(seconds=min(seconds, conf("JOB_BACKOFF_CAP_SECONDS")))


# --- waking workers: a NOTIFY in the transaction (Batch.notify), polling covers the rest --


def wake_workers() -> None:
    """NOTIFY now, outside a step (a step sends it in its batch: ``Batch.notify``)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"NOTIFY {NOTIFY_CHANNEL}")


def _due_soon(due_at) -> bool:
    return due_at <= now() + timedelta(seconds=conf("JOB_POLL_SECONDS"))


# --- enqueue (inside the state change's transaction) -------------------------------------


def sync_timer_job(instance, previous_due, batch) -> None:
    """Keep exactly one pending timer job per instance, due at its ``next_timer_at``;
    written through the step's ``batch``."""
    due = instance.next_timer_at
    if due == previous_due:
        # Unchanged (most steps): the instance's one pending timer job already has this due
        # time. fire_timer clears ``next_timer_at`` first, as its job is done by then.
        return
    if due is None:
        rows.delete_pending_timer(batch, instance.pk)
        return
    rows.upsert_pending_timer(
        batch,
        quick_new(Job)(
            kind=JobKind.TIMER,
            due_at=due,
            instance_id=instance.pk,
            case_id=instance.case_id,
            max_attempts=conf("JOB_MAX_ATTEMPTS"),
        ),
    )
    if _due_soon(due):
        batch.notify(NOTIFY_CHANNEL)


def enqueue_task_notifications(tasks, batch) -> list[Job]:
    """A task landed in an agency's inbox: tell the agency now, and again if it runs late.
    Written through the step's ``batch``, riding in its next plain insert (``rows._ride``:
    the events'), so the jobs get no key here: nothing in the step reads them, and no
    unique index covers an e-mail's or a webhook's job."""
    jobs = []
    for task in tasks:
        agency = task.agency
        kinds = [
            kind
            for kind, wanted in (
                (JobKind.NOTIFICATION, agency.notification_email),
                (JobKind.WEBHOOK, agency.webhook_url),
            )
            if wanted
        ]
        moments = [("task_created", now())] + ([("task_overdue", task.due_at)] if task.due_at else [])
        for kind in kinds:
            for event, due_at in moments:
                jobs.append(
                    quick_new(Job)(
                        kind=kind,
                        due_at=due_at,
                        instance_id=task.instance_id,
                        case_id=task.case_id,
                        max_attempts=conf("JOB_MAX_ATTEMPTS"),
                        payload={
                            "event": event,
                            "task_id": task.pk,
                            "agency_id": agency.pk,
                            "element_id": task.element_id,
                        },
                    )
                )
    if jobs:
        batch.insert(jobs, rides=True)
        batch.notify(NOTIFY_CHANNEL)  # inside the transaction: PostgreSQL delivers it at commit
    return jobs


# --- service tasks: one job each (inside the step) ---------------------------------------


def enqueue_service_jobs(step, runtime, workflow) -> list[str]:
    """One job per started service task that has none; returns the elements whose external
    task has no participant of its agency kind (the caller opens an incident)."""
    calls = engine_services.waiting_service_calls(workflow)
    if not calls:
        return []
    known = {
        job.payload.get("task_id")
        for job in Job.objects.filter(instance_id=step.instance.pk, kind__in=SERVICE_KINDS).only("payload")
    }
    jobs, unrouted = [], []
    for call in calls:
        if call.task_id in known:
            continue
        declared = runtime.service_tasks.get(call.element_id) or {}
        payload = {"task_id": call.task_id, "element_id": call.element_id, "target": call.target}
        kind = JobKind.SERVICE
        if call.kind == engine_services.EXTERNAL:
            agency = step.agencies().get(declared.get("agency_kind"))
            if agency is None:
                unrouted.append(call.element_id)
                continue
            kind, payload["agency_id"] = JobKind.EXTERNAL_TASK, agency.pk
        jobs.append(
            Job(
                kind=kind,
                due_at=now(),
                instance_id=step.instance.pk,
                case_id=step.instance.case_id,
                max_attempts=conf("JOB_MAX_ATTEMPTS"),
                payload=payload,
            )
        )
    if jobs:
        step.batch.insert(jobs)
        step.batch.notify(NOTIFY_CHANNEL)
    return unrouted


# --- thrown messages: one job each, delivered by ``workflows.jobs.messages`` -----------------


def enqueue_message_jobs(step, outbox_rows) -> None:
    """One ``message`` job per outbox row (the rows have their ids: flushed)."""
    if not outbox_rows:
        return
    step.batch.insert(
        [
            Job(
                kind=JobKind.MESSAGE,
                due_at=now(),
                instance_id=step.instance.pk,
                case_id=step.instance.case_id,
                max_attempts=conf("JOB_MAX_ATTEMPTS"),
                payload={"outbox_id": row.pk, "name": row.name},
            )
            for row in outbox_rows
        ]
    )
    step.batch.notify(NOTIFY_CHANNEL)


# --- external jobs: claim with a lease, record afterwards --------------------------------


def claim_external(worker: str, *, limit: int = 10, job_id=None) -> list[Job]:
    """Lease due external jobs (or one failed job by id, for a retry) to ``worker``, in the
    order they fell due."""
    if job_id is None:
        return _claim_due_external(worker, limit)
    moment = now()
    with transaction.atomic():
        jobs = list(Job.objects.select_for_update().filter(pk=job_id, status=JobStatus.FAILED))
        for job in jobs:
            job.status, job.locked_by = JobStatus.RUNNING, worker
            job.attempts += 1
            job.max_attempts = max(job.max_attempts, job.attempts)
            job.lease_until = moment + timedelta(seconds=conf("JOB_LEASE_SECONDS"))
        Job.objects.bulk_update(jobs, ["status", "locked_by", "attempts", "max_attempts", "lease_until"])
    return jobs


def _claim_due_external(worker: str, limit: int) -> list[Job]:
    """Due external jobs (or ones whose lease ran out) leased in one statement: an ``UPDATE``
    of the rows a ``SKIP LOCKED`` subquery picks, ``RETURNING`` them. It was a transaction
    of four round trips (``BEGIN``, ``SELECT ... FOR UPDATE SKIP LOCKED``, ``UPDATE``,
    ``COMMIT``) for what the worker does for every new task's e-mail."""
    moment = now()
    db = connection
    table = db.ops.quote_name(Job._meta.db_table)
    columns = ", ".join(db.ops.quote_name(field.column) for field in Job._meta.concrete_fields)
    kinds = ", ".join(_literal(kind) for kind in EXTERNAL_KINDS)
    lock = " FOR UPDATE SKIP LOCKED" if db.features.has_select_for_update_skip_locked else ""
    pending, running = _literal(JobStatus.PENDING), _literal(JobStatus.RUNNING)
    # The subquery is the claim the ORM made (``job_due_open`` index, oldest due first); SET's
    # right-hand sides read the row before the update, so max_attempts is at least the new
    # attempts. The statuses, kinds and the limit are written in: prepared on the server,
    # PostgreSQL keeps one plan for it, walking the index (``_execute_prepared``); with the
    # limit a value it found that plan dearer and planned every claim anew.
    sql = (
        f"UPDATE {table} SET status = {running}, locked_by = %s, attempts = attempts + 1, "  # noqa: S608 (table and column names, our constants)
        "max_attempts = CASE WHEN max_attempts > attempts THEN max_attempts ELSE attempts + 1 END, "
        f"lease_until = %s WHERE id IN (SELECT id FROM {table} WHERE kind IN ({kinds}) "
        f"AND ((status = {pending} AND due_at <= %s) OR (status = {running} AND lease_until < %s)) "
        f"ORDER BY due_at, id LIMIT {int(limit)}{lock}) RETURNING {columns}"
    )
    at = db.ops.adapt_datetimefield_value
    params = [worker, at(moment + timedelta(seconds=conf("JOB_LEASE_SECONDS"))), at(moment), at(moment)]
    with connection.cursor() as cursor:
        rows = _fetched(_execute_prepared(cursor, sql, params, generic=True))
    return sorted(_jobs_from_rows(rows), key=lambda job: (job.due_at, job.pk))


def _jobs_from_rows(rows) -> list[Job]:
    """Jobs made of rows of all their columns in field order, as ``Job.objects.raw`` makes
    them (``Model.from_db``, each field's converters from the database), without its work
    per call (the columns matched to the fields, the converters looked up): a tenth of the
    job worker's CPU for each new task's e-mail."""
    found = _JOB_ROWS.get(connection.alias)
    if found is None:
        fields = Job._meta.concrete_fields
        converters = []
        for position, field in enumerate(fields):
            column = field.get_col(Job._meta.db_table)
            applied = connection.ops.get_db_converters(column) + column.get_db_converters(connection)
            if applied:
                converters.append((position, column, applied))
        found = _JOB_ROWS[connection.alias] = ([field.attname for field in fields], converters)
    names, converters = found
    jobs = []
    for row in rows:
        values = list(row)
        for position, column, applied in converters:
            for convert in applied:
                values[position] = convert(values[position], column, connection)
        jobs.append(Job.from_db(connection.alias, names, values))
    return jobs


_JOB_ROWS: dict[str, tuple[list[str], list]] = {}


def release_leases(worker: str) -> int:
    """Give back the jobs ``worker`` holds: it lost its connection while it held them, so
    it cannot record their outcome. Without this they would wait out their lease
    (``JOB_LEASE_SECONDS``). The attempt is not counted: the database failed, not the job.
    A job performed before the connection went is performed again (at least once)."""
    return Job.objects.filter(status=JobStatus.RUNNING, locked_by=worker).update(
        status=JobStatus.PENDING,
        locked_by="",
        lease_until=None,
        due_at=now(),
        attempts=Greatest(F("attempts") - 1, 0),
    )


def release_claimed(jobs, worker: str) -> int:
    """Give back jobs ``worker`` claimed and has not performed (their lease would run out
    before it could): pending again, due as before, the attempt not counted."""
    return Job.objects.filter(pk__in=[job.pk for job in jobs], status=JobStatus.RUNNING, locked_by=worker).update(
        status=JobStatus.PENDING, locked_by="", lease_until=None, attempts=Greatest(F("attempts") - 1, 0)
    )


def finish_external(
    job: Job, worker: str, error: str | None, *, final: bool = False, retry: Retry | None = None
) -> Job | None:
    """Record the outcome of a leased job. None when the lease was lost meanwhile. ``final``:
    the error is one no retry changes, so the job fails now, with its incident. ``retry``:
    an admin's retry, whose actor resolves the incident with the outcome."""
    if error is None:
        if retry is not None:
            with transaction.atomic():
                return _finish_done(job, worker, retry)
        return _finish_done(job, worker)
    with transaction.atomic():
        row = Job.objects.select_for_update().filter(pk=job.pk, status=JobStatus.RUNNING, locked_by=worker).first()
        if row is None:
            return None
        if final:
            row.max_attempts = row.attempts
        record_outcome(row, error)
    selectors.keep_literals_ever(row, job)  # the worker's log line scrubs with them too
    return row


def _finish_done(job: Job, worker: str, retry: Retry | None = None) -> Job | None:
    """A success in one statement (no lock, no read): the row is updated only while
    ``worker`` still holds its lease, as ``record_outcome`` would write it."""
    done = _done_fields()
    if not _mark_done([job], worker, done):
        return None
    for field, value in done.items():
        setattr(job, field, value)
    if job.attempts > 1 or retry is not None:  # an incident is opened only after a failed last attempt
        record_outcome_resolved(job, retry)
    return job


def finish_first_attempts_done(jobs, worker: str) -> int:
    """Jobs that succeeded at their first attempt, recorded together in one statement as
    ``_finish_done`` records each (a row whose lease ``worker`` lost meanwhile is left to
    the worker that holds it). A first attempt has no incident to resolve."""
    if any(job.attempts > 1 for job in jobs):
        raise ValueError("a job past its first attempt may have an incident: finish it with finish_external")
    return _mark_done(jobs, worker, _done_fields()) if jobs else 0


def _done_fields() -> dict:
    return {
        "status": JobStatus.DONE,
        "finished_at": now(),
        "last_error": "",
        "last_error_message": None,
        "lease_until": None,
        "locked_by": "",
    }


def _mark_done(jobs, worker: str, done: dict) -> int:
    """``done`` written to those of ``jobs`` that ``worker`` still holds. On PostgreSQL one
    statement made once per set of fields and number of jobs (up to a worker's batch, then
    ``id = ANY(...)``): the ORM built the ``UPDATE`` anew for every e-mail the worker sent.
    Prepared on the server: an ``IN`` of as many ids as there are jobs, so the one plan
    PostgreSQL keeps is the one each run had (it took an ``ANY`` of an array for ten ids,
    found that plan dearer than a run's and planned each run anew)."""
    ids = [job.pk for job in jobs]
    if connection.vendor != "postgresql":
        held = Job.objects.filter(pk__in=ids, status=JobStatus.RUNNING, locked_by=worker)
        return held.update(**done)
    names = tuple(done)
    fields = {field.name: field for field in Job._meta.concrete_fields}
    shape = (names, len(ids) if len(ids) <= _MARK_DONE_PREPARED_UP_TO else None)
    sql = _MARK_DONE_SQL.get(shape)
    if sql is None:
        quote = connection.ops.quote_name
        sets = ", ".join(f"{quote(fields[name].column)} = %s" for name in names)
        chosen = f"IN ({', '.join(['%s'] * len(ids))})" if shape[1] else "= ANY(%s)"
        sql = _MARK_DONE_SQL[shape] = (
            f"UPDATE {quote(Job._meta.db_table)} SET {sets} "  # noqa: S608 (our own table and columns)
            f"WHERE {quote('id')} {chosen} AND {quote('status')} = {_literal(JobStatus.RUNNING)} "
            f"AND {quote('locked_by')} = %s"
        )
    values = [fields[name].get_db_prep_save(done[name], connection) for name in names]
    with connection.cursor() as cursor:
        if shape[1]:
            _execute_prepared(cursor, sql, [*values, *ids, worker])  # by key: one plan serves every run
        else:
            cursor.execute(sql, [*values, ids, worker])
        return cursor.rowcount


_MARK_DONE_PREPARED_UP_TO = 10  # a worker's batch (``worker.EXTERNAL_BATCH``)
_MARK_DONE_SQL: dict[tuple[tuple[str, ...], int | None], str] = {}


def record_outcome(row: Job, error: str | None, *, retry: Retry | None = None) -> None:
    """Done, or back off, or (after the last attempt) failed with an incident. Row locked.
    ``error``: a ``JobError`` (ours: its message is stored too, to be shown in the reader's
    language) or another system's text. ``retry``: done by an admin's retry, who resolves
    the incident."""
    moment = now()
    row.lease_until, row.locked_by = None, ""
    if error is None:
        row.status, row.finished_at, row.last_error, row.last_error_message = JobStatus.DONE, moment, "", None
        row.save()
        record_outcome_resolved(row, retry)
        return
    # Kept as shown: another system's words scrubbed of every value the case holds and held.
    # Not a notification's: it sends the case's reference and a link only, so nothing it is
    # answered can hold a value (and a worker's batch of them failing reads nothing per job).
    if row.kind not in (JobKind.NOTIFICATION, JobKind.WEBHOOK):
        error = selectors.error_kept(row, error)
    row.last_error, row.last_error_message = error[:MAX_ERROR], message_of(error)
    if row.attempts < row.max_attempts:
        row.status, row.due_at = JobStatus.PENDING, moment + backoff(row.attempts)
        row.save()
        if row.kind in KEEP_TRYING and row.attempts >= conf("JOB_MAX_ATTEMPTS"):
            _record_incident(row)
        return
    row.status, row.finished_at = JobStatus.FAILED, moment
    if row.kind in PAYLOAD_KEPT_WHEN_FAILED:
        kept = PAYLOAD_KEPT_WHEN_FAILED[row.kind]
        row.payload = {key: value for key, value in (row.payload or {}).items() if key in kept}
    row.save()
    _record_incident(row)


# Kinds whose jobs never give up (a file to delete: the job is the only record of it), but
# whose failures an admin must see: past the attempts other jobs get (``JOB_MAX_ATTEMPTS``)
# each failed attempt opens (or counts on) an incident while the job goes on trying, and the
# attempt that passes resolves it. Filled by the modules that register such kinds.
KEEP_TRYING: set[str] = set()
# Kinds whose payload holds what someone typed (a password-reset mail's address): failed for
# good, the job keeps only these keys. Its incident stays open until an admin retries it,
# which then sends nothing (the person asks again) and resolves it; the address is not kept
# for as long as the incident is open. Filled as ``KEEP_TRYING``.
PAYLOAD_KEPT_WHEN_FAILED: dict[str, tuple[str, ...]] = {}
# Kinds of jobs whose failures of one kind (the job's kind, its agency and its error, a
# ``JobError``'s code and params) fold into one open incident, counted (``occurrences``) with
# the last one's time: each request's password-reset mail the mail server refuses the same
# way opened an incident of its own (three an hour per address, thirty per client), which
# told the admins nothing more and buried the others; so did each new task's e-mail or
# webhook call to an agency whose address is wrong or whose system is down (two a task, on
# every case the agency works). The folded incident is the agency's (or the mail server's),
# not a case's: it has none, as its jobs come from many. Filled as ``KEEP_TRYING`` too.
FOLDED: set[str] = {JobKind.NOTIFICATION, JobKind.WEBHOOK}


def _record_incident(row: Job) -> None:
    """Open the incident of ``row`` (failed), or count this attempt on the one open. The text
    is the job's error (ours: a code and the exception's class, never the payload). Every
    kind of job has one: a job with a case but no instance (an erasure, an archive export, a
    message whose sender is gone) has it on the case's first instance, or on the case alone
    when it has none; a job of no case (a file's deletion, a password-reset mail) on neither
    (workflows 0061). Until 2026-12-06 only deletions were seen without an instance: an
    archive export or a message that failed for good then left no trace an admin could see."""
    open_incident = Incident.objects.filter(job=row, resolved_at__isnull=True).first()
    if open_incident is not None:
        open_incident.attempts, open_incident.error = row.attempts, row.last_error
        open_incident.error_message = row.last_error_message
        open_incident.save(update_fields=["attempts", "error", "error_message"])
        return
    if row.kind in FOLDED:
        _record_folded_incident(row)
        return
    instance_id = row.instance_id
    if instance_id is None and row.case_id is not None:
        instances = ProcessInstance.objects.filter(case_id=row.case_id).order_by("pk")
        instance_id = instances.values_list("pk", flat=True).first()
    Incident.objects.create(
        instance_id=instance_id,
        case_id=row.case_id,
        job=row,
        kind=f"{row.kind}-failed",
        element_id=(row.payload or {}).get("element_id", ""),
        error=row.last_error,
        error_message=row.last_error_message,
        attempts=row.attempts,
    )


def fold_key(row: Job) -> str:
    """What failures fold by: the job's kind, its agency (a notification's: another agency's
    address failing is another fault) and its error (a ``JobError``'s code and params, else
    its text), as a digest."""
    said = row.last_error_message if row.last_error_message is not None else row.last_error
    parts = [row.kind, said]
    agency = (row.payload or {}).get("agency_id")
    if agency is not None:  # none: a key as before agencies were part of it (open incidents keep theirs)
        parts.append(agency)
    text = json.dumps(parts, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def _record_folded_incident(row: Job) -> None:
    """Count this failure on the open incident of its kind (``fold_key``), or open it. It then
    names this job (the latest, which its retry runs and resolves it by). Two workers failing
    at once: the unique index on open incidents' keys lets one open it; the other's insert
    waits for it, fails, and counts on it."""
    key, moment = fold_key(row), now()
    for _attempt in range(2):
        open_incident = _open_folded(key)
        if open_incident is not None:
            open_incident.occurrences += 1
            open_incident.last_occurred_at, open_incident.job, open_incident.attempts = moment, row, row.attempts
            open_incident.save(update_fields=["occurrences", "last_occurred_at", "job", "attempts"])
            return
        try:
            with transaction.atomic():
                Incident.objects.create(
                    job=row,
                    kind=f"{row.kind}-failed",
                    # One case's element would name the fault of many: none (the kind says it).
                    element_id="" if row.case_id is not None else (row.payload or {}).get("element_id", ""),
                    error=row.last_error,
                    error_message=row.last_error_message,
                    attempts=row.attempts,
                    fold_key=key,
                    last_occurred_at=moment,
                )
            return
        except IntegrityError:
            continue  # opened meantime by another worker: count on it
    raise RuntimeError("the folded incident could be neither opened nor found")


def _open_folded(key: str) -> Incident | None:
    return Incident.objects.select_for_update().filter(fold_key=key, resolved_at__isnull=True).first()


def release_external_task(job: Job, retry: Retry | None = None) -> str | None:
    """A failed external task is offered to the agency's system again (one more attempt)."""
    with transaction.atomic():
        row = Job.objects.select_for_update().filter(pk=job.pk, status=JobStatus.FAILED).first()
        if row is None:
            return JobError("job.retry.not_failed")
        row.status, row.due_at, row.finished_at = JobStatus.PENDING, now(), None
        row.max_attempts = row.attempts + 1
        row.save(update_fields=["status", "due_at", "finished_at", "max_attempts"])
        record_outcome_resolved(row, retry)
    return None


def record_outcome_resolved(row: Job, retry: Retry | None = None) -> int:
    """Resolve the open incident of ``row``; how many it resolved (0: someone else had).

    ``retry``: an admin's retry passed: its actor resolves it, and the case's timeline says
    so, in the caller's transaction (the job's outcome): who resolved it was written after
    that transaction, so a crash between the two left a resolved incident without its
    resolver, and a second admin's retry that found the job done resolved the incident of
    the run the first admin made."""
    open_incidents = Incident.objects.filter(job=row, resolved_at__isnull=True)
    if retry is None:
        return open_incidents.update(resolved_at=now())
    actor = retry.actor if retry.actor is not None and retry.actor.is_authenticated else None
    resolved = 0
    with transaction.atomic():  # the caller's (a savepoint), or its own for a job found done
        for incident in open_incidents.select_for_update().order_by("pk"):
            incident.resolved_at, incident.resolved_by = now(), actor
            incident.save(update_fields=["resolved_at", "resolved_by"])
            if incident.case_id is None:  # no timeline to tell
                resolved += 1
                continue
            Event.objects.create(
                case_id=incident.case_id,
                instance_id=incident.instance_id,
                kind=EventKind.INCIDENT_RESOLVED,
                actor=actor,
                element_id=incident.element_id,
                detail={"incident": incident.pk, "job": incident.job_id},
            )
            resolved += 1
    return resolved


# --- pruning: finished jobs are deleted after ``JOB_DONE_KEEP_DAYS`` ------------------------

PRUNE_BATCH = 1000


def prune_finished(*, limit: int | None = None) -> int:
    """Delete up to ``limit`` (``PRUNE_BATCH``) jobs done, cancelled or failed more than
    ``JOB_DONE_KEEP_DAYS`` ago; returns how many. A job an open incident names stays (its retry
    runs it again), and one whose incident was resolved less than ``JOB_DONE_KEEP_DAYS`` ago
    (the incident list shows it); the rows that name a job forget it (their ``on_delete`` is
    ``SET_NULL``: a resolved incident keeps its own error, attempts and who resolved it); an
    external task's key is kept (``FinishedExternalTask``). On PostgreSQL one
    statement over the ``job_prunable`` index whose rows are taken with ``SKIP LOCKED``: two
    workers pruning at once delete different rows and never wait for each other."""
    cutoff, limit = now() - timedelta(days=conf("JOB_DONE_KEEP_DAYS")), limit or PRUNE_BATCH
    if connection.vendor != "postgresql":  # SQLite (the demo): one writer, no DML in WITH
        ids = list(_prunable(cutoff).values_list("pk", flat=True)[:limit])
        _keep_external_task_keys(ids)
        return Job.objects.filter(pk__in=ids).delete()[1].get(Job._meta.label, 0)
    ops = connection.ops
    table = ops.quote_name(Job._meta.db_table)
    incident = ops.quote_name(Incident._meta.db_table)
    # Table and column names only: the values travel as parameters.
    forgets = "".join(
        f"forget_{index} AS (UPDATE {ops.quote_name(name)} SET {ops.quote_name(column)} = NULL "  # noqa: S608
        f"WHERE {ops.quote_name(column)} IN (SELECT id FROM doomed)), "
        for index, (name, column) in enumerate(_naming_models())
    )
    statuses = ", ".join(["%s"] * len(PRUNED))
    doomed = (
        f"SELECT id FROM {table} WHERE status IN ({statuses}) AND finished_at < %s "  # noqa: S608
        f"AND NOT EXISTS (SELECT 1 FROM {incident} WHERE job_id = {table}.id "
        "AND (resolved_at IS NULL OR resolved_at >= %s)) "
        "ORDER BY finished_at LIMIT %s FOR UPDATE SKIP LOCKED"
    )
    finished = ops.quote_name(FinishedExternalTask._meta.db_table)
    # An external task's key outlives its job (``FinishedExternalTask``): a late answer is 409.
    keeps = (
        f"keep AS (INSERT INTO {finished} (delivery_key, agency_id, case_id, status, finished_at) "  # noqa: S608
        f"SELECT delivery_key, (payload->>'agency_id')::bigint, case_id, status, finished_at FROM {table} "
        "WHERE id IN (SELECT id FROM doomed) AND kind = %s AND case_id IS NOT NULL "
        "AND jsonb_typeof(payload->'agency_id') = 'number' ON CONFLICT DO NOTHING), "
    )
    gone = f"DELETE FROM {table} WHERE id IN (SELECT id FROM doomed) RETURNING 1"  # noqa: S608
    sql = f"WITH doomed AS ({doomed}), {keeps}{forgets}gone AS ({gone}) SELECT COUNT(*) FROM gone"  # noqa: S608
    with connection.cursor() as cursor:
        moment = ops.adapt_datetimefield_value(cutoff)
        cursor.execute(sql, [*PRUNED, moment, moment, limit, JobKind.EXTERNAL_TASK.value])
        return cursor.fetchone()[0]


def _prunable(cutoff):
    needed = Incident.objects.filter(Q(resolved_at__isnull=True) | Q(resolved_at__gte=cutoff), job=OuterRef("pk"))
    return Job.objects.filter(status__in=PRUNED, finished_at__lt=cutoff).exclude(Exists(needed))


def _keep_external_task_keys(job_ids) -> None:
    """SQLite: what the statement's ``keep`` does on PostgreSQL."""
    rows = Job.objects.filter(pk__in=job_ids, kind=JobKind.EXTERNAL_TASK, case_id__isnull=False)
    FinishedExternalTask.objects.bulk_create(
        [
            FinishedExternalTask(
                delivery_key=job.delivery_key,
                agency_id=job.payload["agency_id"],
                case_id=job.case_id or 0,  # never 0: the rows are read with a case
                status=job.status,
                finished_at=job.finished_at,
            )
            for job in rows
            if isinstance((job.payload or {}).get("agency_id"), int)
        ],
        ignore_conflicts=True,
    )


def _naming_models() -> list[tuple[str, str]]:
    """The other tables whose rows name a job (an archive export, an erasure record, a
    resolved incident) and the column that does: each forgets a pruned job, as its
    ``SET_NULL`` says. An open incident's job is not pruned."""
    named = []
    for relation in Job._meta.get_fields(include_hidden=True):  # ``related_name="+"`` too
        model = relation.related_model
        if not isinstance(relation, models.ForeignObjectRel):
            continue
        if relation.on_delete is not models.SET_NULL:
            raise ValueError(f"{relation.name} names a job without SET_NULL: prune it first")
        named.append((model._meta.db_table, relation.field.column))  # type: ignore[union-attr]
    return named


def record_failed_attempt(job_id: int, error: str) -> None:
    """A job that failed inside a rolled-back transaction (a timer): count the attempt."""
    with transaction.atomic():
        row = Job.objects.select_for_update().filter(pk=job_id).first()
        if row is None or row.status not in (JobStatus.PENDING, JobStatus.RUNNING):
            return
        row.attempts += 1
        record_outcome(row, error)


@dataclass(frozen=True)
class Due:
    """What a worker would find if it tried each of its claims now, and when the earliest
    pending job it works is due (``due_work``)."""

    timers: bool
    external: bool
    handled: bool
    next_due_at: datetime | None
    # The earliest pending job it works that was not yet due when asked: when it sleeps
    # after claiming every due job, the next one to wake for (``Worker.run_due``).
    next_later_at: datetime | None = dataclasses.field(default=None, compare=False)

    @property
    def anything(self) -> bool:
        return self.timers or self.external or self.handled


def due_work(handled_kinds) -> Due:
    """One statement in place of the worker's empty claims: whether a timer, an external
    job (due, or its lease run out) or a job of ``handled_kinds`` is due, and when the
    earliest pending job a worker works is due. Each part walks the ``job_due_open`` index over due rows only
    (the pending overdue reminders, due days later, are not read). A claim may still find
    nothing (another worker took the job, or its instance is locked): this only saves the
    claims that would surely find nothing. Prepared on the server (``_execute_prepared``):
    the moment is its only value, the statuses and kinds are written in, so the one plan
    PostgreSQL keeps for it walks the index as each run's own plan did."""
    handled_kinds = tuple(handled_kinds)
    sql = _DUE_WORK_SQL.get(handled_kinds)
    if sql is None:
        sql = _DUE_WORK_SQL[handled_kinds] = _due_work_sql(handled_kinds)
    with connection.cursor() as cursor:
        ((timers, external, handled, next_due, next_later),) = _fetched(
            _execute_prepared(cursor, sql, [now()] * sql.count("%s"), generic=True)
        )
    return Due(bool(timers), bool(external), bool(handled), _moment(next_due), _moment(next_later))


_DUE_WORK_SQL: dict[tuple[str, ...], str] = {}


def _due_work_sql(handled_kinds: tuple[str, ...]) -> str:
    table = connection.ops.quote_name(Job._meta.db_table)
    # An external task waits for an agency's system, not for a worker: it must not wake one.
    worked = (JobKind.TIMER, *EXTERNAL_KINDS, *handled_kinds)
    pending, running = _literal(JobStatus.PENDING), _literal(JobStatus.RUNNING)

    def kinds_in(kinds) -> str:
        return "kind IN (" + ", ".join(_literal(kind) for kind in kinds) + ")" if kinds else "FALSE"

    def earliest(condition: str) -> str:
        # The earliest due time in ``job_due_open``'s order rather than an EXISTS or a MIN
        # (which PostgreSQL plans without the order): with the table's statistics
        # (autovacuum's ANALYZE) it counted the finished jobs' past due times as due and,
        # expecting a match among the first rows, read the whole table for each EXISTS, in
        # every round of every worker (4.7 ms at 3,900 jobs, growing with them). In the
        # index's order a scan has no cheaper first row: the index is walked over the due
        # rows only (``tests/workflows/jobs/test_worker_statements.py``).
        return f"(SELECT due_at FROM {table} WHERE status = {pending} AND {condition} ORDER BY due_at LIMIT 1)"  # noqa: S608 (our own names and constants)

    lease_run_out = f"status = {running} AND lease_until < %s AND {kinds_in(EXTERNAL_KINDS)}"
    return (
        f"SELECT {earliest('due_at <= %s AND ' + kinds_in([JobKind.TIMER]))} IS NOT NULL, "  # noqa: S608 (values travel as parameters)
        f"{earliest('due_at <= %s AND ' + kinds_in(EXTERNAL_KINDS))} IS NOT NULL "
        f"OR EXISTS(SELECT 1 FROM {table} WHERE {lease_run_out}), "
        f"{earliest('due_at <= %s AND ' + kinds_in(handled_kinds))} IS NOT NULL, "
        f"{earliest('due_at IS NOT NULL AND ' + kinds_in(worked))}, "
        f"{earliest('due_at > %s AND ' + kinds_in(worked))}"
    )


def _literal(value: str) -> str:
    """One of our own statuses or kinds as an SQL literal: written into a prepared statement
    instead of sent as a value, so PostgreSQL's one plan for it can use the partial indexes
    (``job_due_open``: a plan for any status could not)."""
    if not value.replace("_", "").isalpha() or not value.islower():
        raise ValueError("a status or kind is lower-case letters and underscores")
    return f"'{value}'"


def _execute_prepared(cursor, sql: str, params: list, *, generic: bool = False):
    """``cursor.execute(sql, params)``, prepared on the server where statements may be
    (``permissions.prepared.prepares_statements``): the worker sends its statements for every
    job, and PostgreSQL planned each anew (0.3-0.4 ms of its CPU for what is due, whose run
    takes 0.05 ms). Only statements whose one plan serves every value: each is a read or
    write by key or the ``job_due_open`` walk, its statuses written in (``_literal``).

    ``generic``: run with that one plan whatever PostgreSQL would choose
    (``permissions.prepared.run_generic``), for the ``job_due_open`` walks. Once the job
    table had statistics (autovacuum's ``ANALYZE``, every few seconds for a table that churns
    so), PostgreSQL found a plan for the moment's value cheaper than the one for any value and
    planned the claim anew on about half its runs; the one plan walks the index as those do
    (``test_the_one_plan_kept_for_what_is_due_and_the_claim_walks_the_index``). Returns the
    cursor to read: Django's, or a raw one the caller closes after reading."""
    if not prepares_statements(cursor.db):
        cursor.execute(sql, params)
        return cursor
    if generic:
        return run_generic(cursor, sql, _numbered_once(sql, len(params)), params)
    execute_through(
        cursor, sql, params, lambda psycopg_cursor, sql, params: psycopg_cursor.execute(sql, params, prepare=True)
    )
    return cursor


@functools.lru_cache(maxsize=64)
def _numbered_once(sql: str, count: int) -> str:
    return numbered_placeholders(sql, count)


def _fetched(cursor) -> list:
    """The rows at ``cursor`` (``_execute_prepared``'s), a raw one closed after."""
    try:
        return cursor.fetchall()
    finally:
        if isinstance(cursor, psycopg.RawCursor):
            cursor.close()


def _moment(value) -> datetime | None:
    if isinstance(value, str):  # SQLite answers a timestamp as text
        value = parse_datetime(value)
    if value is not None and timezone.is_naive(value):
        value = timezone.make_aware(value, UTC)
    return value
