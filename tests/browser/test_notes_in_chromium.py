"""Notes and attachments in Chromium on a phone: nils writes an economy note in place
(htmx), bjorn attaches a signed consent and downloads it, helga sees both masked."""

import os
from pathlib import Path

import pytest

from tests.browser.conftest import SCREENSHOTS
from tests.workflows.helpers import start_prison_case
from tests.workflows.test_attachments import PDF
from workflows.notes import Attachment, Note

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PHONE = {"width": 390, "height": 844}
SECRET = "Har 40 000 kr i gjeld til Lindorff"


def test_notes_and_an_attachment_on_a_phone(as_user, live_server, users, agencies, shipped, tmp_path):
    case = start_prison_case(users, agencies)
    case_url = f"{live_server.url}/cases/{case.pk}/"

    nils = as_user("nils", **PHONE)
    nils.goto(case_url)
    nils.locator("#notes summary", has_text="Skriv et notat").click()
    nils.get_by_label("Notat", exact=True).fill(SECRET)
    nils.get_by_role("button", name="Lagre notatet").click()
    nils.locator("#notes .note-text", has_text=SECRET).wait_for()
    assert nils.url == case_url  # written in place: the page did not change
    assert nils.locator("#messages", has_text="Notatet er lagret.").is_visible()
    assert Note.objects.get().category == "economy"
    width = nils.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the case page is {width}px wide on a {PHONE['width']}px phone"

    bjorn = as_user("bjorn", **PHONE)
    bjorn.goto(case_url)
    bjorn.locator("#notes summary", has_text="Legg til et vedlegg").click()
    signed = tmp_path / "signert samtykke.pdf"
    signed.write_bytes(PDF)
    bjorn.get_by_label("Fil", exact=True).set_input_files(str(signed))
    bjorn.get_by_role("button", name="Last opp").click()
    link = bjorn.locator("#notes a", has_text="signert samtykke.pdf")
    link.wait_for()
    assert bjorn.locator("#notes .note-text", has_text=SECRET).is_visible()  # the coordinator reads economy
    with bjorn.expect_download() as download:
        link.click()
    assert Path(download.value.path()).read_bytes() == PDF
    assert Attachment.objects.get().category == "housing"
    bjorn.locator("#notes summary", has_text="Skriv et notat").click()
    bjorn.locator("#notes").screenshot(
        path=str(SCREENSHOTS if os.environ.get("BROBYGGER_SCREENSHOTS") == "docs" else tmp_path)
        + "/case-notes-phone.png"
    )

    helga = as_user("helga", **PHONE)
    helga.goto(case_url)
    notes = helga.locator("#notes")
    assert SECRET not in notes.inner_text() and "signert samtykke" not in notes.inner_text()
    assert notes.locator(".masked-badge").count() == 2
