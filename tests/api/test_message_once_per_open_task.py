"""``POST /api/v1/messages/`` sent again while the task its earlier delivery opened is open
(PostgreSQL): 409 in the API's error shape, naming the message and no value; the
Idempotency-Key of the task's completion still replays its first answer, and the next
message after the completion opens a new task."""

import pytest
from django.urls import reverse

from tests.english import english_in
from tests.workflows.helpers import form_data, open_tasks
from tests.workflows.jobs.conftest import walk_to_find_home
from workflows.models import Event, EventKind, Task, TaskStatus

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

URL = reverse("api-messages")
ADJUST = "Task_adjust_housing_plan"


def _message(case, **payload):
    return {"name": "release_date_changed", "case_reference": case.reference, "payload": payload}


def _adjust_tasks(case):
    return [task for task in open_tasks(case) if task.element_id == ADJUST]


def test_an_empty_repeat_answers_409_with_the_message_named_and_no_value(shipped, users, agencies, client_for):
    case = walk_to_find_home(users, agencies, "2027-12-15")
    kari = client_for("kari")
    first = kari.post(URL, _message(case, expected_release_date="2027-11-03"), format="json")
    assert first.status_code == 202, first.json()
    assert first.json()["element_ids"] == ["BoundaryEvent_release_date_changed"]

    again = kari.post(URL, _message(case), format="json")
    assert again.status_code == 409, again.json()
    body = again.json()
    assert body["code"] == "message.task_still_open"
    assert "release_date_changed" in body["detail"] and "still open" in body["detail"]
    assert [(error["field"], error["code"]) for error in body["errors"]] == [("name", "message.name_task_still_open")]
    assert "2027" not in again.content.decode() and case.reference not in again.content.decode()
    assert len(_adjust_tasks(case)) == 1

    bokmal = kari.post(URL, _message(case), format="json", HTTP_ACCEPT_LANGUAGE="nb")
    assert bokmal.status_code == 409
    assert english_in(bokmal.json()["detail"]) == [], bokmal.json()["detail"]
    assert "fortsatt åpen" in bokmal.json()["detail"]


def test_a_new_date_is_taken_in_without_a_second_task(shipped, users, agencies, client_for):
    case = walk_to_find_home(users, agencies, "2027-12-15")
    kari = client_for("kari")
    assert kari.post(URL, _message(case), format="json").status_code == 202
    moved = kari.post(URL, _message(case, expected_release_date="2028-02-01"), format="json")
    assert moved.status_code == 202 and moved.json()["status"] == "delivered"
    assert len(_adjust_tasks(case)) == 1
    assert Event.objects.filter(case=case, kind=EventKind.MESSAGE_RECEIVED).count() == 2


def test_the_completions_idempotency_key_replays_and_the_next_message_opens_a_new_task(
    shipped, users, agencies, client_for
):
    case = walk_to_find_home(users, agencies, "2027-12-15")
    kari, bjorn = client_for("kari"), client_for("bjorn")
    assert kari.post(URL, _message(case), format="json").status_code == 202
    (adjust,) = _adjust_tasks(case)
    complete_url = reverse("api-task-complete", kwargs={"pk": adjust.pk})
    body = {"data": form_data(adjust)}
    first = bjorn.post(complete_url, body, format="json", HTTP_IDEMPOTENCY_KEY="adjust-1")
    assert first.status_code == 200, first.json()

    assert kari.post(URL, _message(case), format="json").status_code == 202
    (second,) = _adjust_tasks(case)
    assert second.pk != adjust.pk

    replay = bjorn.post(complete_url, body, format="json", HTTP_IDEMPOTENCY_KEY="adjust-1")
    assert replay.status_code == 200 and replay["Idempotency-Replayed"] == "true"
    assert replay.json()["task"] == first.json()["task"]
    # The replay completed nothing: the new task stays open, and a repeat is still refused.
    assert Task.objects.get(pk=second.pk).status == TaskStatus.OPEN
    assert kari.post(URL, _message(case), format="json").status_code == 409
