"""Correlating incoming messages to waiting processes (design §7 ``POST /messages/``).

A message names its case by reference (or by an instance's correlation key). It is
delivered to a message catch event, boundary or event-gateway branch waiting for its
name; its payload fields (only fields the process's forms know, validated like form
input) update the case data and the waiting tasks' data, and timers that read the data
are computed again. A repeated ``message_id`` is ignored.

A non-interrupting boundary whose earlier catch led to a task still open does not catch
the message again (docs/security.md, "A message opens the work of a non-interrupting
boundary once"): with nothing new it is refused (409 ``message.task_still_open``), with a
new value that value reaches the case, the open task and the timers, and no second task
opens.

A message may also *start* a case: when it names no case but carries ``start`` (the
person and the participating agencies), it starts a new case of the one process whose
top-level start event waits for its name, through ``start_case`` (same checks), with
the payload as the start data.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings
from django.db import IntegrityError, transaction

from bpmn.engine import events as engine_events
from bpmn.engine import runtime as engine
from bpmn.engine.forms_validation import work_budget
from bpmn.models import ProcessDefinition
from bpmn.registry import runtime_for
from core.errors import Conflict, Forbidden, InvalidInput, NotFound, field_error
from core.ids import lookup_id
from permissions import rules
from permissions.models import Agency, CaseParticipant
from workflows import input_limits, selectors, steps
from workflows.forms import schema_errors
from workflows.models import (
    LIVE_INSTANCE_STATUSES,
    Case,
    Event,
    EventKind,
    ProcessInstance,
    ReceivedMessage,
)
from workflows.services import room
from workflows.services.cases import keyed_by, start_case


@dataclass
class MessageResult:
    status: str  # "delivered", "started" or "duplicate"
    case: Case | None  # None: a duplicate whose earlier case the sender may not see
    message_id: str | None
    element_ids: list[str] = field(default_factory=list)


def correlate_message(
    *, actor, name, case_reference=None, correlation_key=None, payload=None, message_id=None, start=None
) -> MessageResult:
    name, payload, message_id = _valid_input(name, case_reference, correlation_key, payload, message_id, start)
    if not (case_reference or correlation_key):
        return _start_case(actor, name, payload, message_id, start)
    case = _target_case(actor, case_reference, correlation_key, name)
    agency = _sender_agency(actor, case, name)
    with transaction.atomic():
        instances = list(steps.locked_instances().filter(case=case, status__in=LIVE_INSTANCE_STATUSES).order_by("pk"))
        if not CaseParticipant.objects.filter(case=case, agency=agency).exists():
            # The sender's agency was withdrawn while we waited for the lock: it sees the
            # case nowhere now, and writes nothing into it.
            raise NotFound("case.not_found")
        if message_id and ReceivedMessage.objects.filter(sender_agency=agency, message_id=message_id).exists():
            return MessageResult("duplicate", case, message_id)  # the case the sender named: nothing new
        path_view = None
        for instance in instances:
            runtime, workflow = steps.load(instance)
            waiting = engine_events.waiting_message_elements(workflow, name)
            if waiting:
                path_view = path_view or selectors.path_view_for(actor, instance.case)  # read under the lock
                # A catch on a branch the sender's path view hides is not there for them:
                # caught (202) where nothing waits on the other branch (404), it would tell
                # the branch and so the value the gateway read (``selectors.path_hides_task``).
                seen = {element for element in waiting if not path_view.hides(element)}
                if seen:
                    break
        else:
            # The field, never its value: the caller chose the text (docs/security.md).
            raise NotFound(
                "message.nothing_waits",
                reference=case.reference,
                errors=[field_error("name", "message.name_waits_nowhere")],
            )
        if agency.kind not in _declared(runtime, name)["senders"]:  # this instance's version may say otherwise
            raise Forbidden("message.sender_not_allowed", name=name)
        fields = _valid_payload(runtime, name, payload)
        case = instance.case  # read under the lock
        # A non-interrupting boundary whose earlier catch opened a task still open does not
        # open the same work again beside it (see the module's docstring).
        open_work = engine_events.open_tasks_of_boundaries(workflow, name)
        still_open = set(open_work)
        # Still open *for the sender*: through a task their path view shows. The path after a
        # catch may pass a gateway that reads a value hidden from them (a health assessment),
        # and the task on its branch is then no more theirs to know of than the value: refused
        # (409) where that task is open and caught (202) where the branch ended, the answer
        # told the value. They are answered as where it ended; the open task still keeps its
        # boundary from catching again (``skip`` below), and takes the message's values.
        path_view = path_view or selectors.path_view_for(actor, case)
        open_to_sender = {b for b, tasks in open_work.items() if any(not path_view.hides(t) for t in tasks)}
        if seen <= open_to_sender and not _news(case, fields, agency):
            raise Conflict(
                "message.task_still_open", name=name, errors=[field_error("name", "message.name_task_still_open")]
            )
        _check_messages_left(case, agency)
        if message_id and not _remember(message_id, name, case, actor, agency):
            return MessageResult("duplicate", case, message_id)
        step = steps.Step(
            instance,
            actor=actor,
            acting_agency=agency,
            ready_before=engine.ready_user_task_ids(workflow),
        )
        step.merge_case_data(fields, agency.pk, waiting)
        engine_events.update_active_data(workflow, fields)
        engine_events.reschedule_date_timers(workflow)
        # Caught by every event waiting for it, a hidden one too (the engine's way); the
        # answer and the event name only those the sender sees. A boundary whose task is
        # still open does not catch: its fields went into that task's data above.
        caught = engine_events.deliver_message(workflow, name, fields, skip=still_open)
        joined = sorted(seen & still_open)
        element_ids = [element for element in caught if element in seen] + joined
        detail = {"name": name, "message_id": message_id, "fields": sorted(fields)}
        if joined:
            # Which tasks it joined: a reader whose path view hides one of them is told neither
            # (``selectors.PathView.events``), as the sender above.
            detail["task_still_open"] = True
            detail["joined_tasks"] = sorted(set().union(*(open_work[boundary] for boundary in joined)))
        step.event(
            EventKind.MESSAGE_RECEIVED,
            agency=agency,
            element_id=element_ids[0] if element_ids else "",
            detail=detail,
        )
        steps.advance(step, runtime, workflow)
    return MessageResult("delivered", case, message_id, element_ids)


def _valid_input(name, case_reference, correlation_key, payload, message_id, start=None):
    errors = []
    if not isinstance(name, str) or not name.strip() or len(name) > 200:
        errors.append(field_error("name", "message.name_required"))
    if case_reference and correlation_key:
        errors.append(field_error("case_reference", "message.reference_or_key"))
    if start is not None and (case_reference or correlation_key):
        errors.append(field_error("start", "message.names_or_starts"))
    elif start is not None and not isinstance(start, dict):
        errors.append(field_error("start", "field.expected_object"))
    elif start is not None:
        unknown = sorted(set(start) - {"person", "participants"})
        errors += [field_error(f"start.{key}", "message.start_fields") for key in unknown]
    if payload is not None and not isinstance(payload, dict):
        errors.append(field_error("payload", "field.expected_object"))
    if message_id is not None and (not isinstance(message_id, str) or not message_id.strip() or len(message_id) > 200):
        errors.append(field_error("message_id", "field.expected_nonempty_text", limit=200))
    errors += input_limits.text_errors(
        name=name, case_reference=case_reference, correlation_key=correlation_key, message_id=message_id
    )
    if isinstance(payload, dict):
        errors += input_limits.data_errors(payload, "payload")
    if errors:
        raise InvalidInput("message.invalid", errors=errors)
    return name.strip(), dict(payload or {}), (message_id.strip() if message_id else None)


class _Duplicate(Exception):
    pass


def _start_case(actor, name, payload, message_id, start) -> MessageResult:
    definitions = _start_definitions(name)
    if start is None:
        if definitions:
            raise InvalidInput(
                "message.start_required",
                errors=[field_error("start", "message.give_start", name=name, key=definitions[0].key)],
            )
        raise InvalidInput("message.invalid", errors=[field_error("case_reference", "message.give_reference")])
    if not definitions:
        raise NotFound("message.no_start_process", errors=[field_error("name", "message.name_starts_nothing")])
    if len(definitions) > 1:
        raise Conflict("message.several_start_processes", name=name, keys=", ".join(sorted(d.key for d in definitions)))
    (definition,) = definitions
    sender_agency = _start_sender_agency(actor, start, _declared(runtime_for(definition), name)["senders"])
    if message_id and sender_agency and (earlier := _earlier(message_id, sender_agency.pk)) is not None:
        return _duplicate_start(actor, earlier, message_id)
    fields = _valid_payload(runtime_for(definition), name, payload)
    try:
        with transaction.atomic():
            case = start_case(
                actor=actor,
                process_key=definition.key,
                person=start.get("person"),
                participants=start.get("participants"),
                data=fields,
                start_message=name,
                message_id=message_id,
            )
            if message_id and not _remember(message_id, name, case, actor, sender_agency):
                raise _Duplicate  # a parallel request with the same id won: undo this case
    except _Duplicate:
        return _duplicate_start(actor, _earlier(message_id, sender_agency.pk), message_id)
    except InvalidInput as exc:
        for error in exc.errors:
            if error.get("field", "").split(".")[0] in ("person", "participants"):
                error["field"] = f"start.{error['field']}"
        raise
    received = Event.objects.filter(case=case, kind=EventKind.MESSAGE_RECEIVED).values_list("element_id", flat=True)
    return MessageResult("started", case, message_id, [element for element in received if element])


def _earlier(message_id, sender_agency_id) -> Case | None:
    received = (
        ReceivedMessage.objects.filter(sender_agency_id=sender_agency_id, message_id=message_id)
        .select_related("case")
        .first()
    )
    return received.case if received else None


def _start_sender_agency(actor, start, senders):
    """The agency a case-starting message is sent through, and so the namespace of its
    message id: the one ``start_case`` starts the case through (``rules.message_starter_agency``
    over the participants in the order given). None when it names none of the sender's."""
    participants = start.get("participants") if isinstance(start, dict) else None
    if not isinstance(participants, dict):
        return None
    ids = [lookup_id(value) for value in participants.values() if isinstance(value, int | str)]
    named = Agency.objects.in_bulk(set(ids) - {0})
    return rules.message_starter_agency(actor, [named[pk] for pk in ids if pk in named], senders)


