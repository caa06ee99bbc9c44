"""The case file's timeline at a cost bounded whatever the number of events.

A case has no bound on its events: a lead moving the responsible housing contact back and
forth, messages to a non-interrupting boundary event, tasks taken and released, many
accounts each adding some. The case file laid out one table row per event: 20,000 events
cost WeasyPrint 113 s of CPU and 1.5 GB of memory, 100,000 would kill the worker, and a case
whose package is never made can never be erased (the archive duty comes first).

So the events are read a chunk at a time (``selectors.iter_case_file_events``) and go two
ways at once:

- every one, as the case file's reader is shown it (time, kind, agency), into
  ``hendelser.xml`` of the package (``EVENTS_NAME``, schema ``schemas/hendelser.xsd``),
  written element by element: the complete timeline the archive keeps;
- folded into lines for the PDF (``Folder``): a run of the same event (same kind, same
  agency), or of the same two or three events in turn (a task taken and released), repeated
  ``FOLD_FROM`` times or more is one line with its count and first and last time. The PDF
  shows the first ``HEAD_LINES`` lines and the last ``TAIL_LINES``; what lies between is
  counted by kind and the PDF says where the full list is (``Timeline``).
"""

from __future__ import annotations

import io
import re
from collections import Counter, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from django.utils import timezone
from lxml import etree

EVENTS_NAME = "hendelser.xml"
EVENTS_NAMESPACE = "urn:x-brobygger:arkiv:hendelser:1"
EVENTS_SCHEMA = Path(__file__).with_name("schemas") / "hendelser.xsd"
# A repetition of up to three events in turn is recognised (taken, released; a message and
# the task it opens), and folded from three repetitions on: two in a row stay two lines.
PERIOD, FOLD_FROM = 3, 3
# The PDF's timeline holds at most this many lines (some 18 pages): measured on PostgreSQL,
# the export of a case of 20,000 events costs 3.8 s of CPU, the process peaking at 232 MB
# (was 113 s and 1.5 GB), of 100,000 events 7.9 s and 297 MB (docs/data-protection.md).
HEAD_LINES, TAIL_LINES = 400, 100
# What XML 1.0 cannot hold: control characters but tab and line breaks, surrogates, U+FFFE and
# U+FFFF. A name typed in the admin may carry one (Word's line break within a paragraph is a
# vertical tab): lxml refused it, and the export of every case of that agency failed for good.
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


@dataclass(frozen=True, slots=True)
class Record:
    """One event as the case file shows it."""

    at: datetime
    key: tuple[str, int | None]  # kind and agency: what makes two events "the same"
    label: str
    agency: str


@dataclass(frozen=True, slots=True)
class Line:
    """A line of the PDF's timeline: one event, or ``repeats`` repetitions of ``labels`` in
    turn (``events`` events in all) between ``first_at`` and ``last_at``."""

    first_at: datetime
    last_at: datetime
    labels: tuple[str, ...]
    agencies: tuple[str, ...]
    repeats: int = 1
    events: int = 1

    @property
    def folded(self) -> bool:
        return self.repeats > 1

    @property
    def label(self) -> str:
        return ", ".join(self.labels)

    @property
    def agency(self) -> str:
        return ", ".join(self.agencies)


def _single(record: Record) -> Line:
    return Line(record.at, record.at, (record.label,), (record.agency,) if record.agency else ())


@dataclass(slots=True)
class _Run:
    pattern: tuple[tuple[str, int | None], ...]
    sample: list[Record]
    held: list[Record]  # every record, while too short to fold
    repeats: int = 0
    last_at: datetime | None = None

    def add(self, records: list[Record]) -> None:
        self.repeats += 1
        self.last_at = records[-1].at
        if self.repeats <= FOLD_FROM:
            self.held.extend(records)
        if self.repeats == FOLD_FROM:
            self.held = []

    def line(self) -> Line:
        agencies = tuple(dict.fromkeys(record.agency for record in self.sample if record.agency))
        assert self.last_at is not None
        return Line(
            self.sample[0].at,
            self.last_at,
            tuple(record.label for record in self.sample),
            agencies,
            repeats=self.repeats,
            events=self.repeats * len(self.pattern),
        )


