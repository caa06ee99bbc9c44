"""What a failed sign-in leaves behind. The username typed into a failed sign-in is often a
password typed into the wrong field. Until 2026-12-05 django-axes kept it as typed, in its
attempt rows (the username and a copy of the form) and in its log lines ("AXES: New login
failure by {username: ...}"), which the JSON logs ship to whoever reads them. Now a name
that is no account is kept only as a keyed digest; it still counts and locks like any other
(a lock that only real names reached would tell which names exist). The name of an account
that exists is kept: admins see whose sign-in is locked, and lift it."""

import logging

import pytest
from axes.models import AccessAttempt

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
