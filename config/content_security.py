"""The Content-Security-Policy header, built once instead of on every response.

django-csp builds the header from the settings for every response (both policies copied
through ``dataclasses.asdict``, every directive joined again): 60-80 µs of every request
here, for the same text each time. Nothing in this project varies the policy per
response, so the text is built once per settings value and set exactly as django-csp sets
it. A response or request that does vary it (a view decorated with ``csp_update``,
``csp_replace`` or ``csp_exempt``, a template that asked for ``request.csp_nonce``) goes
through django-csp's own path, which builds that response's policy.
"""

from __future__ import annotations

import http.client

from csp import middleware as csp_middleware
from csp.constants import HEADER, HEADER_REPORT_ONLY
from csp.utils import build_policy
from django.conf import settings

# What django-csp's decorators set on a response to vary its policy.
PER_RESPONSE = (
    "_csp_config",
    "_csp_update",
    "_csp_replace",
    "_csp_exempt",
    "_csp_config_ro",
    "_csp_update_ro",
    "_csp_replace_ro",
    "_csp_exempt_ro",
)
DEBUG_EXEMPT = (http.client.INTERNAL_SERVER_ERROR, http.client.NOT_FOUND)


class CSPMiddleware(csp_middleware.CSPMiddleware):
    _built: tuple | None = None  # (the two settings, the policy, the report-only policy)

    def process_response(self, request, response):
        if getattr(request, "_csp_nonce", None) is not None or any(hasattr(response, name) for name in PER_RESPONSE):
            return super().process_response(request, response)
        if response.status_code in DEBUG_EXEMPT and settings.DEBUG:
            return response  # as django-csp: Django's debug pages have inline scripts
        enforced = getattr(settings, "CONTENT_SECURITY_POLICY", None)
        report_only = getattr(settings, "CONTENT_SECURITY_POLICY_REPORT_ONLY", None)
        built = self._built
        if built is None or built[0] is not enforced or built[1] is not report_only:
            built = self._built = (enforced, report_only, build_policy(), build_policy(report_only=True))
        for header, policy, config in ((HEADER, built[2], enforced), (HEADER_REPORT_ONLY, built[3], report_only)):
            excluded = tuple((config or {}).get("EXCLUDE_URL_PREFIXES", None) or ())
            if policy and header not in response and not request.path_info.startswith(excluded):
                response[header] = policy
        # As django-csp: a nonce asked for after the header is written is an error, not a
        # nonce silently missing from the policy.
        request.csp_nonce = csp_middleware.CheckableLazyObject(self._csp_nonce_post_response)
        return response
