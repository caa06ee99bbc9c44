"""``permissions.prepared.quick_from_db``: a compiled read's rows become the objects the
queryset's own iteration makes (the same fields, state and related objects), without
``Model.__init__``; a model whose making anything could observe or change (a signal
receiver, its own ``__init__``, a row without every field) is made by Django's way."""

from unittest import mock

import pytest
from django.contrib.auth import get_user_model
from django.db.models import F, Model
from django.db.models.signals import post_init

from permissions.models import Agency, Membership, Role
from permissions.prepared import Prepared, quick_from_db

pytestmark = pytest.mark.django_db


def _memberships(user_id):
    return (
        Membership.objects.filter(user=user_id)
        .select_related("agency", "user")
        .annotate(agency_kind=F("agency__kind"))
        .order_by("id")
    )


def _fields(obj) -> dict:
    """What an object holds: its fields and the state Django keeps of it."""
    held = {name: value for name, value in vars(obj).items() if name != "_state"}
    return {**held, "_state": (obj._state.adding, obj._state.db)}


@pytest.fixture
def worker(agencies):
    user = get_user_model().objects.create_user("quick-objects-reader", password="x-unused-4kd9")
    for kind in ("housing", "health"):
        Membership.objects.create(user=user, agency=agencies[kind], role=Role.MEMBER)
    return user


def test_the_objects_are_the_querysets_own_field_for_field(worker):
    got = Prepared(_memberships, kinds=(int,)).objects(worker.pk)
    expected = list(_memberships(worker.pk))
    assert [type(m) for m in got] == [type(m) for m in expected] == [Membership, Membership]
    for mine, theirs in zip(got, expected, strict=True):
        assert _fields(mine) == _fields(theirs)
        assert list(vars(mine)) == list(vars(theirs))  # the same fields, in the same order
        assert _fields(mine.agency) == _fields(theirs.agency)
        assert _fields(mine.user) == _fields(theirs.user)
        assert mine._state.adding is False and mine._state.db == "default"
        assert mine.agency_kind == theirs.agency_kind
    # An object made so behaves as one: a new related object replaces the one read.
    other = Agency.objects.exclude(pk=got[0].agency_id).first()
    got[0].agency = other
    assert got[0].agency_id == other.pk


def test_no_model_init_runs_for_a_compiled_read(worker):
    reads = Prepared(_memberships, kinds=(int,))
    reads.objects(worker.pk)  # the statement compiled (its building makes objects of its own)
    with mock.patch.object(Model, "__init__", autospec=True, side_effect=Model.__init__) as init:
        got = reads.objects(worker.pk)
    assert len(got) == 2 and got[0].agency.name and got[0].user.username == "quick-objects-reader"
    assert init.call_count == 0


def test_a_listened_to_model_is_made_by_djangos_way(worker):
    heard = []

    def listen(sender, instance, **kwargs):
        heard.append((sender, instance.pk))

    reads = Prepared(_memberships, kinds=(int,))
    post_init.connect(listen, sender=Membership)
    try:
        got = reads.objects(worker.pk)
    finally:
        post_init.disconnect(listen, sender=Membership)
    assert [(Membership, m.pk) for m in got] == [(s, pk) for s, pk in heard if s is Membership]


def test_a_row_without_every_field_or_a_model_of_its_own_making_takes_djangos_way(agencies, monkeypatch):
    made = quick_from_db(Agency)
    assert made != Agency.from_db
    names = [field.attname for field in Agency._meta.concrete_fields]
    some = Agency.objects.order_by("pk").values_list(*names[:2]).first()
    partial = made("default", names[:2], some)
    assert set(vars(partial)) == {"_state", *names[:2]}  # the rest deferred, as Django leaves it
    assert partial.get_deferred_fields() == set(names[2:])

    def own_init(self, *args, **kwargs):
        Model.__init__(self, *args, **kwargs)
        self.made_by_its_init = True

    monkeypatch.setattr(Agency, "__init__", own_init)
    assert quick_from_db(Agency) == Agency.from_db


def test_a_row_without_every_field_is_djangos_object_without_model_init(agencies):
    """A read with deferred fields (``only``: the completion's participants, the inbox's
    case and agency): the fields it has, in field order, the rest deferred, as Django's."""
    made = quick_from_db(Agency)
    names = [field.attname for field in Agency._meta.concrete_fields]
    chosen = [names[0], names[2], names[3]]
    row = Agency.objects.order_by("pk").values_list(*chosen).first()
    with mock.patch.object(Model, "__init__", autospec=True, side_effect=Model.__init__) as init:
        mine = made("default", chosen, row)
    assert init.call_count == 0
    theirs = Agency.from_db("default", chosen, row)
    assert _fields(mine) == _fields(theirs)
    assert list(vars(mine)) == list(vars(theirs))
    assert mine.get_deferred_fields() == theirs.get_deferred_fields() == set(names) - set(chosen)
    assert mine.name == Agency.objects.get(pk=mine.pk).name  # a deferred field read when asked for
