"""The lockout (django-axes) counts wrong one-time codes on the web's two-factor page as
it counts wrong passwords, and only a whole sign-in (the code given, when one is owed)
clears the count: a password alone does not, or whoever holds the password could try
codes for ever by signing in again between tries."""

import pytest
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from .conftest import current_code, token_login, web_login

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def two_factor_on(settings):
    settings.REQUIRE_TWO_FACTOR = True


@pytest.fixture
def device(users):
    return TOTPDevice.objects.create(user=users["nils"], name="authenticator", confirmed=True)


def _unthrottled(device):
    """django-otp slows a device down after wrong codes; the tests count axes' lock."""
    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_count=0, throttling_failure_timestamp=None)
    device.refresh_from_db()
    return device


def _wrong_codes(client, count):
    return [client.post("/accounts/two-factor/", {"otp": "000000"}).status_code for _ in range(count)]


def test_wrong_codes_on_the_web_page_lock_the_username(device, settings, api):
    browser = Client()
    assert web_login(browser, "nils").status_code == 302
    answers = _wrong_codes(browser, settings.AXES_FAILURE_LIMIT)
    assert answers[:-1] == [400] * (settings.AXES_FAILURE_LIMIT - 1)
    assert answers[-1] == 429
    # The half-signed-in session is over, and the username is locked everywhere.
    assert browser.get("/tasks/")["Location"].startswith("/accounts/login/")
    again = web_login(Client(), "nils")
    assert again.status_code == 429 and "for mange mislykkede" in again.content.decode().lower()
    assert token_login(api, "nils", otp=current_code(_unthrottled(device))).status_code == 429


def test_signing_in_again_with_the_password_does_not_clear_the_count(device, settings):
    first = Client()
    web_login(first, "nils")
    assert _wrong_codes(first, settings.AXES_FAILURE_LIMIT - 1) == [400] * (settings.AXES_FAILURE_LIMIT - 1)
    second = Client()
    assert web_login(second, "nils").status_code == 302  # the password is right: still under the limit
    assert _wrong_codes(second, 1) == [429]


def test_a_locked_username_is_not_let_through_by_a_session_that_owes_its_code(device, settings, api):
    browser = Client()
    web_login(browser, "nils")  # before the lock
    for _ in range(settings.AXES_FAILURE_LIMIT):
        token_login(api, "nils", otp="000000")
    answer = browser.post("/accounts/two-factor/", {"otp": current_code(_unthrottled(device))})
    assert answer.status_code == 429
    assert browser.get("/tasks/")["Location"].startswith("/accounts/login/")


def test_the_right_code_clears_the_count(device, settings):
    browser = Client()
    web_login(browser, "nils")
    _wrong_codes(browser, settings.AXES_FAILURE_LIMIT - 1)
    assert browser.post("/accounts/two-factor/", {"otp": current_code(_unthrottled(device))}).status_code == 302
    assert browser.get("/tasks/").status_code == 200
    later = Client()
    web_login(later, "nils")
    assert _wrong_codes(later, settings.AXES_FAILURE_LIMIT - 1) == [400] * (settings.AXES_FAILURE_LIMIT - 1)


def test_a_token_with_its_code_clears_the_count_and_a_password_alone_does_not(device, settings, api):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert token_login(api, "nils", "wrong-password").status_code == 400
    assert token_login(api, "nils").status_code == 400  # the right password, no code: nothing cleared
    assert token_login(api, "nils", otp=current_code(device)).status_code == 200
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert token_login(api, "nils", "wrong-password").status_code == 400
    assert token_login(api, "nils", "wrong-password").status_code == 429


def test_a_user_who_owes_no_code_is_cleared_by_the_password(users, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert web_login(Client(), "oscar", "wrong-password").status_code == 200
    assert web_login(Client(), "oscar").status_code == 302
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert web_login(Client(), "oscar", "wrong-password").status_code == 200
    assert web_login(Client(), "oscar").status_code == 302
