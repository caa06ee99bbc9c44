"""Service tasks through the job table: each started service task gets one job, and the
task is completed exactly once, in the transaction that marks its job done.

* ``http``: the worker claims the job with a lease, checks that the connector's agency is
  the one the task is routed to in the case (``receiver_refusal``: deny by default, else the
  job fails at once with an incident and nothing is sent), evaluates the fields the task
  declares, POSTs those the agency may see to the connector the model names (signed like
  the webhooks, through their address guard, the job's ``delivery_key`` as ``Idempotency-Key``), then,
  holding the job row and the
  instance lock, checks that it still holds the lease, validates the JSON answer against the
  task's form, takes the declared fields into the task and completes it. A failure backs off
  and retries; the last one opens an incident (retry it from the incidents list). A worker
  killed after the call leaves the job leased: when the lease runs out another worker calls
  again with the same ``Idempotency-Key``, and the task completes once.
* ``external``: an agency's own system fetches and locks the job by topic
  (``workflows.services.external_tasks``); completing goes through ``complete_with_answer``
  too.
"""

from __future__ import annotations

import http.client
import json
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction

from bpmn.engine import runtime as engine
from bpmn.engine import service_tasks as engine_services
from bpmn.engine.element_needs import with_sources
from bpmn.engine.errors import EngineError, TaskStateError
from bpmn.engine.scrub import MASK
from bpmn.registry import runtime_for
from core.errors import InvalidInput, field_error
from core.messages import MESSAGES, Message
from permissions import policy, rules
from permissions.models import RESTRICTED, CaseParticipant
from workflows import input_limits, steps
from workflows.forms import form_errors
from workflows.jobs import notify, queue, reconnect, webhook_transport
from workflows.jobs.errors import JobError, Refusal, unreachable
from workflows.models import (
    EventKind,
    InstanceStatus,
    Job,
    JobKind,
    JobStatus,
    ServiceConnector,
)
from workflows.steps.runner import engine_detail

MAX_ANSWER_BYTES = 256 * 1024


# --- the fields sent -----------------------------------------------------------------------


def service_inputs_and_reads(job: Job) -> tuple[dict[str, Any], dict[str, frozenset[str]]]:
    """The fields the task declares, from the instance's saved state (no lock: a read), and
    for each field the names of the task data it reads (what it carries to the receiver)."""
    instance = job.instance
    if instance is None:
        raise TaskStateError("the job's instance is gone")
    runtime = runtime_for(instance.definition_id)
    workflow = engine.load_workflow(runtime.bundle, instance.state)
    task_id = job.payload["task_id"]
    # A script's variable carries what the script computed it from (``flag = needs_treatment``).
    reads = {
        name: with_sources(read, runtime.script_sources)
        for name, read in engine_services.service_input_reads(workflow, task_id).items()
    }
    return engine_services.service_inputs(workflow, task_id), reads


def receivable_fields(job: Job, agency, fields: dict[str, Any], reads: dict[str, frozenset[str]]) -> dict[str, Any]:
    """The fields ``agency``'s system may receive: those computed only from case data a
    member of the agency sees (``rules.agency_may_receive``); the others are withheld, as the
    task page masks them (a health value stays with health unless the person consents)."""
    return receivable_with_grounds(job, agency, fields, reads)[0]


def receivable_with_grounds(
    job: Job, agency, fields: dict[str, Any], reads: dict[str, frozenset[str]]
) -> tuple[dict[str, Any], list[tuple[str, rules.Decision]]]:
    """``receivable_fields``, and the grounds on which the case data each of them carries may
    leave (``rules.receipt_grounds``): the access log names the consent a value left on."""
    if job.case is None or job.instance is None:
        return {}, []
    rules_of_fields = runtime_for(job.instance.definition_id).field_rules
    consents = rules.active_consents(job.case)
    # A safety warning out of time is no longer shown to the agency's members unless it recorded
    # it (``policy.warning_dates``), so nor is it sent to its system (until h-attack34 it was:
    # the category alone decided). A message to another case leaves it out alike.
    sources = job.case.data_sources or {}
    lapsed = {
        name
        for name in policy.lapsed_warnings(job.case, rules_of_fields)
        if sources.get(name) != getattr(agency, "pk", None)
    }
    kept: dict[str, Any] = {}
    grounds: list[tuple[str, rules.Decision]] = []
    for name, value in fields.items():
        if lapsed & set(reads.get(name, ())):
            continue
        found = rules.receipt_grounds(job.case, agency, reads.get(name, ()), rules_of_fields, consents)
        if found is not None:
            kept[name] = value
            grounds += found
    return kept, grounds


