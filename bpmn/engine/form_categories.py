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

CATEGORY_KEY = "x-category"
# Keywords whose value is a schema, a list of schemas, or a mapping of names to schemas.
_SCHEMA_KEYWORDS = (
    "items",
    "additionalProperties",
    "unevaluatedProperties",
    "unevaluatedItems",
    "contains",
    "propertyNames",
    "not",
    "if",
    "then",
    "else",
)
_SCHEMA_LIST_KEYWORDS = ("prefixItems", "allOf", "anyOf", "oneOf")
_SCHEMA_MAP_KEYWORDS = ("properties", "patternProperties", "dependentSchemas", "$defs", "definitions")
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
    """Every schema below ``prop`` (not ``prop`` itself), following local ``$ref``s."""
    seen_refs: set[str] = set()
    stack = list(_children(prop, form, seen_refs))
    count = 0
    while stack and count < _MAX_SCHEMAS:
        schema = stack.pop()
        count += 1
        yield schema
        stack.extend(_children(schema, form, seen_refs))


def _children(schema: Any, form: Mapping[str, Any], seen_refs: set[str]) -> Iterator[dict[str, Any]]:
    if not isinstance(schema, dict):
        return
    for keyword in _SCHEMA_KEYWORDS:
        if isinstance(schema.get(keyword), dict):
            yield schema[keyword]
    for keyword in _SCHEMA_LIST_KEYWORDS:
        for item in schema.get(keyword) or () if isinstance(schema.get(keyword), list) else ():
            if isinstance(item, dict):
                yield item
    for keyword in _SCHEMA_MAP_KEYWORDS:
        if isinstance(schema.get(keyword), dict):
            yield from (value for value in schema[keyword].values() if isinstance(value, dict))
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/") and ref not in seen_refs:
        seen_refs.add(ref)
        target = _pointer(form, ref)
        if isinstance(target, dict):
            yield target


def _pointer(form: Mapping[str, Any], ref: str) -> Any:
    node: Any = form
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return None
    return node


__all__ = ["CATEGORY_KEY", "differs_inside", "nested_categories"]
