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
tries again (so a server that took a mail but never answered may have it twice)."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail
from django.utils import translation
from django.utils.formats import date_format

from bpmn import form_labels
from permissions import policy, rules
from permissions.models import CaseParticipant, Role
from workflows import selectors
from workflows.jobs import handlers, queue
from workflows.models import Case, CaseStatus, Job, JobKind, JobStatus

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
    jobs = []
    for chunk in _chunks(warned.iterator(chunk_size=SWEEP_CHUNK)):
        selectors.remember_runtimes(chunk)  # each case's process version: one query a chunk
        jobs += [
            Job(
                kind=JobKind.SAFETY_REMINDER,
                due_at=moment,
                case_id=case.pk,
                max_attempts=queue.conf("JOB_MAX_ATTEMPTS"),
                payload={"case_id": case.pk},
            )
            for case in chunk
            if policy.warnings_to_remind(case, selectors.case_field_rules(case), days, moment)
        ]
    created = Job.objects.bulk_create(jobs, ignore_conflicts=True)
    if created:
        queue.wake_workers()
    return len(created)


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
    """Tell the keepers of each warning of the job's case due for a reminder, and mark it."""
    assert job.case_id is not None, "a safety reminder names its case"
    case = Case.objects.select_for_update().filter(pk=job.case_id, status=CaseStatus.OPEN).first()
    if case is None:
        return  # closed (or erased) meanwhile: its warnings are confirmed no more
    due = policy.warnings_to_remind(case, selectors.case_field_rules(case), reminder_days(), queue.now())
    if not due:
        return  # confirmed, removed or told of meanwhile
    for address, names in sorted(_addresses(case, due).items()):
        _send(case, address, {name: due[name][1] for name in names})
    reminded = {**(case.safety_reminded or {}), **{name: period for name, (period, _lapses) in due.items()}}
    Case.objects.filter(pk=case.pk).update(safety_reminded=reminded)


def _addresses(case, due) -> dict[str, list[str]]:
    """Notification address -> the warnings of ``due`` its agency keeps once they lapse (the
    agency that recorded each, a coordinator of the coordinating agency:
    ``rules.decide_lapsed_warning``), of the agencies taking part in ``case``. No one else:
    not the other participants, whom a lapsed warning no longer concerns."""
    sources = case.data_sources or {}
    told: dict[str, list[str]] = {}
    for participant in CaseParticipant.objects.select_related("agency").filter(case_id=case.pk):
        agency = participant.agency
        address = (agency.notification_email or "").strip()
        if not address:
            continue
        role = Role.COORDINATOR if agency.pk == case.coordinator_agency_id else Role.MEMBER
        standing = rules.CaseAccess(case=case, acting=((agency, role),), has_memberships=True)
        for name in due:
            if rules.decide_lapsed_warning(standing, case, sources.get(name)) and name not in told.get(address, []):
                told.setdefault(address, []).append(name)
    return told


def _send(case, address: str, lapsing: dict) -> None:
    """One mail: the case's reference, each warning's label and the date it lapses on."""
    runtime = selectors.case_runtime(case)
    titles = form_labels.field_titles(runtime.forms if runtime else {})
    with translation.override("nb"):
        lines = [
            f"- {titles.get(name) or form_labels.option_label(name)}: utløper {date_format(day, 'j. F Y')}"
            for name, day in sorted(lapsing.items())
        ]
    subject = SUBJECT.format(reference=case.reference)
    link = f"{settings.BROBYGGER['SITE_URL'].rstrip('/')}/cases/{case.pk}/#category-safety"
    body = (
        f"{subject}.\n\n"
        + "\n".join(lines)
        + "\n\nBekreft advarselen på nytt i Brobygger hvis den fortsatt gjelder, eller fjern den. "
        "Ellers ser de andre i saken bare at en advarsel er utløpt.\n\n"
        f"Åpne saken i Brobygger: {link}\n"
    )
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [address])


handlers.register(JobKind.SAFETY_REMINDER, remind)
