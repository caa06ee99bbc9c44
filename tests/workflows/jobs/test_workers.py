"""Real worker processes against the test database (PostgreSQL): a timer fires exactly
once with several workers and one killed half-way; NOTIFY wakes an idle worker; SIGTERM
stops a worker cleanly."""

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.db.models import Count

from tests.clock import Clock
from tests.conftest import REPO
from workflows.models import Event, EventKind, Job, JobKind, JobStatus, ProcessInstance, Task, WorkerHeartbeat

from .conftest import start_timer_case

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.django_db(transaction=True)]
INSTANCES = 200


def worker_env():
    db = connection.settings_dict
    url = f"postgres://{db['USER']}{':' + db['PASSWORD'] if db['PASSWORD'] else ''}@{db['HOST'] or 'localhost'}"
    url += f":{db['PORT'] or 5432}/{db['NAME']}"
    return {
        **os.environ,
        "DATABASE_URL": url,
        "DEBUG": "true",
        "PYTHONUNBUFFERED": "1",
        "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
    }


def start_worker(name, poll="0.5", stdout=subprocess.DEVNULL):
    return subprocess.Popen(
        [sys.executable, "manage.py", "worker", "--name", name, "--poll", poll],
        cwd=REPO,
        env=worker_env(),
        stdout=stdout,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_until_ready(process, timeout=30.0) -> str:
    """Wait for the worker's readiness line (``manage.py worker`` prints it once it listens
    and nothing is due); its stdout is drained on a thread so no read can hang the test."""
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in process.stdout], daemon=True).start()
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        try:
            line = lines.get(timeout=left)
        except queue.Empty:
            break
        if " ready: " in line:
            return line.strip()
    stopped = process.poll() is not None
    raise AssertionError(f"no readiness line within {timeout} s" + (f": {process.stderr.read()}" if stopped else ""))


def wait_for(condition, timeout=60.0, every=0.02):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(every)
    return False


def stop(process, timeout=15):
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    return process.wait(timeout=timeout)


def test_every_timer_fires_exactly_once_with_three_workers_and_one_killed(timer_process, users, agencies, monkeypatch):
    real_now = datetime.now(UTC)
    # Started "yesterday", waiting for an hour ago: due as soon as a worker looks.
    clock = Clock(monkeypatch, real_now - timedelta(days=1))
    fire_at = (real_now - timedelta(hours=1)).isoformat()
    cases = [start_timer_case(users, agencies, fire_at) for _ in range(INSTANCES)]
    monkeypatch.undo()
    del clock
    timers = Job.objects.filter(kind=JobKind.TIMER, case__in=cases)
    assert timers.filter(status=JobStatus.PENDING).count() == INSTANCES

    workers = [start_worker(f"w{number}") for number in range(3)]
    try:
        # Kill the first worker with SIGKILL as soon as it has fired a timer: it is then
        # most likely half-way through the next one, its transaction open.
        assert wait_for(lambda: timers.filter(locked_by="w0", status=JobStatus.DONE).exists()), (
            workers[0].stderr.read() if workers[0].poll() is not None else "w0 fired nothing"
        )
        workers[0].send_signal(signal.SIGKILL)
        assert wait_for(lambda: not timers.filter(status=JobStatus.PENDING).exists(), timeout=120)
    finally:
        codes = [process.wait(5) if process.poll() is not None else stop(process) for process in workers]
    assert codes[0] == -signal.SIGKILL
    assert codes[1:] == [0, 0]

    assert timers.filter(status=JobStatus.DONE).count() == INSTANCES
    assert timers.exclude(status=JobStatus.DONE).count() == 0
    assert set(timers.values_list("locked_by", flat=True)) <= {"w0", "w1", "w2"}
    assert len(set(timers.values_list("locked_by", flat=True))) >= 2
    fired = Event.objects.filter(case__in=cases, kind=EventKind.TIMER_FIRED).values("case").annotate(n=Count("id"))
    assert sorted(row["n"] for row in fired) == [1] * INSTANCES
    created = Event.objects.filter(case__in=cases, kind=EventKind.TASK_CREATED).values("case").annotate(n=Count("id"))
    assert sorted(row["n"] for row in created) == [1] * INSTANCES
    tasks = Task.objects.filter(case__in=cases).values("case").annotate(n=Count("id"))
    assert sorted(row["n"] for row in tasks) == [1] * INSTANCES
    assert not ProcessInstance.objects.filter(case__in=cases, next_timer_at__isnull=False).exists()
    assert ProcessInstance.objects.filter(case__in=cases, status="running").count() == INSTANCES
    assert set(WorkerHeartbeat.objects.filter(stopped_at__isnull=False).values_list("name", flat=True)) == {"w1", "w2"}


# The idle worker's poll interval. Without NOTIFY its e-mail would wait for the next poll,
# a whole interval after it went idle, and without sleeping in slices SIGTERM would wait for
# it too; half an interval tells either apart from a wake-up however loaded the machine is
# (a fixed 5 s limit on the stop was once missed by 0.2 s at a load of 10).
IDLE_POLL_SECONDS = 60
WITHIN = IDLE_POLL_SECONDS / 2


def test_notify_wakes_an_idle_worker_and_sigterm_stops_it(timer_process, users, agencies):
    worker = start_worker("sleepy", poll=str(IDLE_POLL_SECONDS), stdout=subprocess.PIPE)
    try:
        assert wait_until_ready(worker) == "worker sleepy ready: waiting for jobs"  # idle now, listening
        assert WorkerHeartbeat.objects.filter(name="sleepy", stopped_at__isnull=True).exists()
        # The timer is already due: the case goes straight to its task, whose e-mail job
        # is announced with NOTIFY after the commit.
        case = start_timer_case(users, agencies, (datetime.now(UTC) - timedelta(minutes=1)).isoformat())
        emails = Job.objects.filter(case=case, kind=JobKind.NOTIFICATION, payload__event="task_created")
        assert emails.count() == 1
        assert wait_for(lambda: emails.filter(status=JobStatus.DONE).exists(), timeout=WITHIN), (
            f"not sent within {WITHIN:.0f} s: NOTIFY did not wake the worker"
        )
        assert emails.get().locked_by == ""
    finally:
        # Idle again after the e-mail: its next poll is a whole interval away.
        started = time.monotonic()
        code = stop(worker, timeout=WITHIN)
    assert code == 0
    assert time.monotonic() - started < WITHIN, "SIGTERM waited for the poll"
    beat = WorkerHeartbeat.objects.get(name="sleepy")
    assert beat.stopped_at is not None and beat.jobs_done == 1
