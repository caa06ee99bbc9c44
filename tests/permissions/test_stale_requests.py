"""A request is approved only while the one who asked may still ask for it. Until 2026-12-06 the
requests of an access administrator who had since lost the role (or staff status, or been made
inactive: someone leaving, or found out) waited and were approved as any: a role given, or a
caseworker's password set to one she chose, on the word of someone the agency no longer
trusts with it. Now the approval is refused with a message saying why; the request may still be
refused (and so cleared away), and asked for again by someone who may."""

import pytest
from django.urls import reverse

from permissions.models import Membership, Role
from tests.permissions.access_admins import make_access_admin, signed_in

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hashing")]

CHOSEN = "Passord-valgt-av-en-som-har-sluttet-3"
NO_LONGER = "kan ikke lenger be om den"


@pytest.fixture
def requester(django_user_model, agencies):
    return make_access_admin(django_user_model, agencies["nav"], "tilgang-som-slutter")


@pytest.fixture
def approver(django_user_model, agencies):
    return make_access_admin(django_user_model, agencies["nav"], "tilgang-som-blir")


@pytest.fixture
def caseworker(django_user_model, agencies):
    user = django_user_model.objects.create_user("saksbehandler-i-nav", password="eget-passord")
    Membership.objects.create(user=user, agency=agencies["nav"], role=Role.MEMBER)
    return user


def _decide(client, changelist, request_ids, action="approve"):
    return client.post(
        reverse(changelist), {"action": action, "_selected_action": [str(pk) for pk in request_ids]}, follow=True
    )


def _no_longer_access_admin(user, agency):
    Membership.objects.filter(user=user, agency=agency, role=Role.ACCESS_ADMIN).delete()


def test_a_role_asked_for_by_someone_who_has_since_lost_the_access_administrator_role_is_not_given(
    django_user_model, requester, approver, agencies
):
    from permissions.models import RoleRequest

    newcomer = django_user_model.objects.create_user("ny-etter-avgang")
    asked = signed_in(requester).post(
        reverse("admin:permissions_membership_add"),
        {"user": newcomer.pk, "agency": agencies["nav"].pk, "role": Role.COORDINATOR},
    )
    assert asked.status_code == 302
    request = RoleRequest.objects.get(user=newcomer)
    _no_longer_access_admin(requester, agencies["nav"])

    page = _decide(signed_in(approver), "admin:permissions_rolerequest_changelist", [request.pk])
    assert page.status_code == 200 and NO_LONGER in page.content.decode()
    assert not Membership.objects.filter(user=newcomer).exists()
    request.refresh_from_db()
    assert request.status == "pending"
    # Refused, it is cleared away.
    _decide(signed_in(approver), "admin:permissions_rolerequest_changelist", [request.pk], action="refuse")
    request.refresh_from_db()
    assert (request.status, request.decided_by) == ("refused", approver)


def test_nor_is_one_asked_for_by_someone_made_inactive_since(django_user_model, requester, approver, agencies):
    from permissions.models import RoleRequest

    newcomer = django_user_model.objects.create_user("ny-etter-deaktivering")
    signed_in(requester).post(
        reverse("admin:permissions_membership_add"),
        {"user": newcomer.pk, "agency": agencies["nav"].pk, "role": Role.MEMBER},
    )
    request = RoleRequest.objects.get(user=newcomer)
    django_user_model.objects.filter(pk=requester.pk).update(is_active=False)
    page = _decide(signed_in(approver), "admin:permissions_rolerequest_changelist", [request.pk])
    assert NO_LONGER in page.content.decode()
    assert not Membership.objects.filter(user=newcomer).exists()


def test_a_password_asked_for_by_someone_who_has_since_lost_the_role_is_not_set(
    requester, approver, caseworker, agencies
):
    from accounts.models import AccountRequest

    asked = signed_in(requester).post(
        reverse("admin:auth_user_password_change", args=[caseworker.pk]),
        {"password1": CHOSEN, "password2": CHOSEN, "usable_password": "true"},
    )
    assert asked.status_code == 302
    request = AccountRequest.objects.get(user=caseworker)
    _no_longer_access_admin(requester, agencies["nav"])

    page = _decide(signed_in(approver), "admin:accounts_accountrequest_changelist", [request.pk])
    assert page.status_code == 200 and NO_LONGER in page.content.decode()
    caseworker.refresh_from_db()
    assert caseworker.check_password("eget-passord") and not caseworker.check_password(CHOSEN)
    request.refresh_from_db()
    assert request.status == "pending"


def test_a_request_of_someone_who_still_may_is_approved_as_before(requester, approver, caseworker):
    from accounts.models import AccountRequest

    signed_in(requester).post(
        reverse("admin:auth_user_password_change", args=[caseworker.pk]),
        {"password1": CHOSEN, "password2": CHOSEN, "usable_password": "true"},
    )
    request = AccountRequest.objects.get(user=caseworker)
    page = _decide(signed_in(approver), "admin:accounts_accountrequest_changelist", [request.pk])
    assert NO_LONGER not in page.content.decode()
    caseworker.refresh_from_db()
    assert caseworker.check_password(CHOSEN)
