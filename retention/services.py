"""The person's rights on request, one function per use case (the web pages and the API
call these): erasure before the retention ends (GDPR art. 17), correction of a wrong value
(art. 16), and the auditor's review of an erasure."""

from __future__ import annotations

import json
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from bpmn.registry import runtime_for
from core.errors import Conflict, Forbidden, InvalidInput, NotFound, field_error
from core.ids import lookup_id, parse_id
from core.national_id import InvalidNationalId, validate_national_id
from permissions import policy, rules
from permissions.models import ALL_CATEGORIES, RESTRICTED, AccessAction, AccessLog, BreakGlass, Consent, Role
from retention.archive import keep_pending_packages
from retention.erasure import erase_case, log_coordinator_action, scrub_admin_log
from retention.models import (
    ArchiveExport,
    ArchiveStatus,
    Correction,
    CorrectionStatus,
    ErasureRecord,
    ErasureTrigger,
    RetentionRule,
    RetentionRuleChange,
    RuleChange,
)
from retention.pseudonyms import person_key
from retention.rules import rules_for_process
from retention.selectors import NATIONAL_ID, PERSON_FIELDS
from workflows import case_outcomes, selectors, steps
from workflows.forms import schema_errors
from workflows.input_limits import check_data, check_texts
from workflows.jobs import queue
from workflows.models import (
    Case,
    CaseStatus,
    Event,
    EventKind,
    Job,
    JobKind,
    JobStatus,
    OutboxMessage,
    Person,
    ProcessInstance,
)
from workflows.outcomes import CaseOutcome, OutcomeKind, Tenure
from workflows.services.safety import told_of_warning

REASON_MAX_CHARS = 2000


def _case(actor, case_id, allowed) -> Case:
    """The case, when ``actor`` may do this to it: 404 when they cannot see it at all, 403
    when they see it but may not. Each of ``allowed`` and the 403 rest on a role of theirs
    standing in the case: read first by the id, a case where none stands answers 404 as an id
    no case has, after the same statements (``selectors.case_of_standing``)."""
    case = selectors.case_of_standing(actor, case_id)
    if case is None:
        raise NotFound("case.not_found")
    if allowed(actor, case):
        return case
    if rules.can_view_case(actor, case) or rules.can_review_retention(actor, case):
        raise Forbidden("retention.not_coordinator")
    raise NotFound("case.not_found")


def case_to_correct(actor, case_id) -> Case:
    """The case, when ``actor`` may correct its values (404 or 403 otherwise, as
    ``correct_value`` answers): for a page that reads the case's fields first."""
    return _case(actor, case_id, rules.can_correct_case_data)


def visible_fields(actor, case) -> list[str]:
    """The case's values ``actor`` sees. A value masked for them is neither corrected nor
    compared (an answer such as "the same as the old one" would tell it), and whether it is
    there at all is not told either: it answers as a field the case does not have."""
    return selectors.fields_seen_by(actor, case)


def correctable_fields(actor, case) -> list[str]:
    """The case's values ``actor`` may correct: those they see and answer for
    (``rules.can_correct_value``: the agency that recorded the value; the coordinator for
    identity and, on a closed case, the case file)."""
    fields = selectors.case_field_rules(case)
    retention = rules_for_process(case.process_key)
    # A value a hidden branch may have written over shows as the case had it before
    # (``Case.data_common``), with the agency that recorded that: it corrects that value.
    rewritten = selectors.branch_fields_hidden(actor, case)
    common = _common_corrected(case, rewritten)
    sources = {**(case.data_sources or {}), **{name: common[name][1] for name in common}}
    taking_part = set(case.participants.values_list("agency_id", flat=True))
    shown = visible_fields(actor, case)
    return [
        name
        for name in shown
        if (name not in rewritten or name in common)
        and _may_correct_with(
            actor, case, fields.fields.get(name, RESTRICTED), sources.get(name), retention, taking_part
        )
    ]


def _common_corrected(case: Case, hidden) -> dict[str, list]:
    """Field -> [value, agency] of ``Case.data_common`` for the fields of ``hidden`` (a hidden
    branch may have written over them): the value the reader is shown, and corrects."""
    common = case.data_common or {}
    return {name: common[name] for name in hidden if isinstance(common.get(name), list) and len(common[name]) == 2}


# Which value a correction is of (``correct_value(of=)``): the value the case shows the
# actor, or the one a step every case passes recorded before a step on a branch the actor
# sees wrote over it (``Case.data_common``).
CURRENT, EARLIER = "current", "earlier"
VALUES_OF = (CURRENT, EARLIER)


def value_of(of) -> str:
    """``of`` as given (None: ``CURRENT``); 400 naming ``of`` when it is neither choice."""
    if of is None or of == "":
        return CURRENT
    if not isinstance(of, str) or of not in VALUES_OF:
        raise _invalid(field_error("of", "field.invalid_choice"))
    return of


def check_may_correct(actor, case, field: str, of: str = CURRENT) -> None:
    """Refuse ``field`` unless ``actor`` may correct it: the person's name and national id
    only the coordinator (403); a value they do not see answers as one the case does not
    have (400); a value another agency answers for, 403 naming no value. ``of``:
    ``EARLIER``, see ``earlier_value``."""
    if field in PERSON_FIELDS:
        if not rules.is_case_coordinator(actor, case):
            raise Forbidden("retention.not_coordinator")
        if of == EARLIER:
            raise _invalid(field_error("of", "retention.no_earlier_value"))
        return
    if of == EARLIER:
        earlier_value(actor, case, field)
        return
    if field not in visible_fields(actor, case):
        # A lapsed safety warning is told of («Advarsel utløpt») though its value is not shown:
        # a value that is there, that the agency that recorded it and the coordinator answer
        # for (403, as the confirmation answers), not one the case does not have.
        if told_of_warning(actor, case, field):
            raise Forbidden("retention.recorded_by_other_agency")
        raise InvalidInput("retention.invalid", errors=[field_error("field", "retention.unknown_field")])
    if field not in correctable_fields(actor, case):
        raise Forbidden("retention.recorded_by_other_agency")


def earlier_value(actor, case, field: str) -> dict[str, list]:
    """``{field: [value, agency]}`` of ``Case.data_common``: the value a step every case
    passes recorded, which a step on a branch may have written over, for a correction of it
    (``of=EARLIER``) by ``actor``, who sees the branch. The agency that recorded it answers for
    it whatever the branch wrote later (GDPR art. 16): it is shown that value
    (``policy.case_data_for``'s ``earlier``) and corrects it by the same rules
    (``rules.can_correct_value``) as where no branch wrote over it. A reader from whom the
    branch is hidden is shown that value already: for them ``EARLIER`` is the value they are
    shown (``{}``: the default path), so their answer is the same whichever branch the case
    took. 400 naming ``field`` for a value the actor sees neither now nor as recorded (as a
    field the case does not have), 400 naming ``of`` for a field no such step recorded, 403
    for another agency's value."""
    hidden = selectors.branch_fields_hidden(actor, case)
    if field in hidden:
        check_may_correct(actor, case, field)
        return {}
    common = _common_corrected(case, {field})
    access = rules.case_access(actor, case)
    own = field in common and common[field][1] in access.agency_ids
    if field not in (case.data or {}) or not (own or field in visible_fields(actor, case)):
        raise InvalidInput("retention.invalid", errors=[field_error("field", "retention.unknown_field")])
    if field not in common:
        raise _invalid(field_error("of", "retention.no_earlier_value"))
    if not _may_correct(actor, case, field, common[field][1]):
        raise Forbidden("retention.recorded_by_other_agency")
    return common


