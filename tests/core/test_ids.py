"""Ids from URLs and bodies: what is not a database id never reaches a query as one."""

import pytest
from django.test import Client

from core.ids import MAX_ID, lookup_id, parse_id


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (7, 7),
        ("7", 7),
        (" 7 ", 7),
        (7.0, 7),
        (True, None),
        (None, None),
        ("seven", None),
        ([7], None),
        (float("inf"), None),
        (float("nan"), None),
        (str(MAX_ID), MAX_ID),
        (str(MAX_ID + 1), None),
        (10**30, None),
        (1e30, None),
    ],
)
def test_parse_id(value, expected):
    assert parse_id(value) == expected


def test_lookup_id_finds_nothing_for_what_is_not_an_id():
    assert lookup_id("99999999999999999999") == 0
    assert lookup_id("12") == 12


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/cases/99999999999999999999/",
        "/api/v1/tasks/99999999999999999999/",
        "/api/v1/cases/99999999999999999999/timeline/",
    ],
)
def test_an_id_past_the_database_keys_is_a_404_not_a_500(django_user_model, path):
    user = django_user_model.objects.create_user("someone", password="x")
    client = Client()
    client.force_login(user)
    assert client.get(path).status_code == 404
