"""A signed-in browser's reads on every page (``accounts.sessions``): the session row, the
user and the second factor's device, each by a statement compiled once, and still read
on every request, so that whatever ends a session elsewhere ends it at the next page."""

import pytest
from django.contrib import auth
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import sessions

from .conftest import current_code, web_login

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def two_factor_on(settings):
    settings.REQUIRE_TWO_FACTOR = True


def signed_in(browser, user):
    """A password sign-in that gave its second factor, as the two-factor page leaves it."""
    device = TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)
    web_login(browser, user.username)
    assert browser.post("/accounts/two-factor/", {"otp": current_code(device)}).status_code == 302
    assert browser.get("/tasks/").status_code == 200
    return device


def test_a_page_reads_the_session_the_user_and_the_device_once_each(users, browser_like):
    signed_in(browser_like, users["nils"])
    with CaptureQueriesContext(connection) as context:
        assert browser_like.get("/accounts/password_change/").status_code == 200
    # The user's page rate limit takes its token after the sign-in checks (web.page_rate_limit).
    bucket = [query for query in context.captured_queries if "accounts_rate_bucket" in query["sql"]]
    assert len(bucket) == 1, bucket
    reads = [query for query in context.captured_queries if query not in bucket]
    tables = [query["sql"].split(" FROM ")[1].split()[0] for query in reads]
    # The page's own reads follow (the site's menu reads the memberships since the password
    # pages wear the site's layout); what authenticates the request is read once each, first.
    who = ('"django_session"', '"auth_user"', '"otp_totp_totpdevice"')
    assert tables[:3] == list(who), tables
    assert not set(tables[3:]) & set(who), tables


def test_a_password_change_elsewhere_ends_the_session(users, browser_like):
    signed_in(browser_like, users["nils"])
    users["nils"].set_password("another-password")
    users["nils"].save()
    response = browser_like.get("/tasks/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_a_deactivated_user_is_signed_out(users, browser_like):
    signed_in(browser_like, users["nils"])
    type(users["nils"]).objects.filter(pk=users["nils"].pk).update(is_active=False)
    assert browser_like.get("/tasks/")["Location"].startswith("/accounts/login/")


def test_a_removed_device_takes_the_second_factor_with_it(users, browser_like):
    device = signed_in(browser_like, users["nils"])
    device.delete()
    assert browser_like.get("/tasks/")["Location"].startswith("/accounts/two-factor/setup/")


def test_a_device_of_another_user_or_unconfirmed_counts_for_nothing(users, browser_like):
    device = signed_in(browser_like, users["nils"])
    TOTPDevice.objects.filter(pk=device.pk).update(confirmed=False)
    assert browser_like.get("/tasks/").status_code == 302
    helga = Client()
    signed_in(helga, users["helga"])
    session = helga.session
    session["otp_device_id"] = device.persistent_id  # nils's device in helga's session
    TOTPDevice.objects.filter(pk=device.pk).update(confirmed=True)
    session.save()
    assert helga.get("/tasks/")["Location"].startswith("/accounts/two-factor/")


def test_a_session_ended_elsewhere_or_expired_is_no_session(users, browser_like):
    from django.contrib.sessions.models import Session

    signed_in(browser_like, users["nils"])
    Session.objects.all().delete()  # "log out everywhere", or another process's logout
    assert browser_like.get("/tasks/")["Location"].startswith("/accounts/login/")
    signed_in(browser_like, users["nils"])
    Session.objects.update(expire_date="2000-01-01T00:00:00Z")
    assert browser_like.get("/tasks/")["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("case", ["as signed in", "hash of an old password", "no hash", "inactive", "deleted", "sso"])
def test_the_user_is_who_djangos_own_get_user_says(users, rf, case, settings):
    """Compared with ``django.contrib.auth.get_user`` on the same sessions."""
    from django.contrib.sessions.backends.db import SessionStore as DjangosStore

    user = users["nils"]
    backend = "django.contrib.auth.backends.ModelBackend"
    data = {"_auth_user_id": str(user.pk), "_auth_user_hash": user.get_session_auth_hash()}
    if case == "hash of an old password":
        data["_auth_user_hash"] = "0" * 64
    elif case == "no hash":
        del data["_auth_user_hash"]
    elif case == "inactive":
        type(user).objects.filter(pk=user.pk).update(is_active=False)
    elif case == "deleted":
        data["_auth_user_id"] = "987654"
    elif case == "sso":
        backend = "accounts.oidc.SingleSignOnBackend"
        type(user).objects.filter(pk=user.pk).update(is_active=False)  # ours asks (mozilla-django-oidc's does not)
    found = []
    for read, store in ((sessions.get_user, sessions.SessionStore), (auth.get_user, DjangosStore)):
        session = store()
        session.update({**data, "_auth_user_backend": backend})
        session.create()
        request = rf.get("/")
        request.session = store(session.session_key)
        found.append((read(request), dict(request.session)))
    (ours, our_session), (djangos, djangos_session) = found
    if case in ("inactive", "sso"):
        # The one difference: Django keeps an inactive user's session (read as nobody,
        # it signs them in again once they are made active); ours ends it.
        assert djangos_session and our_session == {}
        djangos_session = {}
    assert (ours.pk, ours.is_authenticated, our_session) == (djangos.pk, djangos.is_authenticated, djangos_session)
    assert ours.is_authenticated == (case == "as signed in")


def test_a_secret_key_fallback_keeps_the_session_with_a_new_key(users, rf, settings):
    user = users["nils"]
    old_hash = user.get_session_auth_hash()
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "a-new-secret-key-" + "x" * 40
    session = sessions.SessionStore()
    session.update(
        {
            "_auth_user_id": str(user.pk),
            "_auth_user_hash": old_hash,
            "_auth_user_backend": "django.contrib.auth.backends.ModelBackend",
        }
    )
    session.create()
    request = rf.get("/")
    request.session = sessions.SessionStore(session.session_key)
    assert sessions.get_user(request) == user
    assert request.session.session_key != session.session_key
    assert request.session["_auth_user_hash"] == user.get_session_auth_hash() != old_hash


def test_the_device_is_the_one_django_otp_reads(users):
    from django_otp.models import Device

    device = TOTPDevice.objects.create(user=users["nils"], name="authenticator", confirmed=True)
    for persistent_id in (device.persistent_id, f"otp_totp.totpdevice/{device.pk + 1000}", "otp_totp.totpdevice/x"):
        assert sessions.device_of(persistent_id) == Device.from_persistent_id(persistent_id)
    assert sessions.device_of(device.persistent_id).user_id == users["nils"].pk
