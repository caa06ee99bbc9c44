"""Service accounts (``accounts.service_accounts``, docs/security.md "Service accounts"): an
agency's system signs in with API keys an administrator issued (``manage.py service_key``),
never with a password. Until 2026-12-06 such a system took an 8-hour token with its password,
and anyone who sent wrong passwords for its username from a few addresses (or five from the
system's own outgoing address) locked it out: the partner agency's system stopped."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from accounts.models import KnownDevice, ServiceAccount

from .conftest import token_login, web_login

pytestmark = pytest.mark.django_db


def _service_key(username) -> str:
    out = StringIO()
    call_command("service_key", username, stdout=out, stderr=StringIO())
    return out.getvalue().strip()


def _with_key(key) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def _guess_everywhere(username, settings):
    """Wrong passwords for the username from several addresses, past both locks."""
    per_address = settings.AXES_FAILURE_LIMIT
    for n in range(1, settings.LOGIN_USERNAME_FAILURE_LIMIT // per_address + 2):
        for _ in range(per_address):
            APIClient().post(
                "/api/v1/auth/token/",
                {"username": username, "password": "wrong"},
                format="json",
                REMOTE_ADDR=f"192.0.2.{n}",
            )


def test_an_agencys_system_goes_on_while_others_guess_its_username(users, settings):
    key = _service_key("nils")
    _guess_everywhere("nils", settings)
    assert token_login(APIClient(), "nils").status_code == 429  # the username is locked for passwords
    assert _with_key(key).get("/api/v1/tasks/").status_code == 200  # the system is not


def test_a_key_outlasts_the_password_tokens_eight_hours(users, settings):
    key = _service_key("nils")
    (token,) = AuthToken.objects.filter(user=users["nils"])
    assert token.expiry > timezone.now() + timedelta(days=settings.API_SERVICE_KEY_DAYS - 1)
    AuthToken.objects.filter(pk=token.pk).update(created=timezone.now() - timedelta(hours=9))
    assert _with_key(key).get("/api/v1/tasks/").status_code == 200


def test_a_service_account_has_no_password_sign_in_at_all(users, api):
    old = token_login(api, "nils").json()["token"]
    browser = Client()
    assert web_login(browser, "nils").status_code == 302
    key = _service_key("nils")
    assert token_login(APIClient(), "nils").status_code == 400  # its old password signs nothing in
    assert web_login(Client(), "nils").status_code == 200
    assert _with_key(old).get("/api/v1/tasks/").status_code == 401  # what the password gave ended
    assert browser.get("/tasks/")["Location"].startswith("/accounts/login/")
    assert not KnownDevice.objects.filter(user=users["nils"]).exists()
    # A password an admin sets later is made unusable, and the system's keys go on.
    user = users["nils"]
    user.refresh_from_db()
    user.set_password("a-new-password-1")
    user.save()
    assert token_login(APIClient(), "nils", "a-new-password-1").status_code == 400
    assert _with_key(key).get("/api/v1/tasks/").status_code == 200


def test_a_key_needs_no_one_time_code_a_persons_token_does(users, settings):
    settings.REQUIRE_TWO_FACTOR = True
    key = _service_key("nils")
    assert _with_key(key).get("/api/v1/tasks/").status_code == 200
    # A person of the same agency still gives a code for a token.
    assert token_login(APIClient(), "nora").status_code == 400


def test_keys_end_with_the_account_or_its_mark(users):
    key = _service_key("nils")
    ServiceAccount.objects.get(user=users["nils"]).delete()
    assert _with_key(key).get("/api/v1/tasks/").status_code == 401
    key = _service_key("nils")
    type(users["nils"]).objects.filter(pk=users["nils"].pk).update(is_active=False)
    assert _with_key(key).get("/api/v1/tasks/").status_code == 401


def test_staff_and_single_sign_on_users_are_no_service_accounts(users):
    staff = users["nils"]
    staff.is_staff = True
    staff.save()
    with pytest.raises(CommandError):
        _service_key("nils")
    with pytest.raises(CommandError):
        _service_key("no-such-user")
    assert not ServiceAccount.objects.exists() and not AuthToken.objects.exists()


def test_a_key_stands_in_for_the_one_time_code_only_while_the_system_is_a_member(users, agencies):
    """Every person with a role gives a one-time code; a service account's key needs none. Given
    a role beyond member later (an auditor's, who reads who saw whose health data; a process
    admin's), the key would have carried it on 256 bits alone: it is refused until the role
    goes. An account holding such a role is not made a service account."""
    from permissions.models import Membership, Role

    key = _service_key("nils")
    assert _with_key(key).get("/api/v1/tasks/").status_code == 200
    extra = Membership.objects.create(user=users["nils"], agency=agencies["housing"], role=Role.AUDITOR)
    assert _with_key(key).get("/api/v1/tasks/").status_code == 401
    extra.delete()
    assert _with_key(key).get("/api/v1/tasks/").status_code == 200
    users["nils"].is_staff = True
    users["nils"].save(update_fields=["is_staff"])
    assert _with_key(key).get("/api/v1/tasks/").status_code == 401

    for person_with_a_role in ("bjorn", "aud", "ada", "leif"):
        with pytest.raises(CommandError, match="member role only"):
            _service_key(person_with_a_role)
        assert not ServiceAccount.objects.filter(user=users[person_with_a_role]).exists()
