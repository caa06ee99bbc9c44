"""A page whose transaction PostgreSQL rolled back for a concurrent one (a deadlock, a
serialization failure: ``core.errors.lost_to_another_writer``), or whose chosen row another
writer deleted before it committed (``core.errors.row_gone_under_a_form``), answers 409 in bokmål, saying
nothing was saved and to try again, instead of the server error page. The API answers the
same in its own shape (``api.exceptions``)."""

from __future__ import annotations

import logging

from django.shortcuts import render

from core.errors import lost_to_another_writer, row_gone_under_a_form
from web.pages import translate

log = logging.getLogger(__name__)


class ConcurrentChangeMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if request.path.startswith("/api/"):
            return None
        if not (lost_to_another_writer(exception) or row_gone_under_a_form(exception)):
            return None
        # Logged without the database's words, which name the key's value.
        log.warning("change lost to another writer (SQLSTATE %s)", getattr(exception.__cause__, "sqlstate", ""))
        detail = translate("request.concurrent_change")
        response = render(request, "errors/refused.html", {"status": 409, "detail": detail}, status=409)
        response["Retry-After"] = "1"
        return response
