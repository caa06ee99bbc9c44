"""Consent use cases (and the reads around them), shared by the web UI and the API.

Each change is one transaction together with its ``Event`` on the case timeline.
Errors are ``workflows.errors`` types: ``NotFound`` (invisible: no existence leak),
``Forbidden`` (visible but not allowed), ``Conflict`` and ``InvalidInput`` with
per-field ``errors``.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from workflows.errors import Conflict, Forbidden, InvalidInput, NotFound
from workflows.ids import parse_id

from . import rules
from .models import CATEGORIES, CONSENT_BASIS, AccessLog, Agency, AgencyKind, Consent

MAX_PURPOSE = 2000
MAX_NOTE = 4000
MAX_BASIS = 200




def _visible_case(actor, case):
    """The case (object or id) if ``actor`` sees it; NotFound otherwise."""
    from workflows.models import Case

    if not isinstance(case, Case):
        case = Case.objects.select_related("person").filter(pk=parse_id(case)).first()
    if case is None or not rules.can_view_case(actor, case):
        raise NotFound("no such case")
    return case


def _acting_agency(actor, case) -> Agency | None:
    access = rules.case_access(actor, case)
    if not access:
        return None
    # Prefer the coordinator agency when the actor works there.
    for agency, _role in access.acting:
        if agency.pk == case.coordinator_agency_id:
            return agency
    return access.acting[0][0]


def _recipient(case, agency, agency_kind, errors) -> tuple[Agency | None, str]:
    participants = list(case.participants.select_related("agency"))
    if (agency is None) == (agency_kind in (None, "")):
        errors.append({"field": "agency",
                       "message": "give either an agency or an agency kind, not both"})
        return None, ""
    if agency is not None:
        agency_id = agency.pk if isinstance(agency, Agency) else parse_id(agency)
        match = next((p.agency for p in participants if p.agency_id == agency_id), None)
        if match is None:
            errors.append({"field": "agency",
                           "message": "this agency does not take part in the case"})
        return match, ""
    if agency_kind not in AgencyKind.values:
        errors.append({"field": "agency_kind", "message": f"unknown agency kind {agency_kind!r}"})
        return None, ""
    if not any(p.kind == agency_kind for p in participants):
        errors.append({"field": "agency_kind",
                       "message": f"no {agency_kind} agency takes part in the case"})
    return None, agency_kind


def _valid_categories(categories, errors) -> list[str]:
    if not isinstance(categories, list | tuple) or not categories:
        errors.append({"field": "categories", "message": "give a non-empty list of categories"})
        return []
    valid = []
    for index, category in enumerate(categories):
        if category not in CATEGORIES:
            errors.append({"field": f"categories.{index}",
                           "message": f"unknown category {category!r}; use one of "
                                      f"{', '.join(CATEGORIES)}"})
        elif category not in valid:
            valid.append(category)
    return valid


def _valid_text(value, name, limit, errors, *, required) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        errors.append({"field": name, "message": "this field is required" if required
                       else "expected text"})
        return ""
    if len(value) > limit:
        errors.append({"field": name, "message": f"at most {limit} characters"})
    return value.strip()


def _valid_expiry(expires_at, now, errors):
    if expires_at is None:
        return None
    if isinstance(expires_at, str):
        try:
            expires_at = datetime.datetime.fromisoformat(expires_at)
        except ValueError:
            errors.append({"field": "expires_at", "message": "expected an ISO 8601 date-time"})
            return None
    if not isinstance(expires_at, datetime.datetime):
        errors.append({"field": "expires_at", "message": "expected a date-time"})
        return None
    if timezone.is_naive(expires_at):
        errors.append({"field": "expires_at", "message": "give a time zone (e.g. +01:00)"})
        return None
    if expires_at <= now:
        errors.append({"field": "expires_at", "message": "must be in the future"})
    return expires_at


def record_consent(
    *, actor, case, agency=None, agency_kind=None, categories, purpose,
    basis: str = CONSENT_BASIS, expires_at=None, note: str = "",
) -> Consent:
    """Record the person's consent (or a named legal basis) to share ``categories`` of
    this case with ``agency`` or with the case's agency of kind ``agency_kind``.

    Takes effect at once. Who may: people with a case role in an agency that takes
    part in the case (the coordinator agency always does).
    """
    case = _visible_case(actor, case)
    if not rules.can_record_consent(actor, case):
        raise Forbidden("you may not record consent in this case")
    now = timezone.now()
    errors: list[dict] = []
    recipient, kind = _recipient(case, agency, agency_kind, errors)
    valid_categories = _valid_categories(categories, errors)
    purpose = _valid_text(purpose, "purpose", MAX_PURPOSE, errors, required=True)
    basis = _valid_text(basis, "basis", MAX_BASIS, errors, required=True)
    note = _valid_text(note, "note", MAX_NOTE, errors, required=False)
    expires_at = _valid_expiry(expires_at, now, errors)
    if errors:
        raise InvalidInput("the consent is not valid", errors=errors)

    from workflows.models import Event, EventKind

    with transaction.atomic():
        consent = Consent.objects.create(
            person_id=case.person_id, case=case, agency=recipient, agency_kind=kind,
            categories=valid_categories, purpose=purpose, basis=basis, note=note,
            given_at=now, expires_at=expires_at, recorded_by=actor,
        )
        Event.objects.create(
            case=case, kind=EventKind.CONSENT_GIVEN, actor=actor,
            agency=_acting_agency(actor, case), to_agency=recipient,
            detail={
                "consent": consent.pk, "categories": valid_categories, "basis": basis,
                "agency_kind": kind or (recipient.kind if recipient else ""),
                "expires_at": expires_at.isoformat() if expires_at else None,
            },
        )
    return consent


def revoke_consent(*, actor, consent_id) -> Consent:
    """Withdraw a consent; it stops counting at once. Revoking twice is a Conflict."""
    consent = (
        Consent.objects.select_related("case", "agency").filter(pk=parse_id(consent_id)).first()
    )
    if consent is None or not rules.can_view_consents(actor, consent.case):
        raise NotFound("no such consent")
    if not rules.can_revoke_consent(actor, consent):
        raise Forbidden("you may not revoke this consent")

    from workflows.models import Event, EventKind

    with transaction.atomic():
        consent = Consent.objects.select_for_update().get(pk=consent.pk)
        if consent.revoked_at is not None:
            raise Conflict("the consent is already revoked")
        consent.revoked_at, consent.revoked_by = timezone.now(), actor
        consent.save(update_fields=["revoked_at", "revoked_by"])
        Event.objects.create(
            case=consent.case, kind=EventKind.CONSENT_REVOKED, actor=actor,
            agency=_acting_agency(actor, consent.case), to_agency=consent.agency,
            detail={"consent": consent.pk, "categories": consent.categories},
        )
    return consent


def consents_for_case(*, actor, case):
    """All consents recorded in the case (active, expired and revoked), newest first."""
    case = _visible_case(actor, case)
    return Consent.objects.filter(case=case).select_related("agency", "recorded_by", "revoked_by")


def access_log_for_case(*, actor, case):
    """The case's access log, for its coordinators and auditors (design §7)."""
    case = _case_whose_log_actor_reads(actor, case)
    return AccessLog.objects.filter(case=case).select_related("agency")


