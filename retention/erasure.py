"""Erasing a closed case's personal data so that no trace is left (issue 17).

What stays is what the figures and the auditor need and names nobody: the case row (its
reference, process, agencies, dates and status), its tasks (who worked what, when), its
events without values, its outcome without the free-text reason, note and attachment
rows without text, name or bytes, consents without purpose or note, and the access log
with the person replaced by a pseudonymous key. The person becomes a tombstone.
Everything else is emptied or deleted in one transaction that holds the case row.
"""

from __future__ import annotations

import json
import re
from datetime import datetime

from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import BooleanField, ExpressionWrapper, Q
from django.db.models.functions import Now
from django.utils import timezone

from core.errors import Conflict
from permissions import rules as permission_rules
from permissions.models import AccessAction, AccessLog, BreakGlass, Consent, Role
from retention.archive import remove_left_packages
from retention.models import ArchiveExport, Correction, ErasureRecord, ErasureTrigger
from retention.pseudonyms import person_key
from retention.rules import CaseRetention, retention_of, unmet_archive_duty
from retention.signals import case_erased
from workflows import steps
from workflows.attachment_storage import discard
from workflows.jobs.files import names_still_to_delete
from workflows.models import (
    Attachment,
    Case,
    CaseOutcome,
    CaseStatus,
    Event,
    Incident,
    Job,
    Note,
    NoteRevision,
    OutboxMessage,
    Person,
    ProcessInstance,
    ReceivedMessage,
)

TOMBSTONE_NAME = "(slettet)"
MASK = "…"  # what stands where a free text named the person (as an error's scrubbed value)
# Event details hold ids, kinds and field names; these keys carry what a sender, an error
# or a user wrote (the coordinator's reason for withdrawing an agency), so they go.
EVENT_DETAIL_VALUES = ("message_id", "error", "error_message", "reason")
# Keys of the serialized workflow state that hold process data (SpiffWorkflow 3's task
# and workflow data, data objects, the task-data deltas its serializer writes instead
# of a task's full data, the values of the message correlations the workflow threw or
# caught (``workflow.correlations``: a national id, a prison's case number), and the events
# thrown but not yet taken out, with their payloads), each with its empty value; the
# structure around them stays so that the diagram of the case can still show what was done.
STATE_DATA_KEYS: dict[str, dict | list] = {
    "data": {},
    "data_objects": {},
    "internal_data": {},
    "delta": {"updates": {}, "deletions": []},
    "correlations": {},
    "bpmn_events": [],
}


def tombstone_id(case_id: int) -> str:
    """An identifier in the national id column that is no national id (it has a letter)."""
    return f"X{case_id:010d}"


def is_due(retention: CaseRetention, moment: datetime) -> bool:
    return retention.erase_after is not None and retention.erase_after <= moment


def _hold_jobs_to_scrub(case_id: int) -> None:
    """The closed case's jobs whose error text the erasure clears, held before its work, as
    a job runner takes them (its job, then the instance: the retention job's own erasure of
    the case, an agency's system answering an external task). Taken after the work, the
    erasure met such a runner holding its job and waiting for the work, and PostgreSQL
    failed one of the two (``tests/retention/test_erasure_meets_its_job.py``). An open
    case's are not: a step holding its instance may be rescheduling its timer job, and an
    open case is not erased anyway (409 below)."""
    jobs = Job.objects.select_for_update().filter(case_id=case_id).exclude(last_error="")
    if Case.objects.filter(pk=case_id).exclude(status=CaseStatus.OPEN).exists():
        list(jobs.order_by("pk").values_list("pk", flat=True))


