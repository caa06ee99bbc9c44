"""The demo cast (design §9) is seeded in a few statements and refreshed in place."""

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from knox.models import AuthToken

from accounts import tokens
from permissions.demo import ACCESS_ADMIN_PERMISSIONS, AGENCIES, USERS, seed_demo_cast
from permissions.models import Agency, Membership

pytestmark = pytest.mark.django_db


def _cast_rows():
    user_model = get_user_model()
    return (
        sorted(Agency.objects.values_list("name", "kind", "municipality", "notification_email", "group__name")),
        sorted(user_model.objects.values_list("username", "first_name", "last_name", "email")),
        sorted(Membership.objects.values_list("user__username", "agency__name", "role")),
        sorted(user_model.groups.through.objects.values_list("user__username", "group__name")),
    )


def test_a_fresh_database_takes_the_cast_in_a_few_statements():
    with CaptureQueriesContext(connection) as queries:
        rows = seed_demo_cast("pw")
    # Reads of what exists, then one INSERT per table (it was about 200 statements); the access
    # administrator's permissions read and given in two more.
    assert len(queries) <= 14, [query["sql"][:80] for query in queries]
    agencies, users, memberships, in_groups = _cast_rows()
    assert [row[0] for row in agencies] == sorted(name for name, _, _, _ in AGENCIES)
    assert all(row[4] == f"agency:{row[0]}" for row in agencies)
    assert [row[0] for row in users] == sorted(username for username, _, _, _ in USERS)
    assert ("bjorn", "Boligkontaktene Sarpsborg", "coordinator") in memberships
    assert ("kari", "agency:Halden fengsel") in in_groups
    assert len(memberships) == len(in_groups) == len([row for row in USERS if row[2]])
    assert ("oscar", "-", "no agency") in rows
    assert get_user_model().objects.get(username="nils").check_password("pw")


def test_the_access_administrator_works_in_the_admin_and_nobody_else_does():
    """``tove`` gives NAV's roles in the Django admin: staff, with every permission the seed
    names (none of them misspelt), and no other cast member is staff."""
    seed_demo_cast("pw")
    seed_demo_cast("pw")  # again: nothing twice
    staff = get_user_model().objects.filter(is_staff=True)
    assert [user.username for user in staff] == ["tove"]
    held = {(p.content_type.app_label, p.codename) for p in staff.get().user_permissions.all()}
    assert held == set(ACCESS_ADMIN_PERMISSIONS)
    assert ("tove", "NAV Sarpsborg", "access_admin") in _cast_rows()[2]


def test_seeding_again_restores_the_cast_and_ends_a_changed_users_tokens():
    seed_demo_cast("pw")
    before = _cast_rows()
    nav = Agency.objects.get(name="NAV Sarpsborg")
    nav.notification_email = "changed@example.org"
    nav.save()
    nils = get_user_model().objects.get(username="nils")
    nils.first_name = "Endret"
    nils.save()
    tokens.issue(nils)

    seed_demo_cast("new-password")

    assert _cast_rows() == before  # nothing twice, the changed rows brought back
    nils.refresh_from_db()
    assert nils.check_password("new-password")
    # An existing user's password was changed by a save: the signal ended their tokens.
    assert not AuthToken.objects.filter(user=nils).exists()
