"""Round trips of a case start and a task completion over HTTP, counted on the wire
(``tests.round_trips``): under ``make bench-http``'s load each one waits twice for a core
(the database's wake-up, then the web thread's), so the start's and the completion's p95
follow their number (issue 12). The start's reads go in one pipeline with its BEGIN
(``services.cases._StartReads``), the person's lock in the case's insert, and a step that
ends its transaction sends COMMIT in its last batch (``steps.Step.commits``)."""

import pytest
from django.urls import reverse

from tests.api.conftest import PRISON_KINDS
from tests.round_trips import counted_round_trips
from tests.workflows.helpers import form_data, worker_for
from workflows.models import Case, Task

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

PEOPLE = ["17912099997", "29822099635", "05840399895"]


def _start(client, agencies, national_id):
    body = {
        "process_key": "prison_release_to_housing",
        "person": {"name": "Ola Nordmann", "national_id": national_id},
        "participants": {kind: agencies[kind].pk for kind in PRISON_KINDS},
    }
    return client.post(reverse("api-cases"), body, format="json")


def _begun_with_reads_and_committed_last(messages):
    """BEGIN went with the transaction's first statements, and COMMIT with its last: nothing
    of the request reached the database after the step's COMMIT (``Step.commits``)."""
    began = [index for index, trip in enumerate(messages) if '"BEGIN"' in trip]
    assert len(began) == 1 and "Execute" in messages[began[0]].split('"BEGIN"', 1)[1], messages
    assert '"COMMIT"' in messages[-1] and "Execute" in messages[-1].split('"COMMIT"', 1)[0], messages


def _starter(users, agencies):
    from permissions.models import Membership

    membership = Membership.objects.filter(agency=agencies["prison"]).select_related("user").order_by("pk").first()
    return membership.user


def test_a_start_and_a_completion_over_http_take_few_round_trips(shipped, users, agencies, client_for):
    starter = _starter(users, agencies).username
    client = client_for(starter)
    assert _start(client, agencies, PEOPLE[0]).status_code == 201  # warm: sessions, caches, prepared statements
    # A person on file (as the bench's three), then one new: the same round trips.
    for national_id in (PEOPLE[0], PEOPLE[1]):
        with counted_round_trips() as trips:
            answer = _start(client, agencies, national_id)
        assert answer.status_code == 201, answer.content
        # The token's read; the start's reads with BEGIN; the case's insert with the person's
        # lock; the step's batch (the tasks' ids); the events with the answer's read and COMMIT.
        assert trips.count == 5, "\n".join(trips.messages)
        _begun_with_reads_and_committed_last(trips.messages)
    case = Case.objects.get(pk=answer.json()["id"])

    task = Task.objects.filter(case=case, status="open").order_by("pk").first()
    worker = client_for(worker_for(task).username)
    url = reverse("api-task-complete", args=[task.pk])
    assert worker.post(url, {"data": form_data(task)}, format="json").status_code == 200  # warm the worker
    task = Task.objects.filter(case=case, status="open").order_by("pk").first()
    worker = client_for(worker_for(task).username)
    url, body = reverse("api-task-complete", args=[task.pk]), {"data": form_data(task)}
    with counted_round_trips() as trips:
        answer = worker.post(url, body, format="json")
    assert answer.status_code == 200, answer.content
    task.refresh_from_db()
    assert task.status == "completed"
    # The token's read; the lock and completion with BEGIN; the step's batch with COMMIT (and
    # a batch more when the step creates tasks, for their ids).
    # The token's read; the lock and completion with BEGIN; the step's batch with COMMIT (a
    # batch more when the step creates tasks, for their ids: not this one).
    assert trips.count == 3, "\n".join(trips.messages)
    _begun_with_reads_and_committed_last(trips.messages)
    assert Case.objects.filter(person__national_id=PEOPLE[1]).count() == 1
