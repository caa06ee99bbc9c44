"""The retention job on two workers at once, and two erasures of one case at once: each
case is erased exactly once, and no worker waits on another's case."""

from datetime import timedelta

import pytest
from django.utils import timezone

from bench.service import PERSON_IDS
from retention.erasure import erase_case
from retention.jobs import enqueue_due_erasures
from retention.models import ErasureRecord, ErasureTrigger
from tests.threads import all_at_once
from tests.workflows.helpers import start_prison_case
from workflows.jobs import handlers
from workflows.models import Case, CaseStatus, Job, JobKind, JobStatus, Person

from .helpers import archived

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def closed_long_ago(users, agencies, count):
    cases = []
    for n in range(count):
        # three people with several cases each: the erasures of one person's cases meet
        person = {"name": f"Person {n}", "national_id": PERSON_IDS[n % len(PERSON_IDS)]}
        case = start_prison_case(users, agencies, person=person)
        Case.objects.filter(pk=case.pk).update(
            status=CaseStatus.COMPLETED, closed_at=timezone.now() - timedelta(days=6 * 365)
        )
        cases.append(case)
    archived(*cases)
    return cases


def drain(worker):
    done = 0
    while handlers.run_one(worker):
        done += 1
    return done


def test_two_workers_erase_every_due_case_once(shipped, users, agencies):
    cases = closed_long_ago(users, agencies, 8)
    assert sorted(all_at_once([enqueue_due_erasures, enqueue_due_erasures])) in ([0, 8], [8, 8], [4, 8])
    assert Job.objects.filter(kind=JobKind.ERASURE, status=JobStatus.PENDING).count() == 8
    done = all_at_once([lambda: drain("w1"), lambda: drain("w2")])
    assert sum(done) == 8, done
    assert ErasureRecord.objects.filter(case__in=cases).count() == 8
    assert Job.objects.filter(kind=JobKind.ERASURE, status=JobStatus.DONE).count() == 8
    assert not Person.objects.filter(national_id__in=PERSON_IDS).exists()


def test_two_erasures_of_one_case_at_once_erase_it_once(shipped, users, agencies):
    (case,) = closed_long_ago(users, agencies, 1)
    outcomes = all_at_once([lambda: erase_case(case.pk, trigger=ErasureTrigger.RETENTION)] * 2)
    assert sorted(outcome is None for outcome in outcomes) == [False, True], outcomes
    assert ErasureRecord.objects.filter(case=case).count() == 1
