"""Searching the case list in Chromium on a phone: the words typed find the case, stay in the
search box, and never stand in the address (``web.cases.SEARCHES``); the page passes axe."""

import pytest

from tests.workflows.helpers import start_prison_case

from .conftest import axe_violations, english_on_page, page_checker

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_search_finds_the_case_and_leaves_no_name_in_the_address(as_user, live_server, users, agencies, shipped):
    searched = start_prison_case(users, agencies)  # Ola Nordmann
    start_prison_case(users, agencies, person={"name": "Kari Halvorsen", "national_id": "05840399895"})
    visit, problems = page_checker(as_user, live_server)

    kari = visit("kari", "/cases/", phone=True)
    assert kari.locator("a.person").count() == 2
    kari.get_by_label("Navn, saksnummer eller fødselsdato").fill("nordmann")
    kari.get_by_role("button", name="Filtrer").click()
    kari.wait_for_url("**/cases/?sok=*")

    assert "nordmann" not in kari.url.lower()
    assert [link.get_attribute("href") for link in kari.locator("a.person").all()] == [f"/cases/{searched.pk}/"]
    assert kari.get_by_label("Navn, saksnummer eller fødselsdato").input_value() == "nordmann"
    problems.extend(axe_violations(kari))
    problems.extend(f"English “{p}”" for p in english_on_page(kari))
    assert problems == [], "\n".join(problems)
