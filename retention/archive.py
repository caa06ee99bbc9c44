"""Archive export of a closed case: the case file as PDF/A plus Noark 5 arkivstruktur
metadata, written to ``ARCHIVE_EXPORT_DIR`` or posted to ``ARCHIVE_ENDPOINT_URL``
(``retention.archive_endpoint``) through the job table (docs/data-protection.md).

The package is a folder ``<reference>-<export id>/`` holding ``saksmappe.pdf`` (PDF/A-1b,
made by WeasyPrint from HTML: the case-file fields as filled, its notes; the timeline and consents when
coordination belongs to the case file, the outcome when housing does) and
``arkivstruktur.xml`` (validated against ``schemas/noark5-arkivstruktur-subset.xsd`` before
it is written), with the whole timeline (``hendelser.xml``: ``case_file_timeline``) and every
note of the case file (``notater.xml``: ``case_file_notes``) when it has them. It is written
under a temporary name and renamed when complete, so the archive never picks up half a
package.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import uuid
from collections.abc import Iterator
from copy import deepcopy
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import url2pathname

import weasyprint
from django.conf import settings
from django.db.models import Prefetch
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.text import capfirst
from django.utils.translation import gettext
from lxml import etree
from weasyprint.pdf.metadata import DocumentMetadata
from weasyprint.urls import URLFetcher, URLFetcherResponse

from bpmn import form_labels, form_values
from bpmn.registry import runtime_for
from permissions import notes_policy, policy
from permissions import rules as permission_rules
from permissions.models import ALL_CATEGORIES, AccessLog, AgencyKind, Consent
from retention import archive_endpoint, case_file_notes, case_file_timeline
from retention.case_file_notes import NOTES_NAME, CaseFileNote, EarlierText
from retention.case_file_timeline import EVENTS_NAME, NOT_XML
from retention.models import ArchiveExport, ArchiveStatus
from retention.rules import rules_for_process
from workflows.models import Case, CaseOutcome, JobStatus, ProcessInstance
from workflows.notes import Note, NoteRevision
from workflows.selectors import NO_PATH_HIDDEN, PathView, case_file_path_view, iter_case_file_events, process_name

log = logging.getLogger("brobygger.retention")

NOARK = "http://www.arkivverket.no/standarder/noark5/arkivstruktur"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
XML_NAMESPACE = "http://www.w3.org/XML/1998/namespace"
SCHEMA = Path(__file__).with_name("schemas") / "noark5-arkivstruktur-subset.xsd"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
PDF_NAME, XML_NAME = "saksmappe.pdf", "arkivstruktur.xml"
# PDF/A-1 (ISO 19005-1, level B): riksarkivarens forskrift has accepted it for deposit
# since 2007 (1a or 1b), and Apache PDFBox Preflight validates exactly it. PDF/A-3, written
# here before, lets any file ride inside the PDF, which a deposit must not carry.
PDF_VARIANT, PDF_FORMAT = "pdf/a-1b", "PDF/A-1b"
SYSTEM = "Brobygger"
# What the case file may show of the site's own files (fonts, a logo): the repository's static
# folder, read from disk; never a URL (``StaticOnlyFetcher``).
STATIC_DIR = Path(settings.BASE_DIR) / "static"


def case_file_fields(case: Case, rules, view: PathView = NO_PATH_HIDDEN) -> list[tuple[str, str, str, str]]:
    """(category, title, category in words, value) of the case's data that belong to the case
    file (``rules``: ``rules_for_process``), as the archive's reader reads them, as the pages
    show them (``form_values.display_value``): a field by its title in the form, its category
    in words, a choice by its label, yes and no in words, a date, a date-time and a time of day
    in Oslo's time in words ("10. januar 2027 09:00"; a time of day read for the day the case
    closed, so every attempt of an export prints the same). The category is what the
    delivery's access log names. A field a step on a branch hidden from the case file wrote
    (``view``: ``selectors.case_file_path_view``) is left out, or shown as the steps every case
    passes left it (``Case.data_common``), as to NAV on the case page."""
    categories: dict[str, str] = {}
    forms: dict[str, dict] = {}
    lapsed: dict = {}
    for definition_id in ProcessInstance.objects.filter(case=case).values_list("definition_id", flat=True):
        runtime = runtime_for(definition_id)
        categories.update(runtime.field_rules.fields)
        forms.update(runtime.forms)
        # The archive keeps the record as it was (arkivlova): a safety warning out of time stays
        # in a case file that holds the category, marked as lapsed (``policy.warning_dates``),
        # when it had lapsed by the case's close (``in_force_at``).
        lapsed.update(policy.lapsed_warnings(case, runtime.field_rules, in_force_at(case)))
    titles, choices = form_labels.field_titles(forms), form_labels.field_choice_labels(forms)
    rows = []
    common = case.data_common or {}
    closed_on = timezone.localdate(case.closed_at) if case.closed_at else None
    for field, value in (case.data or {}).items():
        if field in view.fields:
            if field not in common:
                continue
            value = common[field][0]
        category = permission_rules.category_of(categories.get(field, permission_rules.RESTRICTED))
        if rules[category].in_case_file:
            title = titles.get(field) or form_labels.option_label(field)
            label = capfirst(str(permission_rules.CATEGORY_LABELS.get(category, category)))
            read = form_values.display_value(value, closed_on, choices.get(field))
            if field in lapsed:
                read = gettext("%(value)s (warning lapsed %(date)s)") % {
                    "value": read,
                    "date": form_values.day_text(lapsed[field]),
                }
            rows.append((category, title, label, read))
    return rows


def iter_case_file_notes(case: Case, rules, chunk: int = 200) -> Iterator[CaseFileNote]:
    """The case's notes that belong to the case file, oldest first, read ``chunk`` at a time
    (an agency has room for 5,000 notes and corrections in a case, and a case has several
    agencies: ``case_file_notes``). A note is case data of its category written by its agency
    (README "Notes and attachments"), so the process's rules decide it as they decide a form's
    field: a note of a category out of the case file (``health`` by default) is left out,
    whatever its agency. The archive's reader is shown what a participant who reads the case
    file's categories is shown on the case page: the text the note has now, when it was
    corrected and its earlier texts, each only when its category then is in the case file too
    (``notes_policy.notes_for``). A withdrawn note is there as withdrawn (when, by its agency)
    without any text: its writer withdrew it from the case's record (a note on the wrong
    person or case is the usual reason), so the archive, which the person reads on request,
    does not carry it on; its texts stay in Brobygger's history until the erasure, and a
    package the archive took before the withdrawal stays there as it was."""

    def in_file(category: str) -> bool:
        return rules[permission_rules.category_of(category)].in_case_file

    def words(category: str) -> str:
        return capfirst(str(permission_rules.CATEGORY_LABELS.get(category, category)))

    # A withdrawn note shows no earlier text: none is read.
    corrections = NoteRevision.objects.filter(
        change=NoteRevision.Change.CORRECTED, note__withdrawn_at__isnull=True
    ).order_by("version")
    notes = (
        Note.objects.filter(case=case)
        # Not read at all: the notes of a category out of the case file (a health note's text).
        .exclude(category__in=[category for category in ALL_CATEGORIES if not rules[category].in_case_file])
        .select_related("agency")
        .prefetch_related(Prefetch("revisions", queryset=corrections))
        .order_by("created_at", "id")
    )
    for note in notes.iterator(chunk_size=chunk):
        if not in_file(note.category):
            continue
        earlier: tuple[EarlierText, ...] = ()
        if not note.is_withdrawn:
            earlier = tuple(
                EarlierText(
                    old.version,
                    old.written_at,
                    old.replaced_at,
                    permission_rules.category_of(old.category),
                    words(old.category),
                    old.text,
                )
                for old in note.revisions.all()
                if in_file(old.category)
            )
        yield CaseFileNote(
            written_at=note.created_at,
            agency=note.agency.name,
            code=permission_rules.category_of(note.category),
            category=words(note.category),
            text="" if note.is_withdrawn else note.text,
            version=note.version,
            corrected_at=note.corrected_at,
            withdrawn_at=note.withdrawn_at,
            earlier=earlier,
            # The archive keeps the record as it was (arkivlova): a safety note out of time stays,
            # marked as lapsed, as a safety field does (``case_file_fields``).
            lapsed_on=None if note.is_withdrawn else _note_lapsed(note.category, note.warning_since, in_force_at(case)),
        )


def in_force_at(case: Case) -> datetime | None:
    """The moment the case file tells which safety warnings were in force at: the case's close
    (None while it is open: now). A case file is made once the case is closed, and again after
    a correction, months or years later: each says what was in force when the case closed,
    the same whenever it is made (until h-safety4 a warning in force at the close was marked
    lapsed in a case file made after its date)."""
    return case.closed_at


def _note_lapsed(category: str, since, at):
    if permission_rules.category_of(category) != policy.SAFETY:
        return None
    return notes_policy.warning_window(since, at)[0]


def case_file(case: Case, produced_at: datetime) -> tuple[bytes, tuple[str, ...]]:
    """``case_file_package``'s PDF and categories."""
    made = case_file_package(case, produced_at)
    return made.pdf, made.categories


