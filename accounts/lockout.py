"""The answer to a locked-out sign-in (django-axes ``AXES_LOCKOUT_CALLABLE``): the API's
error shape for the token endpoint, a bokmål page for the web login. Neither says
whether the username exists."""

from __future__ import annotations

from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

STATUS = 429


def lockout_response(request, original_response=None, credentials=None):
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    if request.path_info.startswith("/api/"):
        detail = _("too many failed sign-ins: try again in %(minutes)d minutes") % {"minutes": minutes}
        response = JsonResponse({"detail": detail, "errors": []}, status=STATUS)
    else:
        response = render(request, "accounts/locked_out.html", {"minutes": minutes}, status=STATUS)
    response["Retry-After"] = str(int(settings.AXES_COOLOFF_TIME.total_seconds()))
    return response
