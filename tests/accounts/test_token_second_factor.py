"""An API token is worth what the sign-in that issued it was worth: a token issued with a
password alone stops working once its user must give a second factor, and a token issued
with a device's code stops working when that device is removed (as a session's second
factor does, ``test_session_reads``)."""

from unittest import mock

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice
from knox.models import AuthToken

from accounts import sessions
from permissions.models import Membership

from .conftest import current_code, token_login

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def two_factor_on(settings):
    settings.REQUIRE_TWO_FACTOR = True


def _authed(api, token):
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return api


def test_a_token_issued_before_the_user_had_a_role_stops_when_they_get_one(users, api):
    # oscar has no role: he needs no second factor, and his password gives him a token.
    token = token_login(api, "oscar").json()["token"]
    assert _authed(api, token).get("/api/v1/tasks/").status_code == 200
    nils = Membership.objects.filter(user=users["nils"]).first()
    Membership.objects.create(user=users["oscar"], agency=nils.agency, role=nils.role)
    refused = _authed(api, token).get("/api/v1/tasks/")
    assert refused.status_code == 401
    assert refused.json()["detail"] == (
        "this token was issued without a second factor: ask for a new one with a one-time code"
    )
    in_bokmal = _authed(api, token).get("/api/v1/tasks/", HTTP_ACCEPT_LANGUAGE="nb")
    assert in_bokmal.json()["detail"] == (
        "tokenet ble utstedt uten innlogging i to trinn: be om et nytt med en engangskode"
    )


def test_a_token_issued_without_the_rule_on_stops_when_it_is_switched_on(users, api, settings):
    settings.REQUIRE_TWO_FACTOR = False
    token = token_login(api, "nils").json()["token"]
    assert _authed(api, token).get("/api/v1/tasks/").status_code == 200
    settings.REQUIRE_TWO_FACTOR = True
    assert _authed(api, token).get("/api/v1/tasks/").status_code == 401


def test_a_user_made_staff_needs_a_token_with_a_second_factor(users, api):
    token = token_login(api, "oscar").json()["token"]
    users["oscar"].is_staff = True
    users["oscar"].save(update_fields=["is_staff"])
    assert _authed(api, token).get("/api/v1/tasks/").status_code == 401


def test_a_token_issued_with_a_code_stops_when_its_device_is_removed(users, api):
    device = TOTPDevice.objects.create(user=users["nils"], name="authenticator", confirmed=True)
    token = token_login(api, "nils", otp=current_code(device)).json()["token"]
    assert _authed(api, token).get("/api/v1/tasks/").status_code == 200
    device.delete()  # lost phone: the admin deletes the device
    assert _authed(api, token).get("/api/v1/tasks/").status_code == 401
    # A new device and a new code give a new token that works.
    new = TOTPDevice.objects.create(user=users["nils"], name="authenticator", confirmed=True)
    fresh = token_login(api, "nils", otp=current_code(new)).json()["token"]
    assert _authed(api, fresh).get("/api/v1/tasks/").status_code == 200


def test_a_token_issued_with_a_code_works_and_one_without_a_role_still_does(users, api):
    device = TOTPDevice.objects.create(user=users["nils"], name="authenticator", confirmed=True)
    token = token_login(api, "nils", otp=current_code(device)).json()["token"]
    assert _authed(api, token).get("/api/v1/tasks/").status_code == 200
    oscar = token_login(api, "oscar").json()["token"]
    assert _authed(api, oscar).get("/api/v1/tasks/").status_code == 200


def test_the_token_still_is_read_with_one_statement(users, api):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    device = TOTPDevice.objects.create(user=users["nils"], name="authenticator", confirmed=True)
    token = token_login(api, "nils", otp=current_code(device)).json()["token"]
    with CaptureQueriesContext(connection) as queries:
        assert _authed(api, token).get("/api/v1/agencies/").status_code == 200
    assert len([q for q in queries.captured_queries if "knox_authtoken" in q["sql"]]) == 1
    assert AuthToken.objects.filter(user=users["nils"]).count() == 1


def test_deleting_a_device_ends_the_tokens_issued_with_its_codes(users, api):
    device = TOTPDevice.objects.create(user=users["nils"], name="authenticator", confirmed=True)
    token = token_login(api, "nils", otp=current_code(device)).json()["token"]
    password_only = token_login(api, "oscar").json()["token"]

    device.delete()

    assert not AuthToken.objects.filter(user=users["nils"]).exists()
    assert _authed(api, token).get("/api/v1/tasks/").status_code == 401
    assert _authed(api, password_only).get("/api/v1/tasks/").status_code == 200  # not bound: untouched


def test_a_token_request_does_not_read_its_sessions_user(users, api):
    # oscar needs no second factor: his password gives him a token.
    token = token_login(api, "oscar").json()["token"]
    api.logout()
    with mock.patch("accounts.sessions.get_user", wraps=sessions.get_user) as session_user:
        assert _authed(api, token).get("/api/v1/tasks/").status_code == 200
    assert session_user.call_count == 0  # no session: the second factor's check had nothing to ask


def test_a_password_session_still_owes_its_second_factor(users, browser_like):
    browser_like.force_login(users["nils"], backend="django.contrib.auth.backends.ModelBackend")
    with mock.patch("accounts.sessions.get_user", wraps=sessions.get_user) as session_user:
        answer = browser_like.get("/api/v1/tasks/")
    assert answer.status_code == 403
    assert session_user.call_count >= 1
