"""The admin never shows a TOTP device's key: an admin (or a helpdesk account allowed to
view devices, to delete a lost phone's) who read it would hold the user's second factor.
Deleting a device stays possible (docs/security.md, "lost phone"). Nor does it make a second
factor or a token for anyone: no device added or changed, no API token issued."""

import pytest
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice
from knox.models import AuthToken

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_browser(django_user_model):
    admin = django_user_model.objects.create(username="root-admin", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(admin)
    return client


@pytest.fixture
def device(users):
    return TOTPDevice.objects.create(user=users["nils"], name="authenticator", confirmed=True)


def test_the_change_page_shows_no_key(admin_browser, device):
    page = admin_browser.get(f"/admin/otp_totp/totpdevice/{device.pk}/change/")
    assert page.status_code == 200
    assert device.key not in page.content.decode()


@pytest.mark.parametrize("view", ["config", "qrcode"])
def test_the_qr_code_and_configuration_pages_are_refused(admin_browser, device, view):
    answer = admin_browser.get(f"/admin/otp_totp/totpdevice/{device.pk}/{view}/")
    assert answer.status_code == 403
    assert device.key not in answer.content.decode(errors="replace")


def test_the_list_links_no_qr_code_and_a_device_is_still_deleted(admin_browser, device):
    listing = admin_browser.get("/admin/otp_totp/totpdevice/")
    assert listing.status_code == 200 and "qrcode" not in listing.content.decode()
    deleted = admin_browser.post(f"/admin/otp_totp/totpdevice/{device.pk}/delete/", {"post": "yes"})
    assert deleted.status_code == 302 and not TOTPDevice.objects.filter(pk=device.pk).exists()


def test_the_admin_adds_no_device(admin_browser, users):
    """A device added in the admin is one whose key its adder chose: they would hold the
    user's second factor (enrolment is the user's own, through an administrator's link)."""
    assert admin_browser.get("/admin/otp_totp/totpdevice/add/").status_code == 403
    form = {"user": users["nils"].pk, "name": "mine", "key": "3132333435363738393031323334353637383930"}
    form |= {"step": 30, "t0": 0, "digits": 6, "tolerance": 1, "drift": 0, "confirmed": "on"}
    form |= {"throttling_failure_count": 0}
    assert admin_browser.post("/admin/otp_totp/totpdevice/add/", form).status_code == 403
    assert not TOTPDevice.objects.filter(user=users["nils"]).exists()


def test_the_admin_moves_no_device_to_another_user(admin_browser, users, django_user_model):
    """The admin's own authenticator, moved onto another user, made codes for that user's account."""
    own = TOTPDevice.objects.create(
        user=django_user_model.objects.get(username="root-admin"), name="mine", confirmed=True
    )
    form = {"user": users["nils"].pk, "name": "mine", "confirmed": "on", "step": 30, "t0": 0, "digits": 6}
    form |= {"tolerance": 1, "drift": 0, "throttling_failure_count": 0}
    admin_browser.post(f"/admin/otp_totp/totpdevice/{own.pk}/change/", form)
    own.refresh_from_db()
    assert own.user.username == "root-admin"


def test_the_admin_issues_no_api_token(admin_browser, users, api):
    """knox's admin made a token for any user and showed it to the operator: the API as that
    user, without their password or one-time code. Tokens come from a sign-in only."""
    assert admin_browser.get("/admin/knox/authtoken/add/").status_code == 403
    made = admin_browser.post("/admin/knox/authtoken/add/", {"user": users["nils"].pk}, follow=True)
    assert made.status_code == 403
    assert not AuthToken.objects.filter(user=users["nils"]).exists()
