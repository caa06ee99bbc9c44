"""Who the request is (the session's user, the device of its second factor), and keeping a
password session that still owes its second factor on the two-factor pages."""

from __future__ import annotations

import time
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY
from django.contrib.auth import middleware as auth_middleware
from django.http import HttpResponse, HttpResponseRedirect, JsonResponse
from django.urls import reverse
from django.utils.functional import SimpleLazyObject, cached_property
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from django_otp import middleware as otp_middleware
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.middleware import SessionRefresh

from accounts import device_cookies, sessions
from accounts.oidc import oidc_enabled
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
SIGN_IN_API = "/api/v1/auth/token/"  # the token endpoints
OPEN_PREFIXES = ("/accounts/two-factor/", "/accounts/logout/", "/i18n/", "/static/", SIGN_IN_API)


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


RECHECK_HEADER = "X-Brobygger-Recheck"


class SingleSignOnRecheck(SessionRefresh):
    """mozilla-django-oidc's ``SessionRefresh``: a single sign-on session is checked with
    the identity provider again ``OIDC_RENEW_ID_TOKEN_EXPIRY_SECONDS`` after its last
    check. The provider is the source of truth for the user's agencies and roles (and
    whether they may sign in): asked only at login, a user it had moved to another agency
    or closed kept the memberships of their last login as long as the session lived.

    A page read or a form posted past the time goes to the provider without a prompt
    (``prompt=none``; the post is not run, and the user comes back to the page it was posted
    from); its callback applies the groups again (``accounts.oidc.sync_memberships``), or
    ends the session (``accounts.views.SingleSignOnCallback``). An htmx request is told to
    reload the page (which then goes), an API request with the session (any method) gets
    403: neither can follow a redirect to the provider. Password sessions are not concerned."""

    @cached_property
    def exempt_urls(self):
        # The single sign-on pages themselves and logging out (the library's own list names
        # a logout view of its own, which this site does not have).
        return {reverse("oidc_authentication_init"), reverse("oidc_authentication_callback"), reverse("logout")}

    def is_refreshable_url(self, request):
        """mozilla-django-oidc's rule without its ``GET`` only: a form posted (or an API write
        with the session) past the time ran unchecked, so a user the provider had closed or
        moved went on writing into, and reading through the answers of, the cases of their
        last login's agencies."""
        if request.path_info.startswith(SIGN_IN_API) or not (oidc_enabled() and request.user.is_authenticated):
            return False  # (the token endpoints never read the session: a password sign-in there)
        backend = request.session.get(BACKEND_SESSION_KEY)
        return (
            backend is not None
            and issubclass(import_string(backend), OIDCAuthenticationBackend)
            and request.path not in self.exempt_urls
            and not any(pattern.match(request.path) for pattern in self.exempt_url_patterns)
        )

    def process_request(self, request):
        if not self.is_refreshable_url(request):
            return None
        if request.session.get("oidc_id_token_expiration", 0) > time.time():
            return None
        if request.headers.get("HX-Request"):
            response = HttpResponse(status=200)
            response["HX-Refresh"] = "true"
            return response
        # The API, and a page's script that posts and reads JSON (the process editor's
        # saves): neither follows a redirect to the provider, so they are told why.
        posts_json = request.method not in ("GET", "HEAD") and "application/json" in request.headers.get("Accept", "")
        if request.path_info.startswith("/api/") or posts_json:
            detail = _("single sign-on must be checked again: reload the page in the web app")
            response = JsonResponse({"detail": detail, "errors": []}, status=403)
            # Tells a page's script (the process editor) that this 403 is the check, not a refusal:
            # it keeps its unsaved work in the tab and reloads (``web/static/bpmn/editor.js``).
            response[RECHECK_HEADER] = "single-sign-on"
            return response
        # The provider as configured now (the library reads it once, when the middleware
        # is made: a test's or a reload's settings would not reach it).
        self.OIDC_OP_AUTHORIZATION_ENDPOINT = settings.OIDC_OP_AUTHORIZATION_ENDPOINT
        self.OIDC_RP_CLIENT_ID = settings.OIDC_RP_CLIENT_ID
        self.OIDC_RP_SCOPES = settings.OIDC_RP_SCOPES
        response = super().process_request(request)
        if request.method not in ("GET", "HEAD"):
            # A form's post is not run (nor sent again): back from the provider, the user is
            # on the page the form was on (the post's own address may serve POST only).
            request.session["oidc_login_next"] = _page_of_form(request)
        return response


def _page_of_form(request) -> str:
    """The path of the page a form was posted from (its ``Referer``, when it is this site's),
    else the start page."""
    referer = urlsplit(request.headers.get("Referer", ""))
    page = referer.path + (f"?{referer.query}" if referer.query else "")
    same_site = referer.netloc == request.get_host() and referer.scheme in ("http", "https")
    if page and same_site and url_has_allowed_host_and_scheme(page, allowed_hosts={request.get_host()}):
        return page
    return "/"


class DeviceCookieMiddleware:
    """Gives the browser its device cookie after a whole sign-in on the web
    (``accounts.lockout.signed_in`` marks the request; ``accounts.device_cookies``)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "device_cookie_for", None)
        if user is not None and response.status_code < 400:
            device_cookies.set_cookie(response, device_cookies.issue(request, user))
        return response
