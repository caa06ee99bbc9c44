"""A Django storage that keeps attachments in the database (the default ``attachments`` storage).

Why the database by default: the web nodes are stateless behind a load balancer with one
PostgreSQL (design §9), so a folder would need a shared volume; the bytes are written in
the same transaction as the attachment's row, its timeline event and its access-log row
(no orphan files, no row without its file after a crash); they are in the database's
backups and its encryption at rest; and no path on any disk is ever built from a request.
Attachments are small (``ATTACHMENT_MAX_BYTES``, 10 MiB by default), so ``bytea`` serves
them well. ``ATTACHMENT_DIR`` switches to a folder (``FileSystemStorage``) instead.

The storage has no URL: files are served only by the views that check the rules.
"""

from __future__ import annotations

import logging

from django.core.files.base import ContentFile
from django.core.files.storage import Storage, storages
from django.db import transaction
from django.utils.deconstruct import deconstructible

from workflows.notes import AttachmentBlob

log = logging.getLogger("brobygger.attachments")


def storage() -> Storage:
    """The ``attachments`` storage of ``settings.STORAGES``."""
    return storages["attachments"]


def discard(name: str, *, at_once: bool = False, case_id: int | None = None) -> None:
    """Delete stored bytes as part of the current transaction: in it for the database
    storage, after the commit for a folder (a rollback then keeps the file it still needs),
    with a ``file_deletion`` job (of ``case_id``) written in the transaction that tries
    again until the delete passes (``workflows.jobs.files``): a delete after the commit that
    failed left the file on disk for good.

    ``at_once`` (the erasure): a folder's file is deleted now, inside the transaction, and a
    failure to delete it fails the transaction. After the commit, a failed delete (or a
    worker killed between the commit and the delete) left the file on disk for good, its row
    already emptied and the erasure recorded done, so nothing ever tried again. A rollback
    after the delete leaves a row without its file: the download answers 404, and the retry
    of the erasure finds nothing to delete."""
    files = storage()
    if isinstance(files, DatabaseStorage) or at_once:
        files.delete(name)
        return
    from workflows.jobs.files import file_deletion

    file_deletion(case_id, name).save()
    transaction.on_commit(lambda: _delete_now(files, name))


def _delete_now(files: Storage, name: str) -> None:
    """The first try, right after the commit; a failure is left to the job."""
    try:
        files.delete(name)
    except OSError:
        log.warning("a withdrawn attachment's file was not deleted: its job tries again", exc_info=True)


@deconstructible(path="workflows.attachment_storage.DatabaseStorage")
class DatabaseStorage(Storage):
    def _blobs(self):
        return AttachmentBlob.objects

    def _save(self, name, content):
        data = b"".join(content.chunks()) if hasattr(content, "chunks") else content.read()
        self._blobs().create(name=name, content=data, size=len(data))
        return name

    def _open(self, name, mode="rb"):
        if "w" in mode or "a" in mode:
            raise ValueError("attachments are written once, through save()")
        blob = self._blobs().filter(name=name).only("content").first()
        if blob is None:
            raise FileNotFoundError(name)
        return ContentFile(bytes(blob.content), name=name)

    def delete(self, name):
        self._blobs().filter(name=name).delete()

    def exists(self, name):
        return self._blobs().filter(name=name).exists()

    def size(self, name):
        blob = self._blobs().filter(name=name).only("size").first()
        if blob is None:
            raise FileNotFoundError(name)
        return blob.size

    def get_available_name(self, name, max_length=None):
        # Names are made up by the server from a random token: a clash is a bug, not a
        # reason to invent another name (the insert's unique constraint refuses it).
        return name

    def url(self, name):
        raise NotImplementedError("attachments have no URL: they are served through the case's views")
