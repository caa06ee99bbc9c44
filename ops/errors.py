"""The 500 answer: in the API's error shape with the request id, so a client can report it
(the web pages keep Django's plain page; the id is in their X-Request-ID header too)."""

from __future__ import annotations

from django.http import JsonResponse
from django.views.defaults import server_error as html_server_error
from django_guid import get_guid


def server_error(request, *args, **kwargs):
    if request.path.startswith("/api/"):
        return JsonResponse(
            {
                "detail": "internal error: report the request id to the operators",
                "errors": [],
                "request_id": get_guid(),
            },
            status=500,
        )
    return html_server_error(request, *args, **kwargs)
