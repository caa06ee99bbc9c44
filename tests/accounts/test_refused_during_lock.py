"""Sign-in tries refused while a lock holds. They test no password and count toward no lock,
and django-axes' log of failures (*Axes > Access failures*) takes only tries that tested
something: until 2026-12-06 an admin investigating a guessing attack saw it stop at the lock,
however long it went on. Now each run of refused tries from one address is a row of
*Sign-in > sign-ins refused during a lock* with how many there were (never what was tried),
bounded per username and in time."""

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import RefusedSignIn

from .conftest import token_login, web_login

pytestmark = pytest.mark.django_db

TRIED = "Vinter-2026-gjetning"


def _lock(client, settings, username="nils", login=web_login):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        login(client, username, "wrong-password")


def _everything_kept() -> str:
    return str(list(RefusedSignIn.objects.values()))


def test_tries_refused_at_the_web_login_are_kept_with_how_many(users, settings, admin_client):
    attacker = Client(REMOTE_ADDR="203.0.113.9", HTTP_USER_AGENT="Guesser/1")
    _lock(attacker, settings)
    assert not RefusedSignIn.objects.exists()  # the counted failures are axes' log's
    answers = [web_login(attacker, "nils", TRIED).status_code for _ in range(3)]
    answers.append(web_login(attacker, "nils").status_code)  # the right password: refused as well
    assert answers == [429] * 4
    (row,) = RefusedSignIn.objects.all()
    assert (row.username, row.ip_address, row.user_agent, row.path_info, row.tries) == (
        "nils",
        "203.0.113.9",
        "Guesser/1",
        reverse("login"),
        4,
    )
    assert row.first_at <= row.last_at
    assert TRIED not in _everything_kept() and "test-password" not in _everything_kept()
    # The security admin sees them beside the other failures.
    page = admin_client.get(reverse("admin:accounts_refusedsignin_changelist"))
    assert page.status_code == 200 and "203.0.113.9" in page.content.decode()


def test_tries_refused_at_the_token_endpoint_are_kept(users, settings, api):
    api.defaults.update(REMOTE_ADDR="203.0.113.10")
    _lock(api, settings, login=token_login)
    answers = [token_login(api, "nils", TRIED).status_code for _ in range(2)]
    assert answers == [429, 429]
    (row,) = RefusedSignIn.objects.all()
    assert (row.username, row.ip_address, row.path_info, row.tries) == ("nils", "203.0.113.10", reverse("api-token"), 2)
    assert TRIED not in _everything_kept()


def test_a_code_refused_on_the_two_factor_page_is_kept(users, settings):
    settings.REQUIRE_TWO_FACTOR = True
    TOTPDevice.objects.create(user=users["nils"], name="authenticator", confirmed=True)
    browser = Client(REMOTE_ADDR="203.0.113.11")
    assert web_login(browser, "nils").status_code == 302  # the password, owing its code
    _lock(Client(REMOTE_ADDR="203.0.113.11"), settings)
    assert browser.post(reverse("two-factor-verify"), {"otp": "123456"}).status_code == 429
    (row,) = RefusedSignIn.objects.all()
    assert (row.username, row.path_info, row.tries) == ("nils", reverse("two-factor-verify"), 1)


def test_the_rows_are_bounded_per_username_and_in_time(users, settings):
    """An attacker cannot grow the table without end: one address's run is one row, a username
    has at most AXES_ACCESS_FAILURE_LOG_PER_USER_LIMIT rows (more addresses add to the newest),
    and rows older than LOGIN_REFUSED_LOG_DAYS go as new ones come."""
    settings.AXES_ACCESS_FAILURE_LOG_PER_USER_LIMIT = 2
    old = RefusedSignIn.objects.create(
        username="oscar",
        ip_address="192.0.2.1",
        first_at=timezone.now() - timedelta(days=settings.LOGIN_REFUSED_LOG_DAYS + 1),
        last_at=timezone.now() - timedelta(days=settings.LOGIN_REFUSED_LOG_DAYS + 1),
    )
    addresses = ["198.51.100.1", "198.51.100.2", "198.51.100.3"]
    for address in addresses:
        _lock(Client(REMOTE_ADDR=address), settings)
    for address in addresses:
        for _ in range(10):
            web_login(Client(REMOTE_ADDR=address), "nils", TRIED)
    rows = RefusedSignIn.objects.filter(username="nils")
    assert rows.count() == 2
    assert sum(row.tries for row in rows) == 30
    assert not RefusedSignIn.objects.filter(pk=old.pk).exists()
