"""A JSON parser that refuses bodies above ``API_MAX_BODY_BYTES``, and text no database
column can hold.

DRF reads the request stream itself, which bypasses Django's
``DATA_UPLOAD_MAX_MEMORY_SIZE`` check on ``request.body``; this parser applies the
limit to the declared length and to what is actually read (chunked bodies too).
A NUL character or an unpaired surrogate anywhere in the body (a key or a value), or
nesting deeper than submitted data may go, is refused here for every route at once,
naming the field, before PostgreSQL would refuse it with a 500.
"""

from __future__ import annotations

import codecs
import json

from django.conf import settings
from rest_framework import exceptions, parsers, status

from api.coded import coded
from core.errors import InvalidInput
from workflows import input_limits

# Deepest a body may nest: enough for deploy bodies (forms nest several levels inside
# "forms") and for data wrapped in its envelope; the data's own, smaller limit is checked by
# the service, which names the field exactly.
MIN_BODY_DEPTH = 64


class RequestBodyTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "the request body is too large"
    default_code = "too_large"


def max_body_bytes() -> int:
    return getattr(settings, "API_MAX_BODY_BYTES", settings.DATA_UPLOAD_MAX_MEMORY_SIZE)


class LimitedJSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        limit = max_body_bytes()
        request = parser_context.get("request")
        meta = request.META if request is not None else {}
        try:
            declared = int(meta.get("CONTENT_LENGTH") or 0)
        except (TypeError, ValueError):
            declared = 0
        if declared > limit:
            raise RequestBodyTooLarge(coded("body.too_large", limit=limit))
        raw = stream.read(limit + 1) if stream is not None else b""
        if len(raw) > limit:
            raise RequestBodyTooLarge(coded("body.too_large", limit=limit))
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = codecs.decode(raw, encoding)
        except (UnicodeDecodeError, LookupError) as exc:
            # Not the decoder's own text: it quotes the bytes that failed.
            raise exceptions.ParseError(coded("body.bad_encoding", encoding=encoding)) from exc
        try:
            body = json.loads(text, parse_constant=_refuse_constant)
        except json.JSONDecodeError as exc:
            raise exceptions.ParseError(coded("body.not_json", line=exc.lineno, column=exc.colno)) from exc
        except ValueError as exc:  # NaN, Infinity
            raise exceptions.ParseError(coded("body.unreadable")) from exc
        except RecursionError as exc:
            raise exceptions.ParseError(coded("body.too_deep")) from exc
        max_depth = max(MIN_BODY_DEPTH, input_limits.limits()["depth"] + 2)
        errors = input_limits.character_errors(body, max_depth=max_depth)
        if errors:
            raise InvalidInput("request.unstorable_text", errors=errors)
        return body


def _refuse_constant(name):
    raise ValueError(f"{name} is not valid JSON")
