"""Making a user inactive ends their sessions and API tokens; making them active again
does not bring them back. Before, an inactive user's session was only read as nobody and
their tokens only refused: reactivated (after an investigation, a leave), the sessions
and tokens from before, a stolen one among them, worked again."""

import pytest
from django.contrib.sessions.models import Session
from django.test import Client
from knox.models import AuthToken
from rest_framework.test import APIClient

from accounts.models import KnownDevice

from .conftest import token_login, web_login

pytestmark = pytest.mark.django_db


def _set_active(user, active, *, through_save):
    if through_save:  # the admin's way
        user.is_active = active
        user.save()
    else:  # a bulk update: no signal
        type(user).objects.filter(pk=user.pk).update(is_active=active)


def _signed_in(username):
    browser = Client()
    assert web_login(browser, username).status_code == 302
    assert browser.get("/tasks/").status_code == 200
    return browser


def test_a_session_used_while_the_user_is_inactive_ends_for_good(users):
    browser = _signed_in("nils")
    _set_active(users["nils"], False, through_save=False)
    assert browser.get("/tasks/")["Location"].startswith("/accounts/login/")
    _set_active(users["nils"], True, through_save=False)
    assert browser.get("/tasks/")["Location"].startswith("/accounts/login/")


def test_deactivating_in_the_admin_ends_the_sessions_at_once(users):
    browser = _signed_in("nils")
    other = _signed_in("kari")
    _set_active(users["nils"], False, through_save=True)
    _set_active(users["nils"], True, through_save=True)
    assert browser.get("/tasks/")["Location"].startswith("/accounts/login/")
    assert other.get("/tasks/").status_code == 200
    assert Session.objects.count() == 1


def test_a_token_presented_while_the_user_is_inactive_ends_for_good(users, api):
    token = token_login(api, "nils").json()["token"]
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    _set_active(users["nils"], False, through_save=False)
    assert api.get("/api/v1/tasks/").status_code == 401
    _set_active(users["nils"], True, through_save=False)
    assert api.get("/api/v1/tasks/").status_code == 401


def test_deactivating_in_the_admin_ends_the_tokens_at_once(users, api):
    token = token_login(api, "nils").json()["token"]
    kari = token_login(api, "kari").json()["token"]
    _set_active(users["nils"], False, through_save=True)
    _set_active(users["nils"], True, through_save=True)
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api.get("/api/v1/tasks/").status_code == 401
    api.credentials(HTTP_AUTHORIZATION=f"Token {kari}")
    assert api.get("/api/v1/tasks/").status_code == 200
    assert not AuthToken.objects.filter(user=users["nils"]).exists()


def test_saving_an_active_user_keeps_their_sessions_and_tokens(users, api):
    browser = _signed_in("nils")
    token = token_login(api, "nils").json()["token"]
    users["nils"].first_name = "Nils Petter"
    users["nils"].save()
    assert browser.get("/tasks/").status_code == 200
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api.get("/api/v1/tasks/").status_code == 200


def test_a_bulk_deactivation_ends_tokens_and_sessions_not_used_in_between(users, api):
    """Deactivated and made active again by bulk updates (no signal), with no request in
    between: the old token, the old session and the browser's device cookie are dead,
    another user's live."""
    browser = _signed_in("nils")
    other = _signed_in("kari")
    token = token_login(api, "nils").json()["token"]
    assert KnownDevice.objects.filter(user=users["nils"]).exists()
    _set_active(users["nils"], False, through_save=False)
    assert not AuthToken.objects.filter(user=users["nils"]).exists()
    # A device cookie of the user's would let failures from that browser past the lock.
    assert not KnownDevice.objects.filter(user=users["nils"]).exists()
    assert KnownDevice.objects.filter(user=users["kari"]).exists()
    _set_active(users["nils"], True, through_save=False)
    assert browser.get("/tasks/")["Location"].startswith("/accounts/login/")
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api.get("/api/v1/tasks/").status_code == 401
    assert other.get("/tasks/").status_code == 200
    # Signed in again after the reactivation, the user works as before.
    assert _signed_in("nils").get("/tasks/").status_code == 200
    fresh = token_login(api, "nils").json()["token"]
    api.credentials(HTTP_AUTHORIZATION=f"Token {fresh}")
    assert api.get("/api/v1/tasks/").status_code == 200


def test_a_token_from_before_a_deactivation_the_trigger_only_recorded_is_refused(users, api):
    """Accounts 0008's trigger recorded a bulk deactivation but deleted no token; 0010's deletes
    them, but changed nothing about the tokens a bulk deactivation and reactivation had left
    between the two (an installation that ran 0008 before 0010, or a database restored from
    then). Such a token, older than its user's last deactivation, is refused and deleted,
    as the session (``accounts.sessions``) and the device cookie (``accounts.device_cookies``)
    of before a deactivation are. Until 2026-12-06 it worked again for up to its 8 hours."""
    from django.utils import timezone

    from accounts.models import Deactivation

    token = token_login(api, "nils").json()["token"]
    fresh_for_kari = token_login(APIClient(), "kari").json()["token"]
    # What 0008's trigger left: the deactivation recorded, the user active again, the token kept.
    Deactivation.objects.create(user=users["nils"], at=timezone.now())
    assert AuthToken.objects.filter(user=users["nils"]).exists()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api.get("/api/v1/tasks/").status_code == 401
    assert not AuthToken.objects.filter(user=users["nils"]).exists()
    # Tokens issued after the deactivation work, and other users' are untouched.
    fresh = token_login(APIClient(), "nils").json()["token"]
    api.credentials(HTTP_AUTHORIZATION=f"Token {fresh}")
    assert api.get("/api/v1/tasks/").status_code == 200
    api.credentials(HTTP_AUTHORIZATION=f"Token {fresh_for_kari}")
    assert api.get("/api/v1/tasks/").status_code == 200


def test_the_workers_delete_the_sessions_a_bulk_deactivation_refuses(users):
    """A bulk deactivation sends no signal and the trigger cannot find sessions by user: a
    session nobody presents again stayed in the table, with what it held, until it expired.
    The workers delete it with their session pruning; another user's session stays, and so
    does one the user signed in with after being made active again."""
    from accounts import sessions
    from workflows.jobs.worker import Worker

    sessions._SWEPT.clear()
    stale = _signed_in("nils").session.session_key
    other = _signed_in("kari").session.session_key
    _set_active(users["nils"], False, through_save=False)
    _set_active(users["nils"], True, through_save=False)
    fresh = _signed_in("nils").session.session_key

    Worker(name="w").run(once=True)

    assert set(Session.objects.values_list("pk", flat=True)) == {other, fresh}
    assert stale not in set(Session.objects.values_list("pk", flat=True))
