"""The reminder that a safety warning lapses soon, through the job table.

A safety warning is shown to the case's participants for a limited time after it was
recorded or last confirmed (``permissions.policy.warning_dates``). ``SAFETY_REMINDER_DAYS``
before it lapses, the agency that recorded it and the case's coordinator are told, so that
they confirm it again or let it go: those who keep it once it has lapsed
(``rules.decide_lapsed_warning``), by their agency's notification e-mail, as a new task is
told (``workflows.jobs.notify``). The mail names the case's reference, the field's label and
the date it lapses on, and links to the case: never the warning's words.

``enqueue_safety_reminders`` (``manage.py enqueue_safety_reminders``, daily from cron or a
systemd timer, on any node, as ``enqueue_erasures``) queues one ``safety_reminder`` job per
open case with a warning due for one; a partial unique index keeps one pending job per case,
so two sweeps at once queue each case once. The workers run the jobs
(``workflows.jobs.handlers``: claimed with ``SKIP LOCKED``); the job decides again under the
case row's lock and marks each warning it told of with its time in force
(``Case.safety_reminded``) in the same transaction: one reminder per warning and time in
force however many sweeps and workers run. A confirmation starts a new time in force, and so
a reminder before its own end. A mail that fails rolls the mark back: the job backs off and
tries again (so a server that took a mail but never answered may have it twice).

A safety note is a warning too (``permissions.notes_policy``: it lapses as a field does, from
when it was written, corrected or confirmed): its agency and the coordinator are told of it in
the same job and mail (the agency, the day it was written and the date it lapses on, never its
words), marked on the note (``Note.safety_reminded_for``) under the same case lock. Until
h-safety3 only the fields were, and a note lapsed unnoticed. A safety attachment likewise
(h-safety5, when it became confirmable): its agency, the day it was added and the date it
lapses on, never its file name; marked on it (``Attachment.safety_reminded_for``)."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.core.mail import EmailMessage
from django.core.mail.utils import DNS_NAME
from django.db import transaction
from django.utils import translation
from django.utils.formats import date_format

from bpmn import form_labels
from permissions import notes_policy, policy, rules
from permissions.models import CaseParticipant, Role
from workflows import selectors
from workflows.jobs import handlers, queue
from workflows.jobs.errors import JobError, mail_failure
from workflows.models import Case, CaseStatus, Job, JobKind, JobStatus
from workflows.notes import Attachment, Note

SWEEP_CHUNK = 500
SUBJECT = "Sikkerhetsadvarsel utløper snart i sak {reference}"


def reminder_days() -> int:
    return settings.BROBYGGER["SAFETY_REMINDER_DAYS"]


def enqueue_safety_reminders(moment=None) -> int:
    """Queue a reminder job for each open case with a safety warning due for one
    (``policy.warnings_to_remind``) that has none pending. Returns how many."""
    moment = moment or queue.now()
    days = reminder_days()
    if days < 1:
        return 0
    pending = set(
        Job.objects.filter(kind=JobKind.SAFETY_REMINDER, status=JobStatus.PENDING).values_list("case_id", flat=True)
    )
    warned = (
        Case.objects.filter(status=CaseStatus.OPEN)
        .exclude(data_recorded_at={})
        .exclude(pk__in=pending)
        .only("pk", "data", "data_recorded_at", "safety_reminded", "opened_at")
        .order_by("pk")
    )
    due: set[int] = set()
    for chunk in _chunks(warned.iterator(chunk_size=SWEEP_CHUNK)):
        selectors.remember_runtimes(chunk)  # each case's process version: one query a chunk
        due.update(
            case.pk for case in chunk if policy.warnings_to_remind(case, selectors.case_field_rules(case), days, moment)
        )
    notes = _warning_notes().filter(case__status=CaseStatus.OPEN).exclude(case_id__in=pending | due).only(*NOTE_FIELDS)
    due.update(
        note.case_id
        for note in notes.iterator(chunk_size=SWEEP_CHUNK)
        if notes_policy.note_reminder_due(note, days, moment)
    )
    files = _warning_files().filter(case__status=CaseStatus.OPEN).exclude(case_id__in=pending | due).only(*FILE_FIELDS)
    due.update(
        file.case_id
        for file in files.iterator(chunk_size=SWEEP_CHUNK)
        if notes_policy.note_reminder_due(file, days, moment)
    )
    jobs = [
        Job(
            kind=JobKind.SAFETY_REMINDER,
            due_at=moment,
            case_id=pk,
            max_attempts=queue.conf("JOB_MAX_ATTEMPTS"),
            payload={"case_id": pk},
        )
        for pk in sorted(due)
    ]
    created = Job.objects.bulk_create(jobs, ignore_conflicts=True)
    if created:
        queue.wake_workers()
    return len(created)


# What deciding a note's reminder reads (``notes_policy.note_reminder_due``).
NOTE_FIELDS = (
    "pk",
    "case_id",
    "agency_id",
    "category",
    "text",
    "created_at",
    "corrected_at",
    "confirmed_at",
    "withdrawn_at",
    "safety_reminded_for",
)


def _warning_notes():
    """The safety notes in force or not (not withdrawn, not erased): the warnings a reminder
    may be due for."""
    return Note.objects.filter(category=policy.SAFETY, withdrawn_at__isnull=True).exclude(text="")


# What deciding an attachment's reminder reads (``notes_policy.note_reminder_due``).
FILE_FIELDS = (
    "pk",
    "case_id",
    "agency_id",
    "category",
    "stored_as",
    "created_at",
    "confirmed_at",
    "withdrawn_at",
    "safety_reminded_for",
)


def _warning_files():
    """The safety attachments in force or not (not withdrawn, not erased), as ``_warning_notes``."""
    return Attachment.objects.filter(category=policy.SAFETY, withdrawn_at__isnull=True).exclude(stored_as="")


def _chunks(cases):
    chunk = []
    for case in cases:
        chunk.append(case)
        if len(chunk) == SWEEP_CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def remind(job: Job) -> None:
    """Decide, under the case row's lock, which warnings of the job's case are due for a
    reminder and whom to tell, mark each told of, and queue one ``safety_reminder_mail`` job per
    address (``send_reminder_mail``) in the same transaction: the mails leave after it commits,
    each by its own job, holding no lock of the case. Until h-safety4 the mails were sent here,
    with the case row held (every writer of the case waited on the mail server), and a mail
    that failed after another had gone rolled both back: the retry sent the first again."""
    assert job.case_id is not None, "a safety reminder names its case"
    case = Case.objects.select_for_update().filter(pk=job.case_id, status=CaseStatus.OPEN).first()
    if case is None:
        return  # closed (or erased) meanwhile: its warnings are confirmed no more
    now = queue.now()
    due = policy.warnings_to_remind(case, selectors.case_field_rules(case), reminder_days(), now)
    # Read under the case's lock, which a confirmation, correction or withdrawal of a note holds
    # too (``services.notes.lock_item``): of two jobs, the second finds each note marked.
    notes = [
        (note, lapses)
        for note in _warning_notes().filter(case_id=case.pk).order_by("created_at", "pk")
        if (lapses := notes_policy.note_reminder_due(note, reminder_days(), now))
    ]
    files = [
        (file, lapses)
        for file in _warning_files().filter(case_id=case.pk).order_by("created_at", "pk")
        if (lapses := notes_policy.note_reminder_due(file, reminder_days(), now))
    ]
    if not due and not notes and not files:
        return  # confirmed, removed or told of meanwhile
    told = _told_by_address(case, list(due), [note for note, _lapses in notes], files=[file for file, _ in files])
    mails = [
        Job(
            kind=JobKind.SAFETY_REMINDER_MAIL,
            due_at=now,
            case_id=case.pk,
            max_attempts=queue.conf("JOB_MAX_ATTEMPTS"),
            # Ids, names and dates: never a warning's words, nor the address (read when sent).
            # ``agencies``: those at the address that keep something the mail names (decided
            # again when it is sent), never another agency that shares the address.
            payload={
                "case_id": case.pk,
                "agencies": sorted(agencies),
                "fields": {name: due[name][1].isoformat() for name in due if name in fields},
                "notes": [[note.pk, lapses.isoformat()] for note, lapses in notes if note.pk in kept],
                "attachments": [[file.pk, lapses.isoformat()] for file, lapses in files if file.pk in kept_files],
            },
        )
        for _address, (agencies, fields, kept, kept_files) in sorted(told.items())
    ]
    Job.objects.bulk_create(mails)
    if due:
        reminded = {**(case.safety_reminded or {}), **{name: period for name, (period, _lapses) in due.items()}}
        Case.objects.filter(pk=case.pk).update(safety_reminded=reminded)
    for note, _lapses in notes:
        Note.objects.filter(pk=note.pk).update(safety_reminded_for=note.warning_since)
    for file, _lapses in files:
        Attachment.objects.filter(pk=file.pk).update(safety_reminded_for=file.warning_since)
    if mails:
        transaction.on_commit(queue.wake_workers)


class ReminderMailFailed(Exception):
    """A reminder's mail the server did not take: ``job_error`` names no address."""

    def __init__(self, error: JobError):
        self.job_error = error
        super().__init__(error)


