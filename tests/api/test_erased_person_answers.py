"""What an erased case still answers.

An erased case's person is a tombstone whose national id column holds no number
(``retention.erasure.tombstone_id``). The pages and answers that show the person's masked
number after the erasure (the person's path, the person's access report, which the case's
participants, its coordinator and auditors still read) masked it as a number and failed
with a server error; they show it as asterisks."""

import pytest
from django.test import Client
from django.urls import reverse

from core.national_id import shown_masked
from permissions.models import LegalBasis
from retention.erasure import erase_case
from retention.models import ErasureTrigger
from tests.retention.test_erasure_meets_writers import closed_long_ago
from tests.workflows.test_follow_on import finished_referral
from workflows import services

pytestmark = pytest.mark.django_db

STARS = "*" * 11


@pytest.fixture
def erased(users, agencies, shipped):
    referral = finished_referral(users, agencies)
    basis = LegalBasis.objects.filter(is_consent=True, active=True).order_by("pk").first()
    services.record_consent(
        actor=users["bjorn"],
        case=referral,
        agency=agencies["nav"],
        categories=["housing"],
        purpose="Oppfølging av leieforholdet",
        legal_basis=basis,
    )
    closed_long_ago(referral)
    erase_case(referral.pk, trigger=ErasureTrigger.RETENTION)
    referral.refresh_from_db()
    assert not referral.person.national_id.isdigit()  # the tombstone's
    return referral


def test_the_person_s_path_and_access_report_of_an_erased_case_answer(erased, client_for):
    nils, bjorn, aud = client_for("nils"), client_for("bjorn"), client_for("aud")

    path = nils.get(reverse("api-case-person", args=[erased.pk]))
    report = bjorn.get(reverse("api-person-access-report", args=[erased.pk]))
    audited = aud.get(reverse("api-person-access-report", args=[erased.pk]))

    assert (path.status_code, report.status_code, audited.status_code) == (200, 200, 200)
    assert path.json()["national_id"] == STARS
    assert report.json()["person"]["national_id"] == STARS == audited.json()["person"]["national_id"]


def test_the_pages_of_an_erased_case_s_person_answer(erased, users):
    for username, name in (("nils", "case-person"), ("bjorn", "person-access-report")):
        browser = Client()
        browser.force_login(users[username])
        page = browser.get(reverse(name, args=[erased.pk]))
        assert page.status_code == 200, (name, page.status_code)
        assert STARS in page.content.decode()


def test_shown_masked_masks_a_number_and_hides_anything_else():
    assert shown_masked("17912099997") == "179120*****"
    for stored in ("X0000000001", "", None, "1791209999"):
        assert shown_masked(stored) == STARS
