"""Attachments through the services and selectors: what is accepted, where the bytes go,
who downloads them, and what an attacker's file or file name does."""

import hashlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from core.errors import Conflict, Forbidden, InvalidInput, NotFound
from permissions.models import AccessAction, AccessLog
from tests.workflows.helpers import start_prison_case
from workflows import note_selectors, services, uploads
from workflows.models import Event, EventKind
from workflows.notes import Attachment, AttachmentBlob

PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90wS\xde"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"
HTML = b"<!doctype html><script>alert(document.cookie)</script>"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'
ZIP = b"PK\x03\x04" + b"\x00" * 40  # also what a .docx with macros is


@pytest.fixture
def case(users, agencies, shipped):
    return start_prison_case(users, agencies)


def upload(content, name="kontrakt.pdf", content_type="application/pdf"):
    return SimpleUploadedFile(name, content, content_type=content_type)


def file_codes(excinfo):
    return {(error["field"], error["code"]) for error in excinfo.value.errors}


@pytest.mark.parametrize(
    "content, mime, name",
    [
        (PDF, "application/pdf", "samtykke.pdf"),
        (PNG, "image/png", "samtykke.png"),
        (JPEG, "image/jpeg", "samtykke.jpg"),
    ],
)
def test_pdf_png_and_jpeg_are_stored_with_the_sniffed_type_in_the_database(users, case, content, mime, name):
    # the client claims text/html: never believed
    attachment = services.add_attachment(
        actor=users["bjorn"], case=case.pk, upload=upload(content, name="samtykke", content_type="text/html")
    )
    assert (attachment.content_type, attachment.filename, attachment.size) == (mime, name, len(content))
    assert attachment.category == "housing" and attachment.agency.kind == "housing"
    assert attachment.sha256 == hashlib.sha256(content).hexdigest()
    blob = AttachmentBlob.objects.get(name=attachment.stored_as)
    assert bytes(blob.content) == content
    assert attachment.stored_as.startswith(f"case-{case.pk}/") and "samtykke" not in attachment.stored_as


@pytest.mark.parametrize(
    "content, name, claimed",
    [
        (HTML, "kontrakt.pdf", "application/pdf"),
        (SVG, "bilde.png", "image/png"),
        (SVG, "bilde.svg", "image/svg+xml"),
        (ZIP, "kontrakt.docx", "application/pdf"),
        (b"MZ\x90\x00" + b"\x00" * 60, "kontrakt.pdf", "application/pdf"),
        (b"GIF89a" + b"\x00" * 20, "bilde.gif", "image/gif"),
        (b"just text", "notat.txt", "text/plain"),
    ],
)
def test_anything_but_pdf_png_and_jpeg_is_refused_whatever_its_name_and_claimed_type(
    users, case, content, name, claimed
):
    with pytest.raises(InvalidInput) as refused:
        services.add_attachment(actor=users["bjorn"], case=case.pk, upload=upload(content, name, claimed))
    assert file_codes(refused) == {("file", "attachment.type_refused")}
    assert not Attachment.objects.exists() and not AttachmentBlob.objects.exists()


def test_an_empty_a_missing_and_a_too_large_file_are_refused(users, case, settings):
    for given, code in ((upload(b""), "attachment.empty"), (None, "attachment.file_required")):
        with pytest.raises(InvalidInput) as refused:
            services.add_attachment(actor=users["bjorn"], case=case.pk, upload=given)
        assert file_codes(refused) == {("file", code)}
    settings.ATTACHMENT_MAX_BYTES = len(PDF) - 1
    with pytest.raises(InvalidInput) as refused:
        services.add_attachment(actor=users["bjorn"], case=case.pk, upload=upload(PDF))
    assert file_codes(refused) == {("file", "attachment.too_large")}
    assert "MB" in refused.value.errors[0]["message"]
    assert not Attachment.objects.exists()


@pytest.mark.parametrize(
    "client_name, stored",
    [
        ("../../../etc/passwd", "passwd.pdf"),
        ("..\\..\\windows\\system32\\kontrakt.pdf", "kontrakt.pdf"),
        ("/var/www/static/x.pdf", "x.pdf"),
        ("C:kontrakt.pdf", "kontrakt.pdf"),
        ("kontrakt.exe", "kontrakt.exe.pdf"),
        ("kontrakt\u202efdp.exe", "kontraktfdp.exe.pdf"),
        ("\x00\x01.pdf", "vedlegg.pdf"),
        ("..", "vedlegg.pdf"),
        ("", "vedlegg.pdf"),
        ("a" * 500 + ".pdf", "a" * 116 + ".pdf"),
        ("Leiekontrakt Ærlig Øst.PDF", "Leiekontrakt Ærlig Øst.pdf"),
    ],
)
def test_a_client_file_name_becomes_a_safe_display_name_and_never_a_path(client_name, stored):
    assert uploads.display_name(client_name, "application/pdf") == stored


def test_a_file_name_with_a_path_reaches_neither_the_storage_nor_the_timeline(users, case):
    attachment = services.add_attachment(
        actor=users["bjorn"], case=case.pk, upload=upload(PDF, name="../../etc/epikrise.pdf")
    )
    assert attachment.filename == "epikrise.pdf"
    assert ".." not in attachment.stored_as and "epikrise" not in attachment.stored_as
    event = Event.objects.get(case=case, kind=EventKind.ATTACHMENT_ADDED)
    assert event.detail == {
        "attachment": attachment.pk,
        "category": "housing",
        "content_type": "application/pdf",
        "size": len(PDF),
    }


