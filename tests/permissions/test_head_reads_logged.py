"""A HEAD to a route that shows case data is a read, logged as its GET is (docs/data-protection.md,
"What is logged as read"): it runs the same view, checks the same access and decides the same
masks; it answers no body, but its status confirms that the case exists and is open to the
reader, and its ``Content-Length`` is the length of the body the GET would show, which depends
on the values shown. Unlogged, it would be a way to probe cases that the person's access
report never shows. A reader the case answers 404 writes nothing, by HEAD as by GET."""

import pytest
from django.urls import reverse

from permissions.models import AccessLog
from tests.clients import api, web
from tests.ids import tid

pytestmark = pytest.mark.django_db

ROW = ("username", "agency__kind", "role", "category", "basis", "action", "item", "case_id", "person_id")


def rows_since(before: int) -> list[tuple]:
    return sorted(AccessLog.objects.filter(pk__gt=before).values_list(*ROW))


def last_row() -> int:
    return AccessLog.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def routes(case, task) -> list[tuple[str, str]]:
    return [
        ("api", f"/api/v1/cases/{case.pk}/"),
        ("api", f"/api/v1/tasks/{tid(task.pk)}/"),
        ("api", f"/api/v1/cases/{case.pk}/timeline/"),
        ("api", f"/api/v1/cases/{case.pk}/consents/"),
        ("api", f"/api/v1/cases/{case.pk}/access-log/"),
        ("web", reverse("case", args=[case.pk])),
        ("web", reverse("task", args=[task.pk])),
    ]


@pytest.mark.parametrize("index", range(7))
def test_a_head_to_a_case_or_task_route_logs_the_rows_its_get_logs(users, prison_case, index):
    task = prison_case.tasks.get(element_id="Task_intake_interview")
    kind, url = routes(prison_case, task)[index]
    client = (api if kind == "api" else web)(users["bjorn"] if "access-log" in url else users["kari"])

    before = last_row()
    got = client.get(url)
    by_get = rows_since(before)
    before = last_row()
    head = client.head(url)
    by_head = rows_since(before)

    assert (got.status_code, head.status_code) == (200, 200)
    assert by_get and by_head == by_get
    assert head.content == b""


@pytest.mark.parametrize("index", range(7))
def test_a_head_from_a_reader_the_case_is_hidden_from_writes_nothing(users, prison_case, index):
    task = prison_case.tasks.get(element_id="Task_intake_interview")
    kind, url = routes(prison_case, task)[index]
    client = (api if kind == "api" else web)(users["siri"])  # the hospital takes no part

    before = last_row()
    assert client.head(url).status_code == 404
    assert rows_since(before) == []
