"""What a failed webhook or connector call tells the process admin about the network behind
its address (h-outgoing2; each test failed before).

An agency's access administrator sets its webhook's address, and with
``WEBHOOK_ALLOWED_NETWORKS`` listing a network the agencies' systems share, the job's error
(which the process admin reads in the incident, the admin and the API) was a probe of it:

- a host name that resolves inside that network was refused naming the address it resolves
  to (``job.address.not_public``): the internal name servers answered her;
- "connection refused", "timed out", "reset by peer", a service that speaks no HTTP and
  "name not known" were each their own text: which ports answer on which host.

Now the refusal names no address (the server's log does, for the operator), and every address
that could not be reached fails with one error, of a webhook and of a connector alike, and is
retried as before; the cause is in the server's log."""

from __future__ import annotations

import json
import logging
import socket
import struct

import pytest
from django.utils import timezone, translation
from django.utils.translation import gettext

from permissions.models import Agency
from tests.workflows.jobs.test_connector_answers_attacked import (  # noqa: F401 (fixtures)
    SECRET,
    Banner,
    nav_member,
    waiting_case,
)
from tests.workflows.jobs.test_webhook_deadline import Trickler
from workflows import selectors
from workflows.jobs import notify, webhook_transport
from workflows.jobs.errors import Refusal
from workflows.jobs.worker import Worker
from workflows.models import Incident, Job, JobKind, JobStatus, ServiceConnector

pytestmark = pytest.mark.django_db

UNKNOWN = "finnes-ikke.intern.kommune.example"
INTERNAL = "fagsystem.intern.kommune.example"
INTERNAL_ADDRESS = "10.20.30.40"


class Resetter(Banner):
    """A port on 127.0.0.1 that takes the connection and resets it at once (RST)."""

    def _answer(self, conn):
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        conn.close()


@pytest.fixture
def resolver(monkeypatch):
    """``UNKNOWN`` is known to no name server; ``INTERNAL`` resolves inside the network."""
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        if host == UNKNOWN:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(INTERNAL_ADDRESS if host == INTERNAL else host, port, *args, **kwargs)

    monkeypatch.setattr(webhook_transport.socket, "getaddrinfo", getaddrinfo)


@pytest.fixture
def causes(resolver, settings):
    """An address for each way of not being reached, all inside the allowed networks."""
    settings.BROBYGGER = {**settings.BROBYGGER, "WEBHOOK_TIMEOUT_SECONDS": 1}
    closed = socket.create_server(("127.0.0.1", 0))
    closed_port = closed.getsockname()[1]
    closed.close()
    slow, reset, banner = Trickler(pause=0.5, seconds=3), Resetter(), Banner()
    yield {
        "refused": f"http://127.0.0.1:{closed_port}/hook",
        "timed out": f"http://127.0.0.1:{slow.port}/hook",
        "reset": reset.url,
        "no HTTP": banner.url,
        "unknown name": f"http://{UNKNOWN}:8080/hook",
    }
    for server in (slow, reset, banner):
        server.close()


def said(message_json) -> tuple[str, str]:
    """A stored error as the process admin reads it, in English and in bokmål."""
    with translation.override("nb"):
        nb = selectors.error_shown("x", message_json, [], gettext)
    return selectors.error_shown("x", message_json, []), nb


def test_a_webhook_that_cannot_be_reached_fails_alike_whatever_the_cause(
    waiting_case,  # noqa: F811
    agencies,
    causes,
    caplog,
):
    nav = agencies["nav"]
    nav.webhook_url, nav.webhook_secret = causes["refused"], SECRET
    nav.save()
    case = waiting_case(asked=False)  # NAV's first task open: its webhook job is due
    hook = Job.objects.get(case=case, kind=JobKind.WEBHOOK, payload__event="task_created")

    errors = {}
    with caplog.at_level(logging.WARNING):
        for cause, url in causes.items():
            Agency.objects.filter(pk=nav.pk).update(webhook_url=url)
            errors[cause] = notify.perform(hook)

    shown = {cause: json.dumps(error.message.as_json()) for cause, error in errors.items()}
    assert len(set(shown.values())) == 1, shown
    assert len({str(error) for error in errors.values()}) == 1
    assert not any(isinstance(error, Refusal) for error in errors.values())  # backed off and retried
    english, nb = said(errors["refused"].message.as_json())
    assert english.startswith("webhook unreachable: the address gave no HTTP answer")
    assert nb.startswith("webhooken kunne ikke nås: adressen ga ikke noe HTTP-svar")
    # The operator reads the cause in the server's log: each its own, without what was said.
    logged = [r.getMessage() for r in caplog.records if "could not reach its address" in r.getMessage()]
    assert len(logged) == 5
    assert "ConnectionRefusedError" in logged[0] and "BadStatusLine" in logged[3] and UNKNOWN not in logged[4]
    assert "Name or service not known" in logged[4] and "OpenSSH" not in " ".join(logged)

    # Retried as before: a failed attempt, backed off, not an incident.
    Agency.objects.filter(pk=nav.pk).update(webhook_url=causes["reset"])
    Worker(name="w-unreachable").run(once=True)
    hook.refresh_from_db()
    assert (hook.status, hook.attempts, hook.last_error_message) == (JobStatus.PENDING, 1, json.loads(shown["reset"]))
    assert not Incident.objects.filter(job=hook).exists()


