"""A single sign-on session is checked with the identity provider again every
``OIDC_RECHECK_MINUTES``: the provider is the source of truth for a user's agencies and
roles (and whether they may sign in at all), and it was asked only at login. A user the
provider moved to another agency, or whose account it closed, kept the memberships of
their last login for as long as they kept the session alive. Now a page read past the
time goes to the provider without a prompt (``prompt=none``, mozilla-django-oidc's
``SessionRefresh``): the callback applies the groups again, or ends the session."""

import time
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.test import Client

from accounts import sessions

from .conftest import web_login

pytestmark = pytest.mark.django_db

SSO = "accounts.oidc.SingleSignOnBackend"
AUTHORIZE = "https://idp.example/authorize"


@pytest.fixture(autouse=True)
def provider(settings):
    settings.OIDC_RP_CLIENT_ID = "brobygger"
    settings.OIDC_RP_CLIENT_SECRET = "s" * 40
    settings.OIDC_OP_ISSUER = "https://idp.example"
    settings.OIDC_OP_AUTHORIZATION_ENDPOINT = AUTHORIZE
    settings.OIDC_OP_TOKEN_ENDPOINT = "https://idp.example/token"
    settings.OIDC_OP_USER_ENDPOINT = "https://idp.example/userinfo"
    settings.OIDC_OP_JWKS_ENDPOINT = "https://idp.example/jwks"


def _sso_browser(user, checked_seconds_ago: float) -> Client:
    """A browser signed in through single sign-on, as the provider's callback leaves it,
    its last check with the provider ``checked_seconds_ago``."""
    from django.conf import settings

    session = sessions.SessionStore()
    session.update(
        {
            SESSION_KEY: str(user.pk),
            BACKEND_SESSION_KEY: SSO,
            HASH_SESSION_KEY: user.get_session_auth_hash(),
            "oidc_id_token_expiration": time.time() - checked_seconds_ago + settings.OIDC_RENEW_ID_TOKEN_EXPIRY_SECONDS,
        }
    )
    session.create()
    browser = Client()
    browser.cookies[settings.SESSION_COOKIE_NAME] = session.session_key
    return browser


def test_the_default_is_fifteen_minutes(settings):
    assert settings.OIDC_RENEW_ID_TOKEN_EXPIRY_SECONDS == 15 * 60


def test_a_session_checked_recently_reads_pages(users):
    assert _sso_browser(users["helga"], checked_seconds_ago=60).get("/tasks/").status_code == 200


def test_a_page_read_past_the_time_goes_to_the_provider_without_a_prompt(users):
    answer = _sso_browser(users["helga"], checked_seconds_ago=16 * 60).get("/tasks/")
    assert answer.status_code == 302
    where = urlsplit(answer["Location"])
    assert f"{where.scheme}://{where.netloc}{where.path}" == AUTHORIZE
    query = parse_qs(where.query)
    assert query["prompt"] == ["none"] and query["client_id"] == ["brobygger"]
    assert query["code_challenge"] and query["nonce"] and query["state"]


def test_an_htmx_request_past_the_time_reloads_the_page_and_shows_nothing(users):
    answer = _sso_browser(users["helga"], checked_seconds_ago=16 * 60).get("/tasks/", HTTP_HX_REQUEST="true")
    assert answer.status_code == 200 and answer["HX-Refresh"] == "true"
    assert answer.content == b""


def test_an_api_read_with_the_session_past_the_time_is_refused(users):
    answer = _sso_browser(users["helga"], checked_seconds_ago=16 * 60).get("/api/v1/tasks/")
    assert answer.status_code == 403 and "results" not in answer.json()


def test_a_password_session_is_not_sent_to_the_provider(users):
    browser = Client()
    web_login(browser, "oscar")
    assert browser.get("/tasks/").status_code == 200


def test_a_provider_that_refuses_the_check_ends_the_session(users):
    browser = _sso_browser(users["helga"], checked_seconds_ago=16 * 60)
    go = browser.get("/tasks/")
    state = parse_qs(urlsplit(go["Location"]).query)["state"][0]
    back = browser.get("/accounts/sso/callback/", {"error": "login_required", "state": state})
    assert back.status_code == 302
    assert browser.get("/tasks/")["Location"].startswith("/accounts/login/")


def test_a_check_whose_answer_is_refused_here_ends_the_session_too(users, monkeypatch):
    from accounts.oidc import SingleSignOnBackend

    monkeypatch.setattr(SingleSignOnBackend, "authenticate", lambda self, request, **kw: None)
    browser = _sso_browser(users["helga"], checked_seconds_ago=16 * 60)
    go = browser.get("/tasks/")
    state = parse_qs(urlsplit(go["Location"]).query)["state"][0]
    back = browser.get("/accounts/sso/callback/", {"code": "abc", "state": state})
    assert back.status_code == 302
    assert browser.get("/tasks/")["Location"].startswith("/accounts/login/")


