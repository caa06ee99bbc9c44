"""The notes section of the case page and its forms, without JavaScript and with htmx."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings

from permissions.models import AccessAction, AccessLog
from tests.workflows.test_attachments import HTML, PDF, SVG
from workflows import services
from workflows.notes import Attachment, Note

SECRET = "Har 40 000 kr i gjeld til Lindorff"
HTMX = {"HTTP_HX_REQUEST": "true"}


def notes_url(case):
    return f"/cases/{case.pk}/notes/"


def page(web, name, case):
    response = web(name).get(f"/cases/{case.pk}/")
    assert response.status_code == 200
    return response.content.decode()


def section(html):
    match = re.search(r'<section class="card notes-section" id="notes".*?</section>', html, re.S)
    assert match, "the case page has no notes section"
    return match.group(0)


def test_the_case_page_shows_a_note_to_who_may_read_it_and_masks_it_for_the_others(web, users, prison_case):
    services.add_note(actor=users["nils"], case=prison_case.pk, text=SECRET)
    bjorn = section(page(web, "bjorn", prison_case))
    assert SECRET in bjorn and "Nils NAV-veileder" in bjorn and "økonomi" in bjorn
    helga = section(page(web, "helga", prison_case))
    assert SECRET not in helga and "Nils" not in helga
    assert "Personen har ikke samtykket" in helga or "samtykke" in helga
    assert "skjult" in helga


def test_a_note_is_written_without_javascript_and_lands_on_the_case_page(web, users, prison_case):
    client = web("nils")
    response = client.post(notes_url(prison_case), {"text": SECRET, "category": "economy"})
    assert response.status_code == 302 and response["Location"] == f"/cases/{prison_case.pk}/#notes"
    followed = client.get(response["Location"]).content.decode()
    assert "Notatet er lagret." in followed and SECRET in section(followed)
    assert Note.objects.get().category == "economy"


def test_with_htmx_a_note_is_written_in_place_and_errors_show_by_the_field(web, users, prison_case):
    client = web("nils")
    saved = client.post(notes_url(prison_case), {"text": SECRET}, **HTMX)
    assert saved.status_code == 302 and saved["Location"] == notes_url(prison_case)

    refused = client.post(notes_url(prison_case), {"text": "", "category": "health"}, **HTMX)
    assert refused.status_code == 200  # htmx swaps no 4xx answer
    html = section(refused.content.decode())
    assert "Notatet er ikke lagret" in html and "feltet må fylles ut" in html
    without_js = client.post(notes_url(prison_case), {"text": "", "category": "health"})
    assert without_js.status_code == 400
    assert Note.objects.count() == 1


def test_the_form_offers_only_the_categories_the_agency_may_write(web, prison_case):
    html = section(page(web, "nils", prison_case))
    offered = re.findall(r'<option value="(\w+)"', html.split('id="note-category"')[1].split("</select>")[0])
    assert offered == ["economy", "coordination", "safety", "restricted"]


@pytest.mark.parametrize("name", ["ada", "aud", "oscar", "siri"])
def test_who_does_not_work_the_case_gets_404_on_every_notes_route(web, users, prison_case, name):
    note = services.add_note(actor=users["nils"], case=prison_case.pk, text=SECRET)
    attachment = services.add_attachment(
        actor=users["nils"], case=prison_case.pk, upload=SimpleUploadedFile("k.pdf", PDF)
    )
    client = web(name)
    base = f"/cases/{prison_case.pk}"
    assert client.get(notes_url(prison_case)).status_code == 404
    assert client.post(notes_url(prison_case), {"text": "x"}).status_code == 404
    assert client.post(f"{base}/notes/{note.pk}/correct/", {"text": "x", "version": 1}).status_code == 404
    assert client.post(f"{base}/notes/{note.pk}/withdraw/").status_code == 404
    assert client.post(f"{base}/attachments/", {"file": SimpleUploadedFile("x.pdf", PDF)}).status_code == 404
    assert client.get(f"{base}/attachments/{attachment.pk}/").status_code == 404
    assert client.post(f"{base}/attachments/{attachment.pk}/withdraw/").status_code == 404
    assert Note.objects.get().text == SECRET and Attachment.objects.count() == 1


def test_anonymous_visitors_are_sent_to_the_login(web, prison_case):
    response = web(None).get(notes_url(prison_case))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_an_upload_with_the_csrf_token_from_the_page_is_stored_and_downloaded_as_an_attachment(users, prison_case):
    client = Client(enforce_csrf_checks=True)
    client.force_login(users["bjorn"])
    html = client.get(f"/cases/{prison_case.pk}/").content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', section(html)).group(1)
    without = client.post(f"/cases/{prison_case.pk}/attachments/", {"file": SimpleUploadedFile("k.pdf", PDF)})
    assert without.status_code == 403
    response = client.post(
        f"/cases/{prison_case.pk}/attachments/",
        {
            "csrfmiddlewaretoken": token,
            "category": "housing",
            "file": SimpleUploadedFile("../../Leiekontrakt.pdf", PDF, content_type="text/html"),
        },
    )
    assert response.status_code == 302
    attachment = Attachment.objects.get()
    assert (attachment.filename, attachment.content_type) == ("Leiekontrakt.pdf", "application/pdf")

    listed = section(client.get(f"/cases/{prison_case.pk}/").content.decode())
    link = f"/cases/{prison_case.pk}/attachments/{attachment.pk}/"
    assert f'href="{link}"' in listed and "Leiekontrakt.pdf" in listed
    download = client.get(link)
    assert download.status_code == 200 and download.content == PDF
    assert download["Content-Disposition"].startswith("attachment;")
    assert download["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in download["Content-Security-Policy"]
    assert AccessLog.objects.filter(action=AccessAction.EXPORT, username="bjorn").count() == 1


@pytest.mark.parametrize("content, name", [(HTML, "kontrakt.pdf"), (SVG, "logo.svg"), (b"", "tom.pdf")])
def test_html_svg_and_empty_files_are_refused_in_bokmal_by_the_field(web, prison_case, content, name):
    response = web("bjorn").post(f"/cases/{prison_case.pk}/attachments/", {"file": SimpleUploadedFile(name, content)})
    assert response.status_code == 400
    html = section(response.content.decode())
    assert "Vedlegget er ikke lagret" in html
    assert "PNG- og JPEG-filer" in html or "filen er tom" in html
    assert not Attachment.objects.exists()


def test_a_huge_upload_gets_the_413_page_in_bokmal(web, prison_case):
    with override_settings(ATTACHMENT_MAX_BYTES=1000, ATTACHMENT_FORM_SLACK_BYTES=1000):
        response = web("bjorn").post(
            f"/cases/{prison_case.pk}/attachments/", {"file": SimpleUploadedFile("stor.pdf", PDF + b"0" * 5000)}
        )
    assert response.status_code == 413
    assert "Opplastingen er for stor" in response.content.decode()
    assert not Attachment.objects.exists()


def test_a_masked_attachment_is_a_403_page_and_another_cases_attachment_a_404(web, users, agencies, prison_case):
    attachment = services.add_attachment(
        actor=users["nils"], case=prison_case.pk, upload=SimpleUploadedFile("gjeld.pdf", PDF)
    )
    masked = section(page(web, "helga", prison_case))
    assert "gjeld.pdf" not in masked and f"/attachments/{attachment.pk}/" not in masked
    assert web("helga").get(f"/cases/{prison_case.pk}/attachments/{attachment.pk}/").status_code == 403

    from tests.workflows.helpers import start_prison_case

    other = start_prison_case(users, agencies, person={"name": "Per", "national_id": "29822099635"})
    assert web("nils").get(f"/cases/{other.pk}/attachments/{attachment.pk}/").status_code == 404


def test_the_author_corrects_and_withdraws_a_note_from_the_page(web, users, prison_case):
    note = services.add_note(actor=users["nils"], case=prison_case.pk, text="Første")
    assert "Rett eller trekk tilbake" in section(page(web, "nils", prison_case))
    assert "Rett eller trekk tilbake" not in section(page(web, "nora", prison_case))

    client = web("nils")
    corrected = client.post(f"/cases/{prison_case.pk}/notes/{note.pk}/correct/", {"text": "Rettet", "version": 1})
    assert corrected.status_code == 302
    html = section(client.get(f"/cases/{prison_case.pk}/").content.decode())
    assert "Rettet" in html and "Tidligere versjon (1)" in html and "Første" in html

    stale = client.post(f"/cases/{prison_case.pk}/notes/{note.pk}/correct/", {"text": "x", "version": 1}, follow=True)
    assert "endret etter at du åpnet" in stale.content.decode()
    withdrawn = client.post(f"/cases/{prison_case.pk}/notes/{note.pk}/withdraw/", {"version": 2, "confirm": "on"})
    assert withdrawn.status_code == 302
    assert Note.objects.get().is_withdrawn
    assert "Trukket tilbake" in section(client.get(f"/cases/{prison_case.pk}/").content.decode())


def _correction_form_defaults(html: str, note) -> dict:
    """What a browser posts from the note's correction form when only the text is changed:
    its hidden version and the category option it has chosen (the selected one, else the first)."""
    form = html.split(f'action="/cases/{note.case_id}/notes/{note.pk}/correct/"')[1].split("</form>")[0]
    select = form.split(f'id="note-{note.pk}-category"')[1].split("</select>")[0]
    chosen = re.search(r'<option value="(\w+)" selected', select) or re.search(r'<option value="(\w+)"', select)
    version = re.search(r'name="version" value="(\d+)"', form)
    assert chosen and version
    return {"category": chosen.group(1), "version": version.group(1)}


def test_a_correction_from_the_page_never_moves_a_note_out_of_a_category_its_writer_lost(
    web, users, agencies, prison_case, consent_basis
):
    """NAV wrote a health note while the person let it see health data; the consent is
    withdrawn. The correction form offered economy first and chose it, so fixing a typo moved
    the health note to economy, which the housing coordinator reads. Now the form keeps the
    note's category: the correction is refused (as the API refuses it) until NAV chooses."""
    consent = services.record_consent(
        actor=users["bjorn"],
        case=prison_case,
        agency=agencies["nav"],
        categories=["health"],
        purpose="oppfølging",
        legal_basis=consent_basis,
    )
    note = services.add_note(actor=users["nils"], case=prison_case.pk, text="Er i LAR-behandling", category="health")
    services.revoke_consent(actor=users["bjorn"], consent_id=consent.pk)

    html = section(page(web, "nils", prison_case))
    posted = {**_correction_form_defaults(html, note), "text": "Er i LAR-behandling."}
    answer = web("nils").post(f"/cases/{prison_case.pk}/notes/{note.pk}/correct/", posted)
    assert Note.objects.get(pk=note.pk).category == "health"
    assert "LAR" not in section(page(web, "bjorn", prison_case))
    assert answer.status_code == 400
    assert "etaten din kan ikke skrive i denne kategorien" in answer.content.decode()
    assert "kan ikke lenger skrive i notatets kategori" in html


def test_a_note_past_the_agency_s_room_is_refused_in_bokmal_by_the_field(web, users, prison_case, settings):
    settings.NOTE_CASE_MAX_COUNT = 1
    client = web("nils")
    assert client.post(notes_url(prison_case), {"text": "Første"}).status_code == 302
    response = client.post(notes_url(prison_case), {"text": SECRET})
    assert response.status_code == 400
    html = section(response.content.decode())
    assert "så mange som én virksomhet kan skrive i en sak" in html
    assert Note.objects.count() == 1


def test_a_masked_note_is_not_marked_corrected(web, users, prison_case):
    """The reader the note is hidden from is not told its writer corrected it."""
    note = services.add_note(actor=users["nils"], case=prison_case.pk, text=SECRET)
    services.correct_note(actor=users["nils"], case=prison_case.pk, note_id=note.pk, text="Rettet", version=1)
    assert "rettet" in section(page(web, "bjorn", prison_case))
    helga = section(page(web, "helga", prison_case))
    assert "skjult" in helga and "rettet" not in helga