class Folder:
    """Records in, lines out (``emit``), holding at most a few records: a run is recognised
    from its first two repetitions (the shortest period first) and followed while the events
    go on repeating it."""

    def __init__(self, emit: Callable[[Line], None]) -> None:
        self.emit = emit
        self.window: list[Record] = []  # no run open: the records not yet in a line
        self.run: _Run | None = None
        self.partial: list[Record] = []  # the open run's next repetition so far

    def push(self, record: Record) -> None:
        run = self.run
        if run is None:
            self._free(record)
        elif record.key == run.pattern[len(self.partial)]:
            self.partial.append(record)
            if len(self.partial) == len(run.pattern):
                run.add(self.partial)
                self.partial = []
        else:
            pending, self.partial = [*self.partial, record], []
            self._close()
            for waiting in pending:
                self.push(waiting)

    def finish(self) -> None:
        while self.run is not None:
            pending, self.partial = self.partial, []
            self._close()
            for waiting in pending:
                self.push(waiting)
        for record in self.window:
            self.emit(_single(record))
        self.window = []

    def _free(self, record: Record) -> None:
        window = self.window
        window.append(record)
        while window:
            for period in range(1, PERIOD + 1):
                if len(window) < 2 * period:
                    break
                keys = [r.key for r in window[: 2 * period]]
                if keys[:period] == keys[period:]:
                    run = _Run(tuple(keys[:period]), window[:period], [])
                    run.add(window[:period])
                    run.add(window[period : 2 * period])
                    rest, self.window, self.run = window[2 * period :], [], run
                    for waiting in rest:
                        self.push(waiting)
                    return
            if len(window) < 2 * PERIOD:
                return
            self.emit(_single(window.pop(0)))

    def _close(self) -> None:
        run, self.run = self.run, None
        assert run is not None
        if run.repeats >= FOLD_FROM:
            self.emit(run.line())
        else:
            for record in run.held:
                self.emit(_single(record))


@dataclass
class Timeline:
    """What the PDF shows of the timeline: ``head`` and ``tail`` lines, and of the lines
    between them (``omitted``) their number, events, first and last time and events by kind."""

    events: int = 0
    lines: int = 0
    head: list[Line] = field(default_factory=list)
    tail: deque[Line] = field(default_factory=lambda: deque(maxlen=TAIL_LINES))
    omitted: int = 0
    omitted_events: int = 0
    omitted_from: datetime | None = None
    omitted_to: datetime | None = None
    omitted_kinds: Counter[str] = field(default_factory=Counter)
    folded: bool = False

    def add(self, line: Line) -> None:
        self.lines += 1
        self.folded |= line.folded
        if len(self.head) < HEAD_LINES:
            self.head.append(line)
            return
        if len(self.tail) == self.tail.maxlen:
            self._omit(self.tail[0])
        self.tail.append(line)

    def _omit(self, line: Line) -> None:
        self.omitted += 1
        self.omitted_events += line.events
        self.omitted_from = self.omitted_from or line.first_at
        self.omitted_to = line.last_at
        for label in line.labels:
            self.omitted_kinds[label] += line.repeats

    @property
    def omitted_by_kind(self) -> list[tuple[str, int]]:
        return sorted(self.omitted_kinds.items(), key=lambda item: (-item[1], item[0]))


def build(records: Iterable[Record], reference: str) -> tuple[Timeline, bytes]:
    """The PDF's timeline and ``hendelser.xml`` from ``records`` (in the timeline's order),
    read once. The XML is written element by element: its text is all it holds in memory."""
    timeline = Timeline()
    folder = Folder(timeline.add)
    buffer = io.BytesIO()
    with etree.xmlfile(buffer, encoding="UTF-8") as xf:
        xf.write_declaration()
        with xf.element(
            f"{{{EVENTS_NAMESPACE}}}hendelser", nsmap={None: EVENTS_NAMESPACE}, saksnummer=NOT_XML.sub(" ", reference)
        ):
            for record in records:
                timeline.events += 1
                _write(xf, record, timeline.events)
                folder.push(record)
        folder.finish()
    return timeline, buffer.getvalue()


def _write(xf, record: Record, number: int) -> None:
    with xf.element(f"{{{EVENTS_NAMESPACE}}}hendelse", nr=str(number)):
        for name, text in (
            ("tidspunkt", timezone.localtime(record.at).isoformat()),
            ("type", record.key[0]),
            ("beskrivelse", record.label),
            ("etat", record.agency),
        ):
            if text:
                with xf.element(f"{{{EVENTS_NAMESPACE}}}{name}"):
                    xf.write(NOT_XML.sub(" ", text))
    xf.write("\n")


def validate_events(xml: bytes) -> None:
    """Raise ``etree.XMLSyntaxError`` when ``xml`` is not well formed or breaks
    ``hendelser.xsd``; read as a stream, each event let go once checked."""
    schema = etree.XMLSchema(etree.parse(str(EVENTS_SCHEMA)))
    for _action, element in etree.iterparse(io.BytesIO(xml), events=("end",), schema=schema):
        if element.tag == f"{{{EVENTS_NAMESPACE}}}hendelse":
            element.clear(keep_tail=True)
            while element.getprevious() is not None:
                del element.getparent()[0]