def erase_case(case_id: int, *, trigger: str, job=None, actor=None, reason: str = "") -> ErasureRecord | None:
    """Erase case ``case_id``; None when there was nothing to do (already erased, or, for
    the retention job, not due any more because a rule was changed since it was queued).

    Holds the case row for the transaction: of two workers erasing the same case, the
    second waits, then finds the record and does nothing.
    """
    with transaction.atomic():
        if not Case.objects.filter(pk=case_id).exists():
            return None
        _hold_jobs_to_scrub(case_id)
        # The case's instances, then the case, as every writer of them takes them
        # (``steps.lock_case_work``): a correction of the case file at the same moment, which
        # locks both too, is waited for, never waited on in a circle.
        case = steps.lock_case_work(case_id)
        if ErasureRecord.objects.filter(case_id=case_id).exists():
            return None
        if case.status == CaseStatus.OPEN:
            raise Conflict("retention.case_open")
        moment = timezone.now()
        retention = retention_of(case)
        if trigger == ErasureTrigger.RETENTION and not is_due(retention, moment):
            return None
        if duty := unmet_archive_duty(case):
            if trigger == ErasureTrigger.RETENTION:
                return None  # kept until the archive has its case file (the sweep skips it too)
            raise Conflict("retention.archive_duty", categories=", ".join(duty))
        if actor is not None:
            # Before the person becomes a key: this row is pseudonymised with the others.
            log_coordinator_action(
                actor,
                case,
                category="identity",
                action=AccessAction.WRITE,
                basis=permission_rules.BASIS_ERASURE_REQUEST,
                item="erasure",
            )
        # The coordinator's words about the person's request are kept with the record (the
        # auditor reviews them): never the person's name or national id, which the erasure
        # removes everywhere else.
        reason = without_person(reason, case)
        removed = _scrub_case(case)
        for _receiver, counts in case_erased.send(sender=Case, case=case):
            if isinstance(counts, dict):  # {kind: rows removed}
                removed.update({kind: count for kind, count in counts.items() if count})
        key = person_key(Person.objects.get(pk=case.person_id).national_id)
        removed.update(_tombstone_person(case))
        return ErasureRecord.objects.create(
            person_key=key,
            person_erased=bool(removed.get("persons")),
            case=case,
            trigger=trigger,
            erased_at=moment,
            closed_at=case.closed_at,
            due_at=retention.erase_after,
            rule=retention.rule.source,
            rule_category=retention.category,
            keep_years=retention.rule.keep_years,
            legal_basis=retention.rule.legal_basis,
            access_log_until=retention.access_log_until(moment),
            removed=removed,
            job=job,
            requested_by=actor,
            reason=reason,
        )


def delete_access_log(case_id: int, *, job=None) -> int | None:
    """Delete the access log of erased case ``case_id`` once its own period has ended
    (``ErasureRecord.access_log_until``), and, once the periods of all the erased cases
    of its person are over and the person is gone, the person's access-log rows without a
    case (``_delete_person_access_log``). Returns how many rows went; None when there was
    nothing to do (not erased, not due yet, or done already).

    Holds the erasure records of the person (in id order, so that two workers on two
    cases of one person never wait for each other in a circle): of two workers, the
    second waits, then finds it done and deletes nothing."""
    with transaction.atomic():
        key = ErasureRecord.objects.filter(case_id=case_id).values_list("person_key", flat=True).first()
        if key is None:
            return None
        held = Q(case_id=case_id) | Q(person_key=key) if key else Q(case_id=case_id)
        list(ErasureRecord.objects.select_for_update().filter(held).order_by("pk").values_list("pk", flat=True))
        # Due by the database's clock (the transaction's start), which the trigger asks too.
        record = (
            ErasureRecord.objects.filter(case_id=case_id)
            .annotate(due=ExpressionWrapper(Q(access_log_until__lte=Now()), output_field=BooleanField()))
            .get()
        )
        deleted = None
        if record.due and record.access_log_deleted_at is None:
            deleted = AccessLog.objects.filter(case_id=case_id).delete_past_retention()
            record.access_log_deleted_at = timezone.now()
            record.removed = {**record.removed, "access_log_rows_deleted": deleted}
            # The words about the person's request (the coordinator's reason, the auditor's
            # note: written after the person was gone, so never scrubbed of them) go with the
            # access log whose review they served: the record then names nothing of the person.
            record.reason, record.review_note = "", ""
            record.save(update_fields=["access_log_deleted_at", "removed", "reason", "review_note"])
        if record.due and record.person_key:
            person_rows = _delete_person_access_log(record)
            if person_rows is not None:
                deleted = (deleted or 0) + person_rows
        return deleted


def _delete_person_access_log(record: ErasureRecord) -> int | None:
    """The access-log rows about the person without a case (their access report or person
    page read): deleted once the person is gone (an erasure removed their last case) and
    the periods of all their erased cases are over, the latest counting. The records then
    forget the key, which nothing needs any more. None while not due (the records are held
    by the caller)."""
    key = record.person_key
    records = ErasureRecord.objects.filter(person_key=key)
    if not records.filter(person_erased=True).exists() or records.filter(access_log_until__gt=Now()).exists():
        return None
    deleted = AccessLog.objects.filter(case__isnull=True, person__isnull=True, person_key=key).delete_past_retention()
    record.refresh_from_db(fields=["removed"])
    record.removed = {**record.removed, "person_access_log_rows_deleted": deleted}
    record.save(update_fields=["removed"])
    records.update(person_key="")
    return deleted


