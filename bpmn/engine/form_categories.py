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

from .forms_validation import child_schemas, local_targets

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


__all__ = ["CATEGORY_KEY", "differs_inside", "nested_categories"]