@dataclass(frozen=True)
class CaseFile:
    pdf: bytes
    events: bytes | None  # hendelser.xml: the whole timeline, when coordination is in the case file
    categories: tuple[str, ...]
    notes: bytes | None = None  # notater.xml: every note of the case file, when it has one


def case_file_package(case: Case, produced_at: datetime) -> CaseFile:
    """The case file as PDF/A, in the municipality's language whoever (or whichever worker)
    asks, with the whole timeline as ``hendelser.xml`` when coordination belongs to it (the
    PDF folds repeated events and shows the first and last lines: ``case_file_timeline``),
    every note of its categories as ``notater.xml`` when it has one (the PDF shows the oldest
    up to a budget: ``case_file_notes``), and the data categories it carries, for the access
    log of its delivery: the person (identity) when identity belongs to the case file, the
    category of each field in it and of each note's text in it, coordination always (the
    process, its dates and coordinating agency head every case file; the timeline and
    consents follow when coordination belongs to it) and housing when the outcome is
    (``_coordination``, ``_outcome``). A category the process's rules leave out of the case
    file is neither written nor logged. The process, its reference and dates stay whatever
    the rules say: they are the fact of the case the archive duty needs."""
    rules = rules_for_process(case.process_key)
    # The case's own name (``Case.person_name``), not the person row's.
    person = (
        {"name": case.person_name, "national_id": case.person.national_id} if rules["identity"].in_case_file else None
    )
    # The case file's reader sees the categories it holds: a branch a value left out of it
    # chose is hidden from them, as from an agency that may not see that value.
    view = case_file_path_view(case, [category for category in ALL_CATEGORIES if rules[category].in_case_file])
    outcome = _outcome(case, rules)
    with translation.override(settings.LANGUAGE_CODE):  # the fields' labels too
        coordination, events = _coordination(case, rules, view)
        entries = case_file_fields(case, rules, view)
        notes, notes_xml, note_categories = case_file_notes.build(iter_case_file_notes(case, rules), case.reference)
        html = render_to_string(
            "retention/case_file.html",
            {
                "case": case,
                "process_name": process_name(case.process_key),
                "person": person,
                "fields": [entry[1:] for entry in entries],
                "notes": notes,
                "note_categories": ", ".join(
                    str(permission_rules.CATEGORY_LABELS.get(category, category))
                    for category in permission_rules.NOTE_CATEGORIES
                    if rules[category].in_case_file
                ),
                **coordination,
                **outcome,
                "produced_at": produced_at,
                "events_name": EVENTS_NAME,
                "notes_name": NOTES_NAME,
            },
        )
    document = render_pdf(html)
    document.metadata = _ArchiveMetadata(**vars(document.metadata))
    carried = {category for category, *_ in entries} | note_categories  # notater.xml's texts
    carried |= {"identity"} if person is not None else set()
    # The process, its reference, dates and coordinating agency head every case file (the
    # fact of the case, which the archive duty needs): coordination data, so always logged,
    # with or without the timeline and consents ("Løslatelse fra fengsel" tells enough).
    carried |= {"coordination"}
    carried |= {"housing"} if outcome["outcome"] is not None else set()
    pdf = document.write_pdf(pdf_variant=PDF_VARIANT)
    return CaseFile(pdf, events, tuple(c for c in ALL_CATEGORIES if c in carried), notes_xml)


