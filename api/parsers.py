"""A JSON parser that refuses bodies above ``API_MAX_BODY_BYTES``.

DRF reads the request stream itself, which bypasses Django's
``DATA_UPLOAD_MAX_MEMORY_SIZE`` check on ``request.body``; this parser applies the
limit to the declared length and to what is actually read (chunked bodies too).
"""

from __future__ import annotations

import codecs
import json

from django.conf import settings
from rest_framework import exceptions, parsers

from api.exceptions import RequestBodyTooLarge


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
            raise RequestBodyTooLarge(f"the request body has {declared} bytes; at most {limit} are accepted")
        raw = stream.read(limit + 1) if stream is not None else b""
        if len(raw) > limit:
            raise RequestBodyTooLarge(f"the request body has more than {limit} bytes")
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = codecs.decode(raw, encoding)
        except (UnicodeDecodeError, LookupError) as exc:
            raise exceptions.ParseError(f"the request body is not valid {encoding}: {exc}") from exc
        try:
            return json.loads(text, parse_constant=_refuse_constant)
        except ValueError as exc:
            raise exceptions.ParseError(f"JSON parse error: {exc}") from exc
        except RecursionError as exc:
            raise exceptions.ParseError("JSON parse error: the document is nested too deeply") from exc


def _refuse_constant(name):
    raise ValueError(f"{name} is not valid JSON")
