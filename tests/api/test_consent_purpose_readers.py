"""A consent's purpose is free text the recorder types ("LAR-behandling" tells of health):
the coordinating agency, the agency that recorded it and its recipient read it; the other
participants read that the consent exists, its recipient, categories and basis."""

import pytest
from django.test import Client

from tests.workflows.helpers import complete, open_tasks

pytestmark = pytest.mark.django_db

TO_NAV = "Økonomisk råd under LAR-behandling"
TO_PRISON = "Løslatelse til bolig med LAR-oppfølging"


@pytest.fixture
def consents(users, agencies, prison_case, client_for, consent_basis):
    (intake,) = open_tasks(prison_case)
    complete(intake, {"has_home": False}, actor=users["kari"])
    url = f"/api/v1/cases/{prison_case.pk}/consents/"
    helga = client_for("helga")
    for recipient, purpose in (({"agency": agencies["nav"].pk}, TO_NAV), ({"agency_kind": "prison"}, TO_PRISON)):
        body = {**recipient, "categories": ["health"], "purpose": purpose, "legal_basis": consent_basis.pk}
        recorded = helga.post(url, body, format="json")
        assert recorded.status_code == 201, recorded.json()
        assert recorded.json()["purpose"] == purpose  # the recorder's own answer
    return url


def _purposes(client_for, reader, url):
    answer = client_for(reader).get(url)
    assert answer.status_code == 200
    rows = answer.json()["results"]
    assert sorted(row["categories"] == ["health"] for row in rows) == [True, True]  # both listed
    return {row["agency"]["kind"] if row["agency"] else row["agency_kind"]: row["purpose"] for row in rows}


@pytest.mark.parametrize(
    ("reader", "nav_purpose", "prison_purpose"),
    [
        ("helga", TO_NAV, TO_PRISON),  # the recording agency
        ("bjorn", TO_NAV, TO_PRISON),  # the coordinating agency
        ("nils", TO_NAV, ""),  # NAV: recipient of the first only
        ("nora", TO_NAV, ""),
        ("kari", "", TO_PRISON),  # the prison: recipient (by its kind) of the second only
    ],
)
def test_a_consent_s_purpose_is_read_by_its_recorder_the_coordinator_and_its_recipient(
    consents, client_for, reader, nav_purpose, prison_purpose
):
    assert _purposes(client_for, reader, consents) == {"nav": nav_purpose, "prison": prison_purpose}


def test_the_case_page_shows_the_purpose_to_the_same_readers(consents, users, prison_case):
    def page(reader):
        client = Client()
        client.force_login(users[reader])
        answer = client.get(f"/cases/{prison_case.pk}/")
        assert answer.status_code == 200
        return answer.content.decode()

    kari, nils, bjorn = page("kari"), page("nils"), page("bjorn")
    assert TO_PRISON in kari and TO_NAV not in kari and "NAV Sarpsborg</strong>" in kari  # the consent is listed
    assert TO_NAV in nils and TO_PRISON not in nils
    assert TO_NAV in bjorn and TO_PRISON in bjorn


def test_a_withdrawal_s_answer_gives_the_purpose_only_to_its_readers(consents, client_for):
    rows = client_for("kari").get(consents).json()["results"]
    to_nav = next(row for row in rows if row["agency"])
    withdrawn = client_for("kari").post(f"/api/v1/consents/{to_nav['id']}/revoke/")
    assert withdrawn.status_code == 200, withdrawn.json()
    assert withdrawn.json()["revoked_at"] and withdrawn.json()["purpose"] == ""


def test_the_recording_agency_is_the_one_it_was_recorded_for_not_where_its_recorder_works_now(
    users, agencies, prison_case, client_for, consent_basis
):
    """Helga records, for the health service, the person's consent to NAV with a purpose and a
    note in the health service's words; then she changes jobs to the prison. The purpose and
    the note stay the health service's: before, "the agency that recorded it" was read from
    where its recorder works now, so every prison officer read them (the prison is no party to
    the sharing) and Helga's health colleagues no longer did."""
    from permissions.models import Membership, Role

    (intake,) = open_tasks(prison_case)
    complete(intake, {"has_home": False}, actor=users["kari"])
    url = f"/api/v1/cases/{prison_case.pk}/consents/"
    note = "Personen er i LAR-behandling"
    body = {"agency": agencies["nav"].pk, "categories": ["health"], "purpose": TO_NAV, "legal_basis": consent_basis.pk}
    assert client_for("helga").post(url, {**body, "note": note}, format="json").status_code == 201
    colleague = type(users["helga"]).objects.create_user("hege", password="x")
    Membership.objects.create(user=colleague, agency=agencies["health"], role=Role.MEMBER)
    users["hege"] = colleague

    Membership.objects.filter(user=users["helga"]).delete()
    Membership.objects.create(user=users["helga"], agency=agencies["prison"], role=Role.MEMBER)

    (prison_row,) = client_for("kari").get(url).json()["results"]
    assert (prison_row["purpose"], prison_row["note"]) == ("", "")
    (health_row,) = client_for("hege").get(url).json()["results"]
    assert (health_row["purpose"], health_row["note"]) == (TO_NAV, note)
    page = Client()
    page.force_login(users["kari"])
    assert TO_NAV not in page.get(f"/cases/{prison_case.pk}/").content.decode()