def _may_correct(actor, case, name: str, recorded_by: int | None) -> bool:
    category = selectors.case_field_rules(case).fields.get(name, RESTRICTED)
    retention = rules_for_process(case.process_key)
    taking_part = set(case.participants.values_list("agency_id", flat=True))
    return _may_correct_with(actor, case, category, recorded_by, retention, taking_part)


def _may_correct_with(actor, case, category: str, recorded_by: int | None, retention, taking_part) -> bool:
    """``rules.can_correct_value`` for a value of ``category`` recorded by ``recorded_by``, with
    the process's retention rules and the agencies taking part read once by the caller."""
    return rules.can_correct_value(
        actor,
        case,
        category=category,
        recorded_by=recorded_by,
        case_open=case.status == CaseStatus.OPEN,
        in_case_file=retention.get(category, retention[RESTRICTED]).in_case_file,
        recorder_left=recorded_by is not None and recorded_by not in taking_part,
    )


def earlier_choices(actor, case) -> list[str]:
    """The fields whose earlier value (``earlier_value``) ``actor``'s own agency recorded and a
    step on a branch they see wrote over (another value, or another agency's): those the
    correction form offers the choice for. Nothing to read for a case without such a value."""
    common = case.data_common or {}
    data, sources = case.data or {}, case.data_sources or {}
    access = rules.case_access(actor, case) if common else None
    if not access:
        return []
    mine = [
        name
        for name, pair in common.items()
        if isinstance(pair, list)
        and len(pair) == 2
        and pair[1] in access.agency_ids
        and name in data
        and (data[name] != pair[0] or sources.get(name) != pair[1])
    ]
    if not mine:
        return []
    hidden = selectors.branch_fields_hidden(actor, case)
    return [name for name in mine if name not in hidden and _may_correct(actor, case, name, common[name][1])]


def earlier_shown(actor, case, field: str):
    """The earlier value of ``field`` (one of ``earlier_choices``) for the correction form to show
    the agency that recorded it, its read logged as the case answer's ``earlier`` is (own data).
    Until h-attack19 the form showed it without an access-log row."""
    value, recorded_by = (case.data_common or {})[field]
    category = rules.category_of(selectors.case_field_rules(case).fields.get(field, RESTRICTED))
    policy.log_earlier_read(actor, case, category, recorded_by)
    return policy.earlier_value_shown(field, category, value)


def _reason(reason) -> str:
    if not isinstance(reason, str) or not reason.strip() or len(reason) > REASON_MAX_CHARS:
        raise InvalidInput(
            "retention.invalid", errors=[field_error("reason", "field.expected_nonempty_text", limit=REASON_MAX_CHARS)]
        )
    check_texts(reason=reason)
    return reason.strip()


def erase_on_request(*, actor, case_id, reason) -> ErasureRecord:
    """Erase a closed case's personal data now, before its retention ends, on the person's
    request. Refused (409, naming the categories) while the archive duty is unmet."""
    case = _case(actor, case_id, rules.can_erase_on_request)
    reason = _reason(reason)
    if ErasureRecord.objects.filter(case=case).exists():
        raise Conflict("retention.erased")
    record = erase_case(case.pk, trigger=ErasureTrigger.REQUEST, actor=actor, reason=reason)
    if record is None:  # erased meanwhile by another request or the retention job
        raise Conflict("retention.erased")
    return record


def request_archive_export(*, actor, case_id) -> ArchiveExport:
    """Hand a closed case's case file to the archive: queued through the job table (the
    worker writes the package); recorded on the case and in the access log (``export``)."""
    case = _case(actor, case_id, rules.can_erase_on_request)
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=case.pk)
        if case.status == CaseStatus.OPEN:
            raise Conflict("retention.case_open_export")
        if ErasureRecord.objects.filter(case=case).exists():
            raise Conflict("retention.erased")
        # An export whose job failed after its last attempt (an incident on the case) is
        # failed: a new one may be asked for.
        ArchiveExport.objects.filter(case=case, status=ArchiveStatus.PENDING, job__status=JobStatus.FAILED).update(
            status=ArchiveStatus.FAILED
        )
        if ArchiveExport.objects.filter(case=case, status=ArchiveStatus.PENDING).exists():
            raise Conflict("retention.export_pending")
        export = _queue_export(actor, case)
    queue.wake_workers()
    return export


def _queue_export(actor, case: Case, *, replaces: ArchiveExport | None = None, acting=None) -> ArchiveExport:
    """A new archive export of ``case`` (held) and its job, in the access log (``export``)."""
    moment = timezone.now()
    export = ArchiveExport.objects.create(case=case, requested_by=actor, requested_at=moment, replaces=replaces)
    job = Job.objects.create(
        kind=JobKind.ARCHIVE_EXPORT,
        due_at=moment,
        case=case,
        # the case's first instance: a job that fails for good opens an incident on it
        instance=ProcessInstance.objects.filter(case=case).order_by("id").first(),
        max_attempts=queue.conf("JOB_MAX_ATTEMPTS"),
        payload={"export_id": export.pk},
    )
    export.job = job
    export.save(update_fields=["job"])
    log_coordinator_action(
        actor,
        case,
        category="identity",
        action=AccessAction.EXPORT,
        basis=rules.BASIS_ARCHIVE_DUTY,
        item=f"archive-export:{export.pk}",
        acting=acting,
    )
    return export


def _exported(case: Case) -> ArchiveExport | None:
    """Before the case file of ``case`` (held) is corrected: its latest export handed over
    or waiting, if any, whose pending packages keep the bytes they may already have posted
    (``archive.keep_pending_packages``); the correction then goes as a new export."""
    pending = keep_pending_packages(case)
    done = ArchiveExport.objects.filter(case=case, status=ArchiveStatus.DONE).order_by("-pk").first()
    return max([*pending, *([done] if done else [])], key=lambda export: export.pk, default=None)


def _person_cases_exported(case: Case) -> list[tuple[Case, ArchiveExport]]:
    """Before the national id of ``case``'s person changes: it is in the case file of each of
    their cases the decision settles (those ``case``'s agency coordinates, ``_decided_cases``;
    not erased; held by the caller), so each such case with an export keeps its pending
    packages and gets a new export afterwards. Other agencies' cases keep their number."""
    cases = (
        Case.objects.filter(person_id=case.person_id, coordinator_agency_id=case.coordinator_agency_id)
        .exclude(pk__in=ErasureRecord.objects.values("case_id"))
        .order_by("pk")
    )
    return [(other, exported) for other in cases if (exported := _exported(other)) is not None]


def _export_corrections(actor, exported: list[tuple[Case, ArchiveExport]]) -> None:
    for case, export in exported:
        _export_correction(actor, case, export, (case.coordinator_agency_id, Role.AUDITOR), category="identity")


def _export_correction(actor, case: Case, exported: ArchiveExport | None, acting, *, category: str) -> None:
    """A case file corrected after an export was done or ordered (a value of ``category``,
    when the process's rules put it in the case file): the archive gets the corrected case
    file as a new export, under its own Idempotency-Key, naming the one it replaces (never
    the same key with other bytes)."""
    if exported is None or not rules_for_process(case.process_key)[rules.category_of(category)].in_case_file:
        return
    _queue_export(actor, case, replaces=exported, acting=acting)
    transaction.on_commit(queue.wake_workers)


