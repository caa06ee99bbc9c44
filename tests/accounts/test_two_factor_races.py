"""Two requests with one code at the same moment: the web's two-factor page reads the
device under a row lock (as the token endpoint's ``match_token`` does), so a code is
accepted once however the requests interleave."""

import time

import pytest
from django.test import Client
from django_otp import oath
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.threads import all_at_once

from .conftest import current_code, open_enrolment_link, web_login

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def two_factor_on(settings):
    settings.REQUIRE_TWO_FACTOR = True


@pytest.fixture
def slow_check(monkeypatch):
    """Widen the moment between reading the device and saving it."""
    verify = oath.TOTP.verify

    def slowly(self, *args, **kwargs):
        time.sleep(0.3)
        return verify(self, *args, **kwargs)

    monkeypatch.setattr(oath.TOTP, "verify", slowly)


def _half_signed_in(username):
    browser = Client()
    assert web_login(browser, username).status_code == 302
    return browser


def test_one_code_posted_twice_at_once_signs_in_once(users, slow_check):
    device = TOTPDevice.objects.create(user=users["nils"], name="authenticator", confirmed=True)
    code = current_code(device)
    browsers = [_half_signed_in("nils"), _half_signed_in("nils")]
    answers = all_at_once([lambda b=b: b.post("/accounts/two-factor/", {"otp": code}).status_code for b in browsers])
    assert sorted(answers) == [302, 400], answers


@pytest.fixture
def slow_create(monkeypatch):
    """Widen the moment between looking for the unconfirmed device and inserting it."""
    save = TOTPDevice.save

    def slowly(self, *args, **kwargs):
        if self._state.adding:
            time.sleep(0.3)
        return save(self, *args, **kwargs)

    monkeypatch.setattr(TOTPDevice, "save", slowly)


def test_two_first_visits_at_once_make_one_device_and_enrolment_goes_on(users, slow_create):
    """Two tabs (or a double click) open the enrolment page at once: one unconfirmed device,
    not two after which every visit failed (``MultipleObjectsReturned``) until an admin
    deleted one."""
    browsers = [_half_signed_in("helga"), _half_signed_in("helga")]
    link = open_enrolment_link(browsers[0], users["helga"])
    open_enrolment_link(browsers[1], users["helga"], link)
    answers = all_at_once([lambda b=b: b.get("/accounts/two-factor/setup/").status_code for b in browsers])
    assert answers == [200, 200], answers
    assert TOTPDevice.objects.filter(user=users["helga"]).count() == 1
    # The page still works for the user: shown again, then confirmed with its own key.
    helga = browsers[0]
    assert helga.get("/accounts/two-factor/setup/").status_code == 200
    device = TOTPDevice.objects.get(user=users["helga"])
    assert helga.post("/accounts/two-factor/setup/", {"otp": current_code(device)}).status_code == 302
    assert TOTPDevice.objects.get(user=users["helga"]).confirmed


def test_a_user_left_with_two_unconfirmed_devices_can_enrol(users):
    """Devices doubled before the fix (or by an admin) are no dead end: the page keeps one."""
    for _ in range(2):
        TOTPDevice.objects.create(user=users["helga"], name="authenticator", confirmed=False)
    helga = _half_signed_in("helga")
    open_enrolment_link(helga, users["helga"])
    assert helga.get("/accounts/two-factor/setup/").status_code == 200
    device = TOTPDevice.objects.get(user=users["helga"])
    assert helga.post("/accounts/two-factor/setup/", {"otp": current_code(device)}).status_code == 302
