"""Withdrawing an agency from a case, shared by the case page and the API.

domain.md: access needs an active assignment to the case; when an agency no longer works it,
the coordinator ends its access. The agency's participation and its group's ``view_case``
grant go in one transaction: from the commit its people see the case nowhere (404 on the
case, its tasks, notes and attachments; gone from every list), exactly as
``rules.can_view_case`` and the lists decide. Recorded in the timeline (with the reason) and
in the access log (for the auditors).

An agency that still holds open tasks in the case is not withdrawn (409 naming them): the
case's work would stop with nobody able to do it, and tasks are never handed to another
agency (a task belongs to its lane's agency; one agency plays each kind in a case). A later
task in the withdrawn agency's lane becomes an incident (``lane-without-participant``), as
for any lane nobody plays. Nor is one whose system the case still waits for: an external task
it has not answered, or a service task whose connector call is owed (pending, under way, or
failed with an incident whose retry would call again) in a lane of the agency's kind: the
connector's next call, or its answer, is refused once the agency is out (``job.service.
other_agency``), and the case would wait on an incident instead (409 naming the step).
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from bpmn.engine import runtime as engine
from bpmn.engine import service_tasks as engine_services
from bpmn.registry import runtime_for
from core.errors import Conflict, Forbidden, InvalidInput, field_error
from core.ids import parse_id
from permissions import rules
from permissions.grants import revoke_agency_access
from permissions.models import AccessAction, AccessLog, CaseParticipant, Consent, Role
from workflows import selectors, steps
from workflows.models import (
    ACTIVE_TASK_STATUSES,
    CaseStatus,
    Event,
    EventKind,
    Job,
    JobKind,
    JobStatus,
    ProcessInstance,
    Task,
)

MAX_REASON = 4000


def withdrawable_participants(case) -> list[CaseParticipant]:
    """The agencies the coordinator may withdraw: every participant but the coordinating one."""
    return [p for p in selectors.case_participants(case) if p.agency_id != case.coordinator_agency_id]


def _valid_reason(reason, errors) -> str:
    if not isinstance(reason, str) or not reason.strip():
        errors.append(field_error("reason", "field.required"))
        return ""
    reason = reason.strip()
    if len(reason) > MAX_REASON:
        errors.append(field_error("reason", "field.too_long", limit=MAX_REASON))
    return reason


def _open_tasks_refusal(actor, case, agency, tasks) -> Conflict:
    """409 naming the open tasks by their names, those the coordinator sees (a task on a
    branch hidden from them is not named: its name would tell the branch)."""
    seen = selectors.path_view_for(actor, case).tasks(tasks)
    if not seen:
        return Conflict("participant.open_tasks_unseen", agency=agency.name)
    return Conflict("participant.open_tasks", agency=agency.name, tasks=", ".join(f"«{t.name}»" for t in seen))


def _owed_system_calls(case, participant) -> tuple[bool, dict[str, str]]:
    """What the system of ``participant``'s agency still owes the case: whether an external
    task of the agency waits (not yet answered, or failed with an incident whose retry would
    hand it back), and the elements (id: name) of the service tasks routed to the agency's kind whose
    connector call is owed (pending, leased to a worker, or failed with an incident whose
    retry would call again). Withdrawn, the agency could answer neither (its external task's
    completion is a 404; its connector's call and answer are refused, ``job.service.
    other_agency``), and the case would wait on an incident. One statement; the definitions'
    routing is read only when a connector call is owed. Under ``steps.lock_case_work``: the
    engine writes a job holding its instance's lock, so none lands between this and the
    commit, and a worker's claim only moves a job from pending to leased, both counted."""
    rows = list(
        Job.objects.filter(
            case=case,
            kind__in=(JobKind.EXTERNAL_TASK, JobKind.SERVICE),
            status__in=(JobStatus.PENDING, JobStatus.RUNNING, JobStatus.FAILED),
        )
        .values_list("kind", "payload", "instance_id", "instance__definition_id")
        .order_by("pk")
    )
    waiting = _waiting_service_tasks({instance_id for _kind, _payload, instance_id, _definition in rows})
    external, elements = False, dict[str, str]()  # element id: its name
    for kind, payload, instance_id, definition_id in rows:
        payload = payload or {}
        if (instance_id, str(payload.get("task_id", ""))) not in waiting:
            continue  # its step no longer waits (a deadline took the case on): nothing is owed
        if kind == JobKind.EXTERNAL_TASK:
            external = external or payload.get("agency_id") == participant.agency_id
            continue
        element = payload.get("element_id", "")
        declared = runtime_for(definition_id).service_tasks.get(element) if definition_id else None
        if declared and declared.get("agency_kind") == participant.kind:
            elements.setdefault(element, declared.get("name") or element)
    return external, elements


def _waiting_service_tasks(instance_ids: set[int | None]) -> set[tuple[int, str]]:
    """(instance id, engine task id) of every service task still waiting in ``instance_ids``
    (locked by the caller). A job outlives its step: an interrupting deadline on the step takes
    the case on, and the job is closed only when it runs (a connector's after its call, a retry
    of a silent connector failing again; an external task's when the agency's system fetches
    it). Counted, it held the agency in the case for as long as its system stayed silent, the
    refusal naming a step the case had left. Read only when a call is owed at all."""
    waiting: set[tuple[int, str]] = set()
    found = ProcessInstance.objects.filter(pk__in=[pk for pk in instance_ids if pk is not None])
    for pk, definition_id, state in found.values_list("pk", "definition_id", "state"):
        workflow = engine.load_workflow(runtime_for(definition_id).bundle, state)
        waiting.update((pk, call.task_id) for call in engine_services.waiting_service_calls(workflow))
    return waiting


