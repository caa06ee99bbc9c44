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
