"""Notes on a case: add one, correct your own (the old text kept), withdraw your own; a lead or
coordinator of the writing agency does the same for an author who can no longer act for it.

A note is a value of its category written by its agency (``rules.decide_note``): the
writer's agency is one of theirs that takes part in the case, the category is one that
agency may write (``rules.note_categories``; by default its kind's: a NAV note is
``economy``). Each change is one transaction with its timeline event (the note's id and
category, never its text) and its access-log row (action ``write``).
"""

from __future__ import annotations

from collections.abc import Callable, Collection

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q, Sum
from django.db.models.functions import Length
from django.utils import timezone

from core.errors import Conflict, Forbidden, InvalidInput, NotFound, field_error
from core.ids import lookup_id, parse_id
from permissions import notes_policy, rules
from permissions.models import CaseParticipant
from workflows import selectors, steps
from workflows.input_limits import text_error
from workflows.models import Case, CaseStatus, Event, EventKind
from workflows.notes import Note, NoteRevision

NOTE_MAX_CHARS = 4000
SAFETY = "safety"  # a note of it is a warning, time-limited (``permissions.notes_policy``)

# Called with the case row held, before a note or an attachment of a closed case is corrected
# or withdrawn: ``retention`` registers one in its ``AppConfig.ready`` (a unit above this one),
# which hands the archive the case file again when it lists or shows the change. Each is called
# as ``hook(case=, actor=, agency_id=, categories=, shown=)`` and answers whether it queued a new
# export.
CLOSED_CASE_CHANGES: list[Callable[..., bool]] = []


def closed_case_changing(
    case: Case, actor, *, agency_id: int, categories: Collection[str] | None, shown: Collection[str] = ()
) -> dict:
    """Before a note or an attachment of ``case`` (held, read after the lock: a case closed
    meanwhile is seen closed) changes: nothing while the case is open; once it is closed, the
    archive may hold its case file, whose timeline lists the change (``categories``: the
    change is listed only when one of them is in the case file, a note's correction; None:
    whatever its category, a withdrawal) and whose notes show a note of a category in it
    (``shown``: the note's categories before and after the change; none for an attachment,
    whose file the case file does not carry), so the hooks queue the corrected case file as a new
    export under the lock the export job takes too: no correction slips between an export's
    build and its delivery. The detail the change's event carries: ``after_close``, and
    ``new_case_file`` when the archive gets the case file again."""
    if case.status == CaseStatus.OPEN:
        return {}
    queued = [
        hook(case=case, actor=actor, agency_id=agency_id, categories=categories, shown=shown)
        for hook in CLOSED_CASE_CHANGES
    ]
    return {"after_close": True, **({"new_case_file": True} if any(queued) else {})}


def writer_agency(actor, case: Case, agency, errors: list, field: str = "agency"):
    """The agency ``actor`` writes for: ``agency`` (an id) when it is one of theirs in the
    case, else their first one there."""
    mine = rules.note_agencies(rules.case_access(actor, case))
    if agency in (None, ""):
        return mine[0] if mine else None
    chosen = next((a for a in mine if a.pk == parse_id(agency)), None)
    if chosen is None:
        errors.append(field_error(field, "note.agency_not_yours"))
    return chosen


def valid_category(actor, case: Case, writer, category, errors: list) -> str:
    """``category`` if ``writer`` may write it in ``case``; the writer's default when none is given."""
    if writer is None:
        return ""
    writable = rules.note_categories(rules.case_access(actor, case), writer, rules.active_consents(case))
    if category in (None, ""):
        return rules.default_note_category(writer, writable)
    if category not in rules.NOTE_CATEGORIES:
        errors.append(field_error("category", "note.unknown_category"))
    elif category not in writable:
        errors.append(field_error("category", "note.category_not_allowed"))
    return category


def _valid_text(text, errors: list) -> str:
    if not isinstance(text, str) or not text.strip():
        errors.append(field_error("text", "field.required"))
        return ""
    if (problem := text_error("text", text)) is not None:
        errors.append(problem)
    elif len(text) > NOTE_MAX_CHARS:
        errors.append(field_error("text", "field.too_long", limit=NOTE_MAX_CHARS))
    return text.strip()


