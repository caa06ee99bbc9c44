"""A consent's expiry is a day case work can have (h-inputs). The consent form's date input had
no ``min`` or ``max``, and the service refused only a time already past: a typo's year 2999
was recorded (a consent "until 2999" is one that never ends, unlike what was meant), and the
year 20250, which the date input takes, was refused on the page as "expected an ISO 8601
date-time". A consent given until a day applies through that day in Oslo (it expires at
23:59 Oslo time), so the first day is today in Oslo and the last 2199-12-31, the last day a
form's date may have (``date_range.DATE_MAX``): the API refuses another with 400 naming
``expires_at`` in bokmål, the page at the field, and the input offers only those days."""

import datetime
import re

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.tokens import issue
from permissions.models import Consent, Membership, Role
from tests.clients import web
from tests.workflows.helpers import PRISON_PARTICIPANTS
from workflows import services

pytestmark = pytest.mark.django_db

PERSON = {"name": "Samtykke Samtykkesen", "national_id": "29822099635"}
TOO_LATE = "må være en dato senest 2199-12-31"


@pytest.fixture
def case_and_coordinator(shipped, agencies):
    """A prison-release case started by a prison worker of their own, and a coordinator of
    their own in the case's coordinating agency, who records the person's consents."""
    starter = get_user_model().objects.create_user("fengsel-samtykke")
    Membership.objects.create(user=starter, agency=agencies["prison"], role=Role.MEMBER)
    case = services.start_case(
        actor=starter,
        process_key="prison_release_to_housing",
        person=PERSON,
        participants={kind: agencies[kind].pk for kind in PRISON_PARTICIPANTS},
    )
    coordinator = get_user_model().objects.create_user("koordinator-samtykke")
    Membership.objects.create(user=coordinator, agency=case.coordinator_agency, role=Role.COORDINATOR)
    return case, coordinator


def _body(agencies, consent_basis, expires_at):
    return {
        "agency": agencies["nav"].pk,
        "categories": ["health"],
        "purpose": "Oppfølging etter løslatelse",
        "legal_basis": consent_basis.pk,
        "expires_at": expires_at,
    }


def _record(user, case, body):
    client = APIClient(HTTP_ACCEPT_LANGUAGE="nb")
    client.credentials(HTTP_AUTHORIZATION=f"Token {issue(user)[0]}")
    return client.post(reverse("api-case-consents", args=[case.pk]), body, format="json")


@pytest.mark.parametrize(
    ("expires_at", "code", "message"),
    [
        ("2999-01-01T00:00:00+01:00", "field.date_too_late", TOO_LATE),
        ("9999-12-31T12:00:00Z", "field.date_too_late", TOO_LATE),
        ("2200-01-01T00:30:00+01:00", "field.date_too_late", TOO_LATE),  # 2199-12-31 in UTC, not in Oslo
        ("2020-01-01T12:00:00+01:00", "field.must_be_future", "må være fram i tid"),
    ],
)
def test_an_expiry_no_case_can_have_is_400_naming_the_field(
    case_and_coordinator, agencies, consent_basis, expires_at, code, message
):
    case, coordinator = case_and_coordinator
    answer = _record(coordinator, case, _body(agencies, consent_basis, expires_at))
    assert answer.status_code == 400, answer.json()
    (error,) = answer.json()["errors"]
    assert (error["field"], error["code"], error["message"]) == ("expires_at", code, message)
    assert expires_at not in answer.content.decode()
    assert not Consent.objects.filter(case=case).exists()


def test_an_expiry_after_the_year_9999_is_400_naming_the_field_as_too_late(
    case_and_coordinator, agencies, consent_basis
):
    case, coordinator = case_and_coordinator
    answer = _record(coordinator, case, _body(agencies, consent_basis, "20250-01-01T00:00:00+01:00"))
    assert answer.status_code == 400, answer.json()
    (error,) = answer.json()["errors"]
    assert (error["field"], error["code"], error["message"]) == ("expires_at", "field.date_too_late", TOO_LATE)
    assert not Consent.objects.filter(case=case).exists()


def test_the_last_day_is_taken(case_and_coordinator, agencies, consent_basis):
    case, coordinator = case_and_coordinator
    answer = _record(coordinator, case, _body(agencies, consent_basis, "2199-12-31T23:59:00+01:00"))
    assert answer.status_code == 201, answer.json()
    assert Consent.objects.get(case=case).expires_at == datetime.datetime(2199, 12, 31, 22, 59, tzinfo=datetime.UTC)


