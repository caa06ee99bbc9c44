"""A consent's expiry given as a date only means the end of that day in Oslo, in the API as on
the page (h-categories). The consent form's date input records "until 2027-01-10" as the end
of that day (``consents.end_of_day``), but the API read ``"expires_at": "2027-01-10"`` as its
midnight: the same words lapsed a whole day earlier, and "until today" was refused as past.
A full date-time is kept as given; the days stay today in Oslo to 2199-12-31 (400 naming
``expires_at``)."""

import datetime
import zoneinfo

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.tokens import issue
from permissions.models import Consent
from tests.api.test_consent_expiry_bounds import _body, _record, case_and_coordinator  # noqa: F401
from workflows.services.consents import end_of_day

pytestmark = pytest.mark.django_db

OSLO = zoneinfo.ZoneInfo("Europe/Oslo")


def _dst_days() -> tuple[datetime.date, datetime.date]:
    """Next year's days the clocks change in Oslo (the last Sundays of March and October)."""
    year = timezone.localdate().year + 1

    def last_sunday(month: int) -> datetime.date:
        day = datetime.date(year, month, 31)
        return day - datetime.timedelta(days=(day.weekday() + 1) % 7)

    return last_sunday(3), last_sunday(10)


@pytest.mark.parametrize("which", ["today", "summer time begins", "summer time ends", "the last day"])
def test_a_date_only_expiry_is_the_end_of_that_oslo_day(case_and_coordinator, agencies, consent_basis, which):  # noqa: F811
    spring, autumn = _dst_days()
    day = {
        "today": timezone.localdate(),
        "summer time begins": spring,
        "summer time ends": autumn,
        "the last day": datetime.date(2199, 12, 31),
    }[which]
    case, coordinator = case_and_coordinator
    answer = _record(coordinator, case, _body(agencies, consent_basis, day.isoformat()))
    assert answer.status_code == 201, answer.json()

    expires = Consent.objects.get(case=case).expires_at
    assert expires == end_of_day(day)  # as the consent form records the same day
    assert expires.astimezone(OSLO).date() == day
    assert (expires + datetime.timedelta(microseconds=1)).astimezone(OSLO).time() == datetime.time(0, 0)
    assert datetime.datetime.fromisoformat(answer.json()["expires_at"]) == expires
    if which == "summer time begins":  # 23 hours that day: its end is 21:59:59 UTC
        assert expires.astimezone(datetime.UTC).hour == 21
    if which == "summer time ends":  # 25 hours that day: its end is 22:59:59 UTC
        assert expires.astimezone(datetime.UTC).hour == 22


def test_a_full_date_time_is_kept_as_given_and_a_date_only_outside_the_days_is_400(
    case_and_coordinator,  # noqa: F811
    agencies,
    consent_basis,
):
    case, coordinator = case_and_coordinator
    spring, _autumn = _dst_days()
    given = f"{spring.isoformat()}T12:00:00+02:00"
    answer = _record(coordinator, case, _body(agencies, consent_basis, given))
    assert answer.status_code == 201, answer.json()
    assert Consent.objects.get(case=case).expires_at == datetime.datetime.fromisoformat(given)
    # Midnight written out is that moment, not the day's end.
    Consent.objects.filter(case=case).delete()
    midnight = f"{spring.isoformat()}T00:00:00+01:00"
    assert _record(coordinator, case, _body(agencies, consent_basis, midnight)).status_code == 201
    assert Consent.objects.get(case=case).expires_at == datetime.datetime.fromisoformat(midnight)
    Consent.objects.filter(case=case).delete()

    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    for day, code in (
        (yesterday.isoformat(), "field.must_be_future"),
        ("2200-01-01", "field.date_too_late"),
        ("20250-01-01", "field.date_too_late"),
    ):
        answer = _record(coordinator, case, _body(agencies, consent_basis, day))
        assert answer.status_code == 400, answer.json()
        (error,) = answer.json()["errors"]
        assert (error["field"], error["code"]) == ("expires_at", code)
    answer = _record(coordinator, case, _body(agencies, consent_basis, "2027-02-30"))
    assert answer.status_code == 400 and answer.json()["errors"][0]["field"] == "expires_at"
    assert not Consent.objects.filter(case=case).exists()
    # Today, which the date-only form took as its (past) midnight before.
    answer = _record(coordinator, case, _body(agencies, consent_basis, timezone.localdate().isoformat()))
    assert answer.status_code == 201, answer.json()


def test_the_openapi_schema_says_a_date_only_expiry_is_the_end_of_that_oslo_day(case_and_coordinator):  # noqa: F811
    _case, coordinator = case_and_coordinator
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {issue(coordinator)[0]}")
    schema = client.get(reverse("api-schema"), {"format": "json"}).json()
    field = schema["components"]["schemas"]["ConsentInputRequest"]["properties"]["expires_at"]
    assert {"type": "string", "format": "date"} in field["oneOf"]
    assert {"type": "string", "format": "date-time"} in field["oneOf"]
    assert "end of that day" in field["description"] and "Europe/Oslo" in field["description"]
