"""Delivering a thrown message (an intermediate throw or end event) to the case that waits
for it, through the job table.

The step that throws writes the outbox row and one ``message`` job in its transaction.
The job runs like the other jobs of ``workflows.jobs.handlers``: claimed with ``SKIP
LOCKED`` and delivered inside the transaction that holds it and the receiver's instance
lock, so a message is caught once however many workers run, and a worker killed half-way
rolls the delivery back with the claim.

Which instance catches it, BPMN's way: one that waits for the message's name and whose
correlation (SpiffWorkflow compares the message's correlation properties with the
receiver's) matches. A message goes only to cases of the same person as the case that
threw it, with the same agencies taking part (``_reachable``): a model can neither carry
one person's data into another person's case nor tell another service that the person has
a case here. A message without correlation properties goes only to another instance of the
same case. Nothing waiting yet (the receiver has not reached its catch event) is a failed
attempt: the job backs off and tries again, and the last attempt opens an incident on the
sender. A case outside those bounds that waits for the message counts as nothing waiting:
the sender's attempts and incident are the same as when no case exists at all.

What the payload carries in is decided here too (``_admitted_payload``): a field enters
the receiving workflow only when every agency of the receiving case may see there each
value of the sending case it is computed from (the receiving case's consents decide); the
fields that enter are in the receiving case's access log, the others never arrive.
"""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q

from bpmn.engine import events as engine_events
from bpmn.engine import runtime as engine
from bpmn.engine.events import NoWaitingEvent
from bpmn.registry import runtime_for
from permissions import policy, rules
from permissions.models import CaseParticipant
from workflows import steps
from workflows.jobs import handlers, queue
from workflows.jobs.errors import JobError
from workflows.models import (
    LIVE_INSTANCE_STATUSES,
    EventKind,
    Job,
    JobKind,
    OutboxMessage,
    OutboxStatus,
    ProcessInstance,
)


class NothingWaits(Exception):
    """No instance waits for the message now (or none of them correlates). ``job_error``:
    what the job records (the message's name, a name of the model, never its payload)."""

    def __init__(self, name: str):
        self.job_error = JobError("job.message.nothing_waits", name=name)
        super().__init__(self.job_error)


def _reachable(message: OutboxMessage) -> Q:
    """The cases a thrown message may reach (a condition on process instances).

    Without correlation properties: its own case. With them: the cases of the same person,
    with the same coordinating agency and exactly the same agencies taking part as the
    sending case. Both directions tell: a case that catches it learns that the person has
    the sending case (its event, the payload in its data), and the sender's job that does
    not fail tells every agency of the sending case that a case waits. With the same
    agencies neither tells anyone of a case they take no part in. The coordinator alone
    bounded nothing: whoever starts a case names its agencies, and naming a housing office
    makes it the coordinator (the review's probe, ``tests/workflows/jobs/test_messages_chosen_coordinator.py``). A
    follow-on case (``services.start_follow_on``) with the same agencies catches what the
    earlier case threw; one that left an agency out, or took one in, does not.

    The bound is in the query that finds the candidates, before any is locked or loaded:
    a case outside it costs the sender nothing that a case that does not exist would not.
    """
    case = message.case
    if not message.correlations:
        return Q(case_id=case.pk)
    # The coordinator alone is no bound: whoever starts a case names its agencies, and naming
    # a housing office makes it the coordinator. So the agencies of both cases must be the
    # same: none of the receiving case's is told of a case it takes no part in (a message
    # came, its payload), none of the sending case's learns from its job that a case waits.
    agencies = set(CaseParticipant.objects.filter(case_id=case.pk).values_list("agency_id", flat=True))
    reachable = Q(case__person_id=case.person_id, case__coordinator_agency_id=case.coordinator_agency_id) & ~Q(
        Exists(CaseParticipant.objects.filter(case_id=OuterRef("case_id")).exclude(agency_id__in=agencies))
    )
    for agency_id in agencies:
        reachable &= Q(Exists(CaseParticipant.objects.filter(case_id=OuterRef("case_id"), agency_id=agency_id)))
    return reachable


def _receivers(message: OutboxMessage):
    """Live instances that may catch ``message``, locked (``SKIP LOCKED``: a busy one is
    tried on the next attempt), the sender's other instances first."""
    sender = message.instance
    candidates = (
        ProcessInstance.objects.filter(_reachable(message), status__in=LIVE_INSTANCE_STATUSES)
        .exclude(pk=sender.pk)
        .values_list("id", "definition_id", "case_id")
    )
    waiting_for_name = [
        (pk, case_id)
        for pk, definition_id, case_id in candidates
        if message.name in runtime_for(definition_id).messages
    ]
    waiting_for_name.sort(key=lambda item: (item[1] != message.case_id, item[0]))
    for pk, _case_id in waiting_for_name:
        instance = steps.locked_instances(skip_locked=True).filter(pk=pk).first()
        if instance is not None:
            yield instance