def _duplicate_start(actor, earlier: Case | None, message_id) -> MessageResult:
    # The earlier case is named only to someone who may see it.
    visible = earlier is not None and rules.can_view_case(actor, earlier)
    return MessageResult("duplicate", earlier if visible else None, message_id)


def _start_definitions(name) -> list:
    """The latest version of every process whose top-level start event waits for ``name``."""
    latest: dict[str, ProcessDefinition] = {}
    rows = ProcessDefinition.objects.order_by("key", "-version").only("key", "version", "metadata")
    for definition in rows:
        latest.setdefault(definition.key, definition)
    # Compiled at deploy (metadata "start_messages"): no spec is restored to answer this.
    return [d for d in latest.values() if name in d.metadata.get("start_messages", ())]


def _target_case(actor, case_reference, correlation_key, name) -> Case:
    if case_reference:
        # A case the sender does not see is no row, as a reference no case has: not a row,
        # then their standing read and a 404 (docs/security.md "404 alike"; until h-attack21
        # one statement more told that the reference was a case's).
        case = Case.objects.filter(rules.sees_case_of_row(actor.pk, "pk"), reference=case_reference).first()
    else:
        # A key is its agency's (``ProcessInstance.correlation_agency``): only the sender's
        # agencies' keys are looked up, so a case another agency gave the same key neither
        # takes the sender's messages nor makes their key ambiguous.
        mine = rules.case_agency_ids(actor)
        keyed: list[tuple[int, int | None]] = list(
            ProcessInstance.objects.filter(
                keyed_by(correlation_key, mine), status__in=LIVE_INSTANCE_STATUSES
            ).values_list("case_id", "correlation_agency_id")
        )
        if len(mine) > 1:
            # A sender in several agencies sends through one of them (``_sender_agency``):
            # only the key that agency gave counts, not one another of theirs gave a case of
            # another person (it would make the key ambiguous, or take the message).
            keyed = [
                (case_id, agency_id) for case_id, agency_id in keyed if _sent_through(actor, case_id, name, agency_id)
            ]
        case_ids = {case_id for case_id, _agency_id in keyed}
        if len(case_ids) > 1:
            # Only the cases the sender may see count: how many running cases hold a key
            # (an external system's number for the person) is not told to anyone signed in.
            case_ids = set(
                rules.visible_cases(actor, Case.objects.filter(pk__in=case_ids)).values_list("pk", flat=True)
            )
            if len(case_ids) > 1:
                raise Conflict("message.ambiguous_correlation", count=len(case_ids))
        case = Case.objects.filter(pk__in=case_ids).first()
    if case is None:
        raise NotFound("case.not_found")
    return case


