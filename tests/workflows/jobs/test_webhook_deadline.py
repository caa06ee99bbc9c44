"""An outbound call (webhook, service connector, archive) ends within its timeout in all,
not within its timeout per read: a receiver that answers one byte at a time, each just
inside the timeout, would otherwise hold the worker past its job's lease (another worker
then sends the same call again) and, one job after another, every worker."""

import datetime
import socket
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from workflows.jobs import webhook_transport

LOOPBACK = webhook_transport.parse_networks(["127.0.0.0/8"])


class Trickler:
    """Reads the request, then answers a byte every ``pause`` seconds for ``seconds``."""

    def __init__(self, pause=0.2, seconds=6.0):
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.pause, self.seconds = pause, seconds
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        try:
            client, _ = self.listener.accept()
        except OSError:
            return
        with client:
            client.recv(65536)
            answer = b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 10_000
            end = time.monotonic() + self.seconds
            for byte in answer:
                if time.monotonic() > end:
                    break
                try:
                    client.sendall(bytes([byte]))
                except OSError:
                    return
                time.sleep(self.pause)

    def close(self):
        self.listener.close()


@pytest.fixture
def trickler():
    server = Trickler()
    yield server
    server.close()


def test_an_answer_that_trickles_in_is_cut_off_at_the_timeout(trickler):
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        webhook_transport.exchange(
            f"http://127.0.0.1:{trickler.port}/hook", b"{}", {}, timeout=1, allowed_networks=LOOPBACK
        )
    assert time.monotonic() - started < 2.5


def test_a_big_body_the_receiver_never_reads_is_cut_off_at_the_timeout():
    listener = socket.create_server(("127.0.0.1", 0))  # accepts (the kernel does), never reads
    started = time.monotonic()
    try:
        with pytest.raises(TimeoutError):
            webhook_transport.exchange(
                f"http://127.0.0.1:{listener.getsockname()[1]}/hook",
                b"x" * 50_000_000,
                {},
                timeout=1,
                allowed_networks=LOOPBACK,
            )
    finally:
        listener.close()
    assert time.monotonic() - started < 2.5


def _certificate(folder):
    """A self-signed certificate for localhost: its file, and the key's."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_file, key_file


def test_over_tls_the_answer_is_read_whole_and_a_silent_handshake_times_out(tmp_path, monkeypatch):
    cert_file, key_file = _certificate(tmp_path)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)

    class Handler(BaseHTTPRequestHandler):  # HTTP/1.0: the connection closes after the answer
        def do_POST(self):
            self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(201)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    trusting = ssl.create_default_context
    monkeypatch.setattr(webhook_transport.ssl, "create_default_context", lambda: trusting(cafile=str(cert_file)))
    silent = socket.create_server(("127.0.0.1", 0))
    try:
        url = f"https://localhost:{httpd.server_port}/hook"
        assert webhook_transport.exchange(url, b"{}", {}, timeout=2, allowed_networks=LOOPBACK) == (201, b"ok")
        started = time.monotonic()
        with pytest.raises(TimeoutError):
            url = f"https://localhost:{silent.getsockname()[1]}/hook"
            webhook_transport.exchange(url, b"{}", {}, timeout=1, allowed_networks=LOOPBACK)
        assert time.monotonic() - started < 2.5
    finally:
        silent.close()
        httpd.shutdown()
        httpd.server_close()
