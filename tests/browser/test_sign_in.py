"""Sign-in as agencies run it, in Chromium: single sign-on against a real OpenID Connect
provider (django-oidc-provider, started on 127.0.0.1), the groups claim mapped to agencies
and roles at every login; and TOTP enrolment and verification for a password login."""

import re
import time
from urllib.parse import urlsplit

import pytest
from django_otp.oath import TOTP

from accounts import enrolment
from accounts.models import ExternalIdentity, GroupMapping
from permissions.models import Membership, Role
from tests.oidc_idp.provider import OidcProvider

from .conftest import PHONE, axe_violations, english_on_page, overlapping_labels

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ANNE = {
    "password": "anne-at-the-provider",
    "given_name": "Anne",
    "family_name": "Berg",
    "email": "anne.berg@sarpsborg.kommune.no",
    "groups": ["brobygger-nav"],
}
# Another person at the provider whose username is a local demo user's.
NILS_AT_PROVIDER = {
    "password": "another-nils",
    "given_name": "Nils",
    "family_name": "Dahl",
    "groups": ["brobygger-bolig-koordinator"],
}
PROVIDER_USERS = {"anne": ANNE, "nils": NILS_AT_PROVIDER}


@pytest.fixture(scope="module")
def provider(live_server, tmp_path_factory):
    callback = "/accounts/sso/callback/"
    port = live_server.url.rsplit(":", 1)[1]
    idp = OidcProvider(
        tmp_path_factory.mktemp("idp"),
        PROVIDER_USERS,
        [f"http://localhost:{port}{callback}", f"http://127.0.0.1:{port}{callback}"],
    )
    yield idp
    idp.stop()


@pytest.fixture
def sso(provider, settings, agencies):
    provider.set_users(PROVIDER_USERS)
    provider.configure(settings)
    GroupMapping.objects.create(group="brobygger-nav", agency=agencies["nav"], role=Role.MEMBER)
    GroupMapping.objects.create(group="brobygger-bolig-koordinator", agency=agencies["housing"], role=Role.COORDINATOR)
    return provider


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="nb-NO")
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


def _sso_login(page, live_server, password=ANNE["password"], *, signed_in_at_provider=False):
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_role("link", name="Logg inn med virksomhetens konto").click()
    if signed_in_at_provider:
        return  # single sign-on: the provider's session answers at once
    page.wait_for_url(re.compile(r"http://127\.0\.0\.1:\d+/login/"))  # at the provider
    page.get_by_label("IdP username").fill("anne")
    page.get_by_label("IdP password").fill(password)
    page.get_by_role("button", name="Sign in at the provider").click()


def _memberships(user):
    return set(Membership.objects.filter(user=user).values_list("agency__kind", "role"))


def test_single_sign_on_maps_groups_to_agencies_and_follows_them_at_each_login(
    sso, page, live_server, users, agencies, settings
):
    settings.REQUIRE_TWO_FACTOR = True  # the provider checks the second factor, not Brobygger
    _sso_login(page, live_server)
    page.wait_for_url(f"{live_server.url}/tasks/")
    assert "Anne Berg" in page.locator(".who").inner_text()
    identity = ExternalIdentity.objects.select_related("user").get()
    assert identity.issuer == sso.issuer and identity.user.username == "anne"
    assert not identity.user.has_usable_password()
    assert _memberships(identity.user) == {("nav", "member")}
    page.get_by_role("link", name="Saker").click()
    page.wait_for_url(f"{live_server.url}/cases/")

    # The provider moves Anne to the housing office: the next login moves her memberships.
    sso.set_users({**PROVIDER_USERS, "anne": {**ANNE, "groups": ["brobygger-bolig-koordinator", "unmapped-group"]}})
    page.get_by_role("button", name="Logg ut").click()
    _sso_login(page, live_server, signed_in_at_provider=True)
    page.wait_for_url(f"{live_server.url}/tasks/")
    assert _memberships(identity.user) == {("housing", "coordinator")}
    assert list(identity.user.groups.all()) == [agencies["housing"].group]

    # No mapped group left: no memberships, she sees nothing.
    sso.set_users({**PROVIDER_USERS, "anne": {**ANNE, "groups": []}})
    page.get_by_role("button", name="Logg ut").click()
    _sso_login(page, live_server, signed_in_at_provider=True)
    page.wait_for_url(f"{live_server.url}/tasks/")
    assert _memberships(identity.user) == set()


def test_a_provider_account_named_like_a_local_user_gets_its_own_account(sso, page, live_server, users):
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_role("link", name="Logg inn med virksomhetens konto").click()
    page.wait_for_url(re.compile(r"http://127\.0\.0\.1:\d+/login/"))
    page.get_by_label("IdP username").fill("nils")
    page.get_by_label("IdP password").fill(NILS_AT_PROVIDER["password"])
    page.get_by_role("button", name="Sign in at the provider").click()
    page.wait_for_url(f"{live_server.url}/tasks/")
    identity = ExternalIdentity.objects.select_related("user").get()
    assert identity.user.username == "nils-sso2" and identity.user != users["nils"]
    assert _memberships(identity.user) == {("housing", "coordinator")}
    # The local nils is untouched: same memberships, still signs in with his password.
    users["nils"].refresh_from_db()
    assert _memberships(users["nils"]) == {("nav", "member")} and users["nils"].check_password("test-password")


