"""The password-reset mail is sent by the job workers, not by the page's request. Until
2026-12-05 the request looked the address up and sent the mail itself: an address with an
account answered about twice as late as one without (4.3 against 2.2 ms at the median with a
mail server on the same machine; a real one's round trips make it tens of milliseconds), so
the page told anyone which addresses have accounts. Now the request writes one job whatever
the address, and the worker finds the account and sends."""

import re
from smtplib import SMTPServerDisconnected

import pytest
from django.core import mail
from django.core.mail import EmailMultiAlternatives
from django.test import Client

from workflows.jobs import queue
from workflows.jobs.worker import Worker
from workflows.models import Job, JobKind, JobStatus

pytestmark = pytest.mark.django_db

UNKNOWN = "ingen-konto@brobygger.example"


def ask_for_reset(address):
    return Client().post("/accounts/password_reset/", {"email": address})


def test_a_known_and_an_unknown_address_get_the_same_answer_and_the_same_work(users):
    known = ask_for_reset(users["nils"].email)
    unknown = ask_for_reset(UNKNOWN)
    assert (known.status_code, known["Location"]) == (unknown.status_code, unknown["Location"])
    assert known.content == unknown.content
    assert mail.outbox == []  # nothing is sent while the request waits
    jobs = list(Job.objects.order_by("id").values_list("kind", "status", "payload"))
    assert [(kind, status, sorted(payload)) for kind, status, payload in jobs] == [
        (JobKind.PASSWORD_RESET, JobStatus.PENDING, ["address", "client", "email", "language"])
    ] * 2


def test_the_worker_sends_the_link_and_the_link_sets_a_password(users, settings):
    settings.BROBYGGER = {**settings.BROBYGGER, "SITE_URL": "https://brobygger.kommune.example"}
    nils = users["nils"]
    ask_for_reset(nils.email)
    ask_for_reset(UNKNOWN)
    Worker(name="w").run(once=True)
    (message,) = mail.outbox  # one for the account, none for the unknown address
    assert message.to == [nils.email] and message.subject == "Passord-nullstilling på brobygger.kommune.example"
    link = re.search(r"https://brobygger\.kommune\.example(/accounts/reset/\S+/)", message.body).group(1)
    assert set(Job.objects.values_list("status", flat=True)) == {JobStatus.DONE}
    # No address kept (its keyed digest is: tests/web/test_password_reset_limits.py)
    assert not any("email" in payload for payload in Job.objects.values_list("payload", flat=True))
    browser = Client()
    set_password = browser.get(link)
    assert set_password.status_code == 302
    saved = browser.post(
        set_password["Location"], {"new_password1": "Ny-lang-setning-42", "new_password2": "Ny-lang-setning-42"}
    )
    assert saved.status_code == 302
    nils.refresh_from_db()
    assert nils.check_password("Ny-lang-setning-42")


def test_a_mail_server_that_fails_is_tried_again(users, monkeypatch):
    ask_for_reset(users["nils"].email)
    real_send = EmailMultiAlternatives.send

    def refuse(self, *args, **kwargs):
        raise SMTPServerDisconnected("the mail server went away")

    monkeypatch.setattr(EmailMultiAlternatives, "send", refuse)
    Worker(name="w").run(once=True)
    job = Job.objects.get()
    assert (job.status, job.attempts, mail.outbox) == (JobStatus.PENDING, 1, [])
    assert job.payload["email"] == users["nils"].email  # kept until the mail is sent
    monkeypatch.setattr(EmailMultiAlternatives, "send", real_send)
    Job.objects.filter(pk=job.pk).update(due_at=queue.now())
    Worker(name="w").run(once=True)
    assert [message.to for message in mail.outbox] == [[users["nils"].email]]


def test_the_reset_mail_carries_the_link_and_the_username_only(users, agencies):
    """(A guard: held before.) The mail goes to an inbox outside the system: the link, the
    site and the username, never the user's name, agency or role."""
    nils = users["nils"]
    nils.first_name, nils.last_name = "Nils", "Nordmann-Testesen"
    nils.save()
    ask_for_reset(nils.email)
    Worker(name="w").run(once=True)
    (message,) = mail.outbox
    text = message.subject + message.body + "".join(content for content, _type in message.alternatives)
    assert "/accounts/reset/" in text and nils.username in text
    shown = [nils.first_name, nils.last_name, *(agency.name for agency in agencies.values())]
    assert [value for value in shown if value in text] == []