def _owed_calls_refusal(actor, case, agency, elements: dict[str, str]) -> Conflict:
    """409 naming the service tasks whose connector call is owed, those the coordinator sees.
    A step on a branch hidden from them is not named (its name would tell the branch), and
    answers as a hidden user task does: that a connector is what the case waits for would
    tell it as well."""
    view = selectors.path_view_for(actor, case)
    seen = [name for element, name in elements.items() if not view.hides(element)]
    if not seen:
        return Conflict("participant.open_tasks_unseen", agency=agency.name)
    return Conflict("participant.waiting_service_calls", agency=agency.name, steps=", ".join(f"«{n}»" for n in seen))


def _end_consents_to(case, agency, actor) -> None:
    """Revoke the consents not ended given to ``agency`` itself in ``case`` (each with its
    timeline event, as a revocation): they counted only while it took part, and kept, they
    would count again if the agency were ever added back, sharing with it what the person
    agreed to share with it for work it had stopped. Consents to an agency *kind* stay: they
    cover whichever agency plays the kind. Three statements, however many consents."""
    now = timezone.now()
    ending = list(
        Consent.objects.filter(case=case, agency=agency, revoked_at__isnull=True)
        .exclude(expires_at__lte=now)
        .order_by("pk")
        .values_list("pk", "categories")
    )
    if not ending:
        return
    Consent.objects.filter(pk__in=[pk for pk, _ in ending]).update(revoked_at=now, revoked_by=actor)
    Event.objects.bulk_create(
        Event(
            case=case,
            kind=EventKind.CONSENT_REVOKED,
            actor=actor,
            agency_id=case.coordinator_agency_id,
            to_agency=agency,
            detail={"consent": pk, "categories": categories, "agency_withdrawn": True},
        )
        for pk, categories in ending
    )


def withdraw_agency(*, actor, case, agency, reason) -> Event:
    """The case's coordinator withdraws ``agency`` (an id) from ``case``, with a ``reason``.

    404: the case is not visible to ``actor``; 403: ``actor`` is not its coordinator, or the
    agency is the coordinating one; 400: no such participant, or no reason; 409: the case is
    closed, or the agency holds open tasks in it, or its system owes the case an answer.
    Returns the timeline's event."""
    case = selectors.case_for(actor, case)
    if not rules.can_withdraw_agency(actor, case):
        raise Forbidden("participant.withdraw_forbidden")
    errors: list[dict] = []
    agency_id = parse_id(agency)
    participant = (
        CaseParticipant.objects.filter(case=case, agency_id=agency_id).select_related("agency").first()
        if agency_id is not None
        else None
    )
    if participant is None:
        errors.append(field_error("agency", "participant.not_in_case"))
    reason = _valid_reason(reason, errors)
    if errors:
        raise InvalidInput("participant.invalid", errors=errors)
    assert participant is not None
    withdrawn = participant.agency
    if withdrawn.pk == case.coordinator_agency_id:
        raise Forbidden("participant.coordinator_stays")
    with transaction.atomic():
        # The engine writes tasks holding its instance's lock: with them held no task lands
        # on the agency between the check below and the commit. The instances first, as the
        # engine takes them (``steps.lock_case_work``).
        locked = steps.lock_case_work(case.pk)
        if locked.status != CaseStatus.OPEN:
            raise Conflict("case.closed")
        if not CaseParticipant.objects.filter(case=locked, agency=withdrawn).exists():
            # Withdrawn meanwhile (a double submit): refused as it would be after that one.
            raise InvalidInput("participant.invalid", errors=[field_error("agency", "participant.not_in_case")])
        open_tasks = list(
            Task.objects.filter(case=locked, agency=withdrawn, status__in=ACTIVE_TASK_STATUSES).order_by(
                "created_at", "id"
            )
        )
        if open_tasks:
            raise _open_tasks_refusal(actor, case, withdrawn, open_tasks)
        external, service_elements = _owed_system_calls(locked, participant)
        if external:
            raise Conflict("participant.open_external_tasks", agency=withdrawn.name)
        if service_elements:
            raise _owed_calls_refusal(actor, case, withdrawn, service_elements)
        CaseParticipant.objects.filter(case=locked, agency=withdrawn).delete()
        revoke_agency_access(locked, [withdrawn])
        _end_consents_to(locked, withdrawn, actor)
        event = Event.objects.create(
            case=locked,
            kind=EventKind.AGENCY_WITHDRAWN,
            actor=actor,
            agency=withdrawn,
            detail={"kind": participant.kind, "reason": reason},
        )
        AccessLog.objects.create(
            user=actor,
            username=actor.get_username(),
            role=Role.COORDINATOR,
            agency_id=locked.coordinator_agency_id,
            case=locked,
            person_id=locked.person_id,
            category="coordination",
            action=AccessAction.WITHDRAW_AGENCY,
            basis=rules.BASIS_COORDINATOR,
            item=f"agency:{withdrawn.pk}",
            at=timezone.now(),
        )
    rules.forget_case_access(case)
    return event
