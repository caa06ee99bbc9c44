"""The identity provider's code is exchanged only at the single sign-on callback, with the
checks the callback makes: the ``state`` this session sent, its nonce, its PKCE verifier.

Django asks every authentication backend in turn, and mozilla-django-oidc's backend runs the
code flow for any request whose query has ``code`` and ``state``. So a password form posted
to ``/accounts/login/?code=…&state=…`` (or ``/api/v1/auth/token/?code=…&state=…``, or the
admin's login) with any username and password exchanged the code at the provider, without
the state check, the nonce (a token without one passed) or the verifier, and signed in the
provider's user: a single sign-on session made by the password form, or an API token for a
single sign-on user, who has no password (docs/security.md). Now the backend answers only on
its callback."""

import pytest
from django.contrib.auth import BACKEND_SESSION_KEY

from accounts.models import ExternalIdentity
from accounts.oidc import SingleSignOnBackend

from .conftest import token_login

pytestmark = pytest.mark.django_db

ISSUER = "https://idp.example"
CLAIMS = {"sub": "subject-1", "iss": ISSUER, "aud": "brobygger", "preferred_username": "idp-user"}


@pytest.fixture
def provider(settings, monkeypatch):
    """A provider that hands out tokens for any code (no PKCE asked, no nonce in the token)."""
    settings.OIDC_RP_CLIENT_ID = "brobygger"
    settings.OIDC_RP_CLIENT_SECRET = "s" * 40
    settings.OIDC_OP_ISSUER = ISSUER
    settings.OIDC_OP_AUTHORIZATION_ENDPOINT = f"{ISSUER}/authorize"
    settings.OIDC_OP_TOKEN_ENDPOINT = f"{ISSUER}/token"
    settings.OIDC_OP_USER_ENDPOINT = f"{ISSUER}/userinfo"
    settings.OIDC_OP_JWKS_ENDPOINT = f"{ISSUER}/jwks"
    exchanged = []

    def get_token(self, payload):
        exchanged.append(payload["code"])
        return {"id_token": "id-token", "access_token": "access-token"}

    monkeypatch.setattr(SingleSignOnBackend, "get_token", get_token)
    monkeypatch.setattr(SingleSignOnBackend, "verify_token", lambda self, token, **kwargs: dict(CLAIMS))
    monkeypatch.setattr(SingleSignOnBackend, "get_userinfo", lambda self, access, id_token, payload: dict(CLAIMS))
    return exchanged


def test_the_login_form_exchanges_no_code(client, provider):
    answer = client.post("/accounts/login/?code=stolen&state=any", {"username": "x", "password": "y"})
    assert provider == []
    assert answer.status_code == 200  # the form again, with its error
    assert BACKEND_SESSION_KEY not in client.session
    assert not ExternalIdentity.objects.exists()


def test_the_token_endpoint_exchanges_no_code(api, provider):
    api.post("/api/v1/auth/token/?code=stolen&state=any", {"username": "x", "password": "y"}, format="json")
    answer = token_login(api, "x", "y")
    assert provider == []
    assert answer.status_code == 400
    assert not ExternalIdentity.objects.exists()


def test_the_admin_login_exchanges_no_code(client, provider):
    client.post("/admin/login/?code=stolen&state=any", {"username": "x", "password": "y"})
    assert provider == []
    assert BACKEND_SESSION_KEY not in client.session


def test_the_callback_still_signs_in(client, provider, monkeypatch):
    """The callback, answering this session's own request: the provider's user signs in."""
    session = client.session
    session["oidc_states"] = {"st": {"nonce": "n", "code_verifier": "v", "added_on": 9e12}}
    session.save()
    answer = client.get("/accounts/sso/callback/?code=good&state=st")
    assert provider == ["good"]
    assert answer.status_code == 302
    assert client.session[BACKEND_SESSION_KEY] == "accounts.oidc.SingleSignOnBackend"
    assert ExternalIdentity.objects.filter(subject="subject-1").exists()
