"""Logging: JSON lines in production (one object per line, for journald, Loki or ELK), text
in development. Every line written while a request is handled carries its ``request_id``,
the id that is also returned in the ``X-Request-ID`` header and in API error bodies, so a
caseworker's error report leads straight to the log lines of that request.
"""

from __future__ import annotations

import json
import logging
import re
import time
import traceback

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter

JSON_FIELDS = "{asctime}{levelname}{name}{message}{request_id}{process}"

# Paths that carry a secret: the two-factor enrolment link's token (``accounts.enrolment``)
# and the password reset link's user and token. Django logs the path of every 4xx and 5xx
# answer (``django.request``: a refused enrolment link is a 404), and a 500's report names it.
_SECRET_PATHS = (
    (re.compile(r"(/two-factor/enrol/)[^/\s?#\"']+"), r"\1<token>"),
    (re.compile(r"(/reset/)[^/\s?#\"']+/[^/\s?#\"']+"), r"\1<uidb64>/<token>"),
)


def mask_secrets(text: str) -> str:
    """``text`` with the secret part of each enrolment and password reset path replaced."""
    if "/enrol/" not in text and "/reset/" not in text:  # every line passes here: no regex for most
        return text
    for pattern, replacement in _SECRET_PATHS:
        text = pattern.sub(replacement, text)
    return text


# What ``LogRecord.__init__`` sets that holds no text a link's secret could be in: numbers,
# the arguments (masked through the message), the logger's and the code's names (module,
# file, function), the thread's and process's names. An ``extra`` cannot replace any of
# them (``Logger.makeRecord`` refuses), so a secret lands in the message, an extra, or the
# texts of an exception or a stack (``exc_text``, ``stack_info``), which are walked.
_NO_SECRETS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) - {"exc_text", "stack_info"}
_NO_SECRETS |= {"msg", "message"}


