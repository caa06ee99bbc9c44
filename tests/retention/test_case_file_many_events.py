"""A case has no bound on its events (tasks taken and released, a responsible contact moved
back and forth, many accounts each adding notes). The case file laid out one row per event:
20,000 events cost 113 s of CPU and 1.5 GB, more killed the worker, and a case whose package
is never made can never be erased. The PDF now folds repeated events into one line with a
count and first and last time, shows the first and last lines, and says where the rest is:
``hendelser.xml`` of the package, every event, written as a stream."""

import hashlib
import io
from datetime import timedelta
from pathlib import Path

import pypdf
import pytest
from django.contrib.auth.models import Group
from django.utils import timezone
from lxml import etree

from permissions.models import Agency, AgencyKind
from retention import archive, case_file_timeline
from retention.archive import EVENTS_NAME, NOARK, PDF_NAME, XML_NAME, validate
from retention.case_file_timeline import EVENTS_NAMESPACE, HEAD_LINES, TAIL_LINES, Folder, Line, Record, Timeline
from retention.models import ArchiveExport, ArchiveStatus
from workflows.models import Event, EventKind, Task

from .pdfa import preflight_errors, text_of

LOOPS, NOTES, OFFICES = 1500, 1200, 4


def _offices():
    return [
        Agency.objects.create(
            name=f"Bydel Frogn {n}", kind=AgencyKind.HOUSING, group=Group.objects.create(name=f"fr-{n}")
        )
        for n in range(OFFICES)
    ]


def test_a_case_of_thousands_of_events_is_archived_whole_with_a_case_file_of_bounded_length(
    closed_case, settings, tmp_path
):
    settings.BROBYGGER = {**settings.BROBYGGER, "ARCHIVE_EXPORT_DIR": str(tmp_path)}
    task = Task.objects.filter(case=closed_case).order_by("pk").first()
    offices = _offices()
    start = timezone.now() - timedelta(days=2)
    taken = [
        Event(case=closed_case, task=task, element_id=task.element_id, kind=kind, agency=offices[0])
        for _ in range(LOOPS)
        for kind in (EventKind.TASK_CLAIMED, EventKind.TASK_UNCLAIMED)
    ]
    # A note from each of four offices in turn: a period of four is never folded.
    notes = [Event(case=closed_case, kind=EventKind.NOTE_ADDED, agency=offices[n % OFFICES]) for n in range(NOTES)]
    Event.objects.bulk_create([*taken, *notes], batch_size=2000)
    for offset, events in ((timedelta(0), taken), (timedelta(days=1), notes)):
        Event.objects.filter(pk__in=[e.pk for e in events]).update(created_at=start + offset)
    total = Event.objects.filter(case=closed_case).count()

    export = ArchiveExport.objects.create(case=closed_case, requested_at=timezone.now())
    archive.write_package(export)
    export.refresh_from_db()
    assert export.status == ArchiveStatus.DONE
    package = Path(tmp_path) / export.package
    pdf, events, xml = ((package / name).read_bytes() for name in (PDF_NAME, EVENTS_NAME, XML_NAME))

    # The PDF: bounded (one row an event was 99 pages), still PDF/A, saying what it folded and left out.
    assert len(pypdf.PdfReader(io.BytesIO(pdf)).pages) <= 25
    path = tmp_path / "saksmappe.pdf"
    path.write_bytes(pdf)
    assert preflight_errors(path) == []
    text = text_of(pdf)
    assert f"{total} hendelser." in text
    assert f"Oppgave tatt, Oppgave lagt tilbake \u2013 {LOOPS} ganger" in text
    assert "er slått sammen til én linje" in text
    assert f"de første {HEAD_LINES} og de siste {TAIL_LINES} er vist her" in text
    assert f"Hele tidslinjen, hendelse for hendelse, står i {EVENTS_NAME} i arkivpakken" in text
    assert "linjer med" in text and "hendelser er utelatt her" in text and "Notat skrevet" in text

    # The package: every event in hendelser.xml, which its schema and the metadata vouch for.
    case_file_timeline.validate_events(events)
    root = etree.fromstring(events)
    listed = root.findall(f"{{{EVENTS_NAMESPACE}}}hendelse")
    assert len(listed) == total and [int(e.get("nr")) for e in listed] == list(range(1, total + 1))
    kinds = [e.findtext(f"{{{EVENTS_NAMESPACE}}}type") for e in listed]
    assert kinds.count(EventKind.TASK_CLAIMED) == kinds.count(EventKind.TASK_UNCLAIMED) == LOOPS
    assert kinds.count(EventKind.NOTE_ADDED) == NOTES
    assert {e.findtext(f"{{{EVENTS_NAMESPACE}}}etat") for e in listed} >= {office.name for office in offices}
    validate(xml)
    ns = {"n": NOARK}
    described = {
        obj.findtext("n:referanseDokumentfil", namespaces=ns): (
            obj.findtext("n:sjekksum", namespaces=ns),
            int(obj.findtext("n:filstoerrelse", namespaces=ns)),
        )
        for obj in etree.fromstring(xml).iterfind(".//n:dokumentobjekt", namespaces=ns)
    }
    assert described == {
        PDF_NAME: (hashlib.sha256(pdf).hexdigest(), len(pdf)),
        EVENTS_NAME: (hashlib.sha256(events).hexdigest(), len(events)),
    }


