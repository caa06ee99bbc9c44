"""The Django admin is for agencies, users and the machinery; it shows no case data, to a
superuser neither (design §2: "superusers get no silent access to sensitive case data").

The prison case with a value in every category, a consent (purpose and note about the
person), an access-log row naming the person, and a message the case threw carrying a
health value and correlated on the person's national id: every list and page of the admin
that shows these rows is opened by a superuser, and none carries the person's name, national
id, a case value or the consent's free text."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from permissions.models import AccessLog
from tests.permissions.conftest import PERSON
from workflows.models import OutboxMessage, ProcessInstance, ReceivedMessage
from workflows.services import record_consent

pytestmark = pytest.mark.django_db

PURPOSE = "Samarbeid om bolig etter LAR-behandling på Blå Kors"
NOTE = "Personen ba om at fastlegen Dr. Hansen ikke varsles"
SECRETS = (
    PERSON["name"],
    PERSON["national_id"],
    PERSON["national_id"][:6],
    "LAR, oppfølging hver uke",
    PURPOSE,
    NOTE,
)


@pytest.fixture
def rows(users, agencies, prison_case, consent_basis):
    consent = record_consent(
        actor=users["bjorn"],
        case=prison_case.pk,
        agency=agencies["nav"].pk,
        categories=["health"],
        purpose=PURPOSE,
        note=NOTE,
        legal_basis=consent_basis,
    )
    client = Client()
    client.force_login(users["nils"])  # NAV reads the case: its health read is logged
    assert client.get(f"/cases/{prison_case.pk}/").status_code == 200
    log = AccessLog.objects.filter(case=prison_case, person__isnull=False).first()
    assert log is not None
    instance = ProcessInstance.objects.get(case=prison_case)
    # A thrown message as the step writes it (``steps.runner._send_to_outbox``): its payload
    # is the case's values, its correlation the person's national id.
    outbox = OutboxMessage.objects.create(
        name="housing_ready",
        instance=instance,
        case=prison_case,
        payload={"treatment_plan": prison_case.data["treatment_plan"]},
        correlations={"person": PERSON["national_id"]},
    )
    received = ReceivedMessage.objects.filter(case=prison_case).first()
    return {"consent": consent, "accesslog": log, "outboxmessage": outbox, "receivedmessage": received}


@pytest.fixture
def root():
    client = Client()
    client.force_login(get_user_model().objects.create_superuser("root-admin", "r@example.org", "pw-1234567"))
    return client


def assert_no_case_data(page, where):
    assert page.status_code == 200, where
    text = page.content.decode()
    for secret in SECRETS:
        assert secret not in text, f"{where} shows {secret!r}"


def test_the_admin_shows_a_superuser_no_case_data(root, rows):
    for app, model in (
        ("permissions", "consent"),
        ("permissions", "accesslog"),
        ("workflows", "outboxmessage"),
        ("workflows", "receivedmessage"),
        ("workflows", "incident"),
        ("workflows", "job"),
    ):
        assert_no_case_data(root.get(f"/admin/{app}/{model}/"), f"{model} list")
        row = rows.get(model)
        if row is not None:
            assert_no_case_data(root.get(f"/admin/{app}/{model}/{row.pk}/change/"), f"{model} page")


def test_the_admin_keeps_which_provision_a_used_legal_basis_is(root, rows, consent_basis):
    """As on the page and the API (``LegalBasis.FIXED_WHEN_IN_USE``): a consent rests on it."""
    url = f"/admin/permissions/legalbasis/{consent_basis.pk}/change/"
    form = {
        "law": "sosialtjenesteloven",
        "paragraph": "§ 99",
        "title": consent_basis.title,
        "categories": consent_basis.categories,
        "agency_kinds": consent_basis.agency_kinds,
        "description": consent_basis.description,
        "active": "on",
    }  # "is_consent" unticked
    assert root.post(url, form).status_code == 302
    consent_basis.refresh_from_db()
    assert (consent_basis.law, consent_basis.paragraph, consent_basis.is_consent) == (
        "forvaltningsloven",
        "§ 13 a nr. 1",
        True,
    )