class MaskSecrets(logging.Filter):
    """On the handler, so every line written (ours, Django's, gunicorn's) goes through it:
    the message and each text attribute that can hold a path, with the secrets of link paths
    masked. Until 2026-12-05 a refused enrolment link's 404 wrote its token to the log."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # arguments that do not fit the message: the formatter reports it
            return True
        masked = mask_secrets(message)
        if masked != message:
            record.msg, record.args = masked, ()
        # ``mask_secrets``'s own test inline, and only over the attributes beyond what every
        # record has (a request's line: its five extras, not some 25 attributes).
        attributes = vars(record)
        for name in attributes.keys() - _NO_SECRETS:
            value = attributes[name]
            if isinstance(value, str) and ("/enrol/" in value or "/reset/" in value):
                cleaned = mask_secrets(value)
                if cleaned != value:
                    setattr(record, name, cleaned)
        return True


def stack_lines(tb) -> list[str]:
    """The frames of traceback ``tb`` as Python prints them (file, line, function, source
    line), without the locals: where an error happened, never the data it happened on."""
    lines = []
    for frame in traceback.extract_tb(tb):  # capture_locals stays off
        lines.append(f'  File "{frame.filename}", line {frame.lineno}, in {frame.name}')
        if frame.line:
            lines.append(f"    {frame.line}")
    return lines


def without_values(exc_info) -> str:
    """An exception as its class and stack (file, line, function, source line), for each
    exception of its chain, without its message: that may quote what the code worked on (a
    national id, a value a script read), and operators who read the logs see no case data.
    As ``config.error_reporter`` shows a server error."""
    exc_type, exc, _tb = exc_info
    if exc is None:
        return getattr(exc_type, "__name__", "Error")
    parts: list[str] = []
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        lines = ["Traceback (values left out):", *stack_lines(exc.__traceback__)]
        module = type(exc).__module__
        lines.append(type(exc).__qualname__ if module == "builtins" else f"{module}.{type(exc).__qualname__}")
        parts.insert(0, "\n".join(lines))
        exc = exc.__cause__ or (None if exc.__suppress_context__ else exc.__context__)
    return "\n\nwhich led to\n\n".join(parts)


class JsonLines(JsonFormatter):
    """Every attribute a record carries becomes a field, except ``request``: Django logs each
    4xx and 5xx answer with the request, whose text is its path with the query string (a
    search for a person's name or date of birth). The message names the path; the request
    id leads to the rest."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("reserved_attrs", [*RESERVED_ATTRS, "request"])
        super().__init__(*args, **kwargs)
        # ``json.dumps(cls=...)`` makes a new encoder for every line; one made with the
        # same arguments writes the same text (an encoder keeps no state between calls).
        self._encoder = None
        if self.json_serializer is json.dumps and self.json_encoder is not None:
            self._encoder = self.json_encoder(
                default=self.json_default, indent=self.json_indent, ensure_ascii=self.json_ensure_ascii
            )

        # The fields of every line, renamed once (``{asctime}`` ... ``{process}``), and whether
        # a line is the fields, the extras and nothing else the library could add (no defaults,
        # static fields, timestamp, prefix or missing renamed fields: the settings set none).
        self._fields = [(field, self._get_rename(field)) for field in self._required_fields]
        self._plain = not (
            self.defaults or self.static_fields or self.timestamp or self.prefix or self.rename_fields_keep_missing
        )
        self._second: tuple[int, str] = (-1, "")

    def format(self, record: logging.LogRecord) -> str:
        """python-json-logger's line, character for character, made without its steps that
        do nothing here: the same fields in the same order, then the record's extras (its
        walk tested each of a record's 25-odd attributes with ``hasattr`` and ``startswith``;
        here a set lookup each, and those two only for the extras). A dict message, an
        exception or a stack takes the library's own path."""
        if (
            self._encoder is None
            or not self._plain
            or isinstance(record.msg, dict)
            or record.exc_info
            or record.exc_text
            or record.stack_info
        ):
            return super().format(record)
        record.message = record.getMessage()
        if "asctime" in self._required_fields:
            record.asctime = self.formatTime(record, self.datefmt)
        attributes = record.__dict__
        log_data = {renamed: attributes.get(field) for field, renamed in self._fields}
        skip, rename = self._skip_fields, self.rename_fields
        for key in [key for key in attributes if key not in skip]:
            if not (hasattr(key, "startswith") and key.startswith("_")):
                log_data[rename.get(key, key)] = attributes[key]
        return self._encoder.encode(log_data)

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        """``logging.Formatter``'s time, the second's text made once a second, not each line."""
        if datefmt or not self.default_msec_format:
            return super().formatTime(record, datefmt)
        second, text = self._second
        if second != int(record.created):
            second = int(record.created)
            text = time.strftime(self.default_time_format, self.converter(second))
            self._second = (second, text)
        return self.default_msec_format % (text, record.msecs)

    def jsonify_log_record(self, log_data) -> str:
        if self._encoder is None:
            return super().jsonify_log_record(log_data)
        return self._encoder.encode(log_data)

    def formatException(self, ei) -> str:
        return without_values(ei)


class TextLines(logging.Formatter):
    def formatException(self, ei) -> str:
        return without_values(ei)

    def format(self, record: logging.LogRecord) -> str:
        # logging.Formatter reuses the text another handler made of the exception (with its
        # message): this line makes its own.
        kept, record.exc_text = record.exc_text, None
        try:
            return super().format(record)
        finally:
            record.exc_text = kept


def logging_config(*, json_lines: bool, level: str) -> dict:
    formatter = (
        {
            "()": "ops.logs.JsonLines",
            "fmt": JSON_FIELDS,
            "style": "{",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger", "process": "pid"},
        }
        if json_lines
        else {"()": "ops.logs.TextLines", "fmt": "{asctime} {levelname} {name} [{request_id}] {message}", "style": "{"}
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {
            "request_id": {"()": "django_guid.log_filters.CorrelationId", "correlation_id_field": "request_id"},
            "mask_secrets": {"()": "ops.logs.MaskSecrets"},
        },
        "formatters": {"default": formatter},
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": "default",
                "filters": ["request_id", "mask_secrets"],
            }
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            # SpiffWorkflow logs every task state change at INFO: our events are the history.
            "spiff": {"level": "WARNING"},
            # django-guid says at INFO whether each request brought an id.
            "django_guid": {"level": "WARNING"},
            # WeasyPrint (archive exports) logs each rendering step at INFO.
            "weasyprint": {"level": "WARNING"},
            # Gunicorn's own lines (start, worker boot and exit) in the same format.
            "gunicorn.error": {"handlers": ["console"], "level": "INFO", "propagate": False},
        },
    }
