"""Sending a webhook so that it cannot be turned against the network it runs in.

- The host is resolved when the call is made, and every address it resolves to must be
  public (not loopback, private, link-local, shared, multicast or reserved, nor an IPv6
  form of such an IPv4 address: mapped or 6to4) unless it is in
  ``WEBHOOK_ALLOWED_NETWORKS``; the connection then goes to the address that was checked,
  so a second DNS answer cannot swap in another (DNS rebinding).
- Plain ``http://`` only inside ``WEBHOOK_ALLOWED_NETWORKS`` (the operator's own networks):
  to a public address the call must be ``https://``. Over the internet in clear, the fields a
  connector sends (health, justice, economy) could be read on the way, and its answer, which
  the task takes into the case, rewritten.
- Redirects are never followed: a 3xx is a failed call, and the signed body and its
  signature go nowhere else.
- The timeout bounds the whole call (resolving the name, connecting, TLS, sending, the answer), not each read:
  a receiver answering a byte at a time would otherwise hold the worker past its job's
  lease, and another worker would send the same call again.
"""

from __future__ import annotations

import concurrent.futures
import http.client
import io
import ipaddress
import logging
import socket
import ssl
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from core.messages import Message

log = logging.getLogger(__name__)

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class WebhookRefused(Exception):
    """The address may not be called. ``message``: why, to be said in the reader's language;
    ``reason``: its English text."""

    def __init__(self, code: str, **params):
        self.message = Message(code, params)
        self.reason = str(self.message)
        super().__init__(self.reason)

    def __str__(self):
        return self.reason


class HostUnknown(WebhookRefused):
    """The host name resolves to no address (``job.address.unresolved``). A webhook's and a
    connector's caller count it as an address that could not be reached (one error for every
    such failure: which one it was would tell the reader of the incident what the internal
    network's name servers know); the archive's as a refusal."""


def parse_networks(values: list[str]) -> list[Network]:
    return [ipaddress.ip_network(value, strict=False) for value in values]


def is_public(address: Address) -> bool:
    """A public address; an IPv6 one that stands for an IPv4 address (IPv4-mapped, or 6to4,
    which a host with a 6to4 route sends to the address it embeds) is judged by that one.
    An IPv6 site-local address (fec0::/10, deprecated but still routed inside some networks)
    is not public, though Python counts it as global."""
    if isinstance(address, ipaddress.IPv6Address):
        address = address.ipv4_mapped or address.sixtofour or address
    site_local = isinstance(address, ipaddress.IPv6Address) and address.is_site_local
    return address.is_global and not (address.is_multicast or address.is_reserved or site_local)


def _allowed(address: Address, allowed_networks: list[Network]) -> bool:
    return is_public(address) or any(address in network for network in allowed_networks)


# Names are resolved here, so that a resolver that never answers (the webhook's domain's own
# name server, which its owner runs) holds a call no longer than its timeout: ``getaddrinfo``
# takes no timeout, and the system's resolver waits its own (seconds per server and attempt).
# A resolution that outlives its call finishes here, holding one of these threads meanwhile.
_RESOLVER = concurrent.futures.ThreadPoolExecutor(max_workers=4, thread_name_prefix="webhook-resolve")


def _getaddrinfo(host: str, port: int, deadline: _Deadline | None):
    if deadline is None:
        return socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    future = _RESOLVER.submit(socket.getaddrinfo, host, port, type=socket.SOCK_STREAM)
    try:
        return future.result(timeout=deadline.left())
    except concurrent.futures.TimeoutError:
        future.cancel()
        raise TimeoutError("the host name was not resolved within the call's timeout") from None


def resolve_checked(
    host: str,
    port: int,
    allowed_networks: list[Network],
    networks_setting: str = "WEBHOOK_ALLOWED_NETWORKS",
    deadline: _Deadline | None = None,
) -> str:
    """The address to connect to, after checking every address ``host`` resolves to.
    ``networks_setting``: the setting that lists ``allowed_networks``, named in a refusal;
    ``deadline``: the call's, which the resolution must end within (else ``TimeoutError``)."""
    try:
        infos = _getaddrinfo(host, port, deadline)
    except socket.gaierror as exc:
        raise HostUnknown("job.address.unresolved", detail=str(exc.strerror)) from None
    except UnicodeError:  # a name IDNA cannot encode (a label too long or empty): none resolves
        raise HostUnknown("job.address.unresolved", detail="invalid host name") from None
    addresses = [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]
    refused = [address for address in addresses if not _allowed(address, allowed_networks)]
    if refused or not addresses:
        # The refusal names no address: whoever set the URL (an agency's access administrator
        # sets its webhook's) reads it in the incident, and the address the name resolves to
        # inside the municipality's network is what its name servers know, not hers to ask.
        # The operator finds it in the server's log (a host name and an address: no case data).
        log.warning("%s resolves to %s, outside %s: not called", host, refused[0] if refused else "-", networks_setting)
        raise WebhookRefused("job.address.not_public", setting=networks_setting)
    return str(addresses[0])