def require_open(case: Case) -> None:
    if case.status != CaseStatus.OPEN:
        raise Conflict("note.case_closed")


def hold_case_for_writer(case: Case, writer, *, actor=None, category: str | None = None, code: str = "") -> Case:
    """The case row locked until the write commits, checked again: still open (else 409),
    ``writer`` still takes part (else 404, as for anyone whose agency was withdrawn: they see
    the case nowhere), and (given ``actor`` and ``category``) the category still one the
    writer may write (else 400 ``code`` naming ``category``: a consent that opened it may
    have been withdrawn meanwhile; its withdrawal holds the case too). A withdrawal or the
    case's last completion that committed after the checks above is waited for and seen,
    never written past."""
    locked = Case.objects.select_for_update().get(pk=case.pk)
    require_open(locked)
    _still_takes_part(locked.pk, writer.pk)
    if actor is not None and category is not None:
        errors: list = []
        valid_category(actor, locked, writer, category, errors)  # standing and consents read again
        if errors:
            raise InvalidInput(code, errors=errors)
    return locked


def add_note(*, actor, case, text, category=None, agency=None) -> Note:
    """Write a note in ``case`` for one of the actor's agencies there."""
    case = selectors.case_for(actor, case)
    if not rules.can_add_note(actor, case):
        raise Forbidden("note.add_forbidden")
    require_open(case)
    errors: list = []
    text = _valid_text(text, errors)
    writer = writer_agency(actor, case, agency, errors)
    category = valid_category(actor, case, writer, category, errors)
    if errors:
        raise InvalidInput("note.invalid", errors=errors)
    with transaction.atomic():
        hold_case_for_writer(case, writer, actor=actor, category=category, code="note.invalid")
        _check_room(case.pk, writer.pk, len(text))
        note = Note.objects.create(
            case=case, agency=writer, author=actor, category=category, text=text, created_at=timezone.now()
        )
        _event(note, EventKind.NOTE_ADDED, actor)
        notes_policy.log_write(actor, case, category=category, agency_id=writer.pk, item=f"note:{note.pk}")
    return note


def _check_room(case_id: int, agency_id: int, chars: int) -> None:
    """400 naming ``text`` when the agency has written as many texts in the case as one agency
    may (notes added, withdrawn ones too, and corrections: each a row, an event and an
    access-log row), or its notes would hold more characters than it may keep there, every
    earlier version included (a correction keeps the old text; a withdrawal moves it to the
    history, so it frees nothing). Read with the case row held, so two writers at once cannot
    both take the last room. Per agency, of its own notes, as for files
    (``attachments._check_room``): a count over the case would tell of notes it may not read."""
    notes = Note.objects.filter(case_id=case_id, agency_id=agency_id)
    held = notes.aggregate(count=Count("pk"), chars=Sum(Length("text")))
    corrected = Q(change=NoteRevision.Change.CORRECTED)
    earlier = NoteRevision.objects.filter(note__in=notes).aggregate(
        corrections=Count("pk", filter=corrected), chars=Sum(Length("text"))
    )
    if held["count"] + earlier["corrections"] >= settings.NOTE_CASE_MAX_COUNT:
        limit = settings.NOTE_CASE_MAX_COUNT
        raise InvalidInput("note.invalid", errors=[field_error("text", "note.case_count_full", limit=limit)])
    if (held["chars"] or 0) + (earlier["chars"] or 0) + chars > settings.NOTE_CASE_MAX_CHARS:
        limit = settings.NOTE_CASE_MAX_CHARS
        raise InvalidInput("note.invalid", errors=[field_error("text", "note.case_chars_full", limit=limit)])


# How ``actor`` stands to a note or an attachment they would change (``change_standing``).
AS_WRITER, FOR_AGENCY = "writer", "agency"
NOT_THEIRS, WRITER_ACTS, WRITER_LEFT = "not-theirs", "writer-acts", "writer-left"


