"""DRF's own field errors in the project's codes and words.

DRF names each error with a key of its own (``required``, ``max_length``, ``invalid``, ...)
and a text of its own: English, or DRF's bokmål, which is partly English and partly clumsy
("Sikre denne verdien er mindre enn eller lik 5"), and for some keys repeats the value sent
('"x" er ikke et gyldig valg'). Here each key becomes one of our codes (``field.*`` in
``core.messages``), said in the request's language with the field's own limits as params,
never a value. The key alone does not say enough (``invalid`` is "expected text" for a text
field and "expected a whole number" for a number; ``max_length`` counts characters or list
items), so the field that failed decides: ``recode`` walks the error tree beside the
serializer's fields. An error that already carries one of our codes is left as it is.

``generic_code`` maps a key without its field (a filter's error, a DRF error raised outside
a serializer): the same codes, for the keys whose meaning does not hang on the field.
"""

from __future__ import annotations

from typing import Any

from rest_framework import fields, serializers
from rest_framework.exceptions import ErrorDetail

from core.messages import MESSAGES, render

# A key whose meaning is the same for every field (DRF's and Django's validators' keys).
_BY_KEY: dict[str, str] = {
    "required": "field.required",
    "null": "field.null",
    "blank": "field.blank",
    "invalid_choice": "field.invalid_choice",
    "does_not_exist": "field.does_not_exist",
    "incorrect_type": "field.expected_id",
    "not_a_list": "field.expected_list",
    "not_a_dict": "field.expected_object",
    "max_value": "field.max_value",
    "min_value": "field.min_value",
    "max_string_length": "field.out_of_range",
    "overflow": "field.out_of_range",
    "date": "field.expected_datetime",
    "datetime": "field.expected_date",
    "make_aware": "field.expected_datetime",
    "null_characters_not_allowed": "field.nul",
    "surrogate_characters_not_allowed": "field.surrogate",
    "no_name": "field.expected_file",
    "max_length": "field.too_long",
    "min_length": "field.too_short",
    "empty": "field.empty",
    "invalid": "field.invalid",
    "parse_error": "body.unreadable",
    "too_large": "body.too_large",
}

# ``invalid``, per kind of field (the most specific class first).
_INVALID_BY_FIELD: tuple[tuple[type, str], ...] = (
    (fields.RegexField, "field.pattern"),
    (fields.UUIDField, "field.expected_uuid"),
    (fields.CharField, "field.expected_text"),
    (fields.BooleanField, "field.expected_boolean"),
    (fields.IntegerField, "field.expected_integer"),
    (fields.FloatField, "field.expected_number"),
    (fields.DecimalField, "field.expected_number"),
    (fields.DateTimeField, "field.expected_datetime"),
    (fields.DateField, "field.expected_date"),
    (fields.FileField, "field.expected_file"),
    (fields.JSONField, "field.expected_json"),
    (fields.DictField, "field.expected_object"),
    (serializers.BaseSerializer, "field.expected_object"),
)

_LIST_FIELDS = (fields.ListField, serializers.ListSerializer, fields.MultipleChoiceField)
# A list's length counts items, not characters; a file's length is its name's.
_LIST_CODES = {"max_length": "field.too_many_items", "min_length": "field.too_few_items", "empty": "field.empty_list"}
_FILE_CODES = {"required": "field.no_file", "empty": "field.empty_file", "max_length": "field.file_name_too_long"}

# The keys whose text names the field's limit: key -> the field's attribute.
_LIMITS = {"max_length": "max_length", "min_length": "min_length", "max_value": "max_value", "min_value": "min_value"}


# Every code this module gives (tests/core/test_errors.py: each message is used somewhere).
CODES = frozenset(
    {*_BY_KEY.values(), *_LIST_CODES.values(), *_FILE_CODES.values(), "field.expected_nonempty_object"}
    | {code for _kind, code in _INVALID_BY_FIELD}
)


def generic_code(key: str | None) -> str | None:
    """Our code for DRF's (or Django's) ``key`` when the field is not known."""
    if isinstance(key, str) and key in MESSAGES:
        return key
    return _BY_KEY.get(key) if isinstance(key, str) else None


def _code_for(field: Any, key: str) -> str:
    if key == "invalid":
        return next((code for kind, code in _INVALID_BY_FIELD if isinstance(field, kind)), "field.invalid")
    if isinstance(field, _LIST_FIELDS) and key in _LIST_CODES:
        return _LIST_CODES[key]
    if isinstance(field, fields.DictField) and key == "empty":
        return "field.expected_nonempty_object"
    if isinstance(field, fields.FileField) and key in _FILE_CODES:
        return _FILE_CODES[key]
    return _BY_KEY.get(key, "field.invalid")


def _item(field: Any, item: Any, translate) -> Any:
    key = getattr(item, "code", None)
    if isinstance(key, str) and key in MESSAGES:
        return item  # already ours (``api.exceptions.coded``)
    code = _code_for(field, key) if isinstance(key, str) else "field.invalid"
    params = {}
    if attribute := _LIMITS.get(key or ""):
        limit = getattr(field, attribute, None)
        if limit is None:  # a limit the field does not know: the generic text
            return ErrorDetail(render("field.invalid", {}, translate=translate), code="field.invalid")
        params["limit"] = limit
    return ErrorDetail(render(code, params, translate=translate), code=code)


def _child_of(field: Any, key: Any) -> Any:
    if key == serializers.api_settings.NON_FIELD_ERRORS_KEY:  # the object (or list) itself
        return field
    if isinstance(field, serializers.Serializer):
        return field.fields.get(key)
    if isinstance(field, fields.ListField | fields.DictField | serializers.ListSerializer):
        return field.child
    return None


def recode(detail: Any, field: Any, translate=None) -> Any:
    """``detail`` (a ``ValidationError.detail`` of ``field``) with each error in our codes,
    its text said through ``translate`` (None: English)."""
    if isinstance(detail, dict):
        return {key: recode(value, _child_of(field, key), translate) for key, value in detail.items()}
    if isinstance(detail, list):
        if isinstance(field, serializers.ListSerializer) and any(isinstance(item, dict) for item in detail):
            return [recode(item, field.child, translate) for item in detail]  # one entry per item sent
        return [recode(item, field, translate) for item in detail]
    return _item(field, detail, translate)
