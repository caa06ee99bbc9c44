"""A persistent connection is checked before each request's first statement
(``DB_CONN_HEALTH_CHECKS``) without a round trip when it is healthy (config/postgresql): a
``SELECT 1`` on every request cost each request a round trip. A connection the server has
ended is still found unusable, and replaced, before a request uses it."""

import time

import pytest
from django.db import connection, connections

from tests.conftest import _database_is_postgres

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not _database_is_postgres(), reason="the check is PostgreSQL's"),
]


class _Counting:
    """Counts what is sent on the psycopg connection itself (``is_usable`` bypasses
    Django's execute wrappers)."""

    def __init__(self, raw):
        self.raw, self.sent = raw, 0
        self._cursor = raw.cursor

    def cursor(self, *args, **kwargs):
        self.sent += 1
        return self._cursor(*args, **kwargs)


def _backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def test_a_healthy_idle_connection_is_usable_without_a_statement(monkeypatch):
    _backend_pid()
    counting = _Counting(connection.connection)
    monkeypatch.setattr(connection.connection, "cursor", counting.cursor)
    assert connection.is_usable()
    assert counting.sent == 0


def test_a_connection_the_server_ended_is_unusable_and_replaced_before_the_next_request():
    ended = _backend_pid()
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [ended])
    finally:
        other.close()
    deadline = time.monotonic() + 5
    while connection.is_usable() and time.monotonic() < deadline:  # the goodbye is on its way
        time.sleep(0.01)
    assert not connection.is_usable()
    # What Django does at a request's start (close_old_connections) and first statement.
    connection.health_check_done = False
    assert _backend_pid() != ended


def test_a_connection_with_an_unasked_message_waiting_is_checked_with_a_statement(monkeypatch):
    _backend_pid()
    with connection.cursor() as cursor:
        cursor.execute("LISTEN brobygger_health_check_test")
        cursor.execute("NOTIFY brobygger_health_check_test")
    # The notification came with the NOTIFY's own answer; one sent by another connection
    # arrives while this one is idle, as a server's goodbye would.
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute("NOTIFY brobygger_health_check_test")
    finally:
        other.close()
    time.sleep(0.2)
    counting = _Counting(connection.connection)
    monkeypatch.setattr(connection.connection, "cursor", counting.cursor)
    assert connection.is_usable()
    assert counting.sent == 1
    with connection.cursor() as cursor:
        cursor.execute("UNLISTEN *")
