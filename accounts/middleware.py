"""Keeps a password session that still owes its second factor on the two-factor pages."""

from __future__ import annotations

from urllib.parse import urlencode

from django.http import HttpResponseRedirect, JsonResponse
from django.urls import reverse
from django.utils.translation import gettext as _

from accounts.two_factor import has_confirmed_device, session_needs_second_factor

# Reachable before the second factor: the two-factor pages themselves, logging out,
# changing language, the static files those pages need, and the token endpoints (they
# ask for the code themselves and never use the session).
OPEN_PREFIXES = ("/accounts/two-factor/", "/accounts/logout/", "/i18n/", "/static/", "/api/v1/auth/token/")


class SecondFactorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info.startswith(OPEN_PREFIXES) or not session_needs_second_factor(request):
            return self.get_response(request)
        if request.path_info.startswith("/api/"):
            detail = _("two-factor sign-in is required: finish it in the web app")
            return JsonResponse({"detail": detail, "errors": []}, status=403)
        page = "two-factor-verify" if has_confirmed_device(request.user) else "two-factor-setup"
        query = urlencode({"next": request.get_full_path()}) if request.method == "GET" else ""
        return HttpResponseRedirect(reverse(page) + (f"?{query}" if query else ""))
