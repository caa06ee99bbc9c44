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
