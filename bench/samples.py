"""Plausible form data generated from a task's JSON schema.

Used by the benchmark and by tests that walk a whole process: each answers the form the
way a careful caseworker would, with ``overrides`` steering gateway decisions.
"""

from __future__ import annotations

from datetime import date, timedelta


def sample_value(name: str, prop: dict):
    if "const" in prop:
        return prop["const"]
    if "enum" in prop:
        return prop["enum"][0]
    kind = prop.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "boolean":
        return False
    if kind == "integer":
        return max(prop.get("minimum", 1), 1)
    if kind == "number":
        return float(max(prop.get("minimum", 1), 1))
    if kind == "array":
        items = prop.get("items", {})
        return [sample_value(name, items)] if prop.get("minItems") else []
    if kind == "object":
        return {
            key: sample_value(key, sub)
            for key, sub in prop.get("properties", {}).items()
            if key in prop.get("required", [])
        }
    if kind == "null":
        return None
    fmt = prop.get("format")
    if fmt == "date":
        return (date.today() + timedelta(days=120)).isoformat()
    if fmt == "date-time":
        return f"{date.today() + timedelta(days=120)}T09:00:00+01:00"
    if fmt == "email":
        return "kontakt@example.org"
    text = f"{prop.get('title', name)}"
    min_length = prop.get("minLength", 0)
    text = text.ljust(min_length, ".")
    return text[: prop["maxLength"]] if "maxLength" in prop else text


def sample_form_data(schema: dict | None, overrides: dict | None = None) -> dict:
    """Every property of the form filled in, with ``overrides`` for the ones present."""
    if not schema:
        return {}
    overrides = overrides or {}
    data = {}
    for name, prop in schema.get("properties", {}).items():
        data[name] = overrides[name] if name in overrides else sample_value(name, prop)
    return data
