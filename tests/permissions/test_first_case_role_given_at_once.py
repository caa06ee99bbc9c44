"""A superuser's grant, made at once (no request), ends the credentials set before a user's
first role opening case data, as an approval does (``test_first_case_role.py``). Until
2026-12-06 it ended nothing: an access administrator added a user, set its password and second
factor alone (allowed: the account opened nothing), asked a superuser to give it a NAV role
(on the membership page or the agency's page, where a superuser's grant is no request), and
signed in as it to NAV's cases. The superuser, like an approver, cannot know who set the
account's credentials; now the new enrolment link is shown to the superuser alone."""

import re
from types import SimpleNamespace

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import enrolment
from accounts.models import EnrolmentLink
from permissions.demo import _give_admin_permissions
from permissions.models import Membership, Role
from tests.permissions.access_admins import signed_in

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hashing")]

CHOSEN = "Passord-valgt-av-tilgangsadministratoren-8"
ENROL = re.compile(r"/accounts/two-factor/enrol/[\w-]+/")


@pytest.fixture
def access_admin(django_user_model, agencies):
    user = django_user_model.objects.create_user("tilgang-forbereder", password="x", is_staff=True)
    Membership.objects.create(user=user, agency=agencies["nav"], role=Role.ACCESS_ADMIN)
    _give_admin_permissions([user])
    return user


@pytest.fixture
def prepared(django_user_model, access_admin):
    """A user the access administrator added, with her password, her link and her device."""
    client = signed_in(access_admin)
    added = client.post(
        reverse("admin:auth_user_add"),
        {"username": "forberedt-konto", "password1": CHOSEN, "password2": CHOSEN, "usable_password": "true"},
    )
    assert added.status_code == 302
    user = django_user_model.objects.get(username="forberedt-konto")
    page = client.post(
        reverse("admin:auth_user_changelist"), {"action": "issue_enrolment_links", "_selected_action": [user.pk]}
    )
    user.her_link = ENROL.search(page.content.decode()).group(0)
    TOTPDevice.objects.create(user=user, name="hennes telefon", confirmed=True)
    return user


def _opens(user, address: str) -> bool:
    token = address.rstrip("/").rsplit("/", 1)[-1]
    return enrolment.open_link(SimpleNamespace(user=user, session={}), token)


def _assert_her_credentials_ended(user, superuser, page):
    user.refresh_from_db()
    assert not user.has_usable_password() and not user.check_password(CHOSEN)
    assert not TOTPDevice.objects.filter(user=user).exists()
    assert not _opens(user, user.her_link)
    assert set(EnrolmentLink.objects.filter(user=user).values_list("created_by", flat=True)) == {superuser.pk}
    shown = ENROL.search(page.content.decode())
    assert page.status_code == 200 and shown is not None and _opens(user, shown.group(0))
    noted = LogEntry.objects.get(object_id=str(user.pk), action_flag=CHANGE, user=superuser)
    assert "passordet er gjort ubrukelig" in noted.get_change_message()


def test_a_superuser_s_grant_on_the_membership_page_ends_the_credentials_set_before(admin_user, agencies, prepared):
    page = signed_in(admin_user).post(
        reverse("admin:permissions_membership_add"),
        {"user": prepared.pk, "agency": agencies["nav"].pk, "role": Role.MEMBER},
    )
    assert Membership.objects.filter(user=prepared, agency=agencies["nav"], role=Role.MEMBER).exists()
    _assert_her_credentials_ended(prepared, admin_user, page)


def test_and_on_the_agency_s_page(admin_user, agencies, prepared):
    nav = agencies["nav"]
    rows = [
        {"id": str(m.pk), "agency": str(nav.pk), "user": str(m.user_id), "role": m.role}
        for m in Membership.objects.filter(agency=nav)
    ]
    rows.append({"agency": str(nav.pk), "user": str(prepared.pk), "role": Role.COORDINATOR})
    data = {
        "name": nav.name,
        "kind": nav.kind,
        "group": str(nav.group_id),
        "municipality": nav.municipality,
        "notification_email": nav.notification_email,
        "webhook_url": "",
        "webhook_secret": "",
        "memberships-TOTAL_FORMS": str(len(rows)),
        "memberships-INITIAL_FORMS": str(len(rows) - 1),
        "memberships-MIN_NUM_FORMS": "0",
        "memberships-MAX_NUM_FORMS": "1000",
    }
    for i, row in enumerate(rows):
        for key, value in row.items():
            data[f"memberships-{i}-{key}"] = value
    page = signed_in(admin_user).post(reverse("admin:permissions_agency_change", args=[nav.pk]), data)
    assert Membership.objects.filter(user=prepared, agency=nav, role=Role.COORDINATOR).exists()
    _assert_her_credentials_ended(prepared, admin_user, page)


def test_a_superuser_s_grant_of_a_role_opening_no_case_data_or_of_a_further_case_role_ends_nothing(
    django_user_model, admin_user, agencies
):
    worker = django_user_model.objects.create_user("egen-saksbehandler", password="eget-passord")
    Membership.objects.create(user=worker, agency=agencies["nav"], role=Role.MEMBER)
    device = TOTPDevice.objects.create(user=worker, name="egen telefon", confirmed=True)
    client = signed_in(admin_user)
    for agency, role in ((agencies["nav"], Role.LEADER), (agencies["housing"], Role.MEMBER)):
        answer = client.post(
            reverse("admin:permissions_membership_add"), {"user": worker.pk, "agency": agency.pk, "role": role}
        )
        assert answer.status_code == 302
    worker.refresh_from_db()
    assert worker.check_password("eget-passord") and TOTPDevice.objects.filter(pk=device.pk).exists()
    assert not EnrolmentLink.objects.filter(user=worker).exists()
