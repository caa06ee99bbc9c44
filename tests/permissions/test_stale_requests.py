"""A request is approved only while the one who asked may still ask for it. Until 2026-12-06 the
requests of an access administrator who had since lost the role (or staff status, or been made
inactive: someone leaving, or found out) waited and were approved as any: a role given, or a
caseworker's password set to one she chose, on the word of someone the agency no longer
trusts with it. Now the approval is refused with a message saying why; the request may still be
refused (and so cleared away), and asked for again by someone who may."""

import pytest
from django.test import Client
from django.urls import reverse

from permissions.demo import _give_admin_permissions
from permissions.models import Membership, Role

pytestmark = pytest.mark.django_db

CHOSEN = "Passord-valgt-av-en-som-har-sluttet-3"
NO_LONGER = "kan ikke lenger be om den"


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _access_admin(django_user_model, agency, username):
    user = django_user_model.objects.create_user(username, password="x", is_staff=True)
    Membership.objects.create(user=user, agency=agency, role=Role.ACCESS_ADMIN)
    _give_admin_permissions([user])
    return user


@pytest.fixture
def requester(django_user_model, agencies):
    return _access_admin(django_user_model, agencies["nav"], "tilgang-som-slutter")


@pytest.fixture
def approver(django_user_model, agencies):
    return _access_admin(django_user_model, agencies["nav"], "tilgang-som-blir")


@pytest.fixture
def caseworker(django_user_model, agencies):
    user = django_user_model.objects.create_user("saksbehandler-i-nav", password="eget-passord")
    Membership.objects.create(user=user, agency=agencies["nav"], role=Role.MEMBER)
    return user


def _client(user):
    client = Client()
    client.force_login(user)
    return client


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
    asked = _client(requester).post(
        reverse("admin:permissions_membership_add"),
        {"user": newcomer.pk, "agency": agencies["nav"].pk, "role": Role.COORDINATOR},
    )
    assert asked.status_code == 302
    request = RoleRequest.objects.get(user=newcomer)
    _no_longer_access_admin(requester, agencies["nav"])

    page = _decide(_client(approver), "admin:permissions_rolerequest_changelist", [request.pk])
    assert page.status_code == 200 and NO_LONGER in page.content.decode()
    assert not Membership.objects.filter(user=newcomer).exists()
    request.refresh_from_db()
    assert request.status == "pending"
    # Refused, it is cleared away.
    _decide(_client(approver), "admin:permissions_rolerequest_changelist", [request.pk], action="refuse")
    request.refresh_from_db()
    assert (request.status, request.decided_by) == ("refused", approver)


def test_nor_is_one_asked_for_by_someone_made_inactive_since(django_user_model, requester, approver, agencies):
    from permissions.models import RoleRequest

    newcomer = django_user_model.objects.create_user("ny-etter-deaktivering")
    _client(requester).post(
        reverse("admin:permissions_membership_add"),
        {"user": newcomer.pk, "agency": agencies["nav"].pk, "role": Role.MEMBER},
    )
    request = RoleRequest.objects.get(user=newcomer)
    django_user_model.objects.filter(pk=requester.pk).update(is_active=False)
    page = _decide(_client(approver), "admin:permissions_rolerequest_changelist", [request.pk])
    assert NO_LONGER in page.content.decode()
    assert not Membership.objects.filter(user=newcomer).exists()


def test_a_password_asked_for_by_someone_who_has_since_lost_the_role_is_not_set(
    requester, approver, caseworker, agencies
):
    from accounts.models import AccountRequest

    asked = _client(requester).post(
        reverse("admin:auth_user_password_change", args=[caseworker.pk]),
        {"password1": CHOSEN, "password2": CHOSEN, "usable_password": "true"},
    )
    assert asked.status_code == 302
    request = AccountRequest.objects.get(user=caseworker)
    _no_longer_access_admin(requester, agencies["nav"])

    page = _decide(_client(approver), "admin:accounts_accountrequest_changelist", [request.pk])
    assert page.status_code == 200 and NO_LONGER in page.content.decode()
    caseworker.refresh_from_db()
    assert caseworker.check_password("eget-passord") and not caseworker.check_password(CHOSEN)
    request.refresh_from_db()
    assert request.status == "pending"


def test_a_request_of_someone_who_still_may_is_approved_as_before(requester, approver, caseworker):
    from accounts.models import AccountRequest

    _client(requester).post(
        reverse("admin:auth_user_password_change", args=[caseworker.pk]),
        {"password1": CHOSEN, "password2": CHOSEN, "usable_password": "true"},
    )
    request = AccountRequest.objects.get(user=caseworker)
    page = _decide(_client(approver), "admin:accounts_accountrequest_changelist", [request.pk])
    assert NO_LONGER not in page.content.decode()
    caseworker.refresh_from_db()
    assert caseworker.check_password(CHOSEN)
