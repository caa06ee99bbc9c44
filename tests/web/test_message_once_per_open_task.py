"""The case page's "tell the case about a change" form, sent again while the task the first
message opened is still open (PostgreSQL): no second task, and the page says why in bokmål."""

import pytest
from django.urls import reverse

from tests.workflows.helpers import open_tasks
from tests.workflows.jobs.conftest import walk_to_find_home

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

REFUSAL = "Saken har allerede en åpen oppgave fra denne meldingen"


def _adjust_tasks(case):
    return [task for task in open_tasks(case) if task.element_id == "Task_adjust_housing_plan"]


def test_the_same_date_sent_twice_from_the_form_opens_one_task(shipped, users, agencies, web):
    case = walk_to_find_home(users, agencies, "2027-12-15")
    kari = web("kari")
    url = reverse("case-message", args=[case.pk])
    form = {"message": "release_date_changed", "expected_release_date": "2027-11-03"}

    first = kari.post(url, form, follow=True)
    assert first.status_code == 200
    assert "Meldingen er sendt" in first.content.decode()
    assert len(_adjust_tasks(case)) == 1

    again = kari.post(url, form, follow=True)
    assert again.status_code == 200
    page = again.content.decode()
    assert REFUSAL in page and "Meldingen er sendt" not in page
    assert again.redirect_chain[-1][0].endswith("#send-message")
    assert len(_adjust_tasks(case)) == 1

    moved = kari.post(url, {**form, "expected_release_date": "2028-01-20"}, follow=True)
    assert "Meldingen er sendt" in moved.content.decode()
    assert len(_adjust_tasks(case)) == 1
