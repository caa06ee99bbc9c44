"""Issue 13, the "today" page: the housing contact's cases with who has the ball, what is
overdue and what waits on a date; only for housing contacts, only their cases."""

from datetime import UTC, datetime, timedelta

import pytest

from tests.workflows.helpers import run_to_end, start_prison_case
from workflows.models import Case, Task

pytestmark = pytest.mark.django_db


def test_the_housing_contact_sees_the_ball_overdue_first_and_what_waits(web, users, agencies, shipped):
    waiting = start_prison_case(users, agencies)
    run_to_end(waiting)  # the monthly follow-up timer
    late = start_prison_case(users, agencies, person={"name": "Kari Hansen", "national_id": "01010110013"})
    Task.objects.filter(case=late).update(due_at=datetime(2020, 1, 1, tzinfo=UTC))
    Case.objects.update(responsible=users["bjorn"])

    page = web("bjorn").get("/today/").content.decode()

    assert page.index(f'id="today-case-{late.pk}"') < page.index(f'id="today-case-{waiting.pk}"')  # overdue first
    late_card = page[page.index(f'id="today-case-{late.pk}"') :]
    late_card = late_card[: late_card.index("</li>\n  \n")]
    assert "Kari Hansen" in late_card and "Halden fengsel" in late_card and "forfalt" in late_card
    waiting_card = page[page.index(f'id="today-case-{waiting.pk}"') :]
    assert "saken venter til" in waiting_card and "Ola Nordmann" in waiting_card


def test_only_the_cases_i_coordinate_and_only_for_housing_contacts(web, users, agencies, shipped):
    case = start_prison_case(users, agencies)
    Case.objects.filter(pk=case.pk).update(responsible=users["ada"])  # someone else's (not a contact, but set)
    assert f'id="today-case-{case.pk}"' not in web("bjorn").get("/today/").content.decode()
    Case.objects.filter(pk=case.pk).update(responsible=None)  # nobody's yet: the agency's contacts see it
    assert f'id="today-case-{case.pk}"' in web("bjorn").get("/today/").content.decode()
    for username in ("kari", "nils", "siri", "aud", "ada", "oscar"):
        response = web(username).get("/today/")
        assert response.status_code == 403 and "Ola Nordmann" not in response.content.decode()
        assert 'href="/today/"' not in web(username).get("/tasks/").content.decode()
    assert 'href="/today/"' in web("bjorn").get("/tasks/").content.decode()


def test_a_closed_case_is_not_on_today(web, users, agencies, shipped):
    case = start_prison_case(users, agencies)
    Case.objects.filter(pk=case.pk).update(status="completed", closed_at=datetime.now(UTC) - timedelta(days=1))
    assert f'id="today-case-{case.pk}"' not in web("bjorn").get("/today/").content.decode()
