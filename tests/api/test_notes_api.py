"""Notes and attachments over the API, route by route, as each kind of attacker would try:
another agency's participant, an auditor, a process admin, an outsider, no token at all."""

import pytest
from django.test import override_settings

from permissions.models import AccessAction, AccessLog
from tests.workflows.test_attachments import HTML, PDF, PNG, SVG
from workflows.notes import Attachment, AttachmentBlob, Note

SECRET = "Har 40 000 kr i gjeld til Lindorff"
NO_CASE_DATA = ("ada", "aud", "oscar", "siri", "mona")  # roles without case data, outsiders, non-participants


def notes_url(case):
    return f"/api/v1/cases/{case.pk}/notes/"


def attachments_url(case):
    return f"/api/v1/cases/{case.pk}/attachments/"


def content_url(case, attachment_id):
    return f"/api/v1/cases/{case.pk}/attachments/{attachment_id}/content/"


def upload_file(content, name="kontrakt.pdf", content_type="application/pdf"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content, content_type=content_type)


def post_note(client, case, **body):
    return client.post(notes_url(case), {"text": SECRET, **body}, format="json")


def post_file(client, case, content=PDF, name="kontrakt.pdf", content_type="application/pdf", **fields):
    return client.post(
        attachments_url(case), {"file": upload_file(content, name, content_type), **fields}, format="multipart"
    )


def fields_of(response):
    return {error["field"] for error in response.json()["errors"]}


def test_a_participant_writes_a_note_and_another_agency_reads_it_masked(client_for, prison_case):
    created = post_note(client_for("nils"), prison_case)
    assert created.status_code == 201, created.json()
    body = created.json()
    assert (body["category"], body["agency"]["kind"], body["text"], body["author"], body["version"]) == (
        "economy",
        "nav",
        SECRET,
        "nils",
        1,
    )

    theirs = client_for("helga").get(notes_url(prison_case)).json()
    assert len(theirs["results"]) == 1 and theirs["next"] is None
    masked = theirs["results"][0]
    assert (masked["visible"], masked["text"], masked["author"], masked["history"]) == (False, None, None, [])
    assert "no consent from the person to share economy data" in masked["reason"]
    assert SECRET not in str(theirs)

    coordinator = client_for("bjorn").get(notes_url(prison_case)).json()["results"][0]
    assert (coordinator["text"], coordinator["basis"]) == (SECRET, "coordinator")
    assert AccessLog.objects.filter(username="bjorn", item="notes", category="economy").count() == 1
    assert not AccessLog.objects.filter(username="helga", item="notes").exists()


@pytest.mark.parametrize("name", NO_CASE_DATA)
def test_every_note_route_is_404_for_who_does_not_work_the_case(client_for, prison_case, name):
    note = post_note(client_for("nils"), prison_case).json()
    client = client_for(name)
    base = f"{notes_url(prison_case)}{note['id']}/"
    assert client.get(notes_url(prison_case)).status_code == 404
    assert post_note(client, prison_case).status_code == 404
    assert client.get(base).status_code == 404
    assert client.post(f"{base}correct/", {"text": "x", "version": 1}, format="json").status_code == 404
    assert client.post(f"{base}withdraw/", {}, format="json").status_code == 404
    assert Note.objects.get().text == SECRET and Note.objects.count() == 1


def test_without_a_token_nothing_is_read_or_written(client_for, prison_case):
    anonymous = client_for(None)
    assert anonymous.get(notes_url(prison_case)).status_code == 401
    assert post_note(anonymous, prison_case).status_code == 401
    assert anonymous.get(attachments_url(prison_case)).status_code == 401
    assert post_file(anonymous, prison_case).status_code == 401
    assert not Note.objects.exists() and not Attachment.objects.exists()


def test_bad_note_input_is_400_naming_the_field(client_for, prison_case):
    client = client_for("nils")
    assert fields_of(post_note(client, prison_case, category="health")) == {"category"}
    assert fields_of(post_note(client, prison_case, category="identity")) == {"category"}
    assert fields_of(post_note(client, prison_case, text="x" * 4001)) == {"text"}
    assert fields_of(post_note(client, prison_case, author="bjorn")) == {"author"}
    assert fields_of(post_note(client, prison_case, agency=999999)) == {"agency"}
    assert fields_of(client.post(notes_url(prison_case), {"text": "   "}, format="json")) == {"text"}
    response = client.post(notes_url(prison_case), {"text": "a\u0000b"}, format="json")
    assert response.status_code == 400 and fields_of(response) == {"text"}
    assert not Note.objects.exists()


def test_a_refused_choice_is_not_repeated_in_the_answer(client_for, prison_case):
    """DRF's own text repeats the value ('"x" is not a valid choice.'): values never travel
    in error texts, the sender's own included."""
    response = post_note(client_for("nils"), prison_case, category="Paranoid schizofreni")
    assert response.status_code == 400 and fields_of(response) >= {"category"}
    assert "schizofreni" not in response.content.decode()


