"""Tiny observer registry: the service layer says what happened, observers (metrics) listen.

Plain Python on purpose: services call ``emit`` without knowing who listens, so metrics,
audit feeds or tests subscribe without the services importing them (``ops`` subscribes
in its ``AppConfig.ready``). An observer that raises is logged and never breaks the
state change that was already committed.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable

log = logging.getLogger(__name__)

CASE_STARTED = "case_started"
TASK_COMPLETED = "task_completed"
TIMER_FIRED = "timer_fired"

_observers: dict[str, list[Callable[..., None]]] = defaultdict(list)


def subscribe(event: str, observer: Callable[..., None]) -> None:
    """Call ``observer(**facts)`` after each ``emit(event, **facts)``; subscribing twice is harmless."""
    if observer not in _observers[event]:
        _observers[event].append(observer)


def unsubscribe(event: str, observer: Callable[..., None]) -> None:
    if observer in _observers[event]:
        _observers[event].remove(observer)


def emit(event: str, **facts: object) -> None:
    """Tell every observer of ``event``. ``facts`` carry kinds and numbers, never personal data."""
    for observer in _observers.get(event, ()):
        try:
            observer(**facts)
        except Exception:
            log.exception("observer %r of %s failed", observer, event)
