"""Sliding sessions without a database write on every page view.

A signed-in session ends ``SESSION_COOKIE_AGE`` (``SESSION_IDLE_MINUTES``) after the last
request. Django's ``SESSION_SAVE_EVERY_REQUEST`` gets that by writing the session row on
every request: one ``UPDATE`` per page, the largest write of a page that only reads. Here
the session is saved again only when its last save is ``SESSION_REFRESH_SECONDS`` old or
older, so it ends between ``AGE - REFRESH`` and ``AGE`` after the last request (29 to 30
minutes by default) at one write a minute of activity instead of one per page.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib.auth import SESSION_KEY

REFRESHED = "_refreshed_at"


class SessionRefreshMiddleware:
    """After ``SessionMiddleware``: marks a signed-in session modified when it is due a save."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        session = request.session
        # Only signed-in browsers: an API token carries no session, and a visitor's stale
        # cookie must not make a new, empty session row.
        if SESSION_KEY in session:
            now = time.time()
            if now - float(session.get(REFRESHED, 0)) >= settings.SESSION_REFRESH_SECONDS:
                session[REFRESHED] = now  # modified: SessionMiddleware saves it, expiry moves on
        return self.get_response(request)
