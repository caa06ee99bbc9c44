"""A lost database connection pauses the worker; it never ends it, and never costs a timer
an attempt (the PostgreSQL restart itself: test_survive_faults.py)."""

from datetime import UTC, datetime

import pytest
from django.db import OperationalError

from tests.clock import Clock
from tests.workflows.jobs.conftest import start_timer_case
from tests.workflows.jobs.conftest import timer_process as timer_process  # a fixture
from workflows import services, steps
from workflows.jobs import reconnect
from workflows.models import Job, JobKind, JobStatus

pytestmark = pytest.mark.django_db


def test_backoff_doubles_to_its_cap_with_jitter_and_starts_over_after_success():
    backoff = reconnect.Backoff(first=0.5, cap=30)
    delays = [backoff.next_delay() for _ in range(10)]
    for number, delay in enumerate(delays):
        expected = min(0.5 * 2**number, 30)
        assert 0.75 * expected <= delay <= 1.25 * expected
    backoff.reset()
    assert backoff.next_delay() <= 0.625


@pytest.mark.usefixtures("timer_process")
def test_a_timer_cut_off_by_a_lost_connection_stays_pending_without_an_attempt(users, agencies, monkeypatch):
    clock = Clock(monkeypatch, datetime(2026, 9, 1, 12, tzinfo=UTC))
    case = start_timer_case(users, agencies, "2026-09-01T14:05:00+02:00")
    clock.advance(minutes=6)

    def cut_off(*args, **kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(steps, "run_step", cut_off)
    monkeypatch.setattr(reconnect, "connection_lost", lambda exc: True)
    with pytest.raises(OperationalError):
        services.fire_timer("w")
    job = Job.objects.get(kind=JobKind.TIMER, case=case)
    assert (job.status, job.attempts, job.last_error) == (JobStatus.PENDING, 0, "")
    assert job.due_at <= clock.moment  # due at once, not backed off
