"""The API's one exception handler: domain errors and DRF errors become the error shape
of design §7, ``{"detail": "...", "errors": [{"field" | "element_id": ..., "message": ...}]}``.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import Http404
from django.utils.translation import gettext
from django_guid import get_guid
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler

# The parser module holds the body-size error: DRF's settings import the parser while
# rest_framework.views loads, so the parser must not import this module back.
from api.coded import answer_text, answers_in_english, coded
from api.field_errors import generic_code
from api.parsers import RequestBodyTooLarge
from core.errors import ServiceError, in_language, lost_to_another_writer
from core.messages import MESSAGES

__all__ = ["answer_text", "answers_in_english", "coded", "error_body", "exception_handler", "flatten"]

BODY = "body"
MODEL_REFUSED = "process.model_refused"


def error_body(detail: str, errors: list[dict] | None = None, code: str | None = None) -> dict:
    body = {"detail": str(detail), "errors": [_clean(error) for error in errors or []]}
    if code:
        body["code"] = code
    if request_id := get_guid():  # the X-Request-ID of this answer, to find its log lines
        body["request_id"] = request_id
    return body


def _clean(error: dict) -> dict:
    return {
        key: (str(value) if key in ("field", "element_id", "message", "code", "file") else value)
        for key, value in error.items()
        if value is not None and key not in ("params", "message_code")
    }


def _error(field: str, item) -> dict:
    """One entry of ``errors``, always with a code: ours when the error has one (``coded``,
    ``api.field_errors.recode``), else the one its DRF or Django key maps to
    (``field_errors.generic_code``) with our text when that text needs no limit the key
    does not give. DRF's and Django's texts for some keys repeat the value sent ('"x" is not
    a valid choice.'): values never travel in error texts, not even the sender's own."""
    key = getattr(item, "code", None)
    code = generic_code(key) or "field.invalid"
    message = str(item)
    if code != key and "%(" not in MESSAGES[code]:
        message = answer_text(code, {})
    return {"field": field, "code": code, "message": message}


def flatten(detail, prefix: str = "") -> list[dict]:
    """DRF's nested ``ValidationError.detail`` as ``[{"field": "a.b", "message": ...}]``."""
    if isinstance(detail, dict):
        errors = []
        for key, value in detail.items():
            if key == api_settings.NON_FIELD_ERRORS_KEY:  # the object itself: named by its field
                errors += flatten(value, prefix)
                continue
            errors += flatten(value, f"{prefix}.{key}" if prefix else str(key))
        return errors
    if isinstance(detail, list):
        if all(not isinstance(item, dict | list) for item in detail):
            return [_error(prefix or BODY, item) for item in detail]
        errors = []
        for index, item in enumerate(detail):
            errors += flatten(item, f"{prefix}.{index}" if prefix else str(index))
        return errors
    return [_error(prefix or BODY, detail)]


def _summary(errors: list[dict]) -> str:
    if len(errors) == 1:
        error = errors[0]
        where = error.get("field") or error.get("element_id")
        return f"{where}: {error['message']}" if where else error["message"]
    # In the answer's language: English unless the client asked for another (config.locale).
    return gettext("the request has %(count)s errors") % {"count": len(errors)}


def exception_handler(exc, context):
    if lost_to_another_writer(exc):
        return _concurrent_change()
    if isinstance(exc, ServiceError):
        # In the language the request asked for (English unless it sent Accept-Language:
        # ``config.locale``), so a client that asks for bokmål is answered in bokmål.
        text = answer_text(exc.code, exc.params)
        errors = exc.errors if answers_in_english() else in_language(exc.errors, gettext)
        detail = f"{text}: {_summary(errors)}" if exc.code == MODEL_REFUSED else text
        return Response(error_body(detail, errors, exc.code), status=exc.status_code)
    if isinstance(exc, RequestDataTooBig):
        exc = RequestBodyTooLarge(coded("body.too_large", limit=settings.DATA_UPLOAD_MAX_MEMORY_SIZE))
    if isinstance(exc, exceptions.ValidationError):
        errors = flatten(exc.detail)
        return Response(error_body(_summary(errors), errors), status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, exceptions.ParseError | RequestBodyTooLarge):
        # The parsers' refusals are coded (api.parsers); another parser's (multipart) is not.
        errors = flatten(exc.detail)  # one error, about the body
        return Response(error_body(errors[0]["message"], errors, errors[0]["code"]), status=exc.status_code)
    if isinstance(exc, exceptions.MethodNotAllowed | exceptions.NotAcceptable):
        return _refused_request(exc, context)
    if isinstance(exc, exceptions.Throttled):
        return _throttled(exc)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    response = drf_exception_handler(exc, context)
    if response is not None and isinstance(exc, exceptions.APIException):
        detail = exc.detail if isinstance(exc.detail, str) else _summary(flatten(exc.detail))
        response.data = error_body(detail)
    return response


def _throttled(exc: exceptions.Throttled) -> Response:
    """429 past the user's rate (``api.throttling``): the error shape with a code, in the
    request's language, and ``Retry-After`` in seconds (DRF's text was English or DRF's
    bokmål, without a code)."""
    seconds = max(int(exc.wait or 1), 1)
    refusal = coded("request.throttled", seconds=seconds)
    response = Response(error_body(refusal, [], refusal.code), status=exc.status_code)
    response["Retry-After"] = str(seconds)
    return response


def _concurrent_change() -> Response:
    """409 when PostgreSQL rolled the request's transaction back for a concurrent one
    (``core.errors.lost_to_another_writer``): nothing was saved, and trying again works."""
    refusal = coded("request.concurrent_change")
    response = Response(error_body(refusal, [], refusal.code), status=status.HTTP_409_CONFLICT)
    response["Retry-After"] = "1"
    return response


def _refused_request(exc, context) -> Response:
    """DRF's 405 and 406 in the error shape, with a code and in the request's language: its
    own texts had none, were English or clumsy bokmål ("Metoden ... ikke gyldig"), and the
    405 repeated the method sent. They name what the route takes instead (the ``Allow``
    header says the methods too)."""
    if isinstance(exc, exceptions.MethodNotAllowed):
        view = context.get("view")
        allowed = [method for method in getattr(view, "allowed_methods", ()) if method != "OPTIONS"]
        refusal = coded("request.method_not_allowed", allowed=", ".join(allowed))
    else:
        types = [renderer.media_type for renderer in getattr(exc, "available_renderers", None) or ()]
        refusal = coded("request.not_acceptable", types=", ".join(types) or "application/json")
    return Response(error_body(refusal, [], refusal.code), status=exc.status_code)
