"""The process admin's page of legal bases (issue 11, point 1): list, add, edit, retire and
delete in bokmål, errors by the field; in the process admin's menu; every other role refused."""

import pytest

from permissions.models import LegalBasis

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
NEW = {
    "law": "barnevernsloven",
    "paragraph": "§ 13-4",
    "title": "Opplysninger til barnevernet",
    "categories": ["housing", "health"],
    "agency_kinds": ["municipality"],
    "position": "50",
}
NOT_ADMINS = ("kari", "nils", "helga", "bjorn", "lise", "siri", "mona", "aud", "leif", "nina", "oscar")


def test_the_process_admin_finds_the_list_in_the_menu_and_adds_one(web, legal_bases):
    ada = web("ada")
    page = ada.get("/processes/").content.decode()
    assert 'href="/legal-bases/"' in page and "Hjemler" in page
    listing = ada.get("/legal-bases/")
    html = listing.content.decode()
    assert listing.status_code == 200 and 'aria-current="page"' in html
    assert "forvaltningsloven § 13 a nr. 1" in html and "Samtykke fra personen" in html

    form = ada.get("/legal-bases/new/")
    assert form.status_code == 200 and "Legg til en hjemmel" in form.content.decode()
    saved = ada.post("/legal-bases/new/", NEW)
    assert saved.status_code == 302 and saved["Location"] == "/legal-bases/"
    basis = LegalBasis.objects.get(law="barnevernsloven")
    assert (basis.paragraph, basis.categories, basis.agency_kinds, basis.position, basis.active) == (
        "§ 13-4",
        ["housing", "health"],
        ["municipality"],
        50,
        True,
    )
    assert "Hjemmelen barnevernsloven § 13-4 er lagt til." in ada.get("/legal-bases/").content.decode()


def test_errors_show_by_the_field_in_bokmal_and_nothing_is_saved(web, legal_bases):
    ada = web("ada")
    before = LegalBasis.objects.count()
    refused = ada.post("/legal-bases/new/", {**NEW, "law": "", "categories": [], "position": "x"})
    assert refused.status_code == 400
    html = refused.content.decode()
    assert "Hjemmelen er ikke lagret" in html
    assert "feltet må fylles ut" in html
    assert "velg minst én datakategori den gjelder" in html and "oppgi et helt tall fra 0 til 32767" in html
    assert 'value="barnevernsloven"' not in html and 'value="§ 13-4"' in html  # what was typed stays
    with_htmx = ada.post("/legal-bases/new/", {**NEW, "law": ""}, **HTMX)
    assert with_htmx.status_code == 200 and "Hjemmelen er ikke lagret" in with_htmx.content.decode()
    duplicate = ada.post("/legal-bases/new/", {**NEW, "law": "forvaltningsloven", "paragraph": "§ 13 a nr. 1"})
    assert duplicate.status_code == 400 and "har allerede en hjemmel med dette avsnittet" in duplicate.content.decode()
    assert LegalBasis.objects.count() == before


def test_the_process_admin_edits_retires_and_deletes(web, legal_bases, consent_basis):
    ada = web("ada")
    ada.post("/legal-bases/new/", NEW)
    basis = LegalBasis.objects.get(law="barnevernsloven")
    form = ada.get(f"/legal-bases/{basis.pk}/").content.decode()
    assert 'value="Opplysninger til barnevernet"' in form and 'id="legal-basis-active"' in form
    saved = ada.post(f"/legal-bases/{basis.pk}/", {**NEW, "title": "Endret", "active": "on"})
    assert saved.status_code == 302
    basis.refresh_from_db()
    assert basis.title == "Endret" and basis.active

    assert ada.post(f"/legal-bases/{basis.pk}/retire/").status_code == 302
    basis.refresh_from_db()
    assert not basis.active
    again = ada.post(f"/legal-bases/{basis.pk}/retire/", follow=True).content.decode()
    assert "allerede avviklet" in again
    assert ada.post(f"/legal-bases/{basis.pk}/delete/").status_code == 302
    assert not LegalBasis.objects.filter(pk=basis.pk).exists()
    assert ada.get(f"/legal-bases/{basis.pk}/").status_code == 404


@pytest.fixture
def consent_in_use(users, agencies, prison_case, consent_basis):
    """A consent recorded under ``consent_basis``: the basis is in use."""
    from workflows import services

    return services.record_consent(
        actor=users["helga"],
        case=prison_case.pk,
        agency=agencies["nav"].pk,
        categories=["health"],
        purpose="Bolig",
        legal_basis=consent_basis.pk,
    )


def test_one_that_consents_rest_on_offers_retire_not_delete(web, consent_basis, consent_in_use):
    ada = web("ada")
    row = ada.get("/legal-bases/").content.decode()
    assert f'id="retire-legal-basis-{consent_basis.pk}"' in row
    assert f'id="delete-legal-basis-{consent_basis.pk}"' not in row
    refused = ada.post(f"/legal-bases/{consent_basis.pk}/delete/", follow=True)
    assert "så den kan ikke slettes: avvikle den i stedet" in refused.content.decode()
    assert LegalBasis.objects.filter(pk=consent_basis.pk).exists()


@pytest.mark.parametrize("username", NOT_ADMINS)
def test_no_other_role_sees_or_writes_the_list(web, consent_basis, username):
    client = web(username)
    before = list(LegalBasis.objects.order_by("pk").values())
    assert 'href="/legal-bases/"' not in client.get("/tasks/").content.decode()
    for url in ("/legal-bases/", "/legal-bases/new/", f"/legal-bases/{consent_basis.pk}/"):
        assert client.get(url).status_code == 403
    assert client.post("/legal-bases/new/", NEW).status_code == 403
    assert client.post(f"/legal-bases/{consent_basis.pk}/", {**NEW, "active": "on"}).status_code == 403
    assert client.post(f"/legal-bases/{consent_basis.pk}/retire/").status_code == 403
    assert client.post(f"/legal-bases/{consent_basis.pk}/delete/").status_code == 403
    assert list(LegalBasis.objects.order_by("pk").values()) == before


def test_anonymous_is_sent_to_sign_in(web, consent_basis):
    response = web(None).get("/legal-bases/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert web(None).post(f"/legal-bases/{consent_basis.pk}/delete/").status_code == 302
    assert LegalBasis.objects.filter(pk=consent_basis.pk).exists()


def test_one_that_consents_rest_on_keeps_which_provision_it_is(web, consent_basis, consent_in_use):
    form = {
        "law": "forvaltningsloven",
        "paragraph": consent_basis.paragraph,
        "title": consent_basis.title,
        "categories": consent_basis.categories,
        "agency_kinds": consent_basis.agency_kinds,
        "position": str(consent_basis.position),
        "active": "on",
    }  # "is_consent" unticked: made a provision of law
    refused = web("ada").post(f"/legal-bases/{consent_basis.pk}/", form)
    assert refused.status_code == 400
    assert "loven, paragrafen og om den er personens samtykke kan ikke endres" in refused.content.decode()
    consent_basis.refresh_from_db()
    assert consent_basis.is_consent
    kept = web("ada").post(f"/legal-bases/{consent_basis.pk}/", {**form, "is_consent": "on", "title": "Samtykke"})
    assert kept.status_code == 302
