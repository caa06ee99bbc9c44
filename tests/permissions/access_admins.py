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