class StaticOnlyFetcher(URLFetcher):
    """WeasyPrint's fetcher for the case file: the project's own static files, read from disk,
    and nothing else. WeasyPrint's own fetches any ``http:``, ``https:``, ``ftp:`` or ``file:``
    URL an ``<img>``, a ``<link>`` or a CSS ``url()`` names, so a case value that ever reached
    the HTML unescaped (a filter, a future template) would have the worker fetch a URL of the
    writer's choice (an internal address, a file of the host) and print it in the archive.
    Refused here: any scheme but ``file:``, and a file outside ``STATIC_DIR`` once its path is
    resolved (``..``, symbolic links). WeasyPrint leaves a refused image out and goes on."""

    def __init__(self) -> None:
        super().__init__(timeout=1, allowed_protocols=("file",), allow_redirects=False)
        self.root = STATIC_DIR.resolve()

    def fetch(self, url, headers=None):  # the only way WeasyPrint reaches a resource
        parts = urlsplit(url)
        if parts.scheme.lower() != "file" or parts.netloc not in ("", "localhost"):
            raise ValueError("the case file fetches nothing but the site's static files")
        path = Path(url2pathname(parts.path)).resolve()
        if not path.is_relative_to(self.root) or not path.is_file():
            raise ValueError("the case file fetches nothing but the site's static files")
        return URLFetcherResponse(path.as_uri(), path.read_bytes())


