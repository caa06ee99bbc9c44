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
from typing import Any

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


# A place in submitted data as (parent place, key), None for the top: see _place.
Chain = tuple[Any, str | int] | None


def _place(chain: Chain, field: str) -> str:
    """The dotted name (``a.b.0``) of a place the walks keep as ``(parent chain, key)``: built
    only for an error, so a body of a million items does not build a million names."""
    keys = []
    while chain is not None:
        chain, key = chain
        keys.append(key)
    path = field
    for key in reversed(keys):
        path = _join(path, key)
    return path


def character_errors(value, field: str = "", *, max_depth: int | None = None) -> list[FieldError]:
    """NUL characters and unpaired surrogates in every key and text of ``value``, and nesting
    deeper than ``max_depth`` containers; each error names its place (``a.b.0``)."""
    errors: list[FieldError] = []
    stack: list[tuple[object, Chain, int]] = [(value, None, 0)]
    while stack and len(errors) < MAX_ERRORS:
        item, chain, depth = stack.pop()
        if isinstance(item, str):
            if (NUL in item or not item.isascii()) and (error := text_error(_place(chain, field) or "body", item)):
                errors.append(error)
            continue
        if not isinstance(item, dict | list):
            continue
        if max_depth is not None and depth >= max_depth:
            errors.append(field_error(_place(chain, field) or "body", "field.too_deep", limit=max_depth))
            continue
        if isinstance(item, dict):
            for key, child in item.items():
                if (
                    isinstance(key, str)
                    and (NUL in key or not key.isascii())
                    and (error := text_error(_place((chain, key), field), key)) is not None
                ):
                    errors.append(error)
                    continue
                if _worth_a_look(child):
                    stack.append((child, (chain, key), depth + 1))
        else:
            stack.extend((child, (chain, index), depth + 1) for index, child in enumerate(item) if _worth_a_look(child))
    return sorted(errors, key=lambda error: error["field"])


def _worth_a_look(value) -> bool:
    """Whether ``character_errors`` must visit ``value``: a text with a NUL or a character
    past ASCII, a container with something in it. Numbers and plain texts are passed over
    in the loop that meets them (a body of two million zeros took 1.4 s to walk)."""
    if isinstance(value, str):
        return NUL in value or not value.isascii()
    return bool(value) and isinstance(value, dict | list)


def data_errors(data, field: str = "") -> list[FieldError]:
    """Problems of submitted data under the limits of ``settings.BROBYGGER``: nesting, text
    length, total size, characters that cannot be stored, numbers JSON cannot carry.
    ``field`` prefixes the names (``"payload"`` -> ``payload.note``)."""
    limit = limits()
    errors: list[FieldError] = []
    # Every value takes at least two bytes as JSON (itself and a comma or a bracket): data of
    # more values than half the byte limit is too large, known without walking the rest.
    max_values = limit["bytes"] // 2
    values = 0
    stack: list[tuple[object, Chain, int]] = [(data, None, 0)]
    while stack and len(errors) < MAX_ERRORS:
        item, chain, depth = stack.pop()
        if isinstance(item, str):
            if (NUL in item or not item.isascii()) and (error := text_error(_place(chain, field) or "data", item)):
                errors.append(error)
            elif len(item) > limit["chars"]:
                errors.append(field_error(_place(chain, field) or "data", "field.too_long", limit=limit["chars"]))
        elif isinstance(item, float):
            if not math.isfinite(item):
                errors.append(field_error(_place(chain, field) or "data", "field.not_finite"))
        elif isinstance(item, dict | list):
            if depth >= limit["depth"]:
                errors.append(field_error(_place(chain, field) or "data", "field.too_deep", limit=limit["depth"]))
                continue
            values += 2 * len(item) if isinstance(item, dict) else len(item)  # a pair: `"":0,` is 5 bytes
            if values > max_values:
                return [field_error(field or "data", "field.too_large", limit=limit["bytes"])]
            pairs = item.items() if isinstance(item, dict) else enumerate(item)
            for key, child in pairs:
                if isinstance(key, str):
                    if (NUL in key or not key.isascii()) and (error := text_error(_place((chain, key), field), key)):
                        errors.append(error)
                        continue
                    if len(key) > limit["chars"]:
                        errors.append(field_error(_place((chain, key), field), "field.too_long", limit=limit["chars"]))
                        continue
                stack.append((child, (chain, key), depth + 1))
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
