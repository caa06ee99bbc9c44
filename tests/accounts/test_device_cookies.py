"""Device cookies (``accounts.device_cookies``, docs/security.md "Lockout"): a browser that
signed in as a user is known; that user's failures from it count against it alone, and it
signs in while the username is locked for every other client. Until 2026-12-06 anyone with a
few addresses sending more than LOGIN_USERNAME_FAILURE_LIMIT wrong passwords an hour kept a
password user locked out for good (one try through every three minutes, for anyone)."""

import time
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.test import Client, RequestFactory
from django.urls import resolve, reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import device_cookies
from accounts.models import KnownDevice, RateBucket

from .conftest import current_code, token_login, web_login

pytestmark = pytest.mark.django_db
OWNER, OFFICE = "198.51.100.7", "198.51.100.8"
COOKIE = device_cookies.COOKIE


def _client(address=OWNER):
    return Client(REMOTE_ADDR=address)


def _known_browser(username="oscar", address=OWNER):
    """A browser that has signed in as ``username`` (no code owed) and signed out again."""
    browser = _client(address)
    assert web_login(browser, username).status_code == 302
    assert COOKIE in browser.cookies
    browser.post(reverse("logout"))
    return browser


def _lock_username_everywhere(api, username, settings):
    """The username's bucket emptied from several addresses (the denial of service)."""
    per_address = settings.AXES_FAILURE_LIMIT
    addresses = [f"192.0.2.{n}" for n in range(1, settings.LOGIN_USERNAME_FAILURE_LIMIT // per_address + 2)]
    for address in addresses:
        for _ in range(per_address):
            api.post(
                "/api/v1/auth/token/", {"username": username, "password": "wrong"}, format="json", REMOTE_ADDR=address
            )
    answer = _client("192.0.2.250").post("/accounts/login/", {"username": username, "password": "x"})
    assert answer.status_code == 429  # locked for every other client


@pytest.fixture
def frozen_clock(monkeypatch):
    clock = [time.time()]
    monkeypatch.setattr(time, "time", lambda: clock[0])
    return clock


def test_the_owners_browser_signs_in_while_the_username_is_locked_everywhere(users, api, settings, frozen_clock):
    browser = _known_browser()
    _lock_username_everywhere(api, "oscar", settings)
    assert web_login(browser, "oscar").status_code == 302
    assert browser.session["_auth_user_id"] == str(users["oscar"].pk)
    assert web_login(_client(), "oscar").status_code == 429  # her address without her browser: still locked
    assert token_login(api, "oscar").status_code == 429  # the API keeps the username's locks


def test_failures_from_a_known_browser_count_against_it_alone(users, settings, frozen_clock):
    browser = _known_browser()
    limit = settings.LOGIN_DEVICE_FAILURE_LIMIT
    answers = [web_login(browser, "oscar", "wrong").status_code for _ in range(limit)]
    assert answers == [200] * (limit - 1) + [429]
    # Neither the address's count nor the username's bucket saw them.
    assert not AccessAttempt.objects.filter(username="oscar").exists()
    assert not RateBucket.objects.filter(key="login:oscar").exists()
    assert web_login(browser, "oscar").status_code == 429  # that browser is locked for oscar
    assert web_login(_client(OWNER), "oscar").status_code == 302  # any other client, even at her address
    frozen_clock[0] += settings.LOGIN_COOLOFF_MINUTES * 60 / limit + 1  # one try back for the browser
    assert web_login(browser, "oscar").status_code == 302


def test_a_locked_known_browser_is_told_when_it_has_a_try_again(users, settings, frozen_clock):
    """It was told the username's locks' time (the whole cool-off when neither holds it),
    while its own bucket gives a try back in a few minutes."""
    browser = _known_browser()
    limit = settings.LOGIN_DEVICE_FAILURE_LIMIT
    answers = [web_login(browser, "oscar", "wrong") for _ in range(limit)]
    assert answers[-1].status_code == 429
    assert int(answers[-1]["Retry-After"]) == settings.LOGIN_COOLOFF_MINUTES * 60 // limit


def test_a_password_alone_gives_no_cookie_when_a_code_is_owed(users, settings):
    settings.REQUIRE_TWO_FACTOR = True
    device = TOTPDevice.objects.create(user=users["nils"], name="authenticator", confirmed=True)
    browser = _client()
    assert web_login(browser, "nils").status_code == 302
    assert COOKIE not in browser.cookies
    assert browser.post(reverse("two-factor-verify"), {"otp": current_code(device)}).status_code == 302
    assert COOKIE in browser.cookies and KnownDevice.objects.filter(user=users["nils"]).count() == 1


def test_the_cookie_is_signed_http_only_lax_and_secure_as_the_session(users, settings):
    settings.SESSION_COOKIE_SECURE = True
    browser = _client()
    web_login(browser, "oscar")
    morsel = browser.cookies[COOKIE]
    assert morsel["httponly"] and morsel["secure"] and morsel["samesite"] == "Lax"
    assert int(morsel["max-age"]) == settings.LOGIN_DEVICE_DAYS * 24 * 3600
    user_id, _, rest = morsel.value.partition(":")
    assert user_id == str(users["oscar"].pk) and rest.count(":") == 2  # nonce, timestamp, signature
    assert not KnownDevice.objects.filter(digest__in=rest.split(":")).exists()  # only a digest is kept


def test_a_cookie_alone_signs_nobody_in(users):
    browser = _known_browser()
    assert browser.get("/tasks/")["Location"].startswith("/accounts/login/")
    assert web_login(browser, "oscar", "wrong").status_code == 200
    assert "_auth_user_id" not in browser.session


def test_another_users_cookie_is_no_exemption(users, settings):
    browser = _known_browser("oscar")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        web_login(browser, "nils", "wrong")
    assert AccessAttempt.objects.filter(username="nils").exists()
    assert web_login(browser, "nils").status_code == 429  # nils is locked at this address as for anyone


def _untrusted_now(browser, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        web_login(browser, "oscar", "wrong")
    return AccessAttempt.objects.filter(username="oscar").exists()


def test_a_forged_cookie_is_no_exemption(users, settings):
    browser = _known_browser()
    user_id, _, signed = browser.cookies[COOKIE].value.partition(":")
    nonce, stamp, signature = signed.split(":")
    browser.cookies[COOKIE] = f"{user_id}:{nonce[:-2]}AA:{stamp}:{signature}"
    assert _untrusted_now(browser, settings)


def test_another_users_id_in_the_cookie_is_no_exemption(users, settings):
    browser = _known_browser()
    _, _, signed = browser.cookies[COOKIE].value.partition(":")
    browser.cookies[COOKIE] = f"{users['nils'].pk}:{signed}"
    assert _untrusted_now(browser, settings)


def test_an_expired_cookie_is_no_exemption(users, settings):
    browser = _known_browser()
    KnownDevice.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert _untrusted_now(browser, settings)


@pytest.mark.parametrize("how", ["password change", "deactivation", "sign out everywhere"])
def test_revoked_cookies_are_no_exemption(users, settings, api, how):
    browser = _known_browser()
    oscar = users["oscar"]
    if how == "password change":
        oscar.set_password("a-new-password-2026")
        oscar.save()
    elif how == "deactivation":
        oscar.is_active = False
        oscar.save()
    else:
        token = token_login(api, "oscar").json()["token"]
        api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        assert api.post(reverse("api-token-revoke-all")).status_code == 204
    assert not KnownDevice.objects.filter(user=oscar).exists()
    assert _untrusted_now(browser, settings)


def test_a_bulk_deactivation_ends_the_cookies_though_the_user_is_made_active_again(users, settings):
    """A bulk ``update(is_active=False)`` (or plain SQL) runs no receiver: the rows stayed, and
    made active again the user's old browsers were known again (h-attack14). A device is known
    only when it was made after the user's last deactivation (``Deactivation``, its trigger)."""
    from django.contrib.auth import get_user_model

    browser = _known_browser()
    oscar = get_user_model().objects.filter(pk=users["oscar"].pk)
    oscar.update(is_active=False)
    oscar.update(is_active=True)
    assert _untrusted_now(browser, settings)
    assert web_login(_client(OFFICE), "oscar").status_code == 302  # signing in again is still possible
    assert device_cookies.known_device(_request_with(browser.cookies[COOKIE].value), "oscar") is None


def test_signing_in_again_renews_the_cookie_and_keeps_one_row(users):
    browser = _known_browser()
    first = browser.cookies[COOKIE].value
    assert web_login(browser, "oscar").status_code == 302
    assert browser.cookies[COOKIE].value != first
    assert KnownDevice.objects.filter(user=users["oscar"]).count() == 1
    # The cookie before the renewal is no longer known, the new one is.
    assert device_cookies.known_device(_request_with(first), "oscar") is None
    assert device_cookies.known_device(_request_with(browser.cookies[COOKIE].value), "oscar") is not None


def _request_with(cookie_value):
    request = RequestFactory().post("/accounts/login/")
    request.resolver_match = resolve("/accounts/login/")
    request.COOKIES[COOKIE] = cookie_value
    return request


def test_the_api_token_endpoint_neither_gives_nor_reads_device_cookies(users, api, settings):
    known = _known_browser()
    answer = token_login(api, "oscar")
    assert answer.status_code == 200 and COOKIE not in answer.cookies
    api.cookies[COOKIE] = known.cookies[COOKIE].value
    for _ in range(settings.AXES_FAILURE_LIMIT):
        token_login(api, "oscar", "wrong")
    assert AccessAttempt.objects.filter(username="oscar").exists()
    assert token_login(api, "oscar").status_code == 429


def test_a_user_keeps_at_most_the_set_number_of_browsers(users, settings):
    settings.LOGIN_DEVICES_PER_USER = 3
    for _ in range(5):
        web_login(_client(), "oscar")
    assert KnownDevice.objects.filter(user=users["oscar"]).count() == 3


def test_the_browser_that_changes_the_password_is_known_again(users, settings):
    browser = _known_browser()
    old_cookie = browser.cookies[COOKIE].value
    web_login(browser, "oscar")
    new_password = "a-new-password-2026"
    answer = browser.post(
        reverse("password_change"),
        {"old_password": "test-password", "new_password1": new_password, "new_password2": new_password},
    )
    assert answer.status_code == 302
    assert browser.cookies[COOKIE].value not in ("", old_cookie)
    assert KnownDevice.objects.filter(user=users["oscar"]).count() == 1  # the old rows are gone
    browser.post(reverse("logout"))
    for _ in range(settings.AXES_FAILURE_LIMIT):
        web_login(browser, "oscar", "wrong")
    assert not AccessAttempt.objects.filter(username="oscar").exists()  # counted against this browser
    assert web_login(Client(REMOTE_ADDR=OFFICE), "oscar", new_password).status_code == 302


def test_the_admin_login_gives_and_reads_the_cookie_too(django_user_model, api, settings, frozen_clock):
    django_user_model.objects.create_superuser("root-admin", password="admin-password-2026")
    browser = _client()
    data = {"username": "root-admin", "password": "admin-password-2026", "next": "/admin/"}
    assert browser.post(reverse("admin:login"), data).status_code == 302
    assert COOKIE in browser.cookies
    browser.post(reverse("admin:logout"))
    _lock_username_everywhere(api, "root-admin", settings)
    assert browser.post(reverse("admin:login"), data).status_code == 302
    assert Client(REMOTE_ADDR=OFFICE).post(reverse("admin:login"), data).status_code == 429


def test_a_reset_by_email_ends_every_browsers_cookie_the_intruders_too(users, settings):
    """Kept on purpose (docs/security.md, "Device cookies"): a reset often follows a stolen
    password, and whoever used it signed in and got a cookie too. Which browser is whose is not
    known, so the reset (Django's ``SetPasswordForm``, as the reset page saves it) ends them all;
    the user's next whole sign-in makes her browser known again."""
    from django.contrib.auth.forms import SetPasswordForm

    intruder = _known_browser(address="203.0.113.9")
    owner = _known_browser()
    form = SetPasswordForm(
        users["oscar"], {"new_password1": "a-new-password-2026", "new_password2": "a-new-password-2026"}
    )
    assert form.is_valid()
    form.save()
    assert not KnownDevice.objects.filter(user=users["oscar"]).exists()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        web_login(intruder, "oscar", "wrong")
    assert web_login(intruder, "oscar", "a-new-password-2026").status_code == 429  # the address's lock again
    assert web_login(owner, "oscar", "a-new-password-2026").status_code == 302  # known again once she signs in
    assert owner.cookies[COOKIE].value and KnownDevice.objects.filter(user=users["oscar"]).count() == 1
