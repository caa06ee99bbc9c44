"""The Django admin is for operators, who see no case data (design §2: no silent access for
superusers): records are listed by their keys and states, never with the texts and values
they carry about the person (as corrections hide their old value and incidents their error,
``tests/retention/test_admin.py``, ``tests/workflows/test_scrub_stored_errors.py``)."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from permissions.models import AccessLog, Consent
from workflows.jobs.models import Job, JobKind, OutboxMessage, ReceivedMessage

pytestmark = pytest.mark.django_db

DIAGNOSIS = "F11.2 opioidavhengighet"
NATIONAL_ID = "17912099997"


@pytest.fixture
def web_client_for(users):
    def make(username):
        client = Client()
        client.force_login(users[username])
        return client

    return make


@pytest.fixture
def staff():
    client = Client()
    client.force_login(get_user_model().objects.create_superuser("root-admin", "r@example.org", "pw-1234567"))
    return client


def test_a_consent_s_purpose_and_note_are_not_shown_to_operators(staff, prison_case, agencies, consent_basis):
    consent = Consent.objects.create(
        person=prison_case.person,
        case=prison_case,
        agency=agencies["housing"],
        categories=["health"],
        purpose=f"Oppfølging av {DIAGNOSIS}",
        note=f"Personen har {DIAGNOSIS}",
        legal_basis=consent_basis,
    )
    for url in ("/admin/permissions/consent/", f"/admin/permissions/consent/{consent.pk}/change/"):
        page = staff.get(url)
        assert page.status_code == 200, url
        assert DIAGNOSIS not in page.content.decode(), url
        # Nor whose it is: a consent to share health data names the person a client of the
        # health service. The case (its reference) is how an operator finds it.
        assert "Ola Nordmann" not in page.content.decode(), url


def test_the_access_log_rows_do_not_name_the_person_to_operators(staff, prison_case, web_client_for):
    assert web_client_for("helga").get(f"/cases/{prison_case.pk}/").status_code == 200  # a health read, logged
    row = AccessLog.objects.filter(case=prison_case, category="health").first()
    for url in ("/admin/permissions/accesslog/", f"/admin/permissions/accesslog/{row.pk}/change/"):
        page = staff.get(url)
        assert page.status_code == 200, url
        assert "Ola Nordmann" not in page.content.decode() and "179120" not in page.content.decode(), url


def test_an_outbox_message_s_payload_and_correlations_are_not_shown_to_operators(staff, prison_case):
    message = OutboxMessage.objects.create(
        name="housing_ready",
        payload={"treatment_plan": DIAGNOSIS},
        correlations={"person_national_id": NATIONAL_ID},
        instance=prison_case.instances.first(),
        case=prison_case,
    )
    for url in ("/admin/workflows/outboxmessage/", f"/admin/workflows/outboxmessage/{message.pk}/change/"):
        page = staff.get(url)
        assert page.status_code == 200, url
        text = page.content.decode()
        assert DIAGNOSIS not in text and NATIONAL_ID not in text, url
    # What an operator needs to follow a delivery stays: its name, case, state, and which
    # fields and keys it carries (names, not values).
    text = staff.get(f"/admin/workflows/outboxmessage/{message.pk}/change/").content.decode()
    assert "housing_ready" in text and "treatment_plan" in text and "person_national_id" in text


def test_a_password_reset_job_s_typed_address_is_not_shown_to_operators(staff):
    """The address typed on the password-reset page waits in its job until the worker sends
    the mail (for ever, if it never can): whose, or whether anyone's, is not for operators."""
    assert Client().post("/accounts/password_reset/", {"email": "ukjent.person@eksempel.no"}).status_code == 302
    job = Job.objects.get(kind=JobKind.PASSWORD_RESET)
    page = staff.get(f"/admin/workflows/job/{job.pk}/change/")
    assert page.status_code == 200
    assert "ukjent.person" not in page.content.decode()
    assert "ukjent.person" in job.payload["email"]  # the worker still has it


def test_a_received_message_s_id_is_not_shown_to_operators(staff, prison_case, agencies):
    """A message's ``message_id`` is the sender's own text (``rules.reads_message_id``: the
    sending agency and the coordinator read it): an operator neither reads it nor finds a
    message by guessing it; the message's name, agency, case and moment stay."""
    message_id = f"henvisning-{DIAGNOSIS}-ola-nordmann"
    received = ReceivedMessage.objects.create(
        message_id=message_id, name="release_date_changed", case=prison_case, sender_agency=agencies["prison"]
    )
    for url in (
        "/admin/workflows/receivedmessage/",
        f"/admin/workflows/receivedmessage/{received.pk}/change/",
        f"/admin/workflows/receivedmessage/{received.pk}/delete/",
    ):
        page = staff.get(url)
        assert page.status_code == 200, url
        text = page.content.decode()
        assert DIAGNOSIS not in text and "ola-nordmann" not in text, url
    assert "release_date_changed" in staff.get("/admin/workflows/receivedmessage/").content.decode()
    found = staff.get("/admin/workflows/receivedmessage/", {"q": message_id}).content.decode()
    assert f"/admin/workflows/receivedmessage/{received.pk}/change/" not in found