def receiver_refusal(job: Job, connector: ServiceConnector) -> JobError | None:
    """Why nothing may leave for ``connector``'s system in the job's case; None when the
    fields may (each then still only as ``receivable_fields`` allows).

    Deny by default: the fields go to the connector's agency, so it must be the agency the
    task is routed to in this case (its lane's participant) and still work the case. A task
    routed to no agency (a version deployed before such models were refused) has no rules to
    decide by, and a connector of another agency (or of none in the case) would hand the case
    to an outsider. The text names the element and the connector, never a value."""
    element_id = job.payload.get("element_id", "")
    if job.instance is None or job.case_id is None:
        return None  # the call fails on the missing instance, sending nothing
    kind = (runtime_for(job.instance.definition_id).service_tasks.get(element_id) or {}).get("agency_kind")
    if not kind:
        return JobError("job.service.unrouted", element=element_id, connector=connector.name)
    routed = CaseParticipant.objects.filter(case_id=job.case_id, kind=kind, agency_id=connector.agency_id).exists()
    if not routed or not rules.agency_keeps_case(connector.agency_id, job.case_id):
        return JobError("job.service.other_agency", connector=connector.name, kind=kind, element=element_id)
    return None


def sent_categories(job: Job, fields: dict[str, Any]) -> list[str]:
    """The data categories of the fields a service task hands out: each field's category in
    the process's forms; a field no form declares (a computed value) counts as restricted."""
    if job.instance is None:
        return []
    categories = runtime_for(job.instance.definition_id).fields
    return sorted({categories.get(name, RESTRICTED) for name in fields})


def carried_categories(job: Job, fields: dict[str, Any], reads: dict[str, frozenset[str]]) -> list[str]:
    """``sent_categories`` of the fields and of the case data they carry (``x = ${diagnosis}``
    carries health, whatever ``x``'s own category)."""
    read = dict.fromkeys(name for field in fields for name in reads.get(field, ()))
    return sorted(set(sent_categories(job, fields)) | set(sent_categories(job, read)))


def log_connector_call(
    job: Job,
    connector: ServiceConnector,
    fields: dict[str, Any],
    reads: dict[str, frozenset[str]] | None = None,
    grounds: Sequence[tuple[str, rules.Decision]] = (),
) -> None:
    """The access-log rows of a connector call, one per category sent (no values): the fields
    leave for ``connector.agency``'s system, on the basis of the process's service task, or,
    for a category that left only on the person's consent or a recorded legal basis
    (``grounds``: ``receivable_with_grounds``), on that consent."""
    case = job.case
    if case is None or job.instance is None:
        return
    key = runtime_for(job.instance.definition_id).key
    policy.log_system_export(
        case,
        username=connector.name,
        role=rules.ROLE_CONNECTOR,
        agency_id=connector.agency_id,
        categories=carried_categories(job, fields, reads or {}),
        basis=f"service-task:{key}:{job.payload.get('element_id', '')}",
        item=f"service-task:{job.pk}",
        consented=policy.consent_grounds(grounds),
    )


# --- completing (the job row and the instance locked) --------------------------------------


