"""``insert_rows`` sends each value as Django's ``get_db_prep_save(pre_save(obj, True))``
would, also where it takes its quick way (an integer key, a text, an aware moment, ``None``)."""

from __future__ import annotations

import datetime
import uuid
from decimal import Decimal

import pytest
from django.apps import apps
from django.db import connection
from django.utils import timezone
from django.utils.functional import lazy

from permissions import prepared
from permissions.models import AccessAction, AccessLog

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
]


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
            assert quick == expected and type(quick) is type(expected), (model.__name__, field.name, value)
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