@dataclass(frozen=True)
class PersonAccessReport:
    """Who saw the data of a person, when and on what basis: the person's right to know
    (domain.md), given to them by a coordinator or auditor of one of their cases."""

    person: object  # workflows.Person
    cases: list  # the person's cases whose access log is in the report
    withheld_cases: int  # the person's other cases: their logs are not the reader's to give
    entries: object  # AccessLog rows, newest first
    generated_at: datetime.datetime

    @property
    def complete(self) -> bool:
        return self.withheld_cases == 0


def person_access_report(*, actor, case) -> PersonAccessReport:
    """The access report of the person of ``case``: every access-log row about them in
    each of their cases whose log ``actor`` may read (``rules.can_view_access_log``).

    The person's other cases are counted, not shown: they may be with agencies that the
    reader must not learn of (that someone is in treatment is itself confidential), so the
    report says it is incomplete and their coordinators give the rest.
    """
    from workflows.models import Case

    case = _case_whose_log_actor_reads(actor, case)
    theirs = list(Case.objects.filter(person_id=case.person_id).order_by("opened_at", "pk"))
    readable = [other for other in theirs if rules.can_view_access_log(actor, other)]
    entries = (
        AccessLog.objects.filter(person_id=case.person_id, case__in=readable)
        .select_related("agency", "case").order_by("-at", "-pk")
    )
    return PersonAccessReport(person=case.person, cases=readable, withheld_cases=len(theirs) - len(readable),
                              entries=entries, generated_at=timezone.now())


def _case_whose_log_actor_reads(actor, case):
    from workflows.models import Case

    if not isinstance(case, Case):
        case = Case.objects.filter(pk=parse_id(case)).select_related("person").first()
    if case is None:
        raise NotFound("no such case")
    if rules.can_view_access_log(actor, case):
        return case
    if not rules.can_view_case(actor, case):
        raise NotFound("no such case")
    raise Forbidden("only the case's coordinators and auditors read its access log")
