"""Consent use cases, shared by the web UI and the API: record and revoke.

A sharing rests on a provision from the process admins' list (``LegalBasis``: the person's
consent or a provision of law), is recorded by the coordinator or the agency that holds the
data and never by the recipient, and covers only categories the recipient needs to know in
the case's process (``permissions.rules``: ``may_record_sharing``, ``need_to_know``).
Each change is one transaction together with its ``Event`` on the case timeline.
The reads (the case's consents, its access log, the person's access report) are selectors.
"""

from __future__ import annotations

import datetime
import re

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from bpmn.engine.date_range import DATE_MAX
from core.errors import Conflict, Forbidden, InvalidInput, NotFound, field_error
from core.ids import lookup_id, parse_id
from permissions import rules
from permissions.models import CATEGORIES, Agency, AgencyKind, CaseParticipant, Consent, LegalBasis
from workflows import selectors, steps
from workflows.models import Case, Event, EventKind

MAX_PURPOSE = 2000
MAX_NOTE = 4000


def _recipient(case, agency, agency_kind, errors) -> tuple[Agency | None, str]:
    participants = list(case.participants.select_related("agency"))
    if (agency is None) == (agency_kind in (None, "")):
        errors.append(field_error("agency", "consent.agency_or_kind"))
        return None, ""
    if agency is not None:
        agency_id = agency.pk if isinstance(agency, Agency) else parse_id(agency)
        match = next((p.agency for p in participants if p.agency_id == agency_id), None)
        if match is None:
            errors.append(field_error("agency", "consent.agency_not_participating"))
        return match, ""
    if agency_kind not in AgencyKind.values:
        errors.append(field_error("agency_kind", "agency.unknown_kind", kinds=", ".join(AgencyKind.values)))
        return None, ""
    if not any(p.kind == agency_kind for p in participants):
        errors.append(field_error("agency_kind", "consent.no_agency_of_kind"))
    return None, agency_kind


def _valid_categories(categories, errors) -> list[str]:
    if not isinstance(categories, list | tuple) or not categories:
        errors.append(field_error("categories", "consent.categories_required"))
        return []
    valid = []
    for index, category in enumerate(categories):
        if category not in CATEGORIES:
            errors.append(field_error(f"categories.{index}", "consent.unknown_category", choices=", ".join(CATEGORIES)))
        elif category not in valid:
            valid.append(category)
    return valid


def _valid_text(value, name, limit, errors, *, required) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        errors.append(field_error(name, "field.required" if required else "field.expected_text"))
        return ""
    if len(value) > limit:
        errors.append(field_error(name, "field.too_long", limit=limit))
    return value.strip()


# A consent given until a day applies through that day in Oslo: it expires at the day's end
# (``end_of_day``), so the first day it can be given until is today and the last the last day
# case work can have (``date_range.DATE_MAX``: a typo's year 20250 or 2999 is refused, as a
# form's date is). The form's date input offers only these (``expiry_days``).
LAST_EXPIRY_DAY = DATE_MAX
_PAST_YEAR_9999 = re.compile(r"\s*\d{5,}-\d{2}-\d{2}(?:[Tt ].*)?", re.DOTALL)


def after_year_9999(text: str) -> bool:
    """Whether ``text`` is a date (or date-time) after the year 9999, which no date reads: one
    too late, not one unreadable."""
    return bool(_PAST_YEAR_9999.fullmatch(text))


