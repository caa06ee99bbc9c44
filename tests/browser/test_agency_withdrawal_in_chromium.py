"""Withdrawing an agency from a case on the case page, in Chromium on a desktop and a phone:
the coordinator opens the form, is told in bokmål which field is missing, withdraws the
health service; its worker then finds the case gone. axe-core and bokmål checked on each
page, the form's error state included; nothing on the phone is wider than the screen."""

import pytest

from tests.workflows.helpers import start_prison_case

from .conftest import axe_violations, english_on_page, page_checker

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def wider_than_the_screen(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth > window.innerWidth")


@pytest.mark.parametrize("phone", [False, True], ids=["desktop", "phone"])
def test_the_coordinator_withdraws_an_agency_on_the_case_page(as_user, live_server, users, agencies, shipped, phone):
    visit, problems = page_checker(as_user, live_server)
    case = start_prison_case(users, agencies)
    path = f"/cases/{case.pk}/"

    bjorn = visit("bjorn", path, phone=phone)
    bjorn.locator("#withdraw-agency summary").click()
    bjorn.get_by_label("Etat", exact=True).select_option(str(agencies["health"].pk))
    bjorn.locator("#withdraw-submit").click()
    bjorn.locator("#withdraw-reason-error").get_by_text("feltet må fylles ut").wait_for()
    problems.extend(f"bjorn form with errors: {v}" for v in axe_violations(bjorn))
    problems.extend(f"bjorn form with errors: English “{p}”" for p in english_on_page(bjorn))
    assert not wider_than_the_screen(bjorn)

    bjorn.get_by_label("Begrunnelse (vises i hendelsesloggen)").fill("Helsetjenesten har avsluttet oppfølgingen")
    bjorn.locator("#withdraw-submit").click()
    bjorn.locator("#messages").get_by_text("er trukket ut av saken").wait_for()
    assert not case.participants.filter(agency=agencies["health"]).exists()
    visit("bjorn", path, phone=phone)  # the page after it, checked
    assert not wider_than_the_screen(bjorn)

    helga = visit("helga", "/cases/", phone=phone)
    assert helga.locator(f'a[href="{path}"]').count() == 0
    assert problems == [], "\n".join(problems)
