"""Tiny observer registry: the service layer says what happened, observers (metrics) listen.

Plain Python on purpose: services call ``emit`` without knowing who listens, so metrics,
audit feeds or tests subscribe without the services importing them (``ops`` subscribes
in its ``AppConfig.ready``). An observer that raises is logged and never breaks the
state change that was already committed.

*Writers* are the other kind: called inside the transaction of the state change, before
its events are written, to keep derived rows current in that same transaction (the
summary tables of ``insight``). A writer that raises rolls the whole change back, so a
figure never disagrees with the events it counts.

*Sweeps* are housekeeping the workers run (``workflows.jobs.worker``) for a unit they may not
import: each deletes what must go and returns how many rows.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable

log = logging.getLogger(__name__)

CASE_STARTED = "case_started"
TASK_COMPLETED = "task_completed"
TIMER_FIRED = "timer_fired"
# Writers: a step is about to write its events (facts: ``step``, ``events``).
STEP_EVENTS = "step_events"
# Sweeps: live sessions that must end (``accounts.sessions.end_deactivated_sessions``).
SESSIONS_TO_END = "sessions_to_end"
# Sweeps: rows that hold nothing any more (``accounts.rate_limit.prune_full``: full rate buckets).
EXPIRED_ROWS = "expired_rows"

_observers: dict[str, list[Callable[..., None]]] = defaultdict(list)
_writers: dict[str, list[Callable[..., None]]] = defaultdict(list)
_sweeps: dict[str, list[Callable[[], int]]] = defaultdict(list)


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


def subscribe_writer(event: str, writer: Callable[..., None]) -> None:
    """Call ``writer(**facts)`` inside the transaction of each ``write(event, **facts)``."""
    if writer not in _writers[event]:
        _writers[event].append(writer)


def unsubscribe_writer(event: str, writer: Callable[..., None]) -> None:
    if writer in _writers[event]:
        _writers[event].remove(writer)


def write(event: str, **facts: object) -> None:
    """Let every writer of ``event`` add its rows; an error propagates and rolls back."""
    for writer in _writers.get(event, ()):
        writer(**facts)


def subscribe_sweep(event: str, sweep: Callable[[], int]) -> None:
    """Run ``sweep()`` at each ``sweep(event)``; subscribing twice is harmless."""
    if sweep not in _sweeps[event]:
        _sweeps[event].append(sweep)


def sweep(event: str) -> int:
    """Run every sweep of ``event``; the rows they deleted. An error propagates (the worker
    backs off on a lost database as for its own pruning)."""
    return sum(run() for run in _sweeps.get(event, ()))
