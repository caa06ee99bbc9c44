"""Per-user API rate limits (DRF throttling).

Every API request of a signed-in user counts against that user's limit for the route's scope
(``throttle_scope`` on the view, else ``user``), whichever of their tokens or their session
it comes with: a leaked or runaway client of one account cannot take the service from the
others. Past the limit the answer is 429 with ``Retry-After`` (seconds) and the code
``request.throttled`` in the client's language (``api.exceptions``). The rates come from
``settings.API_THROTTLE_RATES`` (``API_RATE_LIMIT``, ``API_RATE_LIMIT_EXTERNAL_TASKS``:
"N/second|minute|hour|day" or "off"), read on each request.

A fixed window per user, scope and period, counted in the default cache with one ``incr``:
the cost does not grow with the rate (DRF's own ``SimpleRateThrottle`` keeps, and pickles
again on every request, a list of every request's time in the window: at the bench's rates,
thousands of floats a request). A client may send up to twice the rate across a window's
edge. The default cache is each process's own memory (``config.settings.CACHES``): the limit
holds per web process, so a node with W gunicorn workers lets a user send up to W times it
(docs/security.md). Requests without a signed-in user (the token sign-in) are not counted
here: sign-in has its own lockout per username.
"""

from __future__ import annotations

import math
import time

from django.conf import settings
from django.core.cache import cache
from rest_framework.throttling import BaseThrottle

from core.rates import parse_rate

DEFAULT_SCOPE = "user"


class PerUserRateThrottle(BaseThrottle):
    """``settings.API_THROTTLE_RATES[scope]`` requests per period and user (module docstring)."""

    def __init__(self):
        self.wait_seconds: float | None = None

    def allow_request(self, request, view) -> bool:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return True
        scope = getattr(view, "throttle_scope", None) or DEFAULT_SCOPE
        rates = settings.API_THROTTLE_RATES
        rate = parse_rate(rates.get(scope, rates.get(DEFAULT_SCOPE)))
        if rate is None:
            return True
        count, period = rate
        now = time.time()
        window = int(now // period)
        key = f"api-rate:{scope}:{period}:{user.pk}:{window}"
        if cache.add(key, 1, timeout=period + 1):
            hits = 1
        else:
            try:
                hits = cache.incr(key)
            except ValueError:  # evicted between the two: this request opens it again
                cache.add(key, 1, timeout=period + 1)
                hits = 1
        if hits <= count:
            return True
        self.wait_seconds = (window + 1) * period - now
        return False

    def wait(self) -> float | None:
        return None if self.wait_seconds is None else max(math.ceil(self.wait_seconds), 1)