def taken_fields(runtime, element_id: str, answer: Any, *, strict: bool) -> tuple[dict, list[dict]]:
    """The fields taken from an answer, and its field errors. The task declares what it
    takes: its output parameters, else its form's fields. ``strict`` (an external worker's
    variables): any other field is an error; else (a connector's answer) it is left out.
    What is taken meets the task's form when it has one."""
    if not isinstance(answer, dict):
        return {}, [field_error("variables", "field.expected_object")]
    declared = runtime.service_tasks.get(element_id) or {}
    form = declared.get("form")
    schema, validator = runtime.forms.get(form), runtime.validators.get(form)
    outputs = declared.get("outputs") or list((schema or {}).get("properties", {}))
    taken = dict(answer) if strict else {name: answer[name] for name in outputs if name in answer}
    errors = input_limits.data_errors(taken)
    if errors:
        return taken, errors
    unknown = [name for name in taken if name not in outputs]
    errors += [field_error(name, "field.unknown_in_form", fields=", ".join(outputs) or "-") for name in unknown]
    if schema is not None and validator is not None:
        errors += [error for error in form_errors(schema, validator, taken) if error.get("field") not in unknown]
    return taken, errors


def complete_with_answer(
    job: Job, answer: Any, *, strict: bool, actor=None, acting_agency=None, retry: queue.Retry | None = None
) -> bool:
    """Complete the job's task with the fields taken from ``answer`` and mark the job done,
    in the caller's transaction (``job`` is the locked row). False when the task no longer
    waits (the job is closed as cancelled); InvalidInput when the answer does not fit."""
    if job.instance_id is None:
        _close(job, JobStatus.CANCELLED, JobError("job.instance_gone"))
        return False
    instance = steps.lock_instance(job.instance_id)
    runtime = runtime_for(instance.definition_id)
    element_id = job.payload.get("element_id", "")
    taken, errors = taken_fields(runtime, element_id, answer, strict=strict)
    if errors:
        raise InvalidInput("service.answer_invalid", errors=errors)
    if instance.status not in (InstanceStatus.RUNNING, InstanceStatus.INCIDENT):
        _close(job, JobStatus.CANCELLED, JobError("job.instance_not_running"))
        return False
    declared = runtime.service_tasks.get(element_id) or {}
    step = steps.Step(instance, actor=actor, acting_agency=acting_agency)
    step.merge_case_data(taken, acting_agency.pk if acting_agency else None, (element_id,))
    step.event(
        EventKind.SERVICE_CALLED,
        element_id=element_id,
        agency=acting_agency,
        detail={"job": job.pk, "sent": declared.get("inputs", []), "taken": sorted(taken)},
    )
    task_id = job.payload["task_id"]

    def act(workflow) -> None:
        engine.complete_service_task(workflow, task_id, taken)

    try:
        steps.run_step(step, act)
    except TaskStateError as exc:  # raised before anything of the step was written
        _close(job, JobStatus.CANCELLED, JobError("job.task_no_longer_waits", detail=engine_detail(exc)))
        return False
    queue.record_outcome(job, None, retry=retry)
    return True


def _close(job: Job, status: str, why: JobError) -> None:
    job.status, job.finished_at, job.last_error = status, queue.now(), why
    job.last_error_message = why.message.as_json()
    job.lease_until, job.locked_by = None, ""
    job.save()


# --- the HTTP connector (a worker) -----------------------------------------------------------


def perform_claimed(job: Job, worker: str, retry: queue.Retry | None = None) -> str | None:
    """Perform a claimed external job and record its outcome. Returns the error or None.
    ``retry``: an admin's retry of its incident, resolved with the outcome."""
    if job.kind == JobKind.SERVICE:
        error = _guarded_http_job(job, worker, retry)
    else:
        error = notify.perform(job)
        if error is None:
            queue.finish_external(job, worker, None, retry=retry)
            return None
    if error is not None:
        queue.finish_external(job, worker, error, final=isinstance(error, Refusal))
    return error


