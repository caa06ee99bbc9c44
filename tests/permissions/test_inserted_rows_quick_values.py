"""``insert_rows`` and a step's batch (``prepared.save_values``) send each value as Django's
``get_db_prep_save(pre_save(obj, add))`` would, also where they take their quick way (an
integer or a key, a text, an aware moment, a UUID, an object or list of JSON, ``None``), and
stamp the moments ``pre_save`` stamps."""

from __future__ import annotations

import datetime
import uuid
from decimal import Decimal

import pytest
from django.apps import apps
from django.db import connection
from django.utils import timezone
from django.utils.functional import lazy
from psycopg.types.json import Jsonb

from permissions import prepared
from permissions.models import AccessAction, AccessLog
from workflows.models import Event, EventKind, Job, JobKind, ProcessInstance, Task
from workflows.steps import rows

AWARE = datetime.datetime(2026, 12, 7, 15, 30, 1, 123456, tzinfo=datetime.UTC)
OSLO = timezone.localtime(AWARE)
VALUES = [
    None,
    0,
    7,
    2**40,
    True,
    "",
    "tekst",
    "7",
    AccessAction.READ,
    lazy(lambda: "lat", str)(),
    AWARE,
    OSLO,
    datetime.date(2026, 12, 7),
    Decimal("1.5"),
    uuid.UUID(int=5),
    "00000000-0000-0000-0000-000000000005",
    {},
    {"name": "Kartlegg", "due_at": None, "nested": {"æøå": [1, 2.5]}},
    [],
    [1, "to"],
    (1, 2),
    1.5,
]


def _same(quick, expected) -> bool:
    """Equal and of one type; a JSON value (psycopg's ``Jsonb``) by its object and encoder."""
    if type(quick) is not type(expected):
        return False
    if isinstance(quick, Jsonb):
        return quick.obj == expected.obj and quick.dumps is expected.dumps
    return quick == expected


def _django(field, value):
    obj = field.model()
    obj.__dict__[field.attname] = value
    return field.get_db_prep_save(field.pre_save(obj, True), connection)


def _quick(field, value):
    quick = prepared._quick_value(field, connection)
    return prepared._SLOW if quick is None else quick(value)


@pytest.mark.django_db
@pytest.mark.parametrize("model", [AccessLog, *apps.get_app_config("workflows").get_models()], ids=lambda m: m.__name__)
def test_quick_values_are_djangos(model):
    taken = 0
    for field in model._meta.concrete_fields:
        for value in VALUES:
            quick = _quick(field, value)
            if quick is prepared._SLOW:
                continue
            taken += 1
            try:
                expected = _django(field, value)
            except Exception:
                pytest.fail(f"{model.__name__}.{field.name}: {value!r} taken quickly, refused by Django")
            assert _same(quick, expected), (model.__name__, field.name, value)
    if model is AccessLog:
        assert taken  # its keys, texts and moment go the quick way


@pytest.mark.django_db
def test_access_log_rows_take_the_quick_way(monkeypatch):
    """An opened task's rows: no field's ``get_db_prep_save`` for a key, a text or the moment."""
    calls = []
    for field in AccessLog._meta.concrete_fields:
        original = field.get_db_prep_save
        monkeypatch.setattr(
            field, "get_db_prep_save", lambda v, c, _o=original, _n=field.name: calls.append(_n) or _o(v, c)
        )
    prepared._CONVERTERS.clear()
    row = AccessLog(username="kari", role="caseworker", category="health", basis="role:caseworker", at=AWARE)
    prepared.insert_rows([row])
    assert calls == []
    stored = AccessLog.objects.order_by("-id").values("username", "category", "basis", "at", "action", "item").first()
    assert stored == {
        "username": "kari",
        "category": "health",
        "basis": "role:caseworker",
        "at": AWARE,
        "action": "read",
        "item": "",
    }


def _djangos_values(obj, add):
    """What ``save`` would send for ``obj``'s concrete fields but its key (stamps made anew)."""
    meta = type(obj)._meta
    return [
        field.get_db_prep_save(field.pre_save(obj, add), connection)
        for field in meta.concrete_fields
        if field is not meta.pk
    ]


@pytest.mark.django_db
@pytest.mark.parametrize("add", [True, False], ids=["insert", "update"])
def test_a_steps_values_are_djangos_and_moments_are_stamped_as_django_stamps_them(add):
    objs = [
        Event(case_id=4, instance_id=5, task_id=6, kind=EventKind.HANDOFF, actor_id=7, detail={"task": "X"}),
        Job(kind=JobKind.NOTIFICATION, instance_id=5, case_id=4, max_attempts=5, payload={"event": "x"}, due_at=AWARE),
        Task(spiff_task_id=uuid.UUID(int=9), instance_id=5, case_id=4, name="X", agency_id=3, path_categories=2),
        ProcessInstance(case_id=4, definition_id=2, state="{}", version=3, timer_path_categories=1),
    ]
    for obj in objs:
        meta = type(obj)._meta
        fields = [field for field in meta.concrete_fields if field is not meta.pk]
        before = timezone.now()
        params: list = []
        prepared.save_values(connection, type(obj), fields, [obj], add, params)
        after = timezone.now()
        stamped = {
            field.attname
            for field in fields
            if getattr(field, "auto_now", False) or (add and getattr(field, "auto_now_add", False))
        }
        for field, value in zip(fields, params, strict=True):
            if field.attname in stamped:  # stamped on the object, and sent as Django sends it
                moment = getattr(obj, field.attname)
                assert before <= moment <= after
                assert _same(value, field.get_db_prep_save(moment, connection)), field.name
        expected = _djangos_values(obj, add)  # stamps again: compare the other fields
        for field, mine, theirs in zip(fields, params, expected, strict=True):
            if field.attname not in stamped:
                assert _same(mine, theirs), (type(obj).__name__, field.name)
        if type(obj) is ProcessInstance:
            assert stamped == ({"created_at", "updated_at"} if add else {"updated_at"})


@pytest.mark.django_db
def test_a_steps_event_job_and_task_rows_take_the_quick_way(monkeypatch):
    """A step's new rows (``rows.Batch.insert``, ``update``): no field's ``get_db_prep_save`` for their
    keys, texts, moments, UUIDs, numbers and JSON (2-5 rows a completion, 8-18 fields each)."""
    calls = []
    for model in (Event, Job, Task):
        for field in model._meta.concrete_fields:
            original = field.get_db_prep_save
            monkeypatch.setattr(
                field,
                "get_db_prep_save",
                lambda v, c, _o=original, _n=f"{model.__name__}.{field.name}": calls.append(_n) or _o(v, c),
            )
    batch = rows.Batch()
    event = Event(case_id=4, instance_id=5, kind=EventKind.HANDOFF, detail={"task": "X"})
    job = Job(kind=JobKind.NOTIFICATION, instance_id=5, case_id=4, max_attempts=5, payload={"event": "x"})
    task = Task(spiff_task_id=uuid.UUID(int=9), instance_id=5, case_id=4, name="X", agency_id=3, due_at=AWARE)
    batch.insert([event])
    batch.insert([job], rides=True)
    batch.insert([task])
    batch.update(task, ("name", "due_at", "path_categories"))
    assert calls == []
    assert event.created_at is not None and task.created_at is not None  # stamped on the objects
