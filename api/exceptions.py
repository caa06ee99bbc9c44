"""The API's one exception handler: domain errors and DRF errors become the error shape
of design §7, ``{"detail": "...", "errors": [{"field" | "element_id": ..., "message": ...}]}``.
"""

from __future__ import annotations

from django.core.exceptions import RequestDataTooBig
from django.http import Http404
from django.utils.translation import get_language, gettext
from django_guid import get_guid
from rest_framework import exceptions, status
from rest_framework.exceptions import ErrorDetail
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler

# The parser module holds the body-size error: DRF's settings import the parser while
# rest_framework.views loads, so the parser must not import this module back.
from api.parsers import RequestBodyTooLarge
from core.errors import ServiceError, in_language
from core.messages import MESSAGES, render

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


# DRF's texts for these codes repeat the value sent ('"x" is not a valid choice.',
# 'Invalid pk "x" - object does not exist.'): values never travel in error texts, not even
# the sender's own, so that no answer can carry a value (one pasted from somewhere else, say).
_ECHOING_CODES = {
    "invalid_choice": "not one of the allowed choices",
    "does_not_exist": "no such object",
}


def _message(item) -> str:
    code = getattr(item, "code", None)
    return _ECHOING_CODES.get(code, str(item)) if isinstance(code, str) else str(item)


def _error(field: str, item) -> dict:
    """One entry of ``errors``; with its ``code`` when it is one of ours (``coded``)."""
    error = {"field": field, "message": _message(item)}
    code = getattr(item, "code", None)
    if isinstance(code, str) and code in MESSAGES:
        error["code"] = code
    return error


def coded(code: str, **params) -> ErrorDetail:
    """A serializer's error of one of our codes, said in the language the request asked for
    (``answer_text``); its entry in the answer carries the code (``flatten``)."""
    return ErrorDetail(answer_text(code, params), code=code)


def flatten(detail, prefix: str = "") -> list[dict]:
    """DRF's nested ``ValidationError.detail`` as ``[{"field": "a.b", "message": ...}]``."""
    if isinstance(detail, dict):
        errors = []
        for key, value in detail.items():
            name = BODY if key == api_settings.NON_FIELD_ERRORS_KEY and not prefix else str(key)
            errors += flatten(value, f"{prefix}.{name}" if prefix else name)
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


def answers_in_english() -> bool:
    """The request's language is English (the default of the API: ``config.locale``)."""
    return (get_language() or "en").startswith("en")


def answer_text(code: str, params) -> str:
    """A code's message in the language the request asked for: English, the contract's
    words as they are, unless the client sent another Accept-Language."""
    return render(code, params) if answers_in_english() else render(code, params, translate=gettext)


def exception_handler(exc, context):
    if isinstance(exc, ServiceError):
        # In the language the request asked for (English unless it sent Accept-Language:
        # ``config.locale``), so a client that asks for bokmål is answered in bokmål.
        text = answer_text(exc.code, exc.params)
        errors = exc.errors if answers_in_english() else in_language(exc.errors, gettext)
        detail = f"{text}: {_summary(errors)}" if exc.code == MODEL_REFUSED else text
        return Response(error_body(detail, errors, exc.code), status=exc.status_code)
    if isinstance(exc, RequestDataTooBig):
        exc = RequestBodyTooLarge(str(exc))
    if isinstance(exc, exceptions.ValidationError):
        errors = flatten(exc.detail)
        return Response(error_body(_summary(errors), errors), status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, exceptions.ParseError):
        return Response(
            error_body(exc.detail, [{"field": BODY, "message": str(exc.detail)}]), status=status.HTTP_400_BAD_REQUEST
        )
    if isinstance(exc, RequestBodyTooLarge):
        return Response(error_body(exc.detail, [{"field": BODY, "message": str(exc.detail)}]), status=exc.status_code)
    if isinstance(exc, exceptions.MethodNotAllowed | exceptions.NotAcceptable):
        return _refused_request(exc, context)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    response = drf_exception_handler(exc, context)
    if response is not None and isinstance(exc, exceptions.APIException):
        detail = exc.detail if isinstance(exc.detail, str) else _summary(flatten(exc.detail))
        response.data = error_body(detail)
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
