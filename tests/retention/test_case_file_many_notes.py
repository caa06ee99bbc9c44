"""Each agency of a case has room for 5,000 notes and 5,000,000 characters of them, and a case
has several agencies. The case file laid out every note of its categories: one agency's room
full cost 35 s of CPU and 538 MB, several would take minutes and gigabytes, and a case whose
package is never made can never be erased. The PDF now shows the oldest notes up to a budget
(``PDF_CHARS`` characters, ``PDF_TEXTS`` texts) and says how many more there are and where:
``notater.xml`` of the package, every note, written as a stream."""

import hashlib
import io
from datetime import timedelta
from pathlib import Path

import pypdf
import pytest
from django.utils import timezone
from lxml import etree

from retention import archive, case_file_notes
from retention.archive import NOARK, PDF_NAME, XML_NAME, validate
from retention.case_file_notes import (
    NOTES_NAME,
    NOTES_NAMESPACE,
    PDF_CHARS,
    PDF_TEXTS,
    CaseFileNote,
    EarlierText,
    NotesInPdf,
)
from retention.models import ArchiveExport, ArchiveStatus
from workflows.notes import Note, NoteRevision

from .pdfa import preflight_errors, text_of
from .test_case_file_dates import in_words

NOTES = PDF_TEXTS + 100


def _number(n: int) -> str:
    return f"Notat nummer {n:04d}."


def test_a_case_of_hundreds_of_notes_is_archived_whole_with_a_case_file_of_bounded_length(
    closed_case, agencies, settings, tmp_path
):
    """Notes of two agencies, one corrected and one withdrawn: the PDF shows the oldest up to
    its budget and says how many more there are and where; ``notater.xml`` holds every one,
    and a health note, out of the case file, in neither."""
    settings.BROBYGGER = {**settings.BROBYGGER, "ARCHIVE_EXPORT_DIR": str(tmp_path)}
    start = timezone.now() - timedelta(days=3)
    writers = [agencies["housing"], agencies["nav"]]
    notes = Note.objects.bulk_create(
        Note(
            case=closed_case,
            agency=writers[n % 2],
            category="coordination",
            text=f"{_number(n)} Ringte utleier om leiligheten.",
            created_at=start + timedelta(minutes=n),
        )
        for n in range(1, NOTES + 1)
    )
    Note.objects.create(
        case=closed_case, agency=writers[0], category="health", text="Innlagt", created_at=start + timedelta(minutes=5)
    )
    corrected, withdrawn = notes[1], notes[-1]
    NoteRevision.objects.create(
        note=corrected,
        version=1,
        category="coordination",
        text="Ringte utleier.",
        written_at=corrected.created_at,
        replaced_at=corrected.created_at + timedelta(seconds=30),
        change=NoteRevision.Change.CORRECTED,
    )
    Note.objects.filter(pk=corrected.pk).update(version=2, corrected_at=corrected.created_at + timedelta(seconds=30))
    Note.objects.filter(pk=withdrawn.pk).update(text="", version=2, withdrawn_at=withdrawn.created_at)

    export = ArchiveExport.objects.create(case=closed_case, requested_at=timezone.now())
    archive.write_package(export)
    export.refresh_from_db()
    assert export.status == ArchiveStatus.DONE
    package = Path(tmp_path) / export.package
    pdf = (package / PDF_NAME).read_bytes()

    # The PDF: the oldest notes as the budget allows (the corrected one's two texts count two),
    # the rest counted, with where they are; still PDF/A.
    text = text_of(pdf)
    shown = PDF_TEXTS - 1
    assert [n for n in range(1, NOTES + 1) if _number(n) in text] == list(range(1, shown + 1))
    replaced = corrected.created_at + timedelta(seconds=30)
    assert (
        f"{_number(2)} Ringte utleier om leiligheten. Rettet {in_words(replaced)} (versjon 2). Versjon 1, skrevet "
        f"{in_words(corrected.created_at)} (samordning), erstattet {in_words(replaced)}: Ringte utleier."
    ) in text
    assert f"Saksmappen har {NOTES} notater: de {shown} eldste er vist her." in text
    assert "Alle notatene, med alle tekstene, står i notater.xml i arkivpakken." in text
    first, last = notes[shown].created_at, withdrawn.created_at
    said = (
        f"Ytterligere {NOTES - shown} notater, skrevet mellom {in_words(first)} og {in_words(last)}, "
        "er utelatt her og står i notater.xml i arkivpakken."
    )
    assert said in text
    assert "Innlagt" not in text
    assert len(pypdf.PdfReader(io.BytesIO(pdf)).pages) <= 40
    path = tmp_path / "saksmappe.pdf"
    path.write_bytes(pdf)
    assert preflight_errors(path) == []

    notes_xml, xml = (package / NOTES_NAME).read_bytes(), (package / XML_NAME).read_bytes()
    # notater.xml: every note of the case file's categories, which its schema and the metadata vouch for.
    case_file_notes.validate_notes(notes_xml)
    listed = etree.fromstring(notes_xml).findall(f"{{{NOTES_NAMESPACE}}}notat")
    assert [int(note.get("nr")) for note in listed] == list(range(1, NOTES + 1))
    texts = [note.findtext(f"{{{NOTES_NAMESPACE}}}tekst") for note in listed]
    assert [t and t.split(" Ringte")[0] for t in texts] == [_number(n) for n in range(1, NOTES)] + [None]
    assert listed[-1].findtext(f"{{{NOTES_NAMESPACE}}}trukketTilbake") is not None
    assert {note.findtext(f"{{{NOTES_NAMESPACE}}}etat") for note in listed} == {agency.name for agency in writers}
    assert b"Innlagt" not in notes_xml
    validate(xml)
    ns = {"n": NOARK}
    described = {
        obj.findtext("n:referanseDokumentfil", namespaces=ns): obj.findtext("n:sjekksum", namespaces=ns)
        for obj in etree.fromstring(xml).iterfind(".//n:dokumentobjekt", namespaces=ns)
    }
    assert described[NOTES_NAME] == hashlib.sha256(notes_xml).hexdigest()
    assert described[PDF_NAME] == hashlib.sha256(pdf).hexdigest()