def test_the_schema_refuses_an_event_list_that_breaks_it(closed_case):
    made = archive.case_file_package(closed_case, timezone.now())
    case_file_timeline.validate_events(made.events)
    with pytest.raises(etree.XMLSyntaxError):
        case_file_timeline.validate_events(made.events.replace(b"<tidspunkt>", b"<tidspunkt>igaar ", 1))


def _records(keys):
    start = timezone.now()
    return [Record(start + timedelta(minutes=n), (kind, 1), kind, "Bydel Frogn") for n, kind in enumerate(keys)]


def _fold(keys):
    lines = []
    folder = Folder(lines.append)
    for record in _records(keys):
        folder.push(record)
    folder.finish()
    return [(line.labels, line.repeats) for line in lines]


def test_repeated_events_fold_into_one_line_and_the_rest_stay_as_they_are():
    # Taken and released 37 times between its creation and its completion.
    assert _fold(["created", *["taken", "released"] * 37, "completed"]) == [
        (("created",), 1),
        (("taken", "released"), 37),
        (("completed",), 1),
    ]
    assert _fold(["moved"] * 5 + ["note"]) == [(("moved",), 5), (("note",), 1)]
    # Twice in a row is not folded; a period of four is not either.
    assert _fold(["a", "a", "b"]) == [(("a",), 1), (("a",), 1), (("b",), 1)]
    assert _fold(["a", "b", "c", "d"] * 3) == [((key,), 1) for key in ["a", "b", "c", "d"] * 3]
    # A repetition cut short leaves its events as lines of their own.
    assert _fold(["m", "t", "x"] * 4 + ["m", "t"]) == [(("m", "t", "x"), 4), (("m",), 1), (("t",), 1)]


def test_the_timeline_keeps_its_first_and_last_lines_and_counts_what_lies_between():
    timeline = Timeline()
    start = timezone.now()
    total = HEAD_LINES + TAIL_LINES + 50
    for n in range(total):
        at = start + timedelta(minutes=n)
        timeline.add(Line(at, at, ("Notat skrevet",), ("Bydel Frogn",)))
    assert timeline.lines == total and len(timeline.head) == HEAD_LINES and len(timeline.tail) == TAIL_LINES
    assert timeline.omitted == timeline.omitted_events == 50
    assert timeline.omitted_by_kind == [("Notat skrevet", 50)]
    assert timeline.omitted_from == start + timedelta(minutes=HEAD_LINES)
    assert timeline.tail[-1].first_at == start + timedelta(minutes=total - 1)
