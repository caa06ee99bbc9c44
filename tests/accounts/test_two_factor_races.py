"""Two requests with one code at the same moment: the web's two-factor page reads the
device under a row lock (as the token endpoint's ``match_token`` does), so a code is
accepted once however the requests interleave."""

import time

import pytest
from django.test import Client
from django_otp import oath
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.threads import all_at_once

from .conftest import current_code, web_login

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
