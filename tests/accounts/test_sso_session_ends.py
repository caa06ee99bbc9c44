"""A single sign-on session ends when its user is deactivated, as a password session does.

mozilla-django-oidc reads the session's user whether active or not, so a user deactivated
while signed in through the identity provider (they left the office; their memberships
may be removed later) kept reading cases for as long as they kept the session alive. A
password session ends at the next request, and an API token is refused (knox asks)."""

import pytest
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.test import Client

from accounts import sessions
from tests.workflows.helpers import start_prison_case

pytestmark = pytest.mark.django_db

SSO = "accounts.oidc.SingleSignOnBackend"


@pytest.fixture
def prison_case(users, agencies, shipped):
    return start_prison_case(users, agencies)


def _sso_browser(user) -> Client:
    """A browser signed in through single sign-on, as the provider's callback leaves it."""
    session = sessions.SessionStore()
    session.update(
        {SESSION_KEY: str(user.pk), BACKEND_SESSION_KEY: SSO, HASH_SESSION_KEY: user.get_session_auth_hash()}
    )
    session.create()
    browser = Client()
    browser.cookies[settings.SESSION_COOKIE_NAME] = session.session_key
    return browser


def test_a_single_sign_on_session_works_while_the_user_is_active(users, prison_case):
    browser = _sso_browser(users["helga"])
    assert browser.get(f"/cases/{prison_case.pk}/").status_code == 200


def test_a_deactivated_users_single_sign_on_session_ends_at_the_next_request(users, prison_case):
    browser = _sso_browser(users["helga"])
    assert browser.get("/tasks/").status_code == 200
    type(users["helga"]).objects.filter(pk=users["helga"].pk).update(is_active=False)
    for path in (f"/cases/{prison_case.pk}/", f"/api/v1/cases/{prison_case.pk}/"):
        answer = browser.get(path)
        assert answer.status_code in (302, 401, 403), (path, answer.status_code)
        assert b"Ola Nordmann" not in answer.content


@pytest.mark.parametrize(
    "raw", ['"\\000\\000\\000\\000\\000\\000\\000\\000"', '"abc\\000defghij"', '"\\377\\376abcdefgh"']
)
def test_a_session_cookie_of_characters_no_key_has_is_no_session(users, raw):
    """A quoted cookie's octal escapes become characters (``\\000`` a NUL, which PostgreSQL
    refuses in text: the page was a 500); no session key has them, so it is no session."""
    answer = Client(HTTP_COOKIE=f"{settings.SESSION_COOKIE_NAME}={raw}").get("/tasks/")
    assert answer.status_code == 302 and answer["Location"].startswith("/accounts/login/")
    assert Client(HTTP_COOKIE=f"{settings.SESSION_COOKIE_NAME}={raw}").get("/accounts/login/").status_code == 200
