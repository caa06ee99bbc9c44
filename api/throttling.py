"""Per-user API rate limits (DRF throttling).

Every API request of a signed-in user counts against that user's limit for the route's scope
(``throttle_scope`` on the view, else ``user``), whichever of their tokens or their session
it comes with: a leaked or runaway client of one account cannot take the service from the
others. Past the limit the answer is 429 with ``Retry-After`` (seconds) and the code
``request.throttled`` in the client's language (``api.exceptions``). The rates come from
``settings.API_THROTTLE_RATES`` (``API_RATE_LIMIT``, ``API_RATE_LIMIT_EXTERNAL_TASKS``:
"N/second|minute|hour|day" or "off"), read on each request.

Counted in ``accounts.rate_limit``: a token bucket in the database, shared by every web process
of every node (until 2026-12-06 a fixed window in each process's memory: W gunicorn workers
let a user send W times the rate, and twice it across a window's edge; docs/security.md).
Requests without a signed-in user (the token sign-in) are not counted here: sign-in has its
own lockout. The web pages count on a limit of their own (``web.page_rate_limit``).
"""

from __future__ import annotations

import math

from django.conf import settings
from rest_framework.throttling import BaseThrottle

from accounts import rate_limit
from core.rates import parse_rate

DEFAULT_SCOPE = "user"


class PerUserRateThrottle(BaseThrottle):
    """``settings.API_THROTTLE_RATES[scope]`` requests per period and user (module docstring)."""

    def __init__(self):
        self.wait_seconds: float | None = None

    @staticmethod
    def bucket_charged_with_token(view) -> tuple[str, int, float] | None:
        """The bucket's key less the user's id, and its rate, for a request to ``view`` (None:
        no limit). ``accounts.tokens`` takes from it in the token's own statement."""
        scope = getattr(view, "throttle_scope", None) or DEFAULT_SCOPE
        rates = settings.API_THROTTLE_RATES
        rate = parse_rate(rates.get(scope, rates.get(DEFAULT_SCOPE)))
        if rate is None:
            return None
        count, period = rate
        return f"api:{scope}:", count, period

    def allow_request(self, request, view) -> bool:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return True
        bucket = self.bucket_charged_with_token(view)
        if bucket is None:
            return True
        prefix, count, period = bucket
        key = f"{prefix}{user.pk}"
        taken = getattr(request, "rate_taken_with_token", None)
        if taken is not None and taken.key == key:  # taken in the token's statement
            request.rate_taken_with_token = None  # once
            self.wait_seconds = None if taken.taken else rate_limit.wait(key, count, period, now=taken.now)
        else:
            self.wait_seconds = rate_limit.take(key, count, period)
        return self.wait_seconds is None

    def wait(self) -> float | None:
        return None if self.wait_seconds is None else max(math.ceil(self.wait_seconds), 1)
