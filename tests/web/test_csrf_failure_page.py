"""A form sent with a token that is no longer valid (a page left open while the user signed in
again in another tab) is refused, nothing saved, with a page in bokmål that says so; a JSON
call gets the error shape the editor's script reads (h-attack28: Django's English technical
page, which the editor's script could not read)."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from permissions.models import Membership, Role
from workflows.models import Task, TaskStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def prison_officer(agencies, prison_case):
    user = get_user_model().objects.create_user("fengselsbetjent-skjema")
    Membership.objects.create(user=user, agency=agencies["prison"], role=Role.MEMBER)
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    return client


def test_a_task_form_without_a_valid_token_is_refused_in_bokmal_and_nothing_is_saved(prison_officer, prison_case):
    task = Task.objects.get(case=prison_case, element_id="Task_intake_interview")
    answer = prison_officer.post(
        reverse("task", args=[task.pk]),
        {"housing_situation": "uten_bolig", "has_home": "nei", "csrfmiddlewaretoken": "x" * 64},
        HTTP_ACCEPT_LANGUAGE="nb",
    )
    assert answer.status_code == 403
    page = answer.content.decode()
    assert '<html lang="nb">' in page
    assert "Skjemaet var utdatert" in page and "Ingenting ble lagret" in page
    assert "verification failed" not in page and "Referer" not in page
    assert Task.objects.get(pk=task.pk).status == TaskStatus.OPEN


def test_a_json_call_without_a_token_gets_the_error_shape(prison_officer, prison_case):
    task = Task.objects.get(case=prison_case, element_id="Task_intake_interview")
    answer = prison_officer.post(
        reverse("task-claim", args=[task.pk]), "{}", content_type="application/json", HTTP_ACCEPT_LANGUAGE="nb"
    )
    assert answer.status_code == 403
    assert answer.json()["code"] == "csrf.failed"
    assert answer.json()["detail"].startswith("Skjemaet var utdatert")
    assert Task.objects.get(pk=task.pk).status == TaskStatus.OPEN


def test_the_sign_in_form_with_an_old_token_is_refused_in_bokmal(db):
    client = Client(enforce_csrf_checks=True)
    answer = client.post(reverse("login"), {"username": "x", "password": "y"}, HTTP_ACCEPT_LANGUAGE="nb")
    assert answer.status_code == 403
    assert "Skjemaet var utdatert" in answer.content.decode()
