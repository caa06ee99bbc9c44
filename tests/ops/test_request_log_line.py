"""The JSON line each request writes, made with less work than the libraries' own steps and
the same text (README "Performance", h-perf16): python-json-logger's line character for
character, the secrets of link paths masked wherever a record can carry them, and the
request's record as ``Logger.info`` made it, without its caller lookup."""

import json
import logging
import sys
from io import StringIO

import pytest
from django.http import HttpResponse
from django.test import RequestFactory
from pythonjsonlogger import core
from pythonjsonlogger.json import JsonFormatter

from ops.logs import JsonLines, MaskSecrets, logging_config
from ops.middleware import RequestMetrics


def _formatter() -> JsonLines:
    config = logging_config(json_lines=True, level="INFO")["formatters"]["default"]
    return JsonLines(fmt=config["fmt"], style=config["style"], rename_fields=config["rename_fields"])


def _record(msg="request", args=(), *, exc_info=None, created=None, **extras) -> logging.LogRecord:
    record = logging.LogRecord("brobygger.request", logging.INFO, __file__, 7, msg, args, exc_info)
    if created is not None:
        record.created, record.msecs = created, (created - int(created)) * 1000
    for name, value in extras.items():
        setattr(record, name, value)
    return record


def _failed():
    try:
        raise ValueError("a value")
    except ValueError:
        return sys.exc_info()


RECORDS = {
    "request": lambda: _record(request_id="abc", method="GET", route="api/v1/tasks/", status=200, ms=3.2),
    "no request id": lambda: _record(method="POST", status=201, ms=0.1),
    "arguments": lambda: _record("Not Found: %s", ("/x/",), request_id=None, status_code=404),
    "extras of every kind": lambda: _record(
        request_id="abc", _hidden=1, nested={"ø": ["å", 1.5, None, True]}, raw=b"\xff", error=ValueError("x")
    ),
    "a field's name as an extra": lambda: _record(request_id="abc", pid="not the pid", level="x", time="y"),
    "a dict message": lambda: _record({"event": "started", "count": 2}, request_id="abc"),
    "an exception": lambda: _record("failed", exc_info=_failed(), request_id="abc"),
    "a stack": lambda: _record("here", request_id="abc", stack_info="Stack (most recent call last):\n  x"),
    "an exception's text": lambda: _record("failed", request_id="abc", exc_text="Traceback ..."),
    "end of a second": lambda: _record(request_id="a", created=1_796_000_000.9995),
    "start of the next": lambda: _record(request_id="a", created=1_796_000_001.0),
}


@pytest.mark.parametrize("kind", RECORDS)
def test_a_line_is_python_json_logger_s_text_for_every_kind_of_record(kind):
    """Ours against the library's own ``format`` on the same formatter (its fields, renames
    and exception text), the one record formatted in turn by each."""
    ours = _formatter()
    record = RECORDS[kind]()
    theirs = JsonFormatter.format(ours, record)
    assert ours.format(record) == theirs
    assert ours.format(record) == theirs  # and again: the second's text kept


def test_the_time_is_logging_s_own_across_seconds():
    ours = _formatter()
    for created in (1_796_000_000.0, 1_796_000_000.5, 1_796_000_000.9999, 1_796_000_001.0004, 1_796_003_600.25):
        record = _record(created=created)
        assert ours.formatTime(record) == logging.Formatter().formatTime(record)


def test_a_line_needs_no_walk_over_every_attribute_nor_a_time_text_each(monkeypatch):
    """The library's ``merge_record_extra`` tests each of a record's 25-odd attributes; the
    time's text is made once a second, not for each line."""
    import time

    def not_here(*args, **kwargs):
        raise AssertionError("merged every attribute")

    monkeypatch.setattr(core, "merge_record_extra", not_here)
    made = []
    strftime = time.strftime
    monkeypatch.setattr(time, "strftime", lambda *args: made.append(args) or strftime(*args))
    ours = _formatter()
    for created in (1_796_000_000.0, 1_796_000_000.3, 1_796_000_000.6):
        line = json.loads(ours.format(_record(request_id="abc", method="GET", created=created)))
        assert line["request_id"] == "abc" and line["method"] == "GET"
    assert len(made) == 1


class _Watched(str):
    """A text that tells when it is searched."""

    searched: list[str] = []

    def __contains__(self, part):
        self.searched.append(str(self))
        return super().__contains__(part)


