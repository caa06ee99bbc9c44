"""Per-user rate limit of the web pages (``WEB_RATE_LIMIT``, 600 a minute): every request of
a signed-in user to a page or an htmx fragment takes a token from that user's bucket in
``accounts.rate_limit``, shared by every process of every node. Past it: 429 with ``Retry-After``
and a bokmål page (English for a user who chose it), nothing read or changed.

The API counts on its own limits (``api.throttling``), so ``/api/`` is not counted here;
nor are the probes, the metrics and static files (no user), nor requests without a signed-in
user (the sign-in has its lockout, the proxy its limit per address). Why 600: the busiest
page, a case, makes 7 requests when opened whole (the page, its diagram's model and five
folds; ``tests/ops/test_page_rate_limit.py`` counts them), so 600 is more than 80 such
pages at once and 10 requests a second after that: far past a caseworker clicking, short
of a script copying every case with a stolen session.
"""

from __future__ import annotations

import math

from django.conf import settings
from django.shortcuts import render

from accounts import rate_limit
from core.rates import parse_rate

NOT_COUNTED = ("/api/", "/static/", "/healthz", "/readyz", "/metrics")


class PageRateLimit:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # The path first: ``request.user`` is lazy, and an API request with a token must not
        # read its session's user here (``tests/accounts/test_token_second_factor.py``).
        if request.path_info.startswith(NOT_COUNTED):
            return self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            rate = parse_rate(settings.WEB_RATE_LIMIT)
            if rate is not None:
                wait = rate_limit.take(f"web:{user.pk}", *rate)
                if wait is not None:
                    seconds = max(math.ceil(wait), 1)
                    response = render(request, "errors/too_many_requests.html", {"seconds": seconds}, status=429)
                    response["Retry-After"] = str(seconds)
                    return response
        return self.get_response(request)
