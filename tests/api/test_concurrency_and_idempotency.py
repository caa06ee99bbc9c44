"""Two people complete one task at once over HTTP; a replayed Idempotency-Key."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.tokens import issue
from api.models import IdempotencyKey
from tests.ids import tid
from tests.threads import all_at_once
from tests.workflows.helpers import complete, form_data, open_tasks
from workflows.models import Event, EventKind, Task, TaskStatus

from .conftest import PRISON_KINDS, start


def _nav_task(users, agencies):
    case = start(
        users["kari"],
        "prison_release_to_housing",
        {"name": "Ola Nordmann", "national_id": "17912099997"},
        agencies,
        PRISON_KINDS,
    )
    (intake,) = open_tasks(case)
    complete(intake, {"has_home": False}, actor=users["kari"])
    return next(task for task in open_tasks(case) if task.agency.kind == "nav")


def _token_client(user, **headers):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {issue(user)[0]}", **headers)
    return client


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_nav_users_complete_the_same_task_at_once_one_200_one_409(shipped, users, agencies):
    task = _nav_task(users, agencies)
    body = {"data": form_data(task)}
    clients = [_token_client(users["nils"]), _token_client(users["nora"])]
    url = f"/api/v1/tasks/{tid(task.pk)}/complete/"

    responses = all_at_once([lambda c=c: c.post(url, body, format="json") for c in clients])

    assert sorted(r.status_code for r in responses) == [200, 409]
    loser = next(r for r in responses if r.status_code == 409).json()
    assert "no longer open" in loser["detail"] or "claimed" in loser["detail"]
    assert Event.objects.filter(task=task, kind=EventKind.TASK_COMPLETED).count() == 1
    assert Task.objects.get(pk=task.pk).status == TaskStatus.COMPLETED


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_same_idempotency_key_sent_twice_at_once_completes_once(shipped, users, agencies):
    task = _nav_task(users, agencies)
    body = {"data": form_data(task)}
    url = f"/api/v1/tasks/{tid(task.pk)}/complete/"
    clients = [_token_client(users["nils"], HTTP_IDEMPOTENCY_KEY="same-key") for _ in range(2)]

    responses = all_at_once([lambda c=c: c.post(url, body, format="json") for c in clients])

    assert [r.status_code for r in responses] == [200, 200]
    assert responses[0].json() == responses[1].json()
    assert Event.objects.filter(task=task, kind=EventKind.TASK_COMPLETED).count() == 1
    assert IdempotencyKey.objects.filter(user=users["nils"], key="same-key").count() == 1


@pytest.mark.django_db
def test_a_replayed_idempotency_key_returns_the_first_answer_without_completing_again(
    shipped, users, agencies, client_for
):
    task = _nav_task(users, agencies)
    client = client_for("nils")
    url = f"/api/v1/tasks/{tid(task.pk)}/complete/"
    body = {"data": form_data(task)}

    first = client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    again = client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    without_key = client.post(url, body, format="json")

    assert first.status_code == again.status_code == 200
    assert again.json() == first.json() and again["Idempotency-Replayed"] == "true"
    assert without_key.status_code == 409
    assert Event.objects.filter(task=task, kind=EventKind.TASK_COMPLETED).count() == 1
    # The key is the user's: nora's same key is hers, and her attempt really runs.
    assert client_for("nora").post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="k-1").status_code == 409
    # The same key for another request is refused.
    other = client.post(url, {"data": {}}, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert other.status_code == 409 and other.json()["errors"][0]["field"] == "Idempotency-Key"


@pytest.mark.django_db
def test_a_failed_request_does_not_use_up_its_idempotency_key(shipped, users, agencies, client_for):
    task = _nav_task(users, agencies)
    client = client_for("nils")
    url = f"/api/v1/tasks/{tid(task.pk)}/complete/"

    bad = client.post(url, {"data": {"benefits_applied": "yes"}}, format="json", HTTP_IDEMPOTENCY_KEY="k-2")
    assert bad.status_code == 400
    assert not IdempotencyKey.objects.filter(key="k-2").exists()
    good = client.post(url, {"data": form_data(task)}, format="json", HTTP_IDEMPOTENCY_KEY="k-3")
    assert good.status_code == 200


@pytest.mark.django_db
def test_an_expired_idempotency_key_is_free_for_a_new_request(shipped, users, agencies, client_for, settings):
    settings.BROBYGGER = {**settings.BROBYGGER, "IDEMPOTENCY_KEY_HOURS": 24}
    first, second = _nav_task(users, agencies), _nav_task(users, agencies)
    client = client_for("nils")

    answer = client.post(
        f"/api/v1/tasks/{tid(first.pk)}/complete/",
        {"data": form_data(first)},
        format="json",
        HTTP_IDEMPOTENCY_KEY="daily-1",
    )
    assert answer.status_code == 200
    # Within the day the key belongs to that request: another request with it is refused.
    other = {"data": form_data(second)}
    url = f"/api/v1/tasks/{tid(second.pk)}/complete/"
    assert client.post(url, other, format="json", HTTP_IDEMPOTENCY_KEY="daily-1").status_code == 409

    IdempotencyKey.objects.filter(key="daily-1").update(created_at=timezone.now() - timedelta(hours=25))
    again = client.post(url, other, format="json", HTTP_IDEMPOTENCY_KEY="daily-1")

    assert again.status_code == 200 and "Idempotency-Replayed" not in again
    assert Task.objects.get(pk=second.pk).status == TaskStatus.COMPLETED
    (row,) = IdempotencyKey.objects.filter(key="daily-1")
    assert row.path == url


@pytest.mark.django_db
def test_purge_deletes_only_expired_keys(users):
    old = IdempotencyKey.objects.create(
        user=users["nils"], key="old", method="POST", path="/x", fingerprint="f", status_code=200, response_body={}
    )
    IdempotencyKey.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(hours=25))
    fresh = IdempotencyKey.objects.create(
        user=users["nils"], key="fresh", method="POST", path="/x", fingerprint="f", status_code=200, response_body={}
    )
    out = StringIO()

    call_command("purge_idempotency_keys", stdout=out)

    assert list(IdempotencyKey.objects.values_list("pk", flat=True)) == [fresh.pk]
    assert out.getvalue().strip() == "1 expired idempotency keys deleted"


def _withdraw_nav(users, agencies, task):
    """The coordinator withdraws NAV from the case (NAV's other open tasks completed first)."""
    from workflows.services import withdraw_agency

    for other in open_tasks(task.case):
        if other.agency_id == agencies["nav"].pk:
            complete(other, form_data(other), actor=users["nils"])
    withdraw_agency(actor=users["bjorn"], case=task.case_id, agency=agencies["nav"].pk, reason="Ferdig")


@pytest.mark.django_db
def test_a_replay_after_the_agency_was_withdrawn_answers_404_not_the_stored_answer(
    shipped, users, agencies, client_for
):
    task = _nav_task(users, agencies)
    client = client_for("nils")
    url = f"/api/v1/tasks/{tid(task.pk)}/complete/"
    body = {"data": form_data(task)}
    assert client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="k-w").status_code == 200

    _withdraw_nav(users, agencies, task)
    again = client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="k-w")
    fresh = client.post(url, body, format="json")

    # As a fresh request: the case is gone for NAV, so is the task (nothing of the stored
    # answer: the case's reference, its status, the other agencies' open tasks).
    assert again.status_code == fresh.status_code == 404
    assert again.json()["code"] == fresh.json()["code"] == "task.not_found"
    assert "Idempotency-Replayed" not in again
    assert task.case.reference not in again.content.decode()
    # Even a key reused for another body tells nothing of its first use.
    other = client.post(url, {"data": {}}, format="json", HTTP_IDEMPOTENCY_KEY="k-w")
    assert other.status_code == 404


@pytest.mark.django_db
def test_a_replay_after_the_caller_lost_their_role_answers_as_a_fresh_request(shipped, users, agencies, client_for):
    from permissions.models import Membership, Role

    task = _nav_task(users, agencies)
    client = client_for("nils")
    url = f"/api/v1/tasks/{tid(task.pk)}/complete/"
    body = {"data": form_data(task)}
    assert client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="k-r").status_code == 200

    Membership.objects.filter(user=users["nils"], agency=agencies["nav"]).delete()
    gone = client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="k-r")
    assert gone.status_code == 404 and "Idempotency-Replayed" not in gone
    # Now in the coordinating agency instead: the task is visible, not theirs (403, as fresh).
    Membership.objects.create(user=users["nils"], agency=agencies["housing"], role=Role.COORDINATOR)
    again = client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="k-r")
    fresh = client.post(url, body, format="json")
    assert again.status_code == fresh.status_code == 403
    assert again.json()["code"] == fresh.json()["code"] == "task.other_agency"
