"""The list of legal bases, kept by process admins (issue 11, point 1), shared by the page and
the API: add, change, retire, and delete one that no consent rests on.

A consent is recorded on one of these, never on free text (``services.consents``). A legal
basis that consents rest on is retired (``active`` off: no new consent may use it; those
recorded keep it), never deleted. Every input is checked here, each problem named by its
field: ``law``, ``paragraph``, ``title``, ``description``, ``is_consent``, ``categories``,
``agency_kinds``, ``position``, ``active``.
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction

from core.errors import Conflict, Forbidden, InvalidInput, NotFound, field_error
from core.ids import lookup_id
from permissions import rules
from permissions.models import AgencyKind, LegalBasis

TEXT_LIMITS = {"law": 200, "paragraph": 100, "title": 200}
MAX_DESCRIPTION = 4000
MAX_POSITION = 32767  # a PositiveSmallIntegerField
AGENCY_KINDS = tuple(AgencyKind.values)
FIELDS = ("law", "paragraph", "title", "description", "is_consent", "categories", "agency_kinds", "position", "active")


def _require_admin(actor) -> None:
    if not rules.can_manage_legal_bases(actor):
        raise Forbidden("legal_basis.manage_forbidden")


def legal_basis_to_manage(*, actor, basis_id) -> LegalBasis:
    """One legal basis (retired ones too) for the process admin; others: 403."""
    _require_admin(actor)
    basis = LegalBasis.objects.filter(pk=lookup_id(basis_id)).first()
    if basis is None:
        raise NotFound("legal_basis.not_found")
    return basis


def _text(name: str, value: Any, errors: list, *, limit: int, required: bool) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        errors.append(field_error(name, "field.expected_text"))
        return ""
    value = value.strip()
    if "\x00" in value:
        errors.append(field_error(name, "field.nul"))
    elif required and not value:
        errors.append(field_error(name, "field.required"))
    elif len(value) > limit:
        errors.append(field_error(name, "field.too_long", limit=limit))
    return value


def _choices(name: str, value: Any, allowed: tuple[str, ...], errors: list, *, empty, unknown) -> list:
    """A list of some of ``allowed`` (in their order); ``empty()`` and ``unknown(index)`` make
    the field errors for none chosen and for an unknown one."""
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list | tuple):
        errors.append(field_error(name, "field.expected_list"))
        return []
    if not value:
        errors.append(empty())
        return []
    for index, item in enumerate(value):
        if item not in allowed:
            errors.append(unknown(index))
    return [c for c in allowed if c in value]


def _boolean(name: str, value: Any, errors: list) -> bool:
    if not isinstance(value, bool):
        errors.append(field_error(name, "field.expected_boolean"))
        return False
    return value


def _position(value: Any, errors: list) -> int:
    # ASCII digits, and few: "²" is a digit to ``isdigit`` and no number to ``int``, and 5,000
    # digits are past what ``int`` reads from text (both were a 500 until h-attack28).
    text = value.strip() if isinstance(value, str) else ""
    if text.isascii() and text.isdigit() and len(text) <= 9:
        value = int(text)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_POSITION:
        errors.append(field_error("position", "field.expected_whole_number", low=0, high=MAX_POSITION))
        return 0
    return value


def _cleaned(values: dict, *, partial: bool) -> dict:
    """The fields given (all of them unless ``partial``), checked; ``InvalidInput`` naming each
    field with a problem. Unknown fields are a problem too."""
    if not isinstance(values, dict):
        raise InvalidInput("legal_basis.invalid", errors=[field_error(None, "field.expected_object")])
    errors: list = [field_error(str(name), "field.unknown") for name in values if name not in FIELDS]
    clean: dict[str, Any] = {}
    for name in FIELDS:
        if partial and name not in values:
            continue
        value = values.get(name)
        if name in TEXT_LIMITS:
            clean[name] = _text(name, value, errors, limit=TEXT_LIMITS[name], required=True)
        elif name == "description":
            clean[name] = _text(name, value, errors, limit=MAX_DESCRIPTION, required=False)
        elif name == "categories":
            clean[name] = _choices(
                name,
                value,
                rules.LEGAL_BASIS_CATEGORIES,
                errors,
                empty=lambda: field_error("categories", "legal_basis.categories_required"),
                unknown=lambda i: field_error(
                    f"categories.{i}", "legal_basis.unknown_category", choices=", ".join(rules.LEGAL_BASIS_CATEGORIES)
                ),
            )
        elif name == "agency_kinds":
            clean[name] = _choices(
                name,
                value,
                AGENCY_KINDS,
                errors,
                empty=lambda: field_error("agency_kinds", "legal_basis.kinds_required"),
                unknown=lambda i: field_error(
                    f"agency_kinds.{i}", "legal_basis.unknown_kind", choices=", ".join(AGENCY_KINDS)
                ),
            )
        elif name == "position":
            clean[name] = 100 if value is None and not partial else _position(value, errors)
        elif name in ("is_consent", "active"):
            default = name == "active"
            clean[name] = default if value is None and not partial else _boolean(name, value, errors)
    if errors:
        raise InvalidInput("legal_basis.invalid", errors=errors)
    return clean


def _save(basis: LegalBasis) -> LegalBasis:
    """Saved, or ``InvalidInput`` on ``paragraph`` when the law already has that paragraph."""
    duplicate = LegalBasis.objects.filter(law__iexact=basis.law, paragraph__iexact=basis.paragraph)
    if basis.pk is not None:
        duplicate = duplicate.exclude(pk=basis.pk)
    if duplicate.exists():
        raise InvalidInput("legal_basis.invalid", errors=[field_error("paragraph", "legal_basis.duplicate")])
    try:
        with transaction.atomic():
            basis.save()
    except IntegrityError as exc:  # the same paragraph added at the same moment
        raise InvalidInput("legal_basis.invalid", errors=[field_error("paragraph", "legal_basis.duplicate")]) from exc
    return basis


def create_legal_basis(*, actor, values: dict) -> LegalBasis:
    """A new legal basis from ``values`` (every field but ``description``, ``position``,
    ``is_consent`` and ``active`` required)."""
    _require_admin(actor)
    return _save(LegalBasis(**_cleaned(values, partial=False)))


def update_legal_basis(*, actor, basis_id, values: dict) -> LegalBasis:
    """Change the fields given. A change of what it covers applies to the consents that rest
    on it from now on (their own categories and recipient are not changed); which provision
    it is (``LegalBasis.FIXED_WHEN_IN_USE``) is not changed while consents rest on it (409)."""
    _require_admin(actor)
    clean = _cleaned(values, partial=True)
    with transaction.atomic():
        basis = LegalBasis.objects.select_for_update().filter(pk=lookup_id(basis_id)).first()
        if basis is None:
            raise NotFound("legal_basis.not_found")
        fixed = [name for name in LegalBasis.FIXED_WHEN_IN_USE if name in clean and clean[name] != getattr(basis, name)]
        if fixed and legal_basis_in_use(basis):
            raise Conflict(
                "legal_basis.in_use_fixed", errors=[field_error(name, "legal_basis.in_use_fixed") for name in fixed]
            )
        for name, value in clean.items():
            setattr(basis, name, value)
        return _save(basis)


def retire_legal_basis(*, actor, basis_id) -> LegalBasis:
    """No new consent may rest on it; those recorded keep it. Twice: 409."""
    _require_admin(actor)
    with transaction.atomic():
        basis = LegalBasis.objects.select_for_update().filter(pk=lookup_id(basis_id)).first()
        if basis is None:
            raise NotFound("legal_basis.not_found")
        if not basis.active:
            raise Conflict("legal_basis.already_retired")
        basis.active = False
        basis.save(update_fields=["active"])
    return basis


def delete_legal_basis(*, actor, basis_id) -> None:
    """Delete a legal basis no consent rests on (one added by mistake); one in use: 409,
    retire it instead."""
    _require_admin(actor)
    with transaction.atomic():
        basis = LegalBasis.objects.select_for_update().filter(pk=lookup_id(basis_id)).first()
        if basis is None:
            raise NotFound("legal_basis.not_found")
        if basis.consents.exists():
            raise Conflict("legal_basis.in_use")
        basis.delete()


def legal_basis_in_use(basis: LegalBasis) -> bool:
    return basis.consents.exists()