def note_changing_after_close(*, case: Case, actor, agency_id: int, categories, shown=()) -> bool:
    """A note or an attachment of the closed ``case`` (held, by the note's or attachment's
    service: ``workflows.services.notes.CLOSED_CASE_CHANGES``) is about to be corrected or
    withdrawn by its agency (GDPR art. 16 reaches past the close). The case file's timeline
    lists the change when ``coordination`` is in the case file (a note's correction only when
    the note's category before or after it, ``categories``, is too: the case file masks the
    corrections of a note of a category it leaves out; None for a withdrawal, listed whatever
    its category); its notes show the note itself when its category before or after the change
    (``shown``) is in the case file (``archive.iter_case_file_notes``), coordination or not. Either
    way, once an export was done or ordered the archive gets the case file again
    as a new export naming the one it replaces, as for a corrected value: an export waiting
    keeps its package as it stands (``_exported``), and the export job holds the case as we
    do, so no change lands between its build and its delivery. The export's access-log row is
    the changing agency's. True when a new export was queued."""
    rules_in_force = rules_for_process(case.process_key)

    def in_file(category: str) -> bool:
        return rules_in_force[rules.category_of(category)].in_case_file

    listed = rules_in_force["coordination"].in_case_file and (categories is None or any(map(in_file, categories)))
    if not listed and not any(map(in_file, shown)):
        return False
    if ErasureRecord.objects.filter(case=case).exists():  # nothing of it goes to the archive again
        return False
    exported = _exported(case)
    if exported is None:  # the archive has nothing of the case yet: its first export will carry it
        return False
    standing = rules.case_access(actor, case).acting
    acting = next(((agency.pk, role) for agency, role in standing if agency.pk == agency_id), None)
    _queue_export(actor, case, replaces=exported, acting=acting)
    transaction.on_commit(queue.wake_workers)
    return True


def _standing_first(rows, actor):
    """The row of ``rows`` (one id: an erasure, a correction), when a role of ``actor`` stands
    in its case (its auditors decide it): one of a case they have no part in is no row, found
    by the same statement as an id no row has (docs/security.md "404 alike"; until h-attack27
    an outside auditor's 404 came a statement later for a row that was there)."""
    if getattr(actor, "is_authenticated", False):
        rows = rows.filter(rules.stands_in_case_of_row(actor.pk))
    return rows.first()


def review_erasure(*, actor, erasure_id, note) -> ErasureRecord:
    """An auditor confirms an erasure on request was made on a ground that holds (or notes
    why not). Once per erasure."""
    record = _standing_first(ErasureRecord.objects.select_related("case").filter(pk=lookup_id(erasure_id)), actor)
    if record is None or not rules.can_review_retention(actor, record.case):
        raise NotFound("retention.erasure_not_found")
    note = _reason(note) if note else ""
    with transaction.atomic():
        record = ErasureRecord.objects.select_for_update().get(pk=record.pk)
        if record.trigger != ErasureTrigger.REQUEST:
            raise Conflict("retention.not_request")
        if record.reviewed_at is not None:
            raise Conflict("retention.reviewed")
        record.reviewed_at, record.reviewed_by, record.review_note = timezone.now(), actor, note
        record.save(update_fields=["reviewed_at", "reviewed_by", "review_note"])
    return record


def correct_value(*, actor, case_id, field, value, reason, of=None) -> Correction:
    """Correct one wrong value of a case (a form field, or the person's name or national
    id): the old value is kept only in the ``Correction`` (the audit trail, erased with the
    case), replaced everywhere else, the workflow state included. ``of``: ``CURRENT`` (the
    default), the value the case shows the actor; ``EARLIER``, the value a step every case
    passes recorded before a step on a branch wrote over it (``earlier_value``)."""
    case = _case(actor, case_id, rules.can_ask_correction)
    reason = _reason(reason)
    if not isinstance(field, str) or not field:
        raise InvalidInput("retention.invalid", errors=[field_error("field", "field.required")])
    of = value_of(of)
    with transaction.atomic():
        # The instances before the case, as an engine step takes them: a data field is
        # replaced in their state too (``steps.lock_case_work``).
        case = steps.lock_case_work(case.pk)
        if ErasureRecord.objects.filter(case=case).exists():
            raise Conflict("retention.erased")
        old: object
        common: dict[str, list] = {}
        if of == EARLIER and field != NATIONAL_ID and field not in PERSON_FIELDS:
            common = earlier_value(actor, case, field)  # checks as check_may_correct does
        else:
            check_may_correct(actor, case, field, of)
        if not common and field != NATIONAL_ID and field not in PERSON_FIELDS:
            common = _common_corrected(case, selectors.branch_fields_hidden(actor, case) & {field})
        if value is not None and field not in PERSON_FIELDS and _warning_of_another(actor, case, field, common):
            raise Forbidden("retention.safety_remove_only")
        # The agency the correction is made for, whose room it takes: the one that recorded
        # the value the actor is shown (``common``: as every case's steps left it).
        acting = _acting_for(actor, case, field, common)
        _check_room(case, acting[0])
        exported = _exported(case) if field != NATIONAL_ID else None  # a national id waits for review
        if field == NATIONAL_ID:
            # Asked for, not made: see ``review_national_id``. Every valid number gets this
            # same answer, so the coordinator never learns whether another person holds it.
            new = _valid_national_id(value)
            # One waiting at a time, ``MERGE`` included, which the coordinator reads as waiting:
            # a second request let through would tell them the first found the number in use.
            # After the auditor's last decision the coordinator may ask again.
            undecided = (CorrectionStatus.WAITING, CorrectionStatus.MERGE)
            if Correction.objects.filter(case=case, field=NATIONAL_ID, status__in=undecided).exists():
                raise Conflict("retention.national_id_waiting")
            old, category, status = None, "identity", CorrectionStatus.WAITING
        elif field in PERSON_FIELDS:
            (old, category), new, status = _correct_person(case, field, value), None, CorrectionStatus.DONE
        else:
            (old, category), new, status = _correct_data(case, field, value, common), None, CorrectionStatus.DONE
        correction = Correction.objects.create(
            case=case,
            field=field,
            category=category,
            old_value=old,
            new_value=new,
            status=status,
            reason=reason,
            corrected_by=actor,
            agency_id=acting[0],
            corrected_at=timezone.now(),
        )
        log_coordinator_action(
            actor,
            case,
            category=category,
            action=AccessAction.WRITE,
            basis=rules.BASIS_CORRECTION,
            item=f"correction:{correction.pk}",
            acting=acting,
        )
        if status == CorrectionStatus.DONE:
            # The workflows processes keep in memory after a step held the old value.
            steps.forget_cached_workflows([case.pk])
            Event.objects.create(
                case=case,
                kind=EventKind.VALUE_CORRECTED,
                actor=actor,
                agency_id=acting[0],
                detail={"field": field, "correction": correction.pk},
            )
            _export_correction(actor, case, exported, acting, category=category)
    rules.forget_case_access(case)
    return correction


def _check_room(case: Case, agency_id: int) -> None:
    """400 naming ``field`` when the agency the correction is made for has made as many
    corrections in the case as one agency may (read with the case held): each keeps the old
    value (up to ``SUBMITTED_DATA_MAX_BYTES``) and a reason, and a value corrected back and
    forth would add them for ever. Counted per agency, so one agency does not fill the room
    and block the others' corrections."""
    if Correction.objects.filter(case=case, agency_id=agency_id).count() >= settings.CORRECTION_CASE_MAX_COUNT:
        limit = settings.CORRECTION_CASE_MAX_COUNT
        full = field_error("field", "retention.corrections_full", limit=limit)
        raise InvalidInput("retention.invalid", errors=[full])


