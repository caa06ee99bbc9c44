"""Expired sessions are deleted by the workers (``workflows.jobs.sessions``,
``Worker.prune_sessions``): a session row outlives its expiry until something deletes it, and
it may hold what a person typed about someone (a consent form sent back with errors keeps its
purpose and note for the next page). Live sessions stay."""

from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.utils import timezone

from accounts.sessions import SessionStore
from workflows.jobs import sessions, worker
from workflows.jobs.worker import Worker

pytestmark = pytest.mark.django_db


def _session(*, expires_in: timedelta, **data) -> str:
    store = SessionStore()
    store.update(data)
    store.create()
    Session.objects.filter(pk=store.session_key).update(expire_date=timezone.now() + expires_in)
    return store.session_key


def test_the_worker_deletes_expired_sessions_and_keeps_the_live_ones():
    expired = [
        _session(expires_in=-timedelta(days=40), consent_form={"purpose": "bolig", "note": "om personen"}),
        _session(expires_in=-timedelta(minutes=1)),
    ]
    live = [_session(expires_in=timedelta(minutes=1)), _session(expires_in=timedelta(minutes=30))]

    Worker(name="w").run(once=True)

    assert set(Session.objects.values_list("pk", flat=True)) == set(live)
    assert not Session.objects.filter(pk__in=expired).exists()
    assert SessionStore(session_key=live[0]).load() == {}  # still readable as a session


def test_session_pruning_goes_in_batches_comes_back_while_there_is_more_then_waits(monkeypatch):
    monkeypatch.setattr(sessions, "PRUNE_BATCH", 2)
    monkeypatch.setattr(worker, "PRUNE_BATCHES", 2)
    for _ in range(7):
        _session(expires_in=-timedelta(hours=1))
    live = _session(expires_in=timedelta(minutes=10))
    pruner = Worker(name="w")

    assert pruner.prune_sessions() is True  # two full batches, more left: the loop does not sleep on it
    assert Session.objects.count() == 4
    assert pruner.prune_sessions() is False  # a short batch: all expired ones gone
    assert list(Session.objects.values_list("pk", flat=True)) == [live]
    _session(expires_in=-timedelta(hours=1))
    assert pruner.prune_sessions() is False  # not again before PRUNE_EVERY_SECONDS
    assert Session.objects.count() == 2
