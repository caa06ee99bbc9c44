"""How many password-reset mails anyone can make the server send. Until 2026-12-05 every
request to ``/accounts/password_reset/`` queued a ``password_reset`` job: anyone could send a
victim's address any number of reset mails (mail bombing, and a mail server that learns to
take the municipality's mail for spam), and fill the job table with jobs that ran before the
case work's own (messages between cases, erasures) whenever they fell due first.

Now, within ``PASSWORD_RESET_WINDOW_MINUTES``, one address is sent at most
``PASSWORD_RESET_MAILS_PER_ADDRESS`` mails (the page answers the same past the limit, with or
without an account), one client queues at most ``PASSWORD_RESET_REQUESTS_PER_CLIENT`` (429
after), and the reset mails wait for every other job a worker runs."""

from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client

from workflows.jobs import handlers, queue
from workflows.jobs.worker import Worker
from workflows.models import Job, JobKind, JobStatus

pytestmark = pytest.mark.django_db

UNKNOWN = "ingen-konto@brobygger.example"


@pytest.fixture
def limits(settings):
    settings.BROBYGGER = {
        **settings.BROBYGGER,
        "PASSWORD_RESET_WINDOW_MINUTES": 60,
        "PASSWORD_RESET_MAILS_PER_ADDRESS": 3,
        "PASSWORD_RESET_REQUESTS_PER_CLIENT": 30,
    }


def ask_for_reset(address, client_address="192.0.2.10", **headers):
    return Client(REMOTE_ADDR=client_address, **headers).post("/accounts/password_reset/", {"email": address})


def test_one_address_is_sent_at_most_the_limit_of_mails_from_any_number_of_clients(users, limits):
    nils = users["nils"]
    answers = [ask_for_reset(nils.email, f"198.51.100.{n}") for n in range(12)]
    assert {(answer.status_code, answer["Location"]) for answer in answers} == {(302, "/accounts/password_reset/done/")}
    Worker(name="w").run(once=True)
    assert [message.to for message in mail.outbox] == [[nils.email]] * 3


def test_the_limit_counts_the_address_however_it_is_written(users, limits):
    nils = users["nils"]
    for written in (nils.email, nils.email.upper(), f"  {nils.email.title()}  ", nils.email, nils.email.upper()):
        ask_for_reset(written)
    Worker(name="w").run(once=True)
    assert len(mail.outbox) == 3


def test_past_the_limit_a_known_and_an_unknown_address_still_answer_the_same(users, limits):
    for _ in range(3):
        ask_for_reset(users["nils"].email)
        ask_for_reset(UNKNOWN)
    known, unknown = ask_for_reset(users["nils"].email), ask_for_reset(UNKNOWN)
    assert (known.status_code, known["Location"], known.content) == (
        unknown.status_code,
        unknown["Location"],
        unknown.content,
    )
    assert Job.objects.filter(kind=JobKind.PASSWORD_RESET).count() == 6  # three each, none past the limit


def test_the_window_moves_on(users, limits):
    for _ in range(4):
        ask_for_reset(users["nils"].email)
    assert Job.objects.count() == 3
    Job.objects.update(created_at=queue.now() - timedelta(minutes=61))
    ask_for_reset(users["nils"].email)
    assert Job.objects.count() == 4


def test_one_client_is_told_to_wait_past_its_limit_and_others_are_not(users, limits, settings):
    settings.BROBYGGER = {**settings.BROBYGGER, "PASSWORD_RESET_REQUESTS_PER_CLIENT": 5}
    answers = [ask_for_reset(f"person{n}@brobygger.example", "203.0.113.7") for n in range(5)]
    assert {answer.status_code for answer in answers} == {302}
    refused = ask_for_reset("person9@brobygger.example", "203.0.113.7")
    assert refused.status_code == 429 and refused["Retry-After"] == "3600"
    assert "For mange forespørsler" in refused.content.decode()
    assert ask_for_reset(users["nils"].email, "203.0.113.8").status_code == 302
    assert Job.objects.count() == 6


def test_the_job_keeps_digests_of_the_address_and_the_client_but_not_the_address(users, limits):
    ask_for_reset(users["nils"].email)
    Worker(name="w").run(once=True)
    (payload,) = Job.objects.values_list("payload", flat=True)
    assert sorted(payload) == ["address", "client"]
    assert users["nils"].email not in str(payload) and "192.0.2.10" not in str(payload)