def test_downloads_follow_the_category_rules_and_each_is_logged_as_an_export(users, agencies, case, consent_basis):
    attachment = services.add_attachment(actor=users["nils"], case=case.pk, upload=upload(PDF))
    assert attachment.category == "economy"

    download = note_selectors.attachment_download(actor=users["bjorn"], case=case.pk, attachment_id=attachment.pk)
    assert download.content == PDF
    row = AccessLog.objects.get(action=AccessAction.EXPORT)
    assert (row.username, row.category, row.basis, row.item) == (
        "bjorn",
        "economy",
        "coordinator",
        f"attachment:{attachment.pk}",
    )
    note_selectors.attachment_download(actor=users["bjorn"], case=case.pk, attachment_id=attachment.pk)
    assert AccessLog.objects.filter(action=AccessAction.EXPORT).count() == 2

    with pytest.raises(Forbidden):
        note_selectors.attachment_download(actor=users["helga"], case=case.pk, attachment_id=attachment.pk)
    listed = note_selectors.attachments_for_case(actor=users["helga"], case=case.pk)
    assert [(v.visible, v.reason is not None) for v in listed] == [(False, True)]
    for name in ("ada", "aud", "oscar", "siri"):
        with pytest.raises(NotFound):
            note_selectors.attachment_download(actor=users[name], case=case.pk, attachment_id=attachment.pk)
    assert AccessLog.objects.filter(action=AccessAction.EXPORT).count() == 2

    services.record_consent(
        actor=users["bjorn"],
        case=case.pk,
        agency=agencies["health"].pk,
        categories=["economy"],
        purpose="P",
        legal_basis=consent_basis,
    )
    assert (
        note_selectors.attachment_download(actor=users["helga"], case=case.pk, attachment_id=attachment.pk).content
        == PDF
    )


def test_another_cases_attachment_is_not_found_through_a_case_one_sees(users, agencies, case):
    other = start_prison_case(users, agencies, person={"name": "Per", "national_id": "29822099635"})
    theirs = services.add_attachment(actor=users["nils"], case=other.pk, upload=upload(PDF))
    with pytest.raises(NotFound):
        note_selectors.attachment_download(actor=users["nils"], case=case.pk, attachment_id=theirs.pk)
    for bad in ("1 OR 1=1", "../1", None, -1):
        with pytest.raises(NotFound):
            note_selectors.attachment_download(actor=users["nils"], case=case.pk, attachment_id=bad)


def test_withdrawing_deletes_the_bytes_keeps_the_row_and_is_for_the_uploader_only(users, case):
    attachment = services.add_attachment(actor=users["nils"], case=case.pk, upload=upload(PDF))
    for name in ("nora", "bjorn"):
        with pytest.raises(Forbidden):
            services.withdraw_attachment(actor=users[name], case=case.pk, attachment_id=attachment.pk)
    services.withdraw_attachment(actor=users["nils"], case=case.pk, attachment_id=attachment.pk)
    assert not AttachmentBlob.objects.exists()
    stored = Attachment.objects.get(pk=attachment.pk)
    assert stored.is_withdrawn and stored.stored_as == "" and stored.withdrawn_by == users["nils"]
    with pytest.raises(NotFound) as gone:
        note_selectors.attachment_download(actor=users["nils"], case=case.pk, attachment_id=attachment.pk)
    assert gone.value.code == "attachment.withdrawn"
    with pytest.raises(Conflict):
        services.withdraw_attachment(actor=users["nils"], case=case.pk, attachment_id=attachment.pk)
    assert Event.objects.filter(case=case, kind=EventKind.ATTACHMENT_WITHDRAWN).count() == 1


def test_a_folder_storage_keeps_files_under_server_made_names(
    users, case, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.STORAGES = {
        **settings.STORAGES,
        "attachments": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path), "base_url": None},
        },
    }
    attachment = services.add_attachment(
        actor=users["nils"], case=case.pk, upload=upload(PDF, name="../../../../tmp/evil.pdf")
    )
    files = [path for path in tmp_path.rglob("*") if path.is_file()]
    assert files == [tmp_path / attachment.stored_as] and files[0].read_bytes() == PDF
    assert not AttachmentBlob.objects.exists()
    assert (
        note_selectors.attachment_download(actor=users["nils"], case=case.pk, attachment_id=attachment.pk).content
        == PDF
    )

    with django_capture_on_commit_callbacks(execute=True):
        services.withdraw_attachment(actor=users["nils"], case=case.pk, attachment_id=attachment.pk)
    assert not files[0].exists()


def test_an_attachment_is_not_withdrawn_for_an_agency_withdrawn_while_the_withdrawal_waited(
    users, agencies, case, monkeypatch
):
    # The race: nils's withdrawal of his file has found him its uploader in NAV, then the
    # coordinator's withdrawal of NAV from the case commits before his takes the case's lock.
    from permissions import rules

    attachment = services.add_attachment(actor=users["nils"], case=case.pk, upload=upload(PDF))
    may_withdraw = rules.can_withdraw_attachment

    def agency_withdrawn_meanwhile(user, item):
        allowed = may_withdraw(user, item)
        services.withdraw_agency(actor=users["bjorn"], case=case.pk, agency=agencies["nav"].pk, reason="Ferdig")
        return allowed

    monkeypatch.setattr(rules, "can_withdraw_attachment", agency_withdrawn_meanwhile)
    with pytest.raises(NotFound):
        services.withdraw_attachment(actor=users["nils"], case=case.pk, attachment_id=attachment.pk)
    attachment.refresh_from_db()
    assert attachment.withdrawn_at is None and AttachmentBlob.objects.filter(name=attachment.stored_as).exists()
    assert not Event.objects.filter(kind=EventKind.ATTACHMENT_WITHDRAWN).exists()
