"""A consent to every agency of a kind names the kind as people read it ("NAV", not its code
"nav") where it is withdrawn. Until 2026-12-07 the withdrawal page asked "nav ser ikke lenger
helse ..." and the admin named the consent "1: health -> nav"."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from django.utils import translation

from permissions.models import AgencyKind, Consent, Membership

pytestmark = pytest.mark.django_db


@pytest.fixture
def kind_consent(users, agencies, prison_case, consent_basis):
    """A coordinator of the case (a user of their own, in the coordinator's roles) and the
    person's consent to share health data with every agency of a kind."""
    from workflows.services import record_consent

    coordinator = get_user_model().objects.create_user("koordinator-art", password="x")
    for membership in Membership.objects.filter(user=users["bjorn"]):
        Membership.objects.create(user=coordinator, agency=membership.agency, role=membership.role)
    consent = record_consent(
        actor=coordinator,
        case=prison_case.pk,
        agency_kind=AgencyKind.NAV,
        categories=["health"],
        purpose="Oppfølging",
        legal_basis=consent_basis,
    )
    return coordinator, consent


def test_the_withdrawal_page_names_the_kind_in_words(kind_consent, prison_case):
    coordinator, consent = kind_consent
    client = Client()
    client.force_login(coordinator)
    page = client.get(reverse("consent-revoke", args=[prison_case.pk, consent.pk]))
    assert page.status_code == 200
    content = page.content.decode()
    with translation.override("nb"):
        label = str(AgencyKind(consent.agency_kind).label)
    assert label != consent.agency_kind
    assert f"{label} ser ikke lenger helse" in content


def test_the_consents_name_says_its_categories_and_recipient_in_words(kind_consent):
    _coordinator, consent = kind_consent
    consent = Consent.objects.get(pk=consent.pk)
    with translation.override("nb"):
        name, label = str(consent), str(AgencyKind(consent.agency_kind).label)
    assert name == f"{consent.legal_basis}: helse til {label}"
