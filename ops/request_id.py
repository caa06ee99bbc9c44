"""The request id (``X-Request-ID``): django-guid's middleware as this project configures it
(``DJANGO_GUID``), with the settings read once instead of on every request.

django-guid's ``guid_middleware`` reads each of its settings through a property on every
request (the ignored URLs as a new set, twice, each time with the request's full path built),
builds ``request.headers`` from every ``META`` key to find one header, and makes two debug and
one info log calls that the logging configuration drops (``django_guid`` logs at WARNING):
about 0.1 ms of a web process's CPU a request. This does the same, in the same order: an id
from the proxy is kept when it parses as a UUID (django-guid's own ``validate_guid``), else a
new one is made and the invalid one is logged as django-guid logs it; the id goes into
django-guid's context variable (which ``get_guid()``, the error bodies and the log filter
read) and ``request.correlation_id``, and is sent back in the header.
"""

from __future__ import annotations

import logging
import uuid

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django_guid.config import settings as guid_settings
from django_guid.context import guid
from django_guid.utils import validate_guid

log = logging.getLogger("django_guid")


def _meta_key(header: str) -> str:
    return "HTTP_" + header.upper().replace("-", "_")


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        configured = getattr(settings, "DJANGO_GUID", {})
        # What this middleware does not do: refuse to start rather than ignore them.
        unsupported = sorted(key for key in ("IGNORE_URLS", "INTEGRATIONS") if configured.get(key))
        if unsupported:
            raise ImproperlyConfigured(f"DJANGO_GUID: {', '.join(unsupported)} is not supported by ops.request_id")
        guid_settings.validate()
        self.header = guid_settings.guid_header_name
        self.meta_key = _meta_key(self.header)
        self.validate = guid_settings.validate_guid
        self.return_header = guid_settings.return_header
        self.expose_header = guid_settings.expose_header
        self.as_string = guid_settings.uuid_format == "string"
        self.length = guid_settings.uuid_length

    def new_id(self) -> str:
        made = uuid.uuid4()
        return (str(made) if self.as_string else made.hex)[: self.length]

    def id_of(self, request) -> str:
        given = request.META.get(self.meta_key)
        if not given:
            return self.new_id()
        if not self.validate or validate_guid(given):
            return given
        made = self.new_id()
        if all(letter.isalnum() or letter == "-" for letter in given):
            log.warning("%s is not a valid GUID. New GUID is %s", given, made)
        else:
            log.warning("Non-alnum %s provided. New GUID is %s", self.header, made)
        return made

    def __call__(self, request):
        request.correlation_id = self.id_of(request)
        guid.set(request.correlation_id)
        response = self.get_response(request)
        if self.return_header:
            response[self.header] = guid.get()
            if self.expose_header:
                response["Access-Control-Expose-Headers"] = self.header
        return response
