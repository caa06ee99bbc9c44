"""Before a safety warning lapses, the agency that recorded it and the case's coordinator are
told, once in each time in force (``workflows.jobs.safety_reminders``).

A warning lapses ``SAFETY_WARNING_DAYS`` after it was recorded or last confirmed; then only
its recorder and the coordinator still see it (``rules.decide_lapsed_warning``). Before, no
one was told it was about to lapse: a warning that still held lapsed unnoticed. Now, from
``SAFETY_REMINDER_DAYS`` before, the daily sweep queues a job that the workers run: one mail
to each of their agencies' notification addresses naming the case, the field's label and the
date, never the warning's words; none to the other participants; none again in the same time
in force, however many sweeps and workers run; again after a confirmation, before the new
time runs out."""

import datetime

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from permissions.models import Agency
from tests.api import test_safety_warnings as warnings
from tests.api.test_safety_warnings import WARNING
from tests.threads import all_at_once
from workflows import services
from workflows.jobs import handlers
from workflows.jobs.safety_reminders import enqueue_safety_reminders
from workflows.models import Case, Job, JobKind, Task

people, warned = warnings.people, warnings.warned  # the fixtures: a case whose prison recorded a warning
ADDRESSES = {"prison": "fengsel@example.test", "nav": "nav@example.test", "housing": "bolig@example.test"}


def _addresses(agencies):
    for kind, address in ADDRESSES.items():
        Agency.objects.filter(pk=agencies[kind].pk).update(notification_email=address)


def _recorded_days_ago(case, days):
    moment = timezone.now() - datetime.timedelta(days=days)
    Case.objects.filter(pk=case.pk).update(data_recorded_at={"trussel": moment.isoformat()})
    return moment


def _sweep_and_work():
    queued = enqueue_safety_reminders()
    while handlers.run_one("w"):
        pass
    return queued


@pytest.mark.django_db
def test_the_recorder_and_the_coordinator_are_told_once_before_the_warning_lapses(warned, people, agencies):
    _addresses(agencies)
    _recorded_days_ago(warned, 300)  # 65 days left: not yet
    assert _sweep_and_work() == 0 and mail.outbox == []

    moment = _recorded_days_ago(warned, 355)  # 10 days left, of 14
    assert _sweep_and_work() == 1

    assert sorted(message.to[0] for message in mail.outbox) == [ADDRESSES["housing"], ADDRESSES["prison"]]
    lapses = (timezone.localtime(moment) + datetime.timedelta(days=365)).date()
    for message in mail.outbox:
        text = message.subject + message.body
        assert warned.reference in message.subject
        assert WARNING not in text  # the label and the date, never the words
        assert "Trussel" in message.body and f"utløper {lapses.day}. " in message.body
        assert f"/cases/{warned.pk}/" in message.body

    # Once in this time in force: later sweeps queue nothing, the workers send nothing.
    assert _sweep_and_work() == 0
    assert len(mail.outbox) == 2


@pytest.mark.django_db
def test_a_confirmation_starts_a_time_in_force_with_a_reminder_of_its_own(warned, people, agencies):
    _addresses(agencies)
    _recorded_days_ago(warned, 355)
    _sweep_and_work()
    assert len(mail.outbox) == 2

    services.confirm_safety_warning(actor=people["coordinator"], case=warned.pk, field="trussel")
    assert _sweep_and_work() == 0  # a year again

    # That year nearly out (as if confirmed 360 days ago): told again, once.
    _recorded_days_ago(warned, 360)
    _sweep_and_work()
    _sweep_and_work()
    assert len(mail.outbox) == 4


@pytest.mark.django_db
def test_neither_a_lapsed_nor_a_removed_warning_nor_a_closed_case_is_reminded(warned, people, agencies):
    _addresses(agencies)
    _recorded_days_ago(warned, 400)  # lapsed already: its keepers see it on the case
    assert _sweep_and_work() == 0

    _recorded_days_ago(warned, 355)
    enqueue_safety_reminders()
    Case.objects.filter(pk=warned.pk).update(data={**warned.data, "trussel": None})  # removed meanwhile
    while handlers.run_one("w"):
        pass
    assert mail.outbox == []


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_sweeps_and_two_workers_at_once_send_one_reminder(warned, people, agencies):
    _addresses(agencies)
    _recorded_days_ago(warned, 355)

    outcomes = all_at_once([_sweep_and_work, _sweep_and_work])

    assert not any(isinstance(outcome, Exception) for outcome in outcomes), outcomes
    assert sorted(message.to[0] for message in mail.outbox) == [ADDRESSES["housing"], ADDRESSES["prison"]]
    # A sweep that read the case before the first job marked it may queue a second job, which
    # finds the warning told and sends nothing: the mails above are what must be one each.
    assert 1 <= Job.objects.filter(kind=JobKind.SAFETY_REMINDER).count() <= 2


def _another_warned_case(people, agencies):
    case = services.start_case(
        actor=people["coordinator"],
        process_key="Proc_warn",
        person=warnings.PERSON,
        participants={kind: agencies[kind].pk for kind in ("housing", "prison", "nav")},
    )
    task = Task.objects.get(case=case, element_id="T_warn")
    services.complete_task(actor=people["recorder"], task_id=task.pk, data={"trussel": WARNING})
    _recorded_days_ago(case, 355)
    return case


@pytest.mark.django_db
def test_the_sweep_reads_as_many_statements_for_many_cases_as_for_one(warned, people, agencies):
    _recorded_days_ago(warned, 355)
    with CaptureQueriesContext(connection) as one:
        assert enqueue_safety_reminders() == 1
    Job.objects.all().delete()
    for _ in range(4):
        _another_warned_case(people, agencies)
    with CaptureQueriesContext(connection) as five:
        assert enqueue_safety_reminders() == 5
    assert len(five) == len(one)