def test_a_failed_callback_leaves_a_password_session_alone(users):
    browser = Client()
    web_login(browser, "oscar")
    assert browser.get("/accounts/sso/callback/", {"code": "abc", "state": "made-up"}).status_code == 302
    assert browser.get("/tasks/").status_code == 200


def test_a_link_to_the_callback_with_an_error_signs_no_password_user_out(users):
    # mozilla-django-oidc ends any signed-in session on ?error=: a link on any site signed a
    # password user out (logging out is a POST with a CSRF token everywhere else).
    browser = Client()
    web_login(browser, "oscar")
    assert browser.get("/accounts/sso/callback/", {"error": "access_denied"}).status_code == 302
    assert browser.get("/tasks/").status_code == 200


@pytest.mark.parametrize(
    "query",
    [{"error": "access_denied"}, {"error": "login_required", "state": "made-up"}, {}, {"code": "abc", "state": "x"}],
)
def test_a_link_to_the_callback_signs_no_single_sign_on_user_out(users, query):
    # Until 2026-12-05 each of these, as a link or an image on any site, ended a single
    # sign-on session (logging out is a POST with a CSRF token everywhere else). Only the
    # provider's answer to the session's own request (its state) ends it.
    browser = _sso_browser(users["helga"], checked_seconds_ago=60)
    assert browser.get("/accounts/sso/callback/", query).status_code == 302
    assert browser.get("/tasks/").status_code == 200


def test_an_answer_to_another_request_ends_no_session_that_is_being_checked(users):
    browser = _sso_browser(users["helga"], checked_seconds_ago=16 * 60)
    browser.get("/tasks/")  # off to the provider: the session holds the check's state
    browser.get("/accounts/sso/callback/", {"error": "login_required", "state": "someone-elses"})
    assert browser.session.get(SESSION_KEY) == str(users["helga"].pk)


# --- every method, not only GET ---------------------------------------------------------------
# mozilla-django-oidc's ``SessionRefresh`` checks GET requests only. Until 2026-12-06 a form
# posted (or an API write with the session) past the time ran without the check: a user
# the provider had closed or moved kept writing into the cases of their last login's
# agencies (a note, a completed task, a consent, an emergency opening), and a form sent back
# with its errors showed the case page whole (``POST /cases/<id>/responsible/`` with a bad
# value answered the case's data), for as long as they posted before the session idled out.


@pytest.fixture
def helga_case(users, agencies, shipped):
    from tests.workflows.helpers import start_prison_case

    return start_prison_case(users, agencies)


def test_a_form_posted_past_the_time_goes_to_the_provider_and_writes_nothing(users, agencies, helga_case):
    from django.urls import reverse

    from workflows.notes import Note

    browser = _sso_browser(users["helga"], checked_seconds_ago=16 * 60)
    page = reverse("case", args=[helga_case.pk])
    answer = browser.post(
        reverse("case-notes", args=[helga_case.pk]),
        {"text": "Skrevet etter at kontoen ble stengt", "category": "health", "agency": agencies["health"].pk},
        HTTP_REFERER=f"http://testserver{page}",
    )
    assert answer.status_code == 302
    where = urlsplit(answer["Location"])
    assert f"{where.scheme}://{where.netloc}{where.path}" == AUTHORIZE
    assert parse_qs(where.query)["prompt"] == ["none"]
    assert not Note.objects.filter(case=helga_case).exists()
    # Back from the provider, the user lands on the page the form was on (its address for a
    # POST only route would answer 405), never on another site's.
    assert browser.session["oidc_login_next"] == page


def test_a_form_sent_back_with_errors_past_the_time_shows_no_case_data(users, helga_case):
    from django.urls import reverse

    from permissions.models import AccessLog

    browser = _sso_browser(users["bjorn"], checked_seconds_ago=16 * 60)
    answer = browser.post(
        reverse("case-responsible", args=[helga_case.pk]), {"responsible": "x"}, HTTP_REFERER="https://evil.example/"
    )
    assert answer.status_code == 302 and answer["Location"].startswith(AUTHORIZE)
    assert not AccessLog.objects.filter(case=helga_case, username="bjorn").exists()
    assert browser.session["oidc_login_next"] == "/"


