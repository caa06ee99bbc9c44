"""Public ids of tasks and events (``core.public_ids``, docs/security.md "What the path of a
case gives away"): what the API and the pages call a task or an event is a keyed permutation of
its key, so no id counts the rows hidden from a reader, no cursor carries a key, and no id of a
row a reader may not see answers otherwise than one that names no row."""

import json
import random
import re
import zlib
from urllib.parse import parse_qs, urlparse

import pytest
from django.contrib.auth.models import Group
from django.core import signing
from django.test import override_settings
from django.urls import resolve, reverse

from core import public_ids
from permissions.models import Agency
from tests.api.test_gateway_inference_lists import hidden_tasks, housing_branch  # noqa: F401 (a fixture)
from tests.clients import api, web
from tests.workflows.helpers import PERSON
from workflows import services
from workflows.models import Event, Task

pytestmark = pytest.mark.django_db


def test_the_permutation_is_one_to_one_and_differs_per_kind():
    keys = [*range(1, 3000), 2**31 - 1, 2**40 + 7, public_ids.LIMIT - 1]
    for kind in public_ids.KINDS:
        shown = [public_ids.encode(kind, key) for key in keys]
        assert len(set(shown)) == len(keys)
        assert all(0 <= number < public_ids.LIMIT <= 2**53 for number in shown)  # exact in JavaScript
        assert [public_ids.decode(kind, number) for number in shown] == keys
    assert all(public_ids.encode("task", key) != public_ids.encode("event", key) for key in keys)
    # Neighbouring keys are not neighbouring ids: the gaps are spread over the 52 bits.
    gaps = [public_ids.encode("task", key + 1) - public_ids.encode("task", key) for key in range(1, 200)]
    assert min(abs(gap) for gap in gaps) > 2**20
    assert sum(gap > 0 for gap in gaps) not in (0, len(gaps))  # not in creation order either


def test_another_key_gives_other_ids():
    before = public_ids.encode("task", 42)
    with override_settings(BROBYGGER={**_settings(), "PUBLIC_ID_KEY": "another key"}):
        assert public_ids.encode("task", 42) != before
        assert public_ids.decode("task", public_ids.encode("task", 42)) == 42


def _settings():
    from django.conf import settings

    return settings.BROBYGGER


def test_reverse_and_resolve_round_trip():
    for route in ("api-task", "api-task-complete", "task", "task-claim"):
        for key in (1, 77, 123456789):
            url = reverse(route, args=[key])
            assert str(public_ids.encode("task", key)) in url.split("/")
            assert str(key) not in url.split("/")
            assert resolve(url).kwargs == {"pk": key}


def _not_found(client, number, *, web_client):
    """The API's answers (read, claim, complete) and the page's status for task ``number``."""
    answers = [
        client.get(f"/api/v1/tasks/{number}/"),
        client.post(f"/api/v1/tasks/{number}/claim/"),
        client.post(f"/api/v1/tasks/{number}/complete/", {"data": {}}, format="json"),
    ]
    bodies = [{**answer.json(), "request_id": None} for answer in answers]  # each request's own id aside
    return [(answer.status_code, body) for answer, body in zip(answers, bodies, strict=True)], web_client.get(
        f"/tasks/{number}/"
    ).status_code


def test_a_hidden_task_another_cases_task_and_a_made_up_id_answer_alike(housing_branch, users, agencies):  # noqa: F811
    other_nav = Agency.objects.create(
        name="NAV Halden", kind="nav", group=Group.objects.create(name="agency:NAV Halden")
    )
    elsewhere = services.start_case(
        actor=users["helga"],
        process_key="Proc_lists",
        person=PERSON,
        participants={"health": agencies["health"].pk, "housing": agencies["housing"].pk, "nav": other_nav.pk},
    )
    another_case_task = Task.objects.get(case=elsewhere, element_id="Task_assess")
    hidden = hidden_tasks()[0]
    client, browser = api(users["nils"]), web(users["nils"])
    numbers = {
        "hidden": public_ids.encode("task", hidden.pk),
        "another case": public_ids.encode("task", another_case_task.pk),
        "made up": random.Random(7).randrange(public_ids.LIMIT),
        "past the range": public_ids.LIMIT + 5,
        "far past bigint": 10**40,
    }
    answers = {name: _not_found(client, number, web_client=browser) for name, number in numbers.items()}
    first = answers["hidden"]
    assert [status for status, _ in first[0]] == [404, 404, 404] and first[1] == 404
    for name, answer in answers.items():
        assert answer == first, name


