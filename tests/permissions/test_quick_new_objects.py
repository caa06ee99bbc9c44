"""``permissions.prepared.quick_new``: a new row's object is the one ``Model(**values)`` makes
(the same fields, defaults, keys, cached related objects and database), without
``Model.__init__``; what ``__init__`` would refuse or anything could observe (a signal
receiver, a name that is no field's, an object of the wrong model, a router's refusal) is
left to Django's way."""

import uuid
from unittest import mock

import pytest
from django.contrib.auth import get_user_model
from django.db import router
from django.db.models import Model
from django.db.models.signals import pre_init

from permissions.models import AccessAction, AccessLog, Agency
from permissions.prepared import quick_new
from workflows.models import Event, EventKind, Job, JobKind, ProcessInstance, Task

pytestmark = pytest.mark.django_db


def _held(obj) -> dict:
    """What an object holds: its fields, its state and the related objects it keeps."""
    fields = {name: value for name, value in vars(obj).items() if name != "_state"}
    state = obj._state
    return {**fields, "_state": (state.adding, state.db, dict(state.fields_cache))}


@pytest.fixture
def rows(agencies):
    user = get_user_model().objects.create_user("quick-new-worker", password="x-unused-7fq2")
    return user, agencies["nav"], agencies["housing"]


def _values(user, agency, other):
    instance = ProcessInstance(pk=41, case_id=42)
    instance._state.adding, instance._state.db = False, "default"
    task = Task(pk=43, instance_id=41, case_id=42)
    task._state.adding, task._state.db = False, "default"
    return [
        (Event, {"case_id": 42, "instance": instance, "kind": EventKind.TASK_CREATED, "actor": user}),
        (
            Event,
            {
                "case_id": 42,
                "instance": instance,
                "kind": EventKind.HANDOFF,
                "actor": None,
                "task": task,
                "agency": agency,
                "from_agency": agency,
                "to_agency": other,
                "element_id": "Task_x",
                "detail": {"task": "Kartlegg"},
            },
        ),
        (Event, {"case_id": 42, "instance": instance, "kind": EventKind.TASK_CANCELLED, "agency_id": agency.pk}),
        (Job, {"kind": JobKind.NOTIFICATION, "instance_id": 41, "case_id": 42, "max_attempts": 5, "payload": {}}),
        (
            Task,
            {
                "spiff_task_id": "8b4f3c2e-0000-4000-8000-000000000001",
                "instance": instance,
                "case_id": 42,
                "element_id": "Task_x",
                "name": "Kartlegg",
                "lane": "",
                "agency": agency,
                "form": "",
                "handed_over_by": None,
                "due_at": None,
                "path_categories": 3,
            },
        ),
        (Task, {}),
        (
            AccessLog,
            {
                "user_id": user.pk,
                "username": user.username,
                "role": "member",
                "agency_id": agency.pk,
                "case_id": 42,
                "person_id": 7,
                "category": "health",
                "action": AccessAction.READ,
                "basis": "role:member",
                "consent_id": None,
                "break_glass_id": None,
                "item": "",
                "at": None,
            },
        ),
    ]


def test_a_new_object_is_djangos_own_field_for_field(rows):
    for model, values in _values(*rows):
        mine, theirs = quick_new(model)(**values), model(**values)
        assert type(mine) is model
        held, expected = _held(mine), _held(theirs)
        if model is Job:  # a default made anew for each object: a new random key each time
            assert type(held.pop("delivery_key")) is type(expected.pop("delivery_key")) is uuid.UUID
            assert mine.delivery_key != quick_new(model)(**values).delivery_key
        assert held == expected, model.__name__
        assert list(vars(mine)) == list(vars(theirs)), model.__name__  # the same fields, in order
        assert mine._state.adding is True
        assert mine.pk is None


def test_a_new_object_is_made_without_model_init(rows):
    made = _values(*rows)
    for model, _ in made:
        quick_new(model)  # found once per model
    with mock.patch.object(Model, "__init__", autospec=True, side_effect=Model.__init__) as init:
        objects = [quick_new(model)(**values) for model, values in made]
    assert init.call_count == 0
    assert objects[1].to_agency == rows[2] and objects[1].task_id == 43
    # It behaves as one: a key set later forgets the related object, as Django's does.
    objects[1].agency_id = rows[2].pk
    assert objects[1].agency == rows[2]


def test_what_django_would_refuse_or_an_observer_would_see_takes_djangos_way(rows):
    user, agency, other = rows
    make = quick_new(Event)
    with pytest.raises(TypeError):
        make(case_id=1, kind=EventKind.HANDOFF, no_such_field=1)
    with pytest.raises(ValueError, match="must be a"):
        make(case_id=1, kind=EventKind.HANDOFF, agency=user)
    # A key given twice, by object and by column: Django's answer (the column's value, later).
    twice = make(case_id=1, kind=EventKind.HANDOFF, agency=agency, agency_id=other.pk)
    assert twice.agency_id == Event(case_id=1, kind=EventKind.HANDOFF, agency=agency, agency_id=other.pk).agency_id
    heard = []

    def listen(sender, **kwargs):
        heard.append(sender)

    pre_init.connect(listen, sender=Event)
    try:
        make(case_id=1, kind=EventKind.HANDOFF)
    finally:
        pre_init.disconnect(listen, sender=Event)
    assert heard == [Event]


def test_a_configured_router_is_asked_as_the_descriptor_asks_it(rows):
    _user, agency, _other = rows
    asked = []

    class Refuses:
        def db_for_write(self, model, **hints):
            asked.append(("write", model))

        def allow_relation(self, obj1, obj2, **hints):
            asked.append(("relation", type(obj1), type(obj2)))
            return False

    with mock.patch.object(router, "routers", [Refuses()]):
        with pytest.raises(ValueError, match="router prevents"):
            quick_new(Event)(case_id=1, kind=EventKind.HANDOFF, agency=agency)
        assert asked[:2] == [("write", Event), ("relation", Agency, Event)]
