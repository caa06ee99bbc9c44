"""A note or an attachment corrected or withdrawn after its case closed (GDPR art. 16 reaches
past the close: the agency that wrote it still corrects it), once the archive has the case
file or an export of it waits: the case file, whose timeline lists the change, goes to the
archive again as a new export naming the one it replaces, and the case is not erased until
the archive has it. Until 2026-12-07 the change was made and the archive kept the case file
without it, and the erasure went ahead on the old export."""

import hashlib
import io
import threading
import time
import zipfile
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from lxml import etree

from permissions.models import AccessLog, Membership, Role
from retention import archive, case_file_notes
from retention.archive import PDF_NAME
from retention.case_file_notes import NOTES_NAME, NOTES_NAMESPACE
from retention.erasure import erase_case
from retention.models import ArchiveExport, ArchiveStatus, ErasureTrigger, RetentionRule
from retention.rules import unmet_archive_duty
from tests.clients import api, web
from tests.threads import all_at_once
from tests.workflows.helpers import PERSON, PRISON_PARTICIPANTS
from workflows import services
from workflows.jobs import handlers
from workflows.models import Case, CaseStatus, Event, EventKind
from workflows.notes import Attachment, Note

from .pdfa import text_of
from .test_archive_endpoint import Archive
from .test_case_file_dates import in_words

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90wS\xde"
ERASURE_REASON = "Personen ba om sletting; arkivet har saksmappen"


def member(agencies, kind, role, username):
    user = get_user_model().objects.create_user(username)
    Membership.objects.create(user=user, agency=agencies[kind], role=role)
    return user


@pytest.fixture
def people(agencies):
    return {
        "prison": member(agencies, "prison", Role.MEMBER, "fengsel-etter-avslutning"),
        "coordinator": member(agencies, "housing", Role.COORDINATOR, "boligkoordinator-etter-avslutning"),
        "nav": member(agencies, "nav", Role.MEMBER, "nav-etter-avslutning"),
    }


@pytest.fixture
def folder(settings, tmp_path):
    settings.BROBYGGER = {**settings.BROBYGGER, "ARCHIVE_EXPORT_DIR": str(tmp_path)}
    return tmp_path


@pytest.fixture
def closing(shipped, agencies, people):
    """An open prison case with a housing note by the coordinator, an economy note by NAV and
    a file by NAV; ``close()`` closes it."""
    case = services.start_case(
        actor=people["prison"],
        process_key="prison_release_to_housing",
        person=PERSON,
        participants={kind: agencies[kind].pk for kind in PRISON_PARTICIPANTS},
    )
    notes = reverse("api-case-notes", args=[case.pk])
    housing = api(people["coordinator"]).post(notes, {"text": "Søkt om kommunal bolig"}, format="json")
    economy = api(people["nav"]).post(notes, {"text": "Gjeld til kemneren"}, format="json")
    upload = SimpleUploadedFile("kontrakt.png", PNG, content_type="image/png")
    attached = api(people["nav"]).post(reverse("api-case-attachments", args=[case.pk]), {"file": upload})
    assert (housing.status_code, economy.status_code, attached.status_code) == (201, 201, 201)
    case.housing_note, case.economy_note = housing.json(), economy.json()
    case.attachment = attached.json()
    return case


def close(case) -> Case:
    Case.objects.filter(pk=case.pk).update(status=CaseStatus.COMPLETED, closed_at=timezone.now())
    return case


def export_done(people, case) -> ArchiveExport:
    ordered = api(people["coordinator"]).post(reverse("api-case-archive-export", args=[case.pk]))
    assert ordered.status_code == 202
    assert handlers.run_one("w1") == 1
    export = ArchiveExport.objects.get(pk=ordered.json()["id"])
    assert export.status == ArchiveStatus.DONE and not unmet_archive_duty(case)
    return export


