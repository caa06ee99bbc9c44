"""The caseload pages: the responsible contact on the case page, the lead's reassignment
form, the caseload page, the inbox tab, and every other user refused."""

import pytest

from workflows.models import Event, EventKind

from .conftest import CAST

pytestmark = pytest.mark.django_db


def test_the_case_page_names_the_responsible_and_only_the_lead_gets_the_form(web, prison_case):
    page = web("nils").get(f"/cases/{prison_case.pk}/").content.decode()
    assert "Bjørn Boligkontakt" in page and 'id="reassign"' not in page
    assert 'id="reassign"' not in web("bjorn").get(f"/cases/{prison_case.pk}/").content.decode()
    page = web("lise").get(f"/cases/{prison_case.pk}/").content.decode()
    assert 'id="reassign"' in page and "Tore Boligkontakt" in page


def test_the_lead_reassigns_in_bokmal(web, prison_case, users):
    answer = web("lise").post(f"/cases/{prison_case.pk}/responsible/", {"responsible": users["tore"].pk}, follow=True)
    assert "Tore Boligkontakt er nå ansvarlig for saken." in answer.content.decode()
    prison_case.refresh_from_db()
    assert prison_case.responsible == users["tore"]
    # The event, in the case page's events (a folded section, loaded when opened).
    assert "Ny ansvarlig boligkontakt" in web("kari").get(f"/cases/{prison_case.pk}/sections/events/").content.decode()


@pytest.mark.parametrize("value", ["", "x", "99999999999999999999999", "-1"])
def test_a_bad_choice_is_a_400_in_bokmal(web, prison_case, users, value):
    answer = web("lise").post(f"/cases/{prison_case.pk}/responsible/", {"responsible": value})
    assert answer.status_code == 400
    assert "den ansvarlige må være boligkontakt i Boligkontaktene Sarpsborg" in answer.content.decode()


def test_a_non_contact_is_refused(web, prison_case, users):
    answer = web("lise").post(f"/cases/{prison_case.pk}/responsible/", {"responsible": users["nils"].pk})
    assert answer.status_code == 400
    prison_case.refresh_from_db()
    assert prison_case.responsible == users["bjorn"]


@pytest.mark.parametrize("username", CAST)
def test_nobody_else_reassigns_or_reads_the_caseload(web, prison_case, users, username):
    participants = {"kari", "nils", "nora", "helga", "bjorn"}
    client = web(username)
    answer = client.post(f"/cases/{prison_case.pk}/responsible/", {"responsible": users["tore"].pk})
    assert answer.status_code == (403 if username in participants else 404)
    assert client.get(f"/cases/{prison_case.pk}/responsible/").status_code == 405
    assert client.get("/caseload/").status_code == 403
    assert not Event.objects.filter(kind=EventKind.RESPONSIBLE_CHANGED).exists()
    assert 'href="/caseload/"' not in client.get("/tasks/").content.decode()


def test_anonymous_users_go_to_the_login(web, prison_case, users):
    assert web(None).get("/caseload/").status_code == 302
    assert web(None).post(f"/cases/{prison_case.pk}/responsible/", {"responsible": users["tore"].pk}).status_code == 302


def test_the_lead_sees_the_caseload_counts(web, prison_case):
    client = web("lise")
    page = client.get("/caseload/").content.decode()
    assert "Saksmengde" in page and "Bjørn Boligkontakt" in page and "Ingen ansvarlig" in page
    assert "Ola Nordmann" not in page and prison_case.reference not in page  # counts only
    assert 'href="/caseload/"' in client.get("/tasks/").content.decode()


def test_the_inbox_tab_lists_the_tasks_of_my_cases(web, prison_case):
    page = web("bjorn").get("/tasks/?tab=responsible").content.decode()
    assert "Mine som ansvarlig" in page and prison_case.reference in page
    page = web("hanne").get("/tasks/?tab=responsible").content.decode()
    assert "Ingen åpne oppgaver i sakene du er ansvarlig for." in page
