"""Production settings: HTTPS headers and cookies behind HTTPS=true, a Content-Security-Policy
on every page, and no debug page with case data (finding 7). `check --deploy` with the
production environment: tests/ops/test_production_settings.py."""

import re
from pathlib import Path

import pytest
from django.test import Client

from tests.workflows.helpers import start_prison_case

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def https_on(settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 31_536_000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    settings.SECURE_HSTS_PRELOAD = True
    settings.SESSION_COOKIE_SECURE = True
    settings.CSRF_COOKIE_SECURE = True


@pytest.mark.django_db
def test_https_redirect_hsts_and_secure_httponly_cookies(users, https_on):
    plain = Client().get("/accounts/login/")
    assert plain.status_code == 301 and plain["Location"].startswith("https://")
    client = Client()
    page = client.get("/accounts/login/", secure=True)
    assert page["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    login = client.post("/accounts/login/", {"username": "oscar", "password": "test-password"}, secure=True)
    assert login.status_code == 302
    session = login.cookies["sessionid"]
    assert session["secure"] and session["httponly"] and session["samesite"] == "Lax"
    csrf = page.cookies["csrftoken"]
    assert csrf["secure"] and csrf["httponly"]


@pytest.mark.django_db
def test_every_page_carries_the_content_security_policy(users, client):
    client.force_login(users["nils"])
    for path in ("/accounts/login/", "/tasks/", "/api/v1/docs/", "/admin/login/"):
        policy = client.get(path)["Content-Security-Policy"]
        directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
        assert directives["script-src"] == "'self'", path
        assert directives["style-src"] == "'self'", path
        assert directives["frame-ancestors"] == "'none'", path
        assert "unsafe" not in policy, path


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.IGNORECASE)
INLINE_HANDLER = re.compile(r"\son[a-z]+\s*=", re.IGNORECASE)


def test_no_template_has_an_inline_script_or_event_handler():
    templates = [
        p for p in REPO.glob("**/templates/**/*.html") if ".venv" not in p.parts and "node_modules" not in p.parts
    ]
    assert templates
    for path in templates:
        text = path.read_text()
        assert not INLINE_SCRIPT.search(text), path
        assert not INLINE_HANDLER.search(text), path
        assert "hx-on" not in text, path


@pytest.mark.django_db
@pytest.mark.parametrize(
    "reporter", ["config.error_reporter.StatelessExceptionReporter", "django.views.debug.ExceptionReporter"]
)
def test_a_server_error_under_make_run_settings_shows_no_case_data(
    users, agencies, shipped, settings, monkeypatch, reporter
):
    """`make run` has DEBUG on. A 500 on nils's case page, raised where the raw case data
    (health among it, masked for NAV) is a local variable and in the message."""
    from web import cases as views_cases
    from workflows.models import Case

    settings.DEBUG = True
    settings.DEFAULT_EXCEPTION_REPORTER = reporter
    case = start_prison_case(users, agencies)
    Case.objects.filter(pk=case.pk).update(data={"treatment_plan": "SENTINEL-diagnose-F20"})

    def failing_diagram(case, user, **kwargs):
        state = Case.objects.get(pk=case.pk).data
        raise ValueError(f"cannot draw {state}")

    monkeypatch.setattr(views_cases, "diagram_and_waits", failing_diagram)
    client = Client(raise_request_exception=False)
    client.force_login(users["nils"])
    for accept in ("text/html", "text/plain"):
        page = client.get(f"/cases/{case.pk}/", HTTP_ACCEPT=accept)
        assert page.status_code == 500
        body = page.content.decode()
        shown = "SENTINEL-diagnose-F20" in body or "17912099997" in body
        if reporter.startswith("django."):
            assert shown  # Django's own debug page: the data, in the message and the locals
        else:
            assert not shown
            assert "ValueError" in body and "failing_diagram" in body  # the developer still sees where