def render_pdf(html: str) -> weasyprint.Document:
    """The HTML laid out by WeasyPrint, fetching the site's static files only
    (``StaticOnlyFetcher``); a relative URL is one of them."""
    return weasyprint.HTML(string=html, base_url=STATIC_DIR.as_uri() + "/", url_fetcher=StaticOnlyFetcher()).render()


def _coordination(case: Case, rules, view: PathView) -> tuple[dict, bytes | None]:
    """The timeline and the consents with their legal bases, for the template, and the whole
    timeline as ``hendelser.xml``: coordination data (who took part, when, on which basis),
    so in the case file only when the process's rules put coordination there; else empty,
    and the PDF says they are left out."""
    if not rules["coordination"].in_case_file:
        return {"coordination_in_case_file": False, "timeline": None, "consents": ()}, None
    consents = list(Consent.objects.filter(case=case).select_related("agency", "legal_basis"))
    for consent in consents:
        # In words as the pages show them ("bolig, helse"); lazy, so read in the case file's language.
        consent.category_words = [permission_rules.CATEGORY_LABELS.get(c, c) for c in consent.categories]
        # Every agency of a kind by the kind's name ("Kriminalomsorgen"), not its code ("prison").
        consent.recipient = consent.agency.name if consent.agency_id else AgencyKind(consent.agency_kind).label
    events = iter_case_file_events(
        case, view, [category for category in ALL_CATEGORIES if rules[category].in_case_file]
    )
    timeline, xml = case_file_timeline.build(_records(events), case.reference)
    return {"coordination_in_case_file": True, "timeline": timeline, "consents": consents}, xml


def _records(events) -> Iterator[case_file_timeline.Record]:
    """Each event as the case file shows it: its kind in words, its agency by name."""
    labels: dict[str, str] = {}
    agencies: dict[int | None, str] = {None: ""}
    for event in events:
        if event.kind not in labels:
            labels[event.kind] = str(event.get_kind_display())
        if event.agency_id not in agencies:
            agencies[event.agency_id] = event.agency.name
        yield case_file_timeline.Record(
            event.created_at, (event.kind, event.agency_id), labels[event.kind], agencies[event.agency_id]
        )


