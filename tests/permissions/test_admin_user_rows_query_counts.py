"""The admin's lists of what belongs to a user (``UserRowsAdmin``) cost the same statements for
a page of many rows as for a few (h-review): the API tokens' list read each token's user (its
``owner`` column) and the enrolment links' list each link's maker (``created_by`` may be none,
so Django's own joins left it out), one statement a row, a hundred a page, for an access
administrator and a superuser alike (the tests failed before)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from permissions.models import Membership, Role
from tests.permissions.access_admins import make_access_admin, signed_in
from tests.permissions.test_admin_rows_of_managed_users import MODELS, _rows_of, _with_every_permission

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hashing")]


@pytest.mark.parametrize("superuser", [False, True], ids=["access-administrator", "superuser"])
def test_every_list_of_a_users_rows_costs_the_same_for_many_rows(django_user_model, agencies, superuser):
    access = _with_every_permission(make_access_admin(django_user_model, agencies["nav"], "telleadmin-nav"))
    viewer = django_user_model.objects.create_superuser("telleoperator", password="x") if superuser else access
    client = signed_in(viewer)

    def statements() -> dict[str, int]:
        counts = {}
        for app_label, model_name in MODELS.values():
            url = reverse(f"admin:{app_label}_{model_name}_changelist")
            with CaptureQueriesContext(connection) as queries:
                assert client.get(url).status_code == 200
            counts[model_name] = len(queries)
        return counts

    def more_users(count: int, prefix: str) -> None:
        for number in range(count):
            user = django_user_model.objects.create_user(f"{prefix}-{number}")
            Membership.objects.create(user=user, agency=agencies["nav"], role=Role.LEADER)
            _rows_of(user, access)

    more_users(2, "telle-a")
    statements()  # the first request of the session reads what the next ones find cached
    few = statements()
    more_users(10, "telle-b")

    assert statements() == few