# --- the consent form ----------------------------------------------------------------------------


def _expiry_input(page: str) -> str:
    (tag,) = re.findall(r'<input type="date" id="consent-expires"[^>]*>', page)
    return " ".join(tag.split())


def test_the_expiry_input_offers_today_in_oslo_to_the_last_day(case_and_coordinator, monkeypatch):
    case, coordinator = case_and_coordinator
    # 23:30 UTC on 27 March is already 28 March in Oslo: a consent given until the 27th would
    # have expired half an hour ago
    monkeypatch.setattr(timezone, "now", lambda: datetime.datetime(2027, 3, 27, 23, 30, tzinfo=datetime.UTC))
    url = reverse("case-section", args=[case.pk, "consent-form"])
    page = web(coordinator).get(url, HTTP_ACCEPT_LANGUAGE="nb").content.decode()
    tag = _expiry_input(page)
    assert 'min="2027-03-28" max="2199-12-31"' in tag
    assert 'aria-describedby="consent-expires-hint"' in tag
    assert "Den siste dagen samtykket gjelder; det utløper ved slutten av den dagen." in page


def _post_form(coordinator, case, agencies, consent_basis, expires: str):
    form = {
        "agency": str(agencies["nav"].pk),
        "categories": ["health"],
        "purpose": "Oppfølging etter løslatelse",
        "legal_basis": str(consent_basis.pk),
        "expires": expires,
    }
    client = web(coordinator)
    return client.post(reverse("consent-record", args=[case.pk]), form, HTTP_ACCEPT_LANGUAGE="nb", follow=True)


@pytest.mark.parametrize(
    ("expires", "message"),
    [
        ("2999-12-31", TOO_LATE),
        ("20250-01-01", TOO_LATE),
        ("2200-01-01", TOO_LATE),
        ("2020-01-01", "må være fram i tid"),
    ],
)
def test_an_expiry_day_no_case_can_have_is_a_field_error_on_the_page(
    case_and_coordinator, agencies, consent_basis, expires, message
):
    case, coordinator = case_and_coordinator
    answer = _post_form(coordinator, case, agencies, consent_basis, expires)
    page = answer.content.decode()
    assert re.search(
        r'<label for="consent-expires">Utløper \(valgfritt\)</label>\s*<p class="hint"[^>]*>[^<]*</p>\s*'
        rf'<p class="field-error" id="consent-expires-error">{message}</p>',
        page,
    ), page
    tag = _expiry_input(page)
    assert f'value="{expires}"' in tag and 'aria-invalid="true"' in tag
    assert not Consent.objects.filter(case=case).exists()


def test_a_consent_until_today_applies_through_today_in_oslo(
    case_and_coordinator, agencies, consent_basis, monkeypatch
):
    case, coordinator = case_and_coordinator
    monkeypatch.setattr(timezone, "now", lambda: datetime.datetime(2027, 3, 27, 23, 30, tzinfo=datetime.UTC))
    answer = _post_form(coordinator, case, agencies, consent_basis, "2027-03-28")  # today in Oslo
    assert answer.status_code == 200
    consent = Consent.objects.get(case=case)
    # The end of the day, summer time: 23:59:59.999999 in Oslo.
    assert consent.expires_at == datetime.datetime(2027, 3, 28, 21, 59, 59, 999999, tzinfo=datetime.UTC)
    assert consent.is_active(datetime.datetime(2027, 3, 28, 21, 59, 30, tzinfo=datetime.UTC))
    assert not consent.is_active(datetime.datetime(2027, 3, 28, 22, 0, tzinfo=datetime.UTC))


def test_a_consent_until_today_is_taken_in_the_day_s_last_minute(
    case_and_coordinator, agencies, consent_basis, monkeypatch
):
    """Given at 23:59:30 in Oslo "until today" was refused as not in the future (the day ended
    at 23:59:00), while the date input offered today."""
    case, coordinator = case_and_coordinator
    monkeypatch.setattr(timezone, "now", lambda: datetime.datetime(2027, 1, 10, 22, 59, 30, tzinfo=datetime.UTC))
    answer = _post_form(coordinator, case, agencies, consent_basis, "2027-01-10")  # today in Oslo, 23:59:30
    assert answer.status_code == 200
    assert Consent.objects.filter(case=case).count() == 1
