"""Per request: latency by route for the metrics, one log line, and a 503 (not a 500) with
the request id while the database is unreachable."""

from __future__ import annotations

import logging
import sys
import time
from typing import Any

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import JsonResponse
from django_guid import get_guid

from .metrics import REQUEST_LATENCY

log = logging.getLogger("brobygger.request")
UNMATCHED = "<unmatched>"


def route_of(request) -> str:
    """The URL pattern (``api/v1/tasks/<task_id:pk>/``), never the path with its ids."""
    match = getattr(request, "resolver_match", None)
    return match.route if match is not None and match.route else UNMATCHED


class RequestMetrics:
    def __init__(self, get_response):
        self.get_response = get_response
        self.log_requests = settings.LOG_REQUESTS
        # (route, method, status class) -> the histogram's child: ``labels()`` checks and
        # joins its arguments and takes a lock on every call to find the same child it
        # keeps for those labels (10 us a request here); the children are as bounded as
        # the labels.
        self.latency: dict[tuple[str, str, str], Any] = {}

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        seconds = time.perf_counter() - started
        route = route_of(request)
        labels = (route, request.method, f"{response.status_code // 100}xx")
        latency = self.latency.get(labels)
        if latency is None:
            latency = self.latency[labels] = REQUEST_LATENCY.labels(route=labels[0], method=labels[1], status=labels[2])
        latency.observe(seconds)
        if self.log_requests and log.isEnabledFor(logging.INFO):
            # ``log.info`` less its caller lookup (``Logger.findCaller`` walks the stack for a
            # file, line and function that no line's format shows): the same record, made
            # with this file, line and function given.
            extra = {
                "method": request.method,
                "route": route,
                "status": response.status_code,
                "ms": round(seconds * 1000, 2),
            }
            line = sys._getframe().f_lineno
            log.handle(log.makeRecord(log.name, logging.INFO, __file__, line, "request", (), None, "__call__", extra))
        return response

    def process_exception(self, request, exception):
        if isinstance(exception, OperationalError | InterfaceError):
            # PostgreSQL restarting or failing over: tell the client to come back, not that we broke.
            log.warning("database unavailable: %s", type(exception).__name__)
            response = JsonResponse(
                {"detail": "the database is unavailable; try again shortly", "errors": [], "request_id": get_guid()},
                status=503,
            )
            response["Retry-After"] = "2"
            return response
        return None