def send_reminder_mail(job: Job) -> None:
    """Send the one mail of a ``safety_reminder_mail`` job (queued by ``remind``), outside any
    lock of its case: only the job row is held. A retry sends this mail only, never another
    recipient's (each its own job); the job's ``delivery_key`` is the mail's ``Message-ID``, the
    same on every attempt, so a receiver that took a mail whose answer was lost sees the second
    as the same message. Nothing is sent for a case closed meanwhile, to an agency withdrawn from
    it (or with no address now), nor of a warning removed or withdrawn since."""
    payload = job.payload or {}
    case = Case.objects.filter(pk=job.case_id or 0, status=CaseStatus.OPEN).first()
    if case is None:
        return
    data = case.data or {}
    lapsing = {
        name: datetime.date.fromisoformat(day)
        for name, day in (payload.get("fields") or {}).items()
        if policy.holds_warning(data.get(name))
    }
    days = {note_id: datetime.date.fromisoformat(day) for note_id, day in payload.get("notes") or []}
    notes = [
        (note, days[note.pk])
        for note in _warning_notes()
        .filter(case_id=case.pk, pk__in=list(days))
        .select_related("agency")
        .order_by("created_at", "pk")
    ]
    file_days = {file_id: datetime.date.fromisoformat(day) for file_id, day in payload.get("attachments") or []}
    files = (
        [
            (file, file_days[file.pk])
            for file in _warning_files()
            .filter(case_id=case.pk, pk__in=list(file_days))
            .select_related("agency")
            .order_by("created_at", "pk")
        ]
        if file_days
        else []
    )
    if not lapsing and not notes and not files:
        return
    # Who is told is decided again, of the agencies the job names: those still taking part and
    # keeping what it names, at their address now. Until h-attack37 every agency that shared
    # the address when the job was queued was named, and only its taking part was checked: an
    # agency that kept nothing of it (a participant sharing the recorder's address) got the
    # mail at its new address, or at the shared one after the recorder was withdrawn.
    told = _told_by_address(
        case,
        list(lapsing),
        [note for note, _day in notes],
        agency_ids=payload.get("agencies") or [],
        files=[file for file, _day in files],
    )
    for number, (address, (_agencies, fields, kept, kept_files)) in enumerate(sorted(told.items())):
        message = _message(
            case,
            [address],
            {name: day for name, day in lapsing.items() if name in fields},
            [(note, day) for note, day in notes if note.pk in kept],
            [(file, day) for file, day in files if file.pk in kept_files],
        )
        # The same on every attempt (the job's key), one per address when agencies the job
        # names have moved apart since (rare: their retry sends each again, with its own).
        key = job.delivery_key if number == 0 else f"{job.delivery_key}.{number}"
        message.extra_headers["Message-ID"] = f"<{key}@{DNS_NAME}>"
        try:
            message.send()
        except Exception as exc:  # the server's words name the addresses: its reply codes only
            raise ReminderMailFailed(mail_failure(exc, (address, settings.DEFAULT_FROM_EMAIL))) from None


