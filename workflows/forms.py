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
    for error in sorted(validator.iter_errors(data), key=lambda e: list(e.path)):
        if error.validator == "required":
            missing = [name for name in error.validator_value if name not in data]
            errors.extend({"field": name, "message": "this field is required"} for name in missing)
        elif error.validator == "additionalProperties":
            continue  # reported above as unknown fields
        else:
            field = ".".join(str(part) for part in error.path) or "data"
            errors.append({"field": field, "message": error.message})
    return errors
