"""Sign-in pages: the login page (password, and single sign-on when configured), the
two-factor enrolment and verification pages, and the single sign-on entry points."""

from __future__ import annotations

import hashlib
from base64 import b32encode
from urllib.parse import urlencode

import django_otp
import segno
from django.conf import settings
from django.contrib import admin, auth, messages
from django.contrib.admin.forms import AdminPasswordChangeForm
from django.contrib.auth import get_user_model
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render, resolve_url
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django_otp import devices_for_user
from django_otp.plugins.otp_totp.models import TOTPDevice, default_key
from mozilla_django_oidc import views as oidc_views

from accounts import enrolment, lockout
from accounts.oidc import BACKEND_PATH, oidc_enabled
from accounts.two_factor import PASSWORD_BACKENDS, has_confirmed_device
from core.clear_site_data import clears_site_data
from core.http_methods import allow

DEVICE_NAME = "authenticator"
SETUP_KEY_SESSION = "two_factor_setup_key"


class LoginView(auth_views.LoginView):
    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["oidc_enabled"] = oidc_enabled()
        context["sso_failed"] = self.request.GET.get("sso") == "failed"
        return context


class SingleSignOnStart(oidc_views.OIDCAuthenticationRequestView):
    def get(self, request):
        if not oidc_enabled():
            raise Http404
        return super().get(request)


def _single_sign_on_session(request) -> bool:
    return request.user.is_authenticated and request.session.get(auth.BACKEND_SESSION_KEY) == BACKEND_PATH


class SingleSignOnCallback(oidc_views.OIDCAuthenticationCallbackView):
    def get(self, request):
        if not oidc_enabled():
            raise Http404
        # Only the provider's answer to a request this session sent (its ``state``) may end
        # the session. mozilla-django-oidc ends any signed-in session on ``?error=``, and a
        # failed callback ended a single sign-on session whatever it carried, so a link on
        # any site (``/accounts/sso/callback/?error=x``, or no query at all) signed users out.
        self.answers_this_session = request.GET.get("state") in request.session.get("oidc_states", {})
        # (A password session is not the provider's to end either.)
        provider_may_end = self.answers_this_session and _single_sign_on_session(request)
        if request.GET.get("error") and request.user.is_authenticated and not provider_may_end:
            return self.login_failure()
        return super().get(request)

    @property
    def success_url(self):
        """Where the user goes once signed in or checked: the page the sign-in or the check
        began on, when it is a path of this site. mozilla-django-oidc sends the user to what
        the session holds unchecked, and its check of a session due one (``SessionRefresh``,
        ``accounts.middleware.SingleSignOnRecheck``) holds the request's path as it came:
        a link to ``https://<site>//evil.example/`` went through the provider, which asks
        nothing (``prompt=none``), to another site."""
        target = self.request.session.get("oidc_login_next") or ""
        host = self.request.get_host()
        if target and url_has_allowed_host_and_scheme(
            target, allowed_hosts={host}, require_https=self.request.is_secure()
        ):
            return target
        return resolve_url(settings.LOGIN_REDIRECT_URL)

    def login_failure(self):
        # A check of a signed-in session that fails (``accounts.middleware.SingleSignOnRecheck``)
        # ends it: mozilla-django-oidc ends it only when the provider answers an error, not
        # when its answer is refused here (another subject, a closed account's token).
        # A password session is left alone, and so is any session when the callback was not
        # the answer to its own request.
        if getattr(self, "answers_this_session", False) and _single_sign_on_session(self.request):
            auth.logout(self.request)
        return super().login_failure()