def test_an_event_id_on_a_task_route_is_404(housing_branch, users):  # noqa: F811
    client = api(users["nils"])
    case = housing_branch["yes"]
    timeline = client.get(reverse("api-case-timeline", args=[case.pk])).json()["results"]
    with_task = [row for row in timeline if row["task"] is not None]
    assert with_task
    row = with_task[0]
    assert client.get(f"/api/v1/tasks/{row['task']}/").status_code == 200  # the task's id opens it ...
    answer = client.get(f"/api/v1/tasks/{row['id']}/")  # ... the event's (same table? no: its own kind) not
    assert answer.status_code == 404 and answer.json()["code"] == "task.not_found"
    # Keys that are a task's and an event's at once are no matter: the ids differ by kind.
    event = Event.objects.get(pk=public_ids.decode("event", row["id"]))
    assert public_ids.encode("task", event.pk) != row["id"]


def _cursor_payload(link: str) -> dict:
    """What anybody reads in a cursor without its key: signed, not secret."""
    token = parse_qs(urlparse(link).query)["cursor"][0]
    body = token.rsplit(":", 2)[0]
    raw = signing.b64_decode(body.lstrip(".").encode())
    return json.loads(zlib.decompress(raw) if body.startswith(".") else raw)


def test_the_cursor_carries_no_key(housing_branch, users):  # noqa: F811
    client = api(users["nils"])
    case = housing_branch["yes"]
    for url, kind, model in (
        (reverse("api-tasks") + "?page_size=1", "task", Task),
        (reverse("api-case-timeline", args=[case.pk]) + "?page_size=1", "event", Event),
    ):
        page = client.get(url).json()
        assert page["next"], url
        payload = _cursor_payload(page["next"])
        shown = page["results"][0]["id"]
        key = public_ids.decode(kind, shown)
        assert model.objects.filter(pk=key).exists()
        assert key not in payload["v"] and shown in payload["v"], payload
        # The next page follows on from it, and the cursor still reads back.
        following = client.get(page["next"]).json()
        assert following["results"] and following["results"][0]["id"] != shown
        assert client.get(following["previous"]).json()["results"][0]["id"] == shown


def test_an_altered_cursor_is_refused(housing_branch, users):  # noqa: F811
    """A cursor that names a key where its public id went is a forged one: its signature fails."""
    client = api(users["nils"])
    page = client.get(reverse("api-tasks") + "?page_size=1").json()
    token = page["next"].split("cursor=")[1]
    answer = client.get(reverse("api-tasks"), {"cursor": token[:-3] + "abc"})
    assert answer.status_code == 400 and answer.json()["errors"][0]["field"] == "cursor"


def test_the_schema_says_the_ids_are_opaque(users):
    schema = api(users["nils"]).get(reverse("api-schema"), {"format": "json"}).json()
    components = schema["components"]["schemas"]
    for component, field in (("Task", "id"), ("Event", "id"), ("Event", "task"), ("Withdrawal", "event")):
        described = components[component]["properties"][field]
        assert described.get("x-opaque") is True, (component, field, described)
        assert "opaque" in described.get("description", ""), (component, field, described)


def test_the_web_task_page_answers_alike_for_a_hidden_task_and_a_made_up_id(housing_branch, users):  # noqa: F811
    browser = web(users["nils"])
    hidden = browser.get(reverse("task", args=[hidden_tasks()[0].pk]))
    made_up = browser.get(f"/tasks/{random.Random(3).randrange(public_ids.LIMIT)}/")
    assert hidden.status_code == made_up.status_code == 404

    def page(answer):  # the scripts' nonce, the CSRF token and the page's own path aside
        own = rb'(nonce="|"X-CSRFToken": "|name="csrfmiddlewaretoken" value="|name="next" value=")[^"]*"'
        return re.sub(own, rb"\1", answer.content)

    assert page(hidden) == page(made_up)
