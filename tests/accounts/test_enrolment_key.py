"""The key shown on the enrolment page is the session's own: whoever signed in with the
password before and read the key (and left without confirming) does not hold the key the
user then enrols, which would be a second factor they share without anyone knowing."""

import pytest
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from .conftest import current_code, open_enrolment_link, web_login

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def two_factor_on(settings):
    settings.REQUIRE_TWO_FACTOR = True


def _shown_key(client, user):
    open_enrolment_link(client, user)  # (each session its own link: tests/accounts/test_enrolment_link.py)
    page = client.get("/accounts/two-factor/setup/")
    assert page.status_code == 200
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    return device


def test_another_session_is_shown_another_key_and_the_first_key_enrols_nothing(users):
    intruder = Client()
    web_login(intruder, "helga")
    seen = _shown_key(intruder, users["helga"])
    helga = Client()
    web_login(helga, "helga")
    enrolled = _shown_key(helga, users["helga"])
    assert enrolled.key != seen.key
    # The intruder's copy of the key gives codes that confirm nothing.
    assert helga.post("/accounts/two-factor/setup/", {"otp": current_code(seen)}).status_code == 400
    TOTPDevice.objects.filter(pk=enrolled.pk).update(throttling_failure_count=0, throttling_failure_timestamp=None)
    assert helga.post("/accounts/two-factor/setup/", {"otp": current_code(enrolled)}).status_code == 302
    assert TOTPDevice.objects.get(user=users["helga"]).key == enrolled.key


def test_the_same_session_is_shown_the_same_key_again(users):
    helga = Client()
    web_login(helga, "helga")
    first = _shown_key(helga, users["helga"])
    again = helga.get("/accounts/two-factor/setup/")
    assert again.status_code == 200
    again = TOTPDevice.objects.get(user=users["helga"], confirmed=False)
    assert again.key == first.key
    assert helga.post("/accounts/two-factor/setup/", {"otp": current_code(first)}).status_code == 302


def test_a_post_from_a_session_that_was_shown_no_key_enrols_nothing(users):
    intruder = Client()
    web_login(intruder, "helga")
    seen = _shown_key(intruder, users["helga"])
    other = Client()
    web_login(other, "helga")
    open_enrolment_link(other, users["helga"])
    # A code of the key another session was shown, posted without opening the page.
    assert other.post("/accounts/two-factor/setup/", {"otp": current_code(seen)}).status_code == 400
    assert not TOTPDevice.objects.filter(user=users["helga"], confirmed=True).exists()
