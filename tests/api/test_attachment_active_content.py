"""An attachment's content and name as a caseworker of one agency (or a partner system) would
craft them to reach another agency's reader: a PDF that runs a script, launches a program or
carries a file when opened, hidden in every way a PDF allows; and a file name with characters
that hide what it is called."""

import zlib

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.tokens import issue
from permissions.models import AccessLog, Membership, Role
from workflows import uploads
from workflows.notes import Attachment, AttachmentBlob

PLAIN = b"%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def _pdf(*objects: bytes) -> bytes:
    body = b"".join(b"%d 0 obj\n%s\nendobj\n" % (number, text) for number, text in enumerate(objects, start=1))
    return b"%PDF-1.7\n" + body + b"trailer << /Root 1 0 R >>\n%%EOF\n"


def _object_stream(inner: bytes, dictionary: bytes = b"/Type /ObjStm /N 1 /First 4 /Filter /FlateDecode") -> bytes:
    packed = zlib.compress(inner)
    return b"<< %s /Length %d >>\nstream\n%s\nendstream" % (dictionary, len(packed), packed)


CATALOG = b"<< /Type /Catalog /OpenAction 2 0 R >>"
ACTIVE = {
    "script on opening": _pdf(b"<< /Type /Catalog /OpenAction << /S /JavaScript /JS (app.alert(1)) >> >>"),
    "script, names escaped": _pdf(b"<< /Type /Catalog /OpenAction << /S /J#61vaScript /J#53 (app.alert(1)) >> >>"),
    "script on a page's event": _pdf(b"<</Type/Page/AA<</O<</S/JavaScript/JS 3 0 R>>>>>>"),
    "program launched": _pdf(b"<< /Type /Catalog /OpenAction << /S /Launch /F (cmd.exe) >> >>"),
    "file inside": _pdf(b"<< /Type /Catalog /Names << /EmbeddedFiles 2 0 R >> >>"),
    "form sent elsewhere": _pdf(b"<< /S /SubmitForm /F (https://example.com/) >>"),
    "script packed in an object stream": _pdf(CATALOG, _object_stream(b"2 0 << /S /JavaScript /JS (app.alert(1)) >>")),
    "object stream not called one": _pdf(
        CATALOG, _object_stream(b"2 0 << /S /Launch /F (cmd.exe) >>", b"/N 1 /First 4 /Filter /FlateDecode")
    ),
    "object stream that cannot be read here": _pdf(
        CATALOG, _object_stream(b"2 0 << /S /JavaScript >>", b"/Type /ObjStm /N 1 /First 4 /Filter /LZWDecode")
    ),
    "script a rendition runs": _pdf(b"<< /S /Rendition /OP 4 /JS (app.alert(1)) >>"),
    # Readers find an object by the offset the cross-reference gives, not by reading the file
    # in order: whatever a sequential reading would take for a string, a comment or a stream's
    # bytes may hold an object a reader opens.
    "object after an unclosed string": _pdf(b"<< /Title (never closed >>", b"<< /S /JavaScript /JS 4 0 R >>"),
    "object inside an image's bytes": _pdf(
        b"<< /Subtype /Image /Length 40 >>\nstream\n3 0 obj << /S /Launch /F (cmd.exe) >> endobj\nendstream"
    ),
    "object on a comment's line": _pdf(b"<< /Title (100%) /OpenAction << /S /JavaScript >> >>"),
    "object stream whose dictionary a comment splits": _pdf(
        CATALOG,
        _object_stream(b"2 0 << /S /JavaScript >>", b"/Type /ObjStm /N 1 /First 4 /Filter /FlateDecode %1 0 obj\n"),
    ),
    "object stream unpacking to gigabytes": _pdf(
        CATALOG,
        b"<< /Type /ObjStm /N 1 /First 4 /Filter /FlateDecode >>\nstream\n"
        + zlib.compress(b" " * (65 * 1024 * 1024), 9)  # past PDF_MAX_INFLATED_BYTES
        + b"\nendstream",
    ),
}
HARMLESS = {
    "plain": PLAIN,
    "a link, and a title on scripts": _pdf(
        b"<< /Type /Annot /Subtype /Link /A << /S /URI /URI (https://example.com/js/app.js) >> >>",
        b"<< /Title (Om JavaScript og /JS) /Subject <2F4A617661536372697074> >>",
    ),
    "packed objects without any": _pdf(CATALOG, _object_stream(b"2 0 << /S /GoTo /D [3 0 R /Fit] >>")),
    "image bytes": _pdf(b"<< /Type /XObject /Subtype /Image /Filter /DCTDecode >>\nstream\n\xff/JS \x00/S\nendstream"),
}


