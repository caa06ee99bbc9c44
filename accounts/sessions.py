"""A signed-in browser's three reads on every page, each by a statement compiled once.

Every page of a password session reads its session row, its user and (with the second
factor given) its TOTP device: three statements through the ORM, about 0.3 ms of Python
each to build and compile (docs/performance-history.md, "CPU per request"). They are the same statements every
time with another key, so they are compiled once per process (``permissions.prepared``)
and still run on every request: a session ended elsewhere (logout, expiry), a password
change, a deactivated user or a removed device takes effect on the next request as before.

``SessionStore`` is Django's database sessions with that read; ``get_user`` is
``django.contrib.auth.get_user`` with that read of the user for the two backends that
read it by id (a password sign-in and single sign-on), everything else as Django does it
(the session's hash checked against the password's, the fallback secrets, the flush);
``device_of`` is django-otp's ``Device.from_persistent_id`` for TOTP devices.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping

from django.conf import settings
from django.contrib.auth import (  # type: ignore[attr-defined]  # _get_user_session_key: not in the stubs
    BACKEND_SESSION_KEY,
    HASH_SESSION_KEY,
    SESSION_KEY,
    _get_user_session_key,
    get_user_model,
    load_backend,
)
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import AnonymousUser
from django.contrib.sessions.backends import db
from django.contrib.sessions.backends.base import VALID_KEY_CHARS
from django.contrib.sessions.models import Session
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django_otp.models import Device
from django_otp.plugins.otp_totp.models import TOTPDevice
from mozilla_django_oidc.auth import OIDCAuthenticationBackend

from accounts.oidc import SingleSignOnBackend
from permissions.prepared import Prepared

_KEY_CHARS = frozenset(VALID_KEY_CHARS)
_LIVE_SESSION = Prepared(
    lambda key, now: Session.objects.filter(session_key=key, expire_date__gt=now), kinds=(str, datetime.datetime)
)
_USER = Prepared(
    lambda user_id: get_user_model()._default_manager.select_related("deactivation").filter(pk=user_id), kinds=(int,)
)
# The user's last deactivation as the session's sign-in saw it (``stamp_sign_in``).
DEACTIVATION_SEEN_KEY = "_brob_deactivation_seen"
_TOTP_DEVICE = Prepared(lambda device_id: TOTPDevice.objects.filter(pk=device_id), kinds=(int,))


class SessionStore(db.SessionStore):
    """``SESSION_ENGINE = "accounts.sessions"``: Django's database sessions, each row with
    its user's id beside the signed data (``accounts.models.UserSession``)."""

    @classmethod
    def get_model_class(cls):
        from accounts.models import UserSession  # models import this module's neighbours

        return UserSession

    def create_model_instance(self, data):
        row = super().create_model_instance(data)
        row.user_id = user_column(data)
        return row

    def _validate_session_key(self, key):
        # Django makes keys of ``VALID_KEY_CHARS`` alone; a cookie may carry anything (a
        # quoted value's ``\000`` is a NUL, which PostgreSQL refuses in text: a 500). Such
        # a key is no session, as an unknown one is, and is never looked up.
        return super()._validate_session_key(key) and set(key) <= _KEY_CHARS

    def _get_session_from_db(self):
        found = _LIVE_SESSION.objects(self.session_key, timezone.now())
        if found:
            return found[0]
        self._session_key = None  # as Django's: an unknown or expired key starts a new session
        return None


class _Refused(Exception):
    """The session's user exists but may not sign in (made inactive)."""


def _user_by_id(backend, user_id):
    """``backend.get_user(user_id)``. The ``get_user`` that read the user by id, the
    password sign-in's and single sign-on's (both then ask ``user_can_authenticate``: an
    inactive user is none; mozilla-django-oidc's own does not ask), read it by the compiled
    statement, and raise ``_Refused`` for an inactive user; any other backend reads it itself."""
    reads = type(backend).get_user
    if reads in (ModelBackend.get_user, SingleSignOnBackend.get_user, OIDCAuthenticationBackend.get_user):
        found = _USER.objects(user_id)
        user = found[0] if found else None
        # Ours refuse an inactive user (single sign-on's as the password sign-in's do).
        if (
            user is not None
            and reads is not OIDCAuthenticationBackend.get_user
            and not backend.user_can_authenticate(user)
        ):
            raise _Refused
        return user
    return backend.get_user(user_id)


def _deactivation_mark(user) -> str:
    """The user's last deactivation (``accounts.Deactivation``) as the session keeps it, "" for none."""
    deactivation = getattr(user, "deactivation", None)  # read with the user by ``_USER``
    return "" if deactivation is None else deactivation.at.isoformat()


def stamp_sign_in(session, user) -> None:
    """At a sign-in: the session remembers the user's last deactivation. A session whose user
    was made inactive since is refused (``get_user``), however the user was made inactive
    (a bulk update or plain SQL sends no signal; the trigger deletes the rows its user
    column names, not those written without it) and even if made active again meanwhile."""
    from accounts.models import Deactivation  # models import this module's neighbours

    at = Deactivation.objects.filter(user_id=user.pk).values_list("at", flat=True).first()
    session[DEACTIVATION_SEEN_KEY] = "" if at is None else at.isoformat()


def user_column(data: dict) -> int | None:
    """What ``UserSession.user_id`` holds for a session's ``data``: its user's id, 0 for
    nobody signed in, None for an id that is no integer (the sweep decodes such a row)."""
    user_id = data.get(SESSION_KEY)
    if user_id is None:
        return 0
    text = str(user_id)
    return int(text) if text.isascii() and text.isdigit() else None


