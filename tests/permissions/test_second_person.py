"""The decision shared by role requests and account change requests (``permissions.second_person``)
saves the decision's own fields, never the whole row: a widened role's approval deletes the
membership it replaces, whose ``SET_NULL`` rewrites the request; a full save of the row read
before wrote the deleted membership back into it, and the approval failed at its commit, the
user left with the narrower role. Here with real commits (``transaction=True``), as in use."""

import pytest
from django.urls import reverse

from permissions.models import Membership, RequestStatus, Role, RoleRequest
from tests.permissions.access_admins import make_access_admin, signed_in

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_widened_role_approved_in_the_admin_is_given_and_the_old_one_taken(agencies, django_user_model):
    agency = agencies["nav"]
    requester = make_access_admin(django_user_model, agency, "tilgang-spor")
    approver = make_access_admin(django_user_model, agency, "tilgang-godkjenner")
    worker = django_user_model.objects.create_user("saksbehandler-utvides", password="x")
    own = Membership.objects.create(user=worker, agency=agency, role=Role.MEMBER)

    signed_in(requester).post(
        reverse("admin:permissions_membership_change", args=[own.pk]),
        {"user": worker.pk, "agency": agency.pk, "role": Role.COORDINATOR},
    )
    asked = RoleRequest.objects.get(user=worker, role=Role.COORDINATOR, status=RequestStatus.PENDING)
    page = signed_in(approver).post(
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