def case_file_text(folder: Path, export: ArchiveExport) -> str:
    return text_of((folder / ArchiveExport.objects.get(pk=export.pk).package / PDF_NAME).read_bytes())


def correct(user, case, note, text, category=None):
    url = reverse("api-note-correct", args=[case.pk, note["id"]])
    body = {"text": text, "version": note["version"], **({"category": category} if category else {})}
    return api(user).post(url, body, format="json")


def test_a_note_corrected_after_the_archive_took_the_case_file_goes_to_it_again(folder, people, closing):
    case = close(closing)
    first = export_done(people, case)
    assert "Notat rettet" not in case_file_text(folder, first)

    answer = correct(people["coordinator"], case, case.housing_note, "Søkt om kommunal bolig i Sarpsborg")
    assert answer.status_code == 200, answer.content
    (again,) = ArchiveExport.objects.filter(case=case, replaces=first)
    assert again.status == ArchiveStatus.PENDING
    # Until the archive has the corrected case file the case is not erased, on request or
    # by the retention job.
    assert unmet_archive_duty(case)
    erasure = api(people["coordinator"]).post(
        reverse("api-case-erasure", args=[case.pk]), {"reason": ERASURE_REASON}, format="json"
    )
    assert erasure.status_code == 409
    # The timeline says the correction was made after the close and went to the archive.
    event = Event.objects.filter(case=case, kind=EventKind.NOTE_CORRECTED).get()
    assert event.detail["after_close"] is True and event.detail["new_case_file"] is True
    page = web(people["coordinator"]).get(reverse("case-section", args=[case.pk, "events"])).content.decode()
    housing = case.coordinator_agency.name
    said = f"Notat rettet ({housing}), etter at saken ble avsluttet; saksmappen er sendt til arkivet på nytt"
    assert said in page, [line for line in page.splitlines() if "Notat" in line]

    assert handlers.run_one("w1") == 1
    assert "Notat rettet" in case_file_text(folder, again)
    assert not unmet_archive_duty(case)
    # The export's order is in the access log as the correcting agency's, on the archive duty.
    row = AccessLog.objects.get(case=case, item=f"archive-export:{again.pk}")
    assert (row.user, row.agency_id, row.basis) == (people["coordinator"], case.coordinator_agency_id, "archive-duty")


def test_a_note_or_file_withdrawn_after_close_on_the_page_or_by_the_api_sends_the_case_file_again(
    folder, people, closing
):
    """A withdrawal is in the case file's timeline whatever the category (the case file shows
    "withdrawn" of a health or economy note too): NAV withdraws its economy note on the page and
    its file through the API, each a new export of the case file."""
    case = close(closing)
    first = export_done(people, case)
    note = Note.objects.get(case=case, category="economy")
    page = web(people["nav"]).post(reverse("note-withdraw", args=[case.pk, case.economy_note["id"]]))
    assert page.status_code in (200, 302)
    assert Note.objects.get(pk=note.pk).is_withdrawn
    (again,) = ArchiveExport.objects.filter(case=case, replaces=first)
    assert handlers.run_one("w1") == 1
    assert "Notat trukket tilbake" in case_file_text(folder, again)

    withdrawn = api(people["nav"]).post(reverse("api-attachment-withdraw", args=[case.pk, case.attachment["id"]]))
    assert withdrawn.status_code == 200, withdrawn.content
    assert Attachment.objects.get(case=case).is_withdrawn
    (third,) = ArchiveExport.objects.filter(case=case, replaces=again)
    assert handlers.run_one("w1") == 1
    assert "Vedlegg trukket tilbake" in case_file_text(folder, third)
    assert not unmet_archive_duty(case)


