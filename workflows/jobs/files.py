"""Deleting a withdrawn attachment's file from ``ATTACHMENT_DIR``, through the job table.

A folder's file was deleted after the withdrawal committed, once: a delete that failed then
(a read-only or full disk, a permission, a worker killed between the commit and the delete)
left the file on disk for good, its row already emptied of the name, so nothing knew of it
any more. The withdrawal now writes a ``file_deletion`` job in its transaction, naming the
file; the workers run it (``manage.py worker``) and a failure backs off and is tried again,
as long as it takes (``ATTEMPTS``): only a delete that passed finishes it. The withdrawal
still deletes the file at once after its commit, so the job usually finds nothing left.
The erasure of the case deletes the files of its jobs not done yet, in its transaction.
"""

from __future__ import annotations

from workflows.jobs import handlers, queue
from workflows.models import Job, JobKind, JobStatus

# Enough never to give up (with the back-off's cap of hours, years): a job that ran out of
# attempts would be pruned with the only record of the file.
ATTEMPTS = 100_000


def file_deletion(case_id: int | None, name: str) -> Job:
    """The job deleting ``name`` (unsaved: the caller writes it in its transaction)."""
    return Job(
        kind=JobKind.FILE_DELETION,
        due_at=queue.now(),
        case_id=case_id,
        max_attempts=ATTEMPTS,
        payload={"name": name},
    )


def names_still_to_delete(case_id: int) -> list[str]:
    """The files of ``case_id`` whose deletion job has not passed yet."""
    jobs = Job.objects.filter(
        case_id=case_id, kind=JobKind.FILE_DELETION, status__in=(JobStatus.PENDING, JobStatus.RUNNING, JobStatus.FAILED)
    )
    return [name for name in jobs.values_list("payload__name", flat=True) if isinstance(name, str) and name]


def delete_file(job: Job) -> None:
    """The handler: delete the file (a file already gone passes: the storage ignores it).
    A failure raises, and the job backs off and tries again."""
    from workflows.attachment_storage import storage

    name = (job.payload or {}).get("name")
    if isinstance(name, str) and name:
        storage().delete(name)


handlers.register(JobKind.FILE_DELETION, delete_file)
# Past the attempts other jobs get, a failing deletion is an incident the process admins see
# (its text the error's code and class, never the file's name) while the job goes on trying.
queue.KEEP_TRYING.add(JobKind.FILE_DELETION)
