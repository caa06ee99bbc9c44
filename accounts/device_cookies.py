"""Device cookies (OWASP, "Slow Down Online Guessing Attacks with Device Cookies"): a
browser that signed in as a user is known, and that user's failed sign-ins from it count
against it alone, not against the username's locks (``accounts.lockout``).

Without them, anyone with a few addresses who sent more than ``LOGIN_USERNAME_FAILURE_LIMIT``
wrong passwords an hour kept a password user locked out for good. With them, the user's own
browser signs in while the username is locked for every other client.

The cookie is given after a whole sign-in (the password, and the one-time code when one is
owed) on the web: ``<user id>:<nonce>``, signed with ``SECRET_KEY`` (Django's signed cookies,
a salt of its own, ``LOGIN_DEVICE_DAYS``), ``HttpOnly``, ``SameSite=Lax``, ``Secure`` as the
session cookie. The nonce's digest is a ``KnownDevice`` row of that user, which a password
change, a deactivation and "sign out everywhere" delete. The cookie is no credential: it
signs nobody in, it only chooses which count a failure goes to, and only for the username
its row belongs to. Failures from one known browser are ``LOGIN_DEVICE_FAILURE_LIMIT`` per
``LOGIN_COOLOFF_MINUTES`` (a bucket in ``accounts.rate_limit``); once spent, that browser is
locked for the user until one comes back.

Only the web's sign-in pages give and read them (``SIGN_IN_PAGES``). The API's token endpoint
does not: API clients need keep no cookies and stay on the username's two locks.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.db.models import F, Q
from django.utils import timezone

from accounts import rate_limit
from accounts.models import KnownDevice

COOKIE = "brobygger_device"
SALT = "accounts.device_cookies"
_CACHE = "_known_devices"


def _digest(nonce: str) -> str:
    return hashlib.sha256(nonce.encode()).hexdigest()


def _max_age() -> int:
    return settings.LOGIN_DEVICE_DAYS * 24 * 3600


# The web's sign-in pages: the login, the admin's, the two-factor page (a user whose username
# others lock must give her code too). Not the password-change pages, where whoever holds a
# session guesses its password: their failures lock the username as they always did. Not the
# API's token endpoint.
SIGN_IN_PAGES = ("login", "admin:login", "two-factor-verify", "two-factor-setup")


def applies(request) -> bool:
    match = getattr(request, "resolver_match", None)
    return match is not None and match.view_name in SIGN_IN_PAGES


def _read(request) -> tuple[int, str] | None:
    try:
        value = request.get_signed_cookie(COOKIE, salt=SALT, max_age=_max_age())
    except (KeyError, signing.BadSignature):
        return None
    user_id, _, nonce = value.partition(":")
    if not user_id.isdigit() or not user_id.isascii() or not nonce:
        return None
    return int(user_id), nonce


def known_device(request, username: str | None) -> KnownDevice | None:
    """The ``KnownDevice`` of this request's device cookie when it is ``username``'s, live, and
    its user active; else None (no cookie, a forged or expired one, another user's, revoked)."""
    if not username or not applies(request):
        return None
    cache = request.__dict__.setdefault(_CACHE, {})
    if username in cache:
        return cache[username]
    found = None
    read = _read(request)
    if read is not None:
        user_id, nonce = read
        found = (
            KnownDevice.objects.filter(
                # Made after the user's last deactivation: a bulk update or plain SQL runs no
                # receiver to delete the rows (only the trigger's ``Deactivation`` records it),
                # and made active again the user's old browsers were known again.
                Q(user__deactivation__isnull=True) | Q(user__deactivation__at__lt=F("created_at")),
                digest=_digest(nonce),
                user_id=user_id,
                expires_at__gt=timezone.now(),
                user__is_active=True,
                **{f"user__{_username_field()}": username},
            )
            .only("pk", "user_id")
            .first()
        )
    cache[username] = found
    return found


def _username_field() -> str:
    return get_user_model().USERNAME_FIELD


def _bucket(device: KnownDevice) -> tuple[str, int, int]:
    return f"login-device:{device.pk}", settings.LOGIN_DEVICE_FAILURE_LIMIT, settings.LOGIN_COOLOFF_MINUTES * 60


def is_locked(device: KnownDevice) -> bool:
    return rate_limit.empty(*_bucket(device))


def seconds_locked(device: KnownDevice) -> float:
    """The seconds until ``device`` has a try again (0: it has one now)."""
    return rate_limit.wait(*_bucket(device))


def count_failure(device: KnownDevice) -> bool:
    """Count a failed sign-in from ``device``; True when the device is locked now."""
    key, count, period = _bucket(device)
    rate_limit.take(key, count, period)
    return rate_limit.empty(key, count, period)


def issue(request, user) -> str:
    """After a whole sign-in: the cookie's value for ``user`` (unsigned: ``set_cookie`` signs).
    The browser's current cookie, when it is the user's, is renewed (a new nonce and expiry,
    its count cleared); else a new row, the user's expired rows deleted and at most
    ``LOGIN_DEVICES_PER_USER`` kept."""
    nonce = secrets.token_urlsafe(32)
    expires_at = timezone.now() + timedelta(days=settings.LOGIN_DEVICE_DAYS)
    device = known_device(request, user.get_username())
    if device is not None:
        KnownDevice.objects.filter(pk=device.pk).update(digest=_digest(nonce), expires_at=expires_at)
        rate_limit.forget(_bucket(device)[0])
    else:
        KnownDevice.objects.filter(user=user, expires_at__lte=timezone.now()).delete()
        KnownDevice.objects.create(user=user, digest=_digest(nonce), expires_at=expires_at)
        kept = KnownDevice.objects.filter(user=user).order_by("-expires_at").values_list("pk", flat=True)
        excess = list(kept[settings.LOGIN_DEVICES_PER_USER :])
        if excess:
            KnownDevice.objects.filter(pk__in=excess).delete()
    request.__dict__.pop(_CACHE, None)
    return f"{user.pk}:{nonce}"


def set_cookie(response, value: str) -> None:
    response.set_signed_cookie(
        COOKIE,
        value,
        salt=SALT,
        max_age=_max_age(),
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )


def revoke_all(user) -> int:
    """End every device cookie of ``user`` (a password change, deactivation, sign out everywhere)."""
    deleted, _ = KnownDevice.objects.filter(user=user).delete()
    return deleted
