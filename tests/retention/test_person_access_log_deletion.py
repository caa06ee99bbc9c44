"""The access log about a person without a case (their access report or person page read):
pseudonymised when the person's last case is erased, and deleted by the retention job once
the access-log periods of all the person's erased cases are over (the latest counts); a
person with a case not erased keeps them; every other DELETE is still refused; two workers
delete them once."""

from datetime import timedelta

import pytest
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from bench.service import PERSON_IDS
from permissions.models import AccessLog, AppendOnlyError
from retention.erasure import delete_access_log, erase_case
from retention.jobs import enqueue_due_erasures
from retention.models import ErasureRecord, ErasureTrigger
from retention.pseudonyms import person_key
from tests.threads import all_at_once
from tests.workflows.helpers import start_prison_case
from workflows.jobs import handlers
from workflows.models import Case, CaseStatus, Job, JobKind, JobStatus, Person

from .helpers import archived

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

PERSON_READS = 2


def closed_case(users, agencies, national_id, name="Person"):
    case = start_prison_case(users, agencies, person={"name": name, "national_id": national_id})
    AccessLog.objects.create(
        user=users["nils"], username="nils", case=case, person=case.person, category="economy", basis="x"
    )
    Case.objects.filter(pk=case.pk).update(
        status=CaseStatus.COMPLETED, closed_at=timezone.now() - timedelta(days=6 * 365)
    )
    archived(case)
    return case


def read_person(users, national_id, times=PERSON_READS):
    """Reads about the person outside any case (their access report, their page)."""
    person = Person.objects.get(national_id=national_id)
    for _ in range(times):
        AccessLog.objects.create(
            user=users["kari"], username="kari", person=person, category="identity", basis="access-report"
        )


def erase(*cases):
    for case in cases:
        assert erase_case(case.pk, trigger=ErasureTrigger.RETENTION) is not None


def person_rows(national_id) -> int:
    """The rows about the person without a case, named or pseudonymised."""
    key = person_key(national_id)
    return (
        AccessLog.objects.filter(case__isnull=True).filter(person__national_id=national_id).count()
        + AccessLog.objects.filter(case__isnull=True, person__isnull=True, person_key=key).count()
    )


def period_ends(case, *, days):
    """The case's access-log period ends in ``days`` (negative: it has ended)."""
    ErasureRecord.objects.filter(case=case).update(access_log_until=timezone.now() + timedelta(days=days))


def drain(worker):
    done = 0
    while handlers.run_one(worker):
        done += 1
    return done


def test_the_person_rows_go_when_the_periods_of_all_their_erased_cases_are_over(shipped, users, agencies):
    gone, other, living = PERSON_IDS
    first = closed_case(users, agencies, gone)
    read_person(users, gone)
    second = closed_case(users, agencies, gone)
    read_person(users, gone)
    erase(first, second)  # the second removes the person: their rows without a case are pseudonymised
    assert not Person.objects.filter(national_id=gone).exists()
    assert person_rows(gone) == 2 * PERSON_READS
    other_case = closed_case(users, agencies, other)
    read_person(users, other)
    erase(other_case)
    living_case = closed_case(users, agencies, living)  # erased, but the person has an open case
    start_prison_case(users, agencies, person={"name": "Levende", "national_id": living})
    read_person(users, living)
    erase(living_case)
    assert Person.objects.filter(national_id=living).exists()
    period_ends(other_case, days=30)
    period_ends(living_case, days=-1)

    # The later erased case's period is over, the first one's (a longer rule) is not: kept.
    period_ends(first, days=30)
    period_ends(second, days=-1)
    assert enqueue_due_erasures() == 2  # the case rows of `second` and of `living_case`
    assert drain("w1") == 2
    assert AccessLog.objects.filter(case=second).count() == 0
    assert person_rows(gone) == 2 * PERSON_READS
    assert person_rows(other) == PERSON_READS and person_rows(living) == PERSON_READS
    assert enqueue_due_erasures() == 0

    # Now the latest period is over too: the person's rows go with the job of that case.
    period_ends(first, days=-1)
    assert enqueue_due_erasures() == 1
    job = Job.objects.get(kind=JobKind.ERASURE, status=JobStatus.PENDING)
    assert (job.case_id, job.payload["stage"]) == (first.pk, "access_log")
    assert drain("w1") == 1
    assert person_rows(gone) == 0
    assert AccessLog.objects.filter(case=first).count() == 0
    record = ErasureRecord.objects.get(case=first)
    assert record.removed["person_access_log_rows_deleted"] == 2 * PERSON_READS
    # the records forget the key once nothing needs it
    assert not ErasureRecord.objects.filter(person_key=person_key(gone)).exists()
    assert enqueue_due_erasures() == 0  # done once
    # the others keep theirs: a period still running, a person with a case not erased
    assert person_rows(other) == PERSON_READS and person_rows(living) == PERSON_READS
    assert ErasureRecord.objects.get(case=living_case).person_key == person_key(living)