def _admitted_payload(message: OutboxMessage, case, workflow) -> tuple[dict, list]:
    """The fields of ``message``'s payload that may enter ``case`` (the receiver's, whose
    ``workflow`` waits for it), and the grounds on which its agencies see them (for the
    access log).

    Each field carries the sending case's data its value is computed from (the thrower's
    payload expression, ``DefinitionRuntime.payload_reads``); it enters only when every
    agency taking part in ``case`` may see each of those values there
    (``rules.message_field_grounds``: consent is given per case, so the receiving case's
    consents decide). The others are left out, as a page masks a value: the receiving
    workflow never holds them. A field the sender's model does not show is left out too.
    Nothing is checked (or logged) for another instance of the same case, whose data it is
    already, nor for a field whose value the receiver already holds as its correlation
    (``engine_events.known_correlation_fields``: it needs it to catch the message)."""
    if case.pk == message.case_id:
        return dict(message.payload), []
    sender = runtime_for(message.instance.definition_id)
    reads = sender.payload_reads.get(message.name)
    known = engine_events.known_correlation_fields(workflow, message.name, message.payload)
    agencies = [
        participant.agency for participant in CaseParticipant.objects.select_related("agency").filter(case_id=case.pk)
    ]
    consents = rules.active_consents(case)
    sources = message.case.data_sources or {}
    # A safety warning out of time in the sending case reaches no other case (nor a field
    # computed from it): it no longer labels the person (``policy.warning_dates``).
    lapsed = policy.lapsed_warnings(message.case, sender.field_rules)
    admitted, grounds = {}, []
    for name, value in message.payload.items():
        if name in known:
            admitted[name] = value
            continue
        names = reads.of(name) if reads is not None else None
        found = None
        if names is not None:
            # A field a step on a split's branch wrote tells the branch (its value, or that it
            # has one): the split's reads must be seen too (``split_reads_of``).
            names = names | sender.split_reads_of(names)
            found = rules.message_field_grounds(case, agencies, names, sender.field_rules, sources, consents, lapsed)
        if found is not None:
            admitted[name] = value
            grounds += found
    return admitted, grounds


def _branch_grounds(message: OutboxMessage, case) -> list | None:
    """Whether ``message`` may reach ``case``, by the branch it was thrown on: a message thrown
    on a split's branch (a gateway's, a data timer's, a loop's) tells another case that caught
    it the value the split read, as a field of its payload computed from it would
    (``_admitted_payload``): it goes there only when every agency of ``case`` sees those
    values there (their grounds, for the access log), else counts as nothing waiting. Its own
    case's instances decide by their readers' path views. Before (2026-12-06), the receiving
    case's analysis took its catch as set off by its own model only: NAV read, off the
    follow-on case's task the catch made, the health value that chose the branch."""
    if case.pk == message.case_id:
        return []
    sender = runtime_for(message.instance.definition_id)
    names = sender.branch_reads_of_throw(message.element_id, message.name)
    if not names:
        return []
    agencies = [
        participant.agency for participant in CaseParticipant.objects.select_related("agency").filter(case_id=case.pk)
    ]
    sources = message.case.data_sources or {}
    # A lapsed safety warning the split read steers no message into another case, as it is
    # not carried in a payload (``policy.lapsed_warnings``, ``rules.message_field_grounds``):
    # until 2026-12-07 the branch told NAV what the warning it sees only as lapsed said.
    lapsed = policy.lapsed_warnings(message.case, sender.field_rules)
    consents = rules.active_consents(case)
    return rules.message_field_grounds(case, agencies, names, sender.field_rules, sources, consents, lapsed)