class _Deadline:
    """The time left of a call's ``timeout`` (``TimeoutError`` once there is none)."""

    def __init__(self, timeout: float):
        self.end = time.monotonic() + timeout

    def left(self) -> float:
        left = self.end - time.monotonic()
        if left <= 0:
            raise TimeoutError("the call took longer than its timeout")
        return left


class _DeadlineSocket:
    """A connected socket whose every send and read waits at most the time the call has
    left. It stays open while the answer's file reads it, as a socket's ``makefile`` does."""

    SEND_CHUNK = 16 * 1024  # a TLS record: each chunk is sent within what is left

    def __init__(self, sock, deadline: _Deadline):
        self._sock, self._deadline = sock, deadline
        self._files, self._closed = 0, False

    def sendall(self, data, *_args):
        view = memoryview(data).cast("B")
        for start in range(0, len(view), self.SEND_CHUNK):
            self._sock.settimeout(self._deadline.left())
            self._sock.sendall(view[start : start + self.SEND_CHUNK])

    def recv_into(self, buffer, *args):
        self._sock.settimeout(self._deadline.left())
        return self._sock.recv_into(buffer, *args)

    def makefile(self, *_args, **_kwargs):
        self._files += 1
        return io.BufferedReader(socket.SocketIO(self, "rb"))

    def _decref_socketios(self):  # the answer's file closed (``socket.SocketIO.close``)
        self._files -= 1
        if self._closed and self._files <= 0:
            self._sock.close()

    def close(self):
        self._closed = True
        if self._files <= 0:
            self._sock.close()

    def __getattr__(self, name):
        return getattr(self._sock, name)


def _open(address: str, port: int, deadline: _Deadline) -> socket.socket:
    sock = socket.create_connection((address, port), deadline.left())
    sock.settimeout(deadline.left())  # the TLS handshake, if any, within what is left
    return sock


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, host, port, address, deadline, **kwargs):
        super().__init__(host, port, **kwargs)
        self._deadline = deadline
        self._create_connection = lambda _addr, *args: _open(address, port, deadline)

    def connect(self):
        super().connect()
        self.sock = _DeadlineSocket(self.sock, self._deadline)


class _PinnedHTTPSConnection(_PinnedHTTPConnection, http.client.HTTPSConnection):
    # Connects to the checked address; the certificate is still checked against the host name (SNI).
    def __init__(self, host, port, address, deadline, **kwargs):
        http.client.HTTPSConnection.__init__(self, host, port, context=ssl.create_default_context(), **kwargs)
        self._deadline = deadline
        self._create_connection = lambda _addr, *args: _open(address, port, deadline)


def post(url: str, body: bytes, headers: dict[str, str], **guard: Any) -> int:
    """POST ``body`` to ``url`` and return the HTTP status (3xx included: not followed).
    ``guard``: ``exchange``'s keywords (the timeout, the allowed networks and their setting)."""
    status, _answer = exchange(url, body, headers, **guard)
    return status


def exchange(
    url: str,
    body: bytes,
    headers: dict[str, str],
    *,
    timeout: float,
    allowed_networks: list[Network],
    networks_setting: str = "WEBHOOK_ALLOWED_NETWORKS",
    max_answer_bytes: int = 64 * 1024,
    before_sending: Callable[[], None] | None = None,
) -> tuple[int, bytes]:
    """POST ``body`` to ``url`` under the same guard; the status and at most
    ``max_answer_bytes`` of the answer (a longer answer is cut there).

    ``before_sending`` is called once the connection is open (TCP, and TLS for https) and
    before a byte of the request is written: a refused, unresolvable or unreachable address
    never calls it; when it raises, nothing is sent."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise WebhookRefused("job.address.no_url")
    if parts.username or parts.password:
        raise WebhookRefused("job.address.credentials")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:  # past 65535 (a URL field takes five digits): a ValueError, not a refusal
        raise WebhookRefused("job.address.bad_port") from None
    deadline = _Deadline(timeout)
    address = resolve_checked(parts.hostname, port, allowed_networks, networks_setting, deadline)
    if parts.scheme == "http" and not any(ipaddress.ip_address(address) in network for network in allowed_networks):
        raise WebhookRefused("job.address.plain_http", setting=networks_setting)
    connection_class = _PinnedHTTPSConnection if parts.scheme == "https" else _PinnedHTTPConnection
    connection = connection_class(parts.hostname, port, address, deadline, timeout=timeout)
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    try:
        connection.connect()
        if before_sending is not None:
            before_sending()
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, response.read(max_answer_bytes)
    finally:
        connection.close()
