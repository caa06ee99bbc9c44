"""The case file's notes at a cost bounded whatever the number of notes.

Each agency of a case has room for 5,000 notes and corrections and 5,000,000 characters of
notes (``NOTE_CASE_MAX_COUNT``, ``NOTE_CASE_MAX_CHARS``), and a case has several agencies.
The case file laid out every note of its categories: one agency's room full (1,250 notes of
4,000 characters) cost WeasyPrint 35 s of CPU and the process 538 MB, several agencies' rooms
would take minutes and gigabytes, and a case whose package is never made can never be erased
(the archive duty comes first).

So the notes are read a chunk at a time (``archive.iter_case_file_notes``, oldest first) and
go two ways at once, as the timeline's events do (``case_file_timeline``):

- every one, as the case file's reader is shown it (time, agency, category, its text and
  earlier texts, or withdrawn without any text), into ``notater.xml`` of the package
  (``NOTES_NAME``, schema ``schemas/notater.xsd``), written element by element: the complete
  notes the archive keeps;
- the oldest into the PDF while its budget holds (``PDF_CHARS`` characters of text,
  ``PDF_TEXTS`` texts: a note's text or withdrawal and each earlier text count one each).
  The first text past the budget ends the PDF's notes: a note whose own text no longer fits
  is left out with every note after it, one whose earlier texts no longer all fit is shown
  with those that do and says how many more it has; the PDF then says how many notes are
  left out, from when to when, and that every note is in ``notater.xml`` (``NotesInPdf``).
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from django.utils import timezone
from lxml import etree

from retention.case_file_timeline import NOT_XML

NOTES_NAME = "notater.xml"
NOTES_NAMESPACE = "urn:x-brobygger:arkiv:notater:1"
NOTES_SCHEMA = Path(__file__).with_name("schemas") / "notater.xsd"
# The PDF's notes hold at most this many characters of text (some 25 pages of full-length
# notes, or a few hundred of a real case's short ones) and this many texts. Measured on
# PostgreSQL (CPU of the export, the test process's peak, 193 MB before it): a case whose
# agency filled its room (1,250 notes of 4,000 characters) 1.0 s and 206 MB (was 35 s and
# 538 MB), four agencies' rooms (5,000 notes, 20,000,000 characters) 1.5 s and 226 MB, a note
# corrected 200 times among them 1.0 s and 207 MB (docs/data-protection.md).
PDF_CHARS, PDF_TEXTS = 100_000, 300


@dataclass(frozen=True, slots=True)
class EarlierText:
    """A text a note of the case file had before a correction."""

    version: int
    written_at: datetime
    replaced_at: datetime
    code: str  # its category
    category: str  # in words
    text: str


@dataclass(frozen=True, slots=True)
class CaseFileNote:
    """A note as the case file shows it: its agency, time and category; its text and earlier
    texts, or none once withdrawn."""

    written_at: datetime
    agency: str
    code: str  # its category
    category: str  # in words
    text: str
    version: int
    corrected_at: datetime | None
    withdrawn_at: datetime | None
    earlier: tuple[EarlierText, ...]
    # A safety note (a warning) out of time: the date it lapsed on (``notes_policy.warning_window``).
    lapsed_on: date | None = None


@dataclass(frozen=True, slots=True)
class ShownNote:
    """A note in the PDF: ``earlier`` the earlier texts that fit, ``earlier_left_out`` how many
    more it has (in ``notater.xml`` only)."""

    note: CaseFileNote
    earlier: tuple[EarlierText, ...]
    earlier_left_out: int = 0


@dataclass
class NotesInPdf:
    """What the PDF shows of the notes: ``shown``, and of the notes after them (``left_out``)
    their number and first and last time; ``chars`` and ``texts`` the budget spent, ``full``
    once a text did not fit."""

    notes: int = 0
    shown: list[ShownNote] = field(default_factory=list)
    left_out: int = 0
    left_out_from: datetime | None = None
    left_out_to: datetime | None = None
    chars: int = 0
    texts: int = 0
    full: bool = False

    def add(self, note: CaseFileNote) -> None:
        self.notes += 1
        if not self._spend(note.text):
            self.left_out += 1
            self.left_out_from = self.left_out_from or note.written_at
            self.left_out_to = note.written_at
            return
        earlier = []
        for old in note.earlier:
            if not self._spend(old.text):
                break
            earlier.append(old)
        self.shown.append(ShownNote(note, tuple(earlier), len(note.earlier) - len(earlier)))

    def _spend(self, text: str) -> bool:
        if self.full or self.texts == PDF_TEXTS or self.chars + len(text) > PDF_CHARS:
            self.full = True  # nothing after it either: the PDF shows the oldest notes, in a row
            return False
        self.texts += 1
        self.chars += len(text)
        return True

    @property
    def earlier_left_out(self) -> int:
        return sum(note.earlier_left_out for note in self.shown)


def build(notes: Iterable[CaseFileNote], reference: str) -> tuple[NotesInPdf, bytes | None, set[str]]:
    """The PDF's notes, ``notater.xml`` (None when the case file has no note) and the
    categories of the texts it carries, from ``notes`` (oldest first), read once. The XML is
    written element by element: its text is all it holds in memory."""
    shown = NotesInPdf()
    carried: set[str] = set()
    buffer = io.BytesIO()
    with etree.xmlfile(buffer, encoding="UTF-8") as xf:
        xf.write_declaration()
        with xf.element(
            f"{{{NOTES_NAMESPACE}}}notater", nsmap={None: NOTES_NAMESPACE}, saksnummer=NOT_XML.sub(" ", reference)
        ):
            for note in notes:
                shown.add(note)
                _write(xf, note, shown.notes)
                if note.withdrawn_at is None:
                    carried |= {note.code, *(old.code for old in note.earlier)}
    return shown, (buffer.getvalue() if shown.notes else None), carried


def _text(xf, name: str, text: str, **attributes: str) -> None:
    with xf.element(f"{{{NOTES_NAMESPACE}}}{name}", **attributes):
        xf.write(NOT_XML.sub(" ", text))


def _moment(at: datetime) -> str:
    return timezone.localtime(at).isoformat()


def _write(xf, note: CaseFileNote, number: int) -> None:
    with xf.element(f"{{{NOTES_NAMESPACE}}}notat", nr=str(number)):
        _text(xf, "skrevet", _moment(note.written_at))
        _text(xf, "etat", note.agency)
        _text(xf, "kategori", note.category, kode=note.code)
        _text(xf, "versjon", str(note.version))
        if note.withdrawn_at is not None:
            _text(xf, "trukketTilbake", _moment(note.withdrawn_at))
        else:
            _text(xf, "tekst", note.text)
            if note.corrected_at is not None:
                _text(xf, "rettet", _moment(note.corrected_at))
            if note.lapsed_on is not None:
                _text(xf, "advarselUtlopt", note.lapsed_on.isoformat())
            for old in note.earlier:
                with xf.element(f"{{{NOTES_NAMESPACE}}}tidligereTekst", versjon=str(old.version)):
                    _text(xf, "skrevet", _moment(old.written_at))
                    _text(xf, "erstattet", _moment(old.replaced_at))
                    _text(xf, "kategori", old.category, kode=old.code)
                    _text(xf, "tekst", old.text)
    xf.write("\n")


def validate_notes(xml: bytes) -> None:
    """Raise ``etree.XMLSyntaxError`` when ``xml`` is not well formed or breaks
    ``notater.xsd``; read as a stream, each note let go once checked."""
    schema = etree.XMLSchema(etree.parse(str(NOTES_SCHEMA)))
    for _action, element in etree.iterparse(io.BytesIO(xml), events=("end",), schema=schema):
        if element.tag == f"{{{NOTES_NAMESPACE}}}notat":
            element.clear(keep_tail=True)
            while element.getprevious() is not None:
                del element.getparent()[0]
