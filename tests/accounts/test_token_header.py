"""The API token is read from the ``Authorization`` header as knox reads it (``accounts.tokens``
reads it from ``META`` rather than through ``request.headers``): every form of the header
gets knox's answer, and a token request builds no mapping of all the request's headers."""

import pytest
from django.test import Client
from django.urls import reverse
from knox.models import AuthToken

pytestmark = pytest.mark.django_db


@pytest.fixture
def token(django_user_model):
    user = django_user_model.objects.create_user(username="header-reader", password="x-unused-9f3k")
    return AuthToken.objects.create(user=user)[1]


def _get(header: str | None):
    extra = {} if header is None else {"HTTP_AUTHORIZATION": header}
    return Client().get(reverse("api-agencies"), **extra)


def test_a_token_in_the_header_is_accepted_whatever_the_case_of_its_scheme(token):
    for scheme in ("Token", "token", "TOKEN"):
        assert _get(f"{scheme} {token}").status_code == 200, scheme
        assert _get(f"  {scheme}   {token}  ").status_code == 200, scheme  # split as knox splits


@pytest.mark.parametrize(
    ("header", "detail"),
    [
        (None, "Authentication credentials were not provided."),
        ("Bearer abc", "Authentication credentials were not provided."),  # another scheme: not knox's
        ("Token", "Invalid token header. No credentials provided."),
        ("Token abc def", "Invalid token header. Token string should not contain spaces."),
        ("Token abc", "Invalid token."),
    ],
)
def test_a_missing_or_malformed_header_gets_knox_s_answer(token, header, detail):
    answer = _get(header)
    assert answer.status_code == 401
    assert answer.json()["detail"] == detail
    assert answer["WWW-Authenticate"] == "Token"


def test_a_token_request_builds_no_mapping_of_every_header(token):
    answer = _get(f"Token {token}")
    assert answer.status_code == 200
    # ``request.headers`` is a cached property: built, it stays in the request's dict.
    assert "headers" not in vars(answer.wsgi_request)
