"""What every request pays outside its view (the request id, the latency metric, the log
line), kept to what it must do: the same headers, ids, metric samples and log text as the
libraries' own code, in a bounded number of Python calls (README "Performance", h-perf10)."""

import json
import logging
import sys
import uuid
from datetime import UTC, datetime

import pytest
from django.http import HttpResponse
from django.test import RequestFactory
from django_guid import get_guid
from django_guid.middleware import guid_middleware
from prometheus_client import REGISTRY
from pythonjsonlogger.json import JsonFormatter

from ops.logs import JsonLines, MaskSecrets, logging_config
from ops.middleware import RequestMetrics
from ops.request_id import RequestIdMiddleware

FIXED = uuid.UUID("0b6d2f1e-8a6c-4c57-9c1e-2f4a3c5d6e7f")


def _answer(request):
    return HttpResponse("ok")


HEADERS = [
    None,
    "",
    uuid.uuid4().hex,
    str(uuid.uuid4()),
    f"urn:uuid:{uuid.uuid4()}",
    "{" + str(uuid.uuid4()) + "}",
    "not-a-uuid-but-alnum",
    "<script>" + "x" * 50,
]


@pytest.mark.parametrize("given", HEADERS)
def test_the_request_id_is_the_one_django_guid_gives(given, monkeypatch, caplog):
    """The id kept or made, the header sent back, ``get_guid()``, ``request.correlation_id``
    and the warning about a bad id: django-guid's middleware and ours, side by side."""
    monkeypatch.setattr(uuid, "uuid4", lambda: FIXED)
    seen = []
    for middleware in (guid_middleware(_answer), RequestIdMiddleware(_answer)):
        headers = {} if given is None else {"X-Request-ID": given}
        request = RequestFactory().get("/api/v1/agencies/", headers=headers)
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="django_guid"):
            response = middleware(request)
        warnings = [(r.levelname, r.getMessage()) for r in caplog.records if r.levelno >= logging.WARNING]
        seen.append((response["X-Request-ID"], request.correlation_id, get_guid(), warnings))
        assert "Access-Control-Expose-Headers" not in response  # EXPOSE_HEADER is off
    assert seen[0] == seen[1]
    kept = given and given not in ("not-a-uuid-but-alnum",) and not given.startswith("<")
    assert seen[1][0] == (given if kept else FIXED.hex)


def test_settings_the_request_id_does_not_do_refuse_to_start(settings):
    from django.core.exceptions import ImproperlyConfigured

    settings.DJANGO_GUID = {**settings.DJANGO_GUID, "IGNORE_URLS": ["healthz"]}
    with pytest.raises(ImproperlyConfigured, match="IGNORE_URLS"):
        RequestIdMiddleware(_answer)


def _json_formatter(cls):
    config = logging_config(json_lines=True, level="INFO")["formatters"]["default"]
    return cls(fmt=config["fmt"], style=config["style"], rename_fields=config["rename_fields"])


def test_a_log_line_is_python_json_logger_s_text(settings):
    """``JsonLines`` keeps one encoder for its lines: the text is the library's, character for
    character, for the request line and for extras the encoder must convert itself."""
    ours, theirs = _json_formatter(JsonLines), _json_formatter(JsonFormatter)
    theirs.reserved_attrs = ours.reserved_attrs
    theirs._skip_fields = ours._skip_fields
    record = logging.LogRecord("brobygger.request", logging.INFO, __file__, 1, "request", None, None)
    extras = {
        "method": "GET",
        "route": "api/v1/tasks/<task_id:pk>/",
        "status": 200,
        "ms": 3.21,
        "request_id": "abc",
        "when": datetime(2026, 12, 6, 19, 0, tzinfo=UTC),
        "nested": {"ø": ["å", 1.5, None, True]},
        "error": ValueError("x"),
        "raw": b"\x00\xff",
    }
    for name, value in extras.items():
        setattr(record, name, value)
    assert ours.format(record) == theirs.format(record)
    line = json.loads(ours.format(record))
    assert line["route"] == "api/v1/tasks/<task_id:pk>/" and line["nested"] == {"ø": ["å", 1.5, None, True]}


def test_secrets_in_a_log_record_s_attributes_are_still_masked():
    record = logging.LogRecord("django.request", logging.WARNING, __file__, 1, "Not Found: %s", ("/x",), None)
    record.path = "/accounts/two-factor/enrol/SECRET-TOKEN"
    record.other = "/accounts/reset/MQ/SECRET-TOKEN/"
    record.plain = "/api/v1/tasks/"
    record.number = 7
    assert MaskSecrets().filter(record)
    assert record.path == "/accounts/two-factor/enrol/<token>"
    assert record.other == "/accounts/reset/<uidb64>/<token>/"
    assert record.plain == "/api/v1/tasks/" and record.number == 7