def _told_by_address(
    case, fields: list[str], notes, agency_ids=None, files=()
) -> dict[str, tuple[set[int], set[str], set[int], set[int]]]:
    """Notification address -> (the agencies at it that keep something, the warnings of
    ``fields``, the ids of ``notes`` and those of the safety attachments ``files`` they keep once
    these lapse), of the agencies taking part in ``case`` (``agency_ids``: of these only). An
    agency keeps a field it recorded and a note or file its own (``rules.decide_lapsed_warning``),
    a coordinator of the coordinating agency every one; no one else, whom a lapsed warning no
    longer concerns. A warning a step on a
    branch hidden from the agency wrote is not shown to it (nor may it confirm it): named in a
    mail, it would tell that the branch ran, and so the value that chose it (until review2 the
    coordinator was told of it)."""
    sources = case.data_sources or {}
    told: dict[str, tuple[set[int], set[str], set[int], set[int]]] = {}
    for agency_id, address, standing in _participant_standings(case, agency_ids):
        kept = [name for name in fields if rules.decide_lapsed_warning(standing, case, sources.get(name))]
        hidden = selectors.branch_fields_hidden_from_agency(case, standing) if kept else frozenset()
        kept_fields = {name for name in kept if name not in hidden}
        kept_notes = {note.pk for note in notes if rules.decide_lapsed_warning(standing, case, note.agency_id)}
        kept_files = {file.pk for file in files if rules.decide_lapsed_warning(standing, case, file.agency_id)}
        if not kept_fields and not kept_notes and not kept_files:
            continue
        agencies, named, noted, filed = told.setdefault(address, (set(), set(), set(), set()))
        agencies.add(agency_id)
        named |= kept_fields
        noted |= kept_notes
        filed |= kept_files
    return told