def test_an_id_token_for_another_client_is_refused(sso, page, live_server, settings):
    _sso_login(page, live_server)
    page.wait_for_url(f"{live_server.url}/tasks/")
    page.get_by_role("button", name="Logg ut").click()
    # The provider answers for its client; Brobygger now expects a different issuer.
    settings.OIDC_OP_ISSUER = "https://login.other-provider.example/"
    _sso_login(page, live_server, signed_in_at_provider=True)
    page.wait_for_url(re.compile(r"/accounts/login/\?sso=failed"))
    assert "Innlogging med felles pålogging lyktes ikke" in page.locator("[role=alert]").inner_text()


def _code(secret_text, steps_ahead=0):
    key = __import__("base64").b32decode(secret_text.replace(" ", ""))
    totp = TOTP(key)
    totp.time = time.time() + 30 * steps_ahead
    return f"{totp.token():06d}"


def _problems(page, where: str) -> list[str]:
    """The two-factor pages pass what every other page passes (tests/browser/test_every_page_in_chromium.py
    cannot reach them: they need a password sign-in half done), at desktop and phone size."""
    found = []
    for size, name in (({"width": 1280, "height": 900}, "desktop"), (PHONE, "phone")):
        page.set_viewport_size(size)
        found += [f"{where} {name}: {v}" for v in axe_violations(page)]
        found += [f"{where} {name}: English “{phrase}”" for phrase in english_on_page(page)]
        found += [f"{where} {name}: the label “{label}” lies over its value" for label in overlapping_labels(page)]
    page.set_viewport_size({"width": 1280, "height": 900})
    return found


def test_a_password_login_enrols_totp_then_asks_for_a_code(page, live_server, users, settings):
    settings.REQUIRE_TWO_FACTOR = True
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Brukernavn").fill("helga")
    page.get_by_label("Passord").fill("test-password")
    page.get_by_role("button", name="Logg inn").click()
    page.wait_for_url(re.compile(r"/accounts/two-factor/setup/"))
    # The password alone sets up nothing: the administrator's link does (accounts.enrolment).
    assert "trenger du en lenke fra administratoren din" in page.locator("main").inner_text()
    assert page.locator(".qr svg").count() == 0
    problems = _problems(page, "set-up without a link")
    page.goto(live_server.url + urlsplit(enrolment.issue(users["helga"])).path)
    page.wait_for_url(re.compile(r"/accounts/two-factor/setup/"))
    assert page.locator("h1").inner_text() == "Sett opp innlogging i to trinn"
    assert page.locator(".qr svg").count() == 1
    secret = page.get_by_test_id("otp-secret").inner_text()
    problems += _problems(page, "set-up")

    page.get_by_label("Kode fra appen").fill("000000")
    page.get_by_role("button", name="Bekreft").click()
    assert "Koden er feil eller utløpt" in page.get_by_role("alert").inner_text()
    problems += _problems(page, "set-up with a wrong code")
    from django_otp.plugins.otp_totp.models import TOTPDevice

    TOTPDevice.objects.filter(user=users["helga"]).update(throttling_failure_count=0, throttling_failure_timestamp=None)
    page.get_by_label("Kode fra appen").fill(_code(secret))
    page.get_by_role("button", name="Bekreft").click()
    page.wait_for_url(f"{live_server.url}/tasks/")
    assert "Innlogging i to trinn er satt opp." in page.locator("#messages").inner_text()

    page.get_by_role("button", name="Logg ut").click()
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Brukernavn").fill("helga")
    page.get_by_label("Passord").fill("test-password")
    page.get_by_role("button", name="Logg inn").click()
    page.wait_for_url(re.compile(r"/accounts/two-factor/\?"))
    page.goto(f"{live_server.url}/cases/")  # nothing opens before the code
    page.wait_for_url(re.compile(r"/accounts/two-factor/\?"))
    page.get_by_label("Kode fra appen").fill(_code(secret, steps_ahead=1))  # a code not used before
    page.get_by_role("button", name="Bekreft").click()
    page.wait_for_url(f"{live_server.url}/cases/")

    # The code page once more, checked at rest: signed out, the password given, the code asked.
    page.get_by_role("button", name="Logg ut").click()
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Brukernavn").fill("helga")
    page.get_by_label("Passord").fill("test-password")
    page.get_by_role("button", name="Logg inn").click()
    page.wait_for_url(re.compile(r"/accounts/two-factor/\?"))
    problems += _problems(page, "code")
    assert problems == [], "\n".join(problems)


def _check_due(user):
    """Every single sign-on session of ``user`` is due its next check with the provider."""
    from django.contrib.sessions.models import Session

    from accounts.sessions import SessionStore

    for row in Session.objects.all():
        data = row.get_decoded()
        if data.get("_auth_user_id") == str(user.pk):
            store = SessionStore(row.session_key)
            store["oidc_id_token_expiration"] = 0
            store.save()


def test_a_session_is_checked_with_the_provider_again_and_follows_its_groups(sso, page, live_server, agencies):
    _sso_login(page, live_server)
    page.wait_for_url(f"{live_server.url}/tasks/")
    identity = ExternalIdentity.objects.select_related("user").get()
    assert _memberships(identity.user) == {("nav", "member")}

    # The provider moves Anne to the housing office while she stays signed in here.
    sso.set_users({**PROVIDER_USERS, "anne": {**ANNE, "groups": ["brobygger-bolig-koordinator"]}})
    page.goto(f"{live_server.url}/cases/")
    assert _memberships(identity.user) == {("nav", "member")}  # not yet due
    _check_due(identity.user)
    page.goto(f"{live_server.url}/cases/")  # through the provider, without a prompt
    page.wait_for_url(f"{live_server.url}/cases/")
    assert _memberships(identity.user) == {("housing", "coordinator")}
    assert "Anne Berg" in page.locator(".who").inner_text()