def _sent_through(actor, case_id, name, key_agency_id) -> bool:
    """Whether a message ``name`` naming a key that ``key_agency_id`` gave the case would be
    sent into it through that agency (a key of no agency, or a case the sender cannot send
    into at all, is left for the usual answers)."""
    if key_agency_id is None:
        return True
    case = Case.objects.filter(pk=case_id).first()
    if case is None:
        return False
    try:
        agency = _sender_agency(actor, case, name)
    except (NotFound, Forbidden):
        return True
    return agency.pk == key_agency_id


def _sender_agency(actor, case, name):
    """The agency through which the sender acts: one of theirs that takes part in the case
    (others learn nothing about the case: 404) and of a kind the model lets send ``name``
    (``rules.message_sender_agency``; 403 otherwise)."""
    acting = rules.acting_agency(actor, case)
    if acting is None:
        raise NotFound("case.not_found")
    live = case.instances.filter(status__in=LIVE_INSTANCE_STATUSES).values_list("definition_id", flat=True)
    runtimes = [runtime_for(definition_id) for definition_id in set(live)]
    if not any(name in runtime.messages for runtime in runtimes):
        return acting  # a message the process never waits for: 404 "nothing waits" below
    senders = {kind for runtime in runtimes for kind in _declared(runtime, name)["senders"]}
    agency = rules.message_sender_agency(actor, case, senders)
    if agency is None:
        raise Forbidden("message.sender_not_allowed", name=name)
    return agency


