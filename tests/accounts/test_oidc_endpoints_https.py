"""The provider's endpoints must be https:// (``accounts.oidc.endpoints_check``, check
accounts.E001): over plain http the tokens, the client secret, the groups that grant roles
and the keys that sign the ID token travel readable and writable on the path. Until
2026-12-06 ``OIDC_OP_*=http://...`` was taken as it was."""

import os
import secrets
import subprocess
import sys

import pytest
from django.core.checks import run_checks

from tests.conftest import REPO

OIDC_ENDPOINT_SETTINGS = (
    "OIDC_OP_ISSUER",
    "OIDC_OP_AUTHORIZATION_ENDPOINT",
    "OIDC_OP_TOKEN_ENDPOINT",
    "OIDC_OP_USER_ENDPOINT",
    "OIDC_OP_JWKS_ENDPOINT",
)


def _configure(settings, base: str) -> None:
    settings.DEBUG = False
    settings.OIDC_RP_CLIENT_ID = "brobygger"
    settings.OIDC_OP_ISSUER = base
    settings.OIDC_OP_AUTHORIZATION_ENDPOINT = f"{base}/authorize"
    settings.OIDC_OP_TOKEN_ENDPOINT = f"{base}/token"
    settings.OIDC_OP_USER_ENDPOINT = f"{base}/userinfo"
    settings.OIDC_OP_JWKS_ENDPOINT = f"{base}/jwks"


def _refused(settings) -> list[str]:
    return sorted(message.msg for message in run_checks() if message.id == "accounts.E001")


def test_plain_http_endpoints_are_refused(settings):
    _configure(settings, "http://idp.kommune.example")
    settings.OIDC_OP_ISSUER = "https://idp.kommune.example"
    assert _refused(settings) == sorted(
        f"{name} is not an https:// URL" for name in OIDC_ENDPOINT_SETTINGS if name != "OIDC_OP_ISSUER"
    )


@pytest.mark.parametrize(
    ("base", "debug", "allow_http", "refused"),
    [
        ("https://idp.kommune.example", False, False, False),
        ("http://127.0.0.1:8123", False, True, False),  # a test provider on this machine
        ("http://localhost:8123", False, True, False),
        ("http://idp.kommune.example", False, True, True),  # the opt-in is for loopback only
        ("http://127.0.0.1:8123", False, False, True),
        ("http://idp.kommune.example", True, False, False),  # make run
        ("idp.kommune.example/token", False, False, True),
    ],
)
def test_what_is_allowed(settings, base, debug, allow_http, refused):
    _configure(settings, base)
    settings.DEBUG = debug
    settings.OIDC_ALLOW_HTTP = allow_http
    assert bool(_refused(settings)) is refused


def test_without_single_sign_on_nothing_is_checked(settings):
    _configure(settings, "http://idp.kommune.example")
    settings.OIDC_RP_CLIENT_ID = ""
    assert _refused(settings) == []


def test_a_node_with_an_http_provider_does_not_start():
    """``manage.py serve`` runs ``migrate``, which runs the checks: an error stops it."""
    base = "http://idp.kommune.example"
    env = {key: value for key, value in os.environ.items() if key not in {"DJANGO_ALLOW_ASYNC_UNSAFE"}}
    env.update(
        {
            "DEBUG": "false",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "OIDC_RP_CLIENT_ID": "brobygger",
            "OIDC_RP_CLIENT_SECRET": "secret",
            "OIDC_OP_ISSUER": base,
            "OIDC_OP_AUTHORIZATION_ENDPOINT": f"{base}/authorize",
            "OIDC_OP_TOKEN_ENDPOINT": f"{base}/token",
            "OIDC_OP_USER_ENDPOINT": f"{base}/userinfo",
            "OIDC_OP_JWKS_ENDPOINT": f"{base}/jwks",
        }
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode != 0 and "accounts.E001" in result.stderr, result.stderr[-2000:]