def without_person(text: str, case: Case) -> str:
    """``text`` without the name (the case's and the person row's, whole or any word of it of
    three letters or more) or the national id (also written 6 + 5) of the case's person."""
    if not text:
        return text
    person = Person.objects.get(pk=case.person_id)
    names = {case.person_name, person.name}
    words = {word for name in names for word in re.findall(r"\w+", name or "") if len(word) >= 3}
    number = person.national_id
    numbers = {number, f"{number[:6]} {number[6:]}"} if number.isdigit() else set()
    for literal in sorted({*filter(None, names), *numbers}, key=len, reverse=True):
        text = re.sub(re.escape(literal), MASK, text, flags=re.IGNORECASE)
    for word in sorted(words, key=len, reverse=True):
        text = re.sub(rf"(?<!\w){re.escape(word)}(?!\w)", MASK, text, flags=re.IGNORECASE)
    return text


def _scrub_case(case: Case) -> dict[str, int]:
    removed: dict[str, int] = {}

    def count(kind: str, n: int) -> None:
        if n:
            removed[kind] = removed.get(kind, 0) + n

    count("case_data_fields", len(case.data or {}))
    # The times of its safety warnings go too: which field held one, and when it was recorded,
    # tell that the person was warned about (until h-attack34 they outlived the erasure); so do
    # the times their keepers were reminded of them (until h-safety3 they outlived it).
    case.data, case.data_sources, case.data_common, case.data_recorded_at = {}, {}, {}, {}
    case.safety_reminded = {}
    case.safety_since = case.safety_until = None  # when they lapsed: no more than that it had any
    case.save(
        update_fields=[
            "data",
            "data_sources",
            "data_common",
            "data_recorded_at",
            "safety_reminded",
            "safety_since",
            "safety_until",
        ]
    )

    for instance in ProcessInstance.objects.select_for_update().filter(case=case):
        instance.state = scrub_state(instance.state)
        instance.correlation_key, instance.correlation_agency = "", None
        instance.save(update_fields=["state", "correlation_key", "correlation_agency", "updated_at"])
        count("workflow_states", 1)
    # The workflows processes keep in memory after a step held the data erased here.
    steps.forget_cached_workflows([case.pk])

    for event in Event.objects.filter(case=case):
        detail = {key: value for key, value in (event.detail or {}).items() if key not in EVENT_DETAIL_VALUES}
        if detail != event.detail:
            Event.objects.filter(pk=event.pk).update(detail=detail)
            count("event_values", 1)

    count("note_revisions", NoteRevision.objects.filter(note__case=case).delete()[0])
    count("note_texts", Note.objects.filter(case=case).exclude(text="").update(text=""))
    # When a safety note was confirmed again, or its keepers reminded, tells, as a safety
    # field's time does, that the person was warned about and that the warning was kept (until
    # h-safety3 it outlived the erasure, as the fields' times did until h-attack34).
    confirmed = Note.objects.filter(case=case).filter(
        Q(confirmed_at__isnull=False) | Q(safety_reminded_for__isnull=False)
    )
    count("note_confirmations", confirmed.update(confirmed_at=None, safety_reminded_for=None))
    for attachment in Attachment.objects.filter(case=case):
        if attachment.stored_as:
            discard(attachment.stored_as, at_once=True)  # a failure fails the erasure: retried
            count("attachment_files", 1)
        if attachment.confirmed_at or attachment.safety_reminded_for:
            # As a safety note's: when a safety file was kept, and its keepers reminded (h-safety5).
            count("attachment_confirmations", 1)
        attachment.filename, attachment.stored_as, attachment.sha256 = "", "", ""
        attachment.confirmed_at = attachment.safety_reminded_for = None
        attachment.save(update_fields=["filename", "stored_as", "sha256", "confirmed_at", "safety_reminded_for"])
    for name in names_still_to_delete(case.pk):
        # A withdrawn file whose deletion has not passed yet (its job backs off): now, with
        # the case. Its job then finds nothing.
        discard(name, at_once=True)
        count("withdrawn_attachment_files", 1)
    count("archive_packages_left", remove_left_packages(case))
    count("incident_texts", Incident.objects.filter(case=case).exclude(error="").update(error="", error_message=None))
    count(
        "job_errors",
        Job.objects.filter(case=case).exclude(last_error="").update(last_error="", last_error_message=None),
    )
    count("outbox_messages", OutboxMessage.objects.filter(case=case).update(payload={}, correlations={}))
    for message in ReceivedMessage.objects.filter(case=case):
        # The sender's own id may name the person (a prison's case number): keep the row,
        # not the id.
        message.message_id = f"erased:{message.pk}"
        message.save(update_fields=["message_id"])
        count("received_message_ids", 1)
    count("consent_texts", Consent.objects.filter(case=case).update(purpose="", note=""))
    count("break_glass_texts", BreakGlass.objects.filter(case=case).update(reason="", review_note=""))
    count("corrections", Correction.objects.filter(case=case).delete()[0])  # their old values
    # A package kept for a retry (the case file as posted): the case file, so it goes too.
    kept = ArchiveExport.objects.filter(case=case, body__isnull=False)
    count("archive_packages", kept.update(body=None, body_categories=""))
    count("outcome_reasons", CaseOutcome.objects.filter(case=case).exclude(reason="").update(reason=""))
    count("admin_log_entries", scrub_admin_log(Case, [case.pk]))
    return removed


