"""Recording what came of a case (issue 15): the rules of an outcome form and the record.

An outcome form marks its fields with ``"x-outcome"`` roles (``kind``, ``tenure``,
``reason``, ``referral_date``, ``housed_date``; checked at deploy by the form lint). The
kind's ``enum`` in the deployed file lists the standard kinds; the form served and
validated is the *live* one, whose enum is the admin's active ``OutcomeKind`` list with
their labels, so a kind added in the admin is offered at once and a retired one no more.

Rules beyond the schema: the kind must be an active kind; a kind that ``needs_tenure``
needs the form of tenure and the date moved in; one that ``needs_reason`` needs a reason;
tenure only where the person has a home; the date moved in not before the referral.
Completing an outcome task writes the case's one ``CaseOutcome`` (in the same
transaction), and completing the case stamps its closing date (``close_outcome``).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.utils import timezone
from jsonschema import Draft202012Validator

from bpmn.engine.forms_validation import form_validator
from bpmn.engine.lint.forms import OUTCOME_ROLES
from core.errors import FieldError, field_error
from workflows.outcomes import CaseOutcome, OutcomeKind, Tenure

ROLE_KEY = "x-outcome"
LABELS_KEY = "x-enum-labels"  # value -> label, read by the task page's select


def outcome_fields(schema: dict | None) -> dict[str, str]:
    """Role -> field name of an outcome form; empty for any other form (cheap: a few keys)."""
    if not schema:
        return {}
    return {
        prop[ROLE_KEY]: name
        for name, prop in (schema.get("properties") or {}).items()
        if isinstance(prop, dict) and prop.get(ROLE_KEY) in OUTCOME_ROLES
    }


def _active_kinds() -> list[OutcomeKind]:
    return list(OutcomeKind.objects.filter(active=True).order_by("position", "code"))


def live_form(schema: dict | None, validator: Draft202012Validator | None = None):
    """``(schema, validator)`` with the kind's choices read from the admin's list now.

    Any other form comes back as given (the deployed schema and its compiled validator).
    """
    roles = outcome_fields(schema)
    if schema is None or "kind" not in roles:
        return schema, validator
    kinds = _active_kinds()
    properties = dict(schema["properties"])
    properties[roles["kind"]] = {
        **properties[roles["kind"]],
        "enum": [kind.code for kind in kinds],
        LABELS_KEY: {kind.code: kind.label for kind in kinds},
    }
    live = {**schema, "properties": properties}
    # The deployed form's own validator, evolved: linear-time patterns, no $ref retrieval.
    return live, (validator.evolve(schema=live) if validator is not None else form_validator(live))


@dataclass(frozen=True)
class OutcomeValues:
    kind: OutcomeKind
    tenure: str
    reason: str
    referral_date: datetime.date | None
    housed_date: datetime.date | None


def date_of(value) -> datetime.date | None:
    """The date an outcome form's date field holds (None for none, or for a text that is none)."""
    try:
        return datetime.date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None  # the schema's format check reports it


def _read(schema: dict | None, data: dict) -> tuple[dict[str, str], OutcomeValues | None, list[FieldError]]:
    roles = outcome_fields(schema)
    if "kind" not in roles or not isinstance(data, dict):
        return roles, None, []
    code = data.get(roles["kind"])
    if code is None:
        return roles, None, []  # "this field is required" comes from the schema
    kind = OutcomeKind.objects.filter(code=code, active=True).first() if isinstance(code, str) else None
    if kind is None:
        return roles, None, [field_error(roles["kind"], "outcome.unknown_kind")]
    text = {role: data.get(roles[role]) for role in ("tenure", "reason") if role in roles}
    values = OutcomeValues(
        kind=kind,
        tenure=tenure if isinstance(tenure := text.get("tenure"), str) else "",
        reason=(text.get("reason") or "").strip() if isinstance(text.get("reason"), str) else "",
        referral_date=date_of(data.get(roles.get("referral_date", ""))),
        housed_date=date_of(data.get(roles.get("housed_date", ""))),
    )
    return roles, values, []