def perform_claimed_batch(jobs: list[Job], worker: str) -> list[tuple[Job, str | None]]:
    """Perform jobs ``worker`` claimed together, one after another, as ``perform_claimed``
    performs each, with the tasks of the e-mail and webhook jobs read in one statement and
    their first-attempt successes recorded in one. A job after the first whose lease would
    run out before its call could end (the calls before it were slow) is given back
    unperformed, so no other worker performs it meanwhile. Returns the jobs performed, each
    with its error (None: done)."""
    tasks = notify.tasks_of([job for job in jobs if job.kind != JobKind.SERVICE])
    call_time = timedelta(seconds=2 * max(settings.BROBYGGER["WEBHOOK_TIMEOUT_SECONDS"], settings.EMAIL_TIMEOUT))
    performed: list[tuple[Job, str | None]] = []
    done: list[Job] = []
    for index, job in enumerate(jobs):
        if index and job.lease_until is not None and queue.now() + call_time >= job.lease_until:
            queue.release_claimed(jobs[index:], worker)
            break
        if job.kind == JobKind.SERVICE:
            performed.append((job, perform_claimed(job, worker)))
            continue
        error = notify.perform(job, tasks)
        if error is None and job.attempts <= 1:
            done.append(job)
        else:
            queue.finish_external(job, worker, error, final=isinstance(error, Refusal))
        performed.append((job, error))
    queue.finish_first_attempts_done(done, worker)
    return performed


def _guarded_http_job(job: Job, worker: str, retry: queue.Retry | None = None) -> str | None:
    """``run_http_job``, whose unforeseen failure is a failed attempt named by its class (its
    text may quote what was sent or answered), never an exception out of the worker's loop:
    one connector's answer or address ended every worker that claimed its job, each time its
    lease ran out, and no job of any case was performed meanwhile. A lost database is still
    raised: the worker reconnects (``workflows.jobs.reconnect``)."""
    try:
        return run_http_job(job, worker, retry)
    except reconnect.UNAVAILABLE:
        raise
    except Exception as exc:
        return JobError("job.call_failed", detail=type(exc).__name__)


def run_http_job(job: Job, worker: str, retry: queue.Retry | None = None) -> str | None:
    """Call the connector, then complete the task (see the module). None when done."""
    try:
        answer, connector = _call_connector(job)
    except _CallRefused as exc:
        return Refusal(exc.error.message)
    except _CallGone as exc:
        # Nothing was sent. A failed attempt here was retried into an incident whose retry failed
        # alike for good: closed instead (its incident, a retry's, resolved with it).
        with transaction.atomic():
            row = Job.objects.select_for_update().filter(pk=job.pk, status=JobStatus.RUNNING, locked_by=worker).first()
            if row is not None:
                _close(row, JobStatus.CANCELLED, exc.error)
                queue.record_outcome_resolved(row, retry)
        return None
    except _CallFailed as exc:
        return exc.error
    try:
        with transaction.atomic():
            row = Job.objects.select_for_update().filter(pk=job.pk, status=JobStatus.RUNNING, locked_by=worker).first()
            if row is None:
                return None  # the lease ran out and another worker has the job: it completes the task
            # Asked again under the case's lock (the job first, as every job runner takes them):
            # an agency withdrawn while its system answered writes nothing into the case, as its
            # external task's completion after a withdrawal answers 404.
            if row.instance_id is not None:
                steps.lock_instance(row.instance_id)
            refusal = receiver_refusal(row, connector)
            if refusal is not None:
                return Refusal(refusal.message)
            # False: the task is gone, the job closed. The fields taken are the connector agency's.
            complete_with_answer(row, answer, strict=False, acting_agency=connector.agency, retry=retry)
    except InvalidInput as exc:
        return JobError("job.service.answer_invalid", problems=[_problem(error) for error in exc.errors])
    except EngineError as exc:
        return JobError("job.service.step_failed", detail=engine_detail(exc))
    return None


def _problem(error: dict) -> Message:
    """One field error of a connector's answer, said by its code (its text when it has none)."""
    code = error.get("message_code") or error.get("code")
    problem = Message(code, error.get("params") or {}) if code in MESSAGES else str(error.get("message", ""))
    return Message("job.service.answer_problem", {"field": _answer_field(str(error.get("field"))), "problem": problem})


def _answer_field(path: str) -> str:
    """Where in the answer an error is, as the job's error and the worker's log say it: the
    declared field (a name of the model) and the numbers of list items; a key inside a value
    is the other system's data (``{"Kari Hansen": ...}`` under ``additionalProperties``), never
    said. The message codes only name the fields (``taken_fields``), never a value."""
    head, *rest = path.split(".")
    return ".".join([head, *(part if part.isdigit() else MASK for part in rest)])