def _outcome(case: Case, rules) -> dict:
    """The outcome, for the template: housing data (its kind, tenure, dates and a free-text
    reason), so in the case file only when the process's rules put housing there; else
    none, and the PDF says housing data are left out rather than "not recorded"."""
    if not rules["housing"].in_case_file:
        return {"housing_in_case_file": False, "outcome": None}
    outcome = CaseOutcome.objects.filter(case=case).select_related("kind").first()
    return {"housing_in_case_file": True, "outcome": outcome}


class _ArchiveMetadata(DocumentMetadata):
    """WeasyPrint's XMP with each ``rdf:Description`` declaring the namespaces it uses.

    WeasyPrint declares them all once on ``rdf:RDF``. That is valid RDF, but validators
    built on Apache xmpbox (PDFBox Preflight among them) look for a schema's namespace on
    its ``rdf:Description`` and report the PDF/A identification missing; declared there,
    the same metadata reads the same everywhere."""

    def generate_rdf_metadata(self, variant, version, conformance):
        return _namespaces_on_descriptions(super().generate_rdf_metadata(variant, version, conformance))


def _namespaces_on_descriptions(rdf_xml: bytes) -> bytes:
    source = etree.fromstring(rdf_xml)
    prefixes = {uri: prefix for prefix, uri in source.nsmap.items() if prefix}
    rdf = etree.Element(f"{{{RDF}}}RDF", nsmap={"rdf": RDF})
    for description in source:
        used = {
            etree.QName(name).namespace
            for node in description.iter()
            for name in (node.tag, *node.attrib)
            if isinstance(name, str) and etree.QName(name).namespace not in (None, RDF, XML_NAMESPACE)
        }
        copy = etree.SubElement(
            rdf, description.tag, attrib=dict(description.attrib), nsmap={prefixes[uri]: uri for uri in sorted(used)}
        )
        copy.extend(deepcopy(child) for child in description)
    return etree.tostring(rdf, encoding="utf-8")


def _fields(*pairs: tuple[str, object]) -> tuple[tuple[str, object], ...]:
    """Element name and value pairs (values of any type: ``_sub`` writes them as text)."""
    return pairs


# What XML 1.0 cannot hold (``case_file_timeline.NOT_XML``) is a space.
_NOT_XML = NOT_XML


def _sub(parent, name: str, text: object = None):
    element = etree.SubElement(parent, f"{{{NOARK}}}{name}")
    if text is not None:
        element.text = _NOT_XML.sub(" ", str(text))
    return element


