"""Overdue work counts the open tasks past their deadline at this moment, live."""

import datetime

from django.utils import timezone

from insight import figures
from insight.models import WHOLE_MUNICIPALITY
from permissions.models import CaseParticipant
from tests.insight.conftest import PRISON_PARTICIPANTS, start
from tests.workflows.helpers import open_tasks
from workflows.models import Task


def overdue(scope: int, agency_id: int | None = None) -> dict[str, int]:
    figure = figures.overdue_now(scope, agency_id)
    return {row[0]: figure.ledger.values[row[1].cell] for row in figure.rows}


def test_an_open_task_past_its_deadline_counts_for_its_agency_at_once(finished_cases, users, agencies):
    prison, hospital = agencies["prison"], agencies["hospital"]
    case = start(users, agencies, "prison_release_to_housing", "kari", PRISON_PARTICIPANTS, "01010012437")
    task = open_tasks(case)[0]
    Task.objects.filter(pk=task.pk).update(due_at=timezone.now() + datetime.timedelta(hours=1))
    assert overdue(WHOLE_MUNICIPALITY).get(task.agency.name, 0) == 0  # not yet past it
    Task.objects.filter(pk=task.pk).update(due_at=timezone.now() - datetime.timedelta(minutes=1))
    assert overdue(WHOLE_MUNICIPALITY)[task.agency.name] == 1
    assert overdue(prison.pk)[task.agency.name] == 1  # prison takes part in the case
    assert task.agency.name not in overdue(hospital.pk)  # the hospital does not
    assert list(overdue(WHOLE_MUNICIPALITY, task.agency_id)) == [task.agency.name]  # the agency filter


def test_the_page_shows_it_as_a_small_count(client, finished_cases, users, agencies):
    case = start(users, agencies, "prison_release_to_housing", "kari", PRISON_PARTICIPANTS, "01010012437")
    Task.objects.filter(case=case).update(due_at=timezone.now() - datetime.timedelta(days=1))
    client.force_login(users["leif"])
    html = client.get("/insight/").content.decode()
    section = html[html.index('id="figure-overdue_now"') :]
    assert "&lt;5" in section[: section.index("</section>")]  # a count of 1 to 4, hidden


def test_a_task_counts_once_for_an_agency_that_plays_two_parts_in_its_case(finished_cases, users, agencies):
    prison = agencies["prison"]
    case = start(users, agencies, "prison_release_to_housing", "kari", PRISON_PARTICIPANTS, "01010012437")
    task = open_tasks(case)[0]
    Task.objects.filter(pk=task.pk).update(due_at=timezone.now() - datetime.timedelta(minutes=1))
    CaseParticipant.objects.create(case=case, kind="extra", agency=prison)  # a second part in the case
    assert overdue(prison.pk)[task.agency.name] == 1
