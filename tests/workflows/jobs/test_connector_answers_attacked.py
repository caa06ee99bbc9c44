"""What an agency's system answers a connector call, and what a connector's address holds,
cannot stop the job worker (h-attack29).

The worker catches what it expects of a call (a refused address, a timeout, an answer that is
no JSON); anything else went up through the batch and ended the worker process. An agency's
system answering a JSON array nested 100,000 deep (``json.loads`` raises ``RecursionError``,
not ``ValueError``), or a connector address with a port past 65535 (the admin's URL field
takes five digits; ``urlsplit`` raises ``ValueError`` at ``.port``), killed every worker that
claimed the job, again each time its lease ran out: no e-mail, webhook, timer or other call
of any case went out meanwhile. Now such a call is a failed attempt like any other (backed
off, then an incident), naming no value, and the rest of the batch is performed."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.contrib.auth import get_user_model

from bpmn.services import deploy_definition
from permissions.grants import revoke_agency_access
from permissions.models import Membership, Role
from tests.workflows.helpers import PERSON, open_tasks
from tests.workflows.service_models import FORMS, connector_model
from workflows import services
from workflows.jobs import notify, service, webhook_transport
from workflows.jobs.worker import Worker
from workflows.models import Event, EventKind, Incident, Job, JobKind, JobStatus, ServiceConnector

pytestmark = pytest.mark.django_db

SECRET = "k" * 40


class RawAnswer:
    """A system on 127.0.0.1 that answers every POST with ``body`` as it is."""

    def __init__(self, body: bytes):
        self.calls = 0
        answer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers["Content-Length"]))
                answer.calls += 1
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/inntekt"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def nav_member(agencies):
    user = get_user_model().objects.create_user("nav-saksbehandler-a29")
    Membership.objects.create(user=user, agency=agencies["nav"], role=Role.MEMBER)
    return user


@pytest.fixture
def waiting_case(settings, agencies, nav_member):
    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    settings.BROBYGGER = {**settings.BROBYGGER, "JOB_MAX_ATTEMPTS": 3, "WEBHOOK_TIMEOUT_SECONDS": 5}
    deploy_definition(actor=None, bpmn_xml=connector_model(), forms=FORMS, check_permission=False)

    def start(*, asked=True):
        case = services.start_case(
            actor=nav_member, process_key="income_check", person=PERSON, participants={"nav": agencies["nav"].pk}
        )
        if not asked:
            return case
        (ask,) = open_tasks(case)
        services.complete_task(actor=nav_member, task_id=ask.pk, data={"applicant_id": "A-29"})
        return case

    return start


def _connector(url, agencies):
    return ServiceConnector.objects.create(name="income-register", url=url, secret=SECRET, agency=agencies["nav"])


def _assert_failed_attempt(case):
    job = Job.objects.get(case=case, kind=JobKind.SERVICE)
    assert job.status == JobStatus.PENDING and job.attempts == 1 and job.locked_by == ""
    assert job.last_error and "A-29" not in job.last_error and "A-29" not in str(job.last_error_message)
    assert open_tasks(case) == []
    return job


def test_an_answer_nested_past_the_parsers_limit_is_a_failed_attempt_not_a_dead_worker(waiting_case, agencies):
    system = RawAnswer(b"[" * 100_000 + b"]" * 100_000)
    try:
        _connector(system.url, agencies)
        case = waiting_case()

        Worker(name="w").run(once=True)  # raised RecursionError out of the worker's loop

        assert system.calls == 1
        job = _assert_failed_attempt(case)
        assert "JSON" in job.last_error
    finally:
        system.close()


def test_a_connector_address_whose_port_is_out_of_range_is_a_failed_attempt(waiting_case, agencies):
    _connector("http://127.0.0.1:99999/inntekt", agencies)
    case = waiting_case()

    Worker(name="w").run(once=True)  # raised ValueError ("Port out of range") out of the loop

    job = _assert_failed_attempt(case)
    assert "65535" in job.last_error


def test_any_other_failure_of_a_call_is_a_failed_attempt_named_by_its_class(waiting_case, agencies, monkeypatch):
    system = RawAnswer(b"{}")
    try:
        _connector(system.url, agencies)
        case = waiting_case()

        def broken(*_args, **_kwargs):
            raise LookupError("A-29 was not in the register")  # a text that quotes a value

        monkeypatch.setattr(service, "receivable_with_grounds", broken)
        Worker(name="w").run(once=True)

        job = _assert_failed_attempt(case)
        assert "LookupError" in job.last_error and system.calls == 0
    finally:
        system.close()


def test_the_rest_of_the_batch_is_performed_after_such_a_call(waiting_case, agencies):
    system = RawAnswer(b"[" * 100_000 + b"]" * 100_000)
    try:
        _connector(system.url, agencies)
        first, second = waiting_case(), waiting_case()

        Worker(name="w").run(once=True)

        assert system.calls == 2  # the second case's call was made too, in the same batch
        _assert_failed_attempt(first)
        _assert_failed_attempt(second)
    finally:
        system.close()


# --- what a service that speaks no HTTP says goes nowhere a person reads --------------------

BANNER = b"SSH-2.0-OpenSSH_9.2p1 intern-db01.kommune.local\r\n"


class Banner:
    """A service on 127.0.0.1 that speaks no HTTP: it reads the request, then says its banner
    (what an SSH server, Redis or a database answers a POST with, in its own words)."""

    def __init__(self):
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/hook"
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self._answer(conn)

    def _answer(self, conn):
        with conn:
            conn.settimeout(2)
            with contextlib.suppress(OSError):
                conn.recv(65536)
                conn.sendall(BANNER)

    def close(self):
        self.sock.close()


def test_a_webhook_to_a_service_speaking_no_http_does_not_quote_what_it_said(waiting_case, agencies):
    """An agency's access administrator sets its webhook's address; the job's error, which the
    process admin reads in the incident, quoted the first line the address answered: with
    ``WEBHOOK_ALLOWED_NETWORKS`` listing the network the agencies' systems share, a reader of
    any service there."""
    banner = Banner()
    try:
        nav = agencies["nav"]
        nav.webhook_url, nav.webhook_secret = banner.url, SECRET
        nav.save()
        case = waiting_case(asked=False)  # NAV's first task open: its webhook job is due
        hook = Job.objects.get(case=case, kind=JobKind.WEBHOOK, payload__event="task_created")

        error = notify.perform(hook)

        # Not even its class (h-outgoing2): every address not reached fails alike
        # (``test_unreachable_says_one_thing.py``).
        assert error and error.message.as_json() == {"code": "job.webhook.unreachable", "params": {}}
        assert "OpenSSH" not in error and "intern-db01" not in str(error.message.as_json())
    finally:
        banner.close()


# --- an answer after the agency was withdrawn -----------------------------------------------


def test_an_answer_that_arrives_after_the_agency_was_withdrawn_is_not_taken(waiting_case, agencies, monkeypatch):
    """A connector job is no external task: its agency may be withdrawn while the call is under
    way. The answer was then taken into the case all the same, written by an agency that no
    longer works it (its external task's completion answers 404 then). Now it is refused as a
    call to an agency outside the case is: nothing taken, an incident for the process admin."""
    system = RawAnswer(b'{"income": 12345, "income_source": "a-ordningen"}')
    try:
        _connector(system.url, agencies)
        case = waiting_case()
        exchange = service.webhook_transport.exchange

        def withdrawn_meanwhile(*args, **kwargs):
            answer = exchange(*args, **kwargs)
            revoke_agency_access(case, [agencies["nav"]])  # the coordinator withdraws NAV meanwhile
            return answer

        monkeypatch.setattr(service.webhook_transport, "exchange", withdrawn_meanwhile)
        Worker(name="w").run(once=True)

        assert system.calls == 1
        job = Job.objects.get(case=case, kind=JobKind.SERVICE)
        assert (job.status, job.attempts) == (JobStatus.FAILED, 1)
        assert "income-register" in job.last_error and "12345" not in job.last_error
        assert Incident.objects.filter(job=job, resolved_at=None).exists()
        case.refresh_from_db()
        assert "income" not in case.data and open_tasks(case) == []
        assert not Event.objects.filter(case=case, kind=EventKind.SERVICE_CALLED).exists()
    finally:
        system.close()


# --- a name whose resolver never answers ------------------------------------------------------


def test_a_host_name_that_resolves_slowly_ends_the_call_within_its_timeout(monkeypatch):
    """The timeout bounds the whole call, but resolving the name came before it and had none
    of its own: a webhook's domain whose name server (run by whoever owns the domain) never
    answers held the worker for as long as the system's resolver waits, on every such call."""
    real_getaddrinfo = socket.getaddrinfo

    def slow_getaddrinfo(host, port, *args, **kwargs):
        if host == "varsel.etat.example":
            time.sleep(4)
        return real_getaddrinfo("127.0.0.1" if host == "varsel.etat.example" else host, port, *args, **kwargs)

    monkeypatch.setattr(webhook_transport.socket, "getaddrinfo", slow_getaddrinfo)
    loopback = webhook_transport.parse_networks(["127.0.0.0/8"])
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        webhook_transport.exchange("http://varsel.etat.example:9/hook", b"{}", {}, timeout=1, allowed_networks=loopback)
    assert time.monotonic() - started < 2.5
