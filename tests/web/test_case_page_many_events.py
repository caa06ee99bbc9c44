"""A claim and its release are two events on the case's timeline, each a cheap request; the
case page read every event of the case to draw its handoffs, and its event list showed them
all. 20,000 of them made every participant's case page 1.4 s of CPU (200,000: 15 s), for
one participant's loop of claims (resource-exhaustion review)."""

import pytest

from tests.timing import cpu_time
from workflows.models import Event, EventKind, Task
from workflows.selectors import CASE_EVENTS_SHOWN

pytestmark = pytest.mark.django_db


@pytest.fixture
def busy_case(prison_case, users):
    task = Task.objects.filter(case=prison_case).first()
    kinds = (EventKind.TASK_CLAIMED, EventKind.TASK_UNCLAIMED)
    Event.objects.bulk_create(
        Event(
            case=prison_case,
            instance_id=task.instance_id,
            task=task,
            kind=kinds[index % 2],
            actor=users["kari"],
            agency=task.agency,
            element_id=task.element_id,
        )
        for index in range(20_000)
    )
    return prison_case


def test_the_case_page_reads_only_the_events_it_draws(web, busy_case):
    kari = web("kari")
    kari.get(f"/cases/{busy_case.pk}/")  # the process's first read pays for loading code
    with cpu_time() as used:
        response = kari.get(f"/cases/{busy_case.pk}/")
    assert response.status_code == 200
    assert used.seconds < 0.5  # 1.4 s before


def test_the_event_list_shows_the_latest_and_says_there_are_more(web, busy_case):
    kari = web("kari")
    with cpu_time() as used:
        response = kari.get(f"/cases/{busy_case.pk}/sections/events/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert used.seconds < 0.5
    page = response.content.decode()
    assert page.count("<li>") <= CASE_EVENTS_SHOWN
    assert f"De siste {CASE_EVENTS_SHOWN} hendelsene" in page
