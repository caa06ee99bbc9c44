"""gunicorn makes its access line only when an access log is asked for (``ops.gunicorn_conf``).
It made one for every request, all its headers and times, whenever a ``logconfig_dict`` was
given, though no handler writes it: ``ops.middleware`` logs each request once, with its route
and request id."""

import datetime
import logging

import pytest
from gunicorn import glogging
from gunicorn.config import Config

from ops import gunicorn_conf


def _logger(monkeypatch, **settings):
    monkeypatch.setattr(glogging, "dictConfig", lambda _config: None)  # the test process keeps its logging
    config = Config()
    config.set("logconfig_dict", gunicorn_conf.logconfig_dict)
    config.set("accesslog", gunicorn_conf.accesslog)
    config.set("logger_class", getattr(gunicorn_conf, "logger_class", "gunicorn.glogging.Logger"))
    for name, value in settings.items():
        config.set(name, value)
    return config.logger_class(config)


class _Response:
    status = "200 OK"
    headers = [("Content-Type", "application/json")]
    sent = 12
    response_length = 12


class _Request:
    headers = [("USER-AGENT", "test"), ("AUTHORIZATION", "Token secret")]
    method, path, query, uri, version = "GET", "/api/v1/tasks/", "", "/api/v1/tasks/", (1, 1)


def _made(monkeypatch, logger) -> int:
    made = []
    original = logger.atoms
    monkeypatch.setattr(logger, "atoms", lambda *args: made.append(1) or original(*args))
    environ = {
        "REMOTE_ADDR": "127.0.0.1",
        "REQUEST_METHOD": "GET",
        "RAW_URI": "/api/v1/tasks/",
        "SERVER_PROTOCOL": "HTTP/1.1",
    }
    logger.access(_Response(), _Request(), environ, datetime.timedelta(milliseconds=3))
    return len(made)


def test_no_access_line_is_made_without_an_access_log(monkeypatch):
    logger = _logger(monkeypatch)
    assert not logger.access_log_enabled
    assert _made(monkeypatch, logger) == 0


@pytest.mark.parametrize("target", ["-"])
def test_an_access_log_asked_for_is_written(monkeypatch, target, caplog):
    logger = _logger(monkeypatch, accesslog=target)
    assert logger.access_log_enabled
    logger.access_log.propagate = True
    with caplog.at_level(logging.INFO, logger="gunicorn.access"):
        assert _made(monkeypatch, logger) == 1
    assert any(record.name == "gunicorn.access" for record in caplog.records)
