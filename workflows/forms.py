"""Validating submitted task data against the task's JSON-schema form."""

from __future__ import annotations

from jsonschema import Draft202012Validator


def form_errors(schema: dict | None, validator: Draft202012Validator | None, data) -> list[dict]:
    """Per-field errors, ``[{"field": ..., "message": ...}]``; empty when the data is valid.

    Only the form's own fields may be written by a task, whatever the schema says about
    additional properties.
    """
    if not isinstance(data, dict):
        return [{"field": "data", "message": "must be an object of form fields"}]
    if schema is None:
        return [
            {"field": name, "message": "this task has no form; it takes no data"} for name in data
        ]
    allowed = schema.get("properties", {})
    errors = [
        {"field": name, "message": f"unknown field; this form has: {', '.join(allowed) or 'none'}"}
        for name in data
        if name not in allowed
    ]
    errors += [
        {"field": name, "message": "this field is required"}
        for name in schema.get("required", [])
        if name not in data
    ]
    for error in sorted(validator.iter_errors(data), key=lambda e: [str(p) for p in e.path]):
        if error.validator == "required" and not error.path:
            continue  # reported above, once per missing field
        elif error.validator == "additionalProperties":
            continue  # reported above as unknown fields
        else:
            field = ".".join(str(part) for part in error.path) or "data"
            errors.append({"field": field, "message": error.message})
    return errors