def arkivstruktur(
    case: Case,
    pdf: bytes,
    produced_at: datetime,
    package_key: uuid.UUID,
    events: bytes | None = None,
    notes: bytes | None = None,
) -> bytes:
    """The Noark 5 metadata of the package (the subset our schema describes). Each entity's
    systemID is derived from ``package_key`` (the export's, random): unique, and the same on
    every attempt of the export. ``events`` (``hendelser.xml``, the whole timeline) and
    ``notes`` (``notater.xml``, every note) are the record's further documents, attachments
    of the case file."""
    when = produced_at.isoformat()

    def system_id(entity: str) -> uuid.UUID:
        return uuid.uuid5(package_key, entity)

    closed = (case.closed_at or produced_at).isoformat()
    year, _, sequence = case.reference.rpartition("-")
    root = etree.Element(f"{{{NOARK}}}arkiv", nsmap={None: NOARK, "xsi": XSI})
    for name, text in _fields(("systemID", system_id("arkiv")), ("tittel", SYSTEM), ("arkivstatus", "Avsluttet")):
        _sub(root, name, text)
    _sub(root, "opprettetDato", when)
    _sub(root, "opprettetAv", SYSTEM)
    part = _sub(root, "arkivdel")
    for name, text in _fields(
        ("systemID", system_id("arkivdel")),
        ("tittel", "Boligsosialt arbeid"),
        ("arkivdelstatus", "Avsluttet periode"),
        ("opprettetDato", when),
        ("opprettetAv", SYSTEM),
    ):
        _sub(part, name, text)
    folder = _sub(part, "mappe")
    folder.set(f"{{{XSI}}}type", "saksmappe")
    for name, text in _fields(
        ("systemID", system_id("mappe")),
        ("mappeID", case.reference),
        ("tittel", f"{case.process_key} {case.reference}"),
        ("opprettetDato", case.opened_at.isoformat()),
        ("opprettetAv", SYSTEM),
        ("avsluttetDato", closed),
        ("avsluttetAv", SYSTEM),
    ):
        _sub(folder, name, text)
    record = _sub(folder, "registrering")
    for name, text in _fields(
        ("systemID", system_id("registrering")),
        ("opprettetDato", when),
        ("opprettetAv", SYSTEM),
        ("arkivertDato", when),
        ("arkivertAv", SYSTEM),
    ):
        _sub(record, name, text)
    documents = [
        ("dokumentbeskrivelse", "Saksmappe", f"Saksmappe {case.reference}", "Hoveddokument", PDF_FORMAT, PDF_NAME, pdf)
    ]
    if events is not None:
        documents.append(
            (
                "dokumentbeskrivelse-hendelser",
                "Hendelsesliste",
                f"Hendelser i sak {case.reference}",
                "Vedlegg",
                "XML",
                EVENTS_NAME,
                events,
            )
        )
    if notes is not None:
        documents.append(
            (
                "dokumentbeskrivelse-notater",
                "Notater",
                f"Notater i sak {case.reference}",
                "Vedlegg",
                "XML",
                NOTES_NAME,
                notes,
            )
        )
    for number, (entity, kind, title, role, file_format, filename, content) in enumerate(documents, start=1):
        document = _sub(record, "dokumentbeskrivelse")
        for name, text in _fields(
            ("systemID", system_id(entity)),
            ("dokumenttype", kind),
            ("dokumentstatus", "Dokumentet er ferdigstilt"),
            ("tittel", title),
            ("opprettetDato", when),
            ("opprettetAv", SYSTEM),
            ("tilknyttetRegistreringSom", role),
            ("dokumentnummer", number),
            ("tilknyttetDato", when),
            ("tilknyttetAv", SYSTEM),
        ):
            _sub(document, name, text)
        obj = _sub(document, "dokumentobjekt")
        for name, text in _fields(
            ("versjonsnummer", 1),
            ("variantformat", "Arkivformat"),
            ("format", file_format),
            ("opprettetDato", when),
            ("opprettetAv", SYSTEM),
            ("referanseDokumentfil", filename),
            ("sjekksum", hashlib.sha256(content).hexdigest()),
            ("sjekksumAlgoritme", "SHA256"),
            ("filstoerrelse", len(content)),
        ):
            _sub(obj, name, text)
    for name, text in _fields(
        ("saksaar", year.rpartition("-")[2] if year else case.opened_at.year),
        ("sakssekvensnummer", int(sequence) if sequence.isdigit() else case.pk),
        ("saksdato", timezone.localdate(case.opened_at).isoformat()),
        ("administrativEnhet", case.coordinator_agency.name),
        ("saksansvarlig", case.coordinator_agency.name),
        ("saksstatus", "Avsluttet"),
    ):
        _sub(folder, name, text)
    xml = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    validate(xml)
    return xml


def validate(xml: bytes) -> None:
    """Raise ``etree.DocumentInvalid`` when ``xml`` breaks the schema of the subset."""
    schema = etree.XMLSchema(etree.parse(str(SCHEMA)))
    schema.assertValid(etree.fromstring(xml))


# A package in the folder holds the person's national id and case data: readable by the
# service's user and its group (the archive system that takes it: give the folder that
# group, with the setgid bit, docs/data-protection.md), never by every account on the host,
# whatever the umask. The attachments on disk are the service's alone (0600, settings.py).
PACKAGE_DIR_MODE, PACKAGE_FILE_MODE = 0o750, 0o640