def change_standing(actor, item, writer_id: int | None, *, own: bool) -> str:
    """How ``actor`` may change ``item`` (a note or an attachment, read with its case): as its
    writer (``own``: ``AS_WRITER``), on behalf of the agency that wrote it (``FOR_AGENCY``: a
    lead or coordinator of that agency once its writer, ``writer_id``, can no longer act for
    it in the case: ``rules.may_change_for_agency`` says why not before), or not, and why:
    ``WRITER_ACTS`` (to that agency's lead or coordinator: the writer still acts),
    ``WRITER_LEFT`` (to a colleague of the writer who is no lead or coordinator), else
    ``NOT_THEIRS``. Someone of another agency is told only that: whether a writer left an
    agency is that agency's business."""
    if own:
        return AS_WRITER
    case = item.case
    if item.agency_id not in rules.case_access(actor, case).agency_ids:
        return NOT_THEIRS
    acts = bool(rules.writers_still_acting([(writer_id, item.agency_id)]))
    if rules.may_change_for_agency(actor, case, agency_id=item.agency_id, writer_id=writer_id, writer_acts=acts):
        return FOR_AGENCY
    if not acts:
        return WRITER_LEFT
    return WRITER_ACTS if rules.answers_for_agency(actor, case, item.agency_id) else NOT_THEIRS


def _note_of(actor, case, note_id) -> Note:
    case = selectors.case_for(actor, case)
    note = Note.objects.select_related("case", "agency").filter(case=case, pk=lookup_id(note_id)).first()
    if note is None:
        raise NotFound("note.not_found")
    return note


def removes_warning(actor, note: Note) -> bool:
    """The case's coordinator withdraws a safety note another agency wrote, as they remove a
    safety field's warning (``rules.decide_lapsed_warning``: they answer for it too); its
    words they do not rewrite (only a withdrawal)."""
    if rules.category_of(note.category) != SAFETY or note.agency_id in rules.case_access(actor, note.case).agency_ids:
        return False
    return bool(rules.decide_lapsed_warning(rules.case_access(actor, note.case), note.case, note.agency_id))


def _changeable_note(actor, case, note_id, *, note: Note | None = None) -> tuple[Note, bool]:
    """The note and whether ``actor`` changes it on behalf of its agency (its author gone)."""
    note = note or _note_of(actor, case, note_id)
    standing = change_standing(actor, note, note.author_id, own=rules.can_change_note(actor, note))
    if standing == WRITER_ACTS:
        raise Forbidden("note.author_still_acts")
    if standing == WRITER_LEFT:
        raise Forbidden("note.author_left")
    if standing == NOT_THEIRS:
        raise Forbidden("note.change_forbidden")
    return note, standing == FOR_AGENCY


def for_agency_detail(on_behalf: bool) -> dict:
    """What a change's event says of who made it: the actor is the event's own; a change by
    the agency's lead or coordinator for a writer who left says so."""
    return {"on_behalf_of_agency": True} if on_behalf else {}


def still_writes(item) -> None:
    """With the case row held (``steps.lock_case_then``): the agency that wrote ``item`` (a
    note or an attachment) still takes part in the case, else 404 as for anyone whose agency
    was withdrawn. The checks before the lock read the standing before a withdrawal that
    committed while we waited for it: its people change nothing in the case after it."""
    _still_takes_part(item.case_id, item.agency_id)


def _still_takes_part(case_id: int, agency_id: int) -> None:
    """404 as for anyone whose agency was withdrawn from the case: they see it nowhere."""
    if not CaseParticipant.objects.filter(case_id=case_id, agency_id=agency_id).exists():
        raise NotFound("case.not_found")


def lock_item(model, item):
    """Hold the case of ``item`` (a note or an attachment read with its case) and then the row,
    returned with its case read after the lock. A case closed when read is held as a
    correction of its values holds it, its instances first (``steps.lock_case_work``): the
    change may queue an archive export (``closed_case_changing``), whose job names an
    instance, and an erasure holding the instances while it waits for the case would
    otherwise wait in a circle with us (PostgreSQL fails one,
    ``tests/retention/test_erasure_meets_writers.py``). An open case, the case only
    (``steps.lock_case_then``): no export waits on it, and the engine's steps go on."""
    if item.case.status != CaseStatus.OPEN:
        steps.lock_case_work(item.case_id)
        return model._default_manager.select_for_update(of=("self",)).select_related("case").get(pk=item.pk)
    return steps.lock_case_then(model, item.pk, item.case_id)


