"""Writers that lock a case's work take the instance rows before the case row, as every
engine step does (``steps.locked_instances``: the instance, then its case, in one statement).

A service that locked the case first and the instance after could meet a completion that
holds the instance and waits for the case: each waits for the other, PostgreSQL breaks the
deadlock by failing one of them, and that request answered 500. The interleaving is forced:
a third transaction holds the instance while the completion queues for it, then the other
writer takes the case and queues behind the completion; then the instance is let go."""

import threading
import time

import pytest
from django.db import connection, connections, transaction

from core.errors import InvalidInput
from permissions.models import AccessAction, AccessLog
from retention.services import correct_value
from tests.threads import all_at_once, meet_after
from workflows import services
from workflows.models import Event, EventKind, ProcessInstance, Task, TaskStatus
from workflows.services import participants

from .helpers import form_data

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def wait_until_blocked(pids: dict, name: str, timeout: float = 30) -> None:
    """Until the connection of thread ``name`` waits for a row lock."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pid = pids.get(name)
        if pid is not None:
            with connection.cursor() as cursor:
                cursor.execute("SELECT count(*) FROM pg_locks WHERE pid = %s AND NOT granted", [pid])
                if cursor.fetchone()[0]:
                    return
        time.sleep(0.02)
    raise AssertionError(f"{name} never waited for a lock")


def meet_behind_a_held_instance(instance_id: int, first, second):
    """``first`` queues for the instance row (held by a third transaction), then ``second``
    starts and queues too; then the instance is let go. Returns both outcomes."""
    pids: dict = {}
    held, release = threading.Event(), threading.Event()

    def hold():
        with transaction.atomic():
            ProcessInstance.objects.select_for_update(of=("self",)).filter(pk=instance_id).get()
            held.set()
            assert release.wait(timeout=60)

    def as_thread(name, call):
        def run():
            pids[name] = _backend_pid()
            return call()

        return run

    def first_then_second():
        assert held.wait(timeout=30)
        outcomes = {}

        def run(name, call):
            try:
                outcomes[name] = as_thread(name, call)()
            except Exception as exc:  # judged by the test
                outcomes[name] = exc
            finally:
                connections.close_all()

        one = threading.Thread(target=run, args=("first", first))
        one.start()
        wait_until_blocked(pids, "first")
        two = threading.Thread(target=run, args=("second", second))
        two.start()
        wait_until_blocked(pids, "second")
        time.sleep(0.3)  # the second has taken what it takes before it waits
        release.set()
        one.join(timeout=60)
        two.join(timeout=60)
        return outcomes["first"], outcomes["second"]

    _, outcomes = all_at_once([hold, first_then_second])
    if isinstance(outcomes, Exception):
        raise outcomes
    return outcomes


def test_a_withdrawal_meeting_a_completion_neither_deadlocks_nor_fails(nav_task, case, users, agencies):
    assert not Task.objects.filter(case=case, agency=agencies["prison"], status__in=("open", "claimed")).exists()
    completed, withdrawn = meet_behind_a_held_instance(
        nav_task.instance_id,
        lambda: services.complete_task(actor=users["nils"], task_id=nav_task.pk, data=form_data(nav_task)),
        lambda: services.withdraw_agency(
            actor=users["bjorn"], case=case.pk, agency=agencies["prison"].pk, reason="Ikke lenger aktuell"
        ),
    )
    assert not isinstance(completed, Exception), completed
    assert not isinstance(withdrawn, Exception), withdrawn
    assert Task.objects.get(pk=nav_task.pk).status == TaskStatus.COMPLETED
    assert not case.participants.filter(agency=agencies["prison"]).exists()


def test_a_correction_meeting_a_completion_neither_deadlocks_nor_fails(nav_task, case, users):
    completed, corrected = meet_behind_a_held_instance(
        nav_task.instance_id,
        lambda: services.complete_task(actor=users["nils"], task_id=nav_task.pk, data=form_data(nav_task)),
        lambda: correct_value(actor=users["kari"], case_id=case.pk, field="has_home", value=True, reason="Feil"),
    )
    assert not isinstance(completed, Exception), completed
    assert not isinstance(corrected, Exception), corrected
    assert Task.objects.get(pk=nav_task.pk).status == TaskStatus.COMPLETED
    case.refresh_from_db()
    assert case.data["has_home"] is True
    assert '"has_home": false' not in case.instances.get().state


def test_two_withdrawals_of_one_agency_at_once_withdraw_it_once(monkeypatch, nav_task, case, users, agencies):
    """A double submit: sequentially the second is refused (the agency no longer takes part);
    at once both had read the participation before either withdrew it, and the timeline and
    the access log recorded the withdrawal twice."""
    meet_after(monkeypatch, participants, "_valid_reason")

    def withdraw():
        return services.withdraw_agency(
            actor=users["bjorn"], case=case.pk, agency=agencies["prison"].pk, reason="Ikke lenger aktuell"
        )

    outcomes = all_at_once([withdraw, withdraw])
    refused = [outcome for outcome in outcomes if isinstance(outcome, InvalidInput)]
    assert len(refused) == 1 and not any(isinstance(o, Exception) for o in outcomes if o not in refused), outcomes
    assert refused[0].errors[0]["field"] == "agency"
    assert Event.objects.filter(case=case, kind=EventKind.AGENCY_WITHDRAWN).count() == 1
    assert AccessLog.objects.filter(case=case, action=AccessAction.WITHDRAW_AGENCY).count() == 1