def test_a_correction_the_case_file_does_not_show_sends_nothing_again(folder, people, closing):
    """NAV corrects its economy note after the close: the case file (identity, housing and
    coordination) masks an economy note's corrections, so it is the same and nothing is sent;
    the correction is made (art. 16), and the archive duty stays met."""
    case = close(closing)
    export_done(people, case)
    answer = correct(people["nav"], case, case.economy_note, "Gjeld til kemneren, betalt")
    assert answer.status_code == 200, answer.content
    assert Note.objects.get(case=case, category="economy").text == "Gjeld til kemneren, betalt"
    assert ArchiveExport.objects.filter(case=case).count() == 1
    event = Event.objects.filter(case=case, kind=EventKind.NOTE_CORRECTED).get()
    assert event.detail["after_close"] is True and "new_case_file" not in event.detail
    assert not unmet_archive_duty(case)


def test_before_any_export_a_correction_after_close_waits_for_the_first(folder, people, closing):
    """No export yet: the change is made and the first export carries it."""
    case = close(closing)
    assert correct(people["coordinator"], case, case.housing_note, "Søkt om bolig, svar i mai").status_code == 200
    assert not ArchiveExport.objects.filter(case=case).exists()
    export = export_done(people, case)
    assert "Notat rettet" in case_file_text(folder, export)


def test_after_the_erasure_no_note_or_file_route_changes_anything(folder, people, closing):
    """Erased by the retention job: every correction or withdrawal of a note or a file, through
    the API or the page, is refused (409, nothing written) and sends nothing to the archive."""
    case = close(closing)
    export_done(people, case)
    Case.objects.filter(pk=case.pk).update(closed_at=timezone.now() - timezone.timedelta(days=30 * 365))
    assert erase_case(case.pk, trigger=ErasureTrigger.RETENTION) is not None
    exports, events = ArchiveExport.objects.count(), Event.objects.filter(case=case).count()
    attempts = [
        correct(people["coordinator"], case, case.housing_note, "Ny tekst"),
        api(people["nav"]).post(reverse("api-note-withdraw", args=[case.pk, case.economy_note["id"]])),
        api(people["nav"]).post(reverse("api-attachment-withdraw", args=[case.pk, case.attachment["id"]])),
    ]
    codes = [answer.json()["code"] for answer in attempts]
    assert [answer.status_code for answer in attempts] == [409, 409, 409]
    assert codes == ["note.erased", "note.erased", "attachment.erased"]
    pages = [
        web(people["coordinator"]).post(
            reverse("note-correct", args=[case.pk, case.housing_note["id"]]),
            {"text": "Ny tekst", "version": 1},
            follow=True,
        ),
        web(people["nav"]).post(reverse("note-withdraw", args=[case.pk, case.economy_note["id"]]), follow=True),
        web(people["nav"]).post(reverse("attachment-withdraw", args=[case.pk, case.attachment["id"]]), follow=True),
    ]
    said = [[str(message) for message in page.context["messages"]] for page in pages]
    assert said == [
        ["notatets tekst ble slettet sammen med sakens opplysninger"],
        ["notatets tekst ble slettet sammen med sakens opplysninger"],
        ["vedleggets fil ble slettet sammen med sakens opplysninger"],
    ]
    assert (ArchiveExport.objects.count(), Event.objects.filter(case=case).count()) == (exports, events)
    assert not Note.objects.filter(case=case).exclude(text="").exists()
    assert not Note.objects.filter(case=case, withdrawn_at__isnull=False).exists()
    assert not Attachment.objects.filter(case=case, withdrawn_at__isnull=False).exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_correction_while_the_export_job_builds_the_case_file_goes_to_the_archive_after_it(
    monkeypatch, folder, people, closing
):
    """The export job holds the case while it builds and delivers the case file; a correction
    made meanwhile waits for it and then sends the case file again: the archive never ends with
    a case file missing it. (Without the lock the correction landed between build and delivery;
    without the new export the archive kept the case file built before it.)"""
    case = close(closing)
    ordered = api(people["coordinator"]).post(reverse("api-case-archive-export", args=[case.pk]))
    first = ArchiveExport.objects.get(pk=ordered.json()["id"])
    build = archive.case_file_package
    # The correction starts once the job holds the case (it builds under the lock): released
    # together, under load the correction could win the race and land before the build.
    holding = threading.Event()

    def build_while_a_correction_waits(*args, **kwargs):
        holding.set()
        built = build(*args, **kwargs)
        with connection.cursor() as cursor:  # the correction is blocked on the case row
            for _ in range(300):
                # this test database's sessions only: CI runs other tests beside it
                cursor.execute(
                    "select count(*) from pg_locks l join pg_stat_activity a on a.pid = l.pid"
                    " where not l.granted and a.datname = current_database()"
                )
                if cursor.fetchone()[0]:
                    break
                time.sleep(0.05)
            else:
                raise AssertionError("the correction did not wait for the export job")
        return built

    def correct_once_the_job_holds_the_case():
        assert holding.wait(60)
        return correct(people["coordinator"], case, case.housing_note, "Søkt om bolig, svar i mai").status_code

    monkeypatch.setattr(archive, "case_file_package", build_while_a_correction_waits)
    ran, corrected = all_at_once([lambda: handlers.run_one("w1"), correct_once_the_job_holds_the_case])
    assert (ran, corrected) == (1, 200)
    assert ArchiveExport.objects.get(pk=first.pk).status == ArchiveStatus.DONE
    assert "Notat rettet" not in case_file_text(folder, first)
    monkeypatch.setattr(archive, "case_file_package", build)
    (again,) = ArchiveExport.objects.filter(case=case, replaces=first)
    assert handlers.run_one("w1") == 1
    assert "Notat rettet" in case_file_text(folder, again)
    assert not unmet_archive_duty(case)


