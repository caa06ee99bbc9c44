"""The Content-Security-Policy header built once (``config.content_security``) is the one
django-csp builds for the same response, and a response that varies it still gets its own;
messages are kept for the pages, not made on API requests (``config.page_messages``)."""

import pytest
from csp import middleware as csp_middleware
from csp.constants import HEADER
from csp.decorators import csp_update
from django.contrib import messages
from django.http import HttpResponse, JsonResponse
from django.test import RequestFactory

from config.content_security import CSPMiddleware
from config.page_messages import MessageMiddleware

pytestmark = pytest.mark.django_db


def _answer(request):
    return JsonResponse({})


@csp_update({"img-src": ["https://tiles.example.org"]})
def _decorated(request):
    return HttpResponse("map")


def _with_nonce(request):
    return HttpResponse(f"<script nonce='{request.csp_nonce}'></script>")


@pytest.mark.parametrize("view", [_answer, _decorated, _with_nonce])
@pytest.mark.parametrize("path", ["/tasks/", "/api/v1/tasks/"])
def test_the_header_is_the_one_django_csp_builds(view, path):
    headers = []
    for middleware in (CSPMiddleware(view), csp_middleware.CSPMiddleware(view)):
        request = RequestFactory().get(path)
        response = middleware(request)
        headers.append(response[HEADER])
        if view is not _with_nonce:
            with pytest.raises(Exception, match="csp_nonce"):
                str(request.csp_nonce)  # asked for after the header is written: an error, as django-csp's
    ours, djangos = headers
    assert ours == djangos and "default-src 'self'" in ours
    assert ("https://tiles.example.org" in ours) == (view is _decorated)


def test_a_changed_policy_is_built_again(settings):
    middleware = CSPMiddleware(_answer)
    assert "object-src 'none'" in middleware(RequestFactory().get("/"))[HEADER]
    settings.CONTENT_SECURITY_POLICY = {"DIRECTIVES": {"default-src": ["'self'"]}}
    assert middleware(RequestFactory().get("/"))[HEADER] == "default-src 'self'"


def test_every_answer_of_the_site_carries_it(users, client):
    client.force_login(users["nils"])
    for path in ("/tasks/", "/api/v1/tasks/", "/api/v1/no-such-thing/", "/healthz"):
        assert "frame-ancestors 'none'" in client.get(path)[HEADER], path


def test_an_api_request_makes_no_message_store_and_a_page_keeps_its_messages():
    def view(request):
        if request.path == "/cases/new/":
            messages.success(request, "Saken er startet.")
            return HttpResponse("")
        shown = [m.message for m in messages.get_messages(request)] if hasattr(request, "_messages") else []
        return HttpResponse(" ".join(shown))

    middleware = MessageMiddleware(view)
    session: dict = {}
    jar: dict = {}  # the browser's cookies
    for path in ("/cases/new/", "/api/v1/tasks/", "/tasks/"):
        request = RequestFactory().get(path)
        request.session = session
        request.COOKIES.update(jar)
        response = middleware(request)
        jar.update({key: morsel.value for key, morsel in response.cookies.items()})
        assert hasattr(request, "_messages") == (not path.startswith("/api/")), path
        if path == "/tasks/":
            assert response.content.decode() == "Saken er startet."  # shown by the next page
