"""The edges of a sign-in: the session id at each step, what a password reset by e-mail
ends, and a single sign-on user's local password.

Until 2026-12-05 a single sign-on user given a password (an admin's *change password* page
in the admin, a shell) signed in with it: past the identity provider, so a user it had
closed or moved kept the memberships of their last single sign-on login for as long as the
password worked (the provider is asked again only for single sign-on sessions), and the
address on file got reset links."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client

from accounts.models import ExternalIdentity
from permissions.models import Membership, Role
from workflows.jobs.worker import Worker

from .conftest import PASSWORD, current_code, token_login, web_login

pytestmark = pytest.mark.django_db


@pytest.fixture
def sso_user(agencies):
    user = get_user_model().objects.create(username="sso-kari", email="sso-kari@nav.example")
    user.set_unusable_password()
    user.save()
    ExternalIdentity.objects.create(user=user, issuer="https://idp.example", subject="kari-1")
    Membership.objects.create(user=user, agency=agencies["nav"], role=Role.MEMBER)
    return user


def test_a_single_sign_on_user_given_a_password_still_cannot_sign_in_with_one(sso_user, api):
    sso_user.set_password("a-password-set-by-helpdesk")  # the admin's form, or a shell
    sso_user.save()
    browser = Client()
    refused = web_login(browser, "sso-kari", "a-password-set-by-helpdesk")
    assert refused.status_code == 200  # the login page again, with its error
    assert browser.get("/tasks/")["Location"].startswith("/accounts/login/")
    assert token_login(api, "sso-kari", "a-password-set-by-helpdesk").status_code == 400
    sso_user.refresh_from_db()
    assert not sso_user.has_usable_password()


def test_a_single_sign_on_user_gets_no_reset_link(sso_user):
    sso_user.set_password("a-password-set-by-helpdesk")
    sso_user.save()
    Client().post("/accounts/password_reset/", {"email": sso_user.email})
    Worker(name="w").run(once=True)
    assert mail.outbox == []


def test_the_admin_does_not_offer_to_set_a_single_sign_on_user_s_password(sso_user, users):
    admin = get_user_model().objects.create_superuser("pwadmin", "pwadmin@example.org", "x")
    client = Client()
    client.force_login(admin)
    page = client.get(f"/admin/auth/user/{sso_user.pk}/password/", follow=True)
    assert "Denne brukeren logger inn bare med felles pålogging" in page.content.decode()
    posted = client.post(
        f"/admin/auth/user/{sso_user.pk}/password/",
        {"usable_password": "true", "password1": "Ny-lang-setning-42", "password2": "Ny-lang-setning-42"},
    )
    assert posted.status_code == 302
    sso_user.refresh_from_db()
    assert not sso_user.has_usable_password()
    # A password user's page is as before.
    assert client.get(f"/admin/auth/user/{users['nils'].pk}/password/").status_code == 200


def test_the_session_id_changes_at_the_password_and_at_the_code(users, settings):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    settings.REQUIRE_TWO_FACTOR = True
    device = TOTPDevice.objects.create(user=users["nils"], name="authenticator", confirmed=True)
    browser = Client()
    browser.get("/accounts/login/")
    browser.session.save()
    before = browser.session.session_key
    web_login(browser, "nils")
    after_password = browser.cookies["sessionid"].value
    browser.post("/accounts/two-factor/", {"otp": current_code(device)})
    after_code = browser.cookies["sessionid"].value
    assert len({before, after_password, after_code}) == 3
    assert browser.get("/tasks/").status_code == 200


def test_a_reset_by_e_mail_ends_every_token_and_every_other_session(users, api):
    nils = users["nils"]
    token = token_login(api, "nils").json()["token"]
    elsewhere = Client()
    web_login(elsewhere, "nils")
    Client().post("/accounts/password_reset/", {"email": nils.email})
    Worker(name="w").run(once=True)
    link = re.search(r"https?://[^/]+(/accounts/reset/\S+/)", mail.outbox[0].body).group(1)
    browser = Client()
    form = browser.get(link)["Location"]
    browser.post(form, {"new_password1": "Ny-lang-setning-42", "new_password2": "Ny-lang-setning-42"})
    assert get_user_model().objects.get(pk=nils.pk).check_password("Ny-lang-setning-42")
    assert api.get("/api/v1/tasks/", HTTP_AUTHORIZATION=f"Token {token}").status_code == 401
    assert elsewhere.get("/tasks/")["Location"].startswith("/accounts/login/")
    assert web_login(Client(), "nils", PASSWORD).status_code == 200  # the old password is gone


def test_an_identity_added_to_a_user_with_a_password_ends_the_password_at_once(users, api):
    """Until 2026-12-05 an identity an admin added by hand to an account with a password left
    the password usable (and its tokens and sessions alive) until the user's next save."""
    from knox.models import AuthToken

    nils = users["nils"]
    browser = Client()
    assert web_login(browser, "nils").status_code == 302
    assert browser.get("/tasks/").status_code == 200
    token = token_login(api, "nils").json()["token"]
    ExternalIdentity.objects.create(user=nils, issuer="https://idp.example", subject="nils-1")
    nils.refresh_from_db()
    assert not nils.has_usable_password()
    assert not AuthToken.objects.filter(user=nils).exists()
    assert browser.get("/tasks/")["Location"].startswith("/accounts/login/")
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api.get("/api/v1/tasks/").status_code == 401
    api.credentials()
    assert token_login(api, "nils", PASSWORD).status_code == 400
    assert web_login(Client(), "nils").status_code == 200  # the login page again


def test_an_identity_moved_to_a_user_with_a_password_ends_that_password(users, sso_user):
    identity = ExternalIdentity.objects.get(user=sso_user)
    identity.user = users["kari"]
    identity.save()
    users["kari"].refresh_from_db()
    assert not users["kari"].has_usable_password()
