"""Issue 13, points 2, 3 and 11: pages say things in words, not codes, and dates one way."""

import pytest

from tests.ids import tid
from workflows.services import record_consent

from .conftest import INTAKE_NO_HOME, open_task

pytestmark = pytest.mark.django_db


def test_the_case_page_and_list_name_the_process_not_its_id(web, prison_case, shipped):
    name = shipped["prison_release_to_housing"].name
    client = web("kari")
    for page in (client.get(f"/cases/{prison_case.pk}/"), client.get("/cases/")):
        html = page.content.decode()
        assert name in html and ">prison_release_to_housing<" not in html


def test_the_language_picker_names_each_language_in_itself(web, users):
    page = web("kari").get("/tasks/").content.decode()
    assert '<option value="en" lang="en" >English</option>' in page.replace("  ", " ")
    assert "Engelsk" not in page


def test_saved_consents_name_the_categories_in_words(web, users, agencies, prison_case, consent_basis):
    record_consent(
        actor=users["bjorn"],
        case=prison_case.pk,
        agency=agencies["nav"].pk,
        categories=["housing", "health"],
        purpose="Økonomisk rådgivning",
        legal_basis=consent_basis,
    )
    page = web("bjorn").get(f"/cases/{prison_case.pk}/").content.decode()
    consents = page[page.index('id="consents"') : page.index('class="record-consent"')]
    assert "bolig, helse" in consents and "housing, health" not in consents


def test_dates_in_data_cards_are_written_the_norwegian_way_and_choices_by_their_label(web, prison_case):
    intake = open_task(prison_case, "Task_intake_interview")
    assert web("kari").post(f"/tasks/{tid(intake.pk)}/", INTAKE_NO_HOME).status_code == 302
    page = web("kari").get(f"/cases/{prison_case.pk}/").content.decode()
    assert "1. mars 2027" in page and "2027-03-01" not in page.replace('datetime="2027-03-01', "")
    assert "Uten bolig" in page and "uten_bolig" not in page