@pytest.mark.postgres
def test_a_note_corrected_while_an_export_waits_keeps_its_package_and_sends_the_new_one_after(
    settings, tmp_path, people, closing
):
    """Posted to the archive's endpoint: an export waiting when the note is corrected (its post
    may already be in the archive, its answer lost) keeps its package as it stood and posts those
    bytes under its key; the corrected case file goes under a new key naming it."""
    server = Archive()
    settings.BROBYGGER = {
        **settings.BROBYGGER,
        "ARCHIVE_EXPORT_DIR": str(tmp_path),
        "ARCHIVE_ENDPOINT_URL": server.url,
        "ARCHIVE_ENDPOINT_SECRET": "arkiv-etter-avslutning",
        "ARCHIVE_ENDPOINT_ALLOWED_NETWORKS": ["127.0.0.1/32"],
    }
    try:
        case = close(closing)
        ordered = api(people["coordinator"]).post(reverse("api-case-archive-export", args=[case.pk]))
        first = ArchiveExport.objects.get(pk=ordered.json()["id"])
        assert correct(people["coordinator"], case, case.housing_note, "Søkt om bolig, svar i mai").status_code == 200
        assert ArchiveExport.objects.get(pk=first.pk).body is not None  # kept as it stood
        (again,) = ArchiveExport.objects.filter(case=case, replaces=first)
        assert handlers.run_one("w1") == 1 and handlers.run_one("w1") == 1
        (first_headers, first_body), (headers, body) = server.posts
        assert first_headers["Idempotency-Key"] == f"archive-export-{first.pk}"
        assert headers["Idempotency-Key"] == f"archive-export-{again.pk}"
        assert headers["X-Brobygger-Replaces"] == f"archive-export-{first.pk}"
        assert "Notat rettet" not in text_of(pdf_in(first_body)) and "Notat rettet" in text_of(pdf_in(body))
        assert not unmet_archive_duty(case)
    finally:
        server.close()


def pdf_in(body: bytes) -> bytes:
    with zipfile.ZipFile(io.BytesIO(body)) as package:
        (name,) = [name for name in package.namelist() if name.endswith(PDF_NAME)]
        return package.read(name)


