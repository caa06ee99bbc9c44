"""A movable clock for timer tests: SpiffWorkflow's timers and the job table read it.

SpiffWorkflow's timer module calls ``datetime.now(timezone.utc)``; the job table calls
``workflows.jobs.queue.now()``. ``Clock`` replaces both (the latter only when Django is set up).
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta

import SpiffWorkflow.bpmn.specs.event_definitions.timer as spiff_timer


class Clock:
    def __init__(self, monkeypatch, start: datetime):
        self.moment = start.astimezone(UTC)
        clock = self

        class FrozenDatetime(datetime):
            @classmethod
            def now(cls, tz=None):
                return clock.moment.astimezone(tz) if tz else clock.moment.replace(tzinfo=None)

        monkeypatch.setattr(spiff_timer, "datetime", FrozenDatetime)
        jobs = sys.modules.get("workflows.jobs.queue")
        if jobs is not None:
            monkeypatch.setattr(jobs, "now", lambda: clock.moment)

    def set(self, moment: datetime) -> None:
        self.moment = moment.astimezone(UTC)

    def advance(self, **kwargs) -> None:
        self.moment += timedelta(**kwargs)
