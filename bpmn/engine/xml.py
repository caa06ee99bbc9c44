"""Hardened loading of uploaded BPMN XML.

SpiffWorkflow parses with lxml's process-wide default parser, whose safety depends on the
lxml version and on whether any code in the process called ``etree.set_default_parser``.
Uploads are therefore parsed here, with a parser of our own, before SpiffWorkflow sees
them: the size is capped, any DOCTYPE or ENTITY declaration is refused (this covers
external entities that read local files as well as entity expansion bombs), and the root
must be a BPMN 2.0 ``definitions`` element. The returned tree can be handed to
``SpiffBpmnParser.add_bpmn_xml``.
"""

from __future__ import annotations

import re
from typing import Any

from lxml import etree

from .errors import BpmnValidationError, ValidationIssue

MAX_BPMN_BYTES = 5 * 1024 * 1024

BPMN_MODEL_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
DEFINITIONS_TAG = f"{{{BPMN_MODEL_NS}}}definitions"

# Searched in the raw bytes with NUL bytes removed, so UTF-16 and UTF-32 input is covered too.
_DECLARATION_RE = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
_XML_DECLARATION_RE = re.compile(r"^\s*<\?xml[^>]*\?>")


def _parser() -> etree.XMLParser:
    # A fresh parser per call: never the process-wide default, never shared between threads.
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_pis=True,
    )


def _refuse(code: str, message: str, filename: str, line: int | None = None, **params: Any) -> None:
    """``params``: what ``message`` is built from, to say it in the user's language."""
    raise BpmnValidationError([ValidationIssue(code, message, line=line, file=filename, params=params)])


def _doctype_message(filename: str) -> str:
    return (
        f"the file {filename!r} contains a DOCTYPE or ENTITY declaration; BPMN models must "
        "not declare a document type or entities (they can read local files or expand "
        "without limit), so remove the declaration"
    )


def _to_bytes(data: bytes | str) -> bytes:
    if isinstance(data, str):
        # lxml refuses text that carries an encoding declaration; the text is re-encoded as
        # UTF-8, so the declaration is dropped (the version is always 1.0 for BPMN).
        return _XML_DECLARATION_RE.sub("", data, count=1).encode("utf-8")
    if isinstance(data, bytes | bytearray | memoryview):
        return bytes(data)
    raise TypeError(f"BPMN XML must be bytes or str, not {type(data).__name__}")


def parse_bpmn_xml(data: bytes | str, *, filename: str = "model.bpmn") -> etree._Element:
    """Parse uploaded BPMN XML safely and return the root ``definitions`` element.

    Raises ``BpmnValidationError`` with exactly one issue, code ``too-large``, ``doctype``,
    ``not-well-formed`` or ``wrong-namespace``.
    """
    if isinstance(data, str) and len(data) > MAX_BPMN_BYTES:
        # Each character is at least one byte: refuse before encoding a huge string.
        _refuse("too-large", _too_large_message(filename, len(data)), filename, limit_mib=MAX_BPMN_BYTES // 2**20)
    raw = _to_bytes(data)
    if len(raw) > MAX_BPMN_BYTES:
        _refuse("too-large", _too_large_message(filename, len(raw)), filename, limit_mib=MAX_BPMN_BYTES // 2**20)

    if _DECLARATION_RE.search(raw) or _DECLARATION_RE.search(raw.replace(b"\x00", b"")):
        _refuse("doctype", _doctype_message(filename), filename)

    if not raw.strip():
        _refuse(
            "not-well-formed",
            f"the file {filename!r} is empty; upload the BPMN file itself",
            filename,
            line=1,
            variant="empty",
        )

    try:
        root = etree.fromstring(raw, _parser())
    except etree.XMLSyntaxError as exc:
        line = exc.lineno or (exc.position[0] if exc.position else None)
        reason = (exc.msg or str(exc)).strip()
        _refuse(
            "not-well-formed",
            f"the file {filename!r} is not well-formed XML: {reason}; correct the file there "
            "(or export it again from the modeler) and upload it again",
            filename,
            line=line,
            variant="syntax",
            detail=reason,
        )

    # Defence in depth: the raw check above misses declarations in exotic encodings.
    docinfo = root.getroottree().docinfo
    if (
        docinfo.doctype
        or docinfo.internalDTD is not None
        or docinfo.externalDTD is not None
        or docinfo.system_url
        or docinfo.public_id
        or any(True for _ in root.iter(etree.Entity))
    ):
        _refuse("doctype", _doctype_message(filename), filename, line=1)

    if root.tag != DEFINITIONS_TAG:
        qname = etree.QName(root)
        found = f"namespace {qname.namespace!r}" if qname.namespace else "no namespace"
        _refuse(
            "wrong-namespace",
            f"the root element of {filename!r} is {qname.localname!r} in {found}; a BPMN 2.0 "
            f"model must have a 'definitions' root element in namespace {BPMN_MODEL_NS!r}: "
            "save the model as BPMN 2.0 XML (a DMN decision table is not a process: call it "
            "from a business rule task of a BPMN model instead)",
            filename,
            line=root.sourceline,
            root=qname.localname,
        )
    return root


def _too_large_message(filename: str, size: int) -> str:
    return (
        f"the file {filename!r} is {size} bytes, larger than the limit of {MAX_BPMN_BYTES} "
        f"bytes ({MAX_BPMN_BYTES // (1024 * 1024)} MiB); split the model into called processes "
        "or remove embedded images and documentation"
    )


def element_line(el: etree._Element | None) -> int | None:
    """The source line of an element, or None when it is not known."""
    if el is None:
        return None
    line = getattr(el, "sourceline", None)
    return line if isinstance(line, int) and line > 0 else None
