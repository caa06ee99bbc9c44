"""One user takes one task at most ``TASK_CLAIMS_PER_USER`` times (taking it, taking it over,
or handing it on as the agency's lead). Each claim and each release is an event of the case's
timeline, which the archive's case file lays out row by row (about 5 ms of a worker's CPU per
event, 38 s for 8,000): a member who took and released a task in a loop, two cheap requests at
the API's 1,200 a minute, made a case file that kept a job worker busy for as long as they
liked, on every attempt, with the case's row locked. The task stays open to everyone else, and
to being completed without a claim."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.tokens import issue
from core.errors import Conflict
from permissions.models import Membership, Role
from workflows import services
from workflows.models import Event, EventKind, TaskStatus

from .helpers import complete, open_tasks, start_prison_case

pytestmark = pytest.mark.django_db

CLAIM_EVENTS = (EventKind.TASK_CLAIMED, EventKind.TASK_UNCLAIMED)


@pytest.fixture
def task(users, agencies, shipped):
    (first,) = open_tasks(start_prison_case(users, agencies))
    return first


def _person(name, task, role=Role.MEMBER):
    user = get_user_model().objects.create_user(name, password="x")
    Membership.objects.create(user=user, agency=task.agency, role=role)
    return user


def _events(task) -> int:
    return Event.objects.filter(task=task, kind__in=CLAIM_EVENTS).count()


def _taken_and_released(user, task, times):
    for _ in range(times):
        services.claim_task(actor=user, task_id=task.pk)
        services.unclaim_task(actor=user, task_id=task.pk)


def _refused(call) -> dict:
    with pytest.raises(Conflict) as refused:
        call()
    return {"code": refused.value.code, "limit": refused.value.params.get("limit")}


def test_a_user_takes_a_task_at_most_so_many_times_and_it_stays_open_to_the_others(task, settings):
    settings.TASK_CLAIMS_PER_USER = 3
    looping, colleague = _person("claim-room-a", task), _person("claim-room-b", task)
    _taken_and_released(looping, task, 3)
    before = _events(task)

    assert _refused(lambda: services.claim_task(actor=looping, task_id=task.pk)) == {
        "code": "task.claims_full",
        "limit": 3,
    }
    task.refresh_from_db()
    assert (task.status, task.assignee_id, _events(task)) == (TaskStatus.OPEN, None, before)  # nothing written

    services.claim_task(actor=colleague, task_id=task.pk)  # the colleague's own count
    task.refresh_from_db()
    assert (task.status, task.assignee_id) == (TaskStatus.CLAIMED, colleague.pk)


def test_taking_over_counts_as_taking_and_the_task_is_still_completed_unclaimed(task, settings):
    settings.TASK_CLAIMS_PER_USER = 2
    looping, colleague = _person("claim-room-c", task), _person("claim-room-d", task)
    _taken_and_released(looping, task, 1)
    services.claim_task(actor=colleague, task_id=task.pk)
    services.reassign_task(actor=looping, task_id=task.pk)  # the second: taken over
    services.reassign_task(actor=colleague, task_id=task.pk)
    assert _refused(lambda: services.reassign_task(actor=looping, task_id=task.pk))["code"] == "task.claims_full"
    services.unclaim_task(actor=colleague, task_id=task.pk)

    complete(task, actor=looping)  # the work is never held up: completed without a claim
    task.refresh_from_db()
    assert (task.status, task.completed_by_id) == (TaskStatus.COMPLETED, looping.pk)


def test_a_lead_hands_a_task_on_so_many_times(task, settings):
    settings.TASK_CLAIMS_PER_USER = 2
    lead = _person("claim-room-lead", task, role=Role.LEAD)
    first, second = _person("claim-room-e", task), _person("claim-room-f", task)
    services.claim_task(actor=first, task_id=task.pk)
    services.reassign_task(actor=lead, task_id=task.pk, assignee=second.pk)
    services.reassign_task(actor=lead, task_id=task.pk, assignee=first.pk)
    before = _events(task)
    refused = _refused(lambda: services.reassign_task(actor=lead, task_id=task.pk, assignee=second.pk))
    assert refused["code"] == "task.claims_full" and _events(task) == before


def test_the_api_and_the_page_refuse_the_claim_past_the_limit_in_bokmal(task, settings):
    settings.TASK_CLAIMS_PER_USER = 1
    looping = _person("claim-room-g", task)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {issue(looping)[0]}")
    assert api.post(reverse("api-task-claim", args=[task.pk]), HTTP_ACCEPT_LANGUAGE="nb").status_code == 200
    assert api.post(reverse("api-task-unclaim", args=[task.pk])).status_code == 200

    answer = api.post(reverse("api-task-claim", args=[task.pk]), HTTP_ACCEPT_LANGUAGE="nb")
    assert answer.status_code == 409, answer.content
    body = answer.json()
    assert body["code"] == "task.claims_full"
    assert body["detail"] == (
        "du har tatt denne oppgaven 1 gang det siste døgnet, så ofte som én person kan; fullfør den uten "
        "å ta den, la en kollega gjøre den, eller ta den igjen i morgen"
    )

    page = APIClient()
    page.force_login(looping)
    shown = page.post(reverse("task-claim", args=[task.pk]), follow=True, HTTP_ACCEPT_LANGUAGE="nb")
    assert shown.status_code == 200
    assert "du har tatt denne oppgaven 1 gang" in shown.content.decode().lower()
    assert _events(task) == 2  # the one claim and its release


def test_the_claims_counted_are_those_of_the_last_24_hours(task, settings):
    """A caseworker who takes a long follow-up task each morning and puts it back at night is
    never refused: until 2026-12-07 the count was of the task's life (50 days of it)."""
    settings.TASK_CLAIMS_PER_USER = 2
    daily = _person("claim-room-h", task)
    _taken_and_released(daily, task, 2)
    assert _refused(lambda: services.claim_task(actor=daily, task_id=task.pk))["code"] == "task.claims_full"

    Event.objects.filter(task=task, actor=daily).update(created_at=timezone.now() - timedelta(hours=24, minutes=1))
    services.claim_task(actor=daily, task_id=task.pk)  # yesterday's claims no longer count
    task.refresh_from_db()
    assert (task.status, task.assignee_id) == (TaskStatus.CLAIMED, daily.pk)
