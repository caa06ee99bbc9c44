"""A worker that lost its connection gives back the jobs it had leased (``release_leases``):
they are due again at once, the attempt is not counted, other workers' leases stay."""

import pytest

from tests.workflows.helpers import start_prison_case
from workflows.jobs import queue
from workflows.models import Job, JobKind, JobStatus

pytestmark = pytest.mark.django_db


def test_release_leases_gives_back_only_the_workers_own_running_jobs(shipped, users, agencies):
    case = start_prison_case(users, agencies)
    Job.objects.all().delete()
    Job.objects.bulk_create(
        Job(kind=JobKind.NOTIFICATION, due_at=queue.now(), case=case, instance=case.instances.first(), payload={})
        for _ in range(3)
    )
    mine = queue.claim_external("lost", limit=2)
    theirs = queue.claim_external("other", limit=1)
    assert [job.attempts for job in mine] == [1, 1]

    assert queue.release_leases("lost") == 2

    for job in mine:
        job.refresh_from_db()
        assert (job.status, job.locked_by, job.lease_until, job.attempts) == (JobStatus.PENDING, "", None, 0)
        assert job.due_at <= queue.now()
    theirs[0].refresh_from_db()
    assert (theirs[0].status, theirs[0].locked_by) == (JobStatus.RUNNING, "other")
    assert {job.pk for job in queue.claim_external("next", limit=5)} == {job.pk for job in mine}