def rule_errors(schema: dict | None, data: dict) -> list[FieldError]:
    """The outcome rules the schema cannot say; empty for any other form."""
    roles, values, errors = _read(schema, data)
    if values is None:
        return errors
    kind = values.kind

    def missing(role: str) -> list[FieldError]:
        # A form that lacks the role cannot satisfy the kind: name the kind field then.
        return [field_error(roles.get(role, roles["kind"]), "field.required")]

    if kind.needs_tenure and not values.tenure:
        errors += missing("tenure")
    if kind.needs_tenure and values.housed_date is None and not data.get(roles.get("housed_date", "")):
        errors += missing("housed_date")
    if kind.needs_reason and not values.reason:
        errors += missing("reason")
    if values.tenure and not kind.has_home:
        errors.append(field_error(roles["tenure"], "outcome.tenure_without_home"))
    if values.housed_date and values.referral_date and values.housed_date < values.referral_date:
        errors.append(field_error(roles["housed_date"], "outcome.housed_before_referral"))
    return errors


def record_outcome(schema: dict | None, data: dict, *, case, actor, agency_id, element_id) -> CaseOutcome | None:
    """Write the case's outcome from a validated outcome form (nothing for other forms).

    One per case: completing an outcome task again replaces it.
    """
    _roles, values, errors = _read(schema, data)
    if values is None or errors:
        return None
    outcome, _ = CaseOutcome.objects.update_or_create(
        case=case,
        defaults={
            "kind": values.kind,
            "tenure": values.tenure if values.tenure in Tenure.values else "",
            "reason": values.reason,
            "referral_date": values.referral_date or timezone.localdate(case.opened_at),
            "housed_date": values.housed_date,
            "recorded_by": actor,
            "recorded_by_agency_id": agency_id,
            "element_id": element_id,
        },
    )
    return outcome


def close_outcome(case) -> None:
    """The case completed: its outcome (if any) gets the closing date."""
    CaseOutcome.objects.filter(case=case).update(closed_date=timezone.localdate(case.closed_at))


# --- what a user sees of it ------------------------------------------------------------


@dataclass(frozen=True)
class OutcomeView:
    """The case's outcome as one user sees it: shown exactly when the policy shows them
    the outcome form's kind field (category ``housing``: consent, own data, own service),
    so it is masked, with the same reason, wherever the rest of that data is."""

    visible: bool
    values: dict
    reason: str | None = None
    basis: str | None = None

    @property
    def values_or_none(self) -> dict | None:
        return self.values or None


def _kind_fields(forms: dict[str, dict]) -> set[str]:
    return {name for schema in forms.values() for role, name in outcome_fields(schema).items() if role == "kind"}


def outcome_view(case, data_views: dict, forms: dict[str, dict]) -> OutcomeView | None:
    """``data_views``: the case's data as ``permissions.policy.case_data_for`` gave it to
    the user (and logged); ``forms``: its process's forms. None when the case has no outcome."""
    outcome = CaseOutcome.objects.select_related("kind").filter(case=case).first()
    if outcome is None:
        return None
    housing = data_views.get("housing")
    shown = _kind_fields(forms) & set(housing.values) if housing is not None else set()
    # Shown through the field the outcome task wrote, not through a later write of the same
    # field by another agency (a message payload, start data): that would be their own data.
    sources = case.data_sources or {}
    if not any(sources.get(name) == outcome.recorded_by_agency_id for name in shown):
        return OutcomeView(False, {}, getattr(housing, "reason", None), None)
    return OutcomeView(
        True,
        {
            "kind": outcome.kind.code,
            "kind_label": outcome.kind.label,
            "has_home": outcome.kind.has_home,
            "tenure": outcome.tenure or None,
            "tenure_label": str(Tenure(outcome.tenure).label) if outcome.tenure else None,
            "reason": outcome.reason or None,
            "referral_date": outcome.referral_date,
            "housed_date": outcome.housed_date,
            "closed_date": outcome.closed_date,
        },
        getattr(housing, "reason", None),
        getattr(housing, "basis", None),
    )
