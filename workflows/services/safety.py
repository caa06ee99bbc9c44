"""Safety warnings (category ``safety``: violence or threats against staff) are minimal,
factual and time-limited (domain.md): the policy shows one to the case's participants for
``SAFETY_WARNING_DAYS`` (or its form's ``"x-valid-days"``) after it was recorded or last
confirmed (``permissions.policy.warning_dates``). The agency that recorded it and the case's
coordinator confirm it again here (its time in force starts anew), or remove it through the
correction of a value (``retention.services.correct_value`` with no value)."""

from __future__ import annotations

import datetime

from django.db import transaction
from django.utils import timezone

from core.errors import Conflict, Forbidden, InvalidInput, field_error
from permissions import policy, rules
from permissions.models import AccessLog
from workflows import selectors
from workflows.models import Case, CaseStatus, Event, EventKind

ITEM_CONFIRMED = "safety-confirmed"


def confirm_safety_warning(*, actor, case, field) -> datetime.date:
    """Confirm the safety warning in ``field`` of ``case`` again: its time in force runs from
    now. Answers the last Oslo date it is now shown on. 404 for a case ``actor`` does not see;
    400 naming ``field`` for a field that holds no safety warning they are told of; 403 for a
    participant who is neither of the agency that recorded it nor the coordinator; 409 for a
    closed case. One event on the timeline (the field's name, never its value) and one
    access-log row (a write of safety data, on the ground the actor keeps the warning on)."""
    case = selectors.case_for(actor, case)
    fields = selectors.case_field_rules(case)
    if not isinstance(field, str) or not told_of_warning(actor, case, field, fields):
        raise InvalidInput("safety.invalid", errors=[field_error("field", "safety.no_warning")])
    access = rules.case_access(actor, case)
    decision = rules.decide_lapsed_warning(access, case, (case.data_sources or {}).get(field))
    if not decision:
        raise Forbidden("safety.confirm_forbidden")
    with transaction.atomic():
        locked = Case.objects.select_for_update().get(pk=case.pk)
        if locked.status != CaseStatus.OPEN:
            raise Conflict("safety.case_closed")
        if not policy.holds_warning((locked.data or {}).get(field)):  # removed meanwhile
            raise InvalidInput("safety.invalid", errors=[field_error("field", "safety.no_warning")])
        # Decided again on the row held: an agency withdrawn from the case, or a coordinator
        # who lost the role, while this request waited for it no longer answers for the
        # warning (until h-attack34 the decision read before the lock stood).
        decision = rules.decide_lapsed_warning(
            rules.case_access(actor, locked), locked, (locked.data_sources or {}).get(field)
        )
        if not decision:
            raise Forbidden("safety.confirm_forbidden")
        now = timezone.now()
        recorded = {**(locked.data_recorded_at or {}), **policy.recorded_times(fields, [field], now)}
        locked.data_recorded_at = recorded
        # When its warnings lapse, for the lists across cases (``policy.warning_columns``).
        columns = policy.warning_columns(locked, fields)
        Case.objects.filter(pk=case.pk).update(data_recorded_at=recorded, **columns)
        case.data_recorded_at = recorded
        for name, value in columns.items():
            setattr(case, name, value)
        Event.objects.create(
            case=case,
            kind=EventKind.SAFETY_CONFIRMED,
            actor=actor,
            agency=decision.agency,
            detail={"field": field},
        )
        AccessLog.objects.bulk_create([policy.write_row(actor, case, decision, policy.SAFETY, ITEM_CONFIRMED, now)])
    return policy.lapses_on(now, policy.warning_days(fields, field)) - datetime.timedelta(days=1)


def told_of_warning(actor, case, field: str, fields=None) -> bool:
    """Whether ``actor`` is shown ``field`` as a safety warning (its value, or that it lapsed):
    not one a step on a branch hidden from them wrote, not one of another category."""
    fields = fields or selectors.case_field_rules(case)
    if rules.category_of(fields.fields.get(field, "")) != policy.SAFETY or field not in (case.data or {}):
        return False
    hidden = selectors.branch_fields_hidden(actor, case)
    view = policy.case_data_for(actor, case, fields, log=False, hidden=hidden).get(policy.SAFETY)
    return view is not None and (field in view.values or field in view.lapsed)