def _participant_standings(case, agency_ids=None):
    """(agency id, notification address, the agency's standing in ``case``) of each agency
    taking part that has an address (``agency_ids``: of these only): whom a reminder may go
    to, decided as for a member of it (its coordinator, for the coordinating agency)."""
    participants = CaseParticipant.objects.select_related("agency").filter(case_id=case.pk)
    if agency_ids is not None:
        participants = participants.filter(agency_id__in=agency_ids)
    seen: set[int] = set()
    for participant in participants.order_by("agency_id"):
        agency = participant.agency
        address = (agency.notification_email or "").strip()
        if address and agency.pk not in seen:
            seen.add(agency.pk)
            role = Role.COORDINATOR if agency.pk == case.coordinator_agency_id else Role.MEMBER
            yield agency.pk, address, rules.CaseAccess(case=case, acting=((agency, role),), has_memberships=True)


def _message(case, addresses: list[str], lapsing: dict, notes=(), files=()) -> EmailMessage:
    """One mail: the case's reference, each warning's label (a note's agency and the day it was
    written, an attachment's agency and the day it was added) and the date it lapses on; never a
    warning's words, nor a file's name."""
    runtime = selectors.case_runtime(case) if lapsing else None
    titles = form_labels.field_titles(runtime.forms if runtime else {})
    with translation.override("nb"):
        lines = (
            [
                f"- {titles.get(name) or form_labels.option_label(name)}: utløper {date_format(day, 'j. F Y')}"
                for name, day in sorted(lapsing.items())
            ]
            + [
                f"- Notat fra {note.agency.name} skrevet {_day_of(note.created_at)}: "
                f"utløper {date_format(day, 'j. F Y')}"
                for note, day in notes
            ]
            + [
                f"- Vedlegg fra {file.agency.name} lagt til {_day_of(file.created_at)}: "
                f"utløper {date_format(day, 'j. F Y')}"
                for file, day in files
            ]
        )
    subject = SUBJECT.format(reference=case.reference)
    anchor = "#category-safety" if lapsing else "#notes"
    link = f"{settings.BROBYGGER['SITE_URL'].rstrip('/')}/cases/{case.pk}/{anchor}"
    body = (
        f"{subject}.\n\n"
        + "\n".join(lines)
        + "\n\nBekreft advarselen på nytt i Brobygger hvis den fortsatt gjelder, eller fjern den. "
        "Ellers ser de andre i saken bare at en advarsel er utløpt.\n\n"
        f"Åpne saken i Brobygger: {link}\n"
    )
    return EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, addresses, headers={})


def _day_of(moment) -> str:
    """The Oslo date of ``moment`` in bokmål words (the mail's)."""
    return date_format(policy.local_date(moment), "j. F Y")


handlers.register(JobKind.SAFETY_REMINDER, remind)
handlers.register(JobKind.SAFETY_REMINDER_MAIL, send_reminder_mail)
