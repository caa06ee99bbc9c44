"""A service account's roles are given by a superuser only (docs/security.md, "Who gives
roles"). A service account (``accounts.service_accounts``) is an agency's system: its API keys
read what its roles open with no password and no second factor, for whoever holds the keys.
Until 2026-12-06 an agency's access administrator could give a role in their agency to another
agency's service account (or move one of their agency's memberships onto it), and that other
agency's system then read the first agency's cases, health and economy data among them, on its
key alone."""

import pytest
from django.urls import reverse

from accounts import service_accounts
from permissions import rules
from permissions.models import Membership, Role, RoleRequest
from tests.permissions.access_admins import signed_in

pytestmark = pytest.mark.django_db

REFUSED = "Bare en superbruker kan gi eller endre rollene til en tjenestekonto"


@pytest.fixture
def system(users):
    """The health service's system: ``helga``'s account made a service account with one key."""
    key, _expiry = service_accounts.issue_key(users["helga"], by="test")
    return users["helga"], key


@pytest.fixture
def operator(users):
    """``tove``, NAV's access administrator in the demo cast, with the admin's permissions."""
    tove = users["tove"]
    assert tove.is_staff and Membership.objects.filter(user=tove, role=Role.ACCESS_ADMIN).exists()
    assert tove.has_perm("permissions.add_membership") and tove.has_perm("permissions.change_agency")
    return tove


def _memberships(user):
    return sorted(Membership.objects.filter(user=user).values_list("agency__kind", "role"))


def test_an_access_administrator_gives_no_role_to_another_agency_s_service_account(operator, system, agencies):
    account, _key = system
    answer = signed_in(operator).post(
        reverse("admin:permissions_membership_add"),
        {"user": account.pk, "agency": agencies["nav"].pk, "role": Role.MEMBER},
    )
    assert answer.status_code == 200 and REFUSED in answer.content.decode()
    assert _memberships(account) == [("health", Role.MEMBER)]
    assert service_accounts.acts_as_a_system(account)  # its key still stands in for a second factor


def _agency_page(nav, rows, **changes) -> dict:
    data = {
        "name": nav.name,
        "municipality": nav.municipality,
        "notification_email": nav.notification_email,
        "webhook_url": "",
        "webhook_secret": "",
        "memberships-TOTAL_FORMS": str(len(rows)),
        "memberships-INITIAL_FORMS": str(len(rows)),
        "memberships-MIN_NUM_FORMS": "0",
        "memberships-MAX_NUM_FORMS": "1000",
        **changes,
    }
    for index, row in enumerate(rows):
        data |= {
            f"memberships-{index}-id": str(row.pk),
            f"memberships-{index}-agency": str(nav.pk),
            f"memberships-{index}-user": str(row.user_id),
            f"memberships-{index}-role": row.role,
        }
    return data


def test_the_agency_s_page_is_still_saved_with_a_service_account_s_role_left_as_it_is(operator, system, agencies):
    account, _key = system
    nav = agencies["nav"]
    Membership.objects.create(user=account, agency=nav, role=Role.MEMBER)  # given by a superuser
    rows = list(Membership.objects.filter(agency=nav).order_by("pk"))
    answer = signed_in(operator).post(
        reverse("admin:permissions_agency_change", args=[nav.pk]),
        _agency_page(nav, rows, notification_email="nav-ny@eksempel.no"),
    )
    assert answer.status_code == 302
    nav.refresh_from_db()
    assert nav.notification_email == "nav-ny@eksempel.no"
    assert ("nav", Role.MEMBER) in _memberships(account)


def test_nor_on_the_agency_s_page(operator, system, agencies):
    account, _key = system
    nav = agencies["nav"]
    rows = list(Membership.objects.filter(agency=nav).order_by("pk"))
    data = _agency_page(nav, rows, **{"memberships-TOTAL_FORMS": str(len(rows) + 1)})
    new = len(rows)
    data |= {
        f"memberships-{new}-agency": str(nav.pk),
        f"memberships-{new}-user": str(account.pk),
        f"memberships-{new}-role": Role.MEMBER,
    }
    answer = signed_in(operator).post(reverse("admin:permissions_agency_change", args=[nav.pk]), data)
    assert answer.status_code == 200 and REFUSED in answer.content.decode()
    assert _memberships(account) == [("health", Role.MEMBER)]


def test_nor_moves_a_membership_of_the_agency_onto_a_service_account(operator, system, users, agencies):
    account, _key = system
    row = Membership.objects.get(user=users["nora"], agency=agencies["nav"])
    answer = signed_in(operator).post(
        reverse("admin:permissions_membership_change", args=[row.pk]),
        {"user": account.pk, "agency": agencies["nav"].pk, "role": Role.MEMBER},
    )
    assert answer.status_code == 200 and REFUSED in answer.content.decode()
    row.refresh_from_db()
    assert row.user_id == users["nora"].pk
    assert _memberships(account) == [("health", Role.MEMBER)]


def test_nor_changes_the_role_a_service_account_holds_in_the_agency(operator, system, agencies):
    account, _key = system
    row = Membership.objects.create(user=account, agency=agencies["nav"], role=Role.MEMBER)
    answer = signed_in(operator).post(
        reverse("admin:permissions_membership_change", args=[row.pk]),
        {"user": account.pk, "agency": agencies["nav"].pk, "role": Role.LEAD},
    )
    assert answer.status_code == 200 and REFUSED in answer.content.decode()
    row.refresh_from_db()
    assert row.role == Role.MEMBER


def test_the_access_administrator_still_takes_a_service_account_s_role_in_the_agency_away(operator, system, agencies):
    """Taking the role away shuts a system out of the agency's cases: the agency's own call."""
    account, _key = system
    row = Membership.objects.create(user=account, agency=agencies["nav"], role=Role.MEMBER)
    answer = signed_in(operator).post(reverse("admin:permissions_membership_delete", args=[row.pk]), {"post": "yes"})
    assert answer.status_code == 302
    assert _memberships(account) == [("health", Role.MEMBER)]


def test_a_superuser_gives_a_service_account_its_role(admin_user, system, agencies):
    account, _key = system
    answer = signed_in(admin_user).post(
        reverse("admin:permissions_membership_add"),
        {"user": account.pk, "agency": agencies["nav"].pk, "role": Role.MEMBER},
    )
    assert answer.status_code == 302
    assert _memberships(account) == [("health", Role.MEMBER), ("nav", Role.MEMBER)]


def test_the_access_administrator_still_asks_for_a_person_s_role_in_the_agency(operator, users, agencies):
    """A person's role, unlike a service account's, the access administrator asks for; it is
    given when a second person approves (``tests/permissions/test_role_requests.py``)."""
    answer = signed_in(operator).post(
        reverse("admin:permissions_membership_add"),
        {"user": users["siri"].pk, "agency": agencies["nav"].pk, "role": Role.MEMBER},
    )
    assert answer.status_code == 302
    assert RoleRequest.objects.filter(user=users["siri"], agency=agencies["nav"], role=Role.MEMBER).exists()


def test_the_rule_refuses_whoever_is_not_a_superuser(operator, admin_user, system, agencies):
    account, _key = system
    assert rules.holds_a_service_account({account.pk, None})
    with pytest.raises(rules.RoleGrantRefused) as refused:
        rules.check_role_grant(
            operator, agency_ids={agencies["nav"].pk}, to_self=False, roles={Role.MEMBER}, to_service_account=True
        )
    assert refused.value.reason == "service_account"
    rules.check_role_grant(
        admin_user, agency_ids={agencies["nav"].pk}, to_self=False, roles={Role.MEMBER}, to_service_account=True
    )
