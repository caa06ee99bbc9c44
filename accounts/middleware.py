"""Who the request is (the session's user, the device of its second factor), and keeping a
password session that still owes its second factor on the two-factor pages."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib.auth import middleware as auth_middleware
from django.http import HttpResponseRedirect, JsonResponse
from django.urls import reverse
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext as _
from django_otp import middleware as otp_middleware

from accounts import sessions
from accounts.two_factor import has_confirmed_device, session_needs_second_factor


def _session_user(request):
    if not hasattr(request, "_cached_user"):
        request._cached_user = sessions.get_user(request)
    return request._cached_user


class AuthenticationMiddleware(auth_middleware.AuthenticationMiddleware):
    """Django's, the session's user read by a statement compiled once (``accounts.sessions``)."""

    def process_request(self, request):
        super().process_request(request)  # its checks, and ``request.auser``
        request.user = SimpleLazyObject(lambda: _session_user(request))


class OTPMiddleware(otp_middleware.OTPMiddleware):
    """django-otp's, the session's TOTP device read by a statement compiled once: it is
    still read on every request, so a device removed ends its sessions' second factor."""

    def _device_from_persistent_id(self, persistent_id: str):
        return sessions.device_of(self._normalize_persistent_id(persistent_id))


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
