"""What a failed sign-in leaves behind. The username typed into a failed sign-in is often a
password typed into the wrong field. Until 2026-12-05 django-axes kept it as typed, in its
attempt rows (the username and a copy of the form) and in its log lines ("AXES: New login
failure by {username: ...}"), which the JSON logs ship to whoever reads them. Now a name
that is no account is kept only as a keyed digest; it still counts and locks like any other
(a lock that only real names reached would tell which names exist). The name of an account
that exists is kept: admins see whose sign-in is locked, and lift it."""

import logging

import pytest
from axes.models import AccessAttempt, AccessFailureLog

from .conftest import token_login, web_login

pytestmark = pytest.mark.django_db

TYPED = "Sommer-2026-hemmelig"  # a password, typed into the username field


def _everything_kept(caplog) -> str:
    rows = AccessAttempt.objects.values_list("username", "post_data", "get_data", "path_info")
    return str(list(rows)) + "\n".join(record.getMessage() for record in caplog.records)


def test_a_name_that_is_no_account_is_kept_in_neither_the_rows_nor_the_logs(users, browser_like, api, caplog):
    caplog.set_level(logging.INFO)
    web_login(browser_like, TYPED, "nils-password")
    token_login(api, TYPED, "nils-password")
    (attempt,) = AccessAttempt.objects.all()
    assert attempt.failures_since_start == 2  # one name, counted once per try, web and API alike
    assert attempt.username.startswith("unknown-")
    assert TYPED not in _everything_kept(caplog)
    assert TYPED.lower() not in _everything_kept(caplog).lower()


def test_a_name_that_is_no_account_locks_like_one_that_is(users, browser_like, settings):
    for name in (TYPED, "nils"):
        for _ in range(settings.AXES_FAILURE_LIMIT - 1):
            assert web_login(browser_like, name, "wrong-password").status_code == 200
        assert web_login(browser_like, name, "wrong-password").status_code == 429


def test_an_account_that_exists_is_named_in_the_row_and_the_log_line(users, browser_like, caplog):
    caplog.set_level(logging.INFO)
    web_login(browser_like, "nils", "wrong-password")
    assert AccessAttempt.objects.get().username == "nils"
    assert any('username: "nils"' in record.getMessage() for record in caplog.records)
    assert "wrong-password" not in _everything_kept(caplog)


def test_a_known_browsers_failures_are_in_the_log_of_failures(users, settings, caplog):
    """A failure from a browser the user signed in with counts against that browser alone (no
    attempt row: those are the address's lock), but admins and auditors still see it in axes'
    log of failures (*Axes > Access failures*) and the log lines, as every other failure. Until
    2026-12-06 it left no trace at all: someone at the user's own browser could try passwords
    unseen."""
    from django.test import Client
    from django.urls import reverse

    from accounts import device_cookies

    caplog.set_level(logging.INFO)
    browser = Client(REMOTE_ADDR="198.51.100.7", HTTP_USER_AGENT="Firefox/140")
    assert web_login(browser, "oscar").status_code == 302
    assert device_cookies.COOKIE in browser.cookies
    browser.post(reverse("logout"))
    limit = settings.LOGIN_DEVICE_FAILURE_LIMIT
    answers = [web_login(browser, "oscar", "wrong-password").status_code for _ in range(limit)]
    assert answers[-1] == 429
    assert not AccessAttempt.objects.exists()  # not counted against the address
    failures = list(AccessFailureLog.objects.order_by("attempt_time"))
    assert [f.username for f in failures] == ["oscar"] * limit
    assert {(f.ip_address, f.user_agent, f.path_info) for f in failures} == {
        ("198.51.100.7", "Firefox/140", "/accounts/login/")
    }
    assert [f.locked_out for f in failures] == [False] * (limit - 1) + [True]
    lines = [r.getMessage() for r in caplog.records if 'username: "oscar"' in r.getMessage()]
    assert len([line for line in lines if "failure" in line]) >= limit
    assert "wrong-password" not in str(list(AccessFailureLog.objects.values())) + "\n".join(lines)


def test_every_other_failure_is_in_the_log_of_failures_too(users, browser_like, api):
    web_login(browser_like, "nils", "wrong-password")
    token_login(api, "nils", "wrong-password")
    web_login(browser_like, TYPED, "wrong-password")
    names = list(AccessFailureLog.objects.order_by("attempt_time").values_list("username", flat=True))
    assert names[:2] == ["nils", "nils"] and names[2].startswith("unknown-") and len(names) == 3