def test_a_note_corrected_past_the_budget_shows_the_earlier_texts_that_fit_and_notater_xml_every_one(
    closed_case, agencies
):
    """A note of 4,000 characters corrected 30 times: the PDF shows it with the earlier texts
    its budget holds and says how many more it has, and the notes after it are counted;
    ``notater.xml`` holds every earlier text."""
    start = timezone.now() - timedelta(days=1)
    corrections = 30
    full = [f"Tekst {v:02d} " + "x" * 3991 for v in range(1, corrections + 2)]
    note = Note.objects.create(
        case=closed_case,
        agency=agencies["housing"],
        category="housing",
        text=full[-1],
        created_at=start,
        version=corrections + 1,
        corrected_at=start + timedelta(hours=1),
    )
    NoteRevision.objects.bulk_create(
        NoteRevision(
            note=note,
            version=v,
            category="housing",
            text=full[v - 1],
            written_at=start,
            replaced_at=start,
            change=NoteRevision.Change.CORRECTED,
        )
        for v in range(1, corrections + 1)
    )
    for n in (1, 2):
        Note.objects.create(
            case=closed_case,
            agency=agencies["nav"],
            category="coordination",
            text=f"Senere notat {n}",
            created_at=start + timedelta(minutes=n),
        )
    made = archive.case_file_package(closed_case, timezone.now())
    text = text_of(made.pdf)
    fit = PDF_CHARS // 4000 - 1
    shown = [v for v in range(1, corrections + 2) if f"Tekst {v:02d} " in text]
    assert shown == [*range(1, fit + 1), corrections + 1]
    assert "Saksmappen har 3 notater: det eldste er vist her." in text
    assert f"Notatet har {corrections - fit} tidligere tekster til, som er utelatt her og står i notater.xml" in text
    assert "Ytterligere 2 notater, skrevet mellom" in text and "Senere notat" not in text
    case_file_notes.validate_notes(made.notes)
    first, *later = etree.fromstring(made.notes).findall(f"{{{NOTES_NAMESPACE}}}notat")
    earlier = first.findall(f"{{{NOTES_NAMESPACE}}}tidligereTekst")
    assert [old.findtext(f"{{{NOTES_NAMESPACE}}}tekst") for old in earlier] == full[:-1]
    assert [n.findtext(f"{{{NOTES_NAMESPACE}}}tekst") for n in later] == ["Senere notat 1", "Senere notat 2"]


