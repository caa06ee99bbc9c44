"""Archive export of a closed case: a PDF/A case file and Noark 5 metadata that validates
against the subset's schema, written by a worker through the job table; recorded on the
case and in the access log; afterwards the case may be erased on request."""

import hashlib
import os
import re
import stat
import zlib
from pathlib import Path

import pytest
from django.utils import timezone
from lxml import etree

from permissions.models import AccessLog, Consent
from retention import archive
from retention.archive import EVENTS_NAME, NOARK, PDF_NAME, XML_NAME, validate
from retention.models import ArchiveExport, ArchiveStatus, RetentionRule
from workflows.jobs import handlers
from workflows.models import Case, CaseOutcome, Job, JobKind, JobStatus

from .helpers import ECONOMY_VALUE, HEALTH_VALUE, JUSTICE_VALUE, NAME, NATIONAL_ID, api, erase, full_prison_case
from .pdfa import preflight_errors, structure_problems, text_of
from .test_case_file_dates import MONTHS

pytestmark = pytest.mark.postgres

# What the outcome and the consent of ``case_with_outcome`` write, each found nowhere else
# in its case file: the outcome's kind and reason (housing), the case's first event and the
# consent's legal basis (coordination).
OUTCOME_KIND, OUTCOME_REASON = "Flyttet fra kommunen", "Bor hos broren i Vardø"
FIRST_EVENT, CONSENT_BASIS = "Sak opprettet", "forvaltningsloven § 13 a nr. 1"


def xmp_of(pdf: bytes) -> str:
    """The PDF's XMP metadata (its streams decompressed)."""
    texts = []
    for stream in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S):
        try:
            texts.append(zlib.decompress(stream).decode("utf-8", "replace"))
        except zlib.error:
            texts.append(stream.decode("utf-8", "replace"))
    return next(text for text in texts if "pdfaid" in text)


def test_a_closed_case_is_exported_then_may_be_erased(closed_case, users, settings, tmp_path):
    settings.BROBYGGER = {**settings.BROBYGGER, "ARCHIVE_EXPORT_DIR": str(tmp_path)}
    assert erase(users["bjorn"], closed_case).status_code == 409  # the archive duty
    answer = api(users["bjorn"]).post(f"/api/v1/cases/{closed_case.pk}/archive-export/")
    assert answer.status_code == 202 and answer.json()["status"] == "pending"
    assert api(users["bjorn"]).post(f"/api/v1/cases/{closed_case.pk}/archive-export/").status_code == 409
    assert Job.objects.filter(kind=JobKind.ARCHIVE_EXPORT, case=closed_case).count() == 1
    assert handlers.run_one("test") == 1

    export = ArchiveExport.objects.get(case=closed_case)
    assert export.status == ArchiveStatus.DONE and export.requested_by == users["bjorn"]
    package = Path(tmp_path) / export.package
    assert sorted(p.name for p in package.iterdir()) == sorted([PDF_NAME, EVENTS_NAME, XML_NAME])
    assert not list(Path(tmp_path).glob(".*partial"))
    xml, pdf = (package / XML_NAME).read_bytes(), (package / PDF_NAME).read_bytes()
    validate(xml)  # the package's metadata follows the schema
    assert hashlib.sha256(xml).hexdigest() == export.sha256
    tree = etree.fromstring(xml)
    ns = {"n": NOARK}
    assert tree.findtext(".//n:mappe/n:mappeID", namespaces=ns) == closed_case.reference
    assert tree.findtext(".//n:dokumentobjekt/n:sjekksum", namespaces=ns) == hashlib.sha256(pdf).hexdigest()
    assert int(tree.findtext(".//n:dokumentobjekt/n:filstoerrelse", namespaces=ns)) == len(pdf)
    # PDF/A-1b: the identification in its XMP metadata (the full check: the test below)
    assert pdf.startswith(b"%PDF-")
    xmp = xmp_of(pdf)
    assert re.search(r"pdfaid:part[^0-9]*1", xmp) and re.search(r"pdfaid:conformance[^A-Z]*B", xmp)
    assert tree.findtext(".//n:dokumentobjekt/n:format", namespaces=ns) == "PDF/A-1b"
    # recorded in the access log as an export: the coordinator's order, and the package's
    # arrival in the folder (the categories it carries: the next test)
    row = AccessLog.objects.get(case=closed_case, action="export", user__isnull=False)
    assert (row.username, row.item) == ("bjorn", f"archive-export:{export.pk}")
    assert AccessLog.objects.filter(case=closed_case, item=f"archive-folder:{export.pk}").exists()
    # the archive duty is met: the case may now be erased on request
    assert erase(users["bjorn"], closed_case).status_code == 201


