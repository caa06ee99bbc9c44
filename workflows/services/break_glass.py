"""Break-glass use cases, shared by the web UI and the API: open a masked category in an
emergency, the auditor's review of it, and ending it before its time.

domain.md: to avert danger to life or health a participant may open a masked category, only
with a written reason; the opening lasts ``BREAK_GLASS_HOURS`` hours (the clock ends it, no
job), is written to the access log with its reason, shows on the case for the coordinator and
in the person's access report, and waits in the auditors' review list until reviewed. The
decision that it opens the category is ``rules.decide_break_glass``, used by the masking path.
"""

from __future__ import annotations

import datetime
import unicodedata

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core.errors import Conflict, Forbidden, InvalidInput, NotFound, field_error
from core.ids import lookup_id
from permissions import rules
from permissions.models import AccessAction, AccessLog, BreakGlass, CaseParticipant, Role
from workflows import selectors, steps
from workflows.models import Case, CaseStatus
from workflows.services import room

MIN_REASON = 20  # a sentence that says what danger is averted, not "akutt"
MAX_REASON = 4000
MAX_NOTE = 4000


# Characters of the drawing classes (letters, numbers, punctuation, symbols) that draw nothing.
_BLANK_GLYPHS = frozenset("\u115f\u1160\u3164\uffa0\u2800")


def _readable_length(text: str) -> int:
    """How long ``text`` reads: its letters, numbers, punctuation and symbols, and one space
    between words; format characters (zero-width), combining marks and blank glyphs count
    for nothing, so twenty of them are no reason."""
    words = [
        "".join(c for c in word if unicodedata.category(c)[0] in "LNPS" and c not in _BLANK_GLYPHS)
        for word in text.split()
    ]
    words = [word for word in words if word]
    return sum(map(len, words)) + max(len(words) - 1, 0)


def _valid_reason(reason, errors) -> str:
    if not isinstance(reason, str) or not reason.strip():
        errors.append(field_error("reason", "field.required"))
        return ""
    reason = reason.strip()
    if _readable_length(reason) < MIN_REASON:
        errors.append(field_error("reason", "break_glass.reason_too_short", limit=MIN_REASON))
    elif len(reason) > MAX_REASON:
        errors.append(field_error("reason", "field.too_long", limit=MAX_REASON))
    return reason


def break_glass_possible(case: Case) -> bool:
    """Emergency access opens only on an open case: once it is closed nobody works it, so no
    danger to life or health is averted through it, and its data waits only for the archive
    and erasure (the page hides the form; the service refuses)."""
    return case.status == CaseStatus.OPEN


def _log(grant: BreakGlass, *, user, agency_id, role, action, at) -> None:
    AccessLog.objects.create(
        user=user,
        username=user.get_username(),
        role=role,
        agency_id=agency_id,
        case_id=grant.case_id,
        person_id=grant.person_id,
        category=grant.category,
        action=action,
        basis=grant.access_basis,
        break_glass=grant,
        at=at,
    )


def open_break_glass(*, actor, case, category, reason) -> BreakGlass:
    """Open ``category`` of ``case`` (masked for ``actor``) to ``actor`` alone for
    ``BREAK_GLASS_HOURS`` hours, with a written ``reason``. Invisible case: 404; a role that
    works no case (process admin, auditor): 404 as well (they do not see the case)."""
    case = selectors.case_for(actor, case)
    if not rules.can_break_glass(actor, case):
        raise Forbidden("break_glass.forbidden")
    if not break_glass_possible(case):
        raise Conflict("break_glass.case_closed")
    access = rules.case_access(actor, case)
    errors: list[dict] = []
    reason = _valid_reason(reason, errors)
    now = timezone.now()
    masked = rules.break_glass_categories(
        access,
        selectors.case_field_rules(case),
        rules.active_consents(case, now),
        rules.active_break_glass(case, actor, now),
    )
    if category in (None, ""):
        errors.append(field_error("category", "field.required"))
    elif category not in masked:
        errors.append(field_error("category", "break_glass.category_not_masked"))
    if errors:
        raise InvalidInput("break_glass.invalid", errors=errors)
    agency, role = access.acting[0]
    with transaction.atomic():
        # The case row held until the commit, then checked again: of two openings of one
        # category by one user at once (a double submit) the second waits and is refused as
        # it would be after the first (the category is no longer masked for them), and none
        # opens on a case closed meanwhile.
        locked = Case.objects.select_for_update().get(pk=case.pk)
        now = timezone.now()  # after the wait: an opening committed meanwhile was opened before it
        if not break_glass_possible(locked):
            raise Conflict("break_glass.case_closed")
        if not CaseParticipant.objects.filter(case=locked, agency=agency).exists():
            # The agency was withdrawn while we waited (its withdrawal holds the case): its
            # people see the case nowhere now, and nothing opens for them (404, as after it).
            raise NotFound("case.not_found")
        if BreakGlass.objects.active(now).filter(case=locked, user=actor, category=category).exists():
            raise InvalidInput(
                "break_glass.invalid", errors=[field_error("category", "break_glass.category_not_masked")]
            )
        # Read with the case row held: of two openings at once for the last room, one is refused.
        opened = BreakGlass.objects.filter(case=locked, user=actor)
        room.refuse_when_full(opened, settings.BREAK_GLASS_PER_USER_CASE, code="break_glass.openings_full")
        grant = BreakGlass.objects.create(
            case=case,
            person_id=case.person_id,
            user=actor,
            agency=agency,
            category=category,
            reason=reason,
            opened_at=now,
            expires_at=now + datetime.timedelta(hours=settings.BREAK_GLASS_HOURS),
        )
        _log(grant, user=actor, agency_id=agency.pk, role=role, action=AccessAction.BREAK_GLASS, at=now)
    return grant


