"""When a second factor (TOTP, django-otp) is asked for; the rule itself is
``permissions.rules.needs_second_factor``. Only password sign-ins are asked: a single
sign-on user's identity provider is where their second factor is checked."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, SESSION_KEY
from django_otp import user_has_device

from permissions import rules

PASSWORD_BACKENDS = frozenset({"django.contrib.auth.backends.ModelBackend"})


def second_factor_required(user) -> bool:
    return bool(settings.REQUIRE_TWO_FACTOR and user.is_authenticated and rules.needs_second_factor(user))


def session_needs_second_factor(request) -> bool:
    """A password session of a user who must give a second factor and has not yet."""
    if SESSION_KEY not in request.session:
        # No one signed in with this session (an API token's request has none): its user is
        # anonymous, so it is not read here (django-otp's device check of it included).
        return False
    user = request.user
    if not user.is_authenticated or user.is_verified():
        return False
    if request.session.get(BACKEND_SESSION_KEY) not in PASSWORD_BACKENDS:
        return False
    return second_factor_required(user)


def has_confirmed_device(user) -> bool:
    return user_has_device(user, confirmed=True)