def test_corrections_and_withdrawals_are_the_authors_and_answer_409_when_stale(client_for, prison_case):
    note = post_note(client_for("nils"), prison_case).json()
    base = f"{notes_url(prison_case)}{note['id']}/"
    for name in ("nora", "bjorn", "helga"):
        assert (
            client_for(name).post(f"{base}correct/", {"text": "Endret", "version": 1}, format="json").status_code == 403
        )
        assert client_for(name).post(f"{base}withdraw/", {}, format="json").status_code == 403

    nils = client_for("nils")
    corrected = nils.post(f"{base}correct/", {"text": "Rettet", "version": 1}, format="json")
    assert corrected.status_code == 200
    assert (corrected.json()["text"], corrected.json()["version"]) == ("Rettet", 2)
    assert [h["text"] for h in corrected.json()["history"]] == [SECRET]
    stale = nils.post(f"{base}correct/", {"text": "Gammel", "version": 1}, format="json")
    assert (stale.status_code, stale.json()["code"]) == (409, "note.changed")
    assert nils.post(f"{base}correct/", {"text": "x"}, format="json").status_code == 400

    withdrawn = nils.post(f"{base}withdraw/", {"version": 2}, format="json")
    assert withdrawn.status_code == 200 and withdrawn.json()["text"] is None
    assert withdrawn.json()["withdrawn_at"] is not None
    assert nils.post(f"{base}withdraw/", {}, format="json").status_code == 409


def test_an_upload_is_judged_by_its_bytes_and_downloaded_only_as_an_attachment(client_for, prison_case):
    created = post_file(client_for("bjorn"), prison_case, name="../../etc/Leiekontrakt.pdf", content_type="text/html")
    assert created.status_code == 201, created.json()
    body = created.json()
    assert (body["filename"], body["content_type"], body["size"], body["category"]) == (
        "Leiekontrakt.pdf",
        "application/pdf",
        len(PDF),
        "housing",
    )
    assert body["download"] == content_url(prison_case, body["id"])

    response = client_for("bjorn").get(body["download"], HTTP_ACCEPT="application/pdf")
    assert response.status_code == 200
    assert response.content == PDF
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="Leiekontrakt.pdf"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert "no-store" in response["Cache-Control"]
    row = AccessLog.objects.get(action=AccessAction.EXPORT)
    assert (row.username, row.item, row.category) == ("bjorn", f"attachment:{body['id']}", "housing")


@pytest.mark.parametrize(
    "content, name, claimed",
    [
        (HTML, "side.html", "text/html"),
        (HTML, "kontrakt.pdf", "application/pdf"),
        (SVG, "logo.svg", "image/svg+xml"),
        (SVG, "logo.png", "image/png"),
        (b"", "tom.pdf", "application/pdf"),
    ],
)
def test_html_svg_and_empty_uploads_are_400_naming_the_file(client_for, prison_case, content, name, claimed):
    response = post_file(client_for("bjorn"), prison_case, content, name, claimed)
    assert response.status_code == 400 and fields_of(response) == {"file"}
    assert not Attachment.objects.exists() and not AttachmentBlob.objects.exists()


def test_an_upload_without_a_file_or_with_unknown_fields_is_400(client_for, prison_case):
    client = client_for("bjorn")
    assert fields_of(client.post(attachments_url(prison_case), {"category": "housing"}, format="multipart")) == {"file"}
    assert "filename" in fields_of(post_file(client, prison_case, filename="x.pdf"))
    json_body = client.post(attachments_url(prison_case), {"file": "JVBERi0="}, format="json")
    assert json_body.status_code == 415


def test_a_huge_upload_is_refused_before_it_is_read_and_a_large_file_names_the_field(client_for, prison_case):
    client = client_for("bjorn")
    with override_settings(ATTACHMENT_MAX_BYTES=1000, ATTACHMENT_FORM_SLACK_BYTES=2000):
        huge = post_file(client, prison_case, PDF + b"0" * 5000)
        assert huge.status_code == 413 and huge.json()["code"] == "attachment.request_too_large"
        large = post_file(client, prison_case, PDF + b"0" * 1500)
        assert large.status_code == 400 and fields_of(large) == {"file"}
        assert large.json()["errors"][0]["code"] == "attachment.too_large"
    assert not Attachment.objects.exists()


def test_a_masked_attachment_shows_no_name_and_its_download_is_403(client_for, prison_case):
    created = post_file(client_for("nils"), prison_case, PNG, "gjeldsordning.png", "image/png").json()
    assert created["category"] == "economy"
    listed = client_for("helga").get(attachments_url(prison_case)).json()["results"][0]
    assert (listed["visible"], listed["filename"], listed["size"], listed["download"]) == (False, None, None, None)
    assert "gjeldsordning" not in str(listed)
    forbidden = client_for("helga").get(content_url(prison_case, created["id"]))
    assert forbidden.status_code == 403 and forbidden["Content-Type"] == "application/json"
    assert PNG not in forbidden.content
    assert not AccessLog.objects.filter(action=AccessAction.EXPORT).exists()


