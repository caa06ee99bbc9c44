"""A mail server that refuses a notification says why in its own words, and they name the
addresses: the agency's notification address (``SMTPRecipientsRefused`` holds a dict keyed
by it, and the server's reply quotes it again: "<varsel@fengsel.example>: Recipient address
rejected"), the sender's, sometimes the person behind the mailbox ("mailbox of Kari Hansen
is full"). Until 2026-12-06 that text was the job's error as it was said: the incident list
(process admins of every agency) and the worker's log line read another agency's address.
Now a mail server's refusal is kept as its reply codes only, and any e-mail address is
taken out of every failure text when it is shown (rows stored before too)."""

import logging
import smtplib

import pytest

from tests.workflows.helpers import start_prison_case
from workflows import selectors
from workflows.jobs import notify
from workflows.jobs.worker import Worker
from workflows.models import Incident, Job, JobKind

pytestmark = pytest.mark.django_db

SENDER = "brobygger-avsender@kommune.example"
HOLDER = "Kari Hansen"


def _refusals(address: str) -> dict[str, Exception]:
    return {
        "recipient": smtplib.SMTPRecipientsRefused(
            {address: (550, f"5.1.1 <{address}>: Recipient address rejected: {HOLDER} unknown".encode())}
        ),
        "sender": smtplib.SMTPSenderRefused(553, f"5.7.1 <{SENDER}>: Sender address rejected".encode(), SENDER),
        "data": smtplib.SMTPDataError(552, f"5.2.2 mailbox of {HOLDER} <{address}> is full".encode()),
        # Another backend's (or a proxy's) words, unquoted.
        "gone": smtplib.SMTPServerDisconnected(f"connection closed while sending to {address} from {SENDER}"),
    }


def _failed_notification(users, agencies, monkeypatch, caplog, refusal: str):
    """The prison's task mail refused by the mail server (``refusal``), for good."""
    address = agencies["prison"].notification_email

    def refuse(*args, **kwargs):
        raise _refusals(address)[refusal]

    monkeypatch.setattr(notify, "send_mail", refuse)
    case = start_prison_case(users, agencies)
    Job.objects.filter(case=case, kind=JobKind.NOTIFICATION).update(max_attempts=1)
    with caplog.at_level(logging.WARNING, logger="workflows.jobs.worker"):
        Worker(name="w").run(once=True)
    job = Job.objects.get(case=case, kind=JobKind.NOTIFICATION, payload__event="task_created")
    lines = [record.getMessage() for record in caplog.records if record.name == "workflows.jobs.worker"]
    return address, job, Incident.objects.get(job=job), lines


def _secrets(address: str) -> list[str]:
    return [address, address.split("@")[0], SENDER, SENDER.split("@")[0], HOLDER, "Hansen"]


@pytest.mark.parametrize("refusal", ["recipient", "sender", "data", "gone"])
def test_a_mail_servers_refusal_names_no_address_to_the_process_admin(
    users, agencies, shipped, monkeypatch, caplog, client_for, refusal
):
    address, job, incident, lines = _failed_notification(users, agencies, monkeypatch, caplog, refusal)
    answer = client_for("ada").get("/api/v1/incidents/", {"resolved": "false"})
    assert answer.status_code == 200
    (row,) = [row for row in answer.json()["results"] if row["id"] == incident.pk]
    shown = {
        "incident list": row["error"],
        "job's error": row["job"]["last_error"],
        "stored error": incident.error,
        "stored job error": job.last_error,
        "worker log": " ".join(lines),
    }
    assert lines, "the worker logs the failed attempt"
    # What the operator needs stays: that the mail server refused it, and its reply codes.
    assert {"recipient": "550 5.1.1", "sender": "553 5.7.1", "data": "552 5.2.2", "gone": "connection closed"}[
        refusal
    ] in row["error"]
    for where, text in shown.items():
        for secret in _secrets(address):
            assert secret not in text, (where, secret, text)


def test_an_address_in_a_failure_stored_before_is_not_shown(users, agencies, shipped, client_for):
    """Rows stored before (the server's words as they were said) are scrubbed when read."""
    case = start_prison_case(users, agencies)
    address = agencies["prison"].notification_email
    said = f"AnymailRecipientsRefused: recipient {address} refused (550 5.1.1), sent as brobygger@localhost"
    incident = Incident.objects.create(case=case, kind="notification-failed", error=f"the call failed: {said}")
    answer = client_for("ada").get("/api/v1/incidents/", {"resolved": "false"})
    (row,) = [row for row in answer.json()["results"] if row["id"] == incident.pk]
    assert "refused (550 5.1.1), sent as" in row["error"] and "localhost" not in row["error"]
    assert address not in row["error"] and address.split("@")[0] not in row["error"]
    assert "kari.hansen@nav.example" not in selectors.error_shown("mailbox <kari.hansen@nav.example> full", None, [])
