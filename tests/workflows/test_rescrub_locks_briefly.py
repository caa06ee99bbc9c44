"""The scrub of stored failure texts at rest (``manage.py scrub_failure_texts``, run by ``manage.py
serve`` while the other nodes serve and their workers run) locks no row while it gathers what
the cases hold (PostgreSQL: row locks, real concurrency).

Gathering is the slow part of a batch: every saved workflow state of up to ``BATCH`` cases,
their corrections and the person's other cases. Until 2026-12-06 the batch's rows were locked
for it, each job with an error and each incident, those with nothing to scrub too: a worker
recording a job's outcome, a folded incident, a retry waited on them. Now only the rows whose
text changes are locked, read again and written: a worker's newer error written meanwhile
stays as the worker wrote it."""

import threading

import pytest
from django.db import connections, transaction
from django.utils import timezone

from tests.workflows.test_rescrub_stored_failures import RAW, _assert_scrubbed
from tests.workflows.test_step_incidents_kept_scrubbed import (  # noqa: F401 (a fixture)
    corrected_case,
    people,
)
from workflows import failure_texts, selectors
from workflows.models import Incident, Job, JobKind

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

NEWER = "the connector answered 502: Bad Gateway"


def _in_another_connection(call):
    """``call``'s result, or the exception it raised, run in a thread of its own connection."""
    outcome: list = []

    def run():
        try:
            outcome.append(call())
        except Exception as exc:  # the test judges it
            outcome.append(exc)
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=30)
    return outcome[0] if outcome else TimeoutError("the other connection did not finish")


def _worker_writes(job_pk: int, incident_pk: int, error: str) -> str:
    """A worker's write while the scrub gathers: it takes its job row (and an incident) at once."""
    with transaction.atomic():
        Incident.objects.select_for_update(nowait=True).get(pk=incident_pk)
        job = Job.objects.select_for_update(nowait=True).get(pk=job_pk)
        job.last_error = error
        job.save(update_fields=["last_error"])
    return "written"


def test_no_row_is_locked_while_the_cases_values_are_gathered(people, agencies, monkeypatch):  # noqa: F811
    case = corrected_case(people, agencies)
    now = timezone.now()
    old = Job.objects.create(kind=JobKind.EXTERNAL_TASK, case=case, payload={}, due_at=now, last_error=RAW)
    retried = Job.objects.create(kind=JobKind.EXTERNAL_TASK, case=case, payload={}, due_at=now, last_error=RAW)
    clean = Job.objects.create(kind=JobKind.SERVICE, case=case, payload={}, due_at=now, last_error=NEWER)
    incident = Incident.objects.create(case=case, kind="service-failed", error=NEWER)
    gathered = selectors.literals_ever_by_case
    seen = []

    def gathering(cases):
        found = gathered(cases)
        # A job with nothing to scrub, then one the scrub will change (its worker writes a
        # newer error, scrubbed as it is made): neither waits for the scrub.
        seen.append(_in_another_connection(lambda: _worker_writes(clean.pk, incident.pk, NEWER + ".")))
        seen.append(_in_another_connection(lambda: _worker_writes(retried.pk, incident.pk, NEWER)))
        return found

    monkeypatch.setattr(failure_texts.selectors, "literals_ever_by_case", gathering)
    changed = failure_texts.rescrub(batch=10)

    assert seen[:2] == ["written", "written"], seen  # old: could not obtain lock (rows held)
    retried.refresh_from_db()
    assert retried.last_error == NEWER  # the worker's newer error, not the old one scrubbed
    old.refresh_from_db()
    _assert_scrubbed(old.last_error)  # the one nobody wrote meanwhile: scrubbed
    assert changed is not None and changed["jobs"] == 1
