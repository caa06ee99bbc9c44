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

import datetime
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from permissions import policy, rules
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
    # A safety note (a warning, time-limited like a safety field: ``policy.warning_window``):
    # the date it lapsed on, or the last date it is shown on while in force; ``confirmable``
    # when the reader keeps it (``rules.decide_lapsed_warning``) and may confirm it again.
    lapsed_on: datetime.date | None = None
    valid_until: datetime.date | None = None
    confirmable: bool = False

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
    return policy.log_row(user, case, decision, rules.category_of(category), action, at or timezone.now(), item)


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

    def keeps(self, agency_id: int) -> rules.Decision:
        """Whether the reader keeps a safety warning ``agency_id`` wrote once it lapsed: the
        same rule as a safety field's (``rules.decide_lapsed_warning``)."""
        return rules.decide_lapsed_warning(self.access, self.case, agency_id)


def warning_window(moment, at=None) -> tuple[datetime.date | None, datetime.date]:
    """A safety note's text written or confirmed at ``moment``: ``(the date it lapsed on or
    None, the last date it is shown on)``, by the rule of safety fields
    (``policy.warning_window``, ``SAFETY_WARNING_DAYS``)."""
    return policy.warning_window(moment, policy.default_warning_days(), at)


def note_reminder_due(note, days: int, at=None) -> datetime.date | None:
    """The date the safety note (or attachment) ``note`` lapses on, when its keepers are to be
    told now (at ``at``, default now) that it lapses soon: a warning in force (not withdrawn,
    not erased) that lapses within ``days`` Oslo days (``SAFETY_REMINDER_DAYS``) and whose
    keepers have not been told of in this time in force (``safety_reminded_for``); else None.
    The rule of the fields' reminders (``policy.warnings_to_remind``). Pure: no queries."""
    if days < 1 or rules.category_of(note.category) != SAFETY or note.is_withdrawn or note.is_erased:
        return None
    at = at or timezone.now()
    lapsed_on, last = warning_window(note.warning_since, at)
    if lapsed_on is not None or note.safety_reminded_for == note.warning_since:
        return None
    lapses = last + datetime.timedelta(days=1)
    return lapses if policy.local_date(at) >= lapses - datetime.timedelta(days=days) else None


def _lapsed(category: str, moment, at) -> datetime.date | None:
    """The date a text of ``category`` written or confirmed at ``moment`` lapsed on, if it is a
    safety warning out of time at ``at``."""
    return warning_window(moment, at)[0] if rules.category_of(category) == SAFETY else None


SAFETY = "safety"


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
        warning: dict = {}
        if decision and rules.category_of(note.category) == SAFETY and not note.is_erased:
            # A safety note is a warning, time-limited as a safety field is: once out of time only
            # its agency and the coordinator keep it (read on that ground); the others are told
            # that a warning lapsed, and when, and read nothing (until h-safetynotes a warning
            # note labelled the person to every participant for ever).
            lapsed_on, last = warning_window(note.warning_since, entries.at)
            keeper = grounds.keeps(note.agency_id)
            warning = {"lapsed_on": lapsed_on, "valid_until": None if lapsed_on else last}
            warning["confirmable"] = bool(keeper) and not note.is_withdrawn
            if lapsed_on is not None:
                decision = keeper
        if decision:
            for revision in note.revisions.all():
                older = grounds.decide(revision.category, note.agency_id)
                # An earlier safety text lapses from when it was written, as the note's does.
                if older and _lapsed(revision.category, revision.written_at, entries.at):
                    older = grounds.keeps(note.agency_id)
                if older:
                    history.append(revision)
                    entries.add(older, revision.category)
            if not note.is_withdrawn:
                entries.add(decision, note.category)
        views.append(
            ItemView(note, bool(decision), _reason(decision, note.category), decision.basis, tuple(history), **warning)
        )
    if log:
        entries.write()
    return views


def attachments_for(user, case, attachments, *, log: bool = True) -> list[ItemView]:
    """``attachments`` of ``case`` shown (file name, type, size) or masked for ``user``;
    the listing of a visible one is a read of its category. A safety attachment is a warning
    and lapses as a safety note does (``_attachment_warning``): the others are told only that
    a warning lapsed, and when (no file name, type, size, uploader or download)."""
    grounds = _Grounds(user, case)
    entries = _Log(user, case, ATTACHMENTS)
    views = []
    for attachment in attachments:
        decision, warning = _attachment_warning(grounds, attachment, entries.at)
        if decision and not attachment.is_withdrawn:
            entries.add(decision, attachment.category)
        views.append(
            ItemView(attachment, bool(decision), _reason(decision, attachment.category), decision.basis, **warning)
        )
    if log:
        entries.write()
    return views