def delete_raw(sql, params, *, with_setting=False):
    with transaction.atomic(), connection.cursor() as cursor:
        if with_setting:
            cursor.execute("SELECT set_config('brobygger.access_log_purge', 'on', true)")
        cursor.execute(sql, params)


def test_every_other_delete_of_the_person_rows_is_still_refused(shipped, users, agencies):
    gone, running, living = PERSON_IDS
    gone_case = closed_case(users, agencies, gone)
    read_person(users, gone)
    running_case = closed_case(users, agencies, running)
    read_person(users, running)
    living_case = closed_case(users, agencies, living)
    start_prison_case(users, agencies, person={"name": "Levende", "national_id": living})
    read_person(users, living)
    erase(gone_case, running_case, living_case)
    period_ends(gone_case, days=-1)
    period_ends(running_case, days=30)
    period_ends(living_case, days=-1)
    counts = {national_id: person_rows(national_id) for national_id in PERSON_IDS}
    by_key = "DELETE FROM permissions_accesslog WHERE case_id IS NULL AND person_key = %s"

    with pytest.raises(DatabaseError, match="append-only"):
        delete_raw(by_key, [person_key(gone)])  # past every period, but not through the job's path
    with pytest.raises(DatabaseError, match="append-only"):
        delete_raw(by_key, [person_key(running)], with_setting=True)  # a period still running
    with pytest.raises(DatabaseError, match="append-only"):  # the person has a case not erased
        delete_raw(
            "DELETE FROM permissions_accesslog WHERE case_id IS NULL AND person_id = %s",
            [Person.objects.get(national_id=living).pk],
            with_setting=True,
        )
    with pytest.raises(AppendOnlyError):
        AccessLog.objects.filter(case__isnull=True, person_key=person_key(gone)).delete()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AccessLog.objects.filter(case__isnull=True, person_key=person_key(running)).delete_past_retention()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AccessLog.objects.filter(case__isnull=True, person__national_id=living).delete_past_retention()
    # the living person's rows pseudonymised by hand: their erased case's period is over,
    # but no erasure removed the person, so they are still not deletable
    AccessLog.objects.filter(case__isnull=True, person__national_id=living).pseudonymise(person_key(living))
    with pytest.raises(DatabaseError, match="append-only"):
        delete_raw(by_key, [person_key(living)], with_setting=True)
    assert {national_id: person_rows(national_id) for national_id in PERSON_IDS} == counts

    assert delete_access_log(running_case.pk) is None  # not due
    assert delete_access_log(living_case.pk) == 1  # its case row only
    assert person_rows(living) == counts[living] and person_rows(running) == counts[running]
    assert delete_access_log(gone_case.pk) == 1 + PERSON_READS
    assert person_rows(gone) == 0


def test_two_workers_delete_the_person_rows_once(shipped, users, agencies):
    cases = []
    for national_id in PERSON_IDS:  # two erased cases each, and reads about the person between
        cases.append(closed_case(users, agencies, national_id))
        read_person(users, national_id)
        cases.append(closed_case(users, agencies, national_id))
        read_person(users, national_id)
    erase(*cases)
    counts = {national_id: person_rows(national_id) for national_id in PERSON_IDS}
    assert all(count == 2 * PERSON_READS for count in counts.values())
    for case in cases:
        period_ends(case, days=-1)
    all_at_once([enqueue_due_erasures, enqueue_due_erasures])
    assert Job.objects.filter(kind=JobKind.ERASURE, status=JobStatus.PENDING).count() == len(cases)
    done = all_at_once([lambda: drain("w1"), lambda: drain("w2")])
    assert sum(done) == len(cases), done
    assert sum(person_rows(national_id) for national_id in PERSON_IDS) == 0
    assert AccessLog.objects.filter(case__in=cases).count() == 0
    deleted = [record.removed.get("person_access_log_rows_deleted") for record in ErasureRecord.objects.all()]
    assert sorted(n for n in deleted if n) == sorted(counts.values())  # once per person, all the rows


def test_two_deletions_for_two_cases_of_one_person_at_once_delete_the_person_rows_once(shipped, users, agencies):
    national_id = PERSON_IDS[0]
    first = closed_case(users, agencies, national_id)
    second = closed_case(users, agencies, national_id)
    read_person(users, national_id)
    erase(first, second)
    period_ends(first, days=-2)
    period_ends(second, days=-1)
    outcomes = all_at_once([lambda: delete_access_log(first.pk), lambda: delete_access_log(second.pk)])
    assert person_rows(national_id) == 0
    assert sum(outcomes) == 2 + PERSON_READS, outcomes  # one case row each, the person's rows once
    records = ErasureRecord.objects.filter(case__in=[first, second])
    assert sum(record.removed.get("person_access_log_rows_deleted", 0) for record in records) == PERSON_READS