def test_a_note_whose_writer_left_is_corrected_after_close_by_the_agencys_lead_and_goes_to_the_archive_again(
    folder, agencies, people, closing
):
    """The housing coordinator who wrote the note has left the agency when the error is found,
    after the close: the agency's lead corrects it on the agency's behalf, on the author's
    terms, and the archive gets the case file again, as for the author (until 2026-12-07 only
    the author could correct a note, so this one could never be)."""
    case = close(closing)
    first = export_done(people, case)
    lead = member(agencies, "housing", Role.LEAD, "boligleder-etter-avslutning")
    refused = correct(lead, case, case.housing_note, "Søkt om kommunal bolig i Sarpsborg")
    assert (refused.status_code, refused.json()["code"]) == (403, "note.author_still_acts")
    Membership.objects.filter(user=people["coordinator"]).delete()

    answer = correct(lead, case, case.housing_note, "Søkt om kommunal bolig i Sarpsborg")
    assert answer.status_code == 200, answer.content
    (again,) = ArchiveExport.objects.filter(case=case, replaces=first)
    assert unmet_archive_duty(case)
    event = Event.objects.filter(case=case, kind=EventKind.NOTE_CORRECTED).get()
    assert event.actor == lead
    assert event.detail == {
        "note": case.housing_note["id"],
        "category": "housing",
        "after_close": True,
        "new_case_file": True,
        "on_behalf_of_agency": True,
    }
    assert handlers.run_one("w1") == 1
    assert "Notat rettet" in case_file_text(folder, again)
    assert not unmet_archive_duty(case)
    row = AccessLog.objects.get(case=case, item=f"archive-export:{again.pk}")
    assert (row.user, row.agency_id, row.role) == (lead, agencies["housing"].pk, Role.LEAD)


# --- the notes in the case file -----------------------------------------------------------------
# A note is case data of its category written by its agency: the notes of the categories the
# process's rules put in the case file are in it, as its fields are (journalføring: the housing
# office's notes of a case are its case documents). Until 2026-12-07 the case file carried no
# note at all, only their events on the timeline.


def write(user, case, text, category=None):
    body = {"text": text, **({"category": category} if category else {})}
    answer = api(user).post(reverse("api-case-notes", args=[case.pk]), body, format="json")
    assert answer.status_code == 201, answer.content
    return answer.json()


def test_the_case_file_carries_the_notes_of_its_categories_with_agency_time_and_earlier_texts(folder, people, closing):
    """The coordinator's housing note, corrected, is there as it reads now, with its agency, its
    time in Oslo words and its earlier text; a withdrawn note is there as withdrawn, without
    its text; NAV's economy note is not (economy is not in the case file by default), and the
    delivery logs the categories of what it shows."""
    coordinator = people["coordinator"]
    answer = correct(coordinator, closing, closing.housing_note, "Søkt om kommunal bolig i Sarpsborg")
    assert answer.status_code == 200, answer.content
    write(coordinator, closing, '<img src="http://10.0.0.1/x"> Møte 3. mars & svar', category="coordination")
    wrong = write(coordinator, closing, "Skrevet i feil sak om en annen person", category="coordination")
    withdrawn = api(coordinator).post(reverse("api-note-withdraw", args=[closing.pk, wrong["id"]]))
    assert withdrawn.status_code == 200, withdrawn.content
    case = close(closing)
    export = export_done(people, case)
    text = case_file_text(folder, export)

    housing_note = Note.objects.get(pk=case.housing_note["id"])
    (earlier,) = housing_note.revisions.all()
    agency = case.coordinator_agency.name
    assert (
        f"{in_words(housing_note.created_at)} · {agency} · Bolig Søkt om kommunal bolig i Sarpsborg "
        f"Rettet {in_words(housing_note.corrected_at)} (versjon 2). "
        f"Versjon 1, skrevet {in_words(earlier.written_at)} (bolig), erstattet {in_words(earlier.replaced_at)}: "
        "Søkt om kommunal bolig"
    ) in text, text
    gone = Note.objects.get(pk=wrong["id"])
    said = f"{in_words(gone.created_at)} · {agency} · Samordning Trukket tilbake {in_words(gone.withdrawn_at)}"
    assert said in text
    assert "feil sak" not in text and "annen person" not in text
    assert '<img src="http://10.0.0.1/x"> Møte 3. mars & svar' in text  # a text, printed as written
    assert "Gjeld til kemneren" not in text and "Økonomi" not in text
    assert "Notater i kategoriene som hører til saksmappen (bolig, samordning)" in text
    rows = AccessLog.objects.filter(case=case, item=f"archive-folder:{export.pk}")
    assert sorted(rows.values_list("category", flat=True)) == ["coordination", "housing", "identity"]