def _attachment_warning(grounds: _Grounds, attachment, at) -> tuple[rules.Decision, dict]:
    """``grounds``' decision on ``attachment`` and, for a safety one (a warning: a photo of a
    threat, a police report), its dates: in force for ``SAFETY_WARNING_DAYS`` Oslo days from
    when it was added (``warning_window``, the rule of safety notes and fields); out of time
    only its agency and the case's coordinator keep it (``rules.decide_lapsed_warning``, read
    on that ground), and confirm it again (``confirmable``; its time in force then runs from the
    confirmation, ``Attachment.warning_since``). An attachment has no link to a field or a note
    (its category is chosen when it is added): it is a warning of its own. Until h-safety3 a
    safety attachment was listed with its name and downloaded by every participant for ever;
    until h-safety5 it could not be confirmed again (its agency added the file anew)."""
    decision = grounds.decide(attachment.category, attachment.agency_id)
    if not decision or rules.category_of(attachment.category) != SAFETY or attachment.is_erased:
        return decision, {}
    lapsed_on, last = warning_window(attachment.warning_since, at)
    keeper = grounds.keeps(attachment.agency_id)
    confirmable = bool(keeper) and not attachment.is_withdrawn
    if lapsed_on is None:
        return decision, {} if attachment.is_withdrawn else {"valid_until": last, "confirmable": confirmable}
    # Withdrawn or not: a lapsed file withdrawn (its agency adds a new one) names its uploader
    # to its keepers only, as a lapsed note withdrawn does (until h-attack35 the withdrawal gave
    # the others its uploader back, and the timeline its type and size).
    return keeper, {"lapsed_on": lapsed_on, "confirmable": confirmable}


def masked_note_kinds(user, case, kinds) -> list[tuple[str, int]]:
    """Of ``kinds`` ((category, writing agency id) pairs of notes of ``case``), those whose
    notes ``user`` is shown masked, decided as ``notes_for`` decides them (nothing logged:
    nothing is shown). No kinds, nothing read: a case with no corrected note reads no consent
    for its timeline."""
    if not kinds:
        return []
    grounds = _Grounds(user, case)
    return [(category, agency_id) for category, agency_id in kinds if not grounds.decide(category, agency_id)]


def lapsed_notes_not_kept(user, case, notes, at=None) -> list[int]:
    """Of ``notes`` ((id, category, writing agency id, time in force from, erased) of notes, or
    of attachments, of ``case``), the ids of the safety warnings out of time (at ``at``, default
    now) that ``user`` does not keep (``rules.decide_lapsed_warning``): shown masked, as
    ``notes_for`` and ``attachments_for`` decide them, with no version and no time of correction
    or confirmation. Pure: no queries."""
    grounds: _Grounds | None = None
    lapsed = []
    for pk, category, agency_id, since, erased in notes:
        if erased or rules.category_of(category) != SAFETY or warning_window(since, at)[0] is None:
            continue
        grounds = grounds or _Grounds(user, case)
        if not grounds.keeps(agency_id):
            lapsed.append(pk)
    return sorted(lapsed)


def attachment_decision(user, case, attachment) -> rules.Decision:
    """Whether ``user`` may download ``attachment`` (decided afresh on every download), as the
    list decides it: a safety attachment out of time only by its agency and the coordinator."""
    return _attachment_warning(_Grounds(user, case), attachment, timezone.now())[0]


def item_kind_decision(user, case, category: str, agency_id: int | None) -> rules.Decision:
    """Whether ``user`` is shown the notes and attachments of ``category`` by ``agency_id`` in
    ``case`` (the timeline's question of an item event, which carries no item)."""
    return _Grounds(user, case).decide(category, agency_id)


def log_export(user, case, attachment, decision) -> None:
    """A download: action ``export``, item ``attachment:<id>``."""
    _row(user, case, decision, attachment.category, AccessAction.EXPORT, f"attachment:{attachment.pk}").save()


def log_confirm(user, case, decision, *, item: str) -> None:
    """A safety note or attachment confirmed again by ``user`` on ``decision``'s ground (its agency's own
    data, or the coordinator's: ``rules.decide_lapsed_warning``)."""
    _row(user, case, decision, SAFETY, AccessAction.WRITE, item).save()


def log_write(user, case, *, category: str, agency_id: int, item: str) -> None:
    """A note or attachment added, corrected or withdrawn by ``user`` for ``agency_id``."""
    access = rules.case_access(user, case)
    decision = rules.decide_note(access, category, (), author_agency_id=agency_id)
    _row(user, case, decision, category, AccessAction.WRITE, item).save()
