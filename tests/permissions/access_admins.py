"""What the access-administration tests share: an access administrator made as the demo's
(``tove``) is, and a browser signed in as a user. Their fast password hashing is the fixture
``fast_password_hashing`` (tests/permissions/conftest.py)."""

from django.test import Client

from permissions.demo import _give_admin_permissions
from permissions.models import Membership, Role


def make_access_admin(django_user_model, agency, username: str):
    """An access administrator of ``agency``: staff, with the Django permissions the demo's has."""
    user = django_user_model.objects.create_user(username, password="x", is_staff=True)
    Membership.objects.create(user=user, agency=agency, role=Role.ACCESS_ADMIN)
    _give_admin_permissions([user])
    return user


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def agency_page_form(agency, rows: list[dict]) -> dict:
    """What the agency's admin page posts: its fields and ``rows``, its memberships inline (a
    row with an ``id`` is one already there)."""
    data = {
        "name": agency.name,
        "kind": agency.kind,
        "group": str(agency.group_id),
        "municipality": agency.municipality,
        "notification_email": agency.notification_email,
        "webhook_url": "",
        "webhook_secret": "",
        "memberships-TOTAL_FORMS": str(len(rows)),
        "memberships-INITIAL_FORMS": str(sum(1 for row in rows if row.get("id"))),
        "memberships-MIN_NUM_FORMS": "0",
        "memberships-MAX_NUM_FORMS": "1000",
    }
    for i, row in enumerate(rows):
        for key, value in row.items():
            data[f"memberships-{i}-{key}"] = value
    return data


def user_page_form(user, read_only=(), **extra) -> dict:
    """What a user's change page in the admin posts, with ``extra`` (a field changed or
    tampered with) added; the dates the page shows to a superuser too, so that without a
    refusal the form saves. ``read_only``: fields the page shows as text, so never sends."""
    joined = user.date_joined
    data = {
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "is_active": "on",
        "date_joined_0": joined.strftime("%Y-%m-%d"),
        "date_joined_1": joined.strftime("%H:%M:%S"),
        "last_login_0": "",
        "last_login_1": "",
    }
    data.update(extra)
    return {name: value for name, value in data.items() if name not in read_only}
