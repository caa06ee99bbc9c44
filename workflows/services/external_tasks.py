"""External tasks in Camunda's style: an agency's own system fetches and locks the service
tasks of its topics, then completes them (or reports a failure).

A task is fetched only by a user of the agency it was routed to (its API token); the lock
is a lease on the job row (``lease_until``). A worker that dies leaves the lease to run
out, and the task is fetched again; completing needs the lease (same worker, not run out),
under the job row's lock, so of two completions exactly one wins and the task completes
once. Fetching is an export of the fields the task declares that the agency may receive
(each computed only from case data a member of the agency sees: ``rules.agency_may_receive``;
the others are withheld, as the task page masks them): one access-log row per data category
sent (a field's own and that of the data it carries), by the fetching user.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.db import transaction
from django.db.models import Q

from bpmn.engine.errors import EngineError, TaskStateError
from core.errors import Conflict, InvalidInput, NotFound, field_error
from permissions import policy, rules
from permissions.models import AccessAction, AccessLog, Agency
from workflows import steps
from workflows.jobs import queue, service
from workflows.jobs.errors import JobError
from workflows.models import FinishedExternalTask, Job, JobKind, JobStatus
from workflows.steps.runner import engine_detail

MAX_LOCK_SECONDS = 24 * 3600
MAX_TASKS = 100


def _worker_key(actor, worker_id: str) -> str:
    # One namespace per user: another user's worker id never matches this lock.
    return f"{actor.pk}:{worker_id}"[:200]


def _lock_seconds(index: int, seconds: float) -> float:
    """The lock a topic asked for, as asked (to the millisecond): one outside 1 s to
    ``MAX_LOCK_SECONDS`` is refused naming the topic's ``lockDuration``. It was cut to 24
    hours without a word, so a system that asked for two days lost its lock after one."""
    if not 1 <= seconds <= MAX_LOCK_SECONDS:
        code, limit = ("field.min_value", 1000) if seconds < 1 else ("field.max_value", MAX_LOCK_SECONDS * 1000)
        error = field_error(f"topics.{index}.lockDuration", code, limit=limit)
        raise InvalidInput("external_task.fetch_invalid", errors=[error])
    return seconds


def fetch_and_lock(*, actor, worker_id: str, topics: list[dict], max_tasks: int) -> list[dict]:
    """Lock up to ``max_tasks`` due external tasks of ``topics`` ({topic, lock_seconds})
    routed to the actor's agencies; each with the fields it declares."""
    agencies = rules.external_task_agency_ids(actor)
    if not agencies or not topics:
        return []
    lock_for = {entry["topic"]: _lock_seconds(index, entry["lock_seconds"]) for index, entry in enumerate(topics)}
    moment = queue.now()
    with transaction.atomic():
        jobs = list(
            Job.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("instance", "case")
            .filter(kind=JobKind.EXTERNAL_TASK, payload__target__in=list(lock_for))
            .filter(rules.external_tasks_kept(actor))
            .filter(
                Q(status=JobStatus.PENDING, due_at__lte=moment) | Q(status=JobStatus.RUNNING, lease_until__lt=moment)
            )
            .order_by("due_at", "id")[: min(max_tasks, MAX_TASKS)]
        )
        fetched = []
        for job in jobs:
            try:
                variables, reads = service.service_inputs_and_reads(job)
            except TaskStateError as exc:  # the task no longer waits: nothing to do
                error = JobError("job.task_no_longer_waits", detail=engine_detail(exc))
                job.status, job.finished_at, job.last_error = JobStatus.CANCELLED, moment, error
                job.last_error_message = error.message.as_json()
                job.save(update_fields=["status", "finished_at", "last_error", "last_error_message"])
                continue
            except EngineError as exc:
                # A field cannot be computed from the case's data: the same data fails the same
                # way, so the job fails at once with an incident (the case would otherwise wait
                # unseen); the process admin retries it once the data or the model is mended.
                job.attempts += 1
                job.max_attempts = job.attempts
                queue.record_outcome(job, JobError("job.service.field_failed", detail=engine_detail(exc)))
                continue
            agency = Agency.objects.filter(pk=job.payload.get("agency_id")).first()
            # The agency's system gets what a member of the agency sees (the task page's masks).
            variables, grounds = (
                service.receivable_with_grounds(job, agency, variables, reads) if agency is not None else ({}, [])
            )
            job.status, job.locked_by = JobStatus.RUNNING, _worker_key(actor, worker_id)
            job.lease_until = moment + timedelta(seconds=lock_for[job.payload["target"]])
            job.save(update_fields=["status", "locked_by", "lease_until"])
            _log_export(actor, job, agency, variables, reads, grounds)
            fetched.append(
                {
                    "id": job.delivery_key,
                    "topic": job.payload["target"],
                    "element_id": job.payload.get("element_id", ""),
                    "case_reference": job.case.reference if job.case else "",
                    "variables": variables,
                    "lock_expires_at": job.lease_until,
                    "retries": max(job.max_attempts - job.attempts, 0),
                }
            )
    return fetched


