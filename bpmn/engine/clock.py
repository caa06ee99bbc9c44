"""The clock SpiffWorkflow's timers read, for code that must start or fire timers at another
moment (the timer benchmark, tests): SpiffWorkflow calls ``datetime.now`` inside its own
timer module, so that module's ``datetime`` is what moves."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from datetime import datetime, tzinfo

import SpiffWorkflow.bpmn.specs.event_definitions.timer as spiff_timer


def clock_class(now: Callable[[], datetime]) -> type[datetime]:
    """A ``datetime`` whose ``now()`` answers ``now()`` (an aware moment)."""

    class MovedDatetime(datetime):
        @classmethod
        def now(cls, tz: tzinfo | None = None) -> datetime:  # type: ignore[override]
            moment = now()
            return moment.astimezone(tz) if tz else moment.replace(tzinfo=None)

    return MovedDatetime


@contextlib.contextmanager
def moved_clock(now: Callable[[], datetime]) -> Iterator[None]:
    """Timers started and fired inside the block see ``now()`` as the current moment."""
    real = spiff_timer.datetime
    spiff_timer.datetime = clock_class(now)
    try:
        yield
    finally:
        spiff_timer.datetime = real


TIMER_MODULE = spiff_timer  # for tests that monkeypatch ``datetime`` on it themselves
