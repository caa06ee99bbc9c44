"""The decision shared by role requests and account change requests (``permissions.second_person``)
saves the decision's own fields, never the whole row: a widened role's approval deletes the
membership it replaces, whose ``SET_NULL`` rewrites the request; a full save of the row read
before wrote the deleted membership back into it, and the approval failed at its commit, the
user left with the narrower role. Here with real commits (``transaction=True``), as in use."""

import pytest
from django.test import Client
from django.urls import reverse

from permissions.demo import _give_admin_permissions
from permissions.models import Membership, RequestStatus, Role, RoleRequest

pytestmark = pytest.mark.django_db(transaction=True)


def _access_admin(django_user_model, agency, username):
    user = django_user_model.objects.create_user(username, password="x", is_staff=True)
    Membership.objects.create(user=user, agency=agency, role=Role.ACCESS_ADMIN)
    _give_admin_permissions([user])
    return user


def _client(user):
    client = Client()
    client.force_login(user)
    return client


def test_a_widened_role_approved_in_the_admin_is_given_and_the_old_one_taken(agencies, django_user_model):
    agency = agencies["nav"]
    requester = _access_admin(django_user_model, agency, "tilgang-spor")
    approver = _access_admin(django_user_model, agency, "tilgang-godkjenner")
    worker = django_user_model.objects.create_user("saksbehandler-utvides", password="x")
    own = Membership.objects.create(user=worker, agency=agency, role=Role.MEMBER)

    _client(requester).post(
        reverse("admin:permissions_membership_change", args=[own.pk]),
        {"user": worker.pk, "agency": agency.pk, "role": Role.COORDINATOR},
    )
    asked = RoleRequest.objects.get(user=worker, role=Role.COORDINATOR, status=RequestStatus.PENDING)
    page = _client(approver).post(
        reverse("admin:permissions_rolerequest_changelist"),
        {"action": "approve", "_selected_action": [str(asked.pk)]},
        follow=True,
    )

    assert "Godkjent: 1." in page.content.decode()
    assert set(Membership.objects.filter(user=worker).values_list("role", flat=True)) == {Role.COORDINATOR}
    asked.refresh_from_db()
    assert (asked.status, asked.decided_by, asked.replaces_id, asked.replaces_role) == (
        RequestStatus.APPROVED,
        approver,
        None,
        Role.MEMBER,
    )