def _acting_for(actor, case: Case, field: str, common: dict[str, list]) -> tuple[int, str]:
    """(agency id, role) a correction is made for: the agency that recorded the value when
    ``actor`` works the case for it, else the coordinating agency (``check_may_correct``
    let nobody else through). ``common``: the value corrected was ``Case.data_common``'s."""
    recorded_by = common[field][1] if field in common else None
    if field not in common:
        recorded_by = None if field in PERSON_FIELDS else (case.data_sources or {}).get(field)
    for agency, role in rules.case_access(actor, case).acting:
        if agency.pk == recorded_by:
            return agency.pk, role
    return case.coordinator_agency_id, Role.COORDINATOR


def _warning_of_another(actor, case: Case, field: str, common: dict[str, list]) -> bool:
    """``field`` is a safety warning another agency taking part in ``case`` recorded, which
    ``actor`` answers for only as the case's coordinator (``rules.can_correct_value``): to
    remove it, not to rewrite it. Its words stay its recorder's, as a departed writer's note
    stays its writer's (an agency withdrawn from the case: the coordinator corrects its values
    of any category, as before)."""
    if field == NATIONAL_ID or selectors.case_field_rules(case).fields.get(field) != "safety":
        return False
    recorded_by = common[field][1] if field in common else (case.data_sources or {}).get(field)
    if recorded_by is None or recorded_by in rules.case_access(actor, case).agency_ids:
        return False
    return case.participants.filter(agency_id=recorded_by).exists()


def _invalid(error) -> InvalidInput:
    return InvalidInput("retention.invalid", errors=[error])


def _correct_person(case: Case, field: str, value) -> tuple[str, str]:  # the name
    """The case's own name (``Case.person_name``, the locked ``case``) is corrected, and
    compared with. The person row's name only follows when this is their only case: another
    case's name is its coordinator's to correct, and a starter who typed the number of
    someone on file must not rename them (nor learn their name from "the same value")."""
    person = Person.objects.select_for_update().get(pk=case.person_id)
    if not isinstance(value, str) or not value.strip() or len(value) > 200:
        raise _invalid(field_error("value", "field.expected_nonempty_text", limit=200))
    check_texts(value=value)
    old, case.person_name = case.person_name, value.strip()
    if old == case.person_name:
        raise _invalid(field_error("value", "retention.same_value"))
    case.save(update_fields=["person_name"])
    if not Case.objects.filter(person=person).exclude(pk=case.pk).exists():
        person.name = case.person_name
        person.save(update_fields=["name"])
    return old, "identity"


def _valid_national_id(value) -> str:
    """A valid national id (400 naming ``value`` otherwise). The national id is masked for
    the coordinator: "the same as the old one" would confirm a guess at it, so the same
    number is asked for like any other."""
    try:
        return validate_national_id(value if isinstance(value, str) else "")
    except InvalidNationalId as exc:
        raise _invalid(field_error("value", exc.code, **exc.params)) from None


def national_ids_to_review(actor) -> list[Correction]:
    """The national ids asked for in the cases whose coordinating agency ``actor`` audits,
    oldest first (the auditors' page). One query whatever the rows."""
    decided_by_actor = rules.national_id_review_cases(actor, Case.objects.all())
    waiting = Correction.objects.filter(field=NATIONAL_ID, status=CorrectionStatus.WAITING, case__in=decided_by_actor)
    return list(waiting.select_related("case", "corrected_by").order_by("corrected_at", "id")[:200])


def _national_id_to_decide(actor, correction_id, field: str, decision, note: str) -> tuple[Correction, str]:
    """The national-id correction ``actor`` decides (404 for anyone else), once the decision
    (``field``) is a boolean (400 naming it), and the note as stored."""
    correction = _standing_first(
        Correction.objects.select_related("case").filter(pk=lookup_id(correction_id), field=NATIONAL_ID), actor
    )
    if correction is None or not rules.can_review_national_id(actor, correction.case):
        raise NotFound("retention.correction_not_found")
    if not isinstance(decision, bool):
        raise _invalid(field_error(field, "field.required"))
    return correction, _reason(note) if note else ""


def _still_undecided(case: Case, correction: Correction, status: str) -> Correction:
    """The correction locked, with its case (held) not erased and still in ``status`` (409).
    The erasure first: it deletes the case's corrections, so one that came between the
    caller's read and the case lock left no row to lock (a ``DoesNotExist``, a 500)."""
    if ErasureRecord.objects.filter(case=case).exists():
        raise Conflict("retention.erased")
    correction = Correction.objects.select_for_update().get(pk=correction.pk)
    if correction.status != status:
        raise Conflict("retention.correction_reviewed")
    return correction


def review_national_id(*, actor, correction_id, approve, note="") -> Correction:
    """An auditor of the coordinating agency decides a national id the coordinator asked for.
    Confirmed and held by nobody else: the person's number is changed (the old one kept in the
    correction only); when the person also has cases another agency coordinates, the cases of
    this one move to a person of their own with the new number instead (``_decided_cases``).
    Confirmed but held by another person: nothing changes and the correction waits for the
    auditor to merge the persons or refuse (``MERGE``, ``merge_persons``; the coordinator
    reads it as still waiting). Refused: nothing changes. Once per correction (409)."""
    correction, note = _national_id_to_decide(actor, correction_id, "approve", approve, note)
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=correction.case_id)
        # The person's cases before the correction, as a merge holds them (some may move).
        list(Case.objects.select_for_update().filter(person_id=case.person_id).order_by("pk").values_list("pk"))
        exported = _person_cases_exported(case) if approve else []
        correction = _still_undecided(case, correction, CorrectionStatus.WAITING)
        correction.reviewed_by, correction.reviewed_at, correction.review_note = actor, timezone.now(), note
        if not approve:
            correction.status, correction.new_value = CorrectionStatus.REFUSED, None
        elif _change_national_id(case, correction):
            _national_id_done(actor, case, correction)
            _export_corrections(actor, exported)
        else:
            correction.status = CorrectionStatus.MERGE
        correction.save()
        if correction.status == CorrectionStatus.MERGE:
            _log_number_held(actor, case, correction)
        else:
            _log_review(actor, case, correction)
    rules.forget_case_access(case)
    return correction


def _national_id_done(actor, case: Case, correction: Correction) -> None:
    """The correction done, on the case's timeline. A merge reads as a plain change: how many
    cases the person had would tell the case's readers of cases elsewhere."""
    correction.status, correction.new_value = CorrectionStatus.DONE, None
    # The workflows kept in memory of the person's cases (those merged in with them) held
    # the person as they were.
    steps.forget_cached_workflows(Case.objects.filter(person_id=case.person_id).values_list("pk", flat=True))
    Event.objects.create(
        case=case,
        kind=EventKind.VALUE_CORRECTED,
        actor=actor,
        agency_id=case.coordinator_agency_id,
        detail={"field": NATIONAL_ID, "correction": correction.pk},
    )


def _log_review(actor, case: Case, correction: Correction) -> None:
    """The auditor's decision in the case's access log, where its coordinator reads it."""
    log_coordinator_action(
        actor,
        case,
        category="identity",
        action=AccessAction.REVIEW,
        basis=rules.BASIS_CORRECTION,
        item=f"correction:{correction.pk}",
        acting=(case.coordinator_agency_id, Role.AUDITOR),
    )