def test_a_note_s_category_decides_as_a_field_s_whether_it_is_in_the_case_file(folder, people, closing):
    """With economy in the process's case file, NAV's economy note is in it and the delivery logs
    economy; with housing left out, the coordinator's housing note is not."""
    RetentionRule.objects.create(
        process_key=closing.process_key,
        category="economy",
        keep_years=5,
        access_log_years=5,
        in_case_file=True,
        legal_basis="Arkivplan",
    )
    RetentionRule.objects.create(
        process_key=closing.process_key, category="housing", keep_years=5, access_log_years=5, legal_basis="Arkivplan"
    )
    case = close(closing)
    export = export_done(people, case)
    text = case_file_text(folder, export)
    assert f"{people['nav'].memberships.get().agency.name} · Økonomi Gjeld til kemneren" in text
    assert "Søkt om kommunal bolig" not in text
    rows = AccessLog.objects.filter(case=case, item=f"archive-folder:{export.pk}")
    assert "economy" in set(rows.values_list("category", flat=True))


def test_a_note_corrected_or_withdrawn_after_close_goes_to_the_archive_again_though_coordination_is_left_out(
    folder, people, closing
):
    """Coordination left out of the case file, its timeline lists no change; but the note is in
    it (housing), so its correction and its withdrawal each send the case file again: the
    archive has the corrected text, then the note as withdrawn. (Until 2026-12-07 neither went:
    the case file listed notes only on the timeline.)"""
    RetentionRule.objects.create(
        process_key=closing.process_key,
        category="coordination",
        keep_years=5,
        access_log_years=5,
        legal_basis="Arkivplan",
    )
    case = close(closing)
    first = export_done(people, case)
    assert "Søkt om kommunal bolig" in case_file_text(folder, first)

    answer = correct(people["coordinator"], case, case.housing_note, "Søkt om kommunal bolig i Sarpsborg")
    assert answer.status_code == 200, answer.content
    (again,) = ArchiveExport.objects.filter(case=case, replaces=first)
    assert unmet_archive_duty(case)
    event = Event.objects.filter(case=case, kind=EventKind.NOTE_CORRECTED).get()
    assert event.detail["new_case_file"] is True
    assert handlers.run_one("w1") == 1
    text = case_file_text(folder, again)
    assert "· Bolig Søkt om kommunal bolig i Sarpsborg Rettet" in text
    assert "Samordningsopplysninger hører ikke til saksmappen." in text

    withdrawn = api(people["coordinator"]).post(
        reverse("api-note-withdraw", args=[case.pk, case.housing_note["id"]]), {"version": 2}, format="json"
    )
    assert withdrawn.status_code == 200, withdrawn.content
    (third,) = ArchiveExport.objects.filter(case=case, replaces=again)
    assert handlers.run_one("w1") == 1
    text = case_file_text(folder, third)
    assert "· Bolig Trukket tilbake" in text and "Søkt om kommunal bolig" not in text
    assert not unmet_archive_duty(case)