def _correlation_grounds(message: OutboxMessage, case, receiver) -> list | None:
    """Whether ``message`` may reach ``case`` (whose version's runtime is ``receiver``) by what
    the correlation values compared are computed from: another case catches it only when the
    message's values equal those that case correlated on (``engine_events.correlation_matches``),
    so its catching (the work after it there; the sender's delivery failing or not) tells each
    side whether the other's values are what it guesses. A property computed, on one side, from
    case data the other side's value of it is not (``DefinitionRuntime.correlation_reads``:
    through the payload, from script variables, and what a split's branch wrote) counts as a
    payload field computed from it does: the message goes there only when every agency of
    ``case`` (the sending case's agencies too, ``_reachable``) sees those values (their grounds,
    for the access log), else counts as nothing waiting, whatever the values. A field compared
    with the field of the same name (an applicant's id with the applicant's id) is the
    identifier correlation is for, as ``_admitted_payload`` takes it (docs/security.md). Until
    h-attack38 a payload ``{"applicant_id": applicant_id if needs_treatment else ""}`` reached
    NAV's case of the person, and opened NAV's task there, only where the person needed
    treatment. Its own case's instances decide by their readers' path views."""
    if case.pk == message.case_id or not message.correlations:
        return []
    props = {prop for values in message.correlations.values() if isinstance(values, dict) for prop in values}
    sender = runtime_for(message.instance.definition_id)
    sides: list[tuple] = []
    for runtime, holder, other in ((sender, message.case, receiver), (receiver, case, sender)):
        names: set[str] = set()
        for prop in props:
            names |= runtime.correlation_reads.get(prop, frozenset()) - other.correlation_reads.get(prop, frozenset())
        if names:
            sides.append((runtime, holder, frozenset(names) | runtime.split_reads_of(frozenset(names))))
    if not sides:
        return []
    agencies = [
        participant.agency for participant in CaseParticipant.objects.select_related("agency").filter(case_id=case.pk)
    ]
    consents = rules.active_consents(case)
    grounds: list = []
    for runtime, holder, names in sides:
        lapsed = policy.lapsed_warnings(holder, runtime.field_rules)
        found = rules.message_field_grounds(
            case, agencies, names, runtime.field_rules, holder.data_sources or {}, consents, lapsed
        )
        if found is None:
            return None
        grounds += found
    return grounds


def _withheld_names(message: OutboxMessage, admitted: dict) -> list[str]:
    """The fields of ``message``'s payload left out of the receiving case, named as the
    sender's model names them (``DefinitionRuntime.payload_names``): a key the expression
    computed (``{diagnosis: True}``, a script's summary keyed by medication) is a value of the
    sending case, and is not written into the receiving case's timeline."""
    named = runtime_for(message.instance.definition_id).payload_names(message.name)
    return sorted(name for name in set(message.payload) - set(admitted) if name in named)


def deliver(job: Job) -> None:
    """Deliver the job's outbox message to the one instance that catches it (raises
    NothingWaits when none does: the attempt is counted and the job backs off)."""
    # Held: a correction of the sending case corrects a waiting payload under this lock
    # (``retention.services``), so a delivery never takes the value it corrects away.
    message = (
        OutboxMessage.objects.select_for_update(of=("self",))
        .select_related("instance", "case")
        .filter(pk=job.payload.get("outbox_id"))
        .first()
    )
    if message is None or message.status != OutboxStatus.PENDING:
        return
    for instance in _receivers(message):
        runtime, workflow = steps.load(instance)
        if message.name not in engine_events.waiting_message_names(workflow):
            continue
        if message.correlations and not engine_events.correlation_matches(workflow, message.correlations):
            continue
        branch = _branch_grounds(message, instance.case)
        if branch is None:
            continue  # it would tell the branch it was thrown on: as if nothing waited
        correlated = _correlation_grounds(message, instance.case, runtime)
        if correlated is None:
            continue  # its catching would tell what its correlation was computed from: likewise
        step = steps.Step(instance, ready_before=engine.ready_user_task_ids(workflow))
        payload, grounds = _admitted_payload(message, instance.case, workflow)
        grounds += branch + correlated
        try:
            element_ids = engine_events.deliver_message(workflow, message.name, payload, message.correlations)
        except NoWaitingEvent:
            element_ids = []
        if not element_ids:
            continue  # waits for the name, but its correlation does not match
        policy.log_message_fields(
            instance.case, message_name=message.name, item=f"message:{message.pk}", grounds=grounds
        )
        step.event(
            EventKind.MESSAGE_RECEIVED,
            element_id=element_ids[0],
            detail={
                "name": message.name,
                "from_case": message.case.reference,
                "fields": sorted(payload),
                "withheld": _withheld_names(message, payload),
            },
        )
        steps.advance(step, runtime, workflow)
        message.status, message.delivered_at = OutboxStatus.DELIVERED, queue.now()
        message.save(update_fields=["status", "delivered_at"])
        return
    raise NothingWaits(message.name)


handlers.register(JobKind.MESSAGE, deliver)