def test_a_connector_that_cannot_be_reached_fails_alike_whatever_the_cause(
    waiting_case,  # noqa: F811
    agencies,
    causes,
):
    connector = ServiceConnector.objects.create(
        name="income-register", url=causes["refused"], secret=SECRET, agency=agencies["nav"]
    )
    case = waiting_case()
    job = Job.objects.get(case=case, kind=JobKind.SERVICE)

    stored = {}
    for cause, url in causes.items():
        ServiceConnector.objects.filter(pk=connector.pk).update(url=url)
        Job.objects.filter(pk=job.pk).update(status=JobStatus.PENDING, due_at=timezone.now(), attempts=0)
        Worker(name="w-unreachable").run(once=True)
        job.refresh_from_db()
        assert (job.status, job.attempts) == (JobStatus.PENDING, 1)  # backed off, as before
        stored[cause] = (job.last_error, json.dumps(job.last_error_message))

    assert len(set(stored.values())) == 1, stored
    english, nb = said(job.last_error_message)
    assert english.startswith("connector unreachable: the address gave no HTTP answer")
    assert nb.startswith("koblingen kunne ikke nås: adressen ga ikke noe HTTP-svar")


def test_a_host_name_resolving_inside_the_network_is_refused_naming_no_address(
    waiting_case,  # noqa: F811
    agencies,
    resolver,
    settings,
    caplog,
):
    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    settings.BROBYGGER = {**settings.BROBYGGER, "JOB_MAX_ATTEMPTS": 1}
    nav = agencies["nav"]
    nav.webhook_url, nav.webhook_secret = f"https://{INTERNAL}/varsel", SECRET
    nav.save()
    case = waiting_case(asked=False)
    hook = Job.objects.get(case=case, kind=JobKind.WEBHOOK, payload__event="task_created")

    with caplog.at_level(logging.WARNING):
        Worker(name="w-internal").run(once=True)

    hook.refresh_from_db()
    incident = Incident.objects.get(job=hook)
    assert hook.status == JobStatus.FAILED
    english, nb = said(hook.last_error_message)
    assert english == (
        "webhook refused: the host resolves to a non-public address; "
        "WEBHOOK_ALLOWED_NETWORKS lists the internal networks that may be called"
    )
    with translation.override("nb"):
        read = [selectors.incident_error(incident, gettext), selectors.job_error(hook, gettext)]
    read += [nb, selectors.incident_error(incident), hook.last_error, incident.error]
    read += [json.dumps(hook.last_error_message), json.dumps(incident.error_message)]
    assert all(text and INTERNAL_ADDRESS not in text for text in read), read
    # The operator finds the address in the server's log.
    assert any(INTERNAL_ADDRESS in record.getMessage() for record in caplog.records)


def test_an_error_stored_with_the_address_is_read_without_it():
    """Rows failed before this change keep the address in their params: it is not said."""
    stored = {
        "code": "job.webhook.refused",
        "params": {
            "reason": {
                "code": "job.address.not_public",
                "params": {"address": INTERNAL_ADDRESS, "setting": "WEBHOOK_ALLOWED_NETWORKS"},
            }
        },
    }
    unreachable = {"code": "job.webhook.unreachable", "params": {"detail": "[Errno 111] Connection refused"}}
    for message in (stored, unreachable):
        english, nb = said(message)
        assert INTERNAL_ADDRESS not in english + nb and "Errno" not in english + nb
