"""API tokens (django-rest-knox): stored as SHA-512 digests, one per client, each
expiring after ``REST_KNOX["TOKEN_TTL"]``; revoked by the owner, an admin, or a change
of the owner's password (``accounts.signals``).

A token is worth what the sign-in that issued it was worth. One issued with a one-time
code remembers its device (``accounts.models.TokenDevice``) and ends when the device is
deleted; one issued with a password alone is refused once its user must give a second
factor (a role given later, staff, ``REQUIRE_TWO_FACTOR`` switched on), as a session of
theirs is sent to the two-factor page.

``TokenAuthentication`` is knox's with two changes measured under load (README
"Production server"): the token and its user are read by one statement compiled once
(through the ORM every API request spent about 1.2 ms of Python building it, an eighth of
a request's CPU), and a request no longer reads every token of its user to delete the
expired ones (a second query per request): an expired token is refused and deleted when it
is presented, and the user's other expired tokens are deleted when the user signs in.
"""

from __future__ import annotations

import binascii
import time
from dataclasses import dataclass
from hmac import compare_digest

from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_totp.models import TOTPDevice
from knox import auth as knox_auth
from knox.crypto import hash_token
from knox.models import AuthToken
from knox.settings import CONSTANTS, knox_settings
from knox.signals import token_expired
from rest_framework import HTTP_HEADER_ENCODING, exceptions

from accounts import rate_limit, service_accounts
from accounts.models import TokenDevice
from accounts.two_factor import second_factor_required
from permissions import rules
from permissions.prepared import Prepared, folds_rows


def issue(user, device=None) -> tuple[str, object]:
    """A new token for ``user``: (the token text, shown once; its expiry). ``device``: the
    TOTP device whose code was given, remembered with the token. The user's expired
    tokens are deleted first (requests only check the token they carry)."""
    AuthToken.objects.filter(user=user, expiry__lt=timezone.now()).delete()
    instance, token = AuthToken.objects.create(user=user)
    if isinstance(device, TOTPDevice):
        TokenDevice.objects.create(token=instance, device=device)
    return token, instance.expiry


def has_its_second_factor(auth_token) -> bool:
    """The token was issued with a code of a confirmed device of its user that still
    exists, or its user needs no second factor now. A device's deletion deletes the tokens
    issued with its codes in its own transaction (``accounts.signals``): a request whose
    check read them before that commit is ordered before the deletion, one after finds no
    token. Not re-read under a row lock: that wrote a lock to the row on every request
    (0.35 ms of PostgreSQL's CPU each, a third more a bench-http round) to order a request
    racing the deletion's commit, which any order allows."""
    if getattr(auth_token.user, "service_account", None) is not None:
        # An agency's system's key: no one to type a code, while it acts as a member only.
        return service_accounts.acts_as_a_system(auth_token.user)
    try:
        device = auth_token.second_factor.device
    except TokenDevice.DoesNotExist:
        device = None
    if device is not None and device.confirmed and device.user_id == auth_token.user_id:
        return True
    return not second_factor_required(auth_token.user)


def issued_before_deactivation(auth_token) -> bool:
    """The token is older than its user's last deactivation (``accounts.Deactivation``, read
    with the token by the same statement). A deactivation's trigger deletes the user's tokens
    (accounts 0010), but the trigger of 0008, before it, only recorded the deactivation: a
    token a bulk deactivation and reactivation left then worked again. Refused as a session
    (``accounts.sessions``) and a device cookie (``accounts.device_cookies``) from before a
    deactivation are, whatever wrote the deactivation."""
    deactivation = getattr(auth_token.user, "deactivation", None)
    return deactivation is not None and auth_token.created <= deactivation.at


def revoke(token_instance) -> None:
    token_instance.delete()


def revoke_all(user) -> int:
    deleted, _per_model = AuthToken.objects.filter(user=user).delete()
    return deleted


