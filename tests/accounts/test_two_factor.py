"""TOTP two-factor sign-in (django-otp) for password logins of every user with a role,
when REQUIRE_TWO_FACTOR is on (production's default; off under DEBUG, i.e. `make run`)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice

from .conftest import current_code, open_enrolment_link, token_login, web_login

pytestmark = pytest.mark.django_db
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def two_factor_on(settings):
    settings.REQUIRE_TWO_FACTOR = True


def _enrolled(user):
    return TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)


def test_a_password_login_is_sent_to_enrolment_and_nothing_else_opens(users, browser_like):
    assert web_login(browser_like, "helga").status_code == 302
    for path in ("/tasks/", "/cases/", "/processes/", "/admin/"):
        response = browser_like.get(path)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/two-factor/setup/"), path
    api = browser_like.get("/api/v1/tasks/")
    assert api.status_code == 403 and api.json()["errors"] == []
    # The token endpoint asks for the code itself, whatever the session owes.
    token = browser_like.post(
        "/api/v1/auth/token/", {"username": "helga", "password": "test-password"}, content_type="application/json"
    )
    assert token.status_code == 400 and token.json()["errors"][0]["field"] == "otp"


def test_enrolment_shows_a_qr_code_and_a_key_and_a_right_code_opens_the_inbox(users, browser_like):
    web_login(browser_like, "helga")
    open_enrolment_link(browser_like, users["helga"])
    page = browser_like.get("/accounts/two-factor/setup/?next=/cases/")
    html = page.content.decode()
    assert page.status_code == 200 and "<svg" in html and "Sett opp innlogging i to trinn" in html
    device = TOTPDevice.objects.get(user=users["helga"], confirmed=False)
    wrong = browser_like.post("/accounts/two-factor/setup/", {"otp": "000000", "next": "/cases/"})
    assert wrong.status_code == 400
    device.refresh_from_db()
    device.throttling_failure_count = 0
    device.throttling_failure_timestamp = None
    device.save()
    right = browser_like.post("/accounts/two-factor/setup/", {"otp": current_code(device), "next": "/cases/"})
    assert right.status_code == 302 and right["Location"] == "/cases/"
    assert TOTPDevice.objects.get(user=users["helga"]).confirmed
    assert browser_like.get("/cases/").status_code == 200


def test_the_next_login_asks_for_a_code_and_refuses_a_wrong_one(users, browser_like):
    device = _enrolled(users["nils"])
    web_login(browser_like, "nils")
    assert browser_like.get("/tasks/")["Location"].startswith("/accounts/two-factor/?")
    assert browser_like.post("/accounts/two-factor/", {"otp": "123456"}).status_code == 400
    assert browser_like.get("/tasks/").status_code == 302
    device.refresh_from_db()
    device.throttling_failure_count = 0
    device.throttling_failure_timestamp = None
    device.save()
    assert browser_like.post("/accounts/two-factor/", {"otp": current_code(device)}).status_code == 302
    assert browser_like.get("/tasks/").status_code == 200


def test_the_session_id_changes_when_the_second_factor_is_given(users, browser_like):
    device = _enrolled(users["nils"])
    web_login(browser_like, "nils")
    before = browser_like.cookies["sessionid"].value
    browser_like.post("/accounts/two-factor/", {"otp": current_code(device)})
    assert browser_like.cookies["sessionid"].value != before


def test_an_offsite_next_is_ignored(users, browser_like):
    device = _enrolled(users["nils"])
    web_login(browser_like, "nils")
    answer = browser_like.post("/accounts/two-factor/", {"otp": current_code(device), "next": "https://evil.example/"})
    assert answer["Location"] == "/"


def test_a_user_without_any_role_needs_no_second_factor(users, browser_like):
    web_login(browser_like, "oscar")
    assert browser_like.get("/tasks/").status_code == 200


@pytest.mark.parametrize("username", ["kari", "nils", "nora", "helga", "bjorn", "siri", "ada", "aud"])
def test_every_role_of_the_cast_needs_it(users, username):
    from permissions.rules import needs_second_factor

    assert needs_second_factor(users[username])


def test_staff_without_a_role_need_it(db, django_user_model):
    from permissions.rules import needs_second_factor

    assert needs_second_factor(django_user_model.objects.create(username="staff", is_staff=True))
    assert not needs_second_factor(django_user_model.objects.create(username="nobody"))


def test_the_token_endpoint_asks_for_the_code_too(users, api):
    refused = token_login(api, "nils")
    assert refused.status_code == 400
    assert [e["field"] for e in refused.json()["errors"]] == ["otp"]
    device = _enrolled(users["nils"])
    missing = token_login(api, "nils")
    assert missing.status_code == 400 and missing.json()["errors"][0]["field"] == "otp"
    wrong = token_login(api, "nils", otp="000000")
    assert wrong.status_code == 400 and "token" not in wrong.json()
    device.refresh_from_db()
    device.throttling_failure_count = 0
    device.throttling_failure_timestamp = None
    device.save()
    right = token_login(api, "nils", otp=current_code(device))
    assert right.status_code == 200 and right.json()["token"]


def test_wrong_codes_at_the_token_endpoint_count_towards_the_lock(users, api, settings):
    _enrolled(users["nils"])
    for _ in range(settings.AXES_FAILURE_LIMIT):
        token_login(api, "nils", otp="000000")
    assert token_login(api, "nils", otp="000000").status_code == 429


def test_a_token_session_is_not_held_by_the_session_rule(users, api):
    device = _enrolled(users["nils"])
    token = token_login(api, "nils", otp=current_code(device)).json()["token"]
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api.get("/api/v1/tasks/").status_code == 200


def _setting(name, **env):
    code = f"import django; django.setup(); from django.conf import settings; print(settings.{name})"
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", **env}
    return subprocess.run(
        [sys.executable, "-c", code], env=environment, cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.strip()


def test_on_by_default_in_production_and_off_for_make_run():
    assert _setting("REQUIRE_TWO_FACTOR", DEBUG="false", SECRET_KEY="x" * 50) == "True"
    assert _setting("REQUIRE_TWO_FACTOR", DEBUG="true") == "False"
    assert _setting("REQUIRE_TWO_FACTOR", DEBUG="true", REQUIRE_TWO_FACTOR="true") == "True"
