"""A message sent at the moment its sender's agency is withdrawn from the case (PostgreSQL).

Sequentially the withdrawn prison sees the case nowhere: its message answers 404 and writes
nothing. The message service decided who sends it before it locked the case's work; a
withdrawal committing in between let the message write the case's data (and its timeline)
for an agency that no longer took part. Forced: the message waits after deciding its sender
until the withdrawal has committed."""

import threading

import pytest

from core.errors import NotFound
from tests.threads import all_at_once
from tests.workflows.jobs.conftest import walk_to_find_home
from workflows import services
from workflows.models import Case, Event, EventKind
from workflows.services import messages

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_a_message_sent_while_its_agency_is_withdrawn_writes_nothing(monkeypatch, shipped, users, agencies):
    case = walk_to_find_home(users, agencies, "2027-12-15")
    decided, withdrawn = threading.Event(), threading.Event()
    sender_agency = messages._sender_agency

    def decided_then_wait(*args, **kwargs):
        agency = sender_agency(*args, **kwargs)
        decided.set()
        assert withdrawn.wait(timeout=30)
        return agency

    monkeypatch.setattr(messages, "_sender_agency", decided_then_wait)

    def send():
        return services.correlate_message(
            actor=users["kari"],
            name="release_date_changed",
            case_reference=case.reference,
            payload={"expected_release_date": "2027-10-01"},
            message_id="halden-1",
        )

    def withdraw():
        assert decided.wait(timeout=30)
        try:
            return services.withdraw_agency(
                actor=users["bjorn"], case=case.pk, agency=agencies["prison"].pk, reason="Overført til friomsorgen"
            )
        finally:
            withdrawn.set()

    sent, done = all_at_once([send, withdraw])
    assert not isinstance(done, Exception), done
    assert isinstance(sent, NotFound), sent
    assert Case.objects.get(pk=case.pk).data["expected_release_date"] == "2027-12-15"
    assert not Event.objects.filter(case=case, kind=EventKind.MESSAGE_RECEIVED).exists()
