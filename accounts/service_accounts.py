"""Service accounts: an agency's system (an external-task worker, a partner's integration)
signs in with API keys, never with a password.

A system that took its 8-hour token with a password had to sign in again every 8 hours, and
anyone who sent wrong passwords for its username (``LOGIN_USERNAME_FAILURE_LIMIT`` an hour from
a few addresses, or five from the system's own outgoing address) locked it out, and the
partner's system stopped. A service account has no usable password, so nothing signs it in
but a key: knox tokens issued by an administrator at the server (``manage.py service_key``),
lasting ``API_SERVICE_KEY_DAYS``. A key is 256 random bits: guessing one is hopeless and
nobody's failures lock it. It needs no one-time code (no person could type one; the key is the
whole credential), and it ends like any token: deleted in the admin (*Knox > Auth tokens*), by
"sign out everywhere", or with the account made inactive."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from knox.models import AuthToken

from accounts import device_cookies, sessions
from accounts.models import ExternalIdentity, ServiceAccount
from permissions import rules
from permissions.models import Role


class NotAServiceAccount(Exception):
    """The user may not be made a service account (the reason in the message)."""


def acts_as_a_system(user) -> bool:
    """The account can do no more than a member of its agencies: only then does its key stand
    in for the one-time code. A role beyond (lead, coordinator, process admin, auditor,
    leader) or staff given to a service account later would otherwise be held on its key
    alone, without the second factor every such person gives (docs/security.md)."""
    return not (user.is_staff or user.is_superuser) and rules.holds_only(user, Role.MEMBER)


def make_service_account(user, *, by: str = "") -> ServiceAccount:
    """Mark ``user`` a service account: its password is made unusable (which ends its API
    tokens and device cookies, as any password change does) and its sessions end."""
    if user.is_staff or user.is_superuser:
        raise NotAServiceAccount("a staff or superuser account is a person's, not a system's")
    if not acts_as_a_system(user):
        raise NotAServiceAccount("a service account holds the member role only: give it no other role")
    if ExternalIdentity.objects.filter(user_id=user.pk).exists():
        raise NotAServiceAccount("a single sign-on user is a person's account at the identity provider")
    if not user.is_active:
        raise NotAServiceAccount("the user is inactive")
    with transaction.atomic():
        account, created = ServiceAccount.objects.get_or_create(user=user, defaults={"created_by": by})
        if created or user.has_usable_password():
            user.set_unusable_password()
            user.save(update_fields=["password"])
            device_cookies.revoke_all(user)
            sessions.end_sessions_of(user)
    return account


def issue_key(user, *, by: str = "") -> tuple[str, object]:
    """A new API key for ``user``, made a service account first: (the key, shown once; its
    expiry). The account's other keys go on until they expire or are deleted (a rotation
    overlaps: the partner switches, then the old key is deleted in the admin)."""
    make_service_account(user, by=by)
    instance, key = AuthToken.objects.create(user=user, expiry=timedelta(days=settings.API_SERVICE_KEY_DAYS))
    return key, instance.expiry


def is_service_account(user) -> bool:
    """Read with the token by its statement (``accounts.tokens``), else one query."""
    return getattr(user, "service_account", None) is not None
