"""OpenID Connect single sign-on (mozilla-django-oidc) and the group → agency mapping.

The provider is the source of truth for a single sign-on user's agencies and roles: at
every login the user's memberships are made to match the ``GroupMapping`` rows of the
groups in the claim named by ``OIDC_GROUPS_CLAIM``; memberships no mapped group gives are
removed. Users are found by the provider's issuer and subject (``ExternalIdentity``).
"""

from __future__ import annotations

import logging
import re

import requests
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import SuspiciousOperation
from django.db import transaction
from mozilla_django_oidc.auth import OIDCAuthenticationBackend

from accounts.models import ExternalIdentity, GroupMapping
from permissions.models import Agency, Membership

logger = logging.getLogger(__name__)

BACKEND_PATH = "accounts.oidc.SingleSignOnBackend"
_USERNAME_UNSAFE = re.compile(r"[^\w.@+-]")


def oidc_enabled() -> bool:
    return bool(getattr(settings, "OIDC_RP_CLIENT_ID", ""))


def groups_from(claims: dict) -> list[str]:
    value = claims.get(settings.OIDC_GROUPS_CLAIM, [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        return []
    return sorted({item for item in value if isinstance(item, str)})


@transaction.atomic
def sync_memberships(user, groups: list[str]) -> None:
    """Make the user's memberships exactly those the mapped ``groups`` give."""
    wanted = set(GroupMapping.objects.filter(group__in=groups).values_list("agency_id", "role"))
    current = {(m.agency_id, m.role): m for m in Membership.objects.filter(user=user).select_related("agency")}
    for key, membership in current.items():
        if key not in wanted:
            membership.delete()
    for agency_id, role in wanted - current.keys():
        Membership.objects.create(user=user, agency_id=agency_id, role=role)
    kept_agencies = {agency_id for agency_id, _role in wanted}
    # The agency's group holds the case object permissions (permissions.grants).
    for agency in Agency.objects.filter(group__in=user.groups.all()).exclude(pk__in=kept_agencies):
        user.groups.remove(agency.group)
    for agency in Agency.objects.filter(pk__in=kept_agencies):
        user.groups.add(agency.group)
    user.__dict__.pop("_brobygger_memberships", None)


def _free_username(claims: dict) -> str:
    User = get_user_model()
    base = _USERNAME_UNSAFE.sub("", claims.get("preferred_username") or claims.get("email") or "")[:120]
    base = base or f"sso-{claims['sub'][:40]}"
    # A local account of the same name is never taken over: the new user gets a suffix.
    candidate, n = base, 1
    while User.objects.filter(username__iexact=candidate).exists():
        n += 1
        candidate = f"{base}-sso{n}"
    return candidate


class SingleSignOnBackend(OIDCAuthenticationBackend):
    """mozilla-django-oidc's code flow, plus: the ID token's issuer and audience are
    checked, users are matched by subject, and memberships follow the groups claim."""

    def authenticate(self, request, **kwargs):
        if not oidc_enabled():
            return None
        # Only the callback exchanges a code, after its checks (the session's own ``state``,
        # its nonce and PKCE verifier). Django asks every backend in turn, and the library's
        # runs the code flow for any request with ``code`` and ``state`` in its query: a
        # password form posted to ``/accounts/login/?code=…&state=…`` (or the token endpoint,
        # or the admin's login) signed the provider's user in past all three checks, and gave
        # a single sign-on user, who has no password, an API token.
        match = getattr(request, "resolver_match", None)
        if "password" in kwargs or match is None or match.url_name != "oidc_authentication_callback":
            return None
        try:
            return super().authenticate(request, **kwargs)
        except (SuspiciousOperation, requests.RequestException) as exc:
            # A refused token or an unreachable provider is a failed login (the login page
            # says so), not a 400 or 500 page.
            logger.warning("single sign-on refused: %s", exc)
            return None

    def verify_token(self, token, **kwargs):
        payload = super().verify_token(token, **kwargs)
        audience = payload.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        if self.OIDC_RP_CLIENT_ID not in audiences:
            raise SuspiciousOperation("the ID token is not for this client")
        if payload.get("iss") != settings.OIDC_OP_ISSUER:
            raise SuspiciousOperation("the ID token comes from another issuer")
        if not payload.get("sub"):
            raise SuspiciousOperation("the ID token names no subject")
        self._id_claims = payload
        return payload

    def get_userinfo(self, access_token, id_token, payload):
        userinfo = super().get_userinfo(access_token, id_token, payload)
        # OpenID Connect Core 5.3.2: the userinfo subject must be the ID token's.
        if userinfo.get("sub") != payload.get("sub"):
            raise SuspiciousOperation("the userinfo answer is for another subject")
        # Groups may come in the ID token or the userinfo answer, depending on the provider.
        merged = dict(payload)
        merged.update(userinfo)
        return merged

    def get_user(self, user_id):
        """The session's user, as a password session reads it: none once deactivated.
        mozilla-django-oidc's own reads the user whether active or not, so a user deactivated
        while signed in through the provider kept their session (and the cases it reads)."""
        return ModelBackend.get_user(self, user_id)

    def verify_claims(self, claims):
        return bool(claims.get("sub"))

    def filter_users_by_claims(self, claims):
        return self.UserModel.objects.filter(
            external_identity__issuer=settings.OIDC_OP_ISSUER, external_identity__subject=claims["sub"]
        )

    @transaction.atomic
    def create_user(self, claims):
        user = self.UserModel(username=_free_username(claims))
        user.set_unusable_password()  # signs in only through the provider
        self._copy_profile(user, claims)
        user.save()
        ExternalIdentity.objects.create(user=user, issuer=settings.OIDC_OP_ISSUER, subject=claims["sub"])
        return self.update_user(user, claims)

    @transaction.atomic
    def update_user(self, user, claims):
        self._copy_profile(user, claims)
        user.save(update_fields=["first_name", "last_name", "email"])
        groups = groups_from(claims)
        sync_memberships(user, groups)
        ExternalIdentity.objects.filter(user=user).update(last_login_groups=groups)
        logger.info("single sign-on: %s, groups %s", user.get_username(), groups)
        return user

    @staticmethod
    def _copy_profile(user, claims):
        user.first_name = str(claims.get("given_name") or "")[:150]
        user.last_name = str(claims.get("family_name") or "")[:150]
        user.email = str(claims.get("email") or "")[:254]


# The provider's endpoints Brobygger calls or sends browsers to; the issuer is what the ID
# token must name (OpenID Connect Discovery: an https URL).
OIDC_ENDPOINT_SETTINGS = (
    "OIDC_OP_ISSUER",
    "OIDC_OP_AUTHORIZATION_ENDPOINT",
    "OIDC_OP_TOKEN_ENDPOINT",
    "OIDC_OP_USER_ENDPOINT",
    "OIDC_OP_JWKS_ENDPOINT",
)
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}


def endpoints_check(app_configs=None, **kwargs):
    """``manage.py check`` (and so ``migrate`` and ``manage.py serve``, which run it): every
    ``OIDC_OP_*`` URL is ``https://``. Over plain http the token endpoint's answer (the ID
    token, the access token) and the client secret sent to it, the userinfo with the groups
    that grant roles, and the signing keys from the JWKS endpoint travel readable and
    writable by anyone on the path: whoever changes the keys signs in as anyone. Allowed
    only with ``DEBUG`` on, or with ``OIDC_ALLOW_HTTP=true`` for a test provider on this
    machine's loopback address (``tests/oidc_idp/``)."""
    from urllib.parse import urlsplit

    from django.core import checks

    if settings.DEBUG or not getattr(settings, "OIDC_RP_CLIENT_ID", ""):
        return []
    allow_loopback = getattr(settings, "OIDC_ALLOW_HTTP", False)
    found = []
    for name in OIDC_ENDPOINT_SETTINGS:
        url = getattr(settings, name, "") or ""
        parts = urlsplit(url)
        if parts.scheme == "https" and parts.hostname:
            continue
        if allow_loopback and parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS:
            continue
        found.append(
            checks.Error(
                f"{name} is not an https:// URL",
                hint="Single sign-on needs the provider's endpoints over HTTPS (its .well-known/openid-configuration "
                "names them); OIDC_ALLOW_HTTP=true allows http:// on 127.0.0.1, localhost or ::1 only, for a "
                "test provider (docs/security.md).",
                id="accounts.E001",
            )
        )
    return found