def end_of_day(day: datetime.date) -> datetime.datetime:
    """When a consent given until ``day`` expires: the end of that day in Oslo (its last minute
    included: "until today" given at 23:59:30 is still in the future)."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.max))


def expiry_days() -> tuple[datetime.date, datetime.date]:
    """The first and the last day a consent can be given until (today in Oslo included)."""
    return timezone.localdate(), LAST_EXPIRY_DAY


def _valid_expiry(expires_at, now, errors):
    if expires_at is None:
        return None
    if isinstance(expires_at, datetime.date) and not isinstance(expires_at, datetime.datetime):
        expires_at = end_of_day(expires_at)  # the day of the form's date input
    if isinstance(expires_at, str):
        try:
            expires_at = datetime.datetime.fromisoformat(expires_at)
        except ValueError:
            # a date after the year 9999 (the date input takes six digits) is too late, not unreadable
            if after_year_9999(expires_at):
                errors.append(field_error("expires_at", "field.date_too_late", maximum=LAST_EXPIRY_DAY.isoformat()))
            else:
                errors.append(field_error("expires_at", "field.expected_datetime"))
            return None
    if not isinstance(expires_at, datetime.datetime):
        errors.append(field_error("expires_at", "field.expected_datetime"))
        return None
    if timezone.is_naive(expires_at):
        errors.append(field_error("expires_at", "field.needs_timezone"))
        return None
    if expires_at <= now:
        errors.append(field_error("expires_at", "field.must_be_future"))
    elif expires_at > end_of_day(LAST_EXPIRY_DAY):
        errors.append(field_error("expires_at", "field.date_too_late", maximum=LAST_EXPIRY_DAY.isoformat()))
    return expires_at


def _valid_provision(legal_basis, errors) -> LegalBasis | None:
    provision: LegalBasis | None
    if isinstance(legal_basis, LegalBasis):
        provision = legal_basis
    elif legal_basis in (None, ""):
        errors.append(field_error("legal_basis", "field.required"))
        return None
    else:
        provision = LegalBasis.objects.filter(pk=lookup_id(legal_basis)).first()
    if provision is None or not provision.active:
        errors.append(field_error("legal_basis", "consent.unknown_legal_basis"))
        return None
    return provision


def _within_need_to_know(case, kind, categories, provision, errors) -> None:
    """Each category must be one the recipient needs in this process, and the provision must
    cover the recipient's kind and the category."""
    needed = rules.need_to_know(kind, selectors.case_field_rules(case))
    if provision is not None and kind not in provision.agency_kinds:
        errors.append(field_error("legal_basis", "consent.basis_not_for_kind", kind=kind))
    for index, category in enumerate(categories):
        if category in rules.OPEN_CATEGORIES:
            errors.append(field_error(f"categories.{index}", "consent.category_open", category=category))
        elif category not in needed:
            errors.append(field_error(f"categories.{index}", "consent.category_not_needed", category=category))
        elif provision is not None and category not in provision.categories:
            errors.append(field_error(f"categories.{index}", "consent.basis_not_for_category", category=category))


def _locked_provision(case, kind, categories, provision: LegalBasis) -> LegalBasis:
    """``provision`` locked until the consent commits, and checked again as it is now: a
    process admin may have retired, deleted or narrowed it since the checks above. Its
    retirement, change or deletion waits for the lock (``services.legal_bases``), so no
    consent is written on a provision retired meanwhile, nor on a deleted one (which the
    database would refuse only at the commit: a 500)."""
    locked = LegalBasis.objects.select_for_update().filter(pk=provision.pk).first()
    errors: list[dict] = []
    if locked is None or not locked.active:
        errors.append(field_error("legal_basis", "consent.unknown_legal_basis"))
    else:
        _within_need_to_know(case, kind, categories, locked, errors)
    if errors:
        raise InvalidInput("consent.invalid", errors=errors)
    assert locked is not None
    return locked


def _still_taking_part(case, recorder: Agency, agency, agency_kind) -> None:
    """With the case held: the recording agency and the recipient still take part in it. A
    withdrawal that committed while we waited for the case (it holds the case) is seen, as
    it would be after it: the recorder's people see the case nowhere (404); a recipient no
    longer in the case receives nothing (400 naming it, as ``_recipient`` answers)."""
    if not CaseParticipant.objects.filter(case_id=case.pk, agency=recorder).exists():
        raise NotFound("case.not_found")
    errors: list[dict] = []
    _recipient(case, agency, agency_kind, errors)
    if errors:
        raise InvalidInput("consent.invalid", errors=errors)


def person_consent_basis() -> LegalBasis | None:
    """The provision of the person's consent: the first active consent provision of the list."""
    return LegalBasis.objects.filter(is_consent=True, active=True).order_by("pk").first()


