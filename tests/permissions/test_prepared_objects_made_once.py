"""``permissions.prepared``: how a compiled statement's rows become objects (the model, its
columns, the ``select_related`` populators, the annotations) is found once per statement,
not on every run, and the objects of every run are still new and the queryset's own."""

import pytest
from django.contrib.auth import get_user_model
from django.db.models import F

from permissions import prepared as prepared_module
from permissions.models import Membership, Role
from permissions.prepared import Prepared

pytestmark = pytest.mark.django_db


def _memberships(user_id):
    return (
        Membership.objects.filter(user=user_id)
        .select_related("agency", "user")
        .annotate(agency_kind=F("agency__kind"))
        .order_by("id")
    )


def _worker(name, agencies):
    user = get_user_model().objects.create_user(name, password="x")
    for agency in agencies:
        Membership.objects.create(user=user, agency=agency, role=Role.MEMBER)
    return user


def test_the_way_from_rows_to_objects_is_found_once_per_statement(monkeypatch, agencies):
    made = []
    real = prepared_module.get_related_populators
    monkeypatch.setattr(prepared_module, "get_related_populators", lambda *args: made.append(1) or real(*args))
    housing, health = agencies["housing"], agencies["health"]
    first, second = _worker("prepared-first", [housing, health]), _worker("prepared-second", [health])
    memberships = Prepared(_memberships, kinds=(int,))

    runs = [memberships.objects(user.pk) for user in (first, second, first, second, first)]

    assert len(made) == 1
    for user, got in zip((first, second, first, second, first), runs, strict=True):
        expected = list(_memberships(user.pk))
        assert got == expected
        assert [(m.agency.name, m.user.username, m.agency_kind) for m in got] == [
            (m.agency.name, m.user.username, m.agency_kind) for m in expected
        ]
    # Each run made objects of its own: nothing of one read is kept into the next.
    assert runs[0][0] is not runs[2][0]
    assert runs[0][0].agency is not runs[2][0].agency
    runs[0][0].agency.name = "changed in one answer"
    assert runs[2][0].agency.name == housing.name
