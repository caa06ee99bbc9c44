"""Time limits in tests that hold on a loaded machine.

A wall-clock limit counts the time a test waits for a core: on CI's two shared cores at a
load of 10 a step of 0.1 s of work can take a second. What these tests guard against (a
pattern that backtracks exponentially, a loop that is never stopped, billions of XML
entities) burns CPU, so they measure this process's CPU time instead, which waiting for a
core does not add to and a runaway adds to all the same.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass


@dataclass
class Used:
    seconds: float = 0.0


@contextmanager
def cpu_time() -> Iterator[Used]:
    """The CPU seconds this process (all its threads) spends in the block, in ``.seconds``
    once it ends, however it ends (``pytest.raises`` inside the block is fine)."""
    used = Used()
    # The objects every earlier test left are set aside from the collector for the block: in
    # CI's long-lived test process a full collection of them inside it took most of 1.4 s
    # measured for 0.3 s of the block's own work (2026-12-06). The block's own garbage is
    # still collected.
    gc.collect()
    gc.freeze()
    started = time.process_time()
    try:
        yield used
    finally:
        used.seconds = time.process_time() - started
        gc.unfreeze()