def _next_url(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or "/"
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return "/"


def _page(name: str, request) -> str:
    return f"{reverse(name)}?{urlencode({'next': _next_url(request)})}"


def _verified(request, device) -> HttpResponseRedirect:
    # A new session id once the second factor is given: an id seen before it is worthless.
    request.session.cycle_key()
    django_otp.login(request, device)
    # The sign-in is whole now (a password session: only those are asked for a code).
    lockout.signed_in(request, request.user, password=True)
    return HttpResponseRedirect(_next_url(request))


def _locked_out(request):
    """The username is locked (wrong passwords or codes, here or elsewhere): the
    half-signed-in session ends, and the answer is the lockout's."""
    auth.logout(request)
    return lockout.lockout_response(request)


def _refused(request):
    """A code or current password posted while the username is locked: tested by nothing, but
    kept with the other tries the lock refused (``lockout.record_refused``)."""
    if request.method == "POST":
        lockout.record_refused(request, request.user.get_username())
    return _locked_out(request)


def _fingerprint(device) -> str:
    """Which key the session was shown (a digest: the session row holds no usable key)."""
    return hashlib.sha256(f"{device.pk}:{device.key}".encode()).hexdigest()


def _grouped(secret: str) -> str:
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def _enrolment_device(user) -> TOTPDevice:
    """The user's one unconfirmed device, made when there is none. Called with the user's row
    locked: two first visits at once (two tabs, a double click) each found none and each made
    one, and every visit after that failed (``get_or_create`` found two) until an admin deleted
    one. Extra devices left by that are deleted here: none was ever confirmed or used."""
    devices = list(TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk"))
    if not devices:
        return TOTPDevice.objects.create(user=user, confirmed=False, name=DEVICE_NAME)
    TOTPDevice.objects.filter(pk__in=[extra.pk for extra in devices[1:]]).delete()
    return devices[0]


@never_cache
@login_required
@allow("GET", "POST")
def setup(request):
    """Enrolment: a new secret shown as a QR code and as text; confirmed by a first code.
    The whole visit holds the user's row (``select_for_update``): one device is made, and a
    key is never replaced by another session while this one confirms it."""
    with transaction.atomic():
        get_user_model().objects.select_for_update().filter(pk=request.user.pk).first()
        if has_confirmed_device(request.user):
            return HttpResponseRedirect(_page("two-factor-verify", request))
        # Only a session that opened an administrator's link for this user enrols: the
        # password alone let whoever had it first enrol their own device and hold the account.
        link = enrolment.opened_link(request)
        if link is None:
            return render(request, "accounts/two_factor_needs_link.html", status=403)
        device = _enrolment_device(request.user)
        if request.session.get(SETUP_KEY_SESSION) != _fingerprint(device):
            # A key shown to another session (anyone who had the password) is never the one
            # this session enrols: a new key, remembered as this session's.
            device.key = default_key()
            device.save(update_fields=["key"])
            request.session[SETUP_KEY_SESSION] = _fingerprint(device)
        confirmed = False
        if request.method == "POST" and device.verify_token(request.POST.get("otp", "").strip()):
            device.confirmed = confirmed = True
            device.save(update_fields=["confirmed"])
            enrolment.use_up(request, link)
    if confirmed:
        request.session.pop(SETUP_KEY_SESSION, None)
        messages.success(request, _("Two-factor sign-in is set up."))
        return _verified(request, device)
    error = None
    if request.method == "POST":
        error = _("The code is wrong or has expired. Try the newest code from the app.")
    secret = b32encode(device.bin_key).decode()
    context = {
        "qr_svg": segno.make(device.config_url, error="m").svg_inline(
            scale=4, title=_("QR code for the authenticator app")
        ),
        "secret": _grouped(secret),
        "error": error,
        "next": _next_url(request),
    }
    return render(request, "accounts/two_factor_setup.html", context, status=400 if error else 200)


@never_cache
@login_required
@allow("GET")
def enrol(request, token):
    """An administrator's enrolment link (``accounts.enrolment``), opened signed in as its
    user (the login page comes first and returns here): this session may set up a device."""
    if has_confirmed_device(request.user):
        return HttpResponseRedirect(_page("two-factor-verify", request))
    if not enrolment.open_link(request, token):
        return render(request, "accounts/two_factor_needs_link.html", {"link_refused": True}, status=404)
    return HttpResponseRedirect(_page("two-factor-setup", request))


@never_cache
@login_required
@allow("GET", "POST")
def verify(request):
    if not has_confirmed_device(request.user):
        return HttpResponseRedirect(_page("two-factor-setup", request))
    if lockout.is_locked(request, request.user):
        return _refused(request)
    error = None
    if request.method == "POST":
        token = request.POST.get("otp", "").strip()
        # Under a row lock (``for_verify``), as the token endpoint's ``match_token``: two
        # requests with one code at once both read the device's last code before either
        # saved it, and both signed in (a replay).
        with transaction.atomic():
            accepted = next(
                (d for d in devices_for_user(request.user, confirmed=True, for_verify=True) if d.verify_token(token)),
                None,
            )
        if accepted is not None:
            return _verified(request, accepted)
        # Counted by django-axes like a wrong password (and a token endpoint's wrong code).
        if lockout.count_failure(request, request.user):
            return _locked_out(request)
        error = _("The code is wrong or has expired. Try the newest code from the app.")
    return render(
        request,
        "accounts/two_factor_verify.html",
        {"error": error, "next": _next_url(request)},
        status=400 if error else 200,
    )


class PasswordChangeView(auth_views.PasswordChangeView):
    """Django's, with a wrong current password counted by django-axes like a wrong password
    at the login: whoever holds a stolen session could guess the password here without a
    limit. Once the username is locked the page checks nothing and ends the session."""

    def post(self, request, *args, **kwargs):
        if lockout.is_locked(request, request.user):
            return _refused(request)
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form):
        if form.has_error("old_password", "password_incorrect") and lockout.count_failure(
            self.request, self.request.user
        ):
            return _locked_out(self.request)
        return super().form_invalid(form)

    def form_valid(self, form):
        response = super().form_valid(form)
        # The change ended every device cookie of the user (``accounts.signals``); the browser
        # that made it, signed in and knowing the old password, is known again.
        if self.request.session.get(auth.BACKEND_SESSION_KEY) in PASSWORD_BACKENDS:
            self.request.device_cookie_for = self.request.user
        return response


@allow("GET", "HEAD", "POST")
def admin_password_change(request):
    """The admin's own page (``AdminSite.password_change``, which asks for the current
    password too), through the same count."""
    request.current_app = admin.site.name
    return PasswordChangeView.as_view(
        form_class=AdminPasswordChangeForm,
        success_url=reverse("admin:password_change_done"),
        extra_context=admin.site.each_context(request),
    )(request)


class LogoutView(auth_views.LogoutView):
    """Django's, its answer with ``Clear-Site-Data`` (``core.clear_site_data``)."""

    def post(self, request, *args, **kwargs):
        return clears_site_data(super().post(request, *args, **kwargs))


login = method_decorator(never_cache, name="dispatch")(LoginView).as_view()
logout = LogoutView.as_view()
password_change = PasswordChangeView.as_view()
