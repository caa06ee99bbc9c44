"""The worker's loop on a lost connection: back off, go on (no database needed)."""

from django.db import OperationalError

from workflows.jobs import reconnect, worker


def test_the_worker_loop_backs_off_on_a_lost_connection_and_goes_on(monkeypatch):
    """No database here (no test transaction around the loop, as in production); every
    database call of the loop is replaced: what is tested is the decision to back off and
    carry on, and to stop only when told."""
    w = worker.Worker(name="steady", poll_seconds=0)
    failures = iter(
        [
            OperationalError("terminating connection due to administrator command"),
            OperationalError("connection refused"),
        ]
    )
    rounds, slept = [], []

    def run_due():
        rounds.append(1)
        failure = next(failures, None)
        if failure is not None:
            raise failure
        w.stop()
        return 0

    monkeypatch.setattr(w, "run_due", run_due)
    monkeypatch.setattr(w, "sleep", slept.append)
    monkeypatch.setattr(worker.queue, "release_leases", lambda name: 0)
    monkeypatch.setattr(w, "idle", lambda listener: None)
    monkeypatch.setattr(worker, "close_old_connections", lambda: None)
    monkeypatch.setattr(reconnect, "drop_connection", lambda: None)
    monkeypatch.setattr(worker.Worker, "heartbeat", lambda self, **kwargs: None)
    monkeypatch.setattr(worker, "Listener", lambda: _NoListener())
    assert w.run() == 0
    assert len(rounds) == 3 and len(slept) == 2 and slept[1] > slept[0]


class _NoListener:
    def close(self):
        pass


def test_after_a_lost_connection_the_worker_gives_back_its_leases_before_it_works_on(monkeypatch):
    """An e-mail job leased when PostgreSQL went away stays 'running' with nobody to finish
    it: the worker must give it back as soon as it is connected again, not after the lease."""
    w = worker.Worker(name="steady", poll_seconds=0)
    calls = []

    def run_due():
        calls.append("run_due")
        if calls.count("run_due") == 1:
            raise OperationalError("terminating connection due to administrator command")
        w.stop()
        return 0

    monkeypatch.setattr(w, "run_due", run_due)
    monkeypatch.setattr(worker.queue, "release_leases", lambda name: calls.append(f"release {name}") or 1)
    monkeypatch.setattr(w, "sleep", lambda seconds: None)
    monkeypatch.setattr(w, "idle", lambda listener: None)
    monkeypatch.setattr(worker, "close_old_connections", lambda: None)
    monkeypatch.setattr(reconnect, "drop_connection", lambda: None)
    monkeypatch.setattr(worker.Worker, "heartbeat", lambda self, **kwargs: None)
    monkeypatch.setattr(worker, "Listener", lambda: _NoListener())
    w.run()
    assert calls == ["run_due", "release steady", "run_due"]
