"""Prepare the provider's database: tables, a signing key, the Brobygger client, the users.

Run as ``python -m tests.oidc_idp.setup CLIENT_ID CLIENT_SECRET REDIRECT_URI...`` with the
provider's settings in the environment (``provider.OidcProvider`` does it)."""

import json
import sys

import django


def main(client_id: str, client_secret: str, redirect_uris: list[str]) -> None:
    django.setup()
    from django.conf import settings
    from django.contrib.auth.models import User
    from django.core.management import call_command
    from oidc_provider.models import Client, ResponseType

    call_command("migrate", verbosity=0, interactive=False)
    call_command("creatersakey")
    client = Client.objects.create(
        name="Brobygger",
        client_type="confidential",
        client_id=client_id,
        client_secret=client_secret,
        jwt_alg="RS256",
        require_consent=False,
        reuse_consent=True,
    )
    client.redirect_uris = redirect_uris
    client.scope = ["openid", "profile", "email", "groups"]
    client.save()
    client.response_types.add(ResponseType.objects.get(value="code"))
    with open(settings.IDP_USERS_FILE) as handle:
        for username, person in json.load(handle).items():
            User.objects.create_user(username, password=person["password"])


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3:])
