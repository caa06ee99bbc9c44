"""CPU used by the processes of a run, counting those that end during it (psutil; Linux)."""

from __future__ import annotations

import contextlib

import psutil


def used(process: psutil.Process) -> float:
    """The CPU seconds ``process`` itself has used."""
    times = process.cpu_times()
    return times.user + times.system


def used_with_reaped(process: psutil.Process) -> float:
    """The CPU of ``process`` and of the children it has waited for (Linux adds an ended
    child's CPU, with that of the children it waited for, to its parent's)."""
    times = process.cpu_times()
    return times.user + times.system + times.children_user + times.children_system


def used_by(processes: list[psutil.Process]) -> dict[int, float]:
    """``used_with_reaped`` of each process still there, by pid."""
    found = {}
    for process in processes:
        with contextlib.suppress(psutil.NoSuchProcess):
            found[process.pid] = used_with_reaped(process)
    return found


def parents_of(processes: list[psutil.Process]) -> list[psutil.Process]:
    """The processes that started ``processes`` (for PostgreSQL's backends, the server that
    reaps them: a backend that ends counts there, and so does any other of its children that
    ends meanwhile, autovacuum's workers included: PostgreSQL's CPU either way). Found once,
    at the start of a window, and read again at its end: a parent first seen at the end would
    bring its whole history in."""
    pids = set()
    for process in processes:
        with contextlib.suppress(psutil.NoSuchProcess):
            pids.add(process.ppid())
    return [psutil.Process(pid) for pid in sorted(pids)]
