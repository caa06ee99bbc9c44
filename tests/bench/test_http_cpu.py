"""bench-http counts the CPU of processes that end during the measured window.

gunicorn replaces a worker after ``WEB_MAX_REQUESTS`` requests and a PostgreSQL backend ends
with its connection; on a fast machine both happened inside the window, and their CPU went
missing (a run reported 0.46 ms of server CPU a request, about a tenth of the truth).
"""

import subprocess
import sys
import time

import psutil

from bench.http import cpu

BURN = "import time\nend = time.process_time() + 0.4\nwhile time.process_time() < end: pass\n"


def test_a_child_that_ends_in_the_window_is_counted_in_its_parent():
    # A parent that starts a child burning 0.4 s of CPU after the window opens, waits for
    # it, then sleeps: at the window's end only the parent is there to be read.
    parent_code = (
        "import subprocess, sys, time\n"
        "time.sleep(0.5)\n"
        f"subprocess.run([sys.executable, '-c', {BURN!r}], check=True)\n"
        "time.sleep(30)\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", parent_code])
    try:
        process = psutil.Process(parent.pid)
        time.sleep(0.2)
        before = cpu.used_by([process])
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not _child_has_ended(process):
            time.sleep(0.1)
        after = cpu.used_by([process])
        assert after[parent.pid] - before[parent.pid] >= 0.35
        assert cpu.used(process) < 0.35  # the parent's own CPU alone misses it
    finally:
        parent.kill()
        parent.wait()


def _child_has_ended(process: psutil.Process) -> bool:
    return process.cpu_times().children_user + process.cpu_times().children_system > 0.3


def test_the_parents_are_found_once_from_the_children():
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        parents = cpu.parents_of([psutil.Process(child.pid)])
        assert [parent.pid for parent in parents] == [psutil.Process().pid]
        assert cpu.parents_of([]) == []  # no backends at the start: no parent read at the end either
    finally:
        child.kill()
        child.wait()