@dataclass(frozen=True)
class RateTaken:
    """A rate limit's take made in the token's statement (``TokenAuthentication``): the
    bucket's key, whether a token was there, and the moment the take reckoned with."""

    key: str
    taken: bool
    now: float


class TokenAuthentication(knox_auth.TokenAuthentication):
    """knox's token authentication: the same tokens, header, expiry and signals.

    On PostgreSQL the statement that reads the token also takes the request's token from
    its user's rate bucket, when the view's throttle says which bucket
    (``bucket_charged_with_token(view)`` on one of its ``throttle_classes``: ``(prefix,
    count, period)``, the key being the prefix and the user's id): one statement and its own
    transaction less on every API request. The take is left on the request as
    ``rate_taken_with_token`` (a ``RateTaken``) for the throttle to decide on; only a token
    shown whole (its digest) is charged."""

    _charge: tuple[str, int, float] | None = None

    def authenticate(self, request):
        self._charge = _bucket_charged_with_token(request)
        self._request = request
        # knox's ``authenticate`` with the header read as DRF's ``get_authorization_header``
        # reads it, but from ``META``: ``request.headers`` builds a mapping of every header
        # (each name parsed) to give this one, some 50 Python calls on every API request,
        # and nothing else in an API request reads it. A malformed header goes to knox's own.
        header = request.META.get("HTTP_AUTHORIZATION", b"")
        if isinstance(header, str):
            header = header.encode(HTTP_HEADER_ENCODING)
        auth = header.split()
        if not auth or auth[0].lower() != self.authenticate_header(request).encode().lower():
            return None  # no header, or one of another scheme
        if len(auth) != 2:
            return super().authenticate(request)  # refused with knox's words
        user, auth_token = self.authenticate_credentials(auth[1])
        return (user, auth_token)

    def authenticate_credentials(self, token):
        try:
            return self._credentials(token)
        except exceptions.AuthenticationFailed:
            self._give_back_the_charge()
            raise

    def _give_back_the_charge(self) -> None:
        """A token refused after its statement charged its user's bucket (expired, its user
        inactive or deactivated since, issued without the second factor its user now needs, a
        service account's key while the account holds another role) gives the token back: a
        refused request is no request of the user's, and whoever still holds such a token (an
        old script, a copy taken before) emptied the bucket the user's valid tokens draw on,
        each 401 answered to them a 429 to the user. Before the take moved into the token's
        statement the throttle counted only signed-in requests."""
        request = getattr(self, "_request", None)
        taken = getattr(request, "rate_taken_with_token", None)
        if request is None or taken is None or self._charge is None:
            return
        request.rate_taken_with_token = None
        if taken.taken:
            _prefix, count, period = self._charge
            rate_limit.give_back(taken.key, count, period)

    def _credentials(self, token):
        msg = _("Invalid token.")
        # A token is printable ASCII (hex digits): anything else is refused here, before it
        # reaches a statement (a NUL there, or bytes that are no UTF-8, was a 500).
        try:
            text = token.decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed(msg) from None
        if not text.isprintable():
            raise exceptions.AuthenticationFailed(msg)
        key = text[: CONSTANTS.TOKEN_KEY_LENGTH]
        if self._charge is not None and folds_rows(connection):
            try:
                digest = hash_token(text)
            except (TypeError, binascii.Error):
                raise exceptions.AuthenticationFailed(msg) from None
            prefix, count, period = self._charge
            now = time.time()
            found = tokens_with_key_charged(key, digest, prefix, count, period, now)
            for auth_token, taken in found:
                if compare_digest(digest, auth_token.digest):
                    self._request.rate_taken_with_token = RateTaken(f"{prefix}{auth_token.user_id}", bool(taken), now)
        else:
            found = [(auth_token, None) for auth_token in tokens_with_key(key)]
        for auth_token, _taken in found:
            if self._cleanup_token(auth_token):
                continue
            try:
                digest = hash_token(text)
            except (TypeError, binascii.Error):
                raise exceptions.AuthenticationFailed(msg) from None
            if compare_digest(digest, auth_token.digest):
                if knox_settings.AUTO_REFRESH and auth_token.expiry:
                    self.renew_token(auth_token)
                user, auth_token = self.validate_user(auth_token)
                if issued_before_deactivation(auth_token):
                    auth_token.delete()
                    raise exceptions.AuthenticationFailed(msg)
                if not has_its_second_factor(auth_token):
                    raise exceptions.AuthenticationFailed(
                        _("this token was issued without a second factor: ask for a new one with a one-time code")
                    )
                return user, auth_token
        raise exceptions.AuthenticationFailed(msg)

    def validate_user(self, auth_token):
        """knox's: an inactive user's token is refused. And deleted: made active again,
        the user asks for a new one (a token stolen before is not given back)."""
        if not auth_token.user.is_active:
            auth_token.delete()
        return super().validate_user(auth_token)

    def _cleanup_token(self, auth_token) -> bool:
        """True (and the token deleted) when the presented token has expired."""
        if auth_token.expiry is not None and auth_token.expiry < timezone.now():
            username = auth_token.user.get_username()
            auth_token.delete()
            token_expired.send(sender=self.__class__, username=username, source="auth_token")
            return True
        return False


