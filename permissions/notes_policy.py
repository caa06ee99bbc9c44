"""Notes and attachments shown, masked and logged by the rules of case data (design §6).

A note or an attachment is a value of its category written by its agency, decided by
``rules.decide_note`` (the category's grounds, else own-data). The category's grounds include
the user's own break-glass openings in force (``rules.active_break_glass``, read only when an
item would be masked otherwise): an emergency opening of ``health`` opens the health notes and
attachments too, until it expires by the clock. What is shown is written to the access log
like ``policy.case_data_for`` writes case data (the opening named on the row, so the person's
access report and the auditor see what it was used for): one row per category and basis
revealed in one answer (``item`` says "notes" or "attachments"); a download writes
its own row (action ``export``, ``item`` "attachment:<id>"); adding, correcting or
withdrawing writes one (action ``write``). Masked items keep their date, agency and
category (the participants are no secret among participants) but never their text,
file name or history.

The callers have checked ``rules.can_view_case`` (404 otherwise). Consents are read fresh
on every call, when an item's category needs them (``_Consents``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from permissions import rules
from permissions.models import RESTRICTED, AccessAction, AccessLog

RESTRICTED_REASON = _("a restricted entry: only the agency that wrote it and the coordinating agency see it")
NOTES, ATTACHMENTS = "notes", "attachments"


@dataclass(frozen=True)
class ItemView:
    """One note or attachment as one user sees it. ``reason`` says why it is masked."""

    item: Any  # a workflows Note or Attachment (a higher layer)
    visible: bool
    reason: str | None = None
    basis: str | None = None
    history: tuple = field(default=())  # a note's earlier texts the user may read (newest first)

    @property
    def text(self) -> str | None:
        return self.item.text if self.visible and not self.item.is_withdrawn else None


def _reason(decision, category) -> str | None:
    if decision:
        return None
    return str(RESTRICTED_REASON if rules.category_of(category) == RESTRICTED else decision.reason)


class _Log:
    """Rows for one answer: one per (category, basis), as ``policy.case_data_for`` writes."""

    def __init__(self, user, case, item: str):
        self.user, self.case, self.item, self.at = user, case, item, timezone.now()
        self.rows: dict[tuple[str, str], AccessLog] = {}

    def add(self, decision, category, action=AccessAction.READ):
        key = (category, decision.basis or "")
        if key not in self.rows:
            self.rows[key] = _row(self.user, self.case, decision, category, action, self.item, self.at)

    def write(self):
        if self.rows:
            AccessLog.objects.bulk_create(self.rows.values())


def _row(user, case, decision, category, action, item, at=None):
    return AccessLog(
        user=user,
        username=user.get_username(),
        role=decision.role or "",
        agency=decision.agency,
        case=case,
        person_id=case.person_id,
        category=rules.category_of(category),
        action=action,
        basis=decision.basis or "",
        consent=decision.consent,
        break_glass=decision.break_glass,
        item=item,
        at=at or timezone.now(),
    )


class _Consents:
    """The case's consents in force, read (``rules.active_consents``) the first time a
    decision goes through them, then kept for the answer. ``rules.decide_category`` goes
    through them only for a category the reader's standing does not open (its own service,
    an open one, the coordinator's): a reader whose standing opens every category of the
    items reads none (until 2026-12-07 they were read for every answer, and for the
    timeline of every case with a corrected note)."""

    def __init__(self, case):
        self.case = case
        self.rows: list | None = None

    def __iter__(self):
        if self.rows is None:
            self.rows = rules.active_consents(self.case)
        return iter(self.rows)


class _Grounds:
    """Decides the items of one answer for one user: the consents read once and only if
    some item's category is not open to the user's standing, the user's break-glass
    openings read once and only if some item is masked without them."""

    def __init__(self, user, case):
        self.user, self.case = user, case
        self.access = rules.case_access(user, case)
        self.consents = _Consents(case)
        self.emergency: list | None = None

    def decide(self, category: str, author_agency_id: int | None) -> rules.Decision:
        decision = rules.decide_note(self.access, category, self.consents, author_agency_id=author_agency_id)
        if decision or not self.access or rules.category_of(category) == RESTRICTED:
            return decision
        if self.emergency is None:
            self.emergency = rules.active_break_glass(self.case, self.user)
        if not self.emergency:
            return decision
        return rules.decide_note(
            self.access, category, self.consents, author_agency_id=author_agency_id, emergency=self.emergency
        )


def notes_for(user, case, notes, *, log: bool = True) -> list[ItemView]:
    """``notes`` (of ``case``, revisions prefetched) shown or masked for ``user``.

    A withdrawn note shows no text; its earlier texts are in ``history``, which holds a
    revision only when the user may read both the note's category now and the category the
    revision had (a note moved to ``health`` because it told of health no longer shows its
    old text to those who could read it under ``coordination``).
    """
    grounds = _Grounds(user, case)
    entries = _Log(user, case, NOTES)
    views = []
    for note in notes:
        decision = grounds.decide(note.category, note.agency_id)
        history = []
        if decision:
            for revision in note.revisions.all():
                older = grounds.decide(revision.category, note.agency_id)
                if older:
                    history.append(revision)
                    entries.add(older, revision.category)
            if not note.is_withdrawn:
                entries.add(decision, note.category)
        views.append(ItemView(note, bool(decision), _reason(decision, note.category), decision.basis, tuple(history)))
    if log:
        entries.write()
    return views


def attachments_for(user, case, attachments, *, log: bool = True) -> list[ItemView]:
    """``attachments`` of ``case`` shown (file name, type, size) or masked for ``user``;
    the listing of a visible one is a read of its category."""
    grounds = _Grounds(user, case)
    entries = _Log(user, case, ATTACHMENTS)
    views = []
    for attachment in attachments:
        decision = grounds.decide(attachment.category, attachment.agency_id)
        if decision and not attachment.is_withdrawn:
            entries.add(decision, attachment.category)
        views.append(ItemView(attachment, bool(decision), _reason(decision, attachment.category), decision.basis))
    if log:
        entries.write()
    return views


def masked_note_kinds(user, case, kinds) -> list[tuple[str, int]]:
    """Of ``kinds`` ((category, writing agency id) pairs of notes of ``case``), those whose
    notes ``user`` is shown masked, decided as ``notes_for`` decides them (nothing logged:
    nothing is shown). No kinds, nothing read: a case with no corrected note reads no consent
    for its timeline."""
    if not kinds:
        return []
    grounds = _Grounds(user, case)
    return [(category, agency_id) for category, agency_id in kinds if not grounds.decide(category, agency_id)]


def attachment_decision(user, case, attachment) -> rules.Decision:
    """Whether ``user`` may download ``attachment`` (decided afresh on every download)."""
    return _Grounds(user, case).decide(attachment.category, attachment.agency_id)


def log_export(user, case, attachment, decision) -> None:
    """A download: action ``export``, item ``attachment:<id>``."""
    _row(user, case, decision, attachment.category, AccessAction.EXPORT, f"attachment:{attachment.pk}").save()


def log_write(user, case, *, category: str, agency_id: int, item: str) -> None:
    """A note or attachment added, corrected or withdrawn by ``user`` for ``agency_id``."""
    access = rules.case_access(user, case)
    decision = rules.decide_note(access, category, (), author_agency_id=agency_id)
    _row(user, case, decision, category, AccessAction.WRITE, item).save()
