"""The Django side of ``core.public_ids``: its key from the settings, the URL converters and
the deploy check (``core`` stays plain Python)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import checks
from django.urls import converters, register_converter

from core import public_ids


def configure() -> None:
    """Once per process (``workflows.apps``): the key, read from the settings on each use."""
    public_ids.use_key(lambda: settings.BROBYGGER["PUBLIC_ID_KEY"])


def register_converters() -> None:
    """``<task_id:pk>`` and ``<event_id:pk>`` for the URLconfs (``api.urls``, ``web.urls``)."""
    for name, converter in public_ids.CONVERTERS.items():
        if name not in converters.get_converters():
            register_converter(converter, name)


def public_id_key_check(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """``manage.py check --deploy``: ``PUBLIC_ID_KEY`` set apart from ``SECRET_KEY``. Derived
    from it, rotating ``SECRET_KEY`` (after a leak, say) changes every public id: each stored
    link and each partner's reference to a task or event stops working."""
    if settings.BROBYGGER.get("PUBLIC_ID_KEY_SET"):
        return []
    return [
        checks.Warning(
            "PUBLIC_ID_KEY is not set: public ids of tasks and events are derived from SECRET_KEY",
            hint="Set PUBLIC_ID_KEY to 50+ random characters and never change it (docs/deploy.md).",
            id="workflows.W001",
        )
    ]
