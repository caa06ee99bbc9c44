"""Reads of a case's notes and attachments, already shown or masked for who asks.

Every function first finds the case through ``selectors.case_for`` (404 when invisible),
then shows each item through ``permissions.notes_policy`` (masked with a reason, logged).
An item id is looked up inside the case given: another case's attachment is "not found"
here even for someone who sees that other case.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Prefetch

from core.errors import Forbidden, NotFound
from core.ids import lookup_id
from permissions import notes_policy, rules
from workflows import selectors
from workflows.attachment_storage import storage
from workflows.notes import Attachment, Note, NoteRevision


def notes_of(case):
    """The case's notes, newest first, with what showing them needs."""
    revisions = Prefetch("revisions", queryset=NoteRevision.objects.select_related("replaced_by").order_by("-version"))
    return (
        Note.objects.filter(case=case)
        .select_related("agency", "author")
        .prefetch_related(revisions)
        .order_by("-created_at", "-id")
    )


def attachments_of(case):
    return (
        Attachment.objects.filter(case=case)
        .select_related("agency", "uploaded_by", "withdrawn_by")
        .order_by("-created_at", "-id")
    )


def notes_for_case(*, actor, case, page=None) -> list[notes_policy.ItemView]:
    """The case's notes as ``actor`` may see them (``page``: a slice of ``notes_of``)."""
    case = selectors.case_for(actor, case)
    return notes_policy.notes_for(actor, case, notes_of(case) if page is None else page)


def note_for(*, actor, case, note_id, log: bool = True) -> notes_policy.ItemView:
    """One note as ``actor`` may see it. ``log=False`` only to echo a note back to the one
    who just wrote it (no read of anyone else's data)."""
    case = selectors.case_for(actor, case)
    note = notes_of(case).filter(pk=lookup_id(note_id)).first()
    if note is None:
        raise NotFound("note.not_found")
    return notes_policy.notes_for(actor, case, [note], log=log)[0]


def warning_valid_until(item: Note | Attachment):
    """The last Oslo date the safety note or attachment ``item`` is shown to the participants on."""
    return notes_policy.warning_window(item.warning_since)[1]


def attachments_for_case(*, actor, case, page=None, log: bool = True) -> list[notes_policy.ItemView]:
    case = selectors.case_for(actor, case)
    return notes_policy.attachments_for(actor, case, attachments_of(case) if page is None else page, log=log)


@dataclass(frozen=True)
class Download:
    attachment: Attachment
    content: bytes


def attachment_download(*, actor, case, attachment_id) -> Download:
    """The bytes of one attachment of ``case``, decided on every call: 404 when the case or
    the attachment (in this case) is invisible, withdrawn or erased with the case, 403 when its category is masked
    for ``actor``. The download is written to the access log (action ``export``)."""
    case = selectors.case_for(actor, case)
    attachment = attachments_of(case).filter(pk=lookup_id(attachment_id)).first()
    if attachment is None:
        raise NotFound("attachment.not_found")
    if attachment.is_withdrawn:
        raise NotFound("attachment.withdrawn")
    if attachment.is_erased:
        raise NotFound("attachment.erased")
    decision = notes_policy.attachment_decision(actor, case, attachment)
    if not decision:
        raise Forbidden("attachment.forbidden")
    try:
        with storage().open(attachment.stored_as) as stored:
            content = stored.read()
    except FileNotFoundError:
        # Withdrawn or erased after the row above was read (its bytes go in the same
        # transaction): answered as after it, never a 500, and nothing was exported.
        raise _gone(attachment) from None
    notes_policy.log_export(actor, case, attachment, decision)
    return Download(attachment, content)


def _gone(attachment: Attachment) -> NotFound:
    now = Attachment.objects.filter(pk=attachment.pk).only("withdrawn_at", "stored_as", "filename").first()
    if now is not None and now.is_withdrawn:
        return NotFound("attachment.withdrawn")
    if now is not None and now.is_erased:
        return NotFound("attachment.erased")
    return NotFound("attachment.not_found")


def _writer(item) -> int | None:
    return item.author_id if isinstance(item, Note) else item.uploaded_by_id


def changeable_for_agency(actor, case, notes, attachments) -> tuple[set[int], set[int]]:
    """Of ``notes`` and ``attachments`` (of ``case``), the ids of those ``actor`` may change
    on behalf of the agency that wrote them: a lead or coordinator of it, once the writer
    (author or uploader) can no longer act for it (``rules.may_change_for_agency``); neither
    withdrawn nor erased. One query for both, none when ``actor`` leads or coordinates no
    agency that wrote one of them (most readers: the page reads nothing more)."""
    led = [
        item
        for item in (*notes, *attachments)
        if not item.is_withdrawn
        and not item.is_erased
        and _writer(item) != actor.pk
        and rules.answers_for_agency(actor, case, item.agency_id)
    ]
    acting = rules.writers_still_acting([(_writer(item), item.agency_id) for item in led])
    changeable = [
        item
        for item in led
        if rules.may_change_for_agency(
            actor,
            case,
            agency_id=item.agency_id,
            writer_id=_writer(item),
            writer_acts=(_writer(item), item.agency_id) in acting,
        )
    ]
    return (
        {item.pk for item in changeable if isinstance(item, Note)},
        {item.pk for item in changeable if isinstance(item, Attachment)},
    )


@dataclass(frozen=True)
class NoteForm:
    """What a user may choose when writing a note or attaching a file in a case."""

    agencies: list  # the user's agencies in the case
    categories: dict  # agency id -> the categories it may write, in order
    defaults: dict  # agency id -> its default category

    @property
    def can_write(self) -> bool:
        return bool(self.agencies)


def note_form_for(*, actor, case) -> NoteForm:
    case = selectors.case_for(actor, case)
    access = rules.case_access(actor, case)
    if not rules.can_add_note(actor, case):
        return NoteForm([], {}, {})
    consents = rules.active_consents(case)
    agencies = rules.note_agencies(access)
    categories = {agency.pk: rules.note_categories(access, agency, consents) for agency in agencies}
    defaults = {agency.pk: rules.default_note_category(agency, categories[agency.pk]) for agency in agencies}
    return NoteForm(agencies, categories, defaults)
