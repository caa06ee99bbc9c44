"""A device is set up only through an administrator's one-time link. Until 2026-12-05 the
first password sign-in of a user without a device (a new account, or one whose lost phone's
device an admin had removed) showed the enrolment page: whoever had the password first
enrolled their own authenticator, held the account (every later sign-in asked for their
code) and locked its user out."""

from datetime import timedelta
from io import StringIO
from urllib.parse import urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import enrolment
from accounts.models import EnrolmentLink

from .conftest import current_code, open_enrolment_link, web_login

pytestmark = pytest.mark.django_db
SETUP = "/accounts/two-factor/setup/"


@pytest.fixture(autouse=True)
def two_factor_on(settings):
    settings.REQUIRE_TWO_FACTOR = True


def _try_to_enrol(client, user) -> int:
    """What an intruder with the password does: open the enrolment page and confirm the key
    it shows with the app's code. Returns the page's status."""
    page = client.get(SETUP)
    if page.status_code == 200:
        device = TOTPDevice.objects.get(user=user, confirmed=False)
        client.post(SETUP, {"otp": current_code(device)})
    return page.status_code


def test_the_password_alone_does_not_set_up_a_device_on_a_new_account(users):
    intruder = Client()
    assert web_login(intruder, "helga").status_code == 302
    assert _try_to_enrol(intruder, users["helga"]) == 403
    assert intruder.post(SETUP, {"otp": "123456"}).status_code == 403
    assert not TOTPDevice.objects.filter(user=users["helga"]).exists()
    page = intruder.get(SETUP).content.decode()
    assert "trenger du en lenke fra administratoren din" in page
    assert intruder.get("/tasks/")["Location"].startswith(SETUP)  # and nothing else opens


def test_the_password_alone_does_not_set_up_a_device_after_an_admin_removed_the_lost_one(users):
    TOTPDevice.objects.create(user=users["nils"], name="authenticator", confirmed=True).delete()  # a lost phone
    intruder = Client()
    web_login(intruder, "nils")
    assert _try_to_enrol(intruder, users["nils"]) == 403
    assert not TOTPDevice.objects.filter(user=users["nils"], confirmed=True).exists()


def test_the_link_lets_its_user_set_up_a_device_once(users):
    helga = Client()
    web_login(helga, "helga")
    link = open_enrolment_link(helga, users["helga"])
    assert _try_to_enrol(helga, users["helga"]) == 200
    assert TOTPDevice.objects.get(user=users["helga"]).confirmed
    assert not EnrolmentLink.objects.exists()  # used up
    # The device lost and removed, the old link sets up nothing.
    TOTPDevice.objects.filter(user=users["helga"]).delete()
    again = Client()
    web_login(again, "helga")
    assert again.get(urlsplit(link).path).status_code == 404
    assert _try_to_enrol(again, users["helga"]) == 403


def test_a_link_is_its_own_user_s_only(users):
    link = enrolment.issue(users["helga"])
    nils = Client()
    web_login(nils, "nils")
    refused = nils.get(urlsplit(link).path)
    assert refused.status_code == 404 and "Denne lenken virker ikke" in refused.content.decode()
    assert _try_to_enrol(nils, users["nils"]) == 403


def test_an_expired_link_and_a_replaced_one_set_up_nothing(users):
    old = enrolment.issue(users["helga"])
    newer = enrolment.issue(users["helga"])  # the older stops working
    helga = Client()
    web_login(helga, "helga")
    assert helga.get(urlsplit(old).path).status_code == 404
    EnrolmentLink.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert helga.get(urlsplit(newer).path).status_code == 404
    assert _try_to_enrol(helga, users["helga"]) == 403


def test_a_link_opened_before_it_expired_does_not_outlive_it(users):
    helga = Client()
    web_login(helga, "helga")
    open_enrolment_link(helga, users["helga"])
    EnrolmentLink.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert _try_to_enrol(helga, users["helga"]) == 403


def test_the_link_opened_signed_out_goes_through_the_login_and_back(users):
    path = urlsplit(enrolment.issue(users["helga"])).path
    browser = Client()
    to_login = browser.get(path)
    assert to_login.status_code == 302 and to_login["Location"].startswith("/accounts/login/")
    back = web_login(browser, "helga", next_url=path)
    assert back["Location"] == path
    assert browser.get(path)["Location"].startswith(SETUP)
    assert _try_to_enrol(browser, users["helga"]) == 200
    assert TOTPDevice.objects.get(user=users["helga"]).confirmed


def test_only_a_digest_is_stored_and_the_admin_shows_the_link_once(users, settings):
    settings.REQUIRE_TWO_FACTOR = False  # the admin's own sign-in is not what is tested here
    admin = get_user_model().objects.create_superuser("linkadmin", "linkadmin@example.org", "x")
    client = Client()
    client.force_login(admin)
    page = client.post(
        "/admin/auth/user/",
        {"action": "issue_enrolment_links", "_selected_action": [users["helga"].pk]},
    )
    assert page.status_code == 200
    html = page.content.decode()
    token = html.split("/accounts/two-factor/enrol/")[1].split("/")[0]
    stored = EnrolmentLink.objects.get(user=users["helga"])
    assert token not in stored.digest and stored.created_by == admin
    listed = client.get(f"/admin/accounts/enrolmentlink/{stored.pk}/change/").content.decode()
    assert token not in listed and stored.digest not in listed


def test_the_command_prints_a_link(users):
    out = StringIO()
    call_command("enrolment_link", "helga", stdout=out)
    assert "/accounts/two-factor/enrol/" in out.getvalue()
    assert EnrolmentLink.objects.filter(user=users["helga"]).count() == 1


def _console():
    """The handler the project writes its log lines through (``ops.logs.logging_config``)."""
    import logging

    handlers = logging.getLogger().handlers
    return next(h for h in handlers if type(getattr(h, "formatter", None)).__module__ == "ops.logs")


@pytest.mark.parametrize("json_lines", [True, False])
def test_no_log_line_names_an_enrolment_link_s_token(users, settings, json_lines):
    """Until 2026-12-05 a refused link's 404 wrote the path, token and all, to the log
    (Django's ``django.request`` line), where whoever reads the logs could enrol with it."""
    import logging

    from ops.logs import logging_config

    settings.LOG_REQUESTS = True
    handler = _console()
    config = logging_config(json_lines=json_lines, level="INFO")["formatters"]["default"]
    formatter = config.pop("()").rsplit(".", 1)[1]
    from ops import logs

    written = StringIO()
    kept_stream, kept_formatter, kept_level = handler.stream, handler.formatter, logging.getLogger().level
    handler.setStream(written)
    handler.setFormatter(getattr(logs, formatter)(**config))
    logging.getLogger().setLevel(logging.INFO)
    try:
        helga = Client()
        web_login(helga, "helga")
        opened = open_enrolment_link(helga, users["helga"])
        refused = "/accounts/two-factor/enrol/" + "z" * 43 + "/"
        assert helga.get(refused).status_code == 404
        signed_out = urlsplit(enrolment.issue(users["nils"])).path
        Client().get(signed_out)
    finally:
        handler.setStream(kept_stream)
        handler.setFormatter(kept_formatter)
        logging.getLogger().setLevel(kept_level)
    lines = written.getvalue()
    assert "/accounts/two-factor/enrol/<token>/" in lines and "Not Found" in lines, lines
    for path in (urlsplit(opened).path, refused, signed_out):
        token = path.rstrip("/").rsplit("/", 1)[1]
        assert token not in lines, lines
