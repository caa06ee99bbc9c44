"""A role given on an agency's page to a user deleted meanwhile answers "try again", never a
500 (PostgreSQL: the foreign key is checked at commit).

The page's form found the user; another administrator deleted it before the page's transaction
committed; the membership's foreign key failed at commit and the page answered 500 (found by
h-attack24, 2026-12-07). A row gone under a form is another writer's change, told as a deadlock
is: 409, nothing saved."""

import psycopg
import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from permissions import role_requests
from permissions.models import Membership
from tests.permissions.test_grants_lock_users_in_order import _agency_page

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _delete_elsewhere(user_id: int) -> None:
    """Another administrator's deletion, committed on a connection of its own."""
    settings = connection.settings_dict
    with psycopg.connect(
        dbname=settings["NAME"],
        user=settings["USER"] or None,
        host=settings["HOST"] or None,
        port=settings["PORT"] or None,
        autocommit=True,
    ) as other:
        other.execute("DELETE FROM auth_user WHERE id = %s", [user_id])


def test_a_role_given_to_a_user_deleted_meanwhile_is_refused_as_a_concurrent_change(
    django_user_model, admin_user, agencies, monkeypatch
):
    user = django_user_model.objects.create_user("forsvinner-snart")
    nav = agencies["nav"]
    data = _agency_page(nav, [user])
    before = set(Membership.objects.filter(agency=nav).values_list("pk", "user_id", "role"))
    lock_users = role_requests.lock_users

    def deleted_first(user_ids):
        ids = list(user_ids)
        _delete_elsewhere(user.pk)
        lock_users(ids)

    monkeypatch.setattr(role_requests, "lock_users", deleted_first)
    client = Client(raise_request_exception=False)
    client.force_login(admin_user)
    answer = client.post(reverse("admin:permissions_agency_change", args=[nav.pk]), data)

    assert answer.status_code == 409  # old: 500 (IntegrityError at commit)
    assert "prøv igjen" in answer.content.decode().casefold()
    assert set(Membership.objects.filter(agency=nav).values_list("pk", "user_id", "role")) == before
