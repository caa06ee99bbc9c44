"""Starting a case: validate the person, the participants and the start data, open the
case with its reference, grant the participating agencies access, and run the process to
its first tasks, in one transaction. ``workflows.services.start_case`` is the entry."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from bpmn.engine import events as engine_events
from bpmn.engine import runtime as engine
from bpmn.models import ProcessDefinition
from bpmn.registry import runtime_for
from core import hooks
from permissions import rules
from permissions.grants import grant_case_access
from permissions.models import Agency, AgencyKind

from . import steps
from .errors import Forbidden, InvalidInput
from .ids import parse_id
from .messages import LIVE  # the instance statuses a message may reach
from .models import (
    Case,
    CaseParticipant,
    CaseReferenceCounter,
    Event,
    EventKind,
    Person,
    ProcessInstance,
)
from .national_id import InvalidNationalId, validate_national_id


def start_case(*, actor, process_key: str, person: dict, participants: dict, data: dict | None = None,
               correlation_key: str = "", start_message: str = "", message_id: str | None = None) -> Case:
    """Open a case for ``person`` on the latest version of ``process_key``.

    ``participants`` maps agency kind -> Agency or agency id. Every lane of the process
    needs a participant of its kind. ``correlation_key``: an external system's own number
    for the case, which messages may name instead of the reference; no other live (running
    or stopped on an incident) case may have it, else a message could not find its case.

    ``start_message``: for a process whose start event waits for a message, its name
    (``correlate_message`` with ``start``); ``data`` is then the message's payload and
    ``message_id`` is recorded with it. Such a process starts only this way.
    """
    definition = (
        ProcessDefinition.objects.filter(key=process_key).defer("spec_json", "bpmn_xml")
        .order_by("-version").first()
    )
    if definition is None:
        raise InvalidInput(f"no process {process_key!r} is deployed",
                           errors=[{"field": "process_key", "message": "unknown process"}])
    runtime = runtime_for(definition)
    starts_on = runtime.start_messages
    if (start_message or starts_on) and start_message not in starts_on:
        message = (f"the process starts when the message {sorted(starts_on)[0]!r} arrives: it is started by "
                   "POST /api/v1/messages/ with `start`") if starts_on else "the process has no message start event"
        raise InvalidInput(message, errors=[{"field": "process_key", "message": message}])
    errors = []
    try:
        name, national_id = _valid_person(person)
    except InvalidInput as exc:
        errors += exc.errors
    try:
        agencies = _valid_participants(participants, definition)
    except InvalidInput as exc:
        errors += exc.errors
    correlation_key = (correlation_key or "").strip()
    errors += _correlation_key_errors(correlation_key)
    if errors:  # all problems at once, not one per round trip
        raise InvalidInput("the case cannot be started", errors=errors)
    if not rules.can_start_case(actor, list(agencies.values())):
        raise Forbidden("you may start cases only for an agency you work in, as one of its participants")
    start_data = _valid_start_data(runtime, data)
    starter_agency = next(a for a in agencies.values() if a.pk in rules.case_agency_ids(actor))

    with transaction.atomic():
        person_row, _ = Person.objects.get_or_create(national_id=national_id, defaults={"name": name})
        reference = _next_reference()  # locks the year's counter: case starts queue up here
        if correlation_key and (errors := _correlation_key_errors(correlation_key)):  # again, under the lock
            raise InvalidInput("the case cannot be started", errors=errors)
        case = Case.objects.create(
            reference=reference,
            person=person_row,
            process_key=definition.key,
            coordinator_agency=agencies.get(AgencyKind.HOUSING, starter_agency),
            data=start_data,
            data_sources={field: starter_agency.pk for field in start_data},
            opened_by=actor,
        )
        CaseParticipant.objects.bulk_create(
            [CaseParticipant(case=case, kind=kind, agency=agency) for kind, agency in agencies.items()]
        )
        grant_case_access(case)
        workflow = engine.new_workflow(runtime.bundle, start_data)
        caught = engine_events.deliver_start_message(workflow, start_message, start_data) if start_message else []
        instance = ProcessInstance.objects.create(
            case=case, definition=definition, state="{}",
            serializer_version=engine.SERIALIZER_VERSION, spiff_version=engine.SPIFFWORKFLOW_VERSION,
            version=0, correlation_key=correlation_key,
        )
        Event.objects.create(
            case=case, instance=instance, kind=EventKind.CASE_STARTED, actor=actor, agency=starter_agency,
            detail={"process_key": definition.key, "version": definition.version},
        )
        received = [Event(
            case_id=case.pk, instance=instance, kind=EventKind.MESSAGE_RECEIVED, actor=actor, agency=starter_agency,
            element_id=caught[0] if caught else "",
            detail={"name": start_message, "message_id": message_id, "fields": sorted(start_data)},
        )] if start_message else []
        steps.advance_and_save(instance, runtime, workflow, actor=actor, acting_agency=starter_agency,
                               events=received)
        transaction.on_commit(lambda: hooks.emit(hooks.CASE_STARTED, process=definition.key))
    return case


CORRELATION_KEY_MAX_LENGTH = ProcessInstance._meta.get_field("correlation_key").max_length


def _correlation_key_errors(correlation_key: str) -> list[dict]:
    if len(correlation_key) > CORRELATION_KEY_MAX_LENGTH:
        return [{"field": "correlation_key", "message": f"at most {CORRELATION_KEY_MAX_LENGTH} characters"}]
    if correlation_key and ProcessInstance.objects.filter(
        correlation_key=correlation_key, status__in=LIVE
    ).exists():
        return [{"field": "correlation_key", "message": "a running case already has this correlation key"}]
    return []


def _valid_person(person) -> tuple[str, str]:
    if not isinstance(person, dict):
        raise InvalidInput("person must be an object", errors=[{"field": "person", "message": "expected an object"}])
    errors = []
    name = person.get("name")
    if not isinstance(name, str) or not name.strip():
        errors.append({"field": "person.name", "message": "this field is required"})
    national_id = None
    try:
        national_id = validate_national_id(person.get("national_id") or "")
    except InvalidNationalId as exc:
        errors.append({"field": "person.national_id", "message": str(exc)})
    if errors:
        raise InvalidInput("the person is not valid", errors=errors)
    return name.strip(), national_id


def _valid_participants(participants, definition) -> dict[str, Agency]:
    if not isinstance(participants, dict):
        raise InvalidInput("participants must map agency kinds to agencies",
                           errors=[{"field": "participants", "message": "expected an object"}])
    errors, agencies = [], {}
    for kind, agency in participants.items():
        if kind not in AgencyKind.values:
            errors.append({"field": f"participants.{kind}", "message": f"unknown agency kind {kind!r}"})
            continue
        agency_row = agency if isinstance(agency, Agency) else Agency.objects.filter(pk=parse_id(agency)).first()
        if agency_row is None:
            errors.append({"field": f"participants.{kind}", "message": f"no agency with id {agency!r}"})
        elif agency_row.kind != kind:
            errors.append({"field": f"participants.{kind}",
                           "message": f"{agency_row.name} is a {agency_row.kind} agency, not {kind}"})
        else:
            agencies[kind] = agency_row
    needed = {kind for kind in definition.metadata.get("lanes", {}).values() if kind}
    for kind in sorted(needed - set(participants)):
        lanes = [lane for lane, k in definition.metadata["lanes"].items() if k == kind]
        errors.append({"field": f"participants.{kind}",
                       "message": f"the process has lane {', '.join(lanes)}: a {kind} agency must participate"})
    if errors:
        raise InvalidInput("the participants are not valid", errors=errors)
    return agencies




def _valid_start_data(runtime, data) -> dict:
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise InvalidInput("data must be an object", errors=[{"field": "data", "message": "expected an object"}])
    unknown = [name for name in data if name not in runtime.fields]
    if unknown:
        raise InvalidInput("data has fields that no form of this process has",
                           errors=[{"field": f"data.{name}", "message": "unknown field"} for name in unknown])
    return dict(data)


def _next_reference() -> str:
    from django.conf import settings

    year = timezone.localdate().year
    CaseReferenceCounter.objects.bulk_create([CaseReferenceCounter(year=year)], ignore_conflicts=True)
    counter = CaseReferenceCounter.objects.select_for_update().get(year=year)
    counter.last += 1
    counter.save(update_fields=["last"])
    return f"{settings.BROBYGGER['CASE_REFERENCE_PREFIX']}-{year}-{counter.last:06d}"