def _locked(note: Note, version, *, writer_gone_ok: bool = False) -> Note:
    """The note held, checked again: its agency still takes part (404 otherwise, as for its
    people once it is withdrawn), unless ``writer_gone_ok`` (the coordinator's withdrawal of a
    warning, which they keep whichever agency wrote it, that of an agency gone included)."""
    locked = lock_item(Note, note)
    if not writer_gone_ok:
        still_writes(locked)
    if locked.is_withdrawn:
        raise Conflict("note.withdrawn")
    if locked.is_erased:
        raise Conflict("note.erased")
    if version is not None and parse_id(version) != locked.version:
        raise Conflict("note.changed")
    return locked


def _keep(note: Note, actor, now, change) -> None:
    NoteRevision.objects.create(
        note=note,
        version=note.version,
        category=note.category,
        text=note.text,
        written_at=note.corrected_at or note.created_at,
        replaced_at=now,
        replaced_by=actor,
        change=change,
    )


def correct_note(*, actor, case, note_id, text, version, category=None) -> Note:
    """Replace the text (and, if given, the category) of the actor's own note. ``version`` is
    the version the actor corrects: of two corrections at once exactly one wins, the other
    gets a Conflict. The old text stays in the note's history. A lead or coordinator of the
    note's agency corrects it, on the same terms, once its author can no longer act for the
    agency in the case (``change_standing``); the event says it was on the agency's behalf."""
    note, on_behalf = _changeable_note(actor, case, note_id)
    errors: list = []
    text = _valid_text(text, errors)
    if parse_id(version) is None:
        errors.append(field_error("version", "note.version_required"))
    category = valid_category(actor, note.case, note.agency, category or note.category, errors)
    if errors:
        raise InvalidInput("note.invalid", errors=errors)
    with transaction.atomic():
        locked = _locked(note, version)
        errors = []
        valid_category(actor, locked.case, locked.agency, category, errors)  # as it is now (a consent withdrawn)
        if errors:
            raise InvalidInput("note.invalid", errors=errors)
        if locked.text == text and locked.category == category:
            return locked
        if locked.version > settings.NOTE_MAX_CORRECTIONS:  # each correction moved it up by one
            limit = settings.NOTE_MAX_CORRECTIONS
            raise InvalidInput("note.invalid", errors=[field_error("text", "note.corrections_full", limit=limit)])
        _check_room(locked.case_id, locked.agency_id, len(text))
        earlier = locked.category
        closed = closed_case_changing(
            locked.case, actor, agency_id=locked.agency_id, categories=(earlier, category), shown=(earlier, category)
        )
        now = timezone.now()
        _keep(locked, actor, now, NoteRevision.Change.CORRECTED)
        locked.text, locked.category, locked.corrected_at = text, category, now
        locked.version += 1
        locked.save(update_fields=["text", "category", "corrected_at", "version"])
        moved = {"from_category": earlier} if earlier != category else {}
        _event(locked, EventKind.NOTE_CORRECTED, actor, **moved, **closed, **for_agency_detail(on_behalf))
        notes_policy.log_write(
            actor, locked.case, category=category, agency_id=locked.agency_id, item=f"note:{locked.pk}"
        )
    return locked


