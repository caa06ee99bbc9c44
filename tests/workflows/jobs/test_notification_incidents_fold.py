"""An agency whose notification address is wrong (or whose webhook is down) failed every new
task's e-mail and webhook call on every case it works, and each failed job opened an
incident of its own on its case: the process admin read the same fault dozens of times a
day, the others buried under it. Now those failures fold as the password-reset mail's do
(``queue.FOLDED``): one open incident per kind, agency and error, counted, of no case (its
failures come from many); another agency's, or another error, is one of its own. Two
workers failing at once open one."""

import threading

import pytest

from tests.threads import all_at_once
from workflows.jobs import queue
from workflows.jobs.errors import JobError
from workflows.models import Case, Incident, Job, JobKind, JobStatus, Person

REFUSED = JobError("job.mail_refused", error_class="SMTPRecipientsRefused", codes="550 5.1.1")
DOWN = JobError("job.webhook.http_status", status=503)


def _cases(agencies) -> list[Case]:
    made = []
    for index, (name, number) in enumerate((("Kari Vestby", "17912099997"), ("Terje Lunde", "29822099635"))):
        person = Person.objects.create(name=name, national_id=number)
        made.append(
            Case.objects.create(
                reference=f"BK-2026-9000{index}",
                person=person,
                person_name=name,
                process_key="prison_release_to_housing",
                coordinator_agency=agencies["housing"],
            )
        )
    return made


def _job(case: Case, kind: str, agency) -> Job:
    payload = {"event": "task_created", "task_id": 1, "agency_id": agency.pk, "element_id": "Task_intake_interview"}
    return Job.objects.create(
        kind=kind, due_at=queue.now(), case=case, max_attempts=1, status=JobStatus.RUNNING, payload=payload
    )


def _open() -> list[Incident]:
    return list(Incident.objects.filter(resolved_at__isnull=True).order_by("pk"))


@pytest.mark.django_db
def test_an_agencys_failing_notifications_fold_into_one_counted_incident_of_no_case(agencies):
    first, second = _cases(agencies)
    prison, nav = agencies["prison"], agencies["nav"]
    for case in (first, second, first):
        queue.record_failed_attempt(_job(case, JobKind.NOTIFICATION, prison).pk, REFUSED)
    for case in (first, second):
        queue.record_failed_attempt(_job(case, JobKind.WEBHOOK, prison).pk, DOWN)
    queue.record_failed_attempt(_job(second, JobKind.NOTIFICATION, nav).pk, REFUSED)  # another agency's address
    mails, hooks, navs = _open()
    assert [incident.occurrences for incident in (mails, hooks, navs)] == [3, 2, 1]
    assert (mails.kind, hooks.kind, navs.kind) == ("notification-failed", "webhook-failed", "notification-failed")
    for incident in (mails, hooks, navs):
        assert (incident.case_id, incident.instance_id, incident.element_id) == (None, None, "")
    assert mails.job == Job.objects.filter(kind=JobKind.NOTIFICATION, payload__agency_id=prison.pk).last()
    assert "550 5.1.1" in mails.error and "503" in hooks.error


@pytest.mark.postgres  # two connections at once, settled by row locks and a unique index: SQLite has neither
@pytest.mark.django_db(transaction=True)
def test_two_workers_failing_notifications_at_once_open_one_incident(cast, monkeypatch):
    _users, agencies = cast
    jobs = [_job(case, JobKind.NOTIFICATION, agencies["prison"]) for case in _cases(agencies)]
    # Both look for the open incident before either has opened it (the race the unique index
    # settles): each thread's first look waits for the other's.
    looked = threading.Barrier(2, timeout=30)
    first = threading.local()
    real = queue._open_folded

    def look_then_meet(key):
        found = real(key)
        if not getattr(first, "done", False):
            first.done = True
            looked.wait()
        return found

    monkeypatch.setattr(queue, "_open_folded", look_then_meet)
    outcomes = all_at_once([lambda job=job: queue.record_failed_attempt(job.pk, REFUSED) for job in jobs])
    assert outcomes == [None, None]
    (incident,) = Incident.objects.all()
    assert incident.occurrences == 2 and incident.case_id is None
