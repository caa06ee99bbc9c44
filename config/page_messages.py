"""Django's messages ("Saved", "Task claimed") for the pages only.

A message is added by a page's view and shown by the next page. The API neither adds nor
shows one (its answers are JSON), yet Django's middleware made and saved an empty message
store (a cookie store and a session store) on every API request: 40-50 µs each. An API
request now has none; a page's messages wait in the browser's session or cookie for the
next page as before.
"""

from __future__ import annotations

from django.contrib.messages import middleware

from config.locale import API_PREFIX


class MessageMiddleware(middleware.MessageMiddleware):
    def process_request(self, request):
        if not request.path_info.startswith(API_PREFIX):
            super().process_request(request)

    # process_response: Django's saves the store only when the request has one.