def _count(name, **labels):
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_each_request_is_observed_under_its_route_method_and_status_class(settings):
    settings.LOG_REQUESTS = False
    metric = "brobygger_http_request_duration_seconds_count"
    factory = RequestFactory()
    statuses = iter([200, 200, 404, 200])
    metrics = RequestMetrics(lambda request: HttpResponse(status=next(statuses)))
    labels = {"route": "<unmatched>", "method": "GET"}
    before = {status: _count(metric, **labels, status=status) for status in ("2xx", "4xx")}
    for _ in range(4):
        metrics(factory.get("/no-route/"))
    assert _count(metric, **labels, status="2xx") == before["2xx"] + 3
    assert _count(metric, **labels, status="4xx") == before["4xx"] + 1


def _python_calls(function) -> int:
    calls = 0

    def count(frame, event, arg):
        nonlocal calls
        if event == "call":
            calls += 1

    sys.setprofile(count)
    try:
        function()
    finally:
        sys.setprofile(None)
    return calls


def test_the_request_id_metric_and_log_line_cost_a_bounded_number_of_python_calls(settings):
    """The two outermost middlewares around a view that does nothing, with the JSON log line
    written as production writes it (the filters, the formatter). With django-guid's
    middleware, a metric child looked up through ``labels()`` and a new JSON encoder and a
    masking call per attribute for each line: 169 calls; now 92."""
    from logging.config import DictConfigurator

    settings.LOG_REQUESTS = True
    config = logging_config(json_lines=True, level="INFO")
    configurator = DictConfigurator(config)
    handler = logging.StreamHandler(open("/dev/null", "w"))  # noqa: SIM115 (closed below)
    handler.setFormatter(configurator.configure_formatter(dict(config["formatters"]["default"])))
    for name in ("request_id", "mask_secrets"):
        handler.addFilter(configurator.configure_filter(dict(config["filters"][name])))
    logger = logging.getLogger("brobygger.request")
    logger.addHandler(handler)
    kept = logger.level, logger.propagate
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        from django.conf import settings as live

        stack = live.MIDDLEWARE[:2]
        outer = _answer
        for path in reversed(stack):
            module, _, name = path.rpartition(".")
            outer = getattr(__import__(module, fromlist=[name]), name)(outer)
        request = RequestFactory().get("/api/v1/agencies/")
        outer(request)  # the metric's child made, the caches filled
        request = RequestFactory().get("/api/v1/agencies/")
        calls = _python_calls(lambda: outer(request))
    finally:
        logger.removeHandler(handler)
        handler.stream.close()
        logger.setLevel(kept[0])
        logger.propagate = kept[1]
    assert calls <= 120, calls


LANGUAGE_REQUESTS = [
    ("/api/v1/tasks/", {}),
    ("/api/v1/tasks/", {"Accept-Language": "nb"}),
    ("/tasks/", {}),
    ("/tasks/", {"Accept-Language": "en-GB,en;q=0.8"}),
    ("/cases/", {"Cookie": "django_language=en"}),
    ("/nb/cases/", {"Accept-Language": "en"}),
]


@pytest.mark.parametrize(("path", "headers"), LANGUAGE_REQUESTS)
def test_the_language_and_its_headers_are_django_s(path, headers):
    """Django's own ``LocaleMiddleware`` beside ours: the language chosen, ``Vary`` and
    ``Content-Language`` (the API without Accept-Language answers in English, as before)."""
    from django.middleware.locale import LocaleMiddleware as DjangoLocale
    from django.utils import translation

    from config.locale import LocaleMiddleware

    def answer(request):
        response = HttpResponse("ok")
        response["Vary"] = "Cookie"
        return response

    seen = []
    for middleware in (DjangoLocale(answer), LocaleMiddleware(answer)):
        request = RequestFactory().get(path, headers=headers)
        with translation.override(None):
            response = middleware(request)
            seen.append((request.LANGUAGE_CODE, response["Vary"], response["Content-Language"]))
    if path.startswith("/api/") and "Accept-Language" not in headers:
        assert seen[1] == ("en", "Cookie, Accept-Language", "en")
    else:
        assert seen[0] == seen[1]


def test_the_language_is_not_read_from_the_path_without_language_prefixed_urls(monkeypatch):
    from django.utils import translation

    from config.locale import LocaleMiddleware

    def not_here(path):
        raise AssertionError("read the language from the path")

    monkeypatch.setattr(translation, "get_language_from_path", not_here)
    for path, headers in LANGUAGE_REQUESTS:
        request = RequestFactory().get(path, headers=headers)
        with translation.override(None):
            assert LocaleMiddleware(_answer)(request)["Content-Language"]