def test_an_htmx_or_api_write_past_the_time_writes_nothing(users, agencies, helga_case):
    from django.urls import reverse

    from workflows.notes import Note

    browser = _sso_browser(users["helga"], checked_seconds_ago=16 * 60)
    body = {"text": "Skrevet etter at kontoen ble stengt", "category": "health", "agency": agencies["health"].pk}
    htmx = browser.post(reverse("case-notes", args=[helga_case.pk]), body, HTTP_HX_REQUEST="true")
    assert htmx.status_code == 200 and htmx["HX-Refresh"] == "true" and htmx.content == b""
    api = browser.post(reverse("api-case-notes", args=[helga_case.pk]), body, content_type="application/json")
    assert api.status_code == 403
    assert not Note.objects.filter(case=helga_case).exists()


def test_a_form_posted_soon_enough_is_not_sent_to_the_provider(users, agencies, helga_case):
    from django.urls import reverse

    from workflows.notes import Note

    browser = _sso_browser(users["helga"], checked_seconds_ago=60)
    body = {"text": "Notat", "category": "health", "agency": agencies["health"].pk}
    answer = browser.post(reverse("case-notes", args=[helga_case.pk]), body)
    assert answer.status_code == 302 and not answer["Location"].startswith(AUTHORIZE)
    assert Note.objects.filter(case=helga_case).count() == 1


def test_the_token_endpoint_is_not_checked_with_the_provider(users):
    """It never reads the session: a password sign-in there from a browser that holds a
    single sign-on session past the time is the password's to decide."""
    browser = _sso_browser(users["helga"], checked_seconds_ago=16 * 60)
    answer = browser.post(
        "/api/v1/auth/token/", {"username": "oscar", "password": "test-password"}, content_type="application/json"
    )
    assert answer.status_code == 200 and answer.json()["token"]


@pytest.mark.parametrize("path", ["//evil.example/", "//evil.example/%2e%2e", "/\\evil.example/"])
def test_the_check_returns_to_this_site_only(users, monkeypatch, path):
    """Back from the provider, the user goes where the check began: a path of this site.
    mozilla-django-oidc kept the request's path as it came and its callback sends the user
    there unchecked, so a link to ``https://<site>//evil.example/`` sent a user whose check
    was due through the provider (``prompt=none``: no page of it is even shown) to another
    site, a page that could ask for their password "again"."""
    from django.utils.http import url_has_allowed_host_and_scheme

    from accounts.oidc import SingleSignOnBackend

    monkeypatch.setattr(SingleSignOnBackend, "authenticate", lambda self, request, **kw: users["helga"])
    browser = _sso_browser(users["helga"], checked_seconds_ago=16 * 60)
    go = browser.get("/tasks/", PATH_INFO=path)
    assert go.status_code == 302 and go["Location"].startswith(AUTHORIZE)
    state = parse_qs(urlsplit(go["Location"]).query)["state"][0]
    back = browser.get("/accounts/sso/callback/", {"code": "abc", "state": state})
    assert back.status_code == 302
    assert url_has_allowed_host_and_scheme(back["Location"], allowed_hosts={"testserver"}), back["Location"]
    assert browser.session.get(SESSION_KEY) == str(users["helga"].pk)


def test_the_check_returns_to_the_page_it_began_on(users, monkeypatch):
    from accounts.oidc import SingleSignOnBackend

    monkeypatch.setattr(SingleSignOnBackend, "authenticate", lambda self, request, **kw: users["helga"])
    browser = _sso_browser(users["helga"], checked_seconds_ago=16 * 60)
    go = browser.get("/tasks/", {"tab": "mine"})
    state = parse_qs(urlsplit(go["Location"]).query)["state"][0]
    back = browser.get("/accounts/sso/callback/", {"code": "abc", "state": state})
    assert back["Location"] == "/tasks/?tab=mine"


def test_a_script_that_posts_json_past_the_time_is_told_to_reload(users):
    """The process editor's saves (``fetch`` with ``Accept: application/json``) cannot follow a
    redirect to the provider: they get 403 and a text the editor shows, and save nothing."""
    from bpmn.models import ProcessDraft

    browser = _sso_browser(users["ada"], checked_seconds_ago=16 * 60)
    answer = browser.post(
        "/processes/-/drafts/", {"key": "new_process"}, content_type="application/json", HTTP_ACCEPT="application/json"
    )
    assert answer.status_code == 403
    assert answer.json()["detail"] == "felles pålogging må sjekkes på nytt: last inn siden i nettleseren igjen"
    assert not ProcessDraft.objects.exists()
    # The editor tells the check from a refusal by this header: it keeps its work and reloads.
    assert answer["X-Brobygger-Recheck"] == "single-sign-on"
