"""The static files are found once per process (``config.static_files``), and every handler
serves them: the page's scripts from npm, the project's own files, the admin's."""

from unittest import mock

from django.test import Client
from whitenoise.middleware import WhiteNoiseMiddleware

from config.static_files import StaticFilesMiddleware

SERVED = ("/static/vendor/htmx/htmx.min.js", "/static/vendor/bpmn-js/bpmn-viewer.production.min.js")


def test_the_finders_are_scanned_once_and_every_instance_serves_what_the_scan_found(monkeypatch):
    monkeypatch.setattr(StaticFilesMiddleware, "_found", {})
    scan = mock.patch.object(
        WhiteNoiseMiddleware,
        "add_files_from_finders",
        autospec=True,
        side_effect=WhiteNoiseMiddleware.add_files_from_finders,
    )
    with scan as scanned:
        first = StaticFilesMiddleware(lambda request: None)
        second = StaticFilesMiddleware(lambda request: None)
    assert scanned.call_count == 1
    assert set(first.files) == set(second.files) and all(url in second.files for url in SERVED)


def test_a_new_client_is_served_the_static_files(db):
    for _ in range(2):  # each client builds its own handler, and so its own middleware
        for url in SERVED:
            answer = Client().get(url)
            assert answer.status_code == 200, url
            assert b"".join(answer.streaming_content)