def scrub_state(state: str) -> str:
    """The workflow state text with every task's and the workflow's data emptied."""

    def walk(node):
        if isinstance(node, dict):
            return {
                key: (STATE_DATA_KEYS[key] if _holds_data(key, value) else walk(value)) for key, value in node.items()
            }
        if isinstance(node, list):
            return [walk(item) for item in node]
        return node

    return json.dumps(walk(json.loads(state)))


def _holds_data(key: str, value) -> bool:
    """Whether ``value`` under ``key`` is process data (a dict or list, as its empty value)."""
    return key in STATE_DATA_KEYS and type(value) is type(STATE_DATA_KEYS[key])


def _tombstone_person(case: Case) -> dict[str, int]:
    """The case (and its consents) move to a tombstone person of their own, its own name
    (``Case.person_name``) with them; the access-log rows of the case keep the person only
    as a pseudonymous key. The person row itself is deleted once no case of theirs is left,
    with their remaining access-log rows (those about the person without a case)
    pseudonymised first."""
    person = Person.objects.select_for_update().get(pk=case.person_id)
    key = person_key(person.national_id)
    tombstone = Person.objects.create(name=TOMBSTONE_NAME, national_id=tombstone_id(case.pk))
    Case.objects.filter(pk=case.pk).update(person=tombstone, person_name=TOMBSTONE_NAME)
    case.person_name = TOMBSTONE_NAME
    Consent.objects.filter(case=case).update(person=tombstone)
    BreakGlass.objects.filter(case=case).update(person=tombstone)
    removed = {"access_log_rows_pseudonymised": AccessLog.objects.filter(case=case).pseudonymise(key)}
    left = list(Case.objects.filter(person=person).order_by("-opened_at", "-id").values_list("person_name", flat=True))
    if not left:
        removed["person_access_log_rows_pseudonymised"] = AccessLog.objects.filter(person=person).pseudonymise(key)
        scrub_admin_log(Person, [person.pk])
        person.delete()
        removed["persons"] = 1
    elif person.name not in left:
        # The person row has the name this case was started with (it was their first): it
        # goes with the case, and the person keeps the name of their latest case left.
        person.name = left[0]
        person.save(update_fields=["name"])
        removed["person_names"] = 1
        if scrubbed := scrub_admin_log(Person, [person.pk]):  # its history names them so
            removed["person_admin_log_entries"] = scrubbed
    return removed


def scrub_admin_log(model, pks) -> int:
    """The Django admin's history names objects by their text (a person's name)."""
    return LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(model), object_id__in=[str(pk) for pk in pks]
    ).update(object_repr="", change_message="")


def log_coordinator_action(
    actor, case, *, category: str, action: str, basis: str, item: str, acting: tuple[int, str] | None = None
) -> None:
    """An erasure, correction or archive export the case's coordinator asked for, in the
    access log (the person's report shows it; the auditor reviews it). ``acting``: (agency
    id, role) of a caseworker correcting what their agency recorded, instead."""
    agency_id, role = acting or (case.coordinator_agency_id, Role.COORDINATOR)
    AccessLog.objects.create(
        user=actor,
        username=actor.get_username(),
        role=role,
        agency_id=agency_id,
        case=case,
        person_id=case.person_id,
        category=category,
        action=action,
        basis=basis,
        item=item,
    )
