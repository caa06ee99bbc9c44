"""The sensitive-data policy (design §6): which values of a case a user sees, and the log.

``case_data_for`` groups a case's data by category (from the process definition's
compiled ``metadata["fields"]``), shows or masks each category for the requesting user
through ``permissions.rules``, and writes one ``AccessLog`` row per revealed category
other than ``identity``. ``person_for`` gives the person's name and the national id,
masked unless the user works a task of the case that needs identity in full.

Both assume the caller has already checked ``rules.can_view_case`` (answering 404
otherwise); for a user who cannot see the case every category comes back masked and
nothing is logged.

Consents are read from the database on every call (never cached), so a consent takes
effect, and a revocation is enforced, on the very next request.

When does a task need identity in full? When its form (JSON schema) declares it:
- a property named ``national_id`` (or ``fodselsnummer``/``fnr``) with
  ``"x-category": "identity"``, or
- ``"x-identity": "full"`` at the top level of the schema, or
- (should the engine ever compile it) ``"identity": "full"`` in the task's
  ``metadata["user_tasks"]`` entry.
Only the people of the agency that holds the task, while the task is open or claimed,
see the number; the reveal is written to the access log (category ``identity``,
basis ``task:<task id>``) although identity reads are otherwise not logged.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils import timezone

from workflows.national_id import mask_national_id

from . import rules
from .models import ALL_CATEGORIES, RESTRICTED, AccessAction, AccessLog

NATIONAL_ID_FIELDS = frozenset({"national_id", "fodselsnummer", "fnr"})
UNLOGGED_CATEGORIES = frozenset({"identity"})


@dataclass(frozen=True)
class CategoryView:
    """One category of a case's data as one user sees it.

    ``visible``: the user sees values of this category (all of them, or with
    ``reason`` set, only those their own agency wrote). ``values`` is empty when the
    category is masked. ``reason`` says why values are masked (None when nothing is).
    ``basis`` is the ground on which values are shown (e.g. ``"consent:12"``).
    """

    category: str
    visible: bool
    values: dict = field(default_factory=dict)
    reason: str | None = None
    basis: str | None = None


@dataclass(frozen=True)
class DefinitionInfo:
    fields: dict[str, str]  # form field -> category
    categories: tuple[str, ...]  # categories the definition uses, in ALL_CATEGORIES order
    full_identity_tasks: frozenset[str]  # element ids whose form needs identity in full
    shared_fields: frozenset[str] = frozenset()  # "x-share": "participants" in their form


EMPTY_DEFINITION = DefinitionInfo({}, (), frozenset())

# Definitions are immutable: cache by (id, checksum) for the life of the process.
_DEFINITIONS: dict[tuple[int, str], DefinitionInfo] = {}


def _compile_definition(definition) -> DefinitionInfo:
    metadata = definition.metadata or {}
    fields = dict(metadata.get("fields") or {})
    forms = definition.forms
    full = set()
    for element_id, task in (metadata.get("user_tasks") or {}).items():
        if (task or {}).get("identity") == "full":
            full.add(element_id)
            continue
        schema = forms.get((task or {}).get("form") or "") or {}
        if schema.get("x-identity") == "full":
            full.add(element_id)
            continue
        for name, prop in (schema.get("properties") or {}).items():
            if name in NATIONAL_ID_FIELDS and (prop or {}).get("x-category") == "identity":
                full.add(element_id)
                break
    used = set(fields.values())
    categories = tuple(c for c in ALL_CATEGORIES if c in used)
    shared = {
        name
        for schema in forms.values()
        for name, prop in ((schema or {}).get("properties") or {}).items()
        if (prop or {}).get("x-share") == "participants"
    }
    return DefinitionInfo(fields, categories, frozenset(full), frozenset(shared))


def definition_info(case) -> DefinitionInfo:
    """Field categories and identity needs of the case's process (first instance)."""
    cached = getattr(case, "_brobygger_definition_info", None)
    if cached is not None:
        return cached
    from bpmn.models import ProcessDefinition
    from workflows.models import ProcessInstance

    row = (
        ProcessInstance.objects.filter(case_id=case.pk).order_by("id")
        .values_list("definition_id", "definition__checksum").first()
    )
    if row is None:
        info = EMPTY_DEFINITION
    else:
        info = _DEFINITIONS.get(row)
        if info is None:
            definition = ProcessDefinition.objects.only("metadata", "forms_json").get(pk=row[0])
            info = _DEFINITIONS[row] = _compile_definition(definition)
    case._brobygger_definition_info = info
    return info


def field_categories(case) -> dict[str, str]:
    return definition_info(case).fields


