"""Refuse text no database column can hold before any view sees it, and a form body sent to
an API route that reads JSON only.

A NUL character (``%00``) or an unpaired surrogate in the path, a query parameter or a
posted form field would reach PostgreSQL through whatever lookup or write the view makes,
and PostgreSQL answers with an error (a 500). This middleware answers 400 naming the
parameter instead, for every route: the API's JSON bodies are checked by its parser
(``api.parsers``), and the services check the data they store (``workflows.input_limits``).
"""

from __future__ import annotations

from django.core.exceptions import DisallowedHost
from django.http import JsonResponse
from django.shortcuts import render
from django.views import defaults
from django_guid import get_guid

from api.exceptions import error_body
from config.locale import API_PREFIX
from core.errors import FieldError, InvalidInput, field_error
from web.pages import field_errors, translate
from workflows.input_limits import shown, storable, text_error

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def request_text_errors(request) -> list[FieldError]:
    errors: list[FieldError] = []
    if (error := text_error("path", request.path_info)) is not None:
        errors.append(error)
    sources = [request.GET]
    if request.method == "POST" and request.content_type in FORM_TYPES:
        sources.append(request.POST)
    for source in sources:
        for key, values in source.lists():
            bad = next((text for text in (key, *values) if not storable(text)), None)
            if bad is not None and (error := text_error(shown(key), bad)) is not None:
                errors.append(error)
    return errors


class InputGuardMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        errors = request_text_errors(request)
        if not errors:
            return self.get_response(request)
        refused = InvalidInput("request.unstorable_text", errors=errors)
        if request.path_info.startswith(API_PREFIX):
            errors = [{key: value for key, value in error.items() if key != "params"} for error in errors]
            return JsonResponse({"detail": refused.detail, "errors": errors, "code": refused.code}, status=400)
        detail = "; ".join(f"{error['field']}: {error['message']}" for error in field_errors(errors))
        return render(
            request, "errors/refused.html", {"status": 400, "detail": detail or translate(refused.code)}, status=400
        )

    def process_view(self, request, view_func, view_args, view_kwargs):
        """415 for a form body (urlencoded or multipart) sent to an API view that parses none.
        Django reads such a body into ``request.POST`` before DRF parses it (here above, and
        the CSRF check of a signed-in browser), and DRF then finds the stream spent and takes
        the body for an empty one: ``{"assignee": 7}`` sent as a form to a reassignment read
        as no assignee, and the lead took the task over instead of handing it on."""
        view = getattr(view_func, "cls", None)
        if view is None or request.content_type not in FORM_TYPES or request.method in ("GET", "HEAD", "OPTIONS"):
            return None
        if any(parser.media_type in FORM_TYPES for parser in view().get_parsers()):
            return None
        code = "request.unsupported_media_type"
        body = {"detail": translate("request.unsupported_media_type"), "errors": [], "code": code}
        return JsonResponse({**body, "request_id": get_guid()}, status=415)


def unreadable(request, exception=None):
    """``handler400``: a request Django itself refused to read before any view ran (a
    multipart body it cannot parse, more than ``DATA_UPLOAD_MAX_NUMBER_FIELDS`` fields in the
    query or the form, a form body above ``DATA_UPLOAD_MAX_MEMORY_SIZE``). Django's own answer
    was a bare English HTML page, to the API too: now the API's error shape naming
    ``request``, and the refusal page in the user's language. A host outside
    ``ALLOWED_HOSTS`` keeps Django's page (nothing of the site is drawn for an unknown host)."""
    if isinstance(exception, DisallowedHost):
        return defaults.bad_request(request, exception)
    detail = translate("request.unreadable")
    if request.path_info.startswith(API_PREFIX):
        errors = field_errors([field_error("request", "request.unreadable")])
        body = error_body(detail, errors, code="request.unreadable")
        return JsonResponse(body, status=400)
    # The language form comes back to the path without its query: the refused query (a filter
    # on a hidden field's value, say) is not written into the page.
    context = {"status": 400, "detail": detail, "unreadable": True, "language_next": request.path}
    return render(request, "errors/refused.html", context, status=400)
