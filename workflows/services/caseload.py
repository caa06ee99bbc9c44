"""Caseload (issue 15): the housing contact responsible for a case, set when the case
starts and reassigned by the lead of the case's housing agency."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction

from core.errors import Conflict, Forbidden, InvalidInput, field_error
from core.ids import parse_id
from permissions import rules
from permissions.models import Agency, AgencyKind, CaseParticipant
from workflows import selectors
from workflows.models import Case, CaseStatus, Event, EventKind
from workflows.services import room

MAX_ID = 2**63 - 1  # beyond a bigint: no such user (and no database error)


def housing_agency_of(case: Case) -> Agency | None:
    participant = CaseParticipant.objects.filter(case=case, kind=AgencyKind.HOUSING).select_related("agency").first()
    return participant.agency if participant is not None else None


def _contact(housing: Agency | None, responsible):
    """The housing contact ``responsible`` (a user or an id) of ``housing``; 400 otherwise."""
    user_id = parse_id(getattr(responsible, "pk", responsible))
    known = user_id is not None and 0 < user_id <= MAX_ID
    contact = rules.housing_contacts(housing).filter(pk=user_id).first() if known else None
    if contact is None:
        problem = {"code": "case.responsible_not_contact", "agency": housing.name if housing else "-"}
        raise InvalidInput(**problem, errors=[field_error("responsible", **problem)])
    return contact


def responsible_at_start(actor, housing: Agency | None, requested=None, coordinators: dict | None = None):
    """Who is responsible for a new case: ``requested`` (a contact of the case's housing
    agency, chosen by someone who works there), else the starter when they are a housing
    contact of it, else its coordinator (the first); None for a case without housing.
    ``coordinators``: the first coordinators read already (``rules.first_housing_coordinator_read``)."""
    if requested is not None:
        if not rules.is_housing_contact(actor, housing):
            problem = {"code": "case.responsible_chosen_by_housing"}
            raise InvalidInput(**problem, errors=[field_error("responsible", **problem)])
        return _contact(housing, requested)
    if housing is None:
        return None
    if rules.is_housing_contact(actor, housing):
        return actor
    return rules.first_housing_coordinator(housing, coordinators)


def assign_responsible(*, actor, case, responsible) -> Case:
    """The lead of the case's housing agency makes ``responsible`` (a contact of that
    agency) responsible for the open case; recorded in the case's timeline."""
    case = selectors.case_for(actor, case)
    housing = housing_agency_of(case)
    if not rules.can_assign_responsible(actor, case, housing):
        raise Forbidden("case.assign_forbidden")
    contact = _contact(housing, responsible)
    with transaction.atomic():
        locked = Case.objects.select_for_update().get(pk=case.pk)
        if locked.status != CaseStatus.OPEN:
            raise Conflict("case.closed")
        if locked.responsible_id != contact.pk:
            _check_changes_left(locked, actor)
            previous = locked.responsible_id
            locked.responsible = contact
            locked.save(update_fields=["responsible"])
            Event.objects.create(
                case=locked,
                kind=EventKind.RESPONSIBLE_CHANGED,
                actor=actor,
                agency=housing,
                detail={"from_user": previous, "to_user": contact.pk},
            )
    locked.responsible = contact
    return locked


def _check_changes_left(case: Case, actor) -> None:
    """Conflict when ``actor`` has changed who is responsible for ``case``
    ``CASE_RESPONSIBLE_CHANGES_PER_USER`` times. Each change is an event of the case's timeline
    (which the archive's case file lays out row by row): a lead could switch two contacts back
    and forth for ever, one cheap request each. Read with the case row locked, so two changes at
    once are counted one after the other. Another lead of the agency may still change it."""
    made = Event.objects.filter(case=case, actor=actor, kind=EventKind.RESPONSIBLE_CHANGED)
    room.refuse_when_full(made, settings.CASE_RESPONSIBLE_CHANGES_PER_USER, code="case.responsible_changes_full")
