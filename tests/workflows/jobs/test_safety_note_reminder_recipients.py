"""The reminder that a safety note lapses soon goes to who keeps the note when the job runs
(h-attack35, checked): an agency withdrawn from the case after the sweep queued the job is
told nothing (its people no longer see the case), the coordinator still is; and a case closed
and erased while its job waited sends nothing."""

import pytest
from django.core import mail

from permissions import grants
from tests.workflows.jobs.test_safety_note_reminders import ADDRESSES, WORDS, _note, _told
from tests.workflows.jobs.test_safety_note_reminders import case as case
from tests.workflows.jobs.test_safety_note_reminders import people as people
from workflows.jobs import handlers
from workflows.jobs.safety_reminders import enqueue_safety_reminders
from workflows.models import Case, CaseStatus

pytestmark = pytest.mark.django_db


def _work():
    while handlers.run_one("w"):
        pass


def test_an_agency_withdrawn_while_the_reminder_waits_is_not_told(people, case):
    _note(people, case, days_ago=355)
    assert enqueue_safety_reminders() == 1
    grants.remove_participant(case, "prison")

    _work()

    assert _told() == [ADDRESSES["housing"]]
    assert all(WORDS not in message.body for message in mail.outbox)


def test_a_case_closed_while_the_reminder_waits_sends_nothing(people, case):
    _note(people, case, days_ago=355)
    assert enqueue_safety_reminders() == 1
    Case.objects.filter(pk=case.pk).update(status=CaseStatus.COMPLETED)

    _work()

    assert mail.outbox == []
