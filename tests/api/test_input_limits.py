"""Text the database cannot hold, data nested or sized past the limits, and forms that would
attack the server: 400 naming the field on every route, never a 500 (issue 11)."""

import json

import pytest

from bpmn.models import ProcessDefinition
from tests.ids import tid
from tests.timing import cpu_time
from tests.workflows import form_safety
from workflows.models import Case, Event, EventKind, Task, TaskStatus

from .conftest import PERSON, PRISON_KINDS

pytestmark = pytest.mark.django_db


def _post_raw(client, url, text):
    return client.generic("POST", url, text.encode("utf-8", "surrogatepass"), content_type="application/json")


def _fields(response):
    return {error["field"] for error in response.json()["errors"]}


@pytest.fixture
def fill_task(users, agencies):
    form_safety.deploy()
    case = form_safety.start(users, agencies)
    return Task.objects.get(case=case, element_id="Task_fill")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ('{"data": {"note": "a\\u0000b"}}', "data.note"),
        ('{"data": {"no\\u0000te": "x"}}', "data.no\\u0000te"),
        ('{"data": {"note": "\\ud800"}}', "data.note"),
        ('{"data": {"note": ["ok", "\\udfff"]}}', "data.note.1"),
    ],
)
def test_a_nul_or_a_lone_surrogate_in_task_data_is_400_naming_the_field(client_for, fill_task, body, field):
    response = _post_raw(client_for("nils"), f"/api/v1/tasks/{tid(fill_task.pk)}/complete/", body)
    assert response.status_code == 400, response.content
    assert _fields(response) == {field}
    assert b"\\u0000" not in response.content.replace(b"\\\\u0000", b"")  # the NUL is named, not sent back
    fill_task.refresh_from_db()
    assert fill_task.status == TaskStatus.OPEN


def test_task_data_nested_or_sized_past_the_limits_is_400(client_for, fill_task, settings):
    client = client_for("nils")
    url = f"/api/v1/tasks/{tid(fill_task.pk)}/complete/"
    nested = "x"
    for _ in range(20):
        nested = {"n": nested}
    response = client.post(url, {"data": {"note": nested}}, format="json")  # the service names the field
    assert response.status_code == 400 and _fields(response) == {"note" + ".n" * 19}
    assert response.json()["errors"][0]["message"] == "is nested more than 20 levels deep"

    very_deep = '{"data": {"note": ' + '{"n": ' * 500 + '"x"' + "}" * 500 + "}}"
    response = _post_raw(client, url, very_deep)  # the parser stops it before any view walks it
    assert response.status_code == 400 and _fields(response) == {"data.note" + ".n" * 62}
    assert response.json()["errors"][0]["message"] == "is nested more than 64 levels deep"

    settings.BROBYGGER = {**settings.BROBYGGER, "SUBMITTED_DATA_MAX_BYTES": 1000}
    response = client.post(url, {"data": {"note": "x" * 2000}}, format="json")
    assert response.status_code == 400 and _fields(response) == {"data"}
    fill_task.refresh_from_db()
    assert fill_task.status == TaskStatus.OPEN


def test_a_nul_in_start_data_or_the_person_is_400(client_for, users, agencies, shipped):
    client = client_for("kari")
    body = {
        "process_key": "prison_release_to_housing",
        "person": {**PERSON, "name": "Ola\x00"},
        "participants": {kind: agencies[kind].pk for kind in PRISON_KINDS},
        "data": {"expected_release_date": "2027-03-01\x00"},
    }
    response = client.post("/api/v1/cases/", body, format="json")
    assert response.status_code == 400
    assert _fields(response) == {"person.name", "data.expected_release_date"}
    assert not Case.objects.exists()


def test_a_nul_in_the_idempotency_key_is_400(client_for, fill_task):
    response = client_for("nils").post(
        f"/api/v1/tasks/{tid(fill_task.pk)}/complete/",
        {"data": {"note": "x"}},
        format="json",
        HTTP_IDEMPOTENCY_KEY="k\x00",
    )
    assert response.status_code == 400 and _fields(response) == {"Idempotency-Key"}
    fill_task.refresh_from_db()
    assert fill_task.status == TaskStatus.OPEN


def test_a_nul_in_a_message_payload_is_400(client_for, prison_case):
    response = client_for("kari").post(
        "/api/v1/messages/",
        {
            "name": "release_date_changed",
            "case_reference": prison_case.reference,
            "payload": {"expected_release_date": "2027-03-01\x00"},
        },
        format="json",
    )
    assert response.status_code == 400 and _fields(response) == {"payload.expected_release_date"}
    assert not Event.objects.filter(kind=EventKind.MESSAGE_RECEIVED).exists()


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/process-definitions/%00/",
        "/api/v1/process-definitions/a%00b/versions/1/",
        "/api/v1/tasks/?search=%00",
        "/api/v1/cases/?reference=BK%00",
    ],
)
def test_a_nul_in_the_path_or_the_query_is_400(client_for, shipped, path):
    response = client_for("nils").get(path)
    assert response.status_code == 400
    assert response.json()["errors"][0]["message"].startswith("contains a NUL character")
    assert _fields(response) <= {"path", "search", "reference"}


def test_a_form_with_a_remote_ref_is_refused_at_deploy(client_for, db):
    form = {"type": "object", "properties": {"note": {"$ref": "http://169.254.169.254/latest/meta-data"}}}
    response = client_for("ada").post(
        "/api/v1/process-definitions/",
        {
            "bpmn_xml": form_safety.model(),
            "forms": {"fill.schema.json": form, "start.schema.json": form_safety.START_FORM},
        },
        format="json",
    )
    assert response.status_code == 400
    (error,) = response.json()["errors"]
    assert (error["code"], error["element_id"]) == ("remote-ref", "Task_fill")
    assert "'fill.schema.json'" in error["message"] and "in the field 'note'" in error["message"]
    assert not ProcessDefinition.objects.exists()


def test_a_catastrophic_pattern_is_answered_at_once_over_http(client_for, fill_task):
    nils, url = client_for("nils"), f"/api/v1/tasks/{tid(fill_task.pk)}/complete/"
    # The same refusal of a short value first: the process's first request pays for loading
    # code, which is not what is measured.
    assert nils.post(url, {"data": {"code": "!"}}, format="json").status_code == 400
    with cpu_time() as used:
        response = nils.post(url, {"data": {"code": "a" * 40 + "!"}}, format="json")
    assert used.seconds < 0.5
    assert response.status_code == 400 and _fields(response) == {"code"}
    assert json.loads(response.content)["errors"][0]["code"] == "schema.pattern"


@pytest.mark.parametrize(
    "items",
    [",".join(["{}"] * 1_000_000), ",".join(["0"] * 2_000_000)],
    ids=["a million empty objects", "two million zeros"],
)
def test_a_body_of_millions_of_tiny_items_is_refused_in_bounded_time(client_for, fill_task, items):
    """Under the 6 MB body limit, far over the 1 MB data limit: the walks that check every key
    and text built a dotted name for each item (3.4 s of CPU for one request)."""
    with cpu_time() as used:
        response = _post_raw(
            client_for("nils"), f"/api/v1/tasks/{tid(fill_task.pk)}/complete/", '{"data": {"note": [' + items + "]}}"
        )
    assert used.seconds < 1.5
    assert response.status_code == 400
    assert [(error["field"], error["code"]) for error in response.json()["errors"]] == [("data", "field.too_large")]