def test_notater_xml_holds_every_note_of_the_case_file_as_the_pdf_shows_it(folder, people, closing):
    """The package's notater.xml, checked against its schema and listed in arkivstruktur.xml:
    each note of the case file's categories, oldest first, with its time, agency, category and
    version; a corrected one with its text now and each earlier text whose category then is in
    the case file (as the PDF shows them: not the restricted first text); a withdrawn one as
    withdrawn, without any text; NAV's economy note, out of the case file, not at all."""
    coordinator = people["coordinator"]
    moved = write(coordinator, closing, "Skjult merknad om personen", category="restricted")
    answer = correct(coordinator, closing, moved, "Avtalt visning i Storgata", category="housing")
    assert answer.status_code == 200, answer.content
    answer = correct(coordinator, closing, answer.json(), "Avtalt visning i Storgata 12. mars")
    assert answer.status_code == 200, answer.content
    wrong = write(coordinator, closing, "Skrevet i feil sak om en annen person", category="coordination")
    withdrawn = api(coordinator).post(reverse("api-note-withdraw", args=[closing.pk, wrong["id"]]))
    assert withdrawn.status_code == 200, withdrawn.content
    case = close(closing)
    export = export_done(people, case)
    package = folder / ArchiveExport.objects.get(pk=export.pk).package
    notes_xml, pdf_text = (package / NOTES_NAME).read_bytes(), case_file_text(folder, export)
    case_file_notes.validate_notes(notes_xml)

    def moment(at):
        return timezone.localtime(at).isoformat()

    def read(element):
        n = f"{{{NOTES_NAMESPACE}}}"
        kind = element.find(f"{n}kategori")
        earlier = [
            (
                int(old.get("versjon")),
                old.findtext(f"{n}skrevet"),
                old.findtext(f"{n}erstattet"),
                old.find(f"{n}kategori").get("kode"),
                old.findtext(f"{n}kategori"),
                old.findtext(f"{n}tekst"),
            )
            for old in element.iterfind(f"{n}tidligereTekst")
        ]
        fields = ("skrevet", "etat", "versjon", "tekst", "rettet", "trukketTilbake")
        return (*(element.findtext(f"{n}{name}") for name in fields), kind.get("kode"), kind.text, earlier)

    housing, corrected, gone = (Note.objects.get(pk=note["id"]) for note in (case.housing_note, moved, wrong))
    agency = case.coordinator_agency.name
    (_, second) = corrected.revisions.filter(change="corrected").order_by("version")
    listed = etree.fromstring(notes_xml).findall(f"{{{NOTES_NAMESPACE}}}notat")
    assert [int(note.get("nr")) for note in listed] == [1, 2, 3]
    assert [read(note) for note in listed] == [
        (moment(housing.created_at), agency, "1", "Søkt om kommunal bolig", None, None, "housing", "Bolig", []),
        (
            moment(corrected.created_at),
            agency,
            "3",
            "Avtalt visning i Storgata 12. mars",
            moment(corrected.corrected_at),
            None,
            "housing",
            "Bolig",
            [(2, moment(second.written_at), moment(second.replaced_at), "housing", "Bolig", second.text)],
        ),
        (moment(gone.created_at), agency, "2", None, None, moment(gone.withdrawn_at), "coordination", "Samordning", []),
    ]
    for hidden in ("Skjult merknad", "feil sak", "annen person", "Gjeld til kemneren"):
        assert hidden.encode() not in notes_xml and hidden not in pdf_text
    # The same earlier text in the PDF.
    assert f"Versjon 2, skrevet {in_words(second.written_at)} (bolig)" in pdf_text
    assert "Versjon 1" not in pdf_text
    ns = {"n": archive.NOARK}
    arkivstruktur = etree.fromstring((package / archive.XML_NAME).read_bytes())
    described = {
        obj.findtext("n:referanseDokumentfil", namespaces=ns): obj.findtext("n:sjekksum", namespaces=ns)
        for obj in arkivstruktur.iterfind(".//n:dokumentobjekt", namespaces=ns)
    }
    assert described[NOTES_NAME] == hashlib.sha256(notes_xml).hexdigest()
