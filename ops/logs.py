"""Logging: JSON lines in production (one object per line, for journald, Loki or ELK), text
in development. Every line written while a request is handled carries its ``request_id``,
the id that is also returned in the ``X-Request-ID`` header and in API error bodies, so a
caseworker's error report leads straight to the log lines of that request.
"""

from __future__ import annotations

JSON_FIELDS = "{asctime}{levelname}{name}{message}{request_id}{process}"


def logging_config(*, json_lines: bool, level: str) -> dict:
    formatter = (
        {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": JSON_FIELDS,
            "style": "{",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger", "process": "pid"},
        }
        if json_lines
        else {"format": "{asctime} {levelname} {name} [{request_id}] {message}", "style": "{"}
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {
            "request_id": {"()": "django_guid.log_filters.CorrelationId", "correlation_id_field": "request_id"}
        },
        "formatters": {"default": formatter},
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "default", "filters": ["request_id"]}},
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
