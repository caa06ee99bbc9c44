"""Notes and attachments on a case: short dated texts and files by any participant.

Each is a value of one data category written by one agency (``permissions.rules.decide_note``):
masked and logged like case data (``permissions.notes_policy``). A correction keeps the
old text in ``NoteRevision``; a withdrawn note keeps its text there too, shown to nobody
but those who could read it. A withdrawn attachment loses its bytes (a wrong file, often
another person's, must really go) and keeps its row, so the timeline still says it existed.

The bytes of an attachment live in the ``attachments`` storage (``settings.STORAGES``):
the database by default (``AttachmentBlob``, see ``workflows.attachment_storage``), or a
folder outside the web root when ``ATTACHMENT_DIR`` is set. They are never served by a
URL of the storage, only through the views that check the rules on every download.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext

from permissions.models import CATEGORY_LABELS


class Note(models.Model):
    case = models.ForeignKey("workflows.Case", on_delete=models.CASCADE, related_name="notes")
    agency = models.ForeignKey(
        "permissions.Agency",
        on_delete=models.PROTECT,
        related_name="+",
        help_text="the writing agency: its own data, whatever the category",
    )
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    category = models.CharField(max_length=20)
    text = models.TextField()
    created_at = models.DateTimeField(db_index=True)
    corrected_at = models.DateTimeField(null=True, blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    # A safety note (a warning for staff) confirmed again by its agency or the coordinator:
    # its time in force runs from the latest of this, its correction and its writing
    # (``warning_since``; ``permissions.notes_policy``).
    confirmed_at = models.DateTimeField(null=True, blank=True)
    # The time in force (``warning_since``) of a safety note whose keepers were told it lapses
    # soon (``workflows.jobs.safety_reminders``): once per time in force.
    safety_reminded_for = models.DateTimeField(null=True, blank=True)
    # Incremented by each correction, confirmation or withdrawal: a correction names the version it
    # corrects, so of two people correcting at once exactly one wins (409 for the other).
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["case", "created_at"], name="note_case_time")]

    def __str__(self):
        return gettext("note {id} ({category}) in case {case}").format(
            id=self.pk, category=CATEGORY_LABELS.get(self.category, self.category), case=self.case_id
        )

    @property
    def is_withdrawn(self) -> bool:
        return self.withdrawn_at is not None

    @property
    def warning_since(self):
        """When its text (a safety warning's) was last written or confirmed: its time in force
        runs from then."""
        return max(moment for moment in (self.created_at, self.corrected_at, self.confirmed_at) if moment)

    @property
    def is_erased(self) -> bool:
        """Its text was deleted with the case's data (``retention.erasure``): a note is never
        written empty, and a withdrawn one keeps its text in its history until then."""
        return not self.is_withdrawn and not self.text


class NoteRevision(models.Model):
    """A text a note had before a correction or its withdrawal (append-only history)."""

    class Change(models.TextChoices):
        CORRECTED = "corrected"
        WITHDRAWN = "withdrawn"

    note = models.ForeignKey(Note, on_delete=models.CASCADE, related_name="revisions")
    version = models.PositiveIntegerField(help_text="the note's version this text was")
    category = models.CharField(max_length=20)
    text = models.TextField()
    written_at = models.DateTimeField(help_text="when this text was written")
    replaced_at = models.DateTimeField()
    replaced_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    change = models.CharField(max_length=20, choices=Change.choices)

    class Meta:
        ordering = ["note", "-version"]
        constraints = [models.UniqueConstraint(fields=["note", "version"], name="unique_note_revision")]

    def __str__(self):
        return gettext("note {id}, version {version}").format(id=self.note_id, version=self.version)


class Attachment(models.Model):
    case = models.ForeignKey("workflows.Case", on_delete=models.CASCADE, related_name="attachments")
    agency = models.ForeignKey("permissions.Agency", on_delete=models.PROTECT, related_name="+")
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    category = models.CharField(max_length=20)
    filename = models.CharField(max_length=160, help_text="a display name made safe; never a path")
    content_type = models.CharField(max_length=100, help_text="sniffed from the bytes, never the client's")
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    # A name the server makes up (case id and a random token): the client's file name never
    # reaches the storage. Empty once the attachment is withdrawn and its bytes deleted.
    # The storage is looked up when used (``workflows.attachment_storage.storage()``), not
    # bound to a field at import, so the setting decides and tests can switch it.
    stored_as = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(db_index=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # A safety attachment (a warning: a photo of a threat, a police report) confirmed again by
    # its agency or the coordinator, as a safety note is: its time in force runs from the later
    # of this and its adding (``warning_since``; ``permissions.notes_policy``). Until h-safety5
    # its agency had to add the file anew.
    confirmed_at = models.DateTimeField(null=True, blank=True)
    # The time in force (``warning_since``) of a safety attachment whose keepers were told it
    # lapses soon (``workflows.jobs.safety_reminders``): once per time in force.
    safety_reminded_for = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["case", "created_at"], name="attachment_case_time")]

    def __str__(self):
        return gettext("attachment {id} ({category}) in case {case}").format(
            id=self.pk, category=CATEGORY_LABELS.get(self.category, self.category), case=self.case_id
        )

    @property
    def is_withdrawn(self) -> bool:
        return self.withdrawn_at is not None

    @property
    def warning_since(self):
        """When it (a safety warning) was added or last confirmed: its time in force runs from then."""
        return max(moment for moment in (self.created_at, self.confirmed_at) if moment)

    @property
    def is_erased(self) -> bool:
        """Its file was deleted with the case's data (``retention.erasure``): a row, no bytes."""
        return not self.is_withdrawn and not self.stored_as


class AttachmentBlob(models.Model):
    """The bytes of an attachment when the ``attachments`` storage is the database."""

    name = models.CharField(max_length=200, unique=True)
    content = models.BinaryField()
    size = models.PositiveBigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return self.name