def _sessions_to_end(marks: Mapping[str, str | None], now) -> list[str]:
    """The keys of the live sessions of the users in ``marks`` (user id -> their last
    deactivation, None: every session of theirs) that their mark refuses. Read by the user
    column's index: the users' own rows (a few each), and the rows written without the column
    (before accounts 0012, or by a process not yet restarted), decoded."""
    from django.db.models import Q

    model = SessionStore.get_model_class()
    ids = [int(user_id) for user_id in marks if user_id.isascii() and user_id.isdigit()]
    rows = model.objects.filter(Q(user_id__in=ids) | Q(user_id__isnull=True), expire_date__gt=now)
    store, ended = SessionStore(), []
    for key, data in rows.values_list("session_key", "session_data").iterator(chunk_size=2000):
        decoded = store.decode(data)
        user_id = str(decoded.get(SESSION_KEY, ""))
        if user_id not in marks:
            continue
        mark = marks[user_id]
        if mark is None or decoded.get(DEACTIVATION_SEEN_KEY, "") != mark:
            ended.append(key)
    return ended


def _delete(keys: list[str]) -> None:
    model = SessionStore.get_model_class()
    for start in range(0, len(keys), END_BATCH):
        model.objects.filter(pk__in=keys[start : start + END_BATCH]).delete()


def end_sessions_of(user) -> int:
    """Delete every live session of ``user`` (made inactive: ``accounts.signals``): one
    indexed read of their rows (``_sessions_to_end``), not a decoding of every live session."""
    ended = _sessions_to_end({str(user.pk): None}, timezone.now())
    _delete(ended)
    return len(ended)


# (user id, deactivation) pairs whose sessions this process deleted (``end_deactivated_sessions``).
_SWEPT: set[tuple[str, str]] = set()
END_BATCH = 500


def end_deactivated_sessions() -> int:
    """Delete the live sessions of users made inactive since their sign-in; how many. A
    deactivation ends them at once, however it was made: the trigger of accounts 0008
    deletes the rows its user column names (accounts 0012), and a save's receiver
    (``end_sessions_of``) does too. The workers run this with their session pruning
    (``core.hooks.SESSIONS_TO_END``) for what the trigger cannot see: rows written without
    the column, and sessions of a deactivation recorded before it had one. It reads the
    deactivations of the last ``SESSION_COOKIE_AGE`` (a session older than its deactivation
    by more has expired), and only when one is new to this process reads, by the column's
    index, the sessions of those users and the rows without a user id, and deletes those the
    user's last deactivation refuses. Until 2026-12-06 it decoded every live session instead
    (1.3-1.7 s at 20,000 sessions, per new deactivation, in every worker)."""
    from accounts.models import Deactivation  # models import this module's neighbours

    now = timezone.now()
    since = now - datetime.timedelta(seconds=settings.SESSION_COOKIE_AGE)
    marks = {
        str(user_id): at.isoformat()
        for user_id, at in Deactivation.objects.filter(at__gt=since).values_list("user_id", "at")
    }
    _SWEPT.intersection_update(marks.items())
    if set(marks.items()) <= _SWEPT:
        return 0
    ended = _sessions_to_end(marks, now)
    _delete(ended)
    _SWEPT.update(marks.items())
    return len(ended)


def get_user(request):
    """``django.contrib.auth.get_user`` (Django 5.2), the user read by ``_user_by_id``."""
    user = None
    try:
        user_id = _get_user_session_key(request)
        backend_path = request.session[BACKEND_SESSION_KEY]
    except KeyError:
        pass
    else:
        if backend_path in settings.AUTHENTICATION_BACKENDS:
            backend = load_backend(backend_path)
            try:
                user = _user_by_id(backend, user_id)
            except _Refused:
                # Made inactive: the session ends for good (made active again, the user
                # signs in again), not only read as nobody while the user is inactive.
                request.session.flush()
                return AnonymousUser()
            if user is not None and request.session.get(DEACTIVATION_SEEN_KEY, "") != _deactivation_mark(user):
                # Made inactive since this sign-in (and perhaps active again): ended for good.
                request.session.flush()
                return AnonymousUser()
            # Verify the session
            if hasattr(user, "get_session_auth_hash"):
                session_hash = request.session.get(HASH_SESSION_KEY)
                if not session_hash:
                    session_hash_verified = False
                else:
                    session_auth_hash = user.get_session_auth_hash()
                    session_hash_verified = constant_time_compare(session_hash, session_auth_hash)
                if not session_hash_verified:
                    # If the current secret does not verify the session, try with the
                    # fallback secrets and stop when a matching one is found.
                    if session_hash and any(
                        constant_time_compare(session_hash, fallback_auth_hash)
                        for fallback_auth_hash in user.get_session_auth_fallback_hash()
                    ):
                        request.session.cycle_key()
                        request.session[HASH_SESSION_KEY] = session_auth_hash
                    else:
                        request.session.flush()
                        user = None
    return user or AnonymousUser()


def device_of(persistent_id: str):
    """``Device.from_persistent_id``: a TOTP device by one compiled statement, any other kind
    as django-otp reads it."""
    label, _, device_id = persistent_id.rpartition("/")
    if label == TOTPDevice.model_label() and device_id.isdigit() and device_id.isascii():
        found = _TOTP_DEVICE.objects(int(device_id))
        return found[0] if found else None
    return Device.from_persistent_id(persistent_id)
