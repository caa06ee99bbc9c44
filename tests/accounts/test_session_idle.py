"""A web session ends after SESSION_IDLE_MINUTES without a request; each request starts
the period again, saving the session at most once a SESSION_REFRESH_SECONDS."""

import time

import pytest
from django.contrib.sessions.models import Session
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from .conftest import token_login, web_login

pytestmark = pytest.mark.django_db


def test_an_idle_session_ends_and_an_active_one_goes_on(users, browser_like, settings):
    settings.SESSION_COOKIE_AGE = 2
    settings.SESSION_REFRESH_SECONDS = 0
    web_login(browser_like, "nils")
    for _ in range(3):  # 3 s in all, each request within the 2 s window
        time.sleep(1)
        assert browser_like.get("/tasks/").status_code == 200
    time.sleep(2.2)
    answer = browser_like.get("/tasks/")
    assert answer.status_code == 302 and answer["Location"].startswith("/accounts/login/")


def test_the_default_idle_time_is_thirty_minutes_and_the_cookie_is_for_the_browser_session(settings):
    assert settings.SESSION_IDLE_MINUTES == 30 and settings.SESSION_COOKIE_AGE == 30 * 60
    assert settings.SESSION_EXPIRE_AT_BROWSER_CLOSE
    assert settings.SESSION_REFRESH_SECONDS == 60


def _session_writes(client, path) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(path).status_code == 200
    return sum(1 for q in queries if q["sql"].startswith(("UPDATE", "INSERT")) and "django_session" in q["sql"])


def test_pages_read_within_a_minute_write_the_session_once(users, browser_like, settings):
    """A page view only reads; its session row is written when the idle period must move on,
    not on every request (the write was one statement of every page)."""
    web_login(browser_like, "nils")
    assert _session_writes(browser_like, "/tasks/") == 1  # the first page after signing in
    assert [_session_writes(browser_like, "/tasks/") for _ in range(3)] == [0, 0, 0]
    settings.SESSION_REFRESH_SECONDS = 1
    time.sleep(1.1)
    assert _session_writes(browser_like, "/tasks/") == 1  # a second on: the period moves on
    assert _session_writes(browser_like, "/tasks/") == 0


def test_a_session_not_refreshed_in_time_ends_even_if_requests_came(users, browser_like, settings):
    """The refresh interval is part of the idle time, not added to it: with requests only
    inside the interval the session still ends on time (a stolen cookie does not live on)."""
    settings.SESSION_COOKIE_AGE = 3
    settings.SESSION_REFRESH_SECONDS = 2
    web_login(browser_like, "nils")
    assert browser_like.get("/tasks/").status_code == 200  # saved: ends 3 s from now
    time.sleep(1.5)
    assert browser_like.get("/tasks/").status_code == 200  # 1.5 s since the save: not saved
    time.sleep(1.7)  # 3.2 s since the last save
    answer = browser_like.get("/tasks/")
    assert answer.status_code == 302 and answer["Location"].startswith("/accounts/login/")


def test_an_api_token_request_makes_no_session(users):
    client = APIClient()
    answer = token_login(client, "nils")
    assert answer.status_code == 200, answer.content
    client.credentials(HTTP_AUTHORIZATION=f"Token {answer.json()['token']}")
    before = Session.objects.count()
    assert client.get("/api/v1/tasks/").status_code == 200
    assert Session.objects.count() == before
