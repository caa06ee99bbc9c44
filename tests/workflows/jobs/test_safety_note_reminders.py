"""Before a safety note lapses, its agency and the case's coordinator are told, once in each
time in force, as they are of a safety field (``workflows.jobs.safety_reminders``).

A safety note is a warning and lapses ``SAFETY_WARNING_DAYS`` after it was written, corrected
or last confirmed (h-safetynotes). The reminder covered fields only: a note lapsed unnoticed.
Now the daily sweep queues the case's job for it too, and the job sends one mail to the note
agency's and the coordinator's notification addresses naming the case, the note's agency, the
day it was written and the date it lapses on, never its words; none to the other participants;
none again in the same time in force, however many sweeps and workers run."""

import datetime

import pytest
from django.core import mail
from django.utils import timezone

from permissions.models import Agency, Role
from tests.api import test_safety_warnings as warnings
from tests.threads import all_at_once
from workflows import services
from workflows.jobs import handlers
from workflows.jobs.safety_reminders import enqueue_safety_reminders
from workflows.models import Job, JobKind
from workflows.notes import Note

ADDRESSES = {"prison": "fengsel@example.test", "nav": "nav@example.test", "housing": "bolig@example.test"}
WORDS = "Truet saksbehandler med kniv i resepsjonen"


@pytest.fixture
def people(agencies, django_user_model):
    return {
        "recorder": warnings._worker(django_user_model, agencies["prison"], Role.MEMBER, "fengsel-paminnelse"),
        "other": warnings._worker(django_user_model, agencies["nav"], Role.MEMBER, "nav-paminnelse"),
        "coordinator": warnings._worker(django_user_model, agencies["housing"], Role.COORDINATOR, "bolig-paminnelse"),
    }


@pytest.fixture
def case(people, agencies):
    from bpmn.services import deploy_definition

    deploy_definition(
        actor=None, bpmn_xml=warnings._model("Proc_note_remind"), forms=warnings.FORMS, check_permission=False
    )
    for kind, address in ADDRESSES.items():
        Agency.objects.filter(pk=agencies[kind].pk).update(notification_email=address)
    return services.start_case(
        actor=people["coordinator"],
        process_key="Proc_note_remind",
        person=warnings.PERSON,
        participants={kind: agencies[kind].pk for kind in ("housing", "prison", "nav")},
    )


def _note(people, case, days_ago: int) -> Note:
    note = services.add_note(actor=people["recorder"], case=case.pk, text=WORDS, category="safety")
    Note.objects.filter(pk=note.pk).update(created_at=timezone.now() - datetime.timedelta(days=days_ago))
    return Note.objects.get(pk=note.pk)


def _sweep_and_work():
    queued = enqueue_safety_reminders()
    while handlers.run_one("w"):
        pass
    return queued


def _told() -> list[str]:
    return sorted(message.to[0] for message in mail.outbox)


@pytest.mark.django_db
def test_the_note_s_agency_and_the_coordinator_are_told_once_before_the_note_lapses(people, case):
    _note(people, case, days_ago=300)  # 65 days left: not yet
    assert _sweep_and_work() == 0 and mail.outbox == []

    note = _note(people, case, days_ago=355)  # 10 days left, of 14
    assert _sweep_and_work() == 1

    assert _told() == [ADDRESSES["housing"], ADDRESSES["prison"]]  # never NAV's
    lapses = (timezone.localtime(note.created_at) + datetime.timedelta(days=365)).date()
    for message in mail.outbox:
        assert case.reference in message.subject
        assert WORDS not in message.subject + message.body  # the agency and the dates, never the words
        assert f"Notat fra {note.agency.name} skrevet" in message.body
        assert f"utløper {lapses.day}. " in message.body and f"/cases/{case.pk}/" in message.body
    assert Note.objects.get(pk=note.pk).safety_reminded_for == note.warning_since

    assert _sweep_and_work() == 0  # once in this time in force
    assert len(mail.outbox) == 2


@pytest.mark.django_db
def test_a_confirmed_note_is_told_of_again_before_its_new_time_runs_out(people, case):
    note = _note(people, case, days_ago=355)
    _sweep_and_work()
    assert len(mail.outbox) == 2

    services.confirm_safety_note(actor=people["coordinator"], case=case.pk, note_id=note.pk)
    assert _sweep_and_work() == 0  # a year again

    # That year nearly out (as if written long ago and confirmed 360 days ago): told again, once.
    long_ago = timezone.now() - datetime.timedelta(days=400)
    Note.objects.filter(pk=note.pk).update(
        created_at=long_ago, confirmed_at=timezone.now() - datetime.timedelta(days=360)
    )
    _sweep_and_work()
    _sweep_and_work()
    assert len(mail.outbox) == 4


@pytest.mark.django_db
def test_a_lapsed_a_withdrawn_or_an_ordinary_note_is_not_reminded(people, case):
    _note(people, case, days_ago=400)  # lapsed: its keepers see it on the case
    withdrawn = _note(people, case, days_ago=355)
    services.withdraw_note(actor=people["recorder"], case=case.pk, note_id=withdrawn.pk)
    plain = services.add_note(actor=people["recorder"], case=case.pk, text="Møte avtalt", category="coordination")
    Note.objects.filter(pk=plain.pk).update(created_at=timezone.now() - datetime.timedelta(days=355))
    assert _sweep_and_work() == 0
    assert mail.outbox == []


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_sweeps_and_two_workers_at_once_send_one_reminder_of_a_note(people, case):
    _note(people, case, days_ago=355)

    outcomes = all_at_once([_sweep_and_work, _sweep_and_work])

    assert not any(isinstance(outcome, Exception) for outcome in outcomes), outcomes
    assert _told() == [ADDRESSES["housing"], ADDRESSES["prison"]]
    # A sweep that read the note before the first job marked it may queue a second job once the
    # first is done: that job finds the note marked under the case's lock and sends nothing.
    assert Job.objects.filter(kind=JobKind.SAFETY_REMINDER).count() in (1, 2)