def write_package(export: ArchiveExport) -> None:
    """Build the package of ``export`` and hand it over: posted to ``ARCHIVE_ENDPOINT_URL``
    when one is set (``retention.archive_endpoint``), else written to ``ARCHIVE_EXPORT_DIR``;
    the export is then done (runs in the job's transaction, which holds the export row, so
    a failed delivery leaves it pending for the job's next attempt).

    Either way the package leaves for the archive: one access-log row per data category it
    carries, written before it leaves and in the job's transaction, so a delivery that fails
    rolls its rows back with it and only a package handed over stays logged. A package sent
    whose answer never came may be in the archive: its rows are written again after the
    rollback and kept, and the attempt that then succeeds (same Idempotency-Key: the archive
    takes it once) logs nothing more.

    Every attempt posts the same bytes (``tests/retention/test_archive_endpoint.py::
    test_every_attempt_posts_the_same_package_under_its_key``): an archive keeps the first
    package it took under a key, or refuses the key reused with another body, so an attempt
    after a lost answer must repeat it exactly. The moment it states is the export's order
    (``requested_at``), never the attempt's, and its systemIDs come from the export's
    ``package_key``; and once a package may be in the archive (sent without an answer, or
    the case file about to be corrected while the export waits: ``keep_pending_packages``)
    its bytes are kept on the export and posted again as they are, never rebuilt from a
    case file corrected since. A correction goes as a new export (``replaces``), under its
    own key."""
    case = Case.objects.select_related("person", "coordinator_agency").get(pk=export.case_id)
    name = f"{case.reference}-{export.pk}"
    if archive_endpoint.configured():
        if export.body is not None:  # kept: what the archive may hold under this key
            body, categories = bytes(export.body), tuple(filter(None, export.body_categories.split(",")))
        else:
            body, categories = build_body(export, case)
        item = f"archive-delivery:{export.pk}"
        logged = AccessLog.objects.filter(case=case, item=item).exists()  # by an attempt not answered
        if not logged:
            _log_delivery(case, categories, username="archive-endpoint", item=item)
        try:
            archive_endpoint.deliver(export.pk, name, body, replaces=export.replaces_id)
        except archive_endpoint.ArchiveDeliveryFailed as exc:
            if exc.sent:
                exc.kept_after_rollback = lambda: _keep_sent(export, case, body, categories, logged=logged, item=item)
            raise
        package, digest = f"{name}.zip", hashlib.sha256(body).hexdigest()
    else:
        produced_at = export.requested_at
        made = case_file_package(case, produced_at)
        categories, files = made.categories, _package_files(case, made, produced_at, export)
        xml = files[XML_NAME]
        target = Path(settings.BROBYGGER["ARCHIVE_EXPORT_DIR"])
        partial = target / f".{name}.partial"
        # Left by an attempt that failed or died half-way: only this export's job writes
        # here, and one worker at a time holds it, so the leftover is started again.
        shutil.rmtree(partial, ignore_errors=True)
        target.mkdir(parents=True, exist_ok=True)
        partial.mkdir(mode=PACKAGE_DIR_MODE, exist_ok=False)
        try:
            for filename, content in files.items():
                (partial / filename).write_bytes(content)
                (partial / filename).chmod(PACKAGE_FILE_MODE)
            _log_delivery(case, categories, username="archive-folder", item=f"archive-folder:{export.pk}")
            os.replace(partial, target / name)  # the archive takes the package once it has its name
        except BaseException:
            shutil.rmtree(partial, ignore_errors=True)
            raise
        package, digest = name, hashlib.sha256(xml).hexdigest()
    export.status, export.done_at, export.package, export.sha256 = ArchiveStatus.DONE, timezone.now(), package, digest
    export.body, export.body_categories = None, ""  # the archive has it
    export.save(update_fields=["status", "done_at", "package", "sha256", "body", "body_categories"])


