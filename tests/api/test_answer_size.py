"""An error answer costs no more than the request: a body of 70,000 unknown keys (0.9 MB,
under the data limit) was answered with 40 MB, each error naming every field of the form,
and 150,000 wrong items with 3 MB (resource-exhaustion review)."""

import json

import pytest

from core.errors import MAX_FIELD_ERRORS
from tests.ids import tid
from tests.workflows import form_safety
from workflows.models import Task, TaskStatus

pytestmark = pytest.mark.django_db

FORM = {
    "type": "object",
    "properties": {
        **{f"felt_nummer_{index:02d}": {"type": "string", "x-category": "coordination"} for index in range(30)},
        "tall": {"type": "array", "items": {"type": "integer"}, "x-category": "coordination"},
        **form_safety.FILL_FORM["properties"],
    },
}


@pytest.fixture
def task(users, agencies):
    form_safety.deploy(FORM)
    return Task.objects.get(case=form_safety.start(users, agencies), element_id="Task_fill")


@pytest.mark.parametrize("language", ["en", "nb"])
def test_many_unknown_fields_get_a_short_answer(client_for, task, language):
    body = json.dumps({"data": {f"k{index}": 0 for index in range(70_000)}})
    response = client_for("nils").generic(
        "POST",
        f"/api/v1/tasks/{tid(task.pk)}/complete/",
        body,
        content_type="application/json",
        HTTP_ACCEPT_LANGUAGE=language,
    )
    assert response.status_code == 400
    assert len(response.content) < 200_000  # 40 MB before
    errors = response.json()["errors"]
    assert len(errors) == MAX_FIELD_ERRORS
    assert {error["code"] for error in errors} == {"field.unknown_in_form"}
    task.refresh_from_db()
    assert task.status == TaskStatus.OPEN


def test_many_values_refused_by_the_form_get_a_short_answer(client_for, task):
    body = json.dumps({"data": {"tall": ["x"] * 150_000}})
    response = client_for("nils").generic(
        "POST", f"/api/v1/tasks/{tid(task.pk)}/complete/", body, content_type="application/json"
    )
    assert response.status_code == 400
    assert len(response.content) < 200_000
    assert [error["code"] for error in response.json()["errors"]] == ["schema.type"] * MAX_FIELD_ERRORS
