"""A form field's data category belongs to the whole field (design §3: each property of a
form declares its category with ``x-category``).

The policy reads a field's category from its top-level property only: an ``x-category``
written inside it (a property of an object field, a list's items, a branch of ``anyOf``, a
definition a ``$ref`` points to) decides nothing. A modeler who writes one there means that
part to be of that category; the whole field is shown as the category at its top (or as
restricted, without one). So the deploy refuses such a category when it differs from the
field's (lint ``nested-category``), and a version deployed before treats the field as
restricted: only the agency that wrote it and the coordinator see it, the safe side.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from .forms_validation import Pointer, child_schemas, child_schemas_at, local_targets

CATEGORY_KEY = "x-category"
_MAX_SCHEMAS = 10_000  # the deploy refuses more (``ref-fanout``); a bound for stored forms too


def nested_categories(prop: Any, form: Mapping[str, Any] | None = None) -> set[str]:
    """The ``x-category`` values written inside the field schema ``prop`` (not its own), with
    the local ``$ref`` targets in ``form`` it uses, each followed once."""
    found: set[str] = set()
    for schema in _inside(prop, form or {}):
        category = schema.get(CATEGORY_KEY)
        if isinstance(category, str):
            found.add(category)
        elif category is not None:
            found.add(repr(category))
    return found


def differs_inside(prop: Any, form: Mapping[str, Any] | None = None) -> set[str]:
    """The categories written inside field ``prop`` other than its own (``nested_categories``)."""
    own = prop.get(CATEGORY_KEY) if isinstance(prop, dict) else None
    return {category for category in nested_categories(prop, form) if category != own}


def _inside(prop: Any, form: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    """Every schema below ``prop`` (not ``prop`` itself), following the local references each
    once, as the form's checks and its validation read them (``forms_validation``: a
    percent-encoded pointer, a ``$dynamicRef``)."""
    followed: set[int] = set()
    stack = list(_children(prop, form, followed))
    count = 0
    while stack and count < _MAX_SCHEMAS:
        schema = stack.pop()
        count += 1
        yield schema
        stack.extend(_children(schema, form, followed))


def _children(schema: Any, form: Mapping[str, Any], followed: set[int]) -> Iterator[dict[str, Any]]:
    if not isinstance(schema, dict):
        return
    yield from (child for child in child_schemas(schema) if isinstance(child, dict))
    for target in local_targets(form, schema):
        if isinstance(target, dict) and id(target) not in followed:
            followed.add(id(target))
            yield target


# Keywords of a form-level schema whose values are the form's own parts, not rules over it:
# definitions are reached through the references that use them.
_DEFINITIONS = ("$defs", "definitions")
# Keywords of a form-level schema whose values are schemas of field values, by name or by
# pattern (``properties``), or of any field the schema does not name.
_FIELD_VALUES = ("patternProperties", "additionalProperties", "unevaluatedProperties", "propertyNames")


def form_level_categories(form: Any) -> list[tuple[str | None, str, set[str]]]:
    """The categories a form writes beside its fields' own top-level properties: in a schema
    of the form's ``allOf``/``anyOf``/``oneOf``, ``if``/``then``/``else``, ``not``,
    ``dependentSchemas`` (each applies to the whole form, and so to its fields) or a
    definition one of them refers to. Each as (field, place, categories): a part written
    under such a schema's ``properties`` speaks of that field (``place`` its JSON pointer);
    one of a pattern or of the other fields (``patternProperties``, ``additionalProperties``)
    may speak of any field: field None. The policy reads none of them."""
    if not isinstance(form, dict):
        return []
    found: list[tuple[str | None, str, set[str]]] = []
    followed: set[int] = set()
    stack: list[tuple[Pointer, Any]] = [((), form)]
    count = 0
    while stack and count < _MAX_SCHEMAS:
        pointer, schema = stack.pop()
        count += 1
        if not isinstance(schema, dict):
            continue
        if _own(schema):  # a category of the whole form, or of a part of it: of no field
            found.append((None, _pointer(pointer) or "/", _own(schema)))
        properties = schema.get("properties") if schema is not form else None  # the fields' own
        for name, prop in properties.items() if isinstance(properties, dict) else ():
            categories = nested_categories(prop, form) | _own(prop)
            if categories:
                found.append((name, _pointer((*pointer, "properties", name)), categories))
        for keyword in _FIELD_VALUES:
            if keyword in schema:
                for at, value in _keyword_values(schema, keyword, pointer):
                    categories = nested_categories(value, form) | _own(value)
                    if categories:
                        found.append((None, _pointer(at), categories))
        stack.extend(_form_level_children(schema, form, pointer, followed))
    return found


def _form_level_children(
    schema: dict[str, Any], form: Mapping[str, Any], pointer: Pointer, followed: set[int]
) -> Iterator[tuple[Pointer, Any]]:
    """The schemas that apply to the same object as ``schema`` (the whole form): its
    combinators, conditions and the local references it makes."""
    skipped = ("properties", *_DEFINITIONS, *_FIELD_VALUES)
    for at, child in child_schemas_at(schema, pointer):
        if at[len(pointer)] not in skipped:
            yield at, child
    for target in local_targets(form, schema):
        if isinstance(target, dict) and id(target) not in followed and target is not form:
            followed.add(id(target))
            yield (*pointer, "$ref"), target


def _keyword_values(schema: dict[str, Any], keyword: str, pointer: Pointer) -> list[tuple[Pointer, Any]]:
    value = schema[keyword]
    if keyword == "patternProperties":
        return [((*pointer, keyword, name), item) for name, item in value.items()] if isinstance(value, dict) else []
    return [((*pointer, keyword), value)]


def _own(schema: Any) -> set[str]:
    category = schema.get(CATEGORY_KEY) if isinstance(schema, dict) else None
    if category is None:
        return set()
    return {category if isinstance(category, str) else repr(category)}


def _pointer(parts: Pointer) -> str:
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in parts)


def beside_fields(form: Any) -> list[tuple[str, set[str]]]:
    """Of ``form_level_categories``, those the policy would get wrong: a category for a field
    other than the field's own top-level one (or for a field the form does not have), and
    any for a field by pattern or for the other fields. As (field or place, categories)."""
    properties = (form.get("properties") if isinstance(form, dict) else None) or {}
    wrong = []
    for name, place, categories in form_level_categories(form):
        prop = properties.get(name) if name is not None and isinstance(properties, dict) else None
        own = _own(prop) if isinstance(prop, dict) else set()
        differs = categories - own if name is not None else categories
        if differs:
            wrong.append((name if name is not None else place, differs))
    return wrong


def fields_spoken_of(form: Any) -> set[str]:
    """The top-level fields of ``form`` whose category a category written beside them may
    contradict (``beside_fields``): a version deployed before the deploy refused such a form
    treats them as restricted."""
    properties = (form.get("properties") if isinstance(form, dict) else None) or {}
    if not isinstance(properties, dict):
        return set()
    spoken: set[str] = set()
    for name, _place, categories in form_level_categories(form):
        targets = [name] if name is not None else list(properties)
        for target in targets:
            prop = properties.get(target)
            if isinstance(prop, dict) and categories - _own(prop):
                spoken.add(target)
    return spoken


__all__ = [
    "CATEGORY_KEY",
    "beside_fields",
    "differs_inside",
    "fields_spoken_of",
    "form_level_categories",
    "nested_categories",
]
