"""Checking a PDF/A-1b file: Apache PDFBox Preflight, a full ISO 19005-1 (PDF/A-1b)
validator, from Debian's ``libpdfbox2-java`` (veraPDF is published only on Maven Central,
which the build machine cannot reach), plus what pypdf can read on any machine: the XMP
identification, OutputIntent, embedded fonts, no encryption, no embedded files.

Preflight needs Java and the Debian packages ``libpdfbox2-java libactivation-java
libjaxb-api-java`` (JAXB and activation left the JDK with Java 11). Without them the
Preflight check skips, unless ``BROBYGGER_REQUIRE_PDFA_VALIDATOR`` is set (CI sets it), in
which case it fails."""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
from pathlib import Path

import pypdf
import pytest
from pypdf.generic import IndirectObject

JARS = Path("/usr/share/java")
PREFLIGHT_CLASSPATH = [
    JARS / name
    for name in (
        "preflight.jar",
        "pdfbox2.jar",
        "fontbox2.jar",
        "xmpbox.jar",
        "commons-logging.jar",
        "javax.activation.jar",
        "jaxb-api.jar",
    )
]


def preflight_errors(path: Path) -> list[str]:
    """Preflight's findings on the PDF at ``path`` (empty when it is valid PDF/A-1b)."""
    java = shutil.which("java")
    missing = [str(jar) for jar in PREFLIGHT_CLASSPATH if not jar.exists()]
    if not java or missing:
        reason = f"PDFBox Preflight is not installed (java: {java}, missing: {missing})"
        if os.environ.get("BROBYGGER_REQUIRE_PDFA_VALIDATOR"):
            pytest.fail(f"BROBYGGER_REQUIRE_PDFA_VALIDATOR is set but {reason}", pytrace=False)
        pytest.skip(reason)
    result = subprocess.run(
        [java, "-cp", ":".join(map(str, PREFLIGHT_CLASSPATH)), "org.apache.pdfbox.preflight.Validator_A1b", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    output = result.stdout + result.stderr
    if result.returncode == 0 and "is a valid PDF/A-1b file" in output:
        return []
    return [line.strip() for line in output.splitlines() if line.strip()] or [f"exit {result.returncode}"]


def _resolved(value):
    return value.get_object() if isinstance(value, IndirectObject) else value


def _fonts(reader: pypdf.PdfReader):
    """Every font dictionary the pages use, a composite font's descendants included."""
    for page in reader.pages:
        resources = _resolved(page.get("/Resources")) or {}
        for font in (_resolved(resources.get("/Font")) or {}).values():
            font = _resolved(font)
            yield font
            for descendant in _resolved(font.get("/DescendantFonts")) or []:
                yield _resolved(descendant)


def structure_problems(pdf: bytes) -> list[str]:
    """What pypdf finds against PDF/A-1b's rules it can see (ISO 19005-1 6.1-6.7)."""
    problems = []
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    if not pdf.startswith(b"%PDF-1.4"):
        problems.append(f"header {pdf[:8]!r}: PDF/A-1 is PDF 1.4")
    if reader.is_encrypted:
        problems.append("encrypted")
    xmp = _resolved(reader.trailer["/Root"].get("/Metadata"))
    text = xmp.get_data().decode("utf-8") if xmp is not None else ""
    part = re.search(r"pdfaid:part(?:=\"|>)\s*(\d)", text)
    conformance = re.search(r"pdfaid:conformance(?:=\"|>)\s*([A-Z])", text)
    if not (part and part.group(1) == "1" and conformance and conformance.group(1) == "B"):
        problems.append("XMP does not identify PDF/A-1b")
    intents = [_resolved(intent) for intent in _resolved(reader.trailer["/Root"].get("/OutputIntents")) or []]
    if not any(intent.get("/S") == "/GTS_PDFA1" and intent.get("/DestOutputProfile") for intent in intents):
        problems.append("no GTS_PDFA1 OutputIntent with an ICC profile")
    root = reader.trailer["/Root"]
    if "/EmbeddedFiles" in (_resolved(root.get("/Names")) or {}):
        problems.append("embedded files")
    if "/JavaScript" in (_resolved(root.get("/Names")) or {}) or "/OpenAction" in root:
        problems.append("actions")
    for font in _fonts(reader):
        if font.get("/Subtype") == "/Type0":
            continue  # its glyphs are in its descendant, checked on its own
        descriptor = _resolved(font.get("/FontDescriptor")) or {}
        if not any(key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3")):
            problems.append(f"font {font.get('/BaseFont')} not embedded")
    return problems


def text_of(pdf: bytes) -> str:
    """The PDF's text, its lines joined by spaces (pypdf's extraction)."""
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    return " ".join(" ".join(page.extract_text().split()) for page in reader.pages)
