"""Several callers at once, for the concurrency tests (PostgreSQL)."""

import threading

from django.db import connections


def all_at_once(calls, timeout=120):
    """Run every call in its own thread (and so its own connection), released together by
    a barrier; returns each call's result, or the exception it raised, in call order."""
    barrier = threading.Barrier(len(calls))
    outcomes = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait()
            outcomes[index] = call()
        except Exception as exc:  # the outcome is for the test to judge
            outcomes[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    return outcomes


def meet_after(monkeypatch, owner, name: str, callers: int = 2) -> None:
    """Make ``owner.name`` wait, after it has run, until ``callers`` threads have run it: each
    caller then goes on with what it found, none having seen another's write (the race a lock
    must settle, forced)."""
    checked = getattr(owner, name)
    all_checked = threading.Barrier(callers, timeout=30)

    def checked_then_meet(*args, **kwargs):
        found = checked(*args, **kwargs)
        all_checked.wait()
        return found

    monkeypatch.setattr(owner, name, checked_then_meet)
