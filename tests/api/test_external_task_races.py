"""An external task answered at the moment its agency is withdrawn from the case (PostgreSQL).

The completion checks the agency's standing holding the job, then waits for the case's
work. A withdrawal committing in between once let the answer write the case's data, recorded
as that agency's, and move the case on. An agency whose system still owes the case an
external task is now not withdrawn at all (409, ``participant.open_external_tasks``): forced
into the same moment, the withdrawal is refused and the answer completes the task."""

import threading

import pytest

from core.errors import Conflict
from tests.threads import all_at_once
from workflows import services
from workflows.models import Event, EventKind, Job, JobStatus
from workflows.services import external_tasks

from .test_external_tasks import waiting_on_nav_system

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_an_external_task_answered_while_its_agency_is_withdrawn_completes_and_the_withdrawal_is_refused(
    monkeypatch, users, agencies
):
    case = waiting_on_nav_system(users, agencies, "housing")
    (task,) = external_tasks.fetch_and_lock(
        actor=users["nils"], worker_id="w1", topics=[{"topic": "housing-register", "lock_seconds": 60}], max_tasks=1
    )

    checked, withdrawn = threading.Event(), threading.Event()
    locked_job = external_tasks._locked_job

    def checked_then_wait(*args, **kwargs):
        job = locked_job(*args, **kwargs)
        checked.set()
        assert withdrawn.wait(timeout=30)
        return job

    monkeypatch.setattr(external_tasks, "_locked_job", checked_then_wait)

    def answer():
        return external_tasks.complete_external_task(
            actor=users["nils"], task_id=task["id"], worker_id="w1", variables={"register_status": "listed"}
        )

    def withdraw():
        assert checked.wait(timeout=30)
        try:
            return services.withdraw_agency(
                actor=users["bjorn"], case=case.pk, agency=agencies["nav"].pk, reason="NAV er ferdig i saken"
            )
        finally:
            withdrawn.set()

    answered, done = all_at_once([answer, withdraw])
    assert isinstance(done, Conflict) and done.code == "participant.open_external_tasks", done
    assert not isinstance(answered, Exception), answered
    case.refresh_from_db()
    assert case.data["register_status"] == "listed"
    assert Job.objects.get(delivery_key=task["id"]).status == JobStatus.DONE
    assert not Event.objects.filter(case=case, kind=EventKind.AGENCY_WITHDRAWN).exists()
