"""The lockout's two locks (``accounts.lockout.LockoutHandler``, docs/security.md "Lockout"):
a username from one address after ``LOGIN_FAILURE_LIMIT`` failures, and the username from
every address after ``LOGIN_USERNAME_FAILURE_LIMIT`` failures in
``LOGIN_USERNAME_PERIOD_MINUTES`` (a bucket that gives a try back every period / limit).
Until 2026-12-06: one lock per username alone, made longer by every try while it held, so
one address sending a wrong password every few minutes kept a caseworker out for good."""

import time
from datetime import timedelta

import pytest
from axes.models import AccessAttempt

pytestmark = pytest.mark.django_db
ATTACKER, OWNER = "203.0.113.9", "198.51.100.7"


def _login(api, username, password="test-password", *, address):
    data = {"username": username, "password": password}
    return api.post("/api/v1/auth/token/", data, format="json", REMOTE_ADDR=address)


def test_a_lock_from_one_address_leaves_the_owner_at_hers_alone(users, api, settings):
    statuses = [_login(api, "nils", "wrong", address=ATTACKER).status_code for _ in range(settings.AXES_FAILURE_LIMIT)]
    assert statuses == [400] * (settings.AXES_FAILURE_LIMIT - 1) + [429]
    assert _login(api, "nils", address=ATTACKER).status_code == 429  # the right password, from there
    assert _login(api, "nils", address=OWNER).status_code == 200


def test_tries_while_locked_do_not_make_the_lock_longer(users, api, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _login(api, "nils", "wrong", address=ATTACKER)

    def earlier(minutes):
        for attempt in AccessAttempt.objects.filter(username="nils"):
            attempt.attempt_time -= timedelta(minutes=minutes)
            attempt.save(update_fields=["attempt_time"])

    earlier(10)
    assert [_login(api, "nils", "wrong", address=ATTACKER).status_code for _ in range(3)] == [429] * 3
    earlier(6)  # 16 minutes after the lock, 6 after the last try
    assert _login(api, "nils", address=ATTACKER).status_code == 200


def test_many_addresses_together_get_the_username_bucket_and_no_more(users, api, settings, monkeypatch):
    """Twenty failures from four addresses lock the username everywhere (a password guesser
    with many addresses gets LOGIN_USERNAME_FAILURE_LIMIT tries, then one every 3 minutes),
    one address alone never gets there (5 in 15 minutes is the bucket's own refill)."""
    clock = [time.time()]
    monkeypatch.setattr(time, "time", lambda: clock[0])
    limit = settings.LOGIN_USERNAME_FAILURE_LIMIT
    per_address = settings.AXES_FAILURE_LIMIT
    addresses = [f"192.0.2.{number}" for number in range(1, limit // per_address + 1)]
    statuses = [
        _login(api, "nora", "wrong", address=address).status_code for address in addresses for _ in range(per_address)
    ]
    assert statuses.count(400) == limit - len(addresses) and len(statuses) == limit
    assert _login(api, "nora", address=OWNER).status_code == 429  # the username is out everywhere
    assert _login(api, "nora", "wrong", address="192.0.2.200").status_code == 429  # not counted, nothing learnt
    clock[0] += settings.LOGIN_USERNAME_PERIOD_MINUTES * 60 / limit + 1  # one try is back
    assert _login(api, "nora", address=OWNER).status_code == 200
    assert _login(api, "nils", address=OWNER).status_code == 200  # other usernames never were concerned
