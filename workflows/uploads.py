"""What an uploaded file is, judged from its bytes, and the name it may be shown under.

The client's content type and file name are never trusted: the type is sniffed from the
first bytes (``filetype``: magic numbers) and only PDF, PNG and JPEG are accepted, so HTML,
SVG (scripts in an image), office files with macros and executables are refused whatever
they are called; so is a PDF that holds anything that runs (``pdf_has_active_content``).
The name is reduced to a plain display name (no folders, no control, bidirectional or other
invisible characters) with the extension of the sniffed type; it is never used as a
path: the storage name is made up by the server.
"""

from __future__ import annotations

import re
import secrets
import unicodedata
import zlib

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
# "kontrakt\u202efdp.exe" read as "kontraktexe.pdf"; besides these (``_shown_char``) every
# other invisible format character (the Arabic letter mark, zero-width characters, the byte
# order mark, tags), line and paragraph separators, private-use, unassigned and surrogate
# code points: a name shows what it is called, nothing hidden in it.
_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
_SEPARATORS = re.compile(r"[\\/:]")


def sniff(head: bytes) -> str | None:
    """The accepted MIME type the bytes are, or None (refused)."""
    kind = filetype.guess(head[:SNIFF_BYTES])
    if kind is None or kind.mime not in ALLOWED_TYPES:
        return None
    return kind.mime


# PDF names that are there only to run something when the file is opened or clicked: a
# script (a JavaScript action, the document's scripts, a rendition's script), a program or
# another file launched, files carried inside the PDF, a form sent to or filled from
# elsewhere, Flash, an XFA form. Acrobat runs a document's JavaScript by default: a "signed
# consent" from another agency's system could run it on every reader's machine. Links
# (``/URI``) and moves within the file (``/GoTo``) are plain reading and stay. Each name is at
# least four letters, so that the bytes of an image or a compressed stream (read too: below)
# hold one by chance about once in 10^10 bytes; ``/JS`` (three) always comes with
# ``/S /JavaScript`` or ``/S /Rendition``, which are found instead.
PDF_ACTIVE_NAMES = frozenset(
    {b"JavaScript", b"Launch", b"EmbeddedFile", b"EmbeddedFiles", b"RichMedia", b"RichMediaExecute", b"XFA"}
    | {b"SubmitForm", b"ImportData", b"GoToE", b"Rendition"}
)
# What the check may spend on one file: tokens read (ten million "/a" are ten million steps),
# and bytes of object streams unpacked (a small compressed stream can unpack to gigabytes). A
# file past either is refused as one that cannot be checked.
PDF_MAX_TOKENS = 2_000_000
PDF_MAX_INFLATED_BYTES = 64 * 1024 * 1024
_PDF_TOKEN = re.compile(rb"/[^\x00\t\n\x0c\r /\[\]()<>{}%]*|\bendstream\b|\bstream(?:\r\n|\n|\r)")
_PDF_NAME_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")
_PDF_FILTERS = frozenset({b"FlateDecode", b"Fl", b"LZWDecode", b"LZW", b"ASCIIHexDecode", b"AHx"})
_PDF_FILTERS |= {b"ASCII85Decode", b"A85", b"RunLengthDecode", b"RL", b"Crypt", b"DCTDecode", b"JBIG2Decode"}


class _Unchecked(Exception):
    """A PDF whose names cannot all be read within the budget (or at all)."""


class _Budget:
    def __init__(self) -> None:
        self.tokens, self.inflated = PDF_MAX_TOKENS, PDF_MAX_INFLATED_BYTES

    def step(self) -> None:
        self.tokens -= 1
        if self.tokens < 0:
            raise _Unchecked


def pdf_has_active_content(data: bytes) -> bool:
    """Whether the PDF ``data`` holds a name of ``PDF_ACTIVE_NAMES`` (its ``#xx`` escapes
    read) anywhere, those packed in compressed object streams included, or cannot be checked
    (an object stream in a filter other than Flate, one that does not inflate, as an encrypted
    file's, or past the budget).

    Every byte is read, strings, comments and streams too: a reader finds an object by the
    offset the cross-reference gives, so an object may sit where a sequential reading sees a
    comment, an unclosed string or another stream's bytes. A stream a reader can take for an
    object stream (``/ObjStm``, or ``/N`` with ``/First``, among the names since the previous
    stream) is inflated from its start to the end of its compressed data, whatever ``/Length``
    or an ``endstream`` inside it say, and read too. A name inside a string counts (the safe
    side: a title "about /JavaScript" is refused)."""
    try:
        return _pdf_names_active(data, _Budget(), packed=False)
    except _Unchecked:
        return True


def _pdf_names_active(data: bytes, budget: _Budget, *, packed: bool) -> bool:
    names: set[bytes] = set()  # the names read since the previous stream (its dictionary's among them)
    for match in _PDF_TOKEN.finditer(data):
        budget.step()
        token = match.group()
        if token.startswith(b"/"):
            name = _PDF_NAME_ESCAPE.sub(lambda escape: bytes([int(escape.group(1), 16)]), token[1:])
            if name in PDF_ACTIVE_NAMES:
                return True
            names.add(name)
        elif packed:
            continue  # an object stream holds no streams
        elif token == b"endstream":
            names = set()
        else:
            packs = b"ObjStm" in names or {b"N", b"First"} <= names
            if packs and _pdf_names_active(_pdf_unpacked(data, match.end(), names, budget), budget, packed=True):
                return True
            names = set()
    return False


def _pdf_unpacked(data: bytes, start: int, names: set[bytes], budget: _Budget) -> bytes:
    """The bytes of the object stream whose data begins at ``start``: as they are (up to the
    next ``endstream``), or inflated (Flate without a predictor only; anything else cannot be
    read here)."""
    filters = names & _PDF_FILTERS
    if not filters:
        end = data.find(b"endstream", start)
        return data[start : end if end >= 0 else len(data)]
    if filters - {b"FlateDecode", b"Fl"} or b"DecodeParms" in names or b"DP" in names:
        raise _Unchecked
    inflater = zlib.decompressobj()
    try:
        content = inflater.decompress(memoryview(data)[start:], budget.inflated + 1)
    except zlib.error:
        raise _Unchecked from None
    budget.inflated -= len(content)
    if budget.inflated < 0 or not content:
        raise _Unchecked
    return content


def display_name(client_name: str | None, mime: str) -> str:
    """A safe name to show and to offer in ``Content-Disposition``: the last part of
    whatever path the client sent, without unsafe characters, at most ``MAX_NAME_CHARS``,
    ending in an extension of the sniffed type."""
    name = unicodedata.normalize("NFC", client_name or "")
    name = _UNSAFE.sub("", _SEPARATORS.split(name)[-1])
    name = "".join(char for char in name if unicodedata.category(char) not in _HIDDEN_CATEGORIES).strip()
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
