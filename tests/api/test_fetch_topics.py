"""A fetch-and-lock names at most 50 topics: 30,000 in one body (6 MB, under the body limit)
took 5.4 s, 1.6 s of it CPU in the web process (resource-exhaustion review)."""

import pytest

from .test_external_tasks import FETCH, TOPIC, waiting_on_nav_system

pytestmark = pytest.mark.django_db


@pytest.fixture
def waiting(users, agencies):
    return waiting_on_nav_system(users, agencies)


def _topics(count):
    return [TOPIC] + [{"topicName": f"topic-{index}", "lockDuration": 60000} for index in range(count - 1)]


def test_a_fetch_naming_too_many_topics_is_400_naming_them(client_for, waiting):
    body = {"workerId": "w1", "maxTasks": 5, "topics": _topics(51)}
    response = client_for("nils").post(FETCH, body, format="json")
    assert response.status_code == 400
    assert {error["field"] for error in response.json()["errors"]} == {"topics"}


def test_a_fetch_naming_fifty_topics_is_served(client_for, waiting):
    body = {"workerId": "w1", "maxTasks": 5, "topics": _topics(50)}
    response = client_for("nils").post(FETCH, body, format="json")
    assert response.status_code == 200
    assert [task["topicName"] for task in response.json()] == ["housing-register"]