def test_the_folder_export_logs_each_category_the_package_carries_and_no_other(
    carrying_case, users, settings, tmp_path
):
    """Before, a package written to the folder left no access-log row at all, though it
    carries the case file's every category to the archive."""
    settings.BROBYGGER = {**settings.BROBYGGER, "ARCHIVE_EXPORT_DIR": str(tmp_path)}
    assert api(users["bjorn"]).post(f"/api/v1/cases/{carrying_case.pk}/archive-export/").status_code == 202
    assert handlers.run_one("test") == 1
    export = ArchiveExport.objects.get(case=carrying_case, status=ArchiveStatus.DONE)

    rows = list(AccessLog.objects.filter(case=carrying_case, item=f"archive-folder:{export.pk}"))
    # the person, the case file's fields (housing, health, economy), the timeline (coordination);
    # not justice: the case holds a release date, but justice is not in the case file
    assert sorted(row.category for row in rows) == ["coordination", "economy", "health", "housing", "identity"]
    for row in rows:
        assert (row.user_id, row.username, row.action, row.basis) == (None, "archive-folder", "export", "archive-duty")
        assert (row.agency_id, row.person_id) == (carrying_case.coordinator_agency_id, carrying_case.person_id)
        written = " ".join(str(value) for value in vars(row).values())
        assert not any(value in written for value in (HEALTH_VALUE, ECONOMY_VALUE, JUSTICE_VALUE, NATIONAL_ID))
    # what is logged is what the package holds
    text = text_of((Path(tmp_path) / export.package / PDF_NAME).read_bytes())
    assert HEALTH_VALUE in text and ECONOMY_VALUE in text and JUSTICE_VALUE not in text


def test_the_package_in_the_folder_is_not_readable_by_every_account_on_the_host(closed_case, users, settings, tmp_path):
    """The case file carries the national id: under the usual umask (022) it was written
    0644 in a 0755 folder, readable by any account on the host. Now the service and its group
    (the archive system's, given to the folder) only."""
    settings.BROBYGGER = {**settings.BROBYGGER, "ARCHIVE_EXPORT_DIR": str(tmp_path / "archive")}
    assert api(users["bjorn"]).post(f"/api/v1/cases/{closed_case.pk}/archive-export/").status_code == 202
    umask = os.umask(0o022)
    try:
        assert handlers.run_one("test") == 1
    finally:
        os.umask(umask)
    package = tmp_path / "archive" / ArchiveExport.objects.get(case=closed_case, status=ArchiveStatus.DONE).package
    modes = {path.name: stat.S_IMODE(path.stat().st_mode) for path in [package, *package.iterdir()]}
    assert modes == {package.name: 0o750, PDF_NAME: 0o640, EVENTS_NAME: 0o640, XML_NAME: 0o640}


def test_a_folder_export_that_fails_logs_nothing(closed_case, users, settings, tmp_path):
    """The rows are written before the package gets its name in the folder, in the job's
    transaction: a package that never arrived rolls them back."""
    settings.BROBYGGER = {**settings.BROBYGGER, "ARCHIVE_EXPORT_DIR": str(tmp_path)}
    api(users["bjorn"]).post(f"/api/v1/cases/{closed_case.pk}/archive-export/")
    export = ArchiveExport.objects.get(case=closed_case)
    (Path(tmp_path) / f"{closed_case.reference}-{export.pk}" / "taken").mkdir(parents=True)  # its name is taken
    assert handlers.run_one("test") == 1
    job = Job.objects.get(pk=export.job_id)
    assert (job.status, job.attempts) == (JobStatus.PENDING, 1)
    assert ArchiveExport.objects.get(pk=export.pk).status == ArchiveStatus.PENDING
    assert not AccessLog.objects.filter(case=closed_case, user__isnull=True).exists()


def test_a_folder_export_that_failed_is_delivered_when_tried_again(closed_case, users, settings, tmp_path):
    """A failed attempt (here: the package's name taken) leaves its half-written folder
    behind; the next attempt starts that folder again instead of failing on it for ever."""
    settings.BROBYGGER = {**settings.BROBYGGER, "ARCHIVE_EXPORT_DIR": str(tmp_path)}
    api(users["bjorn"]).post(f"/api/v1/cases/{closed_case.pk}/archive-export/")
    export = ArchiveExport.objects.get(case=closed_case)
    taken = Path(tmp_path) / f"{closed_case.reference}-{export.pk}"
    (taken / "taken").mkdir(parents=True)
    assert handlers.run_one("test") == 1
    assert ArchiveExport.objects.get(pk=export.pk).status == ArchiveStatus.PENDING
    (taken / "taken").rmdir()
    taken.rmdir()  # the operator frees the name
    Job.objects.filter(pk=export.job_id).update(due_at=timezone.now())
    assert handlers.run_one("test") == 1
    export.refresh_from_db()
    assert export.status == ArchiveStatus.DONE
    assert sorted(path.name for path in taken.iterdir()) == sorted([PDF_NAME, EVENTS_NAME, XML_NAME])
    assert [path.name for path in Path(tmp_path).iterdir()] == [taken.name]  # no half-written folder left


