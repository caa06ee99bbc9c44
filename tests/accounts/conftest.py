"""Sign-in fixtures: anonymous clients (the sign-in paths are what is tested) and TOTP codes."""

import pytest
from django.test import Client
from rest_framework.test import APIClient

PASSWORD = "test-password"  # the cast fixture's password


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def browser_like():
    return Client()


def token_login(api, username, password=PASSWORD, **extra):
    return api.post("/api/v1/auth/token/", {"username": username, "password": password, **extra}, format="json")


def web_login(client, username, password=PASSWORD, next_url=""):
    data = {"username": username, "password": password}
    if next_url:
        data["next"] = next_url
    return client.post("/accounts/login/", data)


def current_code(device, offset_steps=0):
    """The code an authenticator app shows now for ``device`` (RFC 6238)."""
    import time

    from django_otp.oath import TOTP

    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + offset_steps * device.step
    return f"{totp.token():0{device.digits}d}"


def open_enrolment_link(client, user, link=None):
    """An administrator's enrolment link for ``user`` (``link``, or a new one), opened in
    ``client``'s session: that session may set up a device (``accounts.enrolment``)."""
    from urllib.parse import urlsplit

    from accounts import enrolment

    link = link or enrolment.issue(user)
    answer = client.get(urlsplit(link).path)
    assert answer.status_code == 302, answer.status_code
    return link
