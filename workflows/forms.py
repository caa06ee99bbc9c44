"""Validating submitted task data against the task's JSON-schema form.

Errors carry a code per JSON-schema keyword (``schema.minimum`` ...) with params taken from
the schema (the limit, the type), never from the submitted value: jsonschema's own texts
quote the value ("'-500' is less than ..."), and a value must not travel in an error.
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import islice

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from bpmn.engine.date_range import date_range
from bpmn.engine.forms_validation import DATE_RANGE_KEYWORD, TOO_COSTLY_KEYWORD, UNUSABLE_FORM_KEYWORD
from core.errors import MAX_FIELD_ERRORS, FieldError, field_error

# keyword -> the name of its param (None: the message needs none)
SCHEMA_KEYWORDS: dict[str, str | None] = {
    "type": "type",
    "enum": None,
    "const": None,
    "minimum": "limit",
    "maximum": "limit",
    "exclusiveMinimum": "limit",
    "exclusiveMaximum": "limit",
    "multipleOf": "limit",
    "minLength": "limit",
    "maxLength": "limit",
    "pattern": None,
    "format": "format",
    "minItems": "limit",
    "maxItems": "limit",
    "uniqueItems": None,
}


def date_bounds(prop: dict) -> tuple[str, str]:
    """The first and the last date a ``date`` or ``date-time`` field takes, as ISO dates: its
    ``formatMinimum``/``formatMaximum`` or the default range (``date_range``), as validated."""
    first, last = date_range(prop)
    return first.isoformat(), last.isoformat()


def form_errors(schema: dict | None, validator: Draft202012Validator | None, data) -> list[FieldError]:
    """Per-field errors; empty when the data is valid.

    Only the form's own fields may be written by a task, whatever the schema says about
    additional properties.
    """
    if not isinstance(data, dict):
        return [field_error("data", "field.expected_form_object")]
    if schema is None or validator is None:
        return [field_error(name, "field.task_has_no_form") for name in data]
    allowed = schema.get("properties", {})
    listed = ", ".join(allowed) or "-"
    unknown = islice((name for name in data if name not in allowed), MAX_FIELD_ERRORS)
    errors = [field_error(name, "field.unknown_in_form", fields=listed) for name in unknown]
    errors += [field_error(name, "field.required") for name in schema.get("required", []) if name not in data]
    return errors + schema_errors(
        islice(
            (
                error
                for error in validator.iter_errors(data)
                # required and unknown fields are reported above, once per field; an unknown key
                # inside a field's object is its field's error (it was let through: 2026-12-06)
                if not (error.validator in ("required", "additionalProperties") and not error.path)
            ),
            MAX_FIELD_ERRORS,
        )
    )


def schema_errors(errors: Iterable[ValidationError], prefix: str = "") -> list[FieldError]:
    """jsonschema's errors as field errors with codes, in field order."""
    found = []
    for error in sorted(errors, key=lambda e: [str(p) for p in e.path]):
        path = ".".join(str(part) for part in error.path)
        field = ".".join(part for part in (prefix, path) if part) or "data"
        found.append(_keyword_error(field, error))
    return found


def _keyword_error(field: str, error: ValidationError) -> FieldError:
    keyword = str(error.validator)
    if keyword == "required":  # inside a nested object (top-level ones are reported per field)
        return field_error(field, "field.required")
    if keyword in (UNUSABLE_FORM_KEYWORD, "$ref", "$dynamicRef"):  # see bpmn.engine.forms_validation
        return field_error(field, "form.unusable")
    if keyword == DATE_RANGE_KEYWORD:  # the range is the schema's (or the default), never the value
        return field_error(field, "schema.date_range", **error.validator_value)
    if keyword == TOO_COSTLY_KEYWORD:  # the validation's pattern budget ran out here
        return field_error(field, "schema.too_costly")
    if keyword not in SCHEMA_KEYWORDS:
        return field_error(field, "schema.other")
    param = SCHEMA_KEYWORDS[keyword]
    value = error.validator_value
    if param == "type" and isinstance(value, list):
        value = value[0] if value else "string"
    return field_error(field, f"schema.{keyword}", **({param: value} if param else {}))
