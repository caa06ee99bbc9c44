"""The process admin keeps the list of legal bases in Chromium (issue 11, point 1): the list,
the form with its errors, adding, editing and retiring, on a desktop and on a phone; every
page passes axe-core and speaks bokmål, and nothing is wider than the phone."""

import pytest

from permissions.models import LegalBasis

from .conftest import overflow_px, page_checker

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _fits(page) -> bool:
    return overflow_px(page) == 0


@pytest.mark.parametrize("phone", [False, True], ids=["desktop", "phone"])
def test_ada_adds_edits_and_retires_a_legal_basis(as_user, live_server, legal_bases, phone):
    visit, problems = page_checker(as_user, live_server)
    page = visit("ada", "/legal-bases/", phone=phone)
    assert page.get_by_role("link", name="Hjemler").get_attribute("aria-current") == "page"
    assert _fits(page)

    page = visit("ada", "/legal-bases/new/", phone=phone)
    page.get_by_role("button", name="Lagre").click()  # nothing filled in
    page.wait_for_selector(".error-summary")
    problems.extend(f"form with errors: {v}" for v in _checked(page))
    assert "feltet må fylles ut" in page.inner_text("#legal-basis-form")

    page.get_by_label("Lov", exact=True).fill("barnevernsloven")
    page.get_by_label("Paragraf").fill("§ 13-4")
    page.get_by_label("Tittel").fill("Opplysninger til barnevernet")
    page.locator("#legal-basis-category-housing").check()
    page.locator("#legal-basis-kind-municipality").check()
    page.get_by_role("button", name="Lagre").click()
    page.wait_for_selector("text=Hjemmelen barnevernsloven § 13-4 er lagt til.")
    basis = LegalBasis.objects.get(law="barnevernsloven")
    assert (basis.categories, basis.agency_kinds) == (["housing"], ["municipality"])
    problems.extend(f"list after adding: {v}" for v in _checked(page))
    assert _fits(page)

    page = visit("ada", f"/legal-bases/{basis.pk}/", phone=phone)
    page.get_by_label("Tittel").fill("Endret tittel")
    page.get_by_role("button", name="Lagre").click()
    page.wait_for_selector("text=Hjemmelen barnevernsloven § 13-4 er lagret.")
    page.locator(f"#retire-legal-basis-{basis.pk}").click()
    page.wait_for_selector("text=er avviklet: ingen nye samtykker kan bygge på den.")
    basis.refresh_from_db()
    assert (basis.title, basis.active) == ("Endret tittel", False)
    assert problems == [], "\n".join(problems)


def _checked(page):
    from .conftest import axe_violations, english_on_page

    return [*axe_violations(page), *(f"English “{phrase}”" for phrase in english_on_page(page))]
