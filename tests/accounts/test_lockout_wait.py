"""A try whose username other tries hold (``accounts.lockout.one_at_a_time``) may wait a moment if
no other try waits for it already, else not at all; then it is refused untested. Until 2026-12-06
it waited for every try ahead of it: a flood of tries for one username, which needs no password,
held every web thread of the node in that queue and the other users' requests waited behind it
(docs/security.md, "Tries sent at once"). The refusal is the lock's answer, says nothing of
whether the name is an account, and is kept with the other refused tries; the lock is let go
whatever ends the request."""

import threading
import time

import pytest
from axes.models import AccessFailureLog
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.db import connection
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from accounts import lockout
from accounts.models import RefusedSignIn

from .conftest import PASSWORD, token_login, web_login

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]

NO_ACCOUNT = "ingen-slik-bruker"


class Holder:
    """Another request's hold on usernames: a thread with its own connection, holding them
    until the ``with`` block ends (or ``hold_for`` seconds, so that an old server that waits is not stuck)."""

    def __init__(self, *names: str, hold_for: float = 10.0, waiting: bool = False):
        self.waiting = waiting  # and the names' waiting place, as a try waiting for them would
        self.names = names
        self.hold_for = hold_for
        self.holding = threading.Event()
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run)
        self.got = False

    def _run(self):
        try:
            # Before 2026-12-06 it waited for the name and returned nothing.
            self.got = all([lockout.one_at_a_time(name) is not False for name in self.names])
            if self.waiting:
                with connection.cursor() as cursor:
                    for name in self.names:
                        place = lockout._key(name, "accounts.lockout.one_at_a_time.waiting.0")
                        cursor.execute("SELECT pg_advisory_lock(%s)", [place])
            self.holding.set()
            self.done.wait(self.hold_for)
            lockout.release()
        finally:
            connection.close()

    def __enter__(self):
        self.thread.start()
        assert self.holding.wait(10)
        assert self.got, "another request held the name"
        return self

    def __exit__(self, *exc):
        self.done.set()
        self.thread.join()


def _timed(send):
    """``send()`` in a thread (an old server waits for the holder): its answer and seconds."""
    found = {}

    def run():
        try:
            started = time.monotonic()
            found["answer"] = send()
            found["seconds"] = time.monotonic() - started
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(30)
    return found["answer"], found["seconds"]


# Well past the wait and a cold first request on a busy machine; well short of the holder's hold.
PROMPTLY = 3.0


@pytest.fixture(autouse=True)
def warm(users):
    """The process's first request (templates, URL patterns) is slow on a busy machine."""
    Client().get(reverse("login"))


def _advisory_locks_held() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
            " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        )
        return cursor.fetchone()[0]


def test_a_web_try_for_a_held_username_is_refused_at_once_untested(users, settings):
    client = Client(REMOTE_ADDR="203.0.113.30")
    with Holder("nils"):
        answer, seconds = _timed(lambda: web_login(client, "nils"))  # the right password
    assert seconds < PROMPTLY, seconds  # waited for the holder (here 10 s) before
    assert answer.status_code == 429
    assert "accounts/locked_out.html" in [t.name for t in answer.templates]
    assert "_auth_user_id" not in client.session  # the right password signed nothing in
    assert not AccessFailureLog.objects.exists()  # nothing tested, nothing counted
    refused = RefusedSignIn.objects.get()
    assert (refused.username, refused.ip_address, refused.tries) == ("nils", "203.0.113.30", 1)
    assert _advisory_locks_held() == 0  # the refused try kept no hold; the holder let go


def test_the_token_endpoints_refusal_is_the_locks_and_the_same_for_a_name_that_is_no_account(users, settings):
    no_account = lockout.attempted_username(None, {"username": NO_ACCOUNT})
    with Holder("nils", no_account):
        account, seconds = _timed(lambda: token_login(APIClient(REMOTE_ADDR="203.0.113.31"), "nils"))
        nobody, _ = _timed(lambda: token_login(APIClient(REMOTE_ADDR="203.0.113.31"), NO_ACCOUNT, "x"))
    assert seconds < PROMPTLY, seconds
    assert account.status_code == nobody.status_code == 429
    assert account.json() == nobody.json()
    assert account["Retry-After"] == nobody["Retry-After"]
    assert not AccessFailureLog.objects.exists()

    # The answer a lock gives (five failures from the address): the same words.
    locked_client = APIClient(REMOTE_ADDR="203.0.113.32")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        token_login(locked_client, "nils", "wrong")
    locked = token_login(locked_client, "nils", PASSWORD)
    assert locked.status_code == 429
    assert locked.json() == account.json()


