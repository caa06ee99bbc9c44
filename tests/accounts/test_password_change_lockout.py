"""A wrong current password on the password-change pages (the site's and the admin's) counts
as a failed sign-in of the username (django-axes), and locks it like the login does. Until
2026-12-05 they counted nothing: whoever held a stolen session could guess the password
there without a limit, and then sign in anywhere with it."""

import pytest
from axes.models import AccessAttempt
from django.test import Client

from .conftest import PASSWORD, token_login, web_login

pytestmark = pytest.mark.django_db

NEW = "Ny-lang-setning-42"
LOCKED_TEXT = "For mange mislykkede innlogginger"


def change(client, old, path="/accounts/password_change/"):
    return client.post(path, {"old_password": old, "new_password1": NEW, "new_password2": NEW})


def test_wrong_current_passwords_lock_the_username_and_end_the_session(users, browser_like, api, settings):
    web_login(browser_like, "nils")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert change(browser_like, "a-guess").status_code == 200  # the form again, with its error
    locked = change(browser_like, "a-guess")
    assert locked.status_code == 429 and LOCKED_TEXT in locked.content.decode()
    assert browser_like.get("/tasks/")["Location"].startswith("/accounts/login/")  # the session is gone
    assert token_login(api, "nils").status_code == 429  # and the right password signs in nowhere
    users["nils"].refresh_from_db()
    assert users["nils"].check_password(PASSWORD)


def test_a_locked_username_cannot_change_its_password_even_with_the_right_one(users, api, settings):
    session = Client()
    session.force_login(users["nora"])  # a session from before the lock
    for _ in range(settings.AXES_FAILURE_LIMIT):
        token_login(api, "nora", "wrong-password")
    assert change(session, PASSWORD).status_code == 429
    users["nora"].refresh_from_db()
    assert users["nora"].check_password(PASSWORD) and not users["nora"].check_password(NEW)


def test_the_admins_password_change_counts_too(django_user_model, settings):
    root = django_user_model.objects.create_superuser("root-admin", password=PASSWORD)
    admin_session = Client()
    admin_session.force_login(root)
    page = "/admin/password_change/"
    assert admin_session.get(page).status_code == 200
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert change(admin_session, "a-guess", page).status_code == 200
    assert change(admin_session, "a-guess", page).status_code == 429
    assert admin_session.get("/admin/").status_code == 302  # signed out
    root.refresh_from_db()
    assert root.check_password(PASSWORD)


def test_the_admins_page_still_changes_a_password(django_user_model):
    root = django_user_model.objects.create_superuser("root-admin", password=PASSWORD)
    admin_session = Client()
    admin_session.force_login(root)
    changed = change(admin_session, PASSWORD, "/admin/password_change/")
    assert changed.status_code == 302 and changed["Location"] == "/admin/password_change/done/"
    root.refresh_from_db()
    assert root.check_password(NEW)


def test_the_attempt_row_keeps_neither_the_guess_nor_the_new_password(users, browser_like):
    web_login(browser_like, "nils")
    change(browser_like, "a-guess-of-nils")
    stored = str(AccessAttempt.objects.filter(username="nils").values_list("post_data", "get_data").get())
    assert "a-guess-of-nils" not in stored and NEW not in stored
