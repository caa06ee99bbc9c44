"""Live workflows of recently stepped instances, so the next step skips deserializing.

Restoring a workflow from its state text costs about as much as the rest of an engine
step (make bench: 0.45 ms of 1.1 ms), and the process that stepped an instance is often
the one to step it next (the next task of a case, a timer after a completion).

The stored state text stays the only truth. An entry is handed out only for the exact
text it was saved as, so any change made elsewhere (another process, a migration, a
restore) is a miss, never a stale workflow. ``take`` removes the entry: the caller owns
the object and mutates it, and gives it back with ``put`` only once the state it saved
is committed. A step that rolls back never gives it back.

An erasure, a correction or a person merge changes a case's state text, so its entry is a
miss at the next take; but until then the old workflow, with the data it held, stayed in the
memory of every process that had stepped the case. ``forget`` drops the entries of some
keys now (the process that made the change), and ``sync`` drops them in every other
process at its next load: the caller reads a mark that grows with every such change (the
newest eviction's id, read with the locked instance row) and, when it moved, the keys
evicted since.

A process that steps nothing (an idle web process at night) never loads again, so it kept
the workflows of its last 256 steps, with the data they held, erased or corrected since,
for as long as it lived. An entry is now kept at most ``max_age`` seconds
(``WORKFLOW_CACHE_MAX_AGE``): an older one is a miss, and a daemon thread, running only
while the cache holds something, drops the entries past their age without any step.
"""

from __future__ import annotations

import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

# Seconds a workflow is kept after its step: long enough for the next step of a case moving
# (a task after a task, a timer after a completion), short enough that an erased or corrected
# case's old data leaves an idle process's memory soon.
WORKFLOW_CACHE_MAX_AGE = 300.0


@dataclass(frozen=True)
class _Entry:
    state_text: str
    spec: Any
    workflow: Any
    stored_at: float


class WorkflowCache:
    def __init__(
        self,
        max_size: int = 256,
        max_age: float = WORKFLOW_CACHE_MAX_AGE,
        clock: Callable[[], float] = time.monotonic,
    ):
        self._items: OrderedDict[object, _Entry] = OrderedDict()  # oldest ``put`` first
        self._lock = threading.Lock()
        self._max_size = max_size
        self._max_age = max_age
        self._clock = clock
        self.hits = 0
        self.misses = 0
        self._mark: int | None = None
        self._janitor: threading.Thread | None = None
        self._janitor_pid = 0

    def take(self, key: object, state_text: str, spec: object) -> Any:
        """The workflow saved as ``state_text`` on ``spec`` for ``key``, or None."""
        with self._lock:
            entry = self._items.pop(key, None)
            hit = (
                entry is not None
                and entry.spec is spec
                and entry.state_text == state_text
                and self._clock() - entry.stored_at <= self._max_age
            )
            if hit:
                self.hits += 1
            else:
                self.misses += 1
        return entry.workflow if hit and entry is not None else None

    def put(self, key: object, state_text: str, workflow: Any) -> None:
        """Keep ``workflow``, whose committed state is ``state_text``."""
        if self._max_size <= 0:
            return
        with self._lock:
            now = self._clock()
            self._items[key] = _Entry(state_text, workflow.spec, workflow, now)
            self._items.move_to_end(key)
            while len(self._items) > self._max_size:
                self._items.popitem(last=False)
            self._expire_locked(now)
            self._start_janitor_locked()

    def expire(self) -> int:
        """Drop the entries kept longer than ``max_age``; how many are left."""
        with self._lock:
            self._expire_locked(self._clock())
            return len(self._items)

    def _expire_locked(self, now: float) -> None:
        while self._items:
            oldest = next(iter(self._items.values()))
            if now - oldest.stored_at <= self._max_age:
                return
            self._items.popitem(last=False)

    def _start_janitor_locked(self) -> None:
        """The thread dropping entries past their age while nothing steps: one per process
        (a forked worker has none of its parent's threads), gone once the cache is empty."""
        if self._janitor is not None and self._janitor.is_alive() and self._janitor_pid == os.getpid():
            return
        self._janitor_pid = os.getpid()
        self._janitor = threading.Thread(target=self._sweep, name="workflow-cache-expiry", daemon=True)
        self._janitor.start()

    def _sweep(self) -> None:
        pause = min(max(self._max_age / 4, 0.01), 60.0)
        while True:
            time.sleep(pause)
            with self._lock:
                self._expire_locked(self._clock())
                if not self._items:
                    self._janitor = None
                    return

    def forget(self, keys: Iterable[object]) -> None:
        """Drop the entries of ``keys`` (their workflows hold data that was changed or erased)."""
        with self._lock:
            for key in keys:
                self._items.pop(key, None)

    def sync(self, mark: int | None, evicted_since: Callable[[int], Iterable[object] | None]) -> None:
        """``mark``: the newest eviction every process must follow (None: none yet). When it
        moved since this process last looked, drop the keys ``evicted_since(last mark)``
        names (everything when this process has never looked: nothing of it is known; and
        when ``evicted_since`` answers None: the evictions since its last look are no longer
        all known, the oldest having been pruned)."""
        if mark is None or mark == self._mark:
            return
        with self._lock:
            last, empty = self._mark, not self._items
        if last is None or empty or mark < last:
            dropped: Iterable[object] | None = None  # all (a first look, or the marks were reset)
        else:
            since = evicted_since(last)
            dropped = None if since is None else list(since)
        with self._lock:
            if dropped is None:
                self._items.clear()
            else:
                for key in dropped:
                    self._items.pop(key, None)
            self._mark = mark

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self.hits = self.misses = 0
            self._mark = None

    def __len__(self) -> int:
        return len(self._items)


WORKFLOW_CACHE = WorkflowCache()