def test_secrets_are_masked_in_the_message_its_extras_and_the_texts_of_errors_and_stacks():
    record = _record(
        "Not Found: %s",
        ("/accounts/two-factor/enrol/SECRET-ONE/",),
        path="/accounts/reset/MQ/SECRET-TWO/",
        nested_text="see /accounts/two-factor/enrol/SECRET-THREE",
        stack_info="  File x\n    get('/accounts/reset/MQ/SECRET-FOUR/')",
        exc_text="Traceback: /accounts/two-factor/enrol/SECRET-FIVE",
        number=7,
    )
    assert MaskSecrets().filter(record)
    line = _formatter().format(record) + record.stack_info
    assert "SECRET" not in line, line
    assert record.getMessage() == "Not Found: /accounts/two-factor/enrol/<token>/"
    assert record.path == "/accounts/reset/<uidb64>/<token>/" and record.number == 7
    assert record.exc_text == "Traceback: /accounts/two-factor/enrol/<token>"


def test_the_masking_searches_the_extras_not_what_every_record_has():
    """The logger's, the code's, the thread's and the process's names hold no link: a
    request's line searches its few extras, not every attribute."""
    _Watched.searched = []
    record = _record(request_id="abc", route=_Watched("api/v1/tasks/"))
    for name in ("name", "pathname", "filename", "module", "funcName", "threadName", "processName", "levelname"):
        setattr(record, name, _Watched(getattr(record, name)))
    assert MaskSecrets().filter(record)
    assert set(_Watched.searched) == {"api/v1/tasks/"}


def _request_line(monkeypatch) -> tuple[logging.LogRecord, str]:
    """The record and JSON line of one request through ``RequestMetrics``, as production
    writes it (the handler's filters and formatter from ``logging_config``)."""
    from logging.config import DictConfigurator

    config = logging_config(json_lines=True, level="INFO")
    configurator = DictConfigurator(config)
    written = StringIO()
    handler = logging.StreamHandler(written)
    handler.setFormatter(configurator.configure_formatter(dict(config["formatters"]["default"])))
    for name in ("request_id", "mask_secrets"):
        handler.addFilter(configurator.configure_filter(dict(config["filters"][name])))
    seen: list[logging.LogRecord] = []
    handler.addFilter(lambda record: seen.append(record) or True)
    logger = logging.getLogger("brobygger.request")
    monkeypatch.setattr(logger, "handlers", [handler])
    monkeypatch.setattr(logger, "propagate", False)
    monkeypatch.setattr(logger, "level", logging.INFO)
    logger.manager._clear_cache()
    try:
        from django.conf import settings

        settings.LOG_REQUESTS = True
        request = RequestFactory().get("/api/v1/agencies/")
        assert RequestMetrics(lambda request: HttpResponse(status=200))(request).status_code == 200
    finally:
        logger.manager._clear_cache()
    (record,) = seen
    return record, written.getvalue()


def test_the_request_line_has_its_fields_and_the_place_it_was_written(settings, monkeypatch):
    record, written = _request_line(monkeypatch)
    line = json.loads(written)
    assert list(line) == ["time", "level", "logger", "message", "request_id", "pid", "method", "route", "status", "ms"]
    assert line["level"] == "INFO" and line["logger"] == "brobygger.request" and line["message"] == "request"
    assert line["method"] == "GET" and line["route"] == "<unmatched>" and line["status"] == 200
    assert isinstance(line["ms"], float) and line["pid"] > 0 and "request_id" in line
    # The record names where it was written, as ``Logger.findCaller`` named it.
    code = RequestMetrics.__call__.__code__
    assert (record.pathname, record.funcName) == (code.co_filename, "__call__")
    lines = [number for _start, _end, number in code.co_lines() if number]
    assert min(lines) <= record.lineno <= max(lines)


def test_the_request_line_looks_for_no_caller(settings, monkeypatch):
    def not_here(*args, **kwargs):
        raise AssertionError("walked the stack for the caller")

    monkeypatch.setattr(logging.Logger, "findCaller", not_here)
    _record, written = _request_line(monkeypatch)
    assert json.loads(written)["message"] == "request"


def test_no_request_line_when_the_level_leaves_it_out(settings, monkeypatch):
    logger = logging.getLogger("brobygger.request")
    handler = logging.StreamHandler(StringIO())
    monkeypatch.setattr(logger, "handlers", [handler])
    monkeypatch.setattr(logger, "propagate", False)
    monkeypatch.setattr(logger, "level", logging.WARNING)
    logger.manager._clear_cache()
    try:
        settings.LOG_REQUESTS = True
        RequestMetrics(lambda request: HttpResponse(status=200))(RequestFactory().get("/api/v1/agencies/"))
    finally:
        logger.manager._clear_cache()
    assert handler.stream.getvalue() == ""