def record_consent(
    *,
    actor,
    case,
    agency=None,
    agency_kind=None,
    categories,
    purpose,
    legal_basis,
    expires_at=None,
    note: str = "",
) -> Consent:
    """Record the sharing of ``categories`` of this case with ``agency``, or with the case's
    agency of kind ``agency_kind``, on ``legal_basis`` (a ``LegalBasis`` or its id).

    Takes effect at once and lasts until revoked or ``expires_at``. Who may:
    ``rules.may_record_sharing`` (the coordinator agency for the person's consent, the
    agency that holds every category for any provision, never the recipient); what:
    ``rules.need_to_know`` and the provision's coverage.
    """
    case = selectors.case_for(actor, case)
    if not rules.can_record_consent(actor, case):
        raise Forbidden("consent.record_forbidden")
    if selectors.case_is_erased(case):
        # Its personal data is gone: a new sharing would write text about the person (a
        # purpose, a note) into it again. (A closed case takes one: the person may let an
        # agency see how it ended.)
        raise Conflict("retention.erased")
    now = timezone.now()
    errors: list[dict] = []
    recipient, kind = _recipient(case, agency, agency_kind, errors)
    valid_categories = _valid_categories(categories, errors)
    provision = _valid_provision(legal_basis, errors)
    purpose = _valid_text(purpose, "purpose", MAX_PURPOSE, errors, required=True)
    note = _valid_text(note, "note", MAX_NOTE, errors, required=False)
    expires_at = _valid_expiry(expires_at, now, errors)
    recipient_kind = recipient.kind if recipient is not None else kind
    if recipient_kind and not errors:
        _within_need_to_know(case, recipient_kind, valid_categories, provision, errors)
    if errors:
        raise InvalidInput("consent.invalid", errors=errors)
    assert provision is not None  # a missing or unknown provision is one of the errors above
    access = rules.case_access(actor, case)
    recorder = rules.sharing_recorder(
        access,
        recipient_id=recipient.pk if recipient is not None else None,
        recipient_kind=recipient_kind,
        is_consent=provision.is_consent,
        categories=valid_categories,
    )
    if recorder is None:
        recipient_id = recipient.pk if recipient is not None else None
        own = all(
            rules.is_recipient(agency, recipient_id=recipient_id, recipient_kind=recipient_kind)
            for agency, _role in access.acting
        )
        raise Forbidden("consent.recipient_records" if own else "consent.not_holder")

    with transaction.atomic():
        # The case held first (as an erasure takes it): an erasure waits for this consent and
        # then scrubs it with the rest, or went first, and the consent is about the person the
        # case is about now (its tombstone), never a person row the erasure deleted.
        locked = Case.objects.select_for_update().only("pk", "person", "status").get(pk=case.pk)
        if selectors.case_is_erased(locked):  # erased while we checked (the erasure held the case)
            raise Conflict("retention.erased")
        _still_taking_part(case, recorder, agency, agency_kind)
        _check_room(case)
        provision = _locked_provision(case, recipient_kind, valid_categories, provision)
        consent = Consent.objects.create(
            person_id=locked.person_id,
            case=case,
            agency=recipient,
            agency_kind=kind,
            categories=valid_categories,
            purpose=purpose,
            legal_basis=provision,
            note=note,
            given_at=now,
            expires_at=expires_at,
            recorded_by=actor,
            recorded_by_agency=recorder,
        )
        Event.objects.create(
            case=case,
            kind=EventKind.CONSENT_GIVEN,
            actor=actor,
            agency=recorder,
            to_agency=recipient,
            detail={
                "consent": consent.pk,
                "categories": valid_categories,
                "legal_basis": provision.pk,
                "basis": f"{provision.law} {provision.paragraph}",
                "agency_kind": kind or (recipient.kind if recipient else ""),
                "expires_at": expires_at.isoformat() if expires_at else None,
            },
        )
    return consent


def _check_room(case: Case) -> None:
    """400 naming ``agency`` when the case holds as many sharings as one case may, revoked ones
    counted (they stay, as the record of what was shared). Read with the case row held, so two
    recorders at once cannot both take the last room. A case has a sharing per agency and
    need, renewed now and then: tens; without a limit a recorder (or a script with a token)
    could add purposes of 2,000 characters for ever."""
    if Consent.objects.filter(case=case).count() >= settings.CONSENT_CASE_MAX_COUNT:
        limit = settings.CONSENT_CASE_MAX_COUNT
        raise InvalidInput("consent.invalid", errors=[field_error("agency", "consent.case_full", limit=limit)])


def revoke_consent(*, actor, consent_id, case=None) -> Consent:
    """Withdraw a consent; it stops counting at once. Revoking twice is a Conflict. With
    ``case`` (an id: the page's address), only a consent of that case is found."""
    found = Consent.objects.select_related("case", "agency").filter(pk=lookup_id(consent_id))
    if getattr(actor, "is_authenticated", False):
        # A consent of a case the actor does not see is no row, as an id no consent has: not a
        # row, then their standing read and a 404 (docs/security.md "404 alike"; until
        # h-attack21 one statement more told that the consent was there).
        found = found.filter(rules.sees_case_of_row(actor.pk))
    if case is not None:
        found = found.filter(case_id=lookup_id(case))
    consent = found.first()
    if consent is None or not rules.can_view_consents(actor, consent.case):
        raise NotFound("consent.not_found")
    if not rules.can_revoke_consent(actor, consent):
        raise Forbidden("consent.revoke_forbidden")

    with transaction.atomic():
        consent = steps.lock_case_then(Consent, consent.pk, consent.case_id)
        if not rules.can_view_consents(actor, consent.case):
            # The actor's agency was withdrawn while we waited (its withdrawal holds the case):
            # they see the case nowhere now, and change nothing in it (404, as after it).
            raise NotFound("consent.not_found")
        if consent.revoked_at is not None:
            raise Conflict("consent.already_revoked")
        consent.revoked_at, consent.revoked_by = timezone.now(), actor
        consent.save(update_fields=["revoked_at", "revoked_by"])
        Event.objects.create(
            case=consent.case,
            kind=EventKind.CONSENT_REVOKED,
            actor=actor,
            agency=rules.acting_agency(actor, consent.case, prefer_coordinator=True),
            to_agency=consent.agency,
            detail={"consent": consent.pk, "categories": consent.categories},
        )
    return consent