def test_the_schema_refuses_a_package_that_breaks_it(closed_case, users, settings, tmp_path):
    settings.BROBYGGER = {**settings.BROBYGGER, "ARCHIVE_EXPORT_DIR": str(tmp_path)}
    api(users["bjorn"]).post(f"/api/v1/cases/{closed_case.pk}/archive-export/")
    handlers.run_one("test")
    export = ArchiveExport.objects.get(case=closed_case)
    xml = (Path(tmp_path) / export.package / XML_NAME).read_bytes()
    broken = xml.replace(b"<sjekksum>", b"<sjekksum>zz", 1)
    with pytest.raises(etree.DocumentInvalid):
        validate(broken)
    assert NAME.encode() not in xml and NATIONAL_ID.encode() not in xml  # metadata names no person


def test_the_case_file_names_the_person_as_the_case_does(closed_case, monkeypatch):
    """The case file gives the case's own name (``Case.person_name``), not the person row's."""
    Case.objects.filter(pk=closed_case.pk).update(person_name="Tore Eriksen")
    closed_case.refresh_from_db()
    rendered = {}

    class Rendered(Exception):
        pass

    def html(string, **_fetching):
        rendered["html"] = string
        raise Rendered

    monkeypatch.setattr(archive.weasyprint, "HTML", html)
    with pytest.raises(Rendered):
        archive.case_file(closed_case, timezone.now())
    assert f"Person: Tore Eriksen, fødselsnummer {NATIONAL_ID}" in rendered["html"]
    assert NAME not in rendered["html"]


@pytest.mark.parametrize(
    ("username", "expected"),
    [("kari", 403), ("nils", 403), ("aud", 403), ("ada", 404), ("siri", 404), ("oscar", 404)],
)
def test_nobody_but_the_coordinator_exports(closed_case, users, username, expected):
    assert api(users[username]).post(f"/api/v1/cases/{closed_case.pk}/archive-export/").status_code == expected
    assert not ArchiveExport.objects.exists() and not Job.objects.filter(kind=JobKind.ARCHIVE_EXPORT).exists()


def test_a_full_case_s_case_file_is_valid_pdf_a_1b_with_its_forms_timeline_consents_and_outcome(
    shipped, users, agencies, monkeypatch, settings, tmp_path
):
    """The archive takes PDF/A-1 (riksarkivarens forskrift: ISO 19005-1, 1a or 1b); Apache
    PDFBox Preflight validates the whole file against ISO 19005-1, pypdf its structure."""
    settings.BROBYGGER = {**settings.BROBYGGER, "ARCHIVE_EXPORT_DIR": str(tmp_path)}
    case = full_prison_case(users, agencies, monkeypatch)
    assert api(users["bjorn"]).post(f"/api/v1/cases/{case.pk}/archive-export/").status_code == 202
    assert handlers.run_one("test") == 1
    export = ArchiveExport.objects.get(case=case, status=ArchiveStatus.DONE)
    path = Path(tmp_path) / export.package / PDF_NAME
    pdf = path.read_bytes()

    assert structure_problems(pdf) == []
    assert preflight_errors(path) == []
    text = text_of(pdf)
    assert f"Person: {NAME}, fødselsnummer {NATIONAL_ID}" in text  # identity is in the case file
    assert "Tidslinje" in text  # the timeline
    assert "forvaltningsloven § 13 a nr. 1" in text  # the consent's legal basis
    outcome = case.outcome
    assert outcome.kind.label in text  # the outcome
    # written for the archive's reader, in bokmål: the process by its name, each field by its
    # title in the form, a choice by its label, yes and no in words, categories in words
    assert "Sak opprettet" in text and "Case started" not in text
    assert "Løslatelse fra fengsel" in text and "prison_release_to_housing" not in text
    assert "Bosituasjon ved innsettelse Bolig Eier egen bolig" in text
    assert "housing_situation" not in text and "eid_bolig" not in text and "False" not in text
    assert "Kommunal utleiebolig" in text and "Municipal rental home" not in text
    assert f"Møtte {NAME} Rettet" in text  # the coordinator's note, corrected, with its earlier text


