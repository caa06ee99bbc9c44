"""CPU used by the processes of a run, counting those that end during it (psutil; Linux)."""

from __future__ import annotations

import contextlib

import psutil


def used(process: psutil.Process) -> float:
    times = process.cpu_times()
    return times.user + times.system


def used_with_reaped(process: psutil.Process) -> float:
    """The CPU of ``process`` and of the children it has waited for (Linux adds an ended
    child's CPU, with that of the children it waited for, to its parent's)."""
    times = process.cpu_times()
    return times.user + times.system + times.children_user + times.children_system


def used_by(processes: list[psutil.Process]) -> dict[int, float]:
    used = {}
    for process in processes:
        with contextlib.suppress(psutil.NoSuchProcess):
            used[process.pid] = used_with_reaped(process)
    return used


def with_postmaster(backends: list[psutil.Process]) -> list[psutil.Process]:
    """The backends and the server process that starts and reaps them: a backend that ends
    in the window counts there (so does any other server child ending then, autovacuum's
    workers included: PostgreSQL's CPU either way; on a quiet machine nothing else)."""
    parents = set()
    for backend in backends:
        with contextlib.suppress(psutil.NoSuchProcess):
            parents.add(backend.ppid())
    return [*(psutil.Process(pid) for pid in parents), *backends]