def _log_number_held(actor, case: Case, correction: Correction) -> None:
    """The auditor learned that another person holds the number: a read of that person's
    identity, logged about them (their own access report shows it), without a case. Not
    in this case's log: the coordinator would read a review while the correction still
    waits, and so learn that the number is in use before anyone decided on a merge."""
    holder = Person.objects.filter(national_id=str(correction.new_value)).values_list("pk", flat=True).first()
    AccessLog.objects.create(
        user=actor,
        username=actor.get_username(),
        role=Role.AUDITOR,
        agency_id=case.coordinator_agency_id,
        person_id=holder,
        category="identity",
        action=AccessAction.REVIEW,
        basis=rules.BASIS_CORRECTION,
        item=f"correction:{correction.pk}",
    )


def persons_to_merge(actor) -> list[Correction]:
    """The confirmed national ids another person holds, in the cases whose coordinating
    agency ``actor`` audits, oldest first: each waits for the auditor to merge the two
    persons or refuse. One query whatever the rows."""
    decided_by_actor = rules.national_id_review_cases(actor, Case.objects.all())
    waiting = Correction.objects.filter(field=NATIONAL_ID, status=CorrectionStatus.MERGE, case__in=decided_by_actor)
    return list(waiting.select_related("case", "corrected_by", "reviewed_by").order_by("reviewed_at", "id")[:200])


def merge_persons(*, actor, correction_id, merge, note="") -> Correction:
    """The auditor's second decision on a national id another person holds: they are the
    same person (``merge``), or not (refused, nothing changes). Merged, every case of the
    case's person moves to the person who holds the number, with their consents, emergency
    accesses and access-log rows (the log's trigger allows exactly that move, in this
    transaction only), and the old person row is deleted: the correction is done, its old
    number kept in the correction only. The coordinator reads the correction as waiting
    until then, and then as a plain review reads: done or refused. Once per correction
    (409); 404 for everyone but the auditors who decide the national id.

    Lock order (README, "One lock order"): the person's cases, then the correction, then
    the two person rows, lowest id first."""
    correction, note = _national_id_to_decide(actor, correction_id, "merge", merge, note)
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=correction.case_id)
        # Every case of the person moves: held before their rows (lock order).
        list(Case.objects.select_for_update().filter(person_id=case.person_id).order_by("pk").values_list("pk"))
        exported = _person_cases_exported(case) if merge else []
        correction = _still_undecided(case, correction, CorrectionStatus.MERGE)
        correction.reviewed_by, correction.reviewed_at = actor, timezone.now()
        correction.review_note = "\n".join(text for text in (correction.review_note, note) if text)
        if not merge:
            correction.status, correction.new_value = CorrectionStatus.REFUSED, None
        else:
            case.person_id = _merge_into_holder(case, correction)
            _national_id_done(actor, case, correction)
            _export_corrections(actor, exported)
        correction.save()
        _log_review(actor, case, correction)
    rules.forget_case_access(case)
    return correction


def _decided_cases(case: Case, person: Person) -> tuple[list[int], bool]:
    """The cases of ``person`` (locked) whose national id a decision in ``case`` settles:
    those ``case``'s coordinating agency coordinates, whose auditors decide their numbers
    (``rules.can_review_national_id``); and whether the person has cases of other agencies.

    One person row serves every case with its number, so a starter who typed a number on
    file (a typo that hits someone else, or on purpose) shares the row with other agencies'
    cases. Changed or merged as a whole, their cases took the number or moved to another
    person on the word of an auditor who cannot see them, and their readers saw the number
    change with nothing in their case, so learned that the person is in a case elsewhere.
    A corrected name does not follow either (``_correct_person``)."""
    theirs = Case.objects.filter(person_id=person.pk)
    decided = list(
        theirs.filter(coordinator_agency_id=case.coordinator_agency_id).order_by("pk").values_list("pk", flat=True)
    )
    return decided, theirs.exclude(coordinator_agency_id=case.coordinator_agency_id).exists()


def _move_cases(case_ids: list[int], person: Person, target: Person) -> None:
    """``case_ids`` (of ``person``), with their consents, emergency accesses and access-log
    rows, move to ``target``; ``person`` keeps their other cases, and the name of the latest
    of them when theirs came with the cases that moved (as an erasure leaves it)."""
    Case.objects.filter(pk__in=case_ids).update(person_id=target.pk)
    Consent.objects.filter(case_id__in=case_ids).update(person_id=target.pk)
    BreakGlass.objects.filter(case_id__in=case_ids).update(person_id=target.pk)
    keys = person_key(person.national_id), person_key(target.national_id)
    AccessLog.objects.merge_person(person.pk, target.pk, *keys, case_ids=case_ids)
    left = list(
        Case.objects.filter(person_id=person.pk).order_by("-opened_at", "-id").values_list("person_name", flat=True)
    )
    if left and person.name not in left:
        person.name = left[0]
        person.save(update_fields=["name"])
        scrub_admin_log(Person, [person.pk])


def _merge_into_holder(case: Case, correction: Correction) -> int:
    """Every case of ``case``'s person, and what names the person, moves to the person who
    holds the number asked for; the old person row is deleted. When nobody holds the
    number any more (their last case was erased meanwhile) the person simply gets it.
    When the person also has cases another agency coordinates, only the cases of this one
    move (``_decided_cases``): to the holder, or to a person of their own with the number.
    Returns the id of the person the case now has."""
    number = str(correction.new_value)
    holder_id = Person.objects.filter(national_id=number).values_list("pk", flat=True).first()
    ids = sorted(pk for pk in {case.person_id, holder_id} if pk is not None)
    # FOR UPDATE for the row that goes, FOR NO KEY UPDATE for the holder: it keeps the
    # holder's erasure out, as a case start does (``workflows.services.cases``).
    persons = {
        person.pk: person
        for pk in ids
        for person in Person.objects.select_for_update(no_key=pk != case.person_id).filter(pk=pk)
    }
    merged = persons[case.person_id]
    correction.old_value = merged.national_id
    holder = persons.get(holder_id) if holder_id is not None else None
    decided, elsewhere = _decided_cases(case, merged)
    if elsewhere:  # the other agencies' cases stay with the person and their number
        if holder is None:  # the holder was erased between the two decisions: the number is free
            holder = _new_person(number, case.person_name)
            if holder is None:  # and a new case's person took it meanwhile: decide again
                raise Conflict("retention.merge_holder_changed")
        _move_cases(decided, merged, holder)
        return holder.pk
    if holder is None:  # the holder was erased between the two decisions: the number is free
        merged.national_id = number
        try:
            with transaction.atomic():
                merged.save(update_fields=["national_id"])
        except IntegrityError:  # and a new case's person took it meanwhile: decide again
            raise Conflict("retention.merge_holder_changed") from None
        return merged.pk
    old_key, new_key = person_key(merged.national_id), person_key(holder.national_id)
    Case.objects.filter(person_id=merged.pk).update(person_id=holder.pk)
    Consent.objects.filter(person_id=merged.pk).update(person_id=holder.pk)
    BreakGlass.objects.filter(person_id=merged.pk).update(person_id=holder.pk)
    # The rows of the person's erased cases carry the old number's key, so the person's
    # access report (asked for by their number) would miss them: they take the holder's.
    AccessLog.objects.merge_person(merged.pk, holder.pk, old_key, new_key)
    ErasureRecord.objects.filter(person_key=old_key).update(person_key=new_key)
    scrub_admin_log(Person, [merged.pk])
    merged.delete()
    return holder.pk


