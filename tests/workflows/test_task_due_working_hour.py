"""Issue 13, point 5 for task deadlines: a user task's ``dueIn`` of whole days falls due at
the working hour in Europe/Oslo (09:00, a weekend day or public holiday moved on), by the
same rule as a timer due in days, so a task created at 03:39 is not overdue at 03:39 five
days later. A deadline with hours or minutes stays exact, as does every deadline when the
working hour is off."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from bpmn.engine import working_hours
from workflows import services
from workflows.models import Case, Event, EventKind

from .helpers import deploy_withdrawn_task_model, open_tasks

OSLO = ZoneInfo("Europe/Oslo")
pytestmark = pytest.mark.django_db


def oslo(*args) -> datetime:
    return datetime(*args, tzinfo=OSLO)


def task_created_at(monkeypatch, users, agencies, due_in: str, moment: datetime):
    """The prison task of a case started at ``moment``, due ``due_in`` after it."""
    deploy_withdrawn_task_model(first_due=due_in)
    monkeypatch.setattr(timezone, "now", lambda: moment)
    case = services.start_case(
        actor=users["kari"],
        process_key="Proc_withdrawn",
        person={"name": "Ola Nordmann", "national_id": "17912099997"},
        participants={"prison": agencies["prison"].pk},
    )
    (task,) = open_tasks(case)
    return case, task


@pytest.mark.parametrize(
    ("due_in", "created", "due"),
    [
        # created at 03:39 at night: due five days on at 09:00, not at 03:39
        ("P5D", oslo(2027, 3, 9, 3, 39), oslo(2027, 3, 15, 9, 0)),  # Sunday 14 -> Monday 15
        ("P1D", oslo(2027, 3, 9, 3, 39), oslo(2027, 3, 10, 9, 0)),
        # late in the evening, the next working day's morning
        ("P1D", oslo(2027, 3, 9, 23, 50), oslo(2027, 3, 10, 9, 0)),
        # Friday + 1 day is a Saturday: the Monday after
        ("P1D", oslo(2027, 3, 12, 14, 0), oslo(2027, 3, 15, 9, 0)),
        # a week across the start of summer time (28 March 2027): 09:00 summer time
        ("P1W", oslo(2027, 3, 24, 3, 39), oslo(2027, 3, 31, 9, 0)),
        # a month from 16 April 2027 is 16 May (a Sunday), Monday 17 May a public holiday
        ("P1M", oslo(2027, 4, 16, 3, 39), oslo(2027, 5, 18, 9, 0)),
    ],
)
def test_a_deadline_in_days_falls_due_at_nine_oslo_time(monkeypatch, users, agencies, due_in, created, due):
    case, task = task_created_at(monkeypatch, users, agencies, due_in, created)
    assert task.due_at == due
    assert Case.objects.values_list("next_due_at", flat=True).get(pk=case.pk) == due
    created_event = Event.objects.get(case=case, kind=EventKind.TASK_CREATED, task=task)
    assert datetime.fromisoformat(created_event.detail["due_at"]) == due


@pytest.mark.parametrize(
    ("due_in", "after"),
    [("PT4H", timedelta(hours=4)), ("PT30M", timedelta(minutes=30)), ("P1DT2H", timedelta(days=1, hours=2))],
)
def test_a_deadline_with_hours_or_minutes_stays_exact(monkeypatch, users, agencies, due_in, after):
    created = oslo(2027, 3, 9, 3, 39, 12)
    _case, task = task_created_at(monkeypatch, users, agencies, due_in, created)
    assert task.due_at == created + after


def test_the_working_hour_off_keeps_deadlines_exact(monkeypatch, users, agencies):
    created = oslo(2027, 3, 12, 14, 0)  # a Friday
    working_hours.configure(None)
    try:
        _case, task = task_created_at(monkeypatch, users, agencies, "P1D", created)
    finally:
        working_hours.configure(working_hours.WorkingHours())
    assert task.due_at == created + timedelta(days=1)
