"""A request Django cannot read (a multipart body with a broken boundary, more than
``DATA_UPLOAD_MAX_NUMBER_FIELDS`` fields in the query or the form, a form body above
``DATA_UPLOAD_MAX_MEMORY_SIZE``) is refused before any view runs, by Django itself. It was
answered with Django's bare English page, "Bad Request (400)", on the pages and on the API
alike: an API client got HTML instead of the error shape, and a page named nothing in
bokmål. Now the API answers its error shape (code ``request.unreadable``, naming
``request``) and the pages the refusal page in the user's language; nothing is read or
changed either way."""

import pytest
from django.test import Client
from rest_framework.test import APIClient

from accounts.tokens import issue
from permissions.models import AccessLog

pytestmark = pytest.mark.django_db

MANY = "&".join(f"f{i}=1" for i in range(1100))  # past Django's 1000 fields
BROKEN_MULTIPART = (b"--x\r\n", "multipart/form-data; boundary=")
TOO_LARGE = (b"a=" + b"x" * (7 * 1024 * 1024), "application/x-www-form-urlencoded")  # past 6 MB


def _sends(client, url):
    return {
        "query": lambda: client.get(f"{url}?{MANY}"),
        "form": lambda: client.generic("POST", url, MANY, content_type="application/x-www-form-urlencoded"),
        "multipart": lambda: client.generic("POST", url, BROKEN_MULTIPART[0], content_type=BROKEN_MULTIPART[1]),
        "large": lambda: client.generic("POST", url, TOO_LARGE[0], content_type=TOO_LARGE[1]),
    }


@pytest.mark.parametrize("kind", ["query", "form", "multipart", "large"])
def test_the_api_answers_an_unreadable_request_in_its_error_shape(users, kind):
    client = APIClient(raise_request_exception=False)
    client.credentials(HTTP_AUTHORIZATION=f"Token {issue(users['nils'])[0]}")
    answer = _sends(client, "/api/v1/cases/")[kind]()
    assert answer.status_code == 400
    assert answer["Content-Type"].startswith("application/json")
    body = answer.json()
    assert body["code"] == "request.unreadable"
    assert [(error["field"], error["code"]) for error in body["errors"]] == [("request", "request.unreadable")]
    assert body["request_id"]
    assert not AccessLog.objects.exists()


@pytest.mark.parametrize("kind", ["query", "form", "multipart", "large"])
def test_a_page_answers_an_unreadable_request_in_bokmal(users, kind):
    client = Client(raise_request_exception=False)
    client.force_login(users["nils"])
    answer = _sends(client, "/cases/")[kind]()
    assert answer.status_code == 400
    text = answer.content.decode()
    assert '<html lang="nb"' in text
    assert "forespørselen kan ikke leses" in text.lower()
    assert "Ingenting ble lest eller lagret" in text
    assert "Bad Request" not in text
    assert not AccessLog.objects.exists()


@pytest.mark.parametrize("url", ["/api/v1/cases/", "/cases/"])
def test_a_host_outside_allowed_hosts_keeps_django_s_plain_refusal(url):
    answer = Client(raise_request_exception=False).get(url, HTTP_HOST="evil.example")
    assert answer.status_code == 400
    assert "Brobygger" not in answer.content.decode()  # nothing of the site drawn for an unknown host