def _change_national_id(case: Case, correction: Correction) -> bool:
    """The case's person gets the number asked for, unless another person holds it (False).
    The unique column decides, so two reviews at once cannot give one number to two persons."""
    person = Person.objects.select_for_update().get(pk=case.person_id)
    old = person.national_id
    decided, elsewhere = _decided_cases(case, person) if str(correction.new_value) != old else ([], False)
    if elsewhere:  # the other agencies' cases keep the person and their number
        target = _new_person(str(correction.new_value), case.person_name)
        if target is None:
            return False
        _move_cases(decided, person, target)
        case.person_id = target.pk
        correction.old_value = old
        return True
    person.national_id = str(correction.new_value)
    try:
        with transaction.atomic():
            person.save(update_fields=["national_id"])
    except IntegrityError:
        return False
    correction.old_value = old
    return True


def _new_person(national_id: str, name: str) -> Person | None:
    """A person row of their own with ``national_id``; None when another person holds it."""
    try:
        with transaction.atomic():
            return Person.objects.create(national_id=national_id, name=name)
    except IntegrityError:
        return None


def _correct_data(case: Case, field: str, value, common: dict[str, list]) -> tuple[object, str]:  # (old, category)
    """``common``: ``field`` shows to the actor as ``Case.data_common`` has it (a step on a
    branch hidden from them may have written over it): that value is the one corrected, and
    the case's own only when it is still the same (no branch wrote over it). Until 2026-12-06
    the correction was compared with the branch's value, so the agency that recorded the value
    every case's steps left could not correct it where a hidden branch may have written over it."""
    data = dict(case.data or {})
    if field not in data:
        raise InvalidInput("retention.invalid", errors=[field_error("field", "retention.unknown_field")])
    old = common[field][0] if field in common else data[field]
    if value is None and (old is None or selectors.case_field_rules(case).fields.get(field) != "safety"):
        # Only a safety warning is removed so (domain.md: time-limited); any other value is
        # corrected to the right one.
        raise _invalid(field_error("value", "field.required"))
    if old is not None and value is not None and _kind(old) != _kind(value):
        raise _invalid(field_error("value", "retention.wrong_type"))
    if value == old:
        raise _invalid(field_error("value", "retention.same_value"))
    if case.status != CaseStatus.OPEN and _records_warning(case, field, old, value):
        raise Conflict("retention.safety_case_closed")
    check_data({"value": value})
    # The corrected value must be one the field's form accepts (a choice among its
    # options, within its limits), as when it was first written.
    runtime = selectors.case_runtime(case)
    validator = runtime.field_validators.get(field) if runtime is not None else None
    errors = schema_errors(validator.iter_errors(value), prefix="value") if validator and value is not None else []
    if errors:
        raise InvalidInput("retention.invalid", errors=errors)
    kept = dict(case.data_common or {})
    if field in kept and kept[field][0] == old:  # as the steps every case passes left it
        kept[field] = [value, kept[field][1]]
        case.data_common = kept
    # The branch's value stays the case's: another value, or the same one another agency's
    # step recorded (its source), which that agency answers for (until h-attack19 the same
    # value was rewritten, under the other agency's name, by the correction of the earlier one).
    rewritten = field in common and (data[field] != old or (case.data_sources or {}).get(field) != common[field][1])
    if rewritten:
        case.save(update_fields=["data_common"])
        # An outcome a step on no branch recorded holds the value every case's steps left (a
        # step on the branch wrote over it later): it follows, as where no branch did; one a
        # branch's step recorded keeps the branch's (until 2026-12-06 both stayed, so the
        # outcome's readers told the two cases apart by it; h-paths5).
        _correct_outcome(case, field, value, rewritten=True)
        # So do the messages the case threw (a field computed from it, the branch's value among
        # them, is left out, as where no branch wrote over it: it carries the split's reads).
        _correct_outbox(case, field, old, value)
        return old, selectors.case_field_rules(case).fields.get(field, RESTRICTED)
    data[field] = value
    case.data = data
    written = ["data", "data_common", *_warning_time_corrected(case, field, old, value)]
    # When its warnings lapse, for the lists across cases (``policy.warning_columns``).
    written += policy.keep_warning_columns(case, selectors.case_field_rules(case))
    case.save(update_fields=written)
    for instance in ProcessInstance.objects.select_for_update().filter(case=case).order_by("pk"):
        instance.case = case  # the locked row, its data corrected
        targets = correlations_of(runtime_for(instance.definition_id), field)
        instance.state = replace_in_state(instance.state, field, value, old=old, targets=targets)
        # A waiting timer timed from the old value is timed again from the new one, in a
        # step; otherwise only the state changes.
        if not steps.retime_timers_reading(instance, [field]):
            instance.save(update_fields=["state", "updated_at"])
    _correct_outbox(case, field, old, value)
    _correct_outcome(case, field, value)
    return old, selectors.case_field_rules(case).fields.get(field, RESTRICTED)


def _records_warning(case: Case, field: str, old, value) -> bool:
    """Whether correcting ``field`` of ``case`` from ``old`` to ``value`` records a safety
    warning where it held none (``policy.holds_warning``: none, or a text without words): one
    removed put back, a blank one given words. Refused on a closed case (409
    ``retention.safety_case_closed``), as a confirmation is: a new warning's time in force would
    start after the close, where nobody works the case any more and where its case file, which
    says what was in force at the close (``archive.in_force_at``), cannot place it; the removed
    warning's own time went with its removal, and any other would be made up. Until h-safety5
    it was recorded, in force from the correction: the case file called a warning that did not
    stand at the close in force then, and it showed to every participant for a year more. A
    correction of its words, and its removal, stay open to the agency after the close (GDPR
    art. 16)."""
    fields = selectors.case_field_rules(case)
    if rules.category_of(fields.fields.get(field, RESTRICTED)) != policy.SAFETY:
        return False
    return policy.holds_warning(value) and not policy.holds_warning(old)


def _warning_time_corrected(case: Case, field: str, old, value) -> tuple[str, ...]:
    """A safety warning removed (corrected to no value, or to a text without words) or recorded
    where there was none: the time it is in force from (``Case.data_recorded_at``) and its
    reminder's mark (``Case.safety_reminded``) go with a removal, and a warning recorded anew
    holds from now, with a reminder of its own before it lapses. Until h-safety4 a removed
    warning put back by its recorder revived the removed one's time: a year-old warning came back
    lapsed, or in force only for what was left of the old time and its confirmation. A
    correction of a warning's words (a value to another) keeps its time: it is the same warning,
    corrected (confirming it again is what starts a new time). Blank or empty is no warning
    (``policy.holds_warning``): until h-safety5 only ``None`` was, so a warning corrected to an
    empty text kept its time and reminder mark, and words given to an empty one (which a step
    had written, with a time) took that old time, lapsed or nearly. Answers the columns changed."""
    fields = selectors.case_field_rules(case)
    before, after = policy.holds_warning(old), policy.holds_warning(value)
    if rules.category_of(fields.fields.get(field, RESTRICTED)) != policy.SAFETY or (before and after):
        return ()
    recorded = {name: moment for name, moment in (case.data_recorded_at or {}).items() if name != field}
    if after:
        recorded.update(policy.recorded_times(fields, [field]))
    case.data_recorded_at = recorded
    case.safety_reminded = {name: mark for name, mark in (case.safety_reminded or {}).items() if name != field}
    return ("data_recorded_at", "safety_reminded")