def _log_export(actor, job: Job, agency: Agency | None, variables: dict, reads: dict, grounds) -> None:
    """One ``export`` row per category the variables carry, on the external task as its basis,
    or on the person's consent (or a recorded legal basis) for a category that left only on
    it (``grounds``: ``service.receivable_with_grounds``), as a read of the page is logged."""
    instance, case = job.instance, job.case
    if instance is None or case is None:
        return
    categories = service.carried_categories(job, variables, reads)
    consented = policy.consent_grounds(grounds)
    basis = f"external-task:{job.payload.get('element_id', '')}"
    AccessLog.objects.bulk_create(
        AccessLog(
            user=actor,
            username=actor.get_username(),
            agency=agency,
            case_id=job.case_id,
            person_id=case.person_id,
            category=category,
            action=AccessAction.EXPORT,
            basis=shown_basis[:300],
            consent=consent,
            item=f"external-task:{job.pk}",
        )
        for category in categories
        for shown_basis, consent in policy.export_bases(consented, category, basis)
    )


def _locked_job(actor, task_id, worker_id: str) -> Job:
    """The job whose random key fetch-and-lock gave as the task's id, locked; NotFound unless
    it is an external task of the actor's agencies, Conflict unless this worker holds its lease."""
    try:
        key = uuid.UUID(str(task_id))
    except ValueError:
        raise NotFound("external_task.not_found") from None
    agencies = rules.external_task_agency_ids(actor)
    job = (
        Job.objects.select_for_update()
        .filter(delivery_key=key, kind=JobKind.EXTERNAL_TASK, payload__agency_id__in=agencies or [0])
        .first()
    )
    if job is None:
        raise _finished_or_unknown(key, agencies)
    if not rules.agency_keeps_case(job.payload.get("agency_id"), job.case_id):
        raise NotFound("external_task.not_found")  # also once the agency's access was withdrawn
    if job.status in (JobStatus.DONE, JobStatus.CANCELLED):
        raise _finished(job.status)
    holds = (
        job.status == JobStatus.RUNNING
        and job.locked_by == _worker_key(actor, worker_id)
        and job.lease_until is not None
        and job.lease_until >= queue.now()
    )
    if not holds:
        raise Conflict("external_task.not_locked")
    return job


def _finished(status: str) -> Conflict:
    """A task finished already: told so (409) to the agency's system that had it."""
    return Conflict("external_task.done" if status == JobStatus.DONE else "external_task.gone")


def _finished_or_unknown(key: uuid.UUID, agencies) -> Conflict | NotFound:
    """A key whose job is gone (pruned): 409 when it was an external task of the caller's
    agencies that finished, while that agency still takes part in the case; else 404, as for
    a key that never was a task (another agency learns nothing of it)."""
    finished = FinishedExternalTask.objects.filter(delivery_key=key, agency_id__in=agencies or [0]).first()
    if finished is None or not rules.agency_keeps_case(finished.agency_id, finished.case_id):
        return NotFound("external_task.not_found")
    return _finished(finished.status)


def complete_external_task(*, actor, task_id, worker_id: str, variables: dict) -> None:
    """Complete the task with ``variables`` (checked against the task's form)."""
    with transaction.atomic():
        job = _locked_job(actor, task_id, worker_id)
        if job.instance_id is not None:
            # The case's work held (the job first, as every job runner takes them), then the
            # agency's standing checked again: a withdrawal that committed while we waited
            # leaves the agency's system nothing to write (404, as after it).
            steps.lock_instance(job.instance_id)
            if not rules.agency_keeps_case(job.payload.get("agency_id"), job.case_id):
                raise NotFound("external_task.not_found")
        agency = Agency.objects.filter(pk=job.payload.get("agency_id")).first()
        done = service.complete_with_answer(job, variables, strict=True, actor=actor, acting_agency=agency)
    if not done:
        raise Conflict("external_task.gone")


def fail_external_task(
    *, actor, task_id, worker_id: str, error: str, retries: int | None = None, retry_seconds: float | None = None
) -> Job:
    """The worker could not do it: try again after ``retry_seconds`` (default: the job
    back-off) while ``retries`` remain (default: the job's own count); none left opens an
    incident that the process admin retries once the cause is fixed."""
    if not isinstance(error, str) or not error.strip():
        raise InvalidInput("external_task.failure_invalid", errors=[field_error("errorMessage", "field.required")])
    with transaction.atomic():
        job = _locked_job(actor, task_id, worker_id)
        job.attempts += 1
        if retries is not None:
            job.max_attempts = job.attempts + max(retries, 0)
        # The worker's text may quote what it was sent, or what its system remembers of the
        # case or the person: kept without any value the case holds or held, nor the task's
        # data it was sent that no field holds (a script's total of debts, in the saved
        # states), nor the person's other cases' (``queue.record_outcome``: the process admin
        # reads it, and sees no case data).
        queue.record_outcome(job, error.strip())
        if job.status == JobStatus.PENDING and retry_seconds is not None:
            job.due_at = queue.now() + timedelta(seconds=max(retry_seconds, 0))
            job.save(update_fields=["due_at"])
    return job