def test_a_held_username_holds_no_other_username(users, settings):
    with Holder("nils"):
        answer, seconds = _timed(lambda: web_login(Client(REMOTE_ADDR="203.0.113.33"), "nora"))
    assert answer.status_code == 302, answer.status_code
    assert seconds < PROMPTLY


def test_the_username_is_let_go_when_the_sign_in_raises(users, monkeypatch):
    """An error after the hold was taken (here: the password check) ends the request with a 500;
    the request's end lets the name go all the same, and the thread forgets it."""
    from django.contrib.auth.backends import ModelBackend

    def broken(*args, **kwargs):
        raise RuntimeError("the password check broke")

    monkeypatch.setattr(ModelBackend, "authenticate", broken)
    client = Client(REMOTE_ADDR="203.0.113.34", raise_request_exception=False)
    assert client.post(reverse("login"), {"username": "nils", "password": PASSWORD}).status_code == 500
    assert not getattr(lockout._held, "keys", set())
    assert _advisory_locks_held() == 0
    with Holder("nils", hold_for=0):  # another request takes it at once
        pass


def test_a_try_the_wait_gave_up_on_leaves_the_name_to_its_holder(users):
    """The refused try's request ends (``release``) without letting go of the holder's lock."""
    with Holder("nils") as holder:
        _timed(lambda: web_login(Client(REMOTE_ADDR="203.0.113.35"), "nils"))
        assert _advisory_locks_held() == 1  # still the holder's
        assert holder.thread.is_alive()


def test_a_name_a_lock_already_holds_is_refused_without_the_wait(users):
    """Finding the name held, a try asks once (without it) whether a lock holds the name: if so
    it is refused at once rather than after the wait."""
    asked = []

    def locked():
        asked.append(True)
        return True

    with Holder("nils"):
        started = time.monotonic()
        assert lockout.one_at_a_time("nils", unless=locked) is False
        seconds = time.monotonic() - started
    assert asked == [True]
    assert seconds < lockout.LOCK_WAIT_SECONDS
    assert not getattr(lockout._held, "keys", set())


def test_a_try_a_lock_refuses_lets_go_of_the_name_at_once(users):
    """``let_go``: the name is free for the next try before this request ends."""
    assert lockout.one_at_a_time("nils") is True
    lockout.let_go("nils")
    assert not lockout._held.keys
    assert _advisory_locks_held() == 0
    with Holder("nils", hold_for=0):  # another request takes it at once
        pass
    lockout.release()  # the request's end: nothing left to let go


def test_a_try_for_a_name_another_try_waits_for_is_refused_without_waiting(users):
    """One try of a held name may wait; the others are refused at once, so that a flood of one
    name holds at most two threads (one testing, one waiting)."""
    client = Client(REMOTE_ADDR="203.0.113.36")
    with Holder("nils", waiting=True):
        answer, seconds = _timed(lambda: web_login(client, "nils"))
    assert answer.status_code == 429
    assert seconds < lockout.LOCK_WAIT_SECONDS
    assert not AccessFailureLog.objects.exists()
    assert RefusedSignIn.objects.get().tries == 1


class SlowerHasher(PBKDF2PasswordHasher):
    """A password check that takes a moment (production's takes about 0.2 s)."""

    iterations = 60_000


def test_a_form_sent_twice_at_once_is_answered_as_before(users, settings):
    """A double click at the login: the second waits for the first's password check and signs in
    too (refused at once, it would show the lock's page to a user who is signed in)."""
    from tests.threads import all_at_once

    settings.PASSWORD_HASHERS = [f"{__name__}.SlowerHasher"]
    users["nils"].set_password(PASSWORD)
    users["nils"].save(update_fields=["password"])
    browsers = [Client(REMOTE_ADDR="203.0.113.37"), Client(REMOTE_ADDR="203.0.113.37")]
    answers = all_at_once([lambda b=b: web_login(b, "nils").status_code for b in browsers])
    assert answers == [302, 302], answers
