"""A web session ends after SESSION_IDLE_MINUTES without a request; each request starts
the period again."""

import time

import pytest

from .conftest import web_login

pytestmark = pytest.mark.django_db


def test_an_idle_session_ends_and_an_active_one_goes_on(users, browser_like, settings):
    settings.SESSION_COOKIE_AGE = 2
    web_login(browser_like, "nils")
    for _ in range(3):  # 3 s in all, each request within the 2 s window
        time.sleep(1)
        assert browser_like.get("/tasks/").status_code == 200
    time.sleep(2.2)
    answer = browser_like.get("/tasks/")
    assert answer.status_code == 302 and answer["Location"].startswith("/accounts/login/")


def test_the_default_idle_time_is_thirty_minutes_and_the_cookie_is_for_the_browser_session(settings):
    assert settings.SESSION_IDLE_MINUTES == 30 and settings.SESSION_COOKIE_AGE == 30 * 60
    assert settings.SESSION_SAVE_EVERY_REQUEST and settings.SESSION_EXPIRE_AT_BROWSER_CLOSE
