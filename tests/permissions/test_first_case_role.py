"""A user's first role opening case data ends the credentials set before it. Until 2026-12-06
NAV's access administrator (``tove``, who sees no case data) could add a user, set their
password and second factor alone (allowed: the account opened nothing), then ask for a case
role for it; once a second access administrator approved the role, ``tove`` signed in as that
user and read NAV's cases. Now the approval makes the password unusable and ends the user's
devices, enrolment links, sessions and API tokens in its own transaction, and makes a new
enrolment link shown to the approver alone (docs/security.md, "Who gives roles")."""

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.core import mail
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice
from knox.models import AuthToken

from accounts.models import EnrolmentLink, ExternalIdentity
from permissions import role_requests
from permissions.demo import _give_admin_permissions
from permissions.models import Membership, Role, RoleRequest
from tests.permissions.access_admins import make_access_admin, signed_in, user_page_form
from workflows.jobs.worker import Worker

from ..accounts.conftest import PASSWORD, current_code, web_login

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hashing")]

CHOSEN = "Passord-valgt-av-tilgangsadministratoren-9"
ENROL = "/accounts/two-factor/enrol/"


@pytest.fixture
def second_admin(django_user_model, agencies):
    """NAV's second access administrator, staff with the same Django permissions as ``tove``."""
    user = django_user_model.objects.create_user("tilgang-nummer-to", password="x", is_staff=True)
    Membership.objects.create(user=user, agency=agencies["nav"], role=Role.ACCESS_ADMIN)
    _give_admin_permissions([user])
    return user


def _approve(client):
    return client.post(
        reverse("admin:permissions_rolerequest_changelist"),
        {"action": "approve", "_selected_action": [str(pk) for pk in RoleRequest.objects.values_list("pk", flat=True)]},
        follow=True,
    )


def test_the_requester_s_password_and_device_no_longer_sign_in_once_the_role_is_approved(
    django_user_model, users, agencies, second_admin, settings
):
    tove = signed_in(users["tove"])
    # Added by tove, with the password she chose: until it has a role, the account is hers to manage.
    answer = tove.post(
        reverse("admin:auth_user_add"),
        {"username": "ny-medarbeider", "password1": CHOSEN, "password2": CHOSEN, "usable_password": "true"},
    )
    assert answer.status_code == 302
    puppet = django_user_model.objects.get(username="ny-medarbeider")
    tove_saw = tove.post(
        reverse("admin:auth_user_changelist"),
        {"action": "issue_enrolment_links", "_selected_action": [puppet.pk]},
    ).content.decode()
    assert ENROL in tove_saw  # one person's act for an account that opens nothing
    device = TOTPDevice.objects.create(user=puppet, name="tove sin telefon", confirmed=True)
    browser = Client()
    settings.REQUIRE_TWO_FACTOR = True  # the requester's sign-in as the user, as in production
    assert web_login(browser, puppet.username, CHOSEN).status_code == 302
    assert browser.post(reverse("two-factor-verify"), {"otp": current_code(device)}).status_code == 302
    assert browser.get("/tasks/").status_code == 200
    settings.REQUIRE_TWO_FACTOR = False  # the administrators' test sessions give no code
    AuthToken.objects.create(user=puppet)

    asked = tove.post(
        reverse("admin:permissions_membership_add"),
        {"user": puppet.pk, "agency": agencies["nav"].pk, "role": Role.MEMBER},
    )
    assert asked.status_code == 302 and not Membership.objects.filter(user=puppet).exists()
    approved = _approve(signed_in(second_admin))
    assert Membership.objects.filter(user=puppet, role=Role.MEMBER).exists()

    # Neither the password nor the device tove set up signs in; her session as the user ended.
    assert web_login(Client(), puppet.username, CHOSEN).status_code != 302
    puppet.refresh_from_db()
    assert not puppet.has_usable_password()
    assert not TOTPDevice.objects.filter(user=puppet).exists()
    assert browser.get("/tasks/")["Location"].startswith("/accounts/login/")
    assert not AuthToken.objects.filter(user=puppet).exists()
    # The one link left is the approver's, shown on the approver's page alone.
    link = EnrolmentLink.objects.get(user=puppet)
    assert link.created_by == second_admin
    assert approved.status_code == 200 and ENROL in approved.content.decode()
    listed = tove.get(reverse("admin:permissions_rolerequest_changelist")).content.decode()
    assert ENROL not in listed
    # The user's history names the approver and what ended.
    noted = LogEntry.objects.get(object_id=str(puppet.pk), action_flag=CHANGE, user=second_admin)
    assert "passordet er gjort ubrukelig" in noted.get_change_message()


