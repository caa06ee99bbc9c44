"""Claims of the test provider: read from the users file at each request, so a test can
change a user's groups between two logins."""

import json

from django.conf import settings
from oidc_provider.lib.claims import ScopeClaims


def _people() -> dict:
    with open(settings.IDP_USERS_FILE) as handle:
        return json.load(handle)


def userinfo(claims, user):
    person = _people().get(user.username, {})
    claims["preferred_username"] = user.username
    claims["given_name"] = person.get("given_name", "")
    claims["family_name"] = person.get("family_name", "")
    claims["email"] = person.get("email", "")
    return claims


class GroupsScopeClaims(ScopeClaims):
    info_groups = ("Groups", "The groups you are a member of.")

    def scope_groups(self):
        return {"groups": _people().get(self.user.username, {}).get("groups", [])}
