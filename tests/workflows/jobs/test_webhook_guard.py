"""Webhooks cannot be pointed at internal addresses and never follow a redirect: the host
is resolved when the call is made, every address checked, and the checked one connected to."""

import ipaddress
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.workflows.helpers import start_prison_case
from workflows.jobs import notify as notifications
from workflows.jobs import webhook_transport
from workflows.models import Job, JobKind

LOOPBACK = webhook_transport.parse_networks(["127.0.0.0/8"])


class Server:
    """A local endpoint answering ``status`` (with ``location`` for a redirect)."""

    def __init__(self, status=200, location=None):
        self.calls = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                server.calls.append((self.path, dict(self.headers), body))
                self.send_response(status)
                if location:
                    self.send_header("Location", location)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_port
        self.url = f"http://127.0.0.1:{self.port}/hook"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    servers = []

    def make(**kwargs):
        servers.append(Server(**kwargs))
        return servers[-1]

    yield make
    for each in servers:
        each.close()


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "127.3.4.5",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",
        "224.0.0.1",
        "::1",
        "fe80::1",
        "fc00::1",
        "fec0::1",  # site-local: deprecated, still routed inside some networks
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "::",
        # 6to4: a host with a 6to4 route sends these to the IPv4 address they embed
        "2002:7f00:1::",
        "2002:a9fe:a9fe::",
        "2002:a00:1::1",
    ],
)
def test_internal_addresses_are_refused(address):
    assert not webhook_transport.is_public(ipaddress.ip_address(address))
    host = f"[{address}]" if ":" in address else address
    with pytest.raises(webhook_transport.WebhookRefused, match="non-public address"):
        webhook_transport.post(f"http://{host}:9/x", b"{}", {}, timeout=1, allowed_networks=[])


@pytest.mark.parametrize("address", ["8.8.8.8", "193.156.90.1", "2001:4860:4860::8888", "2002:808:808::"])
def test_public_addresses_pass_the_check(address):
    assert webhook_transport.is_public(ipaddress.ip_address(address))


def test_a_name_is_resolved_when_sent_and_every_answer_is_checked(monkeypatch, server):
    endpoint = server()
    answers = {"hooks.agency.example": ["93.184.216.34", "127.0.0.1"]}  # one public, one not
    real_getaddrinfo = socket.getaddrinfo

    def fake_getaddrinfo(host, port, *args, **kwargs):
        if host not in answers:  # the connection itself, to the checked address
            return real_getaddrinfo(host, port, *args, **kwargs)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, port)) for ip in answers[host]]

    monkeypatch.setattr(webhook_transport.socket, "getaddrinfo", fake_getaddrinfo)
    url = f"http://hooks.agency.example:{endpoint.port}/hook"
    with pytest.raises(webhook_transport.WebhookRefused):
        webhook_transport.post(url, b"{}", {}, timeout=2, allowed_networks=[])
    assert endpoint.calls == []
    # Allowed as an internal network: the call goes to the checked address, named by its host.
    answers["hooks.agency.example"] = ["127.0.0.1"]
    status = webhook_transport.post(url, b"{}", {}, timeout=2, allowed_networks=LOOPBACK)
    assert status == 200
    assert endpoint.calls[0][1]["Host"] == f"hooks.agency.example:{endpoint.port}"


def test_plain_http_goes_only_to_an_allowed_internal_network(monkeypatch):
    """Over the internet a call is https: in clear, the fields a connector sends could be read
    on the way and its answer (taken into the case) rewritten. Nothing connects when refused."""
    public = "93.184.216.34"
    monkeypatch.setattr(
        webhook_transport.socket,
        "getaddrinfo",
        lambda host, port, *args, **kwargs: [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (public, port))],
    )
    connected = []

    def create_connection(address, *args, **kwargs):
        connected.append(address)
        raise ConnectionRefusedError

    monkeypatch.setattr(webhook_transport.socket, "create_connection", create_connection)
    with pytest.raises(webhook_transport.WebhookRefused, match="must be https://"):
        webhook_transport.post("http://hooks.agency.example/hook", b"{}", {}, timeout=1, allowed_networks=[])
    assert connected == []
    with pytest.raises(ConnectionRefusedError):  # https: past the guard, to the checked address
        webhook_transport.post("https://hooks.agency.example/hook", b"{}", {}, timeout=1, allowed_networks=[])
    internal = webhook_transport.parse_networks([f"{public}/32"])  # the operator's own network
    with pytest.raises(ConnectionRefusedError):
        webhook_transport.post("http://hooks.agency.example/hook", b"{}", {}, timeout=1, allowed_networks=internal)
    assert connected == [(public, 443), (public, 80)]


def test_a_redirect_is_not_followed(server):
    target = server()
    redirecting = server(status=307, location=target.url)
    status = webhook_transport.post(
        redirecting.url, b"{}", {"X-Brobygger-Signature": "sha256=x"}, timeout=2, allowed_networks=LOOPBACK
    )
    assert status == 307 and target.calls == []


def test_credentials_in_the_url_are_refused():
    with pytest.raises(webhook_transport.WebhookRefused):
        webhook_transport.post("http://user:pw@8.8.8.8/x", b"{}", {}, timeout=1, allowed_networks=[])


@pytest.mark.django_db
def test_the_webhook_job_refuses_loopback_unless_allowed(shipped, users, agencies, server, settings):
    endpoint = server()
    prison = agencies["prison"]
    prison.webhook_url, prison.webhook_secret = endpoint.url, "s3cret"
    prison.save()
    case = start_prison_case(users, agencies)
    hook = Job.objects.get(case=case, kind=JobKind.WEBHOOK, payload__event="task_created")
    settings.WEBHOOK_ALLOWED_NETWORKS = []
    error = notifications.perform(hook)
    assert error.startswith("webhook refused") and endpoint.calls == []
    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    assert notifications.perform(hook) is None and len(endpoint.calls) == 1


@pytest.mark.django_db
def test_the_webhook_job_fails_on_a_redirect_and_the_signature_goes_nowhere_else(
    shipped, users, agencies, server, settings
):
    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    elsewhere = server()
    redirecting = server(status=302, location=elsewhere.url)
    prison = agencies["prison"]
    prison.webhook_url, prison.webhook_secret = redirecting.url, "s3cret"
    prison.save()
    case = start_prison_case(users, agencies)
    hook = Job.objects.get(case=case, kind=JobKind.WEBHOOK, payload__event="task_created")
    error = notifications.perform(hook)
    assert "302" in error and "redirects are not followed" in error
    assert len(redirecting.calls) == 1 and elsewhere.calls == []


def test_a_bad_allowed_network_stops_start_up():
    import os
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        capture_output=True,
        text=True,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", "WEBHOOK_ALLOWED_NETWORKS": "10.0.0.0/33"},
    )
    assert result.returncode != 0 and "WEBHOOK_ALLOWED_NETWORKS" in result.stderr
