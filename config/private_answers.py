"""Answers for a signed-in reader are never stored by a browser or a shared cache.

A case page, a task list or an API answer holds the person's health, justice or economy
data as the reader may see it. Without ``Cache-Control`` a browser keeps the page on disk
and shows it again from its history (the back button after signing out, on a computer
the office shares), and a cache between the office and the server may keep it too. So
every answer to a signed-in request (session or API token) says ``private, no-store``,
unless its view chose its own caching (the attachments say so already; a view that lets
a browser keep what is the same for every reader sets its own header). Every API answer
says so too, signed in or not: the one that issues a token (``POST /api/v1/auth/token/``)
is a credential, and its request carries neither a cookie nor a token yet.
"""

from __future__ import annotations

from django.conf import settings
from django.utils.cache import patch_cache_control

from config.locale import API_PREFIX

PRIVATE = {"private": True, "no_store": True}


class PrivateAnswersMiddleware:
    """Sets the header on the way out, whatever the view answered (a refusal as well)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.has_header("Cache-Control"):
            return response
        # A session cookie or an API token (which DRF reads inside the view) may sign the
        # request in: told by the request alone, so no answer reads the user for this.
        signed_in = settings.SESSION_COOKIE_NAME in request.COOKIES or "HTTP_AUTHORIZATION" in request.META
        if signed_in or request.path_info.startswith(API_PREFIX):
            patch_cache_control(response, **PRIVATE)
        return response
