"""The case page and the case list show the case's next deadline ("Neste frist"): the
earliest timer of its process instances or due date of an open task, in local time
(Europe/Oslo). Read as the housing coordinator: the prison process's timers lie on the
branches of its ``has_home`` gateway, which the housing service sees (a reader who does not
is told of no timer: tests/api/test_gateway_inference_timers.py)."""

from datetime import UTC, datetime

import pytest

from workflows import selectors
from workflows.models import ProcessInstance, Task

pytestmark = pytest.mark.django_db

DASH = "\u2013"  # shown when no timer waits

WINTER = datetime(2027, 1, 15, 8, 30, tzinfo=UTC)  # 09:30 in Oslo (CET)
SUMMER = datetime(2027, 7, 1, 6, 0, tzinfo=UTC)  # 08:00 in Oslo (CEST)


def _second_instance(case, next_timer_at):
    instance = ProcessInstance.objects.filter(case=case).first()
    instance.pk = None
    instance.next_timer_at = next_timer_at
    instance.save()


def test_the_case_page_shows_the_earliest_deadline_in_local_time(web, prison_case):
    Task.objects.filter(case=prison_case).update(due_at=None)
    ProcessInstance.objects.filter(case=prison_case).update(next_timer_at=SUMMER)
    _second_instance(prison_case, WINTER)

    page = web("bjorn").get(f"/cases/{prison_case.pk}/").content.decode()

    assert "<dt>Neste frist</dt>" in page
    assert '<time datetime="2027-01-15T09:30:00+01:00">15. januar 2027 09:30</time>' in page
    assert "2027-07-01T08:00" not in page


def test_the_case_page_without_a_timer_or_due_task_shows_a_dash(web, prison_case):
    Task.objects.filter(case=prison_case).update(due_at=None)
    ProcessInstance.objects.filter(case=prison_case).update(next_timer_at=None)

    page = web("bjorn").get(f"/cases/{prison_case.pk}/").content.decode()

    assert f'<dt>Neste frist</dt><dd id="next-deadline">{DASH}</dd>' in page


def test_the_case_list_has_a_next_deadline_column(web, prison_case, users, agencies):
    from tests.workflows.helpers import start_prison_case

    Task.objects.update(due_at=None)
    ProcessInstance.objects.filter(case=prison_case).update(next_timer_at=SUMMER)
    without_timer = start_prison_case(users, agencies)
    Task.objects.filter(case=without_timer).update(due_at=None)
    ProcessInstance.objects.filter(case=without_timer).update(next_timer_at=None)

    page = web("bjorn").get("/cases/").content.decode()

    assert '<th scope="col">Neste frist</th>' in page
    assert (
        '<td data-label="Neste frist"><time datetime="2027-07-01T08:00:00+02:00">1. juli 2027 08:00</time></td>' in page
    )
    assert f'<td data-label="Neste frist">{DASH}</td>' in page


def test_english_says_next_deadline(web, prison_case):
    client = web("bjorn")
    client.post("/i18n/setlang/", {"language": "en", "next": "/cases/"})
    assert "Next deadline" in client.get("/cases/").content.decode()
    assert "Next deadline" in client.get(f"/cases/{prison_case.pk}/").content.decode()


def test_the_page_and_the_list_read_the_deadline_from_the_selectors(users, prison_case):
    ProcessInstance.objects.filter(case=prison_case).update(next_timer_at=SUMMER)
    _second_instance(prison_case, WINTER)
    bjorn = users["bjorn"]

    assert selectors.case_next_timer_at(prison_case) == WINTER
    assert selectors.case_view_for(bjorn, prison_case.pk).next_timer_at == WINTER
    assert selectors.cases_for(bjorn).get(pk=prison_case.pk).next_timer_at == WINTER


def test_an_open_task_due_before_the_timer_is_the_next_deadline_on_page_and_list(web, users, prison_case):
    ProcessInstance.objects.filter(case=prison_case).update(next_timer_at=SUMMER)
    Task.objects.filter(case=prison_case).update(due_at=WINTER)  # overdue or not, it is the next deadline
    client = web("bjorn")

    page = client.get(f"/cases/{prison_case.pk}/").content.decode()
    listing = client.get("/cases/").content.decode()

    assert '<dd id="next-deadline"><time datetime="2027-01-15T09:30:00+01:00">15. januar 2027 09:30</time></dd>' in page
    assert '<td data-label="Neste frist"><time datetime="2027-01-15T09:30:00+01:00">' in listing
    assert selectors.next_deadline(selectors.case_list_for(users["bjorn"]).get(pk=prison_case.pk)) == WINTER
    Task.objects.filter(case=prison_case).update(status="completed")  # done tasks have no deadline
    assert selectors.next_deadline(selectors.case_list_for(users["bjorn"]).get(pk=prison_case.pk)) == SUMMER
