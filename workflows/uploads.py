"""What an uploaded file is, judged from its bytes, and the name it may be shown under.

The client's content type and file name are never trusted: the type is sniffed from the
first bytes (``filetype``: magic numbers) and only PDF, PNG and JPEG are accepted, so HTML,
SVG (scripts in an image), office files with macros and executables are refused whatever
they are called. The name is reduced to a plain display name (no folders, no control or
bidirectional characters) with the extension of the sniffed type; it is never used as a
path: the storage name is made up by the server.
"""

from __future__ import annotations

import re
import secrets
import unicodedata

import filetype
from django.http import HttpResponse
from django.utils.http import content_disposition_header

# Sniffed MIME type -> the extensions a file of it may be named with (the first is added
# when the name has none of them).
ALLOWED_TYPES = {
    "application/pdf": ("pdf",),
    "image/png": ("png",),
    "image/jpeg": ("jpg", "jpeg"),
}
# A downloaded file is never a page of this site: no script, no plugin, no frame, whatever
# its bytes hold (a PDF with HTML inside, say), and never cached on a shared computer.
DOWNLOAD_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
    "Cache-Control": "no-store, private",
    "Cross-Origin-Resource-Policy": "same-origin",
}
SNIFF_BYTES = 8192  # filetype reads at most this much of the head
MAX_NAME_CHARS = 120
FALLBACK_NAME = "vedlegg"
# Control characters (C0, DEL, C1) and the bidirectional overrides that make
# "kontrakt\u202efdp.exe" read as "kontraktexe.pdf".
_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_SEPARATORS = re.compile(r"[\\/:]")


def sniff(head: bytes) -> str | None:
    """The accepted MIME type the bytes are, or None (refused)."""
    kind = filetype.guess(head[:SNIFF_BYTES])
    if kind is None or kind.mime not in ALLOWED_TYPES:
        return None
    return kind.mime


def display_name(client_name: str | None, mime: str) -> str:
    """A safe name to show and to offer in ``Content-Disposition``: the last part of
    whatever path the client sent, without unsafe characters, at most ``MAX_NAME_CHARS``,
    ending in an extension of the sniffed type."""
    name = unicodedata.normalize("NFC", client_name or "")
    name = _UNSAFE.sub("", _SEPARATORS.split(name)[-1]).strip()
    stem, _dot, ext = name.rpartition(".")
    extensions = ALLOWED_TYPES[mime]
    if ext.lower() in extensions:
        ext = ext.lower()
    else:
        stem, ext = name, extensions[0]
    stem = stem.strip().strip(".").strip() or FALLBACK_NAME
    return f"{stem[: MAX_NAME_CHARS - len(ext) - 1]}.{ext}"


def storage_name(case_id: int, mime: str) -> str:
    """The name the bytes are stored under: made up here, never from the request."""
    return f"case-{int(case_id)}/{secrets.token_hex(16)}.{ALLOWED_TYPES[mime][0]}"


def megabytes(limit: int) -> str:
    """A byte limit in MB as error messages name it (10485760 -> "10")."""
    return f"{limit / (1024 * 1024):.3g}"


def file_response(attachment, content: bytes) -> HttpResponse:
    """The bytes as a download (``Content-Disposition: attachment``) with the sniffed type."""
    response = HttpResponse(content, content_type=attachment.content_type)
    response["Content-Disposition"] = content_disposition_header(True, attachment.filename) or "attachment"
    response["Content-Length"] = str(len(content))
    for header, value in DOWNLOAD_HEADERS.items():
        response[header] = value
    return response