def test_a_flood_of_reset_mails_does_not_hold_back_the_case_work_s_jobs(monkeypatch):
    """Reset jobs that fell due first still wait for a message between cases (and an erasure):
    the worker runs one job of the handled kinds at a time, and each reset mail waits for a
    mail server (up to ``EMAIL_TIMEOUT_SECONDS``)."""
    ran = []
    monkeypatch.setitem(handlers._handlers, JobKind.MESSAGE, lambda job: ran.append(job.kind))
    monkeypatch.setitem(handlers._handlers, JobKind.PASSWORD_RESET, lambda job: ran.append(job.kind))
    earlier = queue.now() - timedelta(minutes=5)
    Job.objects.bulk_create(
        [Job(kind=JobKind.PASSWORD_RESET, due_at=earlier, payload={}) for _ in range(20)]
        + [Job(kind=JobKind.MESSAGE, due_at=queue.now(), payload={})]
    )
    assert handlers.run_one("w") == 1
    assert ran == [JobKind.MESSAGE]
    assert Job.objects.get(kind=JobKind.MESSAGE).status == JobStatus.DONE
    assert handlers.run_one("w") == 1 and ran[-1] == JobKind.PASSWORD_RESET  # then the mails


def test_behind_the_proxy_each_client_has_its_own_limit_and_cannot_choose_it(users, limits, settings):
    """Behind nginx every request comes from nginx's address: the limit is per the address
    nginx saw (the last hop of X-Forwarded-For), so one client cannot use up everybody's,
    and the hops a client writes itself give it no new one."""
    settings.BROBYGGER = {**settings.BROBYGGER, "PASSWORD_RESET_REQUESTS_PER_CLIENT": 2}
    settings.FORWARDED_ALLOW_IPS = ["127.0.0.1"]

    def through_proxy(address, forwarded):
        return ask_for_reset(address, "127.0.0.1", HTTP_X_FORWARDED_FOR=forwarded)

    assert through_proxy("a@brobygger.example", "203.0.113.7").status_code == 302
    assert through_proxy("b@brobygger.example", "10.9.9.9, 203.0.113.7").status_code == 302
    assert through_proxy("c@brobygger.example", "10.1.1.1, 203.0.113.7").status_code == 429  # its own words
    assert through_proxy("d@brobygger.example", "198.51.100.4").status_code == 302  # another client
    # Not from the proxy: X-Forwarded-For is the client's own word, and not read.
    assert ask_for_reset("e@brobygger.example", "192.0.2.99", HTTP_X_FORWARDED_FOR="198.51.100.5").status_code == 302
    assert ask_for_reset("f@brobygger.example", "192.0.2.99", HTTP_X_FORWARDED_FOR="198.51.100.6").status_code == 302
    assert ask_for_reset("g@brobygger.example", "192.0.2.99", HTTP_X_FORWARDED_FOR="198.51.100.7").status_code == 429


def test_an_ipv6_client_counts_by_its_block(users, limits, settings):
    settings.BROBYGGER = {**settings.BROBYGGER, "PASSWORD_RESET_REQUESTS_PER_CLIENT": 2}
    for n in (1, 2):
        assert ask_for_reset(f"p{n}@brobygger.example", f"2001:db8:1:2::{n}").status_code == 302
    assert ask_for_reset("p3@brobygger.example", "2001:db8:1:2:ffff::3").status_code == 429
    assert ask_for_reset("p4@brobygger.example", "2001:db8:1:3::1").status_code == 302


def test_a_worker_fires_due_timers_and_sends_notifications_before_reset_mails(monkeypatch):
    """(Held before as well: the worker's claim order. Kept as a guard.) A deadline's timer
    and a task's notification due after a pile of reset mails still go first."""
    from workflows.jobs import timers

    ran = []

    def fire(worker, *, exclude=(), job_id=None):
        job = Job.objects.filter(kind=JobKind.TIMER, status=JobStatus.PENDING).first()
        if job is None:
            return timers.NONE, None
        Job.objects.filter(pk=job.pk).update(status=JobStatus.DONE)
        ran.append(JobKind.TIMER)
        return timers.FIRED, job.pk

    def external(self):
        done = Job.objects.filter(kind=JobKind.NOTIFICATION, status=JobStatus.PENDING).update(status=JobStatus.DONE)
        ran.extend([JobKind.NOTIFICATION] * done)
        return done, True  # every one due, none failed (``Worker.run_external``)

    monkeypatch.setattr(timers, "fire_timer", fire)
    monkeypatch.setattr(Worker, "run_external", external)
    monkeypatch.setitem(handlers._handlers, JobKind.PASSWORD_RESET, lambda job: ran.append(job.kind))
    earlier = queue.now() - timedelta(minutes=5)
    Job.objects.bulk_create(
        [Job(kind=JobKind.PASSWORD_RESET, due_at=earlier, payload={}) for _ in range(5)]
        + [Job(kind=JobKind.TIMER, due_at=queue.now(), payload={})]
        + [Job(kind=JobKind.NOTIFICATION, due_at=queue.now(), payload={})]
    )
    Worker(name="w").run_due()
    assert ran == [JobKind.TIMER, JobKind.NOTIFICATION] + [JobKind.PASSWORD_RESET] * 5
