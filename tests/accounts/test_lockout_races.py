"""Tries sent at once for one username. django-axes reads the count before the password is
tested and writes it after: until 2026-12-06 tries sent together all read the count below the
limit and were all tested, so an attacker who sent them in bursts had as many guesses per lock
as the server had workers, not LOGIN_FAILURE_LIMIT (and as many per token of the username's
bucket, not one). Now the tries of one username are tested one after the other
(``accounts.lockout``: a PostgreSQL advisory lock from the lock's check to the request's end).

Only ``LOCK_WAITERS`` (1) tries of a held name may wait for it, at most ``LOCK_WAIT_SECONDS``;
the others are refused untested (``test_lockout_wait.py``): in a burst most tries are refused so,
and fewer than the limit are tested. With as many waiting places as tries and a wait long enough
for all of them (``waited``) the burst is tested up to the limit exactly, as before the wait was
bounded."""

import threading

import pytest
from axes.models import AccessFailureLog
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.test import Client
from django.urls import reverse

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]

BURST = 8


class SlowHasher(PBKDF2PasswordHasher):
    """A password check slow enough that the tries of a burst overlap, as production's does."""

    iterations = 300_000


def _burst(send) -> list[int]:
    gate = threading.Barrier(BURST)
    answers: list[int] = []

    def one(index):
        from django.db import connection

        try:
            gate.wait()
            answers.append(send(index))
        finally:
            connection.close()

    threads = [threading.Thread(target=one, args=(i,)) for i in range(BURST)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


@pytest.fixture
def slow_password(users, settings):
    settings.PASSWORD_HASHERS = [f"{__name__}.SlowHasher"]
    nils = users["nils"]
    nils.set_password("the-real-one")
    nils.save(update_fields=["password"])
    return nils


def _tested() -> int:
    """Tries whose password was tested: each is a row of axes' log of failures (a try the lock
    refused is not: ``RefusedSignIn`` keeps those)."""
    return AccessFailureLog.objects.filter(username="nils").count()


@pytest.fixture(params=["waited", "bounded"])
def wait(request, monkeypatch):
    """``waited``: every try may wait for all those ahead of it (the wait before 2026-12-06);
    ``bounded``: production's one waiting place and wait, past which a try is refused untested."""
    from accounts import lockout

    if request.param == "waited":
        monkeypatch.setattr(lockout, "LOCK_WAITERS", BURST)
        monkeypatch.setattr(lockout, "LOCK_WAIT_SECONDS", 120.0)
    return request.param


def _check(answers: list[int], wait: str, limit: int, refused_at_limit: int | None = None) -> None:
    assert len(answers) == BURST
    tested = _tested()
    if wait == "waited":
        assert tested == limit, answers
        if refused_at_limit is not None:
            assert answers.count(429) == refused_at_limit, answers
    else:
        assert 1 <= tested <= limit, answers
        assert answers.count(429) >= BURST - tested, answers  # every try not tested was refused


def test_a_burst_at_the_web_login_tests_no_more_passwords_than_the_limit(slow_password, settings, wait):
    def send(index):
        client = Client(REMOTE_ADDR="203.0.113.20")
        return client.post(reverse("login"), {"username": "nils", "password": f"guess-{index}"}).status_code

    limit = settings.AXES_FAILURE_LIMIT
    _check(_burst(send), wait, limit, refused_at_limit=BURST - limit + 1)  # the fifth locks as it fails


def test_a_burst_at_the_token_endpoint_tests_no_more_passwords_than_the_limit(slow_password, settings, wait):
    from rest_framework.test import APIClient

    def send(index):
        client = APIClient(REMOTE_ADDR="203.0.113.21")
        data = {"username": "nils", "password": f"guess-{index}"}
        return client.post(reverse("api-token"), data, format="json").status_code

    _check(_burst(send), wait, settings.AXES_FAILURE_LIMIT)


def test_a_username_whose_unlock_fails_is_let_go_with_its_connection(monkeypatch):
    """Should the unlock at the request's end fail (a connection gone bad), the connection is
    closed, which lets its locks go, and the thread forgets the name: before, the error left the
    name in the thread's keys (its next try of that name went without the lock) and a connection
    kept for the next request went on holding it, so every other try of the name waited for good."""
    from django.db import DatabaseError, connection

    from accounts import lockout

    lockout.one_at_a_time("ola.nordmann")
    assert lockout._held.keys

    def broken(*args, **kwargs):
        raise DatabaseError("the server closed the connection")

    monkeypatch.setattr(connection, "cursor", broken)
    lockout.release()
    monkeypatch.undo()

    assert not lockout._held.keys
    assert connection.connection is None  # closed: PostgreSQL let its advisory locks go
    with connection.cursor() as cursor:  # a new session holds none of them
        cursor.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()")
        assert cursor.fetchone()[0] == 0