def task_needs_full_identity(task) -> bool:
    return task.element_id in definition_info(task.case).full_identity_tasks


def _log_rows(user, case, decision, category, action, at):
    return AccessLog(
        user=user, username=user.get_username(), role=decision.role or "",
        agency=decision.agency, case=case, person_id=case.person_id, category=category,
        action=action, basis=decision.basis or "", consent=decision.consent, at=at,
    )


def case_data_for(
    user, case, *, task=None, log=True, action=AccessAction.READ
) -> dict[str, CategoryView]:
    """``case.data`` grouped by category, each shown or masked for ``user``.

    Every category of the process appears (masked ones too, so the absence of a
    category never reveals anything). Fields the definition does not know are
    ``restricted``. Values the user's own agency wrote are shown even in a masked
    category (basis ``own-data``; ``reason`` then explains the rest is masked).
    """
    access = rules.case_access(user, case)
    info = definition_info(case)
    data = case.data or {}
    sources = case.data_sources or {}

    grouped: dict[str, dict] = {category: {} for category in info.categories}
    for name, value in data.items():
        grouped.setdefault(info.fields.get(name, RESTRICTED), {})[name] = value
    order = [c for c in ALL_CATEGORIES if c in grouped]

    consents = None
    views: dict[str, CategoryView] = {}
    logged = []
    now = timezone.now()
    for category in order:
        values = grouped[category]
        decision = rules.decide_category(access, category, ())
        if not decision and access and category != RESTRICTED:
            if consents is None:
                consents = rules.active_consents(case, now)
            decision = rules.decide_category(access, category, consents)
        if decision:
            shown = dict(values)
            view = CategoryView(category, True, shown, None, decision.basis)
        else:
            own = {
                name: value for name, value in values.items()
                if sources.get(name) is not None and sources.get(name) in access.agency_ids
            }
            shared = {name: value for name, value in values.items() if access and name in info.shared_fields}
            if shared:
                agency, role = access.acting[0]
                decision = rules.Decision(True, rules.BASIS_SHARED_FIELD, agency=agency, role=role)
                rest = _text(rules.refusal(access, category).reason)
                view = CategoryView(category, True, {**own, **shared}, rest, rules.BASIS_SHARED_FIELD)
            elif own:
                owner = next(
                    (agency, role) for agency, role in access.acting
                    if any(sources.get(name) == agency.pk for name in own)
                )
                decision = rules.Decision(
                    True, rules.BASIS_OWN_DATA, agency=owner[0], role=owner[1]
                )
                rest = _text(rules.refusal(access, category).reason)
                view = CategoryView(category, True, own, rest, rules.BASIS_OWN_DATA)
            else:
                view = CategoryView(category, False, {}, _text(decision.reason), None)
        full = None
        if category == "identity" and view.values:
            full = rules.can_see_national_id(user, case, task) if task is not None else None
            view = CategoryView(
                view.category, view.visible,
                {
                    name: (value if full or name not in NATIONAL_ID_FIELDS else _mask(value))
                    for name, value in view.values.items()
                },
                view.reason, view.basis,
            )
        views[category] = view
        if log and view.values and category not in UNLOGGED_CATEGORIES:
            logged.append(_log_rows(user, case, decision, category, action, now))
        if log and category == "identity" and full and NATIONAL_ID_FIELDS & set(view.values):
            logged.append(_log_rows(user, case, full, category, action, now))
    if logged:
        AccessLog.objects.bulk_create(logged)
    return views


def person_for(user, case, *, task=None, log=True) -> dict:
    """The person's ``name`` and ``national_id`` as ``user`` may see them.

    The name is identity, open to every participant. The national id is masked
    (``170920*****``) unless ``rules.can_see_national_id`` allows it for ``task``;
    ``national_id_masked`` says which. A user who cannot see the case gets None.
    """
    access = rules.case_access(user, case)
    if not access:
        return {"name": None, "national_id": None, "national_id_masked": True}
    person = case.person
    decision = rules.can_see_national_id(user, case, task) if task is not None else None
    if decision:
        if log:
            AccessLog.objects.create(
                user=user, username=user.get_username(), role=decision.role or "",
                agency=decision.agency, case=case, person=person, category="identity",
                action=AccessAction.READ, basis=decision.basis,
            )
        return {"name": person.name, "national_id": person.national_id,
                "national_id_masked": False}
    return {"name": person.name, "national_id": _mask(person.national_id),
            "national_id_masked": True}


def _mask(value):
    if not isinstance(value, str):
        return None
    try:
        return mask_national_id(value)
    except (TypeError, ValueError):  # never show a value that cannot be masked
        return "*" * 11


def _text(reason) -> str | None:
    return None if reason is None else str(reason)