def _found(grants, actor) -> BreakGlass | None:
    """The opening of ``grants`` (one id), when a role of ``actor`` stands in its case: every
    answer about it but a 404 rests on that (its opener works the case, its reviewers audit
    it, its coordinator is told 403), so an opening of a case they have no part in is no row,
    found by the same statement as an id no opening has (docs/security.md "404 alike")."""
    if getattr(actor, "is_authenticated", False):
        grants = grants.filter(rules.stands_in_case_of_row(actor.pk))
    return grants.first()


def review_break_glass(*, actor, grant_id, note: str = "") -> BreakGlass:
    """The auditor marks an opening reviewed (with an optional note); written to the access
    log. Only auditors of an agency that takes part in the case (others: 404); twice: 409."""
    grant = _found(BreakGlass.objects.filter(pk=lookup_id(grant_id)), actor)
    if grant is None or not rules.can_review_break_glass(actor, grant):
        raise NotFound("break_glass.not_found")
    if not isinstance(note, str):
        raise InvalidInput("break_glass.invalid", errors=[field_error("note", "field.expected_text")])
    if len(note) > MAX_NOTE:
        raise InvalidInput("break_glass.invalid", errors=[field_error("note", "field.too_long", limit=MAX_NOTE)])
    auditor_agencies = rules.agency_ids_with_role(actor, Role.AUDITOR)
    participating = (
        grant.case.participants.filter(agency_id__in=auditor_agencies).values_list("agency_id", flat=True).first()
    )
    with transaction.atomic():
        grant = steps.lock_case_then(BreakGlass, grant.pk, grant.case_id)
        if not rules.can_review_break_glass(actor, grant):
            # The auditor's agency was withdrawn from the case while we waited (its withdrawal
            # holds the case): they review nothing in it now (404, as after it).
            raise NotFound("break_glass.not_found")
        if grant.reviewed_at is not None:
            raise Conflict("break_glass.already_reviewed")
        now = timezone.now()
        grant.reviewed_at, grant.reviewed_by, grant.review_note = now, actor, note.strip()
        grant.save(update_fields=["reviewed_at", "reviewed_by", "review_note"])
        _log(grant, user=actor, agency_id=participating, role=Role.AUDITOR, action=AccessAction.REVIEW, at=now)
    return grant


def end_break_glass(*, actor, grant_id) -> BreakGlass:
    """End an opening now, before it expires: by the user who opened it (who no longer needs
    it) or by an auditor who may review it (who found it not needed, or needed no longer).
    Written to the access log. Anyone else: 404, but 403 for one who sees the opening on the
    case (its coordinator); ended or expired already: 409."""
    grant = _found(BreakGlass.objects.select_related("case").filter(pk=lookup_id(grant_id)), actor)
    if grant is None:
        raise NotFound("break_glass.not_found")
    if not rules.can_end_break_glass(actor, grant):
        if rules.can_view_break_glass(actor, grant.case):
            raise Forbidden("break_glass.end_forbidden")
        raise NotFound("break_glass.not_found")
    with transaction.atomic():
        # The case held as a review holds it: a withdrawal of the actor's agency meanwhile is seen.
        grant = steps.lock_case_then(BreakGlass, grant.pk, grant.case_id)
        if not rules.can_end_break_glass(actor, grant):
            raise NotFound("break_glass.not_found")
        now = timezone.now()
        if grant.ended_at is not None or not grant.is_active(now):
            raise Conflict("break_glass.already_ended")
        agency_id: int | None
        if grant.user_id == actor.pk:
            agency_id, role = grant.agency_id, rules.case_access(actor, grant.case).acting[0][1]
        else:
            auditor_agencies = rules.agency_ids_with_role(actor, Role.AUDITOR)
            agency_id = (
                grant.case.participants.filter(agency_id__in=auditor_agencies)
                .values_list("agency_id", flat=True)
                .first()
            )
            role = Role.AUDITOR
        grant.ended_at, grant.ended_by = now, actor
        # The clock ends every opening (``BreakGlass.objects.active``): one ended now expires now.
        grant.expires_at = max(now, grant.opened_at + datetime.timedelta(microseconds=1))
        grant.save(update_fields=["ended_at", "ended_by", "expires_at"])
        _log(grant, user=actor, agency_id=agency_id, role=role, action=AccessAction.BREAK_GLASS_END, at=now)
    return grant
