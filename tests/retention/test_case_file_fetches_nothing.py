"""The case file's PDF fetches nothing but the site's own static files, read from disk.

WeasyPrint's default fetcher fetches any URL an ``<img>``, a ``<link>`` or a CSS ``url()``
names (``http:``, ``https:``, ``ftp:``, ``file:``): a case value that reached the HTML raw
would have the worker call an address of its writer's choice (an internal service, the
cloud's metadata endpoint) or print a file of the host into the archive."""

import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from django.utils import timezone

from retention import archive
from workflows.models import Case

from .pdfa import text_of

pytestmark = pytest.mark.postgres


@pytest.fixture
def listener():
    """A web server on 127.0.0.1 that records every request it is sent."""
    hits = []

    class Record(BaseHTTPRequestHandler):
        def do_GET(self):
            hits.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "text/css")
            self.end_headers()
            self.wfile.write(b"body { color: red }")

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Record)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", hits
    server.shutdown()
    server.server_close()


def hostile(base):
    return (
        f'<img src="{base}/img"><link rel="stylesheet" href="{base}/css">'
        f'<p style="background: url({base}/bg)">x</p><style>@import url("{base}/import");</style>'
        '<img src="file:///etc/hostname"><img src="../manage.py">'
    )


def test_a_case_value_shaped_as_html_reaches_no_url_and_the_pdf_renders(carrying_case, listener):
    base, hits = listener
    data = {**carrying_case.data, "treatment_plan": hostile(base)}  # a field of the case file
    Case.objects.filter(pk=carrying_case.pk).update(data=data)
    carrying_case.refresh_from_db()
    pdf, _categories = archive.case_file(carrying_case, timezone.now())
    assert pdf.startswith(b"%PDF") and hits == []
    assert f"{base}/img" in text_of(pdf).replace("\n", "")  # written as text, not fetched


def test_html_let_through_raw_still_fetches_nothing_but_static_files(closed_case, listener, monkeypatch):
    """As if a template let a value through unescaped: no URL is fetched, no file outside the
    static folder is read, and the PDF is made all the same."""
    base, hits = listener
    asked = []
    real_fetch = archive.StaticOnlyFetcher.fetch

    def spy(self, url, headers=None):
        answer = real_fetch(self, url, headers)  # raises for a URL it refuses
        asked.append(url)
        return answer

    monkeypatch.setattr(archive.StaticOnlyFetcher, "fetch", spy)
    page = f'<html><body><p>Saksmappe</p>{hostile(base)}<img src="brobygger/favicon.svg"></body></html>'
    monkeypatch.setattr(archive, "render_to_string", lambda *args, **kwargs: page)
    pdf, _categories = archive.case_file(closed_case, timezone.now())
    assert pdf.startswith(b"%PDF") and "Saksmappe" in text_of(pdf)
    assert hits == []
    assert [url.removeprefix(archive.STATIC_DIR.as_uri()) for url in asked] == ["/brobygger/favicon.svg"]


def test_the_fetcher_refuses_every_url_but_a_static_file():
    fetcher = archive.StaticOnlyFetcher()
    static = archive.STATIC_DIR.as_uri()
    css = archive.STATIC_DIR / "brobygger" / "site.css"
    assert fetcher(f"{static}/brobygger/site.css").read() == css.read_bytes()
    for url in (
        "http://127.0.0.1:9/x",
        "https://example.org/x.png",
        "ftp://example.org/x",
        "data:text/plain,x",
        "file:///etc/hostname",
        f"{static}/../manage.py",
        f"{static}/%2e%2e/manage.py",
        f"file://example.org{css}",
        f"{static}/brobygger",  # a folder
    ):
        with pytest.raises(ValueError):
            fetcher(url)
