"""Password sign-in for the API's token endpoint: the same lockout (django-axes) and
the same second-factor rule as the web login."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import authenticate, user_logged_in, user_logged_out, user_login_failed
from django_otp import match_token

from accounts import device_cookies, tokens
from accounts.two_factor import has_confirmed_device, second_factor_required


@dataclass
class SignInRefused(Exception):
    """The field at fault and the code of the refusal (``core.messages``: ``sign_in.*``)."""

    field: str
    code: str


def password_sign_in(request, username: str, password: str, otp: str = ""):
    """(The user, the device whose code was given or None when none was asked for), or
    ``SignInRefused`` naming the field. ``request`` is the HttpRequest (not DRF's
    wrapper): django-axes marks a locked-out request on it, and its middleware then
    answers 429 whatever the view returns."""
    user = authenticate(request, username=username, password=password)
    if user is None:
        raise SignInRefused("body", code="sign_in.refused")
    if second_factor_required(user):
        return user, _check_one_time_code(request, user, username, otp)
    return user, None


def _check_one_time_code(request, user, username: str, otp: str):
    if not has_confirmed_device(user):
        raise SignInRefused("otp", code="sign_in.otp_not_set_up")
    if not otp:
        raise SignInRefused("otp", code="sign_in.otp_required")
    device = match_token(user, otp)
    if device is None:
        # Counted by django-axes like a wrong password.
        user_login_failed.send(sender=__name__, credentials={"username": username}, request=request)
        raise SignInRefused("otp", code="sign_in.otp_wrong")
    return device


def issue_token(request, user, device=None) -> tuple[str, object]:
    """A new token; ``device``, the device whose code was given, is remembered with it
    (``accounts.tokens``: the token ends with the device)."""
    token, expiry = tokens.issue(user, device)
    # ``second_factor``: the sign-in is whole, its count of failures is cleared (accounts.lockout).
    user_logged_in.send(sender=user.__class__, request=request, user=user, second_factor=device)
    return token, expiry


def revoke_token(request, user, token_instance) -> None:
    tokens.revoke(token_instance)
    user_logged_out.send(sender=user.__class__, request=request, user=user)


def revoke_all_tokens(request, user) -> int:
    """Sign out everywhere: every token of the user, and every browser's device cookie."""
    count = tokens.revoke_all(user)
    device_cookies.revoke_all(user)
    user_logged_out.send(sender=user.__class__, request=request, user=user)
    return count
