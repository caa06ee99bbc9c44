"""Issue 13, points 2, 3 and 11: pages say things in words, not codes, and dates one way."""

import pytest

from permissions.models import Consent
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


def test_saved_consents_name_the_categories_in_words_and_the_form_has_no_english_default(
    web, users, agencies, prison_case
):
    record_consent(
        actor=users["bjorn"],
        case=prison_case.pk,
        agency=agencies["nav"].pk,
        categories=["housing", "health"],
        purpose="Økonomisk rådgivning",
    )
    page = web("bjorn").get(f"/cases/{prison_case.pk}/").content.decode()
    consents = page[page.index('id="consents"') : page.index('id="record-consent"')]
    assert "bolig, helse" in consents and "housing, health" not in consents
    form = consents.split("<form")[-1].replace('value="consent" id="consent-basis-consent"', "")
    assert 'value="consent"' not in form


def test_a_legal_basis_is_chosen_by_a_radio_and_named_in_words(web, agencies, prison_case):
    response = web("bjorn").post(
        f"/cases/{prison_case.pk}/consents/",
        {
            "agency": agencies["nav"].pk,
            "categories": ["economy"],
            "purpose": "Gjeldsrådgivning",
            "basis_kind": "legal",
            "legal_basis": "sosialtjenesteloven § 17",
        },
    )
    assert response.status_code == 302
    assert Consent.objects.get(case=prison_case).basis == "sosialtjenesteloven § 17"
    bjorn = web("bjorn")
    empty = bjorn.post(
        f"/cases/{prison_case.pk}/consents/",
        {"agency": agencies["nav"].pk, "categories": ["economy"], "purpose": "x", "basis_kind": "legal"},
    )
    assert empty.status_code == 302
    assert 'id="consent-basis-error"' in bjorn.get(empty["Location"]).content.decode()


def test_dates_in_data_cards_are_written_the_norwegian_way_and_choices_by_their_label(web, prison_case):
    intake = open_task(prison_case, "Task_intake_interview")
    assert web("kari").post(f"/tasks/{intake.pk}/", INTAKE_NO_HOME).status_code == 302
    page = web("kari").get(f"/cases/{prison_case.pk}/").content.decode()
    assert "1. mars 2027" in page and "2027-03-01" not in page.replace('datetime="2027-03-01', "")
    assert "Uten bolig" in page and "uten_bolig" not in page