NOT_DECLARED = {"senders": (), "fields": ()}


def _declared(runtime, name) -> dict:
    """Who may send ``name`` and which fields it writes, as the model declares it
    (``bpmn.engine.write_rules``); an undeclared message nobody may send from outside."""
    return runtime.message_rules.get(name) or NOT_DECLARED


def _valid_payload(runtime, name, payload: dict) -> dict:
    """Only the fields the message declares, each valid as its form says: 400 naming
    every other field (another agency's data cannot ride on a message)."""
    declared = _declared(runtime, name)["fields"]
    errors = []
    with work_budget():  # one pattern budget for the whole payload, not one per field
        for key, value in payload.items():
            if key not in declared:
                errors.append(field_error(f"payload.{key}", "message.field_not_declared"))
                continue
            errors += schema_errors(runtime.field_validators[key].iter_errors(value), prefix=f"payload.{key}")
    if errors:
        raise InvalidInput("message.payload_invalid", errors=errors)
    return payload


def _check_messages_left(case, agency) -> None:
    """Conflict when ``agency`` has sent ``CASE_MESSAGES_PER_AGENCY`` messages into ``case``.
    Each is an event and an engine step, and each one a non-interrupting boundary catches keeps
    its branch in the workflow's state when done (about 2.4 KB): an agency that sent a new date
    and completed the task it opened in a loop grew the state to ``ENGINE_STATE_MAX_BYTES``, and
    the case stopped with an incident for every agency in it. Counted per sending agency (as
    the room for notes and files), under the instances' locks, only for messages that are let
    through: a duplicate or one refused as nothing new takes no room."""
    # A message between the case's own pools names its receiving agency and no actor: not sent by it.
    sent = Event.objects.filter(case=case, agency=agency, kind=EventKind.MESSAGE_RECEIVED, actor__isnull=False)
    room.refuse_when_full(
        sent, settings.CASE_MESSAGES_PER_AGENCY, code="message.case_messages_full", agency=agency.name
    )


def _news(case, fields: dict, agency) -> bool:
    """Whether ``fields`` tell the case something new: a field whose value differs from the
    case's, or that another agency (or nobody) wrote. Compared only with what the sender's own
    agency wrote, which it may always see: otherwise the answer (409 or 202) would tell the
    sender whether its guess equals a value it may not see."""
    data, sources = case.data or {}, case.data_sources or {}
    return any(sources.get(key) != agency.pk or data.get(key, _ABSENT) != value for key, value in fields.items())


_ABSENT = object()


def _remember(message_id, name, case, actor, sender_agency) -> bool:
    """Record the message id in the sender agency's namespace; False when another request
    recorded it first."""
    try:
        with transaction.atomic():
            ReceivedMessage.objects.create(
                message_id=message_id, name=name, case=case, sender=actor, sender_agency=sender_agency
            )
    except IntegrityError:
        return False
    return True