@pytest.mark.parametrize("name", ACTIVE)
def test_a_pdf_that_can_run_anything_or_hides_what_it_holds_is_found(name):
    assert uploads.pdf_has_active_content(ACTIVE[name])


@pytest.mark.parametrize("name", HARMLESS)
def test_a_pdf_that_only_shows_and_links_is_not(name):
    assert not uploads.pdf_has_active_content(HARMLESS[name])


def test_a_pdf_the_site_makes_itself_with_packed_objects_passes():
    import weasyprint

    made = weasyprint.HTML(string="<h1>Samtykke</h1>" + "<p>Tekst (med parentes) / skråstrek.</p>" * 500).write_pdf()
    assert b"/ObjStm" in made  # its objects are packed: the check unpacked and read them
    assert not uploads.pdf_has_active_content(made)


@pytest.mark.parametrize(
    "client_name, shown",
    [
        ("kontrakt\u061cfdp.exe", "kontraktfdp.exe.pdf"),  # the Arabic letter mark, a bidirectional mark
        ("kontrakt\u200b.exe\u200d", "kontrakt.exe.pdf"),  # zero-width space and joiner
        ("kontrakt\u2028samtykke\u2029.pdf", "kontraktsamtykke.pdf"),  # line and paragraph separators
        ("\ufeffkontrakt\U000e0041.pdf", "kontrakt.pdf"),  # byte order mark, a tag character
        ("kontrakt\ue000\U0010fffd.pdf", "kontrakt.pdf"),  # private use
    ],
)
def test_a_file_name_keeps_no_invisible_character(client_name, shown):
    assert uploads.display_name(client_name, "application/pdf") == shown


@pytest.fixture
def caseworker(agencies, prison_case):
    user = get_user_model().objects.create_user("boligkonsulent-vedlegg")
    Membership.objects.create(user=user, agency=agencies["housing"], role=Role.MEMBER)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {issue(user)[0]}")
    return client


@pytest.mark.parametrize("name", ["script on opening", "script packed in an object stream"])
def test_an_upload_of_a_pdf_that_runs_a_script_is_400_naming_the_file_and_nothing_is_kept(
    caseworker, prison_case, name
):
    url = reverse("api-case-attachments", args=[prison_case.pk])
    logged = AccessLog.objects.count()
    upload = SimpleUploadedFile("samtykke.pdf", ACTIVE[name], content_type="application/pdf")
    refused = caseworker.post(url, {"file": upload}, format="multipart")
    assert refused.status_code == 400
    assert [(error["field"], error["code"]) for error in refused.json()["errors"]] == [
        ("file", "attachment.pdf_active")
    ]
    assert not Attachment.objects.exists() and not AttachmentBlob.objects.exists()
    assert AccessLog.objects.count() == logged

    plain = SimpleUploadedFile("samtykke.pdf", PLAIN, content_type="application/pdf")
    assert caseworker.post(url, {"file": plain}, format="multipart").status_code == 201


def test_the_case_page_refuses_it_in_bokmal_under_the_file_field(agencies, prison_case, client):
    user = get_user_model().objects.create_user("boligkonsulent-side")
    Membership.objects.create(user=user, agency=agencies["housing"], role=Role.MEMBER)
    client.force_login(user)
    upload = SimpleUploadedFile("samtykke.pdf", ACTIVE["script on opening"], content_type="application/pdf")
    refused = client.post(reverse("attachment-add", args=[prison_case.pk]), {"file": upload}, HTTP_ACCEPT_LANGUAGE="nb")
    assert refused.status_code == 400
    assert "PDF-filen har innhold som kan kjøres" in refused.content.decode()
    assert not Attachment.objects.exists()
