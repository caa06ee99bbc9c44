"""Keeps the processes of one node running: the web server and its job workers.

The web server is the node's main process: when it exits, the node stops (its exit code
is the node's). A job worker that dies is started again after a pause that doubles with
each quick death (1 s up to 30 s; reset after a minute of running), so a worker that
crashes at once does not spin. SIGTERM or SIGINT stops every child with SIGTERM (workers
finish the job in hand), then SIGKILL after ``grace`` seconds.
"""

from __future__ import annotations

import logging
import signal
import subprocess
import time
from dataclasses import dataclass

log = logging.getLogger(__name__)
STABLE_AFTER = 60.0


@dataclass
class Child:
    name: str
    argv: list[str]
    restart: bool
    process: subprocess.Popen | None = None
    started: float = 0.0
    quick_deaths: int = 0
    restart_at: float | None = None
    restarts: int = 0


class Supervisor:
    def __init__(self, *, env: dict, cwd: str, grace: float = 30.0, on_exit=None):
        self.env, self.cwd, self.grace, self.on_exit = env, cwd, grace, on_exit
        self.children: list[Child] = []
        self.stopping = False

    def add(self, name: str, argv: list[str], *, restart: bool) -> None:
        self.children.append(Child(name, argv, restart))

    def _start(self, child: Child) -> None:
        child.process = subprocess.Popen(child.argv, env=self.env, cwd=self.cwd)  # noqa: S603 (our own argv)
        child.started, child.restart_at = time.monotonic(), None
        log.info("started %s (pid %s)", child.name, child.process.pid)

    def _stop(self, *_args) -> None:
        self.stopping = True

    def run(self) -> int:
        """Start everything, keep the workers alive, return the main process's exit code."""
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)
        for child in self.children:
            self._start(child)
        main = self.children[0]
        try:
            while not self.stopping:
                for child in self.children:
                    self._watch(child)
                if main.process is not None and main.process.poll() is not None:
                    log.error("%s exited with %s: stopping the node", main.name, main.process.returncode)
                    return main.process.returncode or 1
                time.sleep(0.2)
            return 0
        finally:
            self._terminate_all()

    def _watch(self, child: Child) -> None:
        now = time.monotonic()
        if child.restart_at is not None:
            if now >= child.restart_at:
                child.restarts += 1
                self._start(child)
            return
        process = child.process
        code = process.poll() if process is not None else None
        if process is None or code is None or not child.restart:
            return
        if self.on_exit is not None:
            self.on_exit(process.pid)
        child.quick_deaths = 0 if now - child.started > STABLE_AFTER else child.quick_deaths + 1
        delay = min(2 ** max(child.quick_deaths - 1, 0), 30)
        log.warning("%s (pid %s) exited with %s; starting it again in %s s", child.name, process.pid, code, delay)
        child.restart_at = now + delay

    def _terminate_all(self) -> None:
        running = [c.process for c in self.children if c.process is not None and c.process.poll() is None]
        for process in running:
            process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + self.grace
        for process in running:
            try:
                process.wait(timeout=max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                log.error("pid %s did not stop within %s s: killing it", process.pid, self.grace)
                process.kill()
                process.wait()