# Read with the token: its user, the user's last deactivation, whether the user is an agency's
# system (a service account), and the device the token was issued with.
_WITH_TOKEN = ("user__deactivation", "user__service_account", "second_factor__device")
# One statement, compiled once per process (``permissions.prepared``): knox's own lookup
# reads all the user's tokens and then the user, on every request.
_TOKENS_WITH_KEY = Prepared(
    lambda token_key: AuthToken.objects.select_related(*_WITH_TOKEN).filter(token_key=token_key),
    kinds=(str,),
)
# On PostgreSQL the same statement reads the user's memberships, which every API request
# asks for next (the agencies whose inbox, cases and tasks it may see).
_TOKENS_WITH_KEY_AND_MEMBERSHIPS = Prepared(
    lambda token_key: (
        AuthToken.objects.select_related(*_WITH_TOKEN)
        .filter(token_key=token_key)
        .annotate(user_memberships=rules.membership_rows_in_json("user_id"))
    ),
    kinds=(str,),
)


def _bucket_charged_with_token(request) -> tuple[str, int, float] | None:
    """The rate bucket the view's throttle takes from for this request (``TokenAuthentication``)."""
    view = (getattr(request, "parser_context", None) or {}).get("view")
    for throttle_class in getattr(view, "throttle_classes", ()):
        bucket = getattr(throttle_class, "bucket_charged_with_token", None)
        if bucket is not None:
            return bucket(view)
    return None


def tokens_with_key_charged(
    token_key: str, digest: str, prefix: str, count: int, period: float, now: float
) -> list[tuple[AuthToken, bool]]:
    """``tokens_with_key`` (PostgreSQL's) in one statement with the rate limit's take from the
    bucket ``prefix`` + the user's id of the token with ``token_key`` and ``digest``
    (``rate_limit.take_with_token``): each token with whether a token was there to take
    (only the one with that digest was charged)."""
    before, before_params = rate_limit.take_with_token(
        prefix, count, period, token_key=token_key, digest=digest, now=now
    )
    found = _TOKENS_WITH_KEY_AND_MEMBERSHIPS.objects_after(
        (token_key,), before, before_params, rate_limit.TAKEN_WITH_TOKEN
    )
    for token, _taken in found:
        rules.remember_membership_rows(token.user, token.user_memberships)
    return found


def tokens_with_key(token_key: str) -> list[AuthToken]:
    """The tokens whose lookup prefix is ``token_key``, each with its ``user`` and the
    device it was issued with, and on PostgreSQL the user's memberships: one statement."""
    if not folds_rows(connection):
        return _TOKENS_WITH_KEY.objects(token_key)
    tokens = _TOKENS_WITH_KEY_AND_MEMBERSHIPS.objects(token_key)
    for token in tokens:
        rules.remember_membership_rows(token.user, token.user_memberships)
    return tokens