def test_a_case_file_without_notes_has_no_notes_list(closed_case, settings, tmp_path):
    settings.BROBYGGER = {**settings.BROBYGGER, "ARCHIVE_EXPORT_DIR": str(tmp_path)}
    Note.objects.create(
        case=closed_case, agency=closed_case.coordinator_agency, category="health", text="x", created_at=timezone.now()
    )
    made = archive.case_file_package(closed_case, timezone.now())
    assert made.notes is None
    assert "Notater" in text_of(made.pdf) and "notater.xml" not in text_of(made.pdf)


def _note(n: int, text: str, earlier: tuple[str, ...] = ()) -> CaseFileNote:
    at = timezone.now() + timedelta(minutes=n)
    return CaseFileNote(
        written_at=at,
        agency="Bydel Frogn",
        code="housing",
        category="Bolig",
        text=text,
        version=len(earlier) + 1,
        corrected_at=at if earlier else None,
        withdrawn_at=None,
        earlier=tuple(EarlierText(v, at, at, "housing", "Bolig", old) for v, old in enumerate(earlier, start=1)),
    )


def _fill(notes) -> NotesInPdf:
    pdf = NotesInPdf()
    for note in notes:
        pdf.add(note)
    return pdf


def test_the_pdf_shows_notes_up_to_its_character_budget_oldest_first():
    full = "x" * 4000
    pdf = _fill(_note(n, full) for n in range(PDF_CHARS // 4000 + 10))
    assert len(pdf.shown) == PDF_CHARS // 4000 and pdf.left_out == 10 and pdf.chars <= PDF_CHARS
    # A short note after the budget is spent is left out too: the PDF shows the oldest, in a row.
    pdf.add(_note(999, "kort"))
    assert pdf.left_out == 11 and pdf.shown[-1].note.text == full


def test_a_note_whose_earlier_texts_do_not_all_fit_is_shown_with_those_that_do():
    full = "x" * 4000
    room = PDF_CHARS // 4000
    pdf = _fill([*(_note(n, full) for n in range(room - 3)), _note(100, full, ("a" * 4000,) * 5), _note(101, "kort")])
    last = pdf.shown[-1]
    assert last.note.version == 6 and len(last.earlier) == 2 and last.earlier_left_out == 3
    assert pdf.earlier_left_out == 3 and pdf.left_out == 1 and pdf.chars <= PDF_CHARS


def test_the_notes_schema_refuses_a_withdrawn_note_with_a_text(closed_case):
    Note.objects.create(
        case=closed_case,
        agency=closed_case.coordinator_agency,
        category="housing",
        text="",
        created_at=timezone.now(),
        withdrawn_at=timezone.now(),
        version=2,
    )
    made = archive.case_file_package(closed_case, timezone.now())
    case_file_notes.validate_notes(made.notes)
    assert b"<tekst>" not in made.notes
    with pytest.raises(etree.XMLSyntaxError):
        case_file_notes.validate_notes(made.notes.replace(b"<trukketTilbake>", b"<tekst>x</tekst><trukketTilbake>", 1))
    with pytest.raises(etree.XMLSyntaxError):
        case_file_notes.validate_notes(made.notes.replace(b"<skrevet>", b"<skrevet>igaar ", 1))
