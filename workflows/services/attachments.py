"""Attachments on a case (a signed consent, a tenancy contract): add one, withdraw your own.

An attachment is a value of its category written by its agency, like a note
(``workflows.services.notes`` decides the agency and the category the same way). The file
is checked here whatever the interface: at most ``ATTACHMENT_MAX_BYTES``, not empty, and
its bytes a PDF, PNG or JPEG (``workflows.uploads.sniff``; the client's content type and
name are never believed). The bytes go to the ``attachments`` storage under a name the
server makes up, in the transaction that writes the row, its event and its access-log row.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone

from core.errors import Conflict, Forbidden, InvalidInput, NotFound, field_error
from core.ids import lookup_id
from permissions import notes_policy, policy, rules
from workflows import selectors, uploads
from workflows.attachment_storage import discard, storage
from workflows.models import Case, CaseStatus, Event, EventKind
from workflows.notes import Attachment
from workflows.services.notes import (
    FOR_AGENCY,
    NOT_THEIRS,
    SAFETY,
    WRITER_ACTS,
    WRITER_LEFT,
    change_standing,
    closed_case_changing,
    for_agency_detail,
    hold_case_for_writer,
    lock_item,
    require_open,
    still_writes,
    valid_category,
    writer_agency,
)


def _read_upload(upload, errors: list) -> tuple[bytes, str]:
    """The bytes of ``upload`` (a Django ``UploadedFile`` or any object with ``size`` and
    ``read``) and their sniffed type; ``b""`` after recording what is wrong."""
    if upload is None:
        errors.append(field_error("file", "attachment.file_required"))
        return b"", ""
    limit = settings.ATTACHMENT_MAX_BYTES
    if upload.size is not None and upload.size > limit:
        errors.append(field_error("file", "attachment.too_large", megabytes=uploads.megabytes(limit)))
        return b"", ""
    upload.seek(0)
    data = upload.read(limit + 1)
    if len(data) > limit:
        errors.append(field_error("file", "attachment.too_large", megabytes=uploads.megabytes(limit)))
        return b"", ""
    if not data:
        errors.append(field_error("file", "attachment.empty"))
        return b"", ""
    mime = uploads.sniff(data)
    if mime is None:
        errors.append(field_error("file", "attachment.type_refused"))
        return b"", ""
    if mime == "application/pdf" and uploads.pdf_has_active_content(data):
        errors.append(field_error("file", "attachment.pdf_active"))
        return b"", ""
    return data, mime


def add_attachment(*, actor, case, upload, category=None, agency=None) -> Attachment:
    """Attach a file to ``case`` for one of the actor's agencies there."""
    case = selectors.case_for(actor, case)
    if not rules.can_add_attachment(actor, case):
        raise Forbidden("note.add_forbidden")
    require_open(case)
    errors: list = []
    data, mime = _read_upload(upload, errors)
    writer = writer_agency(actor, case, agency, errors)
    category = valid_category(actor, case, writer, category, errors)
    if errors:
        raise InvalidInput("attachment.invalid", errors=errors)
    files = storage()
    name = None
    try:
        with transaction.atomic():
            hold_case_for_writer(case, writer, actor=actor, category=category, code="attachment.invalid")
            _check_room(case, writer, len(data))
            name = files.save(uploads.storage_name(case.pk, mime), ContentFile(data))
            attachment = Attachment.objects.create(
                case=case,
                agency=writer,
                uploaded_by=actor,
                category=category,
                filename=uploads.display_name(getattr(upload, "name", ""), mime),
                content_type=mime,
                size=len(data),
                sha256=hashlib.sha256(data).hexdigest(),
                stored_as=name,
                created_at=timezone.now(),
            )
            _event(attachment, EventKind.ATTACHMENT_ADDED, actor, content_type=mime, size=len(data))
            notes_policy.log_write(
                actor, case, category=category, agency_id=writer.pk, item=f"attachment:{attachment.pk}"
            )
    except Exception:
        if name is not None:  # a folder keeps what a rolled-back transaction wrote: remove it
            files.delete(name)
        raise
    return attachment


def _check_room(case, agency, size: int) -> None:
    """400 naming the file when ``agency`` has added as many files to the case, or keeps as
    many bytes there, as one agency may (read under the case's lock, so two uploads at once
    cannot both take the last room). Counted per agency, of its own files only: counted over
    the case, the answer told a participant the size of the files it may not see (another
    agency's health documents: fill the room, then add and withdraw until refused), and one
    agency could use up every other agency's room."""
    held = Attachment.objects.filter(case=case, agency=agency).aggregate(
        count=Count("pk"), kept=Sum("size", filter=Q(withdrawn_at__isnull=True) & ~Q(stored_as=""))
    )
    if held["count"] >= settings.ATTACHMENT_CASE_MAX_COUNT:
        raise InvalidInput(
            "attachment.invalid",
            errors=[field_error("file", "attachment.case_count_full", limit=settings.ATTACHMENT_CASE_MAX_COUNT)],
        )
    if (held["kept"] or 0) + size > settings.ATTACHMENT_CASE_MAX_BYTES:
        megabytes = uploads.megabytes(settings.ATTACHMENT_CASE_MAX_BYTES)
        raise InvalidInput(
            "attachment.invalid", errors=[field_error("file", "attachment.case_bytes_full", megabytes=megabytes)]
        )