def test_a_second_case_role_leaves_the_user_s_own_credentials(users, agencies, second_admin):
    nils = users["nils"]  # a NAV caseworker: his password and device are his own
    device = TOTPDevice.objects.create(user=nils, name="telefon", confirmed=True)
    held = Membership.objects.get(user=nils, agency=agencies["nav"])
    asked = role_requests.request_role(
        actor=users["tove"], user=nils, agency=agencies["nav"], role=Role.COORDINATOR, replaces=held
    )
    membership = role_requests.approve_role_request(actor=second_admin, request_id=asked.pk)
    assert membership.role == Role.COORDINATOR
    nils.refresh_from_db()
    assert nils.check_password(PASSWORD)
    assert TOTPDevice.objects.filter(pk=device.pk).exists()
    assert not EnrolmentLink.objects.filter(user=nils).exists()


def test_a_single_sign_on_user_keeps_signing_in_through_the_provider(django_user_model, users, agencies, second_admin):
    sso = django_user_model.objects.create_user("sso-medarbeider")
    ExternalIdentity.objects.create(user=sso, issuer="https://idp.example.org", subject="abc-123")
    sso.refresh_from_db()
    before = sso.password
    asked = role_requests.request_role(actor=users["tove"], user=sso, agency=agencies["nav"], role=Role.MEMBER)
    role_requests.approve_role_request(actor=second_admin, request_id=asked.pk)
    assert Membership.objects.filter(user=sso, role=Role.MEMBER).exists()
    sso.refresh_from_db()
    # Nothing the provider's sign-in reads changed: the identity, the account, its unusable password.
    assert ExternalIdentity.objects.filter(user=sso, subject="abc-123").exists()
    assert sso.is_active and sso.password == before


HERS = "tilgangsadministratoren@example.org"


def test_an_address_the_requester_set_before_the_first_case_role_gets_no_reset_link_after_it(
    django_user_model, agencies, settings
):
    """Until 2026-12-07 the approval ended the password, devices, links, sessions and tokens,
    but not the e-mail address: the requester set it to her own while the account opened
    nothing (allowed), and once the user had a password again the password reset mailed her a
    link to set it. Now the first case role empties the address (a superuser's to set again)."""
    requester = make_access_admin(django_user_model, agencies["nav"], "tilgang-som-satte-adressen")
    approver = make_access_admin(django_user_model, agencies["nav"], "tilgang-som-godkjente-rollen")
    page = signed_in(requester)
    added = page.post(
        reverse("admin:auth_user_add"),
        {"username": "ny-med-adresse", "password1": CHOSEN, "password2": CHOSEN, "usable_password": "true"},
    )
    assert added.status_code == 302
    newcomer = django_user_model.objects.get(username="ny-med-adresse")
    changed = page.post(reverse("admin:auth_user_change", args=[newcomer.pk]), user_page_form(newcomer, email=HERS))
    assert changed.status_code == 302
    newcomer.refresh_from_db()
    assert newcomer.email == HERS  # hers to set while the account opens nothing

    role_requests.request_role(actor=requester, user=newcomer, agency=agencies["nav"], role=Role.MEMBER)
    assert _approve(signed_in(approver)).status_code == 200
    assert Membership.objects.filter(user=newcomer, role=Role.MEMBER).exists()
    newcomer.refresh_from_db()
    assert newcomer.email != HERS
    # The user is given a password (an account request another approved): the reset mails her nothing.
    newcomer.set_password("Brukerens-eget-passord-etter-rollen-7")
    newcomer.save()
    assert newcomer.has_usable_password()
    assert _reset_mails_to(HERS) == []
    noted = LogEntry.objects.filter(object_id=str(newcomer.pk), action_flag=CHANGE, user=approver)
    assert any("e-postadressen" in entry.get_change_message() for entry in noted)


def _reset_mails_to(address: str) -> list:
    """The mails the password reset sends (its job run) when ``address`` is typed."""
    assert Client().post(reverse("password_reset"), {"email": address}).status_code == 302
    Worker(name="w").run(once=True)
    return [sent for sent in mail.outbox if address in sent.to]


def test_the_requester_s_address_got_a_reset_link_before_the_role(django_user_model, agencies):
    """What the test above relies on: a reset typed with the address of an account with a
    password is mailed there."""
    user = django_user_model.objects.create_user("har-adresse", password=CHOSEN, email=HERS)
    assert [sent.to for sent in _reset_mails_to(user.email)] == [[HERS]]