def _correct_outcome(case: Case, field: str, value, *, rewritten: bool = False) -> None:
    """The case's outcome (``CaseOutcome``: structured columns copied from its outcome form
    when the task completed) follows a correction of one of that form's fields: the case
    page's *Utfall*, the API's ``outcome`` and the archive's case file show the new value,
    never the old one. A kind must be one of the admin's list (400 naming ``value``).
    ``rewritten``: a step on a branch wrote over the value corrected (``Case.data_common``'s),
    so an outcome a step on a branch recorded holds the branch's value, and stays."""
    outcome = CaseOutcome.objects.select_for_update().filter(case=case).first()
    runtime = selectors.case_runtime(case) if outcome is not None else None
    if outcome is None or runtime is None or outcome.element_id not in runtime.user_tasks:
        return
    if rewritten and outcome.element_id in runtime.on_branches:
        return
    roles = {name: role for role, name in case_outcomes.outcome_fields(runtime.form_for(outcome.element_id)[0]).items()}
    role = roles.get(field)
    if role == "kind":
        kind = OutcomeKind.objects.filter(code=value, active=True).first() if isinstance(value, str) else None
        if kind is None:
            raise _invalid(field_error("value", "outcome.unknown_kind"))
        outcome.kind = kind
    elif role == "tenure":
        outcome.tenure = value if value in Tenure.values else ""
    elif role == "reason":
        outcome.reason = value.strip() if isinstance(value, str) else ""
    elif role in ("referral_date", "housed_date"):
        moment = case_outcomes.date_of(value)
        if role == "referral_date":
            moment = moment or timezone.localdate(case.opened_at)
        setattr(outcome, role, moment)
    else:
        return
    outcome.save()


def _correct_outbox(case: Case, field: str, old, value) -> None:
    """The messages the case threw, each computed when it was thrown: a field of one computed
    from ``field`` is corrected when it is the old value itself, else left out (a waiting one
    would carry the old value into the receiving case, whose workflow its gateways, scripts and
    connectors read; a field left out is withheld there, as one without grounds), and so is a
    correlation value that is the old value itself (a waiting message went on the old value:
    to the case waiting for it, never to the one waiting for the corrected one). A message
    delivered (or that nothing waited for) keeps the old value no more than the case does.
    Held until the commit: a delivery waits for it (``workflows.jobs.messages.deliver``)."""
    thrown = OutboxMessage.objects.select_for_update().filter(case=case)
    for message in thrown.select_related("instance").order_by("pk"):
        reads = runtime_for(message.instance.definition_id).payload_reads.get(message.name)
        payload = {}
        for name, sent in (message.payload or {}).items():
            carried = reads.of(name) if reads is not None else None
            if sent == old and carried in (None, frozenset({field})):
                payload[name] = value  # the value itself
            elif carried is None or field not in carried:
                payload[name] = sent  # computed from other values (or from none the model shows)
        targets = correlations_of(runtime_for(message.instance.definition_id), field)
        correlations = {
            key: _corrected_correlation(values, old, value, targets)
            for key, values in (message.correlations or {}).items()
        }
        if payload != message.payload or correlations != message.correlations:
            message.payload, message.correlations = payload, correlations
            message.save(update_fields=["payload", "correlations"])


def _kind(value) -> str:
    return "bool" if isinstance(value, bool) else "number" if isinstance(value, int | float) else type(value).__name__


def correlations_of(runtime, field: str) -> Targets:
    """Which correlation properties a correction of ``field`` replaces a value of, in a
    state or a message of ``runtime``'s version (``DefinitionRuntime.correlation_reads``):
    those computed from ``field``. A property the model gives no expression for (the model
    cannot tell where its value came from) is replaced when it holds the old value, as
    before: the old value must not stay there."""
    reads = runtime.correlation_reads
    return Targets(frozenset(p for p, names in reads.items() if field in names), frozenset(reads))


@dataclass(frozen=True)
class Targets:
    """The correlation properties computed from the corrected field (``of_field``), among
    those the model says how it computes (``known``)."""

    of_field: frozenset[str]
    known: frozenset[str]

    def replaces(self, prop: str) -> bool:
        return prop in self.of_field or prop not in self.known


def replace_in_state(state: str, field: str, value, *, old=None, targets: Targets | None = None) -> str:
    """The workflow state with every task's and the workflow's value of ``field`` (and the
    data changes that set it, and a caught message's payload kept in its task's internal data)
    replaced by ``value``: the old value stays nowhere but in the correction. A message
    correlation value that is the ``old`` value itself (SpiffWorkflow
    keeps what the workflow threw or caught on apart from the data, ``workflow.correlations``)
    takes the new value too, as a waiting message's payload does (``_correct_outbox``): it
    kept the old one, and the case went on catching the messages meant for the wrong value
    and none for the corrected one. Only the properties computed from ``field``
    (``targets``, None: any): another property holding an equal value (the partner's
    id the caseworker had typed as the applicant's) is someone else's, and stays."""

    def walk(node, holds_data=False, correlations=False, internal=False):
        if isinstance(node, dict):
            replaced = {
                key: walk(
                    item,
                    # A caught message's payload is kept in its task's internal data, by the
                    # message's name, beside the data it was copied into.
                    holds_data=(key in ("data", "updates") or internal) and isinstance(item, dict),
                    correlations=key == "correlations" and isinstance(item, dict),
                    internal=key == "internal_data" and isinstance(item, dict),
                )
                for key, item in node.items()
            }
            if holds_data and field in replaced:
                replaced[field] = value
            if correlations and old is not None:
                replaced = {key: _corrected_correlation(item, old, value, targets) for key, item in replaced.items()}
            return replaced
        if isinstance(node, list):
            return [walk(item) for item in node]
        return node

    return json.dumps(walk(json.loads(state)))


def _corrected_correlation(values, old, value, targets: Targets | None = None):
    """One correlation key's property values (``{property: value}``), ``old`` replaced in the
    properties computed from the corrected field (``targets``; None: in any)."""
    if not isinstance(values, dict):
        return values
    return {
        name: value if _same(held, old) and (targets is None or targets.replaces(name)) else held
        for name, held in values.items()
    }


def _same(held, old) -> bool:
    return _kind(held) == _kind(old) and held == old


# --- the retention rules, kept by process admins --------------------------------------------
# The page and the API share these. Every change (added, changed, deleted) is written to
# ``RetentionRuleChange`` in the change's own transaction, with the rule's values before and
# after: the auditor's trail of who set which period (``selectors.rule_changes_for``).

RULE_TEXT_MAX = 300
RULE_YEARS = (1, 100)
RULE_FIELDS = ("process_key", "category", "keep_years", "access_log_years", "in_case_file", "legal_basis")
VERSION = "version"  # the version of the rule a change is made from (optional: 409 when stale)
MAX_VERSION = 2_147_483_647


def _require_rule_admin(actor) -> None:
    if not rules.can_manage_retention_rules(actor):
        raise Forbidden("retention.rules_forbidden")


def retention_rules_for(actor):
    """Every retention rule, for the process admins who set them and the auditors who check
    them (others: 403). A queryset in a total order (the API pages through it)."""
    if not rules.can_read_retention_rules(actor):
        raise Forbidden("retention.rules_read_forbidden")
    return RetentionRule.objects.order_by("process_key", "category", "pk")