def _attachment_of(actor, case, attachment_id) -> tuple[Case, Attachment]:
    """The case (an id, or the case) and its attachment ``attachment_id`` as ``actor`` finds
    them: 404 for a case they do not see, or an id of no attachment in it."""
    case = selectors.case_for(actor, case)
    attachment = Attachment.objects.select_related("case").filter(case=case, pk=lookup_id(attachment_id)).first()
    if attachment is None:
        raise NotFound("attachment.not_found")
    return case, attachment


def withdraw_attachment(*, actor, case, attachment_id) -> Attachment:
    """Withdraw the actor's own attachment (a wrong file): its bytes are deleted, its row
    and timeline event stay. Twice is a Conflict. A lead or coordinator of its agency withdraws
    it once who added it can no longer act for the agency in the case (``change_standing``)."""
    case, attachment = _attachment_of(actor, case, attachment_id)
    own = rules.can_withdraw_attachment(actor, attachment)
    standing = change_standing(actor, attachment, attachment.uploaded_by_id, own=own)
    if standing == WRITER_ACTS:
        raise Forbidden("attachment.uploader_still_acts")
    if standing == WRITER_LEFT:
        raise Forbidden("attachment.uploader_left")
    if standing == NOT_THEIRS:
        raise Forbidden("attachment.withdraw_forbidden")
    on_behalf = standing == FOR_AGENCY
    with transaction.atomic():
        locked = lock_item(Attachment, attachment)
        still_writes(locked)
        if locked.is_withdrawn:
            raise Conflict("attachment.already_withdrawn")
        if locked.is_erased:
            raise Conflict("attachment.erased")
        closed = closed_case_changing(locked.case, actor, agency_id=locked.agency_id, categories=None)
        name = locked.stored_as
        locked.withdrawn_at, locked.withdrawn_by, locked.stored_as = timezone.now(), actor, ""
        locked.save(update_fields=["withdrawn_at", "withdrawn_by", "stored_as"])
        discard(name, case_id=locked.case_id)
        _event(locked, EventKind.ATTACHMENT_WITHDRAWN, actor, **closed, **for_agency_detail(on_behalf))
        notes_policy.log_write(
            actor, case, category=locked.category, agency_id=locked.agency_id, item=f"attachment:{locked.pk}"
        )
    return locked


def confirm_safety_attachment(*, actor, case, attachment_id) -> Attachment:
    """Confirm a safety attachment (a warning: a photo of a threat, a police report) again: its
    time in force runs from now, as a safety note's does when confirmed
    (``services.confirm_safety_note``). Those who keep the warning once it lapses confirm it: its
    agency and the case's coordinator (``rules.decide_lapsed_warning``); 403 for the other
    participants, whatever the file (a lapsed one is told to them only as lapsed: its category,
    state and keepers they learn nothing more of here), 404 for anyone who does not see the case.
    400 naming ``attachment`` for a file that is no safety warning; 409 for a closed case, or a
    withdrawn or erased file. Decided again under the case's lock, which a withdrawal and the
    reminder's job hold too. Idempotent within an Oslo day: a file already in force from today
    (added or confirmed today, two confirmations at once) lapses on the same date however often
    it is confirmed, so a second confirmation changes neither the file nor the timeline. Otherwise
    one timeline event (the file's id, never its name). Each confirmation writes one access-log
    row (a write of safety data on the ground the actor keeps the warning on). Until h-safety5 its
    agency had to add the file anew."""
    case, attachment = _attachment_of(actor, case, attachment_id)
    if not rules.decide_lapsed_warning(rules.case_access(actor, case), case, attachment.agency_id):
        raise Forbidden("safety.confirm_forbidden")
    _is_warning(attachment)
    with transaction.atomic():
        locked = lock_item(Attachment, attachment)
        if locked.case.status != CaseStatus.OPEN:
            raise Conflict("safety.case_closed")
        if locked.is_withdrawn:
            raise Conflict("attachment.withdrawn")
        if locked.is_erased:
            raise Conflict("attachment.erased")
        # Decided again on the case read after the lock: an agency withdrawn, or a coordinator
        # who lost the role, while this waited answers for the warning no longer.
        decision = rules.decide_lapsed_warning(rules.case_access(actor, locked.case), locked.case, locked.agency_id)
        if not decision:
            raise Forbidden("safety.confirm_forbidden")
        now = timezone.now()
        # In force from today already (added or confirmed today): it lapses on the same date
        # whatever this does, so the file and its timeline stay as they are. The actor's word
        # that the warning holds is theirs, and logged as theirs all the same.
        if policy.local_date(locked.warning_since) < policy.local_date(now):
            locked.confirmed_at = now
            locked.save(update_fields=["confirmed_at"])
            Event.objects.create(
                case_id=locked.case_id,
                kind=EventKind.SAFETY_CONFIRMED,
                actor=actor,
                agency=decision.agency,
                detail={"attachment": locked.pk, "category": locked.category},
            )
        notes_policy.log_confirm(actor, locked.case, decision, item=f"attachment:{locked.pk}")
    return locked


def _is_warning(attachment: Attachment) -> None:
    if rules.category_of(attachment.category) != SAFETY:
        raise InvalidInput("attachment.invalid", errors=[field_error("attachment", "attachment.not_a_warning")])


def _event(attachment: Attachment, kind, actor, **detail) -> None:
    Event.objects.create(
        case_id=attachment.case_id,
        kind=kind,
        actor=actor,
        agency_id=attachment.agency_id,
        detail={"attachment": attachment.pk, "category": attachment.category, **detail},
    )
