"""The access log's own retention: the retention job deletes the rows of an erased case
once their period has ended, through the job table; rows within their period stay; the
trigger still refuses every other DELETE; two workers delete each case's rows once."""

from datetime import timedelta

import pytest
from django.db import DatabaseError, connection, transaction
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from bench.service import PERSON_IDS
from permissions.models import AccessLog, AppendOnlyError
from retention.erasure import delete_access_log, erase_case
from retention.jobs import enqueue_due_erasures
from retention.models import ErasureRecord, ErasureTrigger
from tests.threads import all_at_once
from tests.workflows.helpers import start_prison_case
from workflows.jobs import handlers
from workflows.models import Case, CaseStatus, Job, JobKind, JobStatus

from .helpers import archived

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

READS = 3


def erased_cases(users, agencies, count):
    """``count`` closed cases, each read ``READS`` times by NAV, then erased."""
    cases = []
    for n in range(count):
        person = {"name": f"Person {n}", "national_id": PERSON_IDS[n % len(PERSON_IDS)]}
        case = start_prison_case(users, agencies, person=person)
        for _ in range(READS):
            AccessLog.objects.create(
                user=users["nils"], username="nils", case=case, person=case.person, category="economy", basis="x"
            )
        Case.objects.filter(pk=case.pk).update(
            status=CaseStatus.COMPLETED, closed_at=timezone.now() - timedelta(days=6 * 365)
        )
        cases.append(case)
    archived(*cases)
    for case in cases:
        assert erase_case(case.pk, trigger=ErasureTrigger.RETENTION) is not None
    return cases


def past_its_period(*cases):
    ErasureRecord.objects.filter(case__in=cases).update(access_log_until=timezone.now() - timedelta(days=1))


def rows(case) -> int:
    return AccessLog.objects.filter(case=case).count()


def drain(worker):
    done = 0
    while handlers.run_one(worker):
        done += 1
    return done


def test_the_job_deletes_the_rows_past_their_period_and_keeps_the_others(shipped, users, agencies):
    due, kept = erased_cases(users, agencies, 2)
    living = start_prison_case(users, agencies, person={"name": "Levende", "national_id": PERSON_IDS[0]})
    AccessLog.objects.create(
        user=users["nils"], username="nils", case=living, person=living.person, category="x", basis="x"
    )
    before = {case.pk: rows(case) for case in (due, kept, living)}
    assert before[due.pk] >= READS and before[kept.pk] >= READS
    past_its_period(due)

    assert enqueue_due_erasures() == 1  # the due access log only: the cases are erased already
    job = Job.objects.get(kind=JobKind.ERASURE, status=JobStatus.PENDING)
    assert (job.case_id, job.payload["stage"]) == (due.pk, "access_log")
    assert enqueue_due_erasures() == 0  # one pending job per case
    assert drain("w1") == 1

    assert rows(due) == 0
    assert rows(kept) == before[kept.pk] and rows(living) == before[living.pk]
    record = ErasureRecord.objects.get(case=due)
    assert record.access_log_deleted_at is not None
    assert record.removed["access_log_rows_deleted"] == before[due.pk]
    assert Job.objects.get(pk=job.pk).status == JobStatus.DONE
    assert enqueue_due_erasures() == 0  # done once
    client = Client()
    client.force_login(users["aud"])
    assert 'id="access-log-deleted"' in client.get(f"/cases/{due.pk}/retention/").content.decode()
    api = APIClient()
    api.force_authenticate(users["aud"])
    assert api.get(f"/api/v1/cases/{due.pk}/retention/").json()["erasure"]["access_log_deleted_at"] is not None
    assert api.get(f"/api/v1/cases/{kept.pk}/retention/").json()["erasure"]["access_log_deleted_at"] is None


def delete_raw(case, *, with_setting=False):
    with transaction.atomic(), connection.cursor() as cursor:
        if with_setting:
            cursor.execute("SELECT set_config('brobygger.access_log_purge', 'on', true)")
        cursor.execute("DELETE FROM permissions_accesslog WHERE case_id = %s", [case.pk])


def test_every_other_delete_is_still_refused(shipped, users, agencies):
    due, kept = erased_cases(users, agencies, 2)
    past_its_period(due)
    living = start_prison_case(users, agencies, person={"name": "Levende", "national_id": PERSON_IDS[0]})
    AccessLog.objects.create(
        user=users["nils"], username="nils", case=living, person=living.person, category="x", basis="x"
    )
    counts = {case.pk: rows(case) for case in (due, kept, living)}
    with pytest.raises(DatabaseError, match="append-only"):
        delete_raw(due)  # past its period, but not through the job's path
    for case in (kept, living):  # within its period / never erased: not even with the setting
        with pytest.raises(DatabaseError, match="append-only"):
            delete_raw(case, with_setting=True)
    with pytest.raises(AppendOnlyError):
        AccessLog.objects.filter(case=due).delete()
    with pytest.raises(AppendOnlyError):
        AccessLog.objects.filter(case=due).delete_past_retention()  # outside a transaction
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AccessLog.objects.filter(case=kept).delete_past_retention()
    assert {case.pk: rows(case) for case in (due, kept, living)} == counts
    # the setting ends with the statement's helper: a later DELETE in the same transaction is refused
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        assert delete_access_log(due.pk) == counts[due.pk]
        AccessLog.objects.create(user=users["nils"], username="nils", case=due, category="x", basis="x")
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM permissions_accesslog WHERE case_id = %s", [due.pk])
    assert rows(due) == counts[due.pk]  # that transaction rolled back whole


def test_two_workers_delete_each_access_log_once(shipped, users, agencies):
    cases = erased_cases(users, agencies, 6)
    counts = {case.pk: rows(case) for case in cases}
    past_its_period(*cases)
    queued = all_at_once([enqueue_due_erasures, enqueue_due_erasures])
    assert sorted(queued) in ([0, 6], [6, 6], [3, 6]) or sum(queued) >= 6, queued
    assert Job.objects.filter(kind=JobKind.ERASURE, status=JobStatus.PENDING).count() == 6
    done = all_at_once([lambda: drain("w1"), lambda: drain("w2")])
    assert sum(done) == 6, done
    assert AccessLog.objects.filter(case__in=cases).count() == 0
    for record in ErasureRecord.objects.filter(case__in=cases):
        assert record.removed["access_log_rows_deleted"] == counts[record.case_id]


def test_two_deletions_of_one_access_log_at_once_delete_it_once(shipped, users, agencies):
    (case,) = erased_cases(users, agencies, 1)
    count = rows(case)
    past_its_period(case)
    outcomes = all_at_once([lambda: delete_access_log(case.pk)] * 2)
    assert sorted(outcomes, key=lambda o: o is None) == [count, None], outcomes
    assert rows(case) == 0
