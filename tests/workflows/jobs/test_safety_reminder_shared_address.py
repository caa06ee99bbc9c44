"""A safety reminder's mail goes to the agencies that keep the warning when it is sent, at
their address then; never to an agency that only shared an address with one of them
(h-attack37).

The reminder job queued one mail job per notification address and named in it every agency
taking part that had the address, whether or not it kept the warning; the mail job checked
only that they still took part. A participant sharing the recorder's address (a
municipality's one post box for two of its services) then got the recorder's reminder when
the recorder was withdrawn before the mail left, and at its own new address when it moved to
one: the case's reference, the warning's label and the date it lapses on, which a
participant who does not keep a lapsed warning is never told."""

import pytest
from django.core import mail

from permissions import grants
from permissions.models import Agency
from tests.workflows.jobs.test_safety_reminders import (  # noqa: F401 (fixtures)
    _recorded_days_ago,
    people,
    warned,
)
from workflows.jobs import handlers
from workflows.jobs.safety_reminders import enqueue_safety_reminders
from workflows.models import Job, JobKind, JobStatus

pytestmark = pytest.mark.django_db

SHARED, COORDINATOR, NAV_OWN = "post@example.test", "bolig@example.test", "nav-eget@example.test"


def _address(agency, address):
    Agency.objects.filter(pk=agency.pk).update(notification_email=address)


def _queued(warned, agencies):  # noqa: F811
    """The prison (which recorded the warning) and NAV (which keeps nothing once it lapses)
    share an address; the reminder is decided and its mails queued, not yet sent."""
    _address(agencies["prison"], SHARED)
    _address(agencies["nav"], SHARED)
    _address(agencies["housing"], COORDINATOR)
    _recorded_days_ago(warned, 355)
    assert enqueue_safety_reminders() == 1
    handlers.run_one("w")  # the reminder job: decided, marked, its mails queued
    mails = Job.objects.filter(kind=JobKind.SAFETY_REMINDER_MAIL, status=JobStatus.PENDING)
    assert mails.count() == 2
    return mails


def _send():
    while handlers.run_one("w"):
        pass
    return sorted(address for message in mail.outbox for address in message.to)


def test_the_shared_address_is_not_told_once_the_recorder_is_withdrawn(warned, people, agencies):  # noqa: F811
    mails = list(_queued(warned, agencies))
    grants.remove_participant(warned, "prison")

    assert _send() == [COORDINATOR]  # old: the shared address too, through NAV
    # A mail job names the agencies that keep what it names: never NAV.
    assert all(agencies["nav"].pk not in job.payload["agencies"] for job in mails)


def test_a_participant_that_moved_to_its_own_address_is_not_told(warned, people, agencies):  # noqa: F811
    _queued(warned, agencies)
    _address(agencies["nav"], NAV_OWN)

    assert _send() == [COORDINATOR, SHARED]  # old: NAV's new address too
    assert all(warned.reference not in message.subject for message in mail.outbox if NAV_OWN in message.to)


def test_the_recorder_s_new_address_is_told(warned, people, agencies):  # noqa: F811
    # Read when sent: an agency that keeps the warning and moved is told where it is now.
    _queued(warned, agencies)
    _address(agencies["prison"], "fengsel-ny@example.test")

    assert _send() == [COORDINATOR, "fengsel-ny@example.test"]