@pytest.mark.parametrize("name", NO_CASE_DATA)
def test_every_attachment_route_is_404_for_who_does_not_work_the_case(client_for, prison_case, name):
    created = post_file(client_for("bjorn"), prison_case).json()
    client = client_for(name)
    assert client.get(attachments_url(prison_case)).status_code == 404
    assert post_file(client, prison_case).status_code == 404
    assert client.get(content_url(prison_case, created["id"])).status_code == 404
    withdraw = f"{attachments_url(prison_case)}{created['id']}/withdraw/"
    assert client.post(withdraw, {}, format="json").status_code == 404
    assert Attachment.objects.count() == 1 and AttachmentBlob.objects.count() == 1


def test_another_cases_attachment_cannot_be_downloaded_by_its_id(client_for, prison_case, discharge_case, small_case):
    # nils takes part in the prison and the discharge case, not in the small one
    theirs = post_file(client_for("siri"), discharge_case, name="epikrise.pdf").json()
    hidden = post_file(client_for("siri"), small_case, name="dom.pdf").json()
    nils = client_for("nils")
    assert nils.get(content_url(prison_case, theirs["id"])).status_code == 404
    assert nils.get(content_url(small_case, hidden["id"])).status_code == 404
    assert nils.get(content_url(prison_case, hidden["id"])).status_code == 404
    assert nils.get(f"/api/v1/cases/{prison_case.pk}/attachments/..%2F{hidden['id']}/content/").status_code == 404
    assert not AccessLog.objects.filter(action=AccessAction.EXPORT).exists()


def test_a_withdrawn_attachment_is_gone(client_for, prison_case):
    created = post_file(client_for("bjorn"), prison_case).json()
    withdraw = f"{attachments_url(prison_case)}{created['id']}/withdraw/"
    assert client_for("nils").post(withdraw, {}, format="json").status_code == 403
    response = client_for("bjorn").post(withdraw, {}, format="json")
    assert response.status_code == 200 and response.json()["withdrawn_at"] and response.json()["download"] is None
    assert client_for("bjorn").post(withdraw, {}, format="json").status_code == 409
    gone = client_for("bjorn").get(content_url(prison_case, created["id"]))
    assert (gone.status_code, gone.json()["code"]) == (404, "attachment.withdrawn")
    assert not AttachmentBlob.objects.exists()


def test_the_schema_documents_the_routes(client_for, users):
    schema = client_for("nils").get("/api/v1/schema/?format=json").json()
    paths = schema["paths"]
    assert {"get", "post"} <= set(paths["/api/v1/cases/{id}/notes/"])
    upload = paths["/api/v1/cases/{id}/attachments/"]["post"]
    assert "multipart/form-data" in upload["requestBody"]["content"]
    assert "413" in upload["responses"]
    download = paths["/api/v1/cases/{id}/attachments/{attachment_pk}/content/"]["get"]
    assert set(download["responses"]["200"]["content"]) == {"application/pdf", "image/png", "image/jpeg"}


def test_an_attachment_withdrawn_while_its_download_is_read_is_404_not_500(client_for, prison_case, users, monkeypatch):
    # The race: the download has read the attachment's row and decided, then the uploader's
    # withdrawal commits and deletes the bytes before the download reads them.
    from workflows import note_selectors, services

    created = post_file(client_for("bjorn"), prison_case).json()
    decide = note_selectors.notes_policy.attachment_decision

    def withdrawn_meanwhile(actor, case, attachment):
        decision = decide(actor, case, attachment)
        services.withdraw_attachment(actor=users["bjorn"], case=case.pk, attachment_id=attachment.pk)
        return decision

    monkeypatch.setattr(note_selectors.notes_policy, "attachment_decision", withdrawn_meanwhile)
    client = client_for("bjorn")
    client.raise_request_exception = False
    gone = client.get(content_url(prison_case, created["id"]))
    assert (gone.status_code, gone.json()["code"]) == (404, "attachment.withdrawn")
    assert PDF not in gone.content
    assert not AccessLog.objects.filter(action=AccessAction.EXPORT).exists()


def test_a_masked_note_tells_neither_when_nor_how_often_its_writer_corrected_it(client_for, prison_case):
    """The text, author and history of a note another agency may not read are masked; its
    version (one per correction) and the time of the last correction told that reader how
    often and when NAV rewrote what it wrote about the person's debt."""
    nils = client_for("nils")
    note = post_note(nils, prison_case).json()
    base = f"{notes_url(prison_case)}{note['id']}/"
    for version, text in ((1, "Rettet"), (2, "Rettet igjen")):
        assert nils.post(f"{base}correct/", {"text": text, "version": version}, format="json").status_code == 200

    masked = client_for("helga").get(notes_url(prison_case)).json()["results"][0]
    assert masked["visible"] is False
    assert (masked["version"], masked["corrected_at"]) == (None, None)
    shown = client_for("bjorn").get(notes_url(prison_case)).json()["results"][0]
    assert shown["version"] == 3 and shown["corrected_at"] is not None
