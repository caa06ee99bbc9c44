"""The job worker behind ``manage.py worker`` (design §5).

Any number of workers on any number of machines: jobs are claimed with
``SELECT ... FOR UPDATE SKIP LOCKED``. An idle worker sleeps until the next job is due,
at most the poll interval; on PostgreSQL a ``NOTIFY brobygger_jobs`` (sent after the
commit that created a job) wakes it at once. SIGTERM/SIGINT: finish the current job,
then exit. A heartbeat row tells which workers are alive.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import time
import uuid
from collections.abc import Callable
from datetime import datetime

from django.db import close_old_connections, connection

from core import hooks
from workflows import selectors
from workflows.jobs import handlers, queue, reconnect, service, sessions, timers
from workflows.models import WorkerHeartbeat

log = logging.getLogger(__name__)
HEARTBEAT_SECONDS = 10
EXTERNAL_EVERY = 5
EXTERNAL_BATCH = 10  # external jobs claimed at once (a slow call gives the rest back: service.perform_claimed_batch)
# Finished jobs (``queue.prune_finished``) and expired sessions (``sessions.prune_expired``) are
# deleted at most this often per worker, at most PRUNE_BATCHES batches of each at a time: a
# worker with more to prune looks for due work in between.
PRUNE_EVERY_SECONDS = 300
PRUNE_BATCHES = 10
LIBPQ_OPTIONS = {
    "sslmode",
    "sslrootcert",
    "sslcert",
    "sslkey",
    "connect_timeout",
    "application_name",
    "options",
    "service",
    "passfile",
    "target_session_attrs",
}


class Listener:
    """LISTEN on a dedicated autocommit connection (PostgreSQL only)."""

    def __init__(self):
        import psycopg

        params = connection.settings_dict
        libpq = {key: value for key, value in (params.get("OPTIONS") or {}).items() if key in LIBPQ_OPTIONS}
        self.conn = psycopg.connect(
            dbname=params["NAME"],
            user=params.get("USER") or None,
            password=params.get("PASSWORD") or None,
            host=params.get("HOST") or None,
            port=params.get("PORT") or None,
            autocommit=True,
            **libpq,
        )
        self.conn.execute(f"LISTEN {queue.NOTIFY_CHANNEL}")

    def wait(self, timeout: float) -> bool:
        """True when woken by a notification within ``timeout`` seconds."""
        woken = False
        for _ in self.conn.notifies(timeout=max(timeout, 0.0), stop_after=1):
            woken = True
        if woken:  # several jobs may have been announced: drain without waiting
            for _ in self.conn.notifies(timeout=0.0):
                pass
        return woken

    def close(self) -> None:
        self.conn.close()


class Worker:
    def __init__(self, *, name: str | None = None, poll_seconds: float | None = None):
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.poll_seconds = poll_seconds if poll_seconds is not None else queue.conf("JOB_POLL_SECONDS")
        self.stopping = False
        self.jobs_done = 0
        self._last_beat = 0.0
        self._started = queue.now()
        self._next_due_at: datetime | None = None
        self._listening = False  # a Listener is open (``run``): see ``run_due``
        # The last ``run_due`` ended on a round that sent every due e-mail with nothing else
        # due: what it would ask next is known (nothing), so ``run`` sleeps at once.
        self._settled = False
        # time.monotonic() of the next turn of each pruning (the first round prunes), and how
        # many rows this turn deleted so far (for the log line at its end).
        self._next_prune = self._next_session_prune = 0.0
        self._pruned = self._sessions_pruned = 0

    def stop(self, *_args) -> None:
        self.stopping = True

    def install_signal_handlers(self) -> None:
        signal.signal(signal.SIGTERM, self.stop)
        signal.signal(signal.SIGINT, self.stop)

    # -- the loop
    def run(self, *, once: bool = False, on_ready: Callable[[], None] | None = None) -> int:
        """Work until stopped (or, with ``once``, until nothing is due). Returns jobs done.

        ``on_ready`` is called once, when the worker first goes idle: it listens for
        NOTIFY (PostgreSQL) and nothing is due, so a job created from then on wakes it.
        A lost database connection never ends the loop (``once`` aside): the worker drops
        it, backs off and carries on, so a PostgreSQL restart or failover only pauses it.
        """
        listener, backoff = None, reconnect.Backoff()
        holds_lost_leases = False
        try:
            while not self.stopping:
                try:
                    if listener is None and not once and connection.vendor == "postgresql":
                        listener = Listener()
                    if not connection.in_atomic_block:  # (tests run the worker inside one)
                        close_old_connections()
                    if holds_lost_leases:
                        queue.release_leases(self.name)
                        holds_lost_leases = False
                    self.heartbeat(force=self._last_beat == 0.0)
                    self._listening = listener is not None
                    done = self.run_due()
                    more_to_prune = self.prune()
                    more_to_prune = self.prune_sessions() or more_to_prune
                    self.heartbeat()
                    backoff.reset()
                    if once:
                        break
                    # Idle when nothing was done, or when the round that did it already found
                    # nothing more due (``run_due``'s settled round): asking again what is due
                    # would find nothing, a statement for every new task's e-mail. A job made
                    # due meanwhile was announced, and its notification ends the sleep at once.
                    if not done or self._settled:
                        if on_ready is not None:
                            on_ready()
                            on_ready = None
                        if not more_to_prune:
                            self.idle(listener)
                except reconnect.UNAVAILABLE as exc:
                    if once or connection.in_atomic_block:
                        raise
                    listener = self._close(listener)
                    holds_lost_leases = True  # a job it leased may be stuck as running
                    reconnect.wait_after(exc, backoff, sleep=self.sleep)
        finally:
            self._close(listener)
            try:
                self.heartbeat(force=True, stopped=True)
            except reconnect.UNAVAILABLE:
                log.warning("worker %s stopped without recording it: the database is unavailable", self.name)
        return self.jobs_done

    def sleep(self, seconds: float) -> None:
        """Sleep in slices, so SIGTERM is honoured within a second."""
        deadline = time.monotonic() + seconds
        while not self.stopping and (left := deadline - time.monotonic()) > 0:
            time.sleep(min(left, 1.0))

    @staticmethod
    def _close(listener) -> None:
        if listener is not None:
            with contextlib.suppress(*reconnect.UNAVAILABLE):
                listener.close()
        return None

    def run_due(self, *, listening: bool | None = None) -> int:
        """Process jobs until none is due. Returns how many were processed.

        Each round first asks what is due (``queue.due_work``: one statement) and tries
        only the claims that can find something; the answer that finds nothing due also
        tells ``idle`` how long it may sleep. ``listening``: a ``Listener`` wakes the worker
        for every job made due from then on (each one is announced: ``queue``'s NOTIFYs).
        Then a round where only external jobs were due, all claimed (fewer than a batch)
        and all done without an error, ends without asking again (it would find nothing:
        the e-mail of each new task cost two reads of what is due); ``idle`` sleeps until
        the earliest job that was not yet due, or a notification. A failed job's retry
        (due later, announced to nobody) is asked for as before. By default as ``run``
        found it."""
        listening = self._listening if listening is None else listening
        count, rounds = 0, 0
        self._settled = False
        skipped: set[int] = set()
        while not self.stopping:
            due = queue.due_work(handlers.kinds())
            self._next_due_at = due.next_due_at
            if not due.anything:
                break
            outcome = timers.NONE
            if due.timers:
                outcome, job_id = timers.fire_timer(self.name, exclude=skipped)
                if outcome == timers.SKIPPED and job_id is not None:
                    skipped.add(job_id)
            worked = int(outcome in (timers.FIRED, timers.FAILED))
            rounds += 1
            # During a burst of timers, look for e-mails and webhooks every few rounds.
            if not self.stopping and due.external and (not worked or rounds % EXTERNAL_EVERY == 0):
                external, all_claimed = self.run_external()
                worked += external
                if listening and all_claimed and external and not due.timers and not due.handled:
                    count += worked
                    self._next_due_at = due.next_later_at
                    self._settled = True
                    break
            if not self.stopping and not worked and due.handled:
                worked += handlers.run_one(self.name)
            if not worked and outcome != timers.SKIPPED:
                break
            count += worked
            self.heartbeat()
        self.jobs_done += count
        return count

    def prune(self) -> bool:
        """Delete finished jobs past ``JOB_DONE_KEEP_DAYS`` (``queue.prune_finished``), at most
        every ``PRUNE_EVERY_SECONDS``. True when a full turn left more to delete: the loop comes
        back to it after the next look for due work instead of sleeping."""
        if time.monotonic() < self._next_prune:
            return False
        more, self._pruned, done = self._prune_turn(queue.prune_finished, lambda: queue.PRUNE_BATCH, self._pruned)
        if done:
            if self._pruned:
                log.info("worker %s pruned %s finished jobs", self.name, self._pruned)
                self._pruned = 0
            # Rows that hold nothing any more, of units above (``accounts``: full rate buckets).
            if swept := hooks.sweep(hooks.EXPIRED_ROWS):
                log.info("worker %s deleted %s rows that hold nothing", self.name, swept)
            self._next_prune = time.monotonic() + PRUNE_EVERY_SECONDS
        return more

    def prune_sessions(self) -> bool:
        """Delete expired sessions (``sessions.prune_expired``), as ``prune`` deletes jobs: at
        most every ``PRUNE_EVERY_SECONDS``, True when a full turn left more."""
        if time.monotonic() < self._next_session_prune:
            return False
        more, self._sessions_pruned, done = self._prune_turn(
            sessions.prune_expired, lambda: sessions.PRUNE_BATCH, self._sessions_pruned
        )
        if done:
            if self._sessions_pruned:
                log.info("worker %s deleted %s expired sessions", self.name, self._sessions_pruned)
                self._sessions_pruned = 0
            # Live sessions that must end (a unit above registers them: ``accounts``, the
            # sessions of users made inactive by a bulk update since they signed in).
            if ended := hooks.sweep(hooks.SESSIONS_TO_END):
                log.info("worker %s deleted %s sessions that must end", self.name, ended)
            self._next_session_prune = time.monotonic() + PRUNE_EVERY_SECONDS
        return more

    def _prune_turn(self, delete: Callable[[], int], batch: Callable[[], int], pruned: int) -> tuple[bool, int, bool]:
        """Up to ``PRUNE_BATCHES`` calls of ``delete``: (more left, rows deleted in the turn so far,
        turn done). A batch shorter than ``batch()`` ends the turn."""
        for _ in range(PRUNE_BATCHES):
            if self.stopping:
                return False, pruned, False
            deleted = delete()
            pruned += deleted
            if deleted < batch():
                return False, pruned, True
        return True, pruned, False

    def run_external(self) -> tuple[int, bool]:
        """Claim the due e-mail, webhook and service-call jobs (at most ``EXTERNAL_BATCH``),
        perform them outside any transaction, record them. A worker that falls behind (a
        busy machine: each new task brings an e-mail) catches up with the same statements
        for a batch as for one job. Returns how many were performed, and whether that was
        every one due (fewer than a batch) and none failed (no retry was set)."""
        claimed = queue.claim_external(self.name, limit=EXTERNAL_BATCH)
        performed = service.perform_claimed_batch(claimed, self.name)
        # The values the failed jobs' cases hold and held, read for the batch at once.
        selectors.read_literals_ever(job for job, error in performed if error)
        failed = False
        for job, error in performed:
            if error:
                failed = True
                # Another system's words may name the case's values: scrubbed as the incident shows them.
                shown = selectors.job_error_logged(job, error)
                log.warning("job %s (%s) attempt %s failed: %s", job.pk, job.kind, job.attempts, shown)
        return len(performed), len(claimed) < EXTERNAL_BATCH and len(performed) == len(claimed) and not failed

    def idle(self, listener) -> None:
        """Sleep until the next job is due, a notification arrives, or the poll interval ends."""
        next_due = self._next_due_at  # as run_due found it, just before: no statement of its own
        timeout = self.poll_seconds
        if next_due is not None:
            timeout = min(timeout, max((next_due - queue.now()).total_seconds(), 0.0))
        deadline = time.monotonic() + timeout
        while not self.stopping:  # in slices, so SIGTERM is honoured within a second
            left = deadline - time.monotonic()
            if left <= 0:
                return
            if listener is not None:
                if listener.wait(min(left, 1.0)):
                    return
            else:
                time.sleep(min(left, 1.0))

    def heartbeat(self, *, force: bool = False, stopped: bool = False) -> None:
        if not force and time.monotonic() - self._last_beat < HEARTBEAT_SECONDS:
            return
        self._last_beat = time.monotonic()
        moment = queue.now()
        WorkerHeartbeat.objects.update_or_create(
            name=self.name,
            defaults={
                "hostname": socket.gethostname(),
                "pid": os.getpid(),
                "started_at": self._started,
                "beat_at": moment,
                "jobs_done": self.jobs_done,
                "stopped_at": moment if stopped else None,
            },
        )
