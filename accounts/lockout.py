"""The answer to a locked-out sign-in (django-axes ``AXES_LOCKOUT_CALLABLE``): the API's
error shape for the token endpoint, a bokmål page for the web login. Neither says
whether the username exists.

And when a username's count of failures is cleared: after a whole sign-in only. A user
who owes a second factor has not signed in when the password is right (axes'
``AXES_RESET_ON_SUCCESS`` cleared it then, so whoever held the password could try codes
for ever by signing in again between tries); their count is cleared when the code is
given (``accounts.views``, ``accounts.sign_in``)."""

from __future__ import annotations

from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_credentials
from django.conf import settings
from django.contrib.auth import user_logged_in, user_login_failed
from django.dispatch import receiver
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


def is_locked(request, user) -> bool:
    return AxesProxyHandler.is_locked(request, get_credentials(user.get_username()))


def count_failure(request, user) -> bool:
    """Count a wrong one-time code of ``user`` as a failed sign-in; True when the username
    is now locked (axes' middleware then answers with the lockout)."""
    user_login_failed.send(sender=__name__, credentials=get_credentials(user.get_username()), request=request)
    return bool(getattr(request, "axes_locked_out", False))


def clear_failures(request, user) -> None:
    AxesProxyHandler.reset_attempts(username=user.get_username())


@receiver(user_logged_in, dispatch_uid="accounts.clear_failures_after_sign_in")
def clear_failures_after_sign_in(sender, request, user, second_factor=None, **kwargs):
    """A login clears the count unless it was a password that still owes its code."""
    from accounts.two_factor import PASSWORD_BACKENDS, second_factor_required

    owes_code = getattr(user, "backend", None) in PASSWORD_BACKENDS and second_factor_required(user)
    if second_factor is not None or not owes_code:
        clear_failures(request, user)