class _CallFailed(Exception):
    """The call failed (``error`` says why); ``_CallRefused``: nothing may be sent."""

    def __init__(self, error: JobError):
        self.error = error
        super().__init__(error)


class _CallRefused(_CallFailed):
    pass


class _CallGone(_CallFailed):
    """The step no longer waits (a deadline took the case on, the instance is gone): the job
    is closed, as an answer to such a step closes it (``complete_with_answer``)."""


def _call_connector(job: Job) -> tuple[dict, ServiceConnector]:
    target = job.payload.get("target", "")
    connector = ServiceConnector.objects.select_related("agency").filter(name=target, active=True).first()
    if connector is None:
        raise _CallFailed(JobError("job.service.no_connector", target=target))
    if not connector.secret.strip():  # a row written past the admin's form: never signed with no key
        raise _CallRefused(JobError("job.service.no_secret", connector=connector.name))
    refusal = receiver_refusal(job, connector)
    if refusal is not None:  # checked before any field is computed: nothing of the case leaves
        raise _CallRefused(refusal)
    try:
        fields, reads = service_inputs_and_reads(job)
    except TaskStateError as exc:
        raise _CallGone(JobError("job.task_no_longer_waits", detail=engine_detail(exc))) from exc
    except EngineError as exc:
        raise _CallFailed(JobError("job.service.field_failed", detail=engine_detail(exc))) from exc
    fields, grounds = receivable_with_grounds(job, connector.agency, fields, reads)  # what the agency may see
    body = json.dumps(
        {
            "id": str(job.delivery_key),
            "case_reference": job.case.reference if job.case else "",
            "element_id": job.payload.get("element_id", ""),
            "fields": fields,
        },
        separators=(",", ":"),
        default=str,
    ).encode()
    headers = {
        "Content-Type": "application/json",
        "Accept": "application/json",
        "Idempotency-Key": str(job.delivery_key),
        notify.SIGNATURE_HEADER: notify.sign(connector.secret, body),
        "User-Agent": "Brobygger-service/1",
    }
    allowed = webhook_transport.parse_networks(settings.WEBHOOK_ALLOWED_NETWORKS)

    def log_before_sending() -> None:
        # The disclosure is logged before a byte leaves (the connection is open): a call
        # that then times out is logged too, since the system may have received the fields.
        log_connector_call(job, connector, fields, reads, grounds)

    try:
        status, raw = webhook_transport.exchange(
            connector.url,
            body,
            headers,
            timeout=settings.BROBYGGER["WEBHOOK_TIMEOUT_SECONDS"],
            allowed_networks=allowed,
            max_answer_bytes=MAX_ANSWER_BYTES + 1,
            before_sending=log_before_sending,
        )
    except (webhook_transport.HostUnknown, TimeoutError, OSError, http.client.HTTPException) as exc:
        # One error whatever the cause, as a webhook's (``errors.unreachable``): the process
        # admin reads it, and the cause (the class, and the system's words but those of an
        # answer that is no HTTP, which may echo the fields sent) is in the server's log.
        raise _CallFailed(unreachable("job.service.unreachable", exc, job)) from exc
    except webhook_transport.WebhookRefused as exc:
        raise _CallFailed(JobError("job.service.refused", reason=exc.message)) from exc
    if not 200 <= status < 300:
        redirect = status < 400
        raise _CallFailed(JobError("job.service.redirect" if redirect else "job.service.http_status", status=status))
    if len(raw) > MAX_ANSWER_BYTES:
        raise _CallFailed(JobError("job.service.answer_too_long", limit=MAX_ANSWER_BYTES))
    try:
        answer = json.loads(raw or b"{}")
    except (ValueError, RecursionError) as exc:  # nested past the parser's depth: RecursionError
        raise _CallFailed(JobError("job.service.answer_not_json")) from exc
    if not isinstance(answer, dict):
        raise _CallFailed(JobError("job.service.answer_not_object"))
    return answer, connector
