"""Who ends a sharing on a provision of law (domain.md: a provision of law is invoked only by
the agency that holds the data; the person's consent can be withdrawn by anyone who works
the case, since withdrawal must be easy). A provision of law is no consent the person can
withdraw: ending it is the holder's decision, as invoking it was. Before, anyone who worked
the case (the health service, NAV the recipient) ended the prison's sharing of release data
with NAV over the API, and the health service saw a withdraw button for it on the case page."""

import pytest
from django.test import Client
from django.urls import reverse

from permissions.models import Consent, LegalBasis
from workflows.services import record_consent


@pytest.fixture
def web(users):
    def make(username):
        client = Client()
        client.force_login(users[username])
        return client

    return make


def _law_sharing(users, agencies, case):
    return record_consent(
        actor=users["kari"],
        case=case,
        agency=agencies["nav"],
        categories=["justice"],
        purpose="Løslatelse",
        legal_basis=LegalBasis.objects.get(law="straffegjennomføringsloven", paragraph="§ 4"),
    )


def _person_consent(users, agencies, case):
    return record_consent(
        actor=users["bjorn"],
        case=case,
        agency=agencies["nav"],
        categories=["health"],
        purpose="Oppfølging",
        legal_basis=LegalBasis.objects.get(law="forvaltningsloven", paragraph="§ 13 a nr. 1"),
    )


@pytest.mark.parametrize("username", ["helga", "nils", "bjorn"])
def test_only_the_holder_ends_a_sharing_on_a_provision_of_law(username, client_for, users, agencies, prison_case):
    sharing = _law_sharing(users, agencies, prison_case)
    answer = client_for(username).post(reverse("api-consent-revoke", args=[sharing.pk]), {}, format="json")
    assert answer.status_code == 403, answer.content
    assert answer.json()["code"] == "consent.revoke_forbidden"
    sharing.refresh_from_db()
    assert sharing.revoked_at is None

    answer = client_for("kari").post(reverse("api-consent-revoke", args=[sharing.pk]), {}, format="json")
    assert answer.status_code == 200, answer.content
    assert Consent.objects.get(pk=sharing.pk).revoked_at is not None


def test_the_persons_consent_is_still_withdrawn_by_anyone_who_works_the_case(client_for, users, agencies, prison_case):
    consent = _person_consent(users, agencies, prison_case)
    answer = client_for("helga").post(reverse("api-consent-revoke", args=[consent.pk]), {}, format="json")
    assert answer.status_code == 200, answer.content


def test_the_case_page_offers_no_withdrawal_of_another_holders_provision(web, users, agencies, prison_case):
    sharing = _law_sharing(users, agencies, prison_case)
    page = web("helga").get(reverse("case", args=[prison_case.pk]))
    assert page.status_code == 200
    assert reverse("consent-revoke", args=[prison_case.pk, sharing.pk]) not in page.content.decode()
    assert web("helga").get(reverse("consent-revoke", args=[prison_case.pk, sharing.pk])).status_code == 404
    assert web("helga").post(reverse("consent-revoke", args=[prison_case.pk, sharing.pk])).status_code == 403
    assert Consent.objects.get(pk=sharing.pk).revoked_at is None
    page = web("kari").get(reverse("case", args=[prison_case.pk]))
    assert reverse("consent-revoke", args=[prison_case.pk, sharing.pk]) in page.content.decode()