def withdraw_note(*, actor, case, note_id, version=None) -> Note:
    """Withdraw the actor's own note: nobody reads it in the list any more; its text is kept
    in the history, for those who could read it. Twice is a Conflict. As for a correction, a
    lead or coordinator of its agency withdraws it once its author can no longer act there. A
    safety note (a warning) the case's coordinator withdraws too, whichever agency wrote it
    (``removes_warning``), as they remove a safety field's warning."""
    note = _note_of(actor, case, note_id)
    as_coordinator = removes_warning(actor, note)
    on_behalf = False
    if not as_coordinator:
        note, on_behalf = _changeable_note(actor, case, note_id, note=note)
    with transaction.atomic():
        # The coordinator withdraws the warning of an agency withdrawn from the case too: they
        # keep every warning of the case and, its agency gone, answer for it alone (until
        # h-safety4 they were told the case did not exist, as its people are).
        locked = _locked(note, version, writer_gone_ok=as_coordinator)
        # The coordinator's standing decided again on the case read after the lock: one who
        # lost the role while this waited withdraws nothing.
        if as_coordinator and not removes_warning(actor, locked):
            raise Forbidden("note.change_forbidden")
        closed = closed_case_changing(
            locked.case, actor, agency_id=locked.agency_id, categories=None, shown=(locked.category,)
        )
        now = timezone.now()
        _keep(locked, actor, now, NoteRevision.Change.WITHDRAWN)
        locked.text, locked.withdrawn_at = "", now
        locked.version += 1
        locked.save(update_fields=["text", "withdrawn_at", "version"])
        by = {"by_coordinator": True} if as_coordinator else for_agency_detail(on_behalf)
        _event(locked, EventKind.NOTE_WITHDRAWN, actor, **closed, **by)
        notes_policy.log_write(
            actor, locked.case, category=locked.category, agency_id=locked.agency_id, item=f"note:{locked.pk}"
        )
    return locked


def confirm_safety_note(*, actor, case, note_id, version=None) -> Note:
    """Confirm a safety note (a warning for staff) again: its time in force runs from now, as a
    safety field's does when confirmed (``services.confirm_safety_warning``). Those who keep the
    warning once it lapses confirm it: its agency and the case's coordinator
    (``rules.decide_lapsed_warning``; 403 for the others). 400 naming ``note`` for a note that
    is no safety warning; 409 for a closed case, a withdrawn or erased note, or ``version``
    (when given) no longer the note's: of two confirmations of one version exactly one is
    made. One timeline event (the note's id, never its text) and one access-log row (a write
    of safety data on the ground the actor keeps the warning on)."""
    note = _note_of(actor, case, note_id)
    _is_warning(note)
    if not rules.decide_lapsed_warning(rules.case_access(actor, note.case), note.case, note.agency_id):
        raise Forbidden("safety.confirm_forbidden")
    if version not in (None, "") and parse_id(version) is None:
        raise InvalidInput("note.invalid", errors=[field_error("version", "note.version_required")])
    with transaction.atomic():
        locked = lock_item(Note, note)
        if locked.case.status != CaseStatus.OPEN:
            raise Conflict("safety.case_closed")
        if locked.is_withdrawn:
            raise Conflict("note.withdrawn")
        if locked.is_erased:
            raise Conflict("note.erased")
        if version not in (None, "") and parse_id(version) != locked.version:
            raise Conflict("note.changed")
        _is_warning(locked)  # corrected into another category meanwhile
        # Decided again on the case read after the lock: an agency withdrawn, or a coordinator
        # who lost the role, while this waited answers for the warning no longer.
        decision = rules.decide_lapsed_warning(rules.case_access(actor, locked.case), locked.case, locked.agency_id)
        if not decision:
            raise Forbidden("safety.confirm_forbidden")
        locked.confirmed_at = timezone.now()
        locked.version += 1
        locked.save(update_fields=["confirmed_at", "version"])
        Event.objects.create(
            case_id=locked.case_id,
            kind=EventKind.SAFETY_CONFIRMED,
            actor=actor,
            agency=decision.agency,
            detail={"note": locked.pk, "category": locked.category},
        )
        notes_policy.log_confirm(actor, locked.case, decision, item=f"note:{locked.pk}")
    return locked


def _is_warning(note: Note) -> None:
    if rules.category_of(note.category) != SAFETY:
        raise InvalidInput("note.invalid", errors=[field_error("note", "note.not_a_warning")])


def _event(note: Note, kind, actor, **detail) -> None:
    Event.objects.create(
        case_id=note.case_id,
        kind=kind,
        actor=actor,
        agency_id=note.agency_id,
        detail={"note": note.pk, "category": note.category, **detail},
    )
