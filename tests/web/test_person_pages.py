"""The person page and the follow-on form of the case page, with every other user refused."""

import re

import pytest
from django.contrib.auth.models import Group

from permissions.models import AccessLog, Agency, AgencyKind
from tests.workflows.test_follow_on import finished_referral
from workflows.models import Case

from .conftest import CAST

pytestmark = pytest.mark.django_db

PARTICIPANTS = {"kari", "nils", "nora", "helga", "bjorn"}


@pytest.mark.parametrize("username", CAST)
def test_the_person_page_follows_the_case_rules(web, prison_case, username):
    answer = web(username).get(f"/cases/{prison_case.pk}/person/")
    assert answer.status_code == (200 if username in PARTICIPANTS else 404)
    if username in PARTICIPANTS:
        page = answer.content.decode()
        assert "Personens forløp" in page and prison_case.reference in page
        assert AccessLog.objects.filter(user__username=username, item="person", case=prison_case).count() == 1
    else:
        assert "Nordmann" not in answer.content.decode()


@pytest.mark.parametrize("username", CAST)
def test_only_a_housing_contact_gets_and_uses_the_follow_on_form(web, prison_case, username):
    client = web(username)
    page = client.get(f"/cases/{prison_case.pk}/")
    if username in PARTICIPANTS:
        assert ('id="follow-on"' in page.content.decode()) == (username == "bjorn")
    answer = client.post(f"/cases/{prison_case.pk}/follow-on/", {"process": "settling_in"})
    expected = 302 if username == "bjorn" else 403 if username in PARTICIPANTS else 404
    assert answer.status_code == expected
    assert prison_case.follow_ons.count() == (1 if username == "bjorn" else 0)


def test_a_follow_on_from_the_case_page_in_bokmal(web, prison_case):
    answer = web("bjorn").post(
        f"/cases/{prison_case.pk}/follow-on/",
        {"process": "settling_in", "consent_categories": ["housing"]},
        follow=True,
    )
    page = answer.content.decode()
    assert "er opprettet" in page and "Følger opp" in page and prison_case.reference in page
    bad = web("bjorn").post(f"/cases/{prison_case.pk}/follow-on/", {"process": "housing_referral"})
    assert bad.status_code == 400 and "denne prosessen tar ikke over noe" in bad.content.decode()


def test_a_second_follow_on_of_the_same_process_is_refused_on_the_page_while_the_first_is_open(web, prison_case):
    """A double submit of the form started two settling-in cases; the refusal is shown on
    the case page with 409 (the page's views turn only 404 and 403 into pages of their own)."""
    client = web("bjorn")
    assert client.post(f"/cases/{prison_case.pk}/follow-on/", {"process": "settling_in"}).status_code == 302
    again = client.post(f"/cases/{prison_case.pk}/follow-on/", {"process": "settling_in"})
    assert again.status_code == 409 and "saken har allerede en åpen neste sak" in again.content.decode()
    assert prison_case.follow_ons.count() == 1


def test_anonymous_users_go_to_the_login(web, prison_case):
    assert web(None).get(f"/cases/{prison_case.pk}/person/").status_code == 302
    assert web(None).post(f"/cases/{prison_case.pk}/follow-on/", {"process": "settling_in"}).status_code == 302


def test_the_follow_on_form_never_chooses_an_agency_for_the_housing_contact(web, users, agencies, shipped):
    """A referral (housing, NAV, the municipality) goes on to settling in, which needs the
    health service. With two health services the form chose the first for the housing
    contact (it had no "choose" option), so the new case, the person and the carried data
    went to a service nobody picked; the API refuses a start that names none. Now the form
    asks (as the start form does) and a post of its defaults starts nothing."""
    name = "A-senteret rusbehandling"
    group = Group.objects.create(name=f"agency:{name}")
    other = Agency.objects.create(name=name, kind=AgencyKind.HEALTH, municipality="Sarpsborg", group=group)
    referral = finished_referral(users, agencies)
    client = web("bjorn")
    form = client.get(f"/cases/{referral.pk}/sections/follow-on/", HTTP_HX_REQUEST="true").content.decode()
    select = form.split('name="participant_health"')[1].split("</select>")[0]
    chosen = re.search(r'<option value="(\d*)"[^>]* selected', select) or re.search(r'<option value="(\d*)"', select)
    answer = client.post(
        f"/cases/{referral.pk}/follow-on/", {"process": "settling_in", "participant_health": chosen.group(1)}
    )
    assert not Case.objects.filter(participants__agency=other).exists()
    assert answer.status_code == 400 and referral.follow_ons.count() == 0
    assert "velg" in select
