"""The retention job: erasure of closed cases past their retention, and later deletion of
their access log past its own period, through the job table.

``enqueue_due_erasures`` (``manage.py enqueue_erasures``, daily from cron or a systemd
timer, on any node) queues one ``erasure`` job per due case; a partial unique index keeps
one pending job per case, so two sweeps at once queue each case once. The workers run
the jobs (``workflows.jobs.handlers``): each job is claimed with ``SKIP LOCKED`` and the
erasure runs in its transaction, holding the case row. The same sweep queues, for each
erased case whose access-log period has ended, an ``erasure`` job of the stage
``access_log`` (``ACCESS_LOG_STAGE``): it deletes the case's access-log rows in its
transaction, holding the erasure record (the one pending job per case covers both stages).
Once the person is gone and the periods of all their erased cases are over, the job of the
case with the latest period also deletes the person's access-log rows without a case.
"""

from __future__ import annotations

from django.db.models import Count, Max, Q
from django.utils import timezone

from retention.archive import write_package
from retention.erasure import delete_access_log, erase_case, is_due
from retention.models import ArchiveExport, ArchiveStatus, ErasureRecord, ErasureTrigger
from retention.rules import retention_of, unmet_archive_duty
from workflows.jobs import queue
from workflows.models import Case, CaseStatus, Job, JobKind, JobStatus

ACCESS_LOG_STAGE = "access_log"


def run_erasure_job(job: Job) -> None:
    assert job.case_id is not None, "an erasure job names its case"
    if job.payload.get("stage") == ACCESS_LOG_STAGE:
        delete_access_log(job.case_id, job=job)
    else:
        erase_case(job.case_id, trigger=ErasureTrigger.RETENTION, job=job)


def run_archive_export_job(job: Job) -> None:
    # The case first (the lock order of a correction, which keeps the pending packages before
    # it changes the case file): no correction lands between building a package and posting it.
    # FOR NO KEY UPDATE: a correction (FOR UPDATE) waits, a read of the case, which writes its
    # access-log row (FOR KEY SHARE), does not wait for the archive's answer.
    assert job.case_id is not None, "an archive export job names its case"
    list(Case.objects.select_for_update(no_key=True).filter(pk=job.case_id).values_list("pk", flat=True))
    export = ArchiveExport.objects.select_for_update().filter(pk=job.payload.get("export_id")).first()
    if export is not None and export.status == ArchiveStatus.PENDING:
        write_package(export)


def due_cases(moment=None):
    """Closed cases not yet erased whose retention has ended at ``moment`` and whose case
    file the archive has (a case with an unmet archive duty waits for its export)."""
    moment = moment or timezone.now()
    candidates = (
        Case.objects.exclude(status=CaseStatus.OPEN)
        .filter(closed_at__isnull=False, closed_at__lte=moment)
        .exclude(pk__in=ErasureRecord.objects.values("case_id"))
        .order_by("closed_at", "id")
    )
    for case in candidates.iterator():
        if is_due(retention_of(case), moment) and not unmet_archive_duty(case):
            yield case


def due_access_logs(moment=None) -> list[int]:
    """Ids of erased cases whose access log's own period has ended and is not yet deleted,
    and, for each person gone whose erased cases' access-log periods are all over (whose
    key the records still hold), the case with the latest period: its job deletes the
    person's access-log rows without a case."""
    moment = moment or timezone.now()
    cases = list(
        ErasureRecord.objects.filter(access_log_until__lte=moment, access_log_deleted_at__isnull=True).values_list(
            "case_id", flat=True
        )
    )
    keys = (
        ErasureRecord.objects.exclude(person_key="")
        .values("person_key")
        .annotate(until=Max("access_log_until"), gone=Count("pk", filter=Q(person_erased=True)))
        .filter(until__lte=moment, gone__gt=0)
        .values_list("person_key", flat=True)
    )
    latest: dict[str, int] = {}
    for key, case_id in (
        ErasureRecord.objects.filter(person_key__in=list(keys))
        .order_by("-access_log_until", "-pk")
        .values_list("person_key", "case_id")
    ):
        latest.setdefault(key, case_id)
    return cases + [case_id for case_id in latest.values() if case_id not in cases]


def enqueue_due_erasures(moment=None) -> int:
    """Queue an erasure job for each due case, and an access-log deletion for each erased
    case whose access log is due, that has none pending. Returns how many."""
    moment = moment or timezone.now()
    purges = [
        Job(
            kind=JobKind.ERASURE,
            due_at=moment,
            case_id=case_id,
            max_attempts=queue.conf("JOB_MAX_ATTEMPTS"),
            payload={"case_id": case_id, "stage": ACCESS_LOG_STAGE},
        )
        for case_id in due_access_logs(moment)
    ]
    jobs = purges + [
        Job(
            kind=JobKind.ERASURE,
            due_at=moment,
            case_id=case.pk,
            max_attempts=queue.conf("JOB_MAX_ATTEMPTS"),
            payload={"case_id": case.pk},
        )
        for case in due_cases(moment)
    ]
    pending = set(Job.objects.filter(kind=JobKind.ERASURE, status=JobStatus.PENDING).values_list("case_id", flat=True))
    created = Job.objects.bulk_create([job for job in jobs if job.case_id not in pending], ignore_conflicts=True)
    if created:
        queue.wake_workers()
    return len(created)
