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
