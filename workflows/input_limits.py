"""Limits on data that people and systems submit: task data, message payloads, start data.

Form schemas say what a field may hold; these limits hold whatever a schema says, so no
request can make the server store or walk something huge, nest data until a parser or
the database gives up, or send text PostgreSQL cannot store (a NUL character, or half of
a UTF-16 surrogate pair, which JSON's ``\\ud800`` escapes allow). Every service that
stores submitted data calls ``data_errors`` first; the API's JSON parser and the web's
``config.input_guard`` refuse the same characters in every request before any view runs.
"""

from __future__ import annotations

import json
import math

from django.conf import settings

from core.errors import FieldError, InvalidInput, field_error

NUL = "\x00"
MAX_ERRORS = 100  # a body with a million bad values gets a short answer


def limits() -> dict:
    config = settings.BROBYGGER
    return {
        "depth": config["SUBMITTED_DATA_MAX_DEPTH"],
        "bytes": config["SUBMITTED_DATA_MAX_BYTES"],
        "chars": config["SUBMITTED_TEXT_MAX_CHARS"],
    }


def text_error(field: str, text: str) -> FieldError | None:
    """Why ``text`` (the value of ``field``) cannot be stored, or None."""
    if NUL in text:
        return field_error(field, "field.nul")
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            return field_error(field, "field.surrogate")
    return None


def storable(text: str) -> bool:
    return text_error("", text) is None


def shown(name: str) -> str:
    """A name as it may appear in an error: the offending characters escaped, not sent back."""
    return name.replace(NUL, "\\u0000").encode("utf-8", "backslashreplace").decode("utf-8")


def _join(path: str, key) -> str:
    return f"{path}.{shown(key) if isinstance(key, str) else key}" if path else shown(str(key))


def character_errors(value, field: str = "", *, max_depth: int | None = None) -> list[FieldError]:
    """NUL characters and unpaired surrogates in every key and text of ``value``, and nesting
    deeper than ``max_depth`` containers; each error names its place (``a.b.0``)."""
    errors: list[FieldError] = []
    stack = [(value, field, 0)]
    while stack and len(errors) < MAX_ERRORS:
        item, path, depth = stack.pop()
        if isinstance(item, str):
            if (error := text_error(path or "body", item)) is not None:
                errors.append(error)
            continue
        if not isinstance(item, dict | list):
            continue
        if max_depth is not None and depth >= max_depth:
            errors.append(field_error(path or "body", "field.too_deep", limit=max_depth))
            continue
        if isinstance(item, dict):
            for key, child in item.items():
                child_path = _join(path, key)
                if isinstance(key, str) and (error := text_error(child_path, key)) is not None:
                    errors.append(error)
                    continue
                stack.append((child, child_path, depth + 1))
        else:
            stack.extend((child, _join(path, index), depth + 1) for index, child in enumerate(item))
    return sorted(errors, key=lambda error: error["field"])


def data_errors(data, field: str = "") -> list[FieldError]:
    """Problems of submitted data under the limits of ``settings.BROBYGGER``: nesting, text
    length, total size, characters that cannot be stored, numbers JSON cannot carry.
    ``field`` prefixes the names (``"payload"`` -> ``payload.note``)."""
    limit = limits()
    errors: list[FieldError] = []
    stack = [(data, field, 0)]
    while stack and len(errors) < MAX_ERRORS:
        item, path, depth = stack.pop()
        where = path or "data"
        if isinstance(item, str):
            if (error := text_error(where, item)) is not None:
                errors.append(error)
            elif len(item) > limit["chars"]:
                errors.append(field_error(where, "field.too_long", limit=limit["chars"]))
        elif isinstance(item, float):
            if not math.isfinite(item):
                errors.append(field_error(where, "field.not_finite"))
        elif isinstance(item, dict | list):
            if depth >= limit["depth"]:
                errors.append(field_error(where, "field.too_deep", limit=limit["depth"]))
                continue
            pairs = item.items() if isinstance(item, dict) else enumerate(item)
            for key, child in pairs:
                child_path = _join(path, key)
                if isinstance(key, str):
                    if (error := text_error(child_path, key)) is not None:
                        errors.append(error)
                        continue
                    if len(key) > limit["chars"]:
                        errors.append(field_error(child_path, "field.too_long", limit=limit["chars"]))
                        continue
                stack.append((child, child_path, depth + 1))
    if not errors and _size(data) > limit["bytes"]:
        errors.append(field_error(field or "data", "field.too_large", limit=limit["bytes"]))
    return sorted(errors, key=lambda error: error["field"])


def _size(data) -> int:
    if not isinstance(data, dict | list):
        return 0
    return len(json.dumps(data, ensure_ascii=False, default=str).encode("utf-8"))


def check_data(data, field: str = "") -> None:
    """Raise ``InvalidInput`` naming each field when ``data`` breaks a limit."""
    errors = data_errors(data, field)
    if errors:
        raise InvalidInput("data.over_limits", errors=errors)


def text_errors(**texts) -> list[FieldError]:
    """Errors of single text fields (a name, a key) that cannot be stored."""
    return [
        error for name, text in texts.items() if isinstance(text, str) and (error := text_error(name, text)) is not None
    ]


def check_texts(**texts) -> None:
    """Raise ``InvalidInput`` when a single text field (a name, a key) cannot be stored."""
    if errors := text_errors(**texts):
        raise InvalidInput("request.unstorable_text", errors=errors)