@pytest.fixture
def case_with_outcome(closed_case, agencies, outcome_kinds, legal_bases):
    """The closed case with an outcome (its reason in free text) and a consent."""
    CaseOutcome.objects.create(
        case=closed_case,
        kind=outcome_kinds["flyttet_fra_kommunen"],
        reason=OUTCOME_REASON,
        referral_date=timezone.localdate(closed_case.opened_at),
        closed_date=timezone.localdate(closed_case.closed_at),
    )
    Consent.objects.create(
        person=closed_case.person,
        case=closed_case,
        agency=agencies["nav"],
        categories=["housing", "economy"],
        purpose="Bolig",
        legal_basis=legal_bases[CONSENT_BASIS],
    )
    return closed_case


def leave_out_of_the_case_file(case, category: str) -> None:
    """The process's rule for ``category``: kept as by default, but not in the case file."""
    RetentionRule.objects.create(
        process_key=case.process_key, category=category, keep_years=5, access_log_years=5, legal_basis="Arkivplan"
    )


def export_to_folder(case, users, settings, tmp_path) -> tuple[str, list[str]]:
    """Export ``case`` to the folder: the text of its case file and the categories of its
    delivery's access-log rows."""
    settings.BROBYGGER = {**settings.BROBYGGER, "ARCHIVE_EXPORT_DIR": str(tmp_path)}
    assert api(users["bjorn"]).post(f"/api/v1/cases/{case.pk}/archive-export/").status_code == 202
    assert handlers.run_one("test") == 1
    export = ArchiveExport.objects.get(case=case, status=ArchiveStatus.DONE)
    text = text_of((Path(tmp_path) / export.package / PDF_NAME).read_bytes())
    rows = AccessLog.objects.filter(case=case, item=f"archive-folder:{export.pk}")
    return text, sorted(rows.values_list("category", flat=True))


def assert_carried_by_default(case) -> None:
    """Under the default rules the case file carries the outcome, the timeline and the
    consents, and says of neither that it is left out: what the rule below takes away."""
    pdf, categories = archive.case_file(case, timezone.now())
    text = text_of(pdf)
    assert OUTCOME_KIND in text and OUTCOME_REASON in text
    assert FIRST_EVENT in text and CONSENT_BASIS in text
    assert "bolig, økonomi" in text and "housing, economy" not in text  # the consent's categories in words
    assert "hører ikke til saksmappen" not in text
    assert categories == ("identity", "housing", "coordination")


def test_housing_left_out_of_the_case_file_leaves_out_the_outcome(case_with_outcome, users, settings, tmp_path):
    """Before, the outcome (housing data, a free-text reason among them) went into every
    case file and housing into its access log, whatever the process's rules said."""
    assert_carried_by_default(case_with_outcome)
    leave_out_of_the_case_file(case_with_outcome, "housing")
    text, categories = export_to_folder(case_with_outcome, users, settings, tmp_path)
    assert OUTCOME_KIND not in text and OUTCOME_REASON not in text
    assert "Boligopplysninger hører ikke til saksmappen." in text
    assert FIRST_EVENT in text and CONSENT_BASIS in text  # coordination still is in it
    assert categories == ["coordination", "identity"]


def test_coordination_left_out_of_the_case_file_leaves_out_the_timeline_and_consents(
    case_with_outcome, users, settings, tmp_path
):
    """Before, the timeline and the consents went into every case file and coordination
    into its access log, whatever the process's rules said."""
    assert_carried_by_default(case_with_outcome)
    leave_out_of_the_case_file(case_with_outcome, "coordination")
    text, categories = export_to_folder(case_with_outcome, users, settings, tmp_path)
    assert FIRST_EVENT not in text and CONSENT_BASIS not in text and "Tidslinje" not in text
    assert "Samordningsopplysninger hører ikke til saksmappen." in text
    assert OUTCOME_KIND in text and OUTCOME_REASON in text  # housing still is in it
    # the fact of the case stays: its reference, its process by name, its dates
    assert case_with_outcome.reference in text and "Løslatelse fra fengsel" in text
    opened = timezone.localdate(case_with_outcome.opened_at)
    assert f"Åpnet {opened.day}. {MONTHS[opened.month - 1]} {opened.year}" in text
    # The fact of the case heading the file (its process by name) is coordination data: logged.
    assert categories == ["coordination", "housing", "identity"]


def test_a_consent_to_every_agency_of_a_kind_names_the_kind_in_the_case_file(closed_case, legal_bases):
    """Until 2026-12-07 the case file named such a recipient by its code ("health")."""
    Consent.objects.create(
        person=closed_case.person,
        case=closed_case,
        agency_kind="health",
        categories=["housing"],
        purpose="Bolig",
        legal_basis=legal_bases[CONSENT_BASIS],
    )
    text = text_of(archive.case_file(closed_case, timezone.now())[0])
    # The consents' table: recipient, categories, legal basis.
    assert re.search(rf"Helse\s+bolig\s+{re.escape(CONSENT_BASIS)}", text), text
    assert "health" not in text
