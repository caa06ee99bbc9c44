"""Multipart uploads within the attachment limit, before anything reads the body.

A multipart request whose declared length is above ``ATTACHMENT_MAX_BYTES`` plus
``ATTACHMENT_FORM_SLACK_BYTES`` (room for the other form fields) is answered 413 without
reading the body. Below it, every file is received by ``LimitedUploadHandler``: it keeps at
most the limit and one byte of it in memory and counts the rest, so the service sees the
true size and refuses it naming the field, and nothing reaches a temporary file on disk.
A body without a declared length is read as empty by Django, so it cannot go around this.

The middleware runs before the sessions, the CSRF check and the input guard, which read
the posted form: the upload handlers must be set before the first read.
"""

from __future__ import annotations

import io

from django.conf import settings
from django.core.files.uploadedfile import InMemoryUploadedFile
from django.core.files.uploadhandler import FileUploadHandler
from django.http import JsonResponse
from django.shortcuts import render

from config.locale import API_PREFIX
from core.errors import InvalidInput
from web.pages import error_text
from workflows.uploads import megabytes

MULTIPART = "multipart/form-data"


def request_limit() -> int:
    return settings.ATTACHMENT_MAX_BYTES + settings.ATTACHMENT_FORM_SLACK_BYTES


class LimitedUploadHandler(FileUploadHandler):
    """Each file in memory up to the limit (and one byte more, so that "too large" shows);
    its ``size`` is every byte received."""

    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        self.buffer = io.BytesIO()
        self.received = 0

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        room = settings.ATTACHMENT_MAX_BYTES + 1 - self.buffer.tell()
        if room > 0:
            self.buffer.write(raw_data[:room])
        return None

    def file_complete(self, file_size):
        self.buffer.seek(0)
        return InMemoryUploadedFile(
            file=self.buffer,
            field_name=self.field_name,
            name=self.file_name,
            content_type=self.content_type,
            size=self.received,
            charset=self.charset,
            content_type_extra=self.content_type_extra,
        )


def _declared_length(request) -> int:
    try:
        return max(int(request.META.get("CONTENT_LENGTH") or 0), 0)
    except ValueError:
        return 0  # Django reads such a body as empty


class UploadLimitMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method == "POST" and request.content_type == MULTIPART:
            if _declared_length(request) > request_limit():
                return self._too_large(request)
            request.upload_handlers = [LimitedUploadHandler(request)]
        return self.get_response(request)

    def _too_large(self, request):
        refused = InvalidInput("attachment.request_too_large", megabytes=megabytes(settings.ATTACHMENT_MAX_BYTES))
        if request.path_info.startswith(API_PREFIX):
            body = {
                "detail": refused.detail,
                "errors": [{"field": "body", "message": refused.detail}],
                "code": refused.code,
            }
            return JsonResponse(body, status=413)
        return render(request, "errors/refused.html", {"status": 413, "detail": error_text(refused)}, status=413)