def remove_left_packages(case: Case) -> int:
    """Remove from ``ARCHIVE_EXPORT_DIR`` what the case's exports left there: a package the
    archive never took (it takes one by moving it away) and a ``.partial`` folder an attempt
    that died half-way left (a later attempt of the same export removes it, one that never
    came did not). Called by the erasure, in its transaction: a removal that fails fails the
    erasure, which is tried again. Both hold the person's national id and case file: left,
    they outlived the erasure on disk for good. Returns how many folders went."""
    target = Path(settings.BROBYGGER["ARCHIVE_EXPORT_DIR"])
    removed = 0
    for export_id in ArchiveExport.objects.filter(case=case).values_list("pk", flat=True):
        name = f"{case.reference}-{export_id}"
        for path in (target / name, target / f".{name}.partial"):
            if path.is_symlink() or not path.is_dir():
                continue  # only what ``write_package`` made: a folder of that name
            shutil.rmtree(path)
            removed += 1
            # Taken by the archive, a package is not there: tell the operator one was not.
            kind = "package not taken" if path.name == name else "partial package"
            log.warning("archive export %s: %s removed with the erasure", export_id, kind)
    return removed


def build_body(export: ArchiveExport, case: Case) -> tuple[bytes, tuple[str, ...]]:
    """The zipped package of ``export`` as the case stands now, and the categories it carries."""
    produced_at = export.requested_at
    made = case_file_package(case, produced_at)
    name = f"{case.reference}-{export.pk}"
    files = _package_files(case, made, produced_at, export)
    return archive_endpoint.zip_package(name, files, produced_at), made.categories


def _package_files(case: Case, made: CaseFile, produced_at: datetime, export: ArchiveExport) -> dict[str, bytes]:
    """The package's files by name: the case file, the whole timeline and every note when it
    has them (their schemas checked), and the metadata describing them (checked too)."""
    files = {PDF_NAME: made.pdf}
    if made.events is not None:
        case_file_timeline.validate_events(made.events)
        files[EVENTS_NAME] = made.events
    if made.notes is not None:
        case_file_notes.validate_notes(made.notes)
        files[NOTES_NAME] = made.notes
    files[XML_NAME] = arkivstruktur(case, made.pdf, produced_at, export.package_key, made.events, made.notes)
    return files


def _keep(export: ArchiveExport, body: bytes, categories) -> None:
    ArchiveExport.objects.filter(pk=export.pk).update(
        body=body, body_categories=",".join(categories), sha256=hashlib.sha256(body).hexdigest()
    )


def _keep_sent(export: ArchiveExport, case: Case, body: bytes, categories, *, logged: bool, item: str) -> None:
    """A package sent whose answer never came may be in the archive: its delivery stays
    logged, and its bytes are kept for the next attempt under the same key."""
    if not logged:
        _log_delivery(case, categories, username="archive-endpoint", item=item)
    _keep(export, body, categories)


def keep_pending_packages(case: Case) -> list[ArchiveExport]:
    """Before the case file of ``case`` (held) changes: each export of it still pending keeps
    the package as it stands now, the bytes an attempt may already have posted under its key
    (a worker killed after posting leaves no trace), so every later attempt posts them again
    and the archive never holds two versions under one key. The change then goes to the
    archive as a new export. Nothing to keep without an endpoint (a folder is written
    whole or not at all). Returns the exports pending."""
    pending = list(
        ArchiveExport.objects.select_for_update(of=("self",))
        .filter(case=case, status=ArchiveStatus.PENDING)
        .exclude(job__status=JobStatus.FAILED)
        .order_by("pk")
    )
    if archive_endpoint.configured():
        for export in pending:
            if export.body is None:
                _keep(export, *build_body(export, case))
    return pending


def _log_delivery(case: Case, categories, *, username: str, item: str) -> None:
    # A disclosure to another system, no person's: ``username`` says where the package went.
    policy.log_system_export(
        case,
        username=username,
        agency_id=case.coordinator_agency_id,
        categories=categories,
        basis=permission_rules.BASIS_ARCHIVE_DUTY,
        item=item,
        role=permission_rules.ROLE_ARCHIVE,
    )
