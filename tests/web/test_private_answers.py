"""Pages and API answers with case data are never kept by a browser or a shared cache
(``config.private_answers``): back on a shared office computer after signing out, the
browser's history must not show the person's health or justice data again."""

import pytest
from rest_framework.test import APIClient

from accounts.tokens import issue
from tests.ids import tid

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def _private(response, path):
    assert response.status_code == 200, (path, response.status_code)
    control = {part.strip() for part in response.get("Cache-Control", "").split(",")}
    assert {"private", "no-store"} <= control, (path, response.get("Cache-Control"))
    assert "public" not in control and not any(part.startswith("s-maxage") for part in control), path


def test_every_page_with_case_data_says_private_no_store(web, prison_case):
    task = prison_case.tasks.filter(status="open").first()
    helga = web("helga")  # health: reads the treatment plan
    for path in (
        f"/cases/{prison_case.pk}/",
        f"/tasks/{tid(task.pk)}/" if task.agency.kind == "health" else "/tasks/",
        "/tasks/?tab=agency",
        "/cases/",
        f"/cases/{prison_case.pk}/person/",
    ):
        _private(helga.get(path), path)


def test_every_api_answer_with_case_data_says_private_no_store(users, prison_case):
    client = APIClient()
    token, _expiry = issue(users["helga"])
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    for path in (
        f"/api/v1/cases/{prison_case.pk}/",
        f"/api/v1/cases/{prison_case.pk}/timeline/",
        f"/api/v1/cases/{prison_case.pk}/person/",
        "/api/v1/tasks/",
        "/api/v1/cases/",
    ):
        _private(client.get(path), path)


def test_a_refusal_is_not_kept_either(web, prison_case):
    """A 404 for a case the reader does not see is as personal as the page (it may change
    when their agency joins): never served from a cache to them or anyone else."""
    answer = web("siri").get(f"/cases/{prison_case.pk}/")
    assert answer.status_code == 404
    assert "no-store" in answer.get("Cache-Control", "")


def test_a_middlewares_own_refusal_is_not_kept_either(web, prison_case):
    answer = web("helga").get("/cases/?q=a%00b")  # refused by config.input_guard, before any view
    assert answer.status_code == 400
    assert "no-store" in answer.get("Cache-Control", "")


def test_the_answer_that_issues_a_token_is_not_kept_either(users, settings):
    """The token answer is a credential worth eight hours of the user's case data; its
    request carries no cookie and no token yet, so only its path says it is the API's."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    users["nils"].set_password("a-password-for-the-test")
    users["nils"].save()
    answer = APIClient().post(
        "/api/v1/auth/token/", {"username": "nils", "password": "a-password-for-the-test"}, format="json"
    )
    _private(answer, "/api/v1/auth/token/")
    assert "token" in answer.json()