def retention_rule_for(*, actor, rule_id) -> RetentionRule:
    """One rule, for whoever reads the rules (403 for others, 404 when there is none)."""
    rule = retention_rules_for(actor).filter(pk=lookup_id(rule_id)).first()
    if rule is None:
        raise NotFound("retention.rule_not_found")
    return rule


def retention_rules_to_manage(actor) -> list[RetentionRule]:
    """Every retention rule, for the process admin who keeps them (others: 403)."""
    _require_rule_admin(actor)
    return list(retention_rules_for(actor))


def retention_rule_to_manage(*, actor, rule_id) -> RetentionRule:
    _require_rule_admin(actor)
    return retention_rule_for(actor=actor, rule_id=rule_id)


def _years(name: str, value, errors: list) -> int | None:
    low, high = RULE_YEARS
    if isinstance(value, bool) or not isinstance(value, int | str):
        errors.append(field_error(name, "retention.rule_years", low=low, high=high))
        return None
    try:
        years = int(str(value).strip())
    except ValueError:
        years = 0
    if not low <= years <= high:
        errors.append(field_error(name, "retention.rule_years", low=low, high=high))
        return None
    return years


def _text(name: str, value, errors: list) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        errors.append(field_error(name, "field.expected_text"))
        return ""
    if "\x00" in value:
        errors.append(field_error(name, "field.nul"))
        return ""
    return value.strip()


def _cleaned_rule(values: dict) -> dict:
    """The rule's fields from ``values``, or ``InvalidInput`` naming each bad one."""
    errors: list = []
    process_key = _text("process_key", values.get("process_key"), errors)
    if process_key and process_key not in set(selectors.deployed_process_keys()):
        errors.append(field_error("process_key", "retention.rule_unknown_process"))
    category = _text("category", values.get("category"), errors)
    if category and category not in ALL_CATEGORIES:
        errors.append(field_error("category", "retention.rule_unknown_category"))
    legal_basis = _text("legal_basis", values.get("legal_basis"), errors)
    if not legal_basis:
        if not any(error["field"] == "legal_basis" for error in errors):
            errors.append(field_error("legal_basis", "field.required"))
    elif len(legal_basis) > RULE_TEXT_MAX:
        errors.append(field_error("legal_basis", "retention.rule_text_too_long", limit=RULE_TEXT_MAX))
    in_case_file = values.get("in_case_file", False)
    if not isinstance(in_case_file, bool):
        errors.append(field_error("in_case_file", "field.expected_boolean"))
    clean = {
        "process_key": process_key,
        "category": category,
        # ``access_log_years`` counts from the erasure: any period of at least a year keeps
        # the log past the data it describes (the model's check says the same).
        "keep_years": _years("keep_years", values.get("keep_years"), errors),
        "access_log_years": _years("access_log_years", values.get("access_log_years"), errors),
        "in_case_file": in_case_file is True,
        "legal_basis": legal_basis,
    }
    if errors:
        raise InvalidInput("retention.rule_invalid", errors=errors)
    return clean


def _checked_shape(values) -> int | None:
    """``values`` is an object of known fields (400 naming each unknown one); returns the
    version it names, if any (400 on ``version`` when it is no whole number)."""
    if not isinstance(values, dict):
        raise InvalidInput("retention.rule_invalid", errors=[field_error(None, "field.expected_object")])
    errors = [field_error(str(name), "field.unknown") for name in values if name not in (*RULE_FIELDS, VERSION)]
    version = values.get(VERSION)
    if version in (None, ""):
        version = None
    else:
        version = parse_id(version)
        if version is None or not 1 <= version <= MAX_VERSION:
            errors.append(field_error(VERSION, "field.expected_whole_number", low=1, high=MAX_VERSION))
    if errors:
        raise InvalidInput("retention.rule_invalid", errors=errors)
    return version


def _rule_values(rule: RetentionRule) -> dict:
    """What the trail keeps of a rule: its fields and its version."""
    return {**{name: getattr(rule, name) for name in RULE_FIELDS}, VERSION: rule.version}


def _log_change(actor, action: str, rule_id: int, before: dict | None, after: dict | None) -> None:
    key = after or before or {}
    RetentionRuleChange.objects.create(
        rule_id=rule_id,
        action=action,
        changed_by=actor,
        changed_at=timezone.now(),
        process_key=key.get("process_key", ""),
        category=key.get("category", ""),
        before=before,
        after=after,
    )


def _locked_rule(rule_id, version: int | None) -> RetentionRule:
    """The rule, locked until the transaction ends, so two changes of it apply one after the
    other; 409 when the change was made from a version another change has replaced."""
    rule = RetentionRule.objects.select_for_update().filter(pk=lookup_id(rule_id)).first()
    if rule is None:
        raise NotFound("retention.rule_not_found")
    if version is not None and version != rule.version:
        raise Conflict("retention.rule_changed")
    return rule


def save_retention_rule(*, actor, values: dict, rule_id=None) -> RetentionRule:
    """A new rule from ``values``, or the rule ``rule_id`` changed by the fields ``values``
    gives (the others kept). ``values`` may name the ``version`` the change is made from: a
    rule changed since answers 409 and nothing is written. Two changes without a version
    apply one after the other, each from the values the other left. The rule applies from
    the next run of the retention job to every closed case of its process and category, also
    those closed before. One rule per process and category (400 on ``category`` otherwise).
    The change is logged with the values before and after, in the same transaction."""
    _require_rule_admin(actor)
    version = _checked_shape(values)
    given = {name: values[name] for name in RULE_FIELDS if name in values}
    # A new rule's values are checked before the transaction; a change's once the rule is
    # locked, merged with the values it keeps.
    clean: dict = _cleaned_rule(given) if rule_id is None else {}
    duplicate = [field_error("category", "retention.rule_duplicate")]
    with transaction.atomic():
        if rule_id is None:
            rule, before = RetentionRule(), None
        else:
            rule = _locked_rule(rule_id, version)
            before = _rule_values(rule)
            clean = _cleaned_rule({**before, **given})
            if all(before[name] == value for name, value in clean.items()):
                return rule  # nothing changed: no new version, nothing to log
            rule.version += 1
        for name, value in clean.items():
            setattr(rule, name, value)
        same = RetentionRule.objects.filter(process_key=rule.process_key, category=rule.category).exclude(pk=rule.pk)
        if same.exists():
            raise InvalidInput("retention.rule_invalid", errors=duplicate)
        try:
            with transaction.atomic():
                rule.save()
        except IntegrityError as exc:  # the same rule added at the same moment
            raise InvalidInput("retention.rule_invalid", errors=duplicate) from exc
        _log_change(
            actor, RuleChange.CREATED if before is None else RuleChange.CHANGED, rule.pk, before, _rule_values(rule)
        )
    return rule


def delete_retention_rule(*, actor, rule_id, version=None) -> None:
    """The rule is gone: its cases fall back to the next most specific rule or the default.
    With ``version``: 409 when the rule was changed since. Logged with its last values."""
    _require_rule_admin(actor)
    version = _checked_shape({} if version is None else {VERSION: version})
    with transaction.atomic():
        rule = _locked_rule(rule_id, version)
        before = _rule_values(rule)
        _log_change(actor, RuleChange.DELETED, rule.pk, before, None)
        rule.delete()
