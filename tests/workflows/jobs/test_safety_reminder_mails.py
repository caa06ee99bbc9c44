"""A safety reminder's mails leave one job each, outside the case's lock
(``workflows.jobs.safety_reminders``): the case's reminder job decides under the case row's
lock whom to tell and marks each warning told of, and queues one mail job per address.

Until h-safety4 the job sent every mail itself, holding the case row (every writer of the case,
a completion or a note, waited on the mail server), and a mail that failed after another had
gone rolled the job back: its retry sent the first mail again. Now a retry sends its own mail
only, under the same ``Message-ID`` (the job's ``delivery_key``) on every attempt."""

import smtplib
import threading
from collections import Counter

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.db import DatabaseError, connections, transaction

from retention.services import correct_value
from tests.workflows.jobs.test_safety_reminders import (  # noqa: F401 (fixtures)
    ADDRESSES,
    _addresses,
    _recorded_days_ago,
    people,
    warned,
)
from workflows.jobs import handlers
from workflows.jobs.safety_reminders import enqueue_safety_reminders
from workflows.models import Case, Job, JobKind, JobStatus


def _work_and_retry():
    """Run every due job, then each job whose attempt failed again (its retry), until none is left."""
    while handlers.run_one("w"):
        pass
    for _ in range(3):
        failed = Job.objects.filter(attempts__gt=0).exclude(status=JobStatus.DONE).order_by("pk")
        for job in failed:
            handlers.run_one("w", job_id=job.pk)


@pytest.mark.django_db
def test_a_failed_mail_s_retry_sends_that_mail_only(warned, people, agencies, monkeypatch):  # noqa: F811
    _addresses(agencies)
    _recorded_days_ago(warned, 355)
    tried: list[tuple[str, str]] = []  # (address, Message-ID) of each attempt
    sent = EmailBackend.send_messages

    def prison_fails_once(self, messages):
        for message in messages:
            tried.append((message.to[0], message.extra_headers.get("Message-ID", "")))
        if [to for to, _key in tried].count(ADDRESSES["prison"]) == 1 and ADDRESSES["prison"] in messages[0].to:
            raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
        return sent(self, messages)

    monkeypatch.setattr(EmailBackend, "send_messages", prison_fails_once)
    assert enqueue_safety_reminders() == 1
    _work_and_retry()

    told = Counter(message.to[0] for message in mail.outbox)
    assert told == Counter({ADDRESSES["housing"]: 1, ADDRESSES["prison"]: 1})  # old: the coordinator twice
    keys = {key for to, key in tried if to == ADDRESSES["prison"]}
    assert len(keys) == 1 and keys != {""}  # the same Message-ID on the retry
    assert Job.objects.filter(kind=JobKind.SAFETY_REMINDER_MAIL, status=JobStatus.DONE).count() == 2
    failed = Job.objects.get(kind=JobKind.SAFETY_REMINDER_MAIL, attempts=2)
    assert ADDRESSES["prison"] not in str(failed.last_error) + str(failed.payload)  # no address kept


@pytest.mark.django_db
def test_no_mail_for_an_agency_withdrawn_or_a_warning_removed_before_it_left(warned, people, agencies):  # noqa: F811
    _addresses(agencies)
    _recorded_days_ago(warned, 355)
    assert enqueue_safety_reminders() == 1
    handlers.run_one("w")  # the reminder: decided, marked, two mails queued
    assert Job.objects.filter(kind=JobKind.SAFETY_REMINDER_MAIL, status=JobStatus.PENDING).count() == 2
    correct_value(
        actor=people["recorder"], case_id=warned.pk, field="trussel", value=None, reason="Gjelder ikke lenger"
    )
    _work_and_retry()
    assert mail.outbox == []


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_no_mail_is_sent_holding_the_case_row(warned, people, agencies, monkeypatch):  # noqa: F811
    _addresses(agencies)
    _recorded_days_ago(warned, 355)
    held: list[bool] = []
    sent = EmailBackend.send_messages

    def lock_the_case_meanwhile():
        try:
            with transaction.atomic():
                Case.objects.select_for_update(nowait=True).get(pk=warned.pk)
            held.append(False)
        except DatabaseError:
            held.append(True)
        finally:
            connections.close_all()

    def while_sending(self, messages):
        other = threading.Thread(target=lock_the_case_meanwhile)
        other.start()
        other.join(timeout=30)
        return sent(self, messages)

    monkeypatch.setattr(EmailBackend, "send_messages", while_sending)
    assert enqueue_safety_reminders() == 1
    _work_and_retry()
    assert len(mail.outbox) == 2
    assert held == [False, False]  # old: [True, True], every writer of the case waited on the mail
