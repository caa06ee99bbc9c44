"""Read queries that already know who is asking (style.md 3).

Every list here is narrowed through ``permissions.rules`` (``visible_cases``,
``case_agency_ids`` ...) in the database, never by loading rows and filtering them in
Python. Lookups of one object raise ``NotFound`` when the object is invisible to the
user, so callers never leak whether it exists.
"""

from __future__ import annotations

import datetime
import json
import re
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import (
    BooleanField,
    CharField,
    Count,
    DateTimeField,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    Max,
    Min,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    TextField,
    Value,
    When,
)
from django.db.models import Case as CaseWhen
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast, Coalesce, Least, Left, Length, TruncDate
from django.utils import timezone

from bpmn.engine import runtime as engine
from bpmn.engine import scrub
from bpmn.models import ProcessDefinition
from bpmn.registry import DefinitionRuntime, runtime_for
from core.errors import Forbidden, NotFound
from core.ids import lookup_id
from core.messages import Message
from core.national_id import shown_masked
from permissions import notes_policy, policy, rules
from permissions.models import (
    CASE_ROLES,
    RESTRICTED,
    AccessAction,
    AccessLog,
    Agency,
    BreakGlass,
    CaseParticipant,
    Consent,
    LegalBasis,
)
from permissions.prepared import Prepared, PreparedList, PreparedShapes, folds_rows, insert_rows
from workflows import case_outcomes
from workflows.jobs.errors import JobError, message_of
from workflows.models import (
    ACTIVE_TASK_STATUSES,
    Case,
    CaseStatus,
    Event,
    EventKind,
    Incident,
    Person,
    ProcessInstance,
    Task,
)
from workflows.notes import Attachment, Note

# --- directory -------------------------------------------------------------------------


def agencies_for(user):
    """The agency directory, for people who work in an agency (others see nothing)."""
    if not rules.can_use_directory(user):
        return Agency.objects.none()
    return Agency.objects.order_by("name", "id")


def legal_bases_for(user):
    """The active legal bases a sharing can rest on (same audience as the directory)."""
    if not rules.can_use_directory(user):
        return LegalBasis.objects.none()
    return LegalBasis.objects.filter(active=True).order_by("position", "law", "paragraph", "id")


def legal_bases_to_manage(actor):
    """Every legal basis, retired ones too, each with ``in_use`` (a consent rests on it): the
    process admin's list (``rules.can_manage_legal_bases``; others: 403)."""
    if not rules.can_manage_legal_bases(actor):
        raise Forbidden("legal_basis.manage_forbidden")
    in_use = Consent.objects.filter(legal_basis_id=OuterRef("pk"))
    return LegalBasis.objects.annotate(in_use=Exists(in_use)).order_by("-active", "position", "law", "paragraph", "pk")


def process_definitions_for(user):
    """The latest version of every deployed process (same audience as the directory)."""
    if not rules.can_use_directory(user):
        return ProcessDefinition.objects.none()
    newer = ProcessDefinition.objects.filter(key=OuterRef("key"), version__gt=OuterRef("version"))
    return ProcessDefinition.objects.defer("spec_json").filter(~Exists(newer)).order_by("key", "id")


def process_definition_for(user, key: str, version: int | None = None) -> ProcessDefinition:
    """One version of ``key`` (the latest when ``version`` is None); NotFound otherwise."""
    queryset = ProcessDefinition.objects.defer("spec_json").filter(key=key)
    if version is not None:
        queryset = queryset.filter(version=version)
    definition = queryset.order_by("-version").first() if rules.can_use_directory(user) else None
    if definition is None:
        raise NotFound("process.not_found")
    return definition


# --- cases -----------------------------------------------------------------------------


# The case lists' order: newest first, by id (the order the cases were registered in; the
# walk of ``rules.listed_cases`` reads the reader's participations in it).
CASE_LIST_ORDER = ("-id",)


def cases_for(user, *, walk: bool = True):
    """The cases ``user`` may see, newest first (``CASE_LIST_ORDER``), with ``open_task_count``
    and ``next_timer_at``: what the API's case list shows. The person comes along: their name
    is identity, open to every participant (``rules.OPEN_CATEGORIES``). Narrow it with
    ``workflows.filters.CaseFilter``; ``walk`` False for a search (``rules.listed_cases``)."""
    queryset = rules.listed_cases(
        user, Case.objects.select_related("coordinator_agency", "person", "responsible"), walk=walk
    )
    # Per-row subqueries, not a GROUP BY over the joins: PostgreSQL computes them for the
    # rows of the page only, after reading the cases in the order of an index.
    # Timers only of instances whose timers' paths tell the reader nothing they do not see
    # by standing (``rules.listed_timer_rows``): which timer waits tells the branch taken.
    timers = rules.listed_timer_rows(
        user, ProcessInstance.objects.filter(case_id=OuterRef("pk"), next_timer_at__isnull=False)
    )
    queryset = queryset.annotate(
        open_task_count=Coalesce(
            Subquery(_open_listed_tasks(user).order_by().values("case_id").annotate(n=Count("pk")).values("n")),
            0,
            output_field=IntegerField(),
        ),
        next_timer_at=Subquery(timers.order_by("next_timer_at").values("next_timer_at")[:1]),  # the next timer
    )
    return queryset.order_by(*CASE_LIST_ORDER)


def _open_listed_tasks(user):
    """The open tasks of the case row (``OuterRef``) that a list across cases shows the user
    (``rules.listed_task_rows``): a count or a due date must not tell a branch the task
    itself would not."""
    return rules.listed_task_rows(
        user,
        Task.objects.filter(case_id=OuterRef("pk"), status__in=ACTIVE_TASK_STATUSES),
        of_case_row=True,
    )


def _next_task_due(user) -> Subquery:
    return Subquery(_open_listed_tasks(user).filter(due_at__isnull=False).order_by("due_at").values("due_at")[:1])


def case_list_for(user, *, walk: bool = True):
    """``cases_for`` as the case list page shows it: also ``next_task_due``, the earliest
    due date of an open task the user is shown (``next_deadline`` gives the column)."""
    return cases_for(user, walk=walk).annotate(next_task_due=_next_task_due(user))


def next_deadline(case) -> datetime.datetime | None:
    """The earlier of a listed case's next timer and its earliest open task's due date.
    Computed here, not in SQL: an annotation naming another one repeats its subquery."""
    moments = [moment for moment in (case.next_timer_at, case.next_task_due) if moment is not None]
    return min(moments, default=None)


def today_for(user):
    """The housing contact's open cases for "today": those they are responsible for, and
    those of their housing agency that nobody is responsible for yet; each with its open
    tasks (``open_task_list``, soonest due first), ``process_name`` and ``next_deadline``
    (as ``next_deadline``). Overdue cases first, then by deadline. Empty for anyone who is
    not a housing contact."""
    housing = rules.housing_agency_ids(user)
    if not housing:
        return Case.objects.none()
    mine = Q(responsible=user) | Q(responsible__isnull=True, coordinator_agency_id__in=housing)
    open_tasks = rules.listed_task_rows(
        user, Task.objects.filter(status__in=ACTIVE_TASK_STATUSES).select_related("agency", "assignee")
    )
    overdue = rules.has_listed_task(
        user, Task.objects.filter(case_id=OuterRef("pk"), status__in=ACTIVE_TASK_STATUSES, due_at__lt=timezone.now())
    )
    return (
        case_list_for(user)
        .filter(mine, status=CaseStatus.OPEN)
        .annotate(
            process_name=Subquery(
                ProcessDefinition.objects.filter(key=OuterRef("process_key")).order_by("-version").values("name")[:1]
            ),
            # PostgreSQL's LEAST skips NULLs, SQLite's returns NULL: the COALESCE makes both agree.
            next_deadline=Coalesce(Least("next_timer_at", "next_task_due"), "next_timer_at", "next_task_due"),
            is_overdue=ExpressionWrapper(overdue, output_field=BooleanField()),
        )
        .prefetch_related(Prefetch("tasks", queryset=open_tasks.order_by("due_at", "id"), to_attr="open_task_list"))
        .order_by("-is_overdue", F("next_deadline").asc(nulls_last=True), "-opened_at", "-id")
    )


_PROCESS_NAME = Prepared(
    lambda key: ProcessDefinition.objects.filter(key=key).order_by("-version").values_list("name")[:1], kinds=(str,)
)


def process_choices() -> list[tuple[str, str]]:
    """(key, name) of every deployed process, by name (its latest version's name)."""
    latest: dict[str, str] = {}
    for key, name in ProcessDefinition.objects.order_by("key", "version").values_list("key", "name"):
        latest[key] = name or key
    return sorted(latest.items(), key=lambda pair: (pair[1].lower(), pair[0]))


def deployed_process_keys() -> list[str]:
    return list(ProcessDefinition.objects.values_list("key", flat=True).distinct())


def process_name(key: str) -> str:
    """The name of a process as its latest version gives it (the key when it has none)."""
    found = _PROCESS_NAME.rows(key)
    return (found[0][0] if found else "") or key


def audited_cases_for(user):
    """The cases whose access log an auditor reads, newest first: reference and person (the
    report names the person), nothing of the case data."""
    return rules.audited_cases(user, Case.objects.select_related("person")).order_by("-opened_at", "-id")


def followed_case_for(user, case: Case) -> Case | None:
    """The earlier case ``case`` follows (issue 15), when ``user`` sees it too. An agency new
    to the person's path (a follow-on may take in another office) is not told that an
    earlier case exists, nor its reference: that someone comes from prison or treatment
    is itself confidential."""
    if case.follows_id is None:
        return None
    earlier = case.follows
    return earlier if rules.can_view_case(user, earlier) else None


def case_is_erased(case: Case) -> bool:
    """Whether the case's personal data was erased (``retention``'s record of it, read through
    its relation: ``workflows`` does not import ``retention``). Only a closed case is, so an
    open one costs no query."""
    return case.status != CaseStatus.OPEN and Case.objects.filter(pk=case.pk, erasure__isnull=False).exists()


def case_for(user, case: Case | int | str) -> Case:
    """The case (given, or by id) if ``user`` may see it; NotFound otherwise (no existence leak).
    By id, the reader's standing is read first, by the id alone (``rules.read_standing_by_id``),
    and the case's row only when it lets them see it: a case they do not see and an id no case
    has run the same one statement (not the case's row, then the standing) and answer alike."""
    if isinstance(case, Case):
        found: Case | None = case
    else:
        key = lookup_id(case)
        standing = rules.read_standing_by_id(user, key)
        found = _case_by_id(key) if standing.sees else None
        if found is not None:
            rules.remember_standing_read(user, found, standing)
    if found is None or not rules.can_view_case(user, found):
        raise NotFound("case.not_found")
    return found


def _latest_definition(case_id) -> Subquery:
    """The definition of the case's latest instance (the version it runs)."""
    latest = ProcessInstance.objects.filter(case=case_id).order_by("-id").values("definition_id")[:1]
    return Subquery(latest, output_field=IntegerField())


# The statements every case page and case answer runs: compiled once (``permissions.prepared``).
_CASE_BY_ID = Prepared(
    lambda case_id: (
        Case.objects.select_related("person", "coordinator_agency", "responsible")
        # The version the case runs (``case_runtime``), in the same round trip.
        .annotate(latest_definition_id=_latest_definition(OuterRef("pk")))
        .filter(pk=case_id)[:1]
    ),
    kinds=(int,),
)
_NEXT_TIMERS = Prepared(
    lambda case_id: (
        ProcessInstance.objects.filter(case=case_id, next_timer_at__isnull=False)
        .order_by("next_timer_at")
        .values_list("next_timer_at", "timer_path_categories")
    ),
    kinds=(int,),
)
_CASE_TASKS = Prepared(
    lambda case_id: Task.objects.filter(case=case_id).select_related("agency", "assignee", "case").order_by("id"),
    kinds=(int,),
)
_CASE_PARTICIPANTS = Prepared(
    lambda case_id: CaseParticipant.objects.filter(case=case_id).select_related("agency").order_by("kind"),
    kinds=(int,),
)
_CASE_EVENTS = Prepared(
    lambda case_id: (
        Event.objects.filter(case=case_id)
        .select_related("actor", "agency", "from_agency", "to_agency", "task")
        .order_by("created_at", "id")
    ),
    kinds=(int,),
)
# The case page's chart draws only the handoffs: it reads them alone, not every event (a
# claim and its release are two events each; 20,000 of them made the page 1.4 s of CPU).
_CASE_HANDOFFS = Prepared(
    lambda case_id: (
        Event.objects.filter(case=case_id, kind=EventKind.HANDOFF)
        .select_related("actor", "agency", "from_agency", "to_agency", "task")
        .order_by("created_at", "id")
    ),
    kinds=(int,),
)
# The latest events (newest first), one more than the case page's list shows: a case can
# hold as many events as claims and releases were made, the list shows the latest.
CASE_EVENTS_SHOWN = 500
_LATEST_CASE_EVENTS = Prepared(
    lambda case_id: (
        Event.objects.filter(case=case_id)
        .select_related("actor", "agency", "from_agency", "to_agency", "task")
        .order_by("-created_at", "-id")[: CASE_EVENTS_SHOWN + 1]
    ),
    kinds=(int,),
)
_LATEST_DEFINITION = Prepared(
    lambda case_id: ProcessInstance.objects.filter(case=case_id).order_by("-id").values_list("definition_id")[:1],
    kinds=(int,),
)
_LATEST_STATE = Prepared(
    lambda case_id: (
        ProcessInstance.objects.filter(case=case_id).order_by("-id").values_list("definition_id", "state")[:1]
    ),
    kinds=(int,),
)


def case_of_standing(user, case_id) -> Case | None:
    """The case of ``case_id`` when a role of ``user`` stands in it (``StandingRead.stands``: a
    case role, or an auditor's), else None: for the answers that rest on that standing alone
    (the access log, erasure, export, corrections). The standing is read first, by the id
    alone, and the case's row only when it stands, so a case the reader has no part in and an
    id no case has run the same statements before their 404 (docs/security.md "404 alike";
    until h-attack21 the row was read first, and the standing only for a case that exists)."""
    key = lookup_id(case_id)
    standing = rules.read_standing_by_id(user, key)
    found = _case_by_id(key) if standing.stands else None
    if found is not None:
        rules.remember_standing_read(user, found, standing)
    return found


def _case_by_id(case_id) -> Case | None:
    found = _CASE_BY_ID.objects(lookup_id(case_id))
    return found[0] if found else None


def case_next_timer_at(case, user=None, path_view: PathView | None = None):
    """When the case's next timer (deadline) fires, as ``user`` may be told: every timer of
    its instances counts when their ``path_view`` hides nothing (they may follow every
    branch); else only those of instances whose timers the lists show them
    (``rules.timer_listed``). Neither depends on the branch taken, so the choice tells
    nothing. None when no timer waits; without ``user``: every timer counts."""
    for due, timer_path_categories in _NEXT_TIMERS.rows(case.pk):
        if (
            user is None
            or (path_view is not None and not path_view.hidden and not path_view.timers)
            or rules.timer_listed(user, timer_path_categories, case)
        ):
            return due
    return None


def case_tasks(case, *, active_only=True):
    """Every task of the case, whatever its path tells: for the engine's own uses. A list for
    a reader goes through ``case_tasks_for`` (or ``PathView.tasks``)."""
    queryset = Task.objects.filter(case=case).select_related("agency", "assignee", "case")
    if active_only:
        queryset = queryset.filter(status__in=ACTIVE_TASK_STATUSES)
    return queryset.order_by("id")


class OpenTasksRead:
    """The statement of ``case_tasks_for`` sent in a step's last batch, after its writes
    (``Step.reads``): a case start's or a completion's answer then costs no statement and no
    round trip of its own. Read in the step's transaction, it sees what the step wrote, as
    the statement after the commit did (and what others committed before it, as that one
    would have, but for a write committed in between: either read is the case as it was at
    one moment). ``tasks`` stays None where nothing was read (SQLite, whose reads of the
    policy go apart; a step that never wrote): ``case_tasks_for`` then reads them itself."""

    def __init__(self, user):
        self.user = user
        self.case_id: int | None = None
        self.tasks: list[Task] | None = None

    def queue(self, step, case_id: int, at: datetime.datetime) -> None:
        """Queue the read of case ``case_id``'s open tasks for ``self.user`` in ``step``."""
        if not (folds_rows(connection) and getattr(self.user, "is_authenticated", False)):
            return
        self.case_id = case_id
        sql, params = _OPEN_CASE_TASKS_READING_POLICY.statement(case_id, self.user.pk, at)

        def read(cursor):
            self.tasks = _OPEN_CASE_TASKS_READING_POLICY.objects_from(cursor)

        step.reads.append((sql, params, read))


def case_tasks_for(user, case, read: OpenTasksRead | None = None) -> list[Task]:
    """The case's open tasks as a short answer to ``user`` shows them (after starting a case
    or completing a task): by the rule of the lists across cases (``rules.task_listed``, the
    same as ``rules.listed_task_rows``), which reads no case data, so the hot path stays as
    it is. Where that rule holds a task back, the reader's exact ``PathView`` decides, as on
    the case's own page: a path the reader may follow (by consent, or by data they see) still
    tells them who holds the ball next.

    On PostgreSQL the tasks' statement also reads what that view decides from: the version
    the case runs and the policy's rows (``rules.policy_reads``), so a held-back task costs
    no statement more (it cost three: the version, the consents, the openings). ``read``: that
    statement sent already in the step's last batch (``OpenTasksRead``), its rows used here."""
    if not (folds_rows(connection) and getattr(user, "is_authenticated", False)):
        tasks = open_case_tasks(case)
        listed = [task for task in tasks if rules.task_listed(user, task, case)]
        return listed if len(listed) == len(tasks) else path_view_for(user, case).tasks(tasks)
    if read is not None and read.tasks is not None and read.user is user and read.case_id == case.pk:
        tasks = read.tasks  # read in the step's last batch (``OpenTasksRead``)
    else:
        tasks = _OPEN_CASE_TASKS_READING_POLICY.objects(case.pk, user.pk, timezone.now())
    listed = [task for task in tasks if rules.task_listed(user, task, case)]
    if len(listed) == len(tasks):
        return listed
    with rules.read_once():
        rules.remember_policy_reads(user, case, tasks[0])
        case.__dict__.setdefault("latest_definition_id", getattr(tasks[0], "case_definition_id"))  # noqa: B009 (an annotation)
        return path_view_for(user, case).tasks(tasks)


def case_tasks_shown_now(user, case_id, task_ids) -> set[int]:
    """Of ``task_ids``, the tasks of case ``case_id`` that ``user`` is shown now, whatever
    their status, by the rule of ``case_tasks_for``: what a completion's answer replayed
    (``Idempotency-Key``) may still name. The first answer was decided by the consents and
    openings of its moment; one withdrawn since ends what it showed (domain.md: with
    immediate effect)."""
    case = Case.objects.filter(pk=lookup_id(case_id)).first()
    if case is None:
        return set()
    tasks = list(Task.objects.filter(case=case, pk__in=[lookup_id(pk) for pk in task_ids]))
    listed = [task for task in tasks if rules.task_listed(user, task, case)]
    if len(listed) < len(tasks):
        listed = path_view_for(user, case).tasks(tasks)
    return {task.pk for task in listed}


def case_participants(case):
    return case.participants.select_related("agency").order_by("kind")


def _timeline(case_id):
    return (
        Event.objects.filter(case=case_id)
        .select_related("actor", "agency", "from_agency", "to_agency")
        .order_by("created_at", "id")
    )


def case_timeline_for(case, user):
    """The case's events in order (handoffs included), for someone who sees the case."""
    if not rules.can_view_case(user, case):
        raise NotFound("case.not_found")
    return _timeline(case.pk)


# The lists of one case (and the incidents) the API reads a page at a time: each page's
# statement compiled once per list and cursor shape (``permissions.prepared.PreparedList``).
_PAGED_LISTS = PreparedShapes(most=256)


def case_timeline_listing(case, user, path_view: PathView | None = None) -> PreparedList:
    """``case_timeline_for`` read by compiled statements (the API's timeline), without the
    events ``path_view`` (the reader's ``timeline_path_view``) leaves out: those of hidden
    elements, and the handoffs into a task whose handing over tells a hidden branch; nor the
    corrections of a note the reader is shown masked (``masked_note_corrections``). They are
    left out by the statement, before the page is cut: left out of a page already read, a
    page shorter than its size would count them. ``PathView.events`` then does the rest on
    the page (the actor of such a task's creation)."""
    if not rules.can_view_case(user, case):
        raise NotFound("case.not_found")
    path_view = path_view if path_view is not None else timeline_path_view(user, case)
    hidden, handed, fields = sorted(path_view.hidden), sorted(path_view.handed), sorted(path_view.fields)
    agencies = sorted(path_view.agencies) if fields else []
    kinds, lapsed, files = masked_note_corrections(user, case)
    masked = [value for kind in kinds for value in kind]
    cuts = (
        len(hidden),
        len(hidden) + len(handed),
        len(hidden) + len(handed) + len(fields),
        len(hidden) + len(handed) + len(fields) + len(agencies),
        len(hidden) + len(handed) + len(fields) + len(agencies) + len(masked),
        len(hidden) + len(handed) + len(fields) + len(agencies) + len(masked) + len(lapsed),
    )

    def statement(case_id, *names):
        return _timeline_without(
            case_id,
            names[: cuts[0]],
            names[cuts[0] : cuts[1]],
            names[cuts[1] : cuts[2]],
            names[cuts[2] : cuts[3]],
            names[cuts[3] : cuts[4]],
            names[cuts[4] : cuts[5]],
            names[cuts[5] :],
        )

    return PreparedList(
        _PAGED_LISTS,
        ("timeline", len(hidden), len(handed), len(fields), len(agencies), len(masked), len(lapsed), len(files)),
        statement,
        (case.pk, *hidden, *handed, *fields, *agencies, *masked, *lapsed, *files),
        model=Event,
        order=("created_at", "id"),
    )


def masked_note_corrections(user, case) -> tuple[list[tuple[str, int]], list[str], list[str]]:
    """Of the corrected (or confirmed) notes of ``case``, those ``user`` is shown masked: the (category,
    writing agency) pairs masked by category (``notes_policy.masked_note_kinds``), and the ids
    (as text) of the safety warnings out of time that ``user`` does not keep
    (``notes_policy.lapsed_notes_not_kept``). The note list gives such a note no version and
    no time of correction (when and how often its writer rewrote it is the writer's history),
    so the timeline leaves out its "note corrected" events (``_timeline_without``): until
    2026-12-06 each stood there with its time, for every participant, and until h-lapsedcorr
    those of a lapsed warning (NAV counted how often, and read when, the prison rewrote it).
    Third, the ids (as text) of the confirmed safety attachments ``user`` is shown masked (by
    category, or out of time and not kept), whose confirmations are left out as a lapsed
    note's are (h-safety5). One statement, the notes' and the attachments' rows in one."""
    note_erased = ExpressionWrapper(Q(withdrawn_at__isnull=True, text=""), output_field=BooleanField())
    file_erased = ExpressionWrapper(Q(withdrawn_at__isnull=True, stored_as=""), output_field=BooleanField())
    columns = ("pk", "category", "agency_id", "created_at", "corrected", "confirmed_at", "erased", "is_note")
    notes = (
        Note.objects.filter(Q(corrected_at__isnull=False) | Q(confirmed_at__isnull=False), case=case.pk)
        .annotate(erased=note_erased, corrected=F("corrected_at"), is_note=Value(True, output_field=BooleanField()))
        .order_by()
        .values_list(*columns)
    )
    files = (
        Attachment.objects.filter(confirmed_at__isnull=False, case=case.pk)
        .annotate(
            erased=file_erased,
            corrected=Value(None, output_field=DateTimeField()),
            is_note=Value(False, output_field=BooleanField()),
        )
        .order_by()
        .values_list(*columns)
    )
    rows = list(notes.union(files, all=True))
    note_rows = [row[:-1] for row in rows if row[-1]]
    kinds = sorted(notes_policy.masked_note_kinds(user, case, sorted({(row[1], row[2]) for row in note_rows})))
    lapsed = _lapsed_not_kept(user, case, [row for row in note_rows if (row[1], row[2]) not in kinds])
    file_rows = [row[:-1] for row in rows if not row[-1]]
    masked_files = set(notes_policy.masked_note_kinds(user, case, sorted({(row[1], row[2]) for row in file_rows})))
    hidden_files = {row[0] for row in file_rows if (row[1], row[2]) in masked_files}
    hidden_files.update(_lapsed_not_kept(user, case, [row for row in file_rows if row[0] not in hidden_files]))
    return kinds, [str(pk) for pk in lapsed], [str(pk) for pk in sorted(hidden_files)]


def _lapsed_not_kept(user, case, rows) -> list[int]:
    """``notes_policy.lapsed_notes_not_kept`` of rows (id, category, agency id, created,
    corrected, confirmed, erased): in force from the latest of the three times."""
    return notes_policy.lapsed_notes_not_kept(
        user,
        case,
        [
            (pk, category, agency_id, max(moment for moment in moments if moment), erased)
            for pk, category, agency_id, *moments, erased in rows
        ],
    )


def _timeline_without(
    case_id, hidden, handed, fields=(), agencies=(), masked_notes=(), lapsed_notes=(), masked_files=()
):
    """``masked_notes``: (category, agency id, category, agency id, ...), the notes whose
    corrections and confirmations are left out (``masked_note_corrections``), by the note's
    category now;
    ``lapsed_notes``: the ids (as text) of notes whose corrections and confirmations are left
    out too (lapsed warnings the reader does not keep);
    ``masked_files``: the ids (as text) of attachments whose confirmations are left out (shown
    masked to the reader, a lapsed warning they do not keep among them)."""
    queryset = _timeline(case_id)
    if hidden:
        # The case's completion stays, named by nobody (``PathView.completion``).
        queryset = queryset.exclude(Q(element_id__in=hidden), ~Q(kind=EventKind.CASE_COMPLETED))
    if handed:
        queryset = queryset.exclude(kind=EventKind.HANDOFF, element_id__in=handed)
    if fields:
        # A correction of a value a hidden step wrote (``PathView.fields``), made by another
        # agency: the reader is told the case does not hold it, and that it was corrected told
        # the branch (until 2026-12-06 the event stayed, its field left out; h-paths5).
        others = Q(agency__isnull=True) | ~Q(agency_id__in=agencies) if agencies else Q()
        # Cast: a JSON key's own ``__in`` quotes each name as JSON on SQLite, which the
        # statement compiled once (``PreparedShapes``) would then send unquoted.
        corrected_field = Cast(KeyTextTransform("field", "detail"), TextField())
        queryset = queryset.alias(corrected_field=corrected_field).exclude(
            Q(kind__in=(EventKind.VALUE_CORRECTED, EventKind.SAFETY_CONFIRMED), corrected_field__in=fields), others
        )
    if masked_notes:
        kinds = Q()
        for category, agency_id in zip(masked_notes[::2], masked_notes[1::2], strict=True):
            kinds |= Q(category=category, agency_id=agency_id)
        # Compared as text on both sides: a JSON number is text in PostgreSQL's ``->>`` and
        # a number in SQLite's ``json_extract``.
        note = Cast(KeyTextTransform("note", "detail"), TextField())
        masked = Note.objects.filter(kinds, case_id=OuterRef("case_id")).annotate(key=Cast("pk", TextField()))
        # Its confirmations too, as a lapsed note's (below): a note corrected out of ``safety``
        # into a category the reader may not read kept the times it was kept as a warning
        # (until h-safety4 they stood there, naming the note, and in the case file's timeline).
        queryset = queryset.alias(corrected_note=note).exclude(
            Q(kind__in=(EventKind.NOTE_CORRECTED, EventKind.SAFETY_CONFIRMED)),
            Exists(masked.filter(key=OuterRef("corrected_note"))),
        )
    if lapsed_notes:
        note = Cast(KeyTextTransform("note", "detail"), TextField())
        # Its confirmations too: each one's time told when (and how often) its keepers kept it.
        queryset = queryset.alias(lapsed_note=note).exclude(
            kind__in=(EventKind.NOTE_CORRECTED, EventKind.SAFETY_CONFIRMED), lapsed_note__in=list(lapsed_notes)
        )
    if masked_files:
        # A safety file's confirmations, as a lapsed note's: each one's time told when its
        # keepers kept it (until h-safety5 a file was not confirmed).
        attachment = Cast(KeyTextTransform("attachment", "detail"), TextField())
        queryset = queryset.alias(confirmed_file=attachment).exclude(
            kind=EventKind.SAFETY_CONFIRMED, confirmed_file__in=list(masked_files)
        )
    return queryset


def timeline_path_view(user, case) -> PathView:
    """The reader's ``PathView`` as far as the timeline needs it: ``path_view_for``'s, without
    reading the consents and openings when they cannot change it.

    ``path_view_for`` hides an element on a branch of a gateway that reads a field the reader
    does not see. So when every field the model's gateways read is in a category the reader's
    standing opens (its own service, the coordinator's, an open one: ``rules.decide_category``
    with no consent), nothing is hidden, whatever consents there are; otherwise the whole view
    is computed."""
    runtime = case_runtime(case)
    if runtime is None or not runtime.gateway_paths:
        return NO_PATH_HIDDEN
    reads = {name for path in runtime.gateway_paths.values() for name in path.reads}
    # A lapsed safety warning is open by no standing alone (``policy.lapsed_warnings``): only its
    # recorder and the coordinator still see it, so its branches are the whole view's to decide
    # (until 2026-12-07 NAV's timeline showed the branch the lapsed warning chose).
    lapsed = policy.lapsed_warnings(case, runtime.field_rules).keys() & reads
    access = rules.case_access(user, case)
    if not lapsed and all(_open_by_standing(runtime.field_rules, access, name) for name in reads):
        return NO_PATH_HIDDEN
    return path_view_for(user, case)


def _open_by_standing(fields, access, name: str) -> bool:
    """Whether the field ``name`` is in a category the reader's standing opens (its own
    service, the coordinator's, an open one): seen whatever consents there are. Never a
    safety warning: out of time it is taken from the readers who did not record it
    (``policy.warning_dates``), by the clock, so only the whole view tells (until h-attack34
    NAV's timeline showed the branch a lapsed warning had chosen, which its diagram hid)."""
    category = rules.category_of(fields.fields.get(name, RESTRICTED))
    return (
        category not in (RESTRICTED, policy.SAFETY)
        and category in fields.categories
        and bool(rules.decide_category(access, category, ()))
    )


# Reads of the case's lists of coordination, logged by the interfaces once the page is
# read (nothing for a case not shown: its 404 is raised before): one row each, one INSERT.
def log_timeline_read(user, case) -> None:
    policy.log_coordination_read(user, case, item=policy.ITEM_TIMELINE)


def log_consents_read(user, case) -> None:
    policy.log_coordination_read(user, case, item=policy.ITEM_CONSENTS)


def log_access_log_read(user, case) -> None:
    policy.log_audit_read(user, case, item=policy.ITEM_ACCESS_LOG)


def log_break_glass_read(user, case) -> None:
    policy.log_audit_read(user, case, item=policy.ITEM_BREAK_GLASS)


def log_break_glass_review_read(user, openings) -> None:
    """``openings`` from ``break_glass_to_review`` (each with its auditing agency)."""
    policy.log_break_glass_review_read(user, openings)


def case_events_for(case, user) -> list[Event]:
    """``case_timeline_for`` as a list, each event with its task (the case page names it)."""
    if not rules.can_view_case(user, case):
        raise NotFound("case.not_found")
    return _CASE_EVENTS.objects(case.pk)


def latest_case_events_for(case, user, path_view: PathView | None = None) -> tuple[list[Event], bool]:
    """The latest ``CASE_EVENTS_SHOWN`` events of ``case`` in time order, and whether it has
    older ones too. The events ``path_view`` leaves out (as ``case_timeline_listing``'s) are
    left out by the statement, before the list is cut: cut first, how many rows the list
    showed, and whether it said there were older ones, counted the events of a hidden branch
    (a reader who added claims of their own until the hint came read off how many there were)."""
    if not rules.can_view_case(user, case):
        raise NotFound("case.not_found")
    kinds, lapsed, files = masked_note_corrections(user, case)
    masked = [value for kind in kinds for value in kind]
    if (
        not masked
        and not lapsed
        and not files
        and (path_view is None or not (path_view.hidden or path_view.handed or path_view.fields))
    ):
        events = _LATEST_CASE_EVENTS.objects(case.pk)
    else:
        path_view = path_view or NO_PATH_HIDDEN
        events = list(
            _timeline_without(
                case.pk,
                sorted(path_view.hidden),
                sorted(path_view.handed),
                sorted(path_view.fields),
                sorted(path_view.agencies),
                masked,
                lapsed,
                files,
            )
            .select_related("task")
            .order_by("-created_at", "-id")[: CASE_EVENTS_SHOWN + 1]
        )
    return events[:CASE_EVENTS_SHOWN][::-1], len(events) > CASE_EVENTS_SHOWN


def case_handoffs_for(case, user) -> list[Event]:
    """The case's handoff events only (``case_events_for`` of one kind), for its chart."""
    if not rules.can_view_case(user, case):
        raise NotFound("case.not_found")
    return _CASE_HANDOFFS.objects(case.pk)


# A note's events, and the categories they name (the note's then, and the one a correction
# moved it from): each only to a reader who may read notes of it by the note's agency.
NOTE_EVENT_KINDS = frozenset({EventKind.NOTE_ADDED, EventKind.NOTE_CORRECTED, EventKind.NOTE_WITHDRAWN})
NOTE_CATEGORY_KEYS = ("category", "from_category")
# Event detail only some readers get: an incident's error text and the message it is said
# from (rules.can_see_incident_errors).
INCIDENT_ERROR_KEYS = ("error", "error_message")
# Event detail that lists case fields by name (a task's, a message's, a service's result, the
# fields of a message left out of the receiving case): each only to a reader who sees it.
FIELD_LIST_KEYS = ("fields", "taken", "withheld")


# Event detail that names a row by its key: jobs, incidents and corrections take theirs from one
# sequence each over every case (a hidden branch's tasks' notification jobs among them, a
# national id's correction waiting for review, which writes no event), so the gap between two
# a reader is shown counted rows they are not shown. No reader of a timeline addresses them:
# incidents are retried from the incident list, by process admins who work no cases
# (``rules.can_view_incidents``) and read no timeline. Stored, never shown.
ROW_KEY_KEYS = ("job", "incident", "correction")


def event_detail_for(event, user, translate: Callable[[str], str] | None = None) -> dict:
    """An event's detail as ``user`` may read it (timeline answers and pages); an incident's
    error said through ``translate`` (the reader's language; None: English)."""
    detail = event.detail or {}
    if any(key in detail for key in ROW_KEY_KEYS):
        detail = {key: value for key, value in detail.items() if key not in ROW_KEY_KEYS}
    if any(isinstance(detail.get(key), list) for key in FIELD_LIST_KEYS):
        # The fields a task, a message or a service wrote, by name: an optional one written
        # tells its value's gist (NAV's "rent_arrears_nok"), so only those the reader sees.
        detail = {
            key: _fields_named_for(user, event.case_id, value)
            if key in FIELD_LIST_KEYS and isinstance(value, list)
            else value
            for key, value in detail.items()
        }
    if event.kind == EventKind.INCIDENT:
        if not rules.can_see_incident_errors(user):
            return {key: value for key, value in detail.items() if key not in INCIDENT_ERROR_KEYS}
        literals = _timeline_literals(user, event.case_id) if detail.get("error") else []
        return incident_event_detail(detail, translate, literals)
    if event.kind in (EventKind.VALUE_CORRECTED, EventKind.SAFETY_CONFIRMED) and not _sees_corrected_field(
        user, event.case_id, detail, event.agency_id
    ):
        # Each agency corrects what it recorded: a value masked for the reader is not named.
        return {key: value for key, value in detail.items() if key != "field"}
    if ON_BEHALF_KEY in detail and event.kind in ITEM_EVENT_KINDS and not _names_item_actor(event, user):
        # Who changed a masked item is not named (``event_actor_for``), nor that it was not its writer.
        detail = {key: value for key, value in detail.items() if key != ON_BEHALF_KEY}
    if event.kind in NOTE_EVENT_KINDS and any(
        key in detail and not _sees_item_of(user, event, detail[key]) for key in NOTE_CATEGORY_KEYS
    ):
        # A category the note had that the reader may not read: the note's history keeps its
        # texts there from them (``notes_policy.notes_for``), and that the writer had filed it
        # under health or justice is itself that category's. The note list gives the category
        # it has now.
        return {
            key: value
            for key, value in detail.items()
            if key not in NOTE_CATEGORY_KEYS or _sees_item_of(user, event, value)
        }
    if event.kind == EventKind.ATTACHMENT_ADDED and not _sees_attachment(user, event, detail):
        # A masked attachment has no type or size in the list: none here either.
        return {key: value for key, value in detail.items() if key not in ATTACHMENT_FILE_KEYS}
    if event.kind == EventKind.AGENCY_WITHDRAWN and not rules.reads_withdrawal_reason(
        user, _timeline_case(user, event.case_id)
    ):
        return {key: value for key, value in detail.items() if key != "reason"}
    if event.kind == EventKind.FOLLOW_ON_STARTED and not _sees_case_id(user, detail.get("case")):
        # An agency of the earlier case that takes no part in the next one is told that it
        # started, not which case or process it is (as ``followed_case_for`` the other way).
        return {}
    if event.kind == EventKind.MESSAGE_RECEIVED:
        return _message_detail_for(event, user, detail)
    return detail


# Event detail of a received message only the sending agency and the coordinator read: the
# sender's own id for it (rules.reads_message_id).
MESSAGE_SENDER_KEYS = ("message_id",)


def _message_detail_for(event, user, detail: dict) -> dict:
    hidden = set()
    if "from_case" in detail and not _sees_reference(user, detail):
        # A message from another case of the person (a prison case's "housing ready"): the
        # receiving case's agencies are told which case sent it only when they see that case.
        hidden.add("from_case")
    if any(key in detail for key in MESSAGE_SENDER_KEYS) and not rules.reads_message_id(
        user, _timeline_case(user, event.case_id), event.agency_id
    ):
        hidden.update(MESSAGE_SENDER_KEYS)
    return {key: value for key, value in detail.items() if key not in hidden} if hidden else detail


def incident_event_detail(
    detail: dict, translate: Callable[[str], str] | None = None, literals: list[str] | None = None
) -> dict:
    """An incident event's detail with its error said in the language of ``translate``: from
    the stored message when it has one (the step's own words, the engine's in them), else the
    text as it was stored (events written before errors had codes); either scrubbed again of
    ``literals`` (``case_literals_ever``: the event's text was scrubbed when it was written,
    of the values the case held then, and a value written since may stand in it)."""
    shown = {key: value for key, value in detail.items() if key != "error_message"}
    if isinstance(detail.get("error"), str) and detail["error"]:
        shown["error"] = error_shown(detail["error"], detail.get("error_message"), literals or [], translate)
    return shown


def _sees_reference(user, detail: dict) -> bool:
    remembered = user.__dict__.setdefault("_brobygger_references_seen", {})
    reference = detail.get("from_case")
    if reference not in remembered:
        case = Case.objects.filter(reference=reference).first() if isinstance(reference, str) else None
        remembered[reference] = case is not None and rules.can_view_case(user, case)
    return remembered[reference]


# What an "attachment added" event tells of the file: only to who may see the attachment.
ATTACHMENT_FILE_KEYS = ("content_type", "size")


# Events of a note or an attachment: the lists give a masked one no author or uploader.
ITEM_EVENT_KINDS = frozenset(
    {
        EventKind.NOTE_ADDED,
        EventKind.NOTE_CORRECTED,
        EventKind.NOTE_WITHDRAWN,
        EventKind.ATTACHMENT_ADDED,
        EventKind.ATTACHMENT_WITHDRAWN,
    }
)


def event_actor_for(event, user) -> str | None:
    """Who an event names as its actor, for ``user``: for a note's or an attachment's event,
    only when ``user`` sees an item of its category by its agency (and of the category a
    correction moved it from), as the lists name its author or uploader only then."""
    if event.actor_id is None:
        return None
    if event.kind in ITEM_EVENT_KINDS and not _names_item_actor(event, user):
        return None
    if (
        event.kind == EventKind.SAFETY_CONFIRMED
        and {"note", "attachment"} & set(event.detail or {})
        and not _warning_shown(user, event)
    ):
        # Who confirmed a safety note or file (often its writer) as the lists name its writer: not
        # once it lapsed again, to whom does not keep it (until h-attack35 to every participant).
        return None
    return event.actor.get_username()


def _names_item_actor(event, user) -> bool:
    """Whether the event of a note or an attachment names to ``user`` who made it (and that a
    lead or coordinator made it on the agency's behalf): ``user`` sees an item of its
    category by its agency, and of the category a correction moved it from, and the item is
    no safety warning out of time they do not keep (``_warning_shown``)."""
    detail = event.detail or {}
    categories = [detail.get("category"), *([detail.get("from_category")] if "from_category" in detail else [])]
    return all(_sees_item_of(user, event, category) for category in categories) and _warning_shown(user, event)


def _warning_shown(user, event) -> bool:
    """Whether the note or attachment of an item event is shown to ``user`` as far as its time
    limit goes, as the lists decide it (``notes_policy``): an item that is no safety warning now,
    one in force, or one out of time that ``user`` keeps (its agency, the coordinator). Until
    h-safety3 the timeline named to every participant who wrote a lapsed warning note, and the
    type and size of a lapsed warning file, that the lists no longer show; until h-attack35 it
    named the writer of a lapsed note written under another category and corrected into
    ``safety`` (its ``note_added`` event), who confirmed a lapsed note (``safety_confirmed``),
    and the uploader, type and size of a lapsed file once withdrawn. The case's safety notes and
    attachments are read once per request (one statement each, and only for a case whose
    timeline has an item event of ``safety``, or a note's event read by one who does not keep
    that agency's warnings)."""
    detail = event.detail or {}
    notes = "note" in detail
    # An event of another category: a note may have been corrected into ``safety`` since (an
    # attachment keeps its category), which its agency and the coordinator keep anyway.
    if policy.SAFETY not in (detail.get("category"), detail.get("from_category")) and (
        not notes or _keeps_warnings(user, event.case_id, event.agency_id)
    ):
        return True
    item = _safety_items(user, event.case_id, notes).get(detail.get("note" if notes else "attachment"))
    if item is None:
        return True  # no safety item now (corrected into another category): the category decides
    if item.is_erased or notes_policy.warning_window(item.warning_since)[0] is None:
        return True
    return _keeps_warnings(user, event.case_id, item.agency_id)


def _keeps_warnings(user, case_id: int, agency_id: int | None) -> bool:
    """Whether ``user`` keeps the lapsed warnings ``agency_id`` recorded in the case (its own
    agency, the coordinator: ``rules.decide_lapsed_warning``); once per request. No query."""
    remembered = user.__dict__.setdefault("_brobygger_warnings_kept", {})
    key = (case_id, agency_id)
    if key not in remembered:
        case = _timeline_case(user, case_id)
        remembered[key] = bool(rules.decide_lapsed_warning(rules.case_access(user, case), case, agency_id))
    return remembered[key]


def _safety_items(user, case_id: int, notes: bool) -> dict:
    """The case's notes (or attachments) of category ``safety`` now, by id, read once per request."""
    remembered = user.__dict__.setdefault("_brobygger_safety_items", {})
    key = (case_id, notes)
    if key not in remembered:
        rows: Iterable[Note | Attachment] = (
            Note.objects.filter(case_id=case_id, category=policy.SAFETY).only(
                "pk", "agency_id", "text", "created_at", "corrected_at", "confirmed_at", "withdrawn_at"
            )
            if notes
            else Attachment.objects.filter(case_id=case_id, category=policy.SAFETY).only(
                "pk", "agency_id", "stored_as", "created_at", "confirmed_at", "withdrawn_at"
            )
        )
        remembered[key] = {row.pk: row for row in rows}
    return remembered[key]


# A note or an attachment changed by its agency's lead or coordinator for a writer who can no
# longer act (``workflows.services.notes.change_standing``): said with the actor, to whom
# the actor is named.
ON_BEHALF_KEY = "on_behalf_of_agency"


def _sees_attachment(user, event, detail: dict) -> bool:
    """Whether ``user`` is shown the attachment of an "attachment added" event, as the list
    decides it (``notes_policy.attachment_decision``): a safety file out of time only by its
    agency and the coordinator (``_warning_shown``)."""
    return _sees_item_of(user, event, detail.get("category")) and _warning_shown(user, event)


def _sees_item_of(user, event, category) -> bool:
    """Whether ``user`` is shown a note or an attachment of ``category`` written by the
    event's agency, as the lists decide it (``notes_policy.item_kind_decision``); once per
    case, category and agency within a request."""
    if not isinstance(category, str):
        return False
    remembered = user.__dict__.setdefault("_brobygger_attachments_seen", {})
    key = (event.case_id, category, event.agency_id)
    if key not in remembered:
        case = _timeline_case(user, event.case_id)
        remembered[key] = bool(notes_policy.item_kind_decision(user, case, category, event.agency_id))
    return remembered[key]


def _sees_case_id(user, case_id) -> bool:
    case = _case_by_id(case_id) if isinstance(case_id, int) else None
    return case is not None and rules.can_view_case(user, case)


def fields_seen_by(user, case) -> list[str]:
    """The form fields of ``case`` whose values ``user`` sees (nothing logged: none is shown):
    not those a step on a branch hidden from them wrote (``PathView.fields``)."""
    return _fields_seen_and_hidden(user, case)[0]


def _fields_seen_and_hidden(user, case) -> tuple[list[str], frozenset[str]]:
    fields = case_field_rules(case)
    hidden = branch_fields_hidden(user, case)
    views = policy.case_data_for(user, case, fields, log=False, hidden=hidden)
    shown = views_values(views)
    return [name for name in case.data or {} if name in shown and policy.sees_field(views, fields, name)], hidden


def corrections_named_to(user, case) -> Callable[[str, int | None], bool]:
    """Whether a correction of a field, made for an agency, may be named to ``user`` (the
    timeline's event, the case's corrections): a field they see, except one a step on a
    branch hidden from them may have written over (``Case.data_common``), unless their own
    agency corrected it. They are shown that field as the steps every case passes left it,
    while the branch's writer corrects the branch's value: who corrected it, when and why
    told the branch as the value would."""
    seen, hidden = _fields_seen_and_hidden(user, case)
    access = rules.case_access(user, case)
    own = access.agency_ids if access else set()
    named = set(seen)
    return lambda field, agency_id: field in named and (field not in hidden or agency_id in own)


def views_values(views) -> dict:
    """Every value ``policy.case_data_for``'s answer shows, by field."""
    return {name: value for view in views.values() for name, value in view.values.items()}


def branch_fields_hidden(user, case, runtime=None) -> frozenset[str]:
    """The case-data fields a step on a branch hidden from ``user`` wrote (``PathView.fields``),
    for ``policy.case_data_for(hidden=)``; nothing to compute for a model whose branches write
    no data."""
    runtime = runtime or case_runtime(case)
    if runtime is None or not runtime.branch_writers:
        return frozenset()
    return path_view_for(user, case).fields


def _sees_corrected_field(user, case_id: int, detail: dict, agency_id: int | None) -> bool:
    field = detail.get("field")
    if not isinstance(field, str) or field.startswith("person."):  # the person's name or national id
        return True
    return _corrections_named(user, case_id)(field, agency_id)


def _corrections_named(user, case_id: int) -> Callable[[str, int | None], bool]:
    """``corrections_named_to`` once per case and request (a timeline page names fields often)."""
    remembered = user.__dict__.setdefault("_brobygger_corrections_named", {})
    if case_id not in remembered:
        remembered[case_id] = corrections_named_to(user, _timeline_case(user, case_id))
    return remembered[case_id]


def _fields_named_for(user, case_id: int, names: list) -> list:
    """The field names of ``names`` the reader sees. The consents and openings are read
    only when the reader's standing does not open them all (as ``timeline_path_view``)."""
    remembered = user.__dict__.setdefault("_brobygger_standing_opens", {})
    if case_id not in remembered:
        case = _timeline_case(user, case_id)
        runtime = case_runtime(case)
        fields = runtime.field_rules if runtime is not None else None
        access = rules.case_access(user, case)
        remembered[case_id] = lambda name: fields is not None and _open_by_standing(fields, access, name)
    if all(remembered[case_id](name) for name in names):
        return names
    seen = _fields_seen(user, case_id)
    return [name for name in names if name in seen]


def _fields_seen(user, case_id: int) -> set[str]:
    """``fields_seen_by`` once per case and request (a timeline page names fields often)."""
    remembered = user.__dict__.setdefault("_brobygger_fields_seen", {})
    if case_id not in remembered:
        remembered[case_id] = set(fields_seen_by(user, _timeline_case(user, case_id)))
    return remembered[case_id]


def _timeline_case(user, case_id: int) -> Case:
    """The case whose events are decided, read once per request (the checks above each
    need it, and a timeline page is one case)."""
    remembered = user.__dict__.setdefault("_brobygger_timeline_cases", {})
    if case_id not in remembered:
        remembered[case_id] = Case.objects.get(pk=case_id)
    return remembered[case_id]


def case_literals(case) -> list[str]:
    """The texts a value of ``case`` can appear as in an error: its data, and its person's
    name (the case's and the person row's, whole and each word of it) and national id (an
    agency's system may quote them in the failure it reports)."""
    if case is None:
        return []
    person = case.person
    names = (case.person_name, person.name)
    # A system writes the name its own way ("Nordmann, Ola", the surname alone, in capitals as
    # the population register does): each word of three letters or more, in any case, as the
    # erasure takes them out of a coordinator's reason; the national id also printed 6 + 5.
    words = [word for name in names for word in re.findall(r"\w+", name or "") if len(word) >= 3]
    number = person.national_id or ""
    numbers = (number, f"{number[:6]} {number[6:]}", f"{number[:6]}-{number[6:]}") if number.isdigit() else (number,)
    # The person first: ``scrub.literals`` stops at its limit, and a case with that many values
    # kept the name. Longest first still, so a value that holds the name goes out whole.
    found = [*scrub.literals(*names, *numbers, *words, case.data or {}), *map(scrub.Word, words)]
    return sorted(found, key=len, reverse=True)


# The values cases held before, kept by the units above this one (``retention``'s corrections
# keep the value each replaced, and a national id asked for): each gives ``(case id, field,
# value)`` of the cases whose ids it is given, in one statement, registered in its
# ``AppConfig.ready``.
HELD_BEFORE: list[Callable[[Collection[int]], Iterable[tuple[int, str, Any]]]] = []


def case_literals_ever(case) -> list[str]:
    """``case_literals`` and the texts of every value the case held before (``HELD_BEFORE``:
    a value its corrections replaced; its instances' saved states: a value a later step wrote
    over), a person's name by its words and a national id as printed 6 + 5 too. What an error
    written before a value was known, or after a value was corrected away (an agency's system
    that remembered it), is scrubbed of when shown and kept: three statements for the case
    (``literals_ever_by_case``: with what the person's other cases hold)."""
    if case is None:
        return []
    return literals_ever_by_case([case])[case.pk]


def literals_ever_by_case(cases: Iterable[Case | None]) -> dict[int, list[str]]:
    """``case_literals_ever`` of each of ``cases`` by its id, read in three statements whatever
    their number (a page of incidents over many cases, a worker's batch of failed jobs).

    With them, what the person's other cases hold and held (``_kin_values``): an agency's
    system that knows the person from another case quotes their name, national id, address
    or phone as that case has them, which this one may not (another spelling of the name, a
    number corrected there, an address this case never asked for)."""
    unique = {case.pk: case for case in cases if case is not None}
    if not unique:
        return {}
    kin = _kin_rows(unique.values())
    held: dict[int, list[tuple[str, Any]]] = {pk: [] for pk in [*unique, *kin]}
    for source in HELD_BEFORE:
        for case_id, field, value in source([*unique, *kin]):
            held[case_id].append((field, value))
    states: dict[int, list[str]] = {pk: [] for pk in unique}
    for case_id, state in _instance_states(list(unique)):
        states[case_id].append(state)
    others: dict[int, list[tuple[str, Any]]] = {}
    for pk, (person_id, values) in kin.items():
        others.setdefault(person_id, []).extend([*values, *held[pk]])
    return {
        pk: _literals_ever(case, held[pk] + others.get(case.person_id, []), states[pk]) for pk, case in unique.items()
    }


def _kin_rows(cases: Iterable[Case]) -> dict[int, tuple[int, list[tuple[str, Any]]]]:
    """The other cases of the persons of ``cases``, one statement: by case id, its person's id
    and what it holds as ``(field, value)`` as ``HELD_BEFORE`` gives them (its person's name
    as ``person.name``, its data and ``data_common``). Not their saved states: a person's
    cases over the years hold many, and what another system learnt of the person from
    another case is what that case's fields hold (README, "Failure texts: kept as shown")."""
    persons = {case.person_id for case in cases}
    own = [case.pk for case in cases]
    rows: Iterable[tuple[Any, ...]]
    if connection.vendor == "postgresql":
        rows = [
            (pk, person_id, name, json_column(data), json_column(common))
            for pk, person_id, name, data, common in rows_by_ids(_KIN_SQL, list(persons), own)
        ]
    else:
        rows = (
            Case.objects.filter(person_id__in=persons)
            .exclude(pk__in=own)
            .values_list("pk", "person_id", "person_name", "data", "data_common")
        )
    found: dict[int, tuple[int, list[tuple[str, Any]]]] = {}
    for pk, person_id, name, data, common in rows:
        values: list[tuple[str, Any]] = [("person.name", name), ("data", data or {})]
        values += [("data", entry[0]) for entry in (common or {}).values() if isinstance(entry, list) and entry]
        found[pk] = (person_id, values)
    return found


# The reads of ``literals_ever_by_case`` by a page's ids, on PostgreSQL each id list one array
# parameter: the ORM's ``IN (%s, ...)`` of 50 ids took 0.5-0.7 ms of Python a statement to build
# and send (the incident list at a million tasks: a tenth of its request). The same rows, in
# the same order, as the ORM's statements elsewhere (``Case``'s default order: newest first).
_KIN_SQL = (
    "SELECT id, person_id, person_name, data, data_common FROM workflows_case"
    " WHERE person_id = ANY(%s::bigint[]) AND NOT (id = ANY(%s::bigint[])) ORDER BY opened_at DESC"
)
_STATES_SQL = (
    "SELECT case_id, state FROM workflows_processinstance WHERE case_id = ANY(%s::bigint[]) ORDER BY case_id, id"
)


def rows_by_ids(sql: str, *ids: list[int]) -> list[tuple]:
    """The rows of ``sql`` (PostgreSQL), each of ``ids`` its ``%s::bigint[]`` in turn (a
    ``HELD_BEFORE`` source reads its rows so too: ``retention.apps.corrections_held``)."""
    with connection.cursor() as cursor:
        cursor.execute(sql, list(ids))
        return cursor.fetchall()


def json_column(value: str | None) -> Any:
    """A JSON column of ``rows_by_ids`` as ``JSONField`` gives it (Django reads it as text)."""
    return None if value is None else json.loads(value)


def _instance_states(case_ids: list[int]) -> list[tuple[int, str]]:
    """``(case id, saved state)`` of every instance of the cases, by case and instance."""
    if connection.vendor == "postgresql":
        return rows_by_ids(_STATES_SQL, case_ids)
    rows = ProcessInstance.objects.filter(case_id__in=case_ids).order_by("case_id", "pk")
    return list(rows.values_list("case_id", "state"))


def _literals_ever(case, held: list[tuple[str, Any]], states: list[str]) -> list[str]:
    names = [value for field, value in held if field == "person.name" and isinstance(value, str)]
    words = [word for name in names for word in re.findall(r"\w+", name) if len(word) >= 3]
    numbers = [value for field, value in held if field == "person.national_id" and isinstance(value, str)]
    numbers += [f"{number[:6]}{gap}{number[6:]}" for number in numbers if number.isdigit() for gap in " -"]
    common = [entry[0] for entry in (case.data_common or {}).values() if isinstance(entry, list) and entry]
    before = scrub.literals(*names, *numbers, *words, *(value for _field, value in held), *common)
    found = {*case_literals(case), *before, *scrub.state_literals(*states), *map(scrub.Word, words)}
    return sorted(found, key=len, reverse=True)


def _timeline_literals(user, case_id: int) -> list[str]:
    """``case_literals_ever`` once per case and request (a timeline page of incidents)."""
    remembered = user.__dict__.setdefault("_brobygger_timeline_literals", {})
    if case_id not in remembered:
        remembered[case_id] = case_literals_ever(_timeline_case(user, case_id))
    return remembered[case_id]


# Where a row (an incident, a job) keeps the ``case_literals_ever`` of its case once read:
# set for a whole page by ``read_literals_ever``, else on the first error shown.
_LITERALS_EVER = "_brobygger_literals_ever"


def read_literals_ever(rows: Iterable[Any]) -> None:
    """Read the ``case_literals_ever`` of the cases of ``rows`` (incidents or jobs, their
    ``case`` loaded) at once, three statements for a page, and keep each on its row: the errors
    of a page of incidents are then scrubbed without a statement per row or case."""
    rows = [row for row in rows if _LITERALS_EVER not in row.__dict__]
    # A row read without its case (a worker's claimed job, the admin's page): the cases at once.
    missing = {row.case_id for row in rows if row.case_id is not None and not type(row).case.is_cached(row)}
    loaded = Case.objects.select_related("person").in_bulk(missing) if missing else {}
    cases = [loaded.get(row.case_id) if row.case_id in missing else row.case for row in rows if row.case_id]
    by_case = literals_ever_by_case(cases)
    for row in rows:
        row.__dict__[_LITERALS_EVER] = by_case.get(row.case_id, []) if row.case_id is not None else []


def _literals_ever_of(row) -> list[str]:
    """The ``case_literals_ever`` of the case of ``row`` (an incident, a job), read once."""
    if _LITERALS_EVER not in row.__dict__:
        read_literals_ever([row])
    return row.__dict__[_LITERALS_EVER]


def incident_error(incident, translate: Callable[[str], str] | None = None) -> str:
    """The incident's error text for the process admin, scrubbed again of every value its
    case holds and held (``case_literals_ever``: rows written before errors were scrubbed
    where they were raised, a job's error, an external task's failure as its worker wrote
    it, a value corrected away that another system remembered). A job's own error (it has a
    message) is said through ``translate`` (the reader's language; None: English), what
    another system said in it scrubbed; any other error is its text, as it was stored. A
    page's incidents are read by ``read_literals_ever`` first."""
    return error_shown(incident.error, incident.error_message, _literals_ever_of(incident), translate)


def incident_job_error(incident, translate: Callable[[str], str] | None = None) -> str:
    """The last error of the incident's job, scrubbed and said as ``incident_error``."""
    job = incident.job
    if job is None:
        return ""
    return error_shown(job.last_error, job.last_error_message, _literals_ever_of(incident), translate)


def job_error(job, translate: Callable[[str], str] | None = None) -> str:
    """A job's last error as ``incident_error`` shows an incident's (the admin's job page)."""
    return error_shown(job.last_error, job.last_error_message, _literals_ever_of(job), translate)


def job_error_logged(job, error: str) -> str:
    """A failed attempt's ``error`` as the worker's log line writes it: in English, what
    another system said in it scrubbed of every value the job's case holds and held, as the
    incident list shows it (operators read the logs, and see no case data). A batch's failed
    jobs are read by ``read_literals_ever`` first."""
    return error_shown(error, message_of(error), _literals_ever_of(job))


def error_kept(row, error: str) -> str:
    """``error`` as a job's row keeps it (``queue.record_outcome``), and its incident with it:
    what another system said in it (an agency's system's failure, a connector's answer, a
    mail server's words) scrubbed of every value the row's case holds and held, and of what
    its person's other cases hold (``case_literals_ever``), as ``error_shown`` shows it. The
    stored text goes where no scrub follows (an export of the rows, a query by hand), and a
    scrub where the failure was made knew the case's current values only. Ours (a
    ``JobError``) keeps its code, its params scrubbed. A job of no case is kept as it is."""
    if row.case_id is None or not error:
        return error
    literals = _literals_ever_of(row)
    if isinstance(error, JobError):
        return type(error)(message_kept(error.message, literals))
    return scrub.scrub(error, literals)


def message_kept(message: Message, literals: list[str]) -> Message:
    """``message`` with every text among its params scrubbed of ``literals`` (a case's
    ``case_literals_ever``): how a failure's message is kept (``error_kept``; an engine
    step's incident, ``steps.Step.kept``) and shown (``error_shown``)."""
    return message.map_text(lambda part: scrub.scrub(part, literals))


def keep_literals_ever(row, onto) -> None:
    """The ``case_literals_ever`` read for ``row`` kept on ``onto`` too (the same job read
    twice: the worker's claimed row and the one it locked to record the outcome)."""
    if _LITERALS_EVER in row.__dict__:
        onto.__dict__[_LITERALS_EVER] = row.__dict__[_LITERALS_EVER]


def error_shown(text: str, message, literals: list[str], translate: Callable[[str], str] | None = None) -> str:
    """A stored error (its ``text`` and its ``message``, ``core.messages.Message.as_json``)
    as a reader sees it: the message in the language of ``translate`` with every text among
    its params scrubbed of ``literals``; without a (known) message, the text scrubbed."""
    known = Message.from_json(message) if text else None
    if known is None:
        return scrub.scrub(text, literals)
    return message_kept(known, literals).render(translate)


@dataclass(frozen=True)
class PathView:
    """What a reader may infer of the path a case took (issue 11: a gateway's branch tells
    the value its condition read). ``gateways``: the gateways whose conditions read a field
    the reader does not see, and the timers whose moment does (``bpmn.engine.gateway_paths.
    path_splits``); ``hidden``: the elements on only some of their branches (through the
    messages a branch throws to another pool too) and what such a timer's firing does,
    except the reader's own agency's tasks (their inbox shows those anyway)."""

    gateways: dict[str, frozenset[str]]  # gateway id -> its branch elements hidden
    hidden: frozenset[str]
    # Timer events whose expression reads a field the reader does not see: when one fires
    # is that value moved by a known amount (the eviction date less a week).
    timers: frozenset[str] = frozenset()
    # Tasks (the reader's own among them) that a task on a hidden branch may hand over: who
    # handed one over (their agency, their name) tells the branch the case came by.
    handed: frozenset[str] = frozenset()
    # Case-data fields a hidden element writes (``DefinitionRuntime.branch_writers``): a value
    # there tells the branch as the step that wrote it would (``policy.case_data_for(hidden=)``).
    fields: frozenset[str] = frozenset()
    # The reader's agencies in the case: a correction of one of ``fields`` they made is theirs
    # to see; another's told the branch (``_timeline_without``).
    agencies: frozenset[int] = frozenset()

    def hides(self, element_id: str) -> bool:
        return element_id in self.hidden

    def diagram(self, completed: set[str], active: set[str]) -> tuple[set[str], set[str]]:
        """The states to draw: hidden elements left out, each of these gateways in progress
        while a hidden element after it is, else done as the engine says."""
        shown_active = active - self.hidden
        for gateway, branch in self.gateways.items():
            # A timer read from hidden data is a split of its own branch: never drawn.
            if branch & active and gateway not in self.hidden:
                shown_active.add(gateway)
        return completed - self.hidden - shown_active, shown_active

    def events(self, events):
        """Timeline events without those of hidden elements. Not even their kind and time: how
        many tasks a branch opened, and when they were done, tell the branch too. Nor the
        handoffs into a task of ``handed``, nor who made it (the actor of its creation)."""
        shown = []
        for event in events:
            if event.kind == EventKind.CASE_COMPLETED:
                shown.append(self.completion(event))
                continue
            if self.hides(event.element_id):
                continue
            if event.element_id in self.handed:
                if event.kind == EventKind.HANDOFF:
                    continue
                if event.kind == EventKind.TASK_CREATED:
                    event.actor = None
            if (
                event.kind == EventKind.MESSAGE_RECEIVED
                and isinstance(event.detail, dict)
                and self.hides(event.detail.get("from_element") or "")
            ):
                # A catch every branch's message reaches, from a throw on one of them: which
                # throw sent it (its pool, the fields its payload wrote) tells the branch.
                event.detail = {k: v for k, v in event.detail.items() if k not in POOL_SENDER_KEYS}
            if (
                event.kind == EventKind.MESSAGE_RECEIVED
                and isinstance(event.detail, dict)
                and any(self.hides(element) for element in event.detail.get("joined_tasks") or ())
            ):
                # A message that joined the open task of an earlier catch, that task on a branch
                # hidden from the reader: whether it was open tells the branch (a catch where the
                # branch ended reads as any other).
                event.detail = {k: v for k, v in event.detail.items() if k not in JOINED_TASK_KEYS}
            if event.kind == EventKind.VERSION_MIGRATED and isinstance(event.detail, dict):
                # Which tasks and timers the case waited on when it moved is where it stood.
                moved = event.detail.get("tasks") or []
                event.detail = {**event.detail, "tasks": [m for m in moved if not self._hides_any(m)]}
            shown.append(event)
        return shown

    def completion(self, event):
        """The "case completed" event, shown to every reader (the case's status says it
        anyway): which end the case finished at, and who completed it (the user whose task or
        message ended it), only to a reader from whom no branch is hidden. Either tells the
        branch the case ended on (an end event on it; a task on it whose agency's user
        completed the case), and naming them to some readers and not to others would tell it
        as well; so the rule is the reader's view of the model, whatever the case did."""
        if self.hidden:
            event.element_id = ""
            event.actor = None
        return event

    def _hides_any(self, mapping) -> bool:
        elements = mapping.values() if isinstance(mapping, dict) else ()
        return any(self.hides(element) or element in self.timers for element in elements)

    def tasks(self, tasks):
        return [task for task in tasks if not self.hides(task.element_id)]


NO_PATH_HIDDEN = PathView({}, frozenset())
# What a message between two pools names of its sender (``steps.runner._record_pool_message``).
POOL_SENDER_KEYS = ("from_element", "from_pool", "fields")
# What a message that joined an open task says of it (``services.correlate_message``).
JOINED_TASK_KEYS = ("task_still_open", "joined_tasks")


def path_view_for(user, case, views=None) -> PathView:
    """The ``PathView`` of ``case`` for ``user``; ``views``: their ``policy.case_data_for``
    answer when the caller has it (else computed here, not logged: nothing is shown)."""
    runtime = case_runtime(case)
    if runtime is None or not (runtime.gateway_paths or runtime.timer_reads):
        return NO_PATH_HIDDEN
    fields = runtime.field_rules
    if views is None:
        views = policy.case_data_for(user, case, fields, log=False)
    # A field a hidden step wrote is left out of what the reader sees (``PathView.fields``): a
    # gateway or timer reading it reads what they do not see, and hides its branch in turn,
    # whose steps may write more. Again until nothing more is hidden (most models: once).
    return _widened(lambda unseen: _path_view(user, case, runtime, views, unseen=unseen))


def _path_view(user, case, runtime, views, unseen: frozenset[str] = frozenset()) -> PathView:
    """``path_view_for``'s one round: ``unseen``, fields counted as not seen whatever their
    category (a hidden step wrote them)."""
    fields = runtime.field_rules

    def sees(name: str) -> bool:
        return name not in unseen and policy.sees_field(views, fields, name)

    acting = rules.case_access(user, case).acting
    return _view_of(runtime, sees, {agency.kind for agency, _role in acting}, frozenset(a.pk for a, _r in acting))


def _view_of(runtime, sees: Callable[[str], bool], own_kinds, agencies: frozenset[int]) -> PathView:
    """The ``PathView`` of a reader who sees the names ``sees`` says, working the tasks of the
    agency kinds ``own_kinds`` (their inbox shows them) in the agencies ``agencies``."""
    timers = frozenset(element for element, names in runtime.timer_reads.items() if not all(map(sees, names)))
    own = {element for element, task in runtime.user_tasks.items() if task.get("agency_kind") in own_kinds}
    gateways = {
        gateway: path.branch_elements - own
        for gateway, path in runtime.gateway_paths.items()
        if not all(map(sees, path.reads))
    }
    handed = frozenset(element for element, by in runtime.handed_paths.items() if by & gateways.keys())
    hidden = frozenset().union(*gateways.values())
    written = frozenset().union(*(runtime.branch_writers.get(element, ()) for element in hidden | timers))
    return PathView(gateways, hidden, timers, handed, written, agencies)


def case_file_path_view(case, categories: Collection[str]) -> PathView:
    """The ``PathView`` of the case file handed to the archive (``retention.archive``): a
    reader who sees the ``categories`` the process's rules put in the case file (and the fields
    every participant sees), none of the case's tasks their own. A branch chosen by a value
    the case file leaves out (a health assessment) is hidden there as from NAV: its steps'
    events and the fields they wrote, which told the archive's readers that value (until
    2026-12-06, h-paths5)."""
    runtime = case_runtime(case)
    if runtime is None or not (runtime.gateway_paths or runtime.timer_reads):
        return NO_PATH_HIDDEN
    fields = runtime.field_rules

    def view_of(unseen: frozenset[str]) -> PathView:
        def sees(name: str) -> bool:
            category = rules.category_of(fields.fields.get(name, RESTRICTED))
            return name not in unseen and (name in fields.shared_fields or category in categories)

        return _view_of(runtime, sees, (), frozenset())

    return _widened(view_of)


def _widened(view_of: Callable[[frozenset[str]], PathView]) -> PathView:
    """A field a hidden step wrote is not seen either (as ``path_view_for``'s rounds): again
    until nothing more is hidden."""
    view = view_of(frozenset())
    while view.fields:
        widened = view_of(view.fields)
        if widened.fields == view.fields:
            return widened
        view = widened
    return view


def branch_fields_hidden_from_agency(case, access) -> frozenset[str]:
    """``branch_fields_hidden`` for an agency's standing (``rules.CaseAccess``) rather than a
    user: what a mail to its notification address may name (``workflows.jobs.safety_reminders``).
    A value is seen on its category's grounds with the case's consents, as its own data or as a
    field shared with all participants (``rules.decide_value``); no emergency opening, which is
    a user's own."""
    runtime = case_runtime(case)
    if runtime is None or not runtime.branch_writers:
        return frozenset()
    fields, sources = runtime.field_rules, case.data_sources or {}
    consents = rules.active_consents(case)
    kinds = {agency.kind for agency, _role in access.acting}
    agencies = frozenset(agency.pk for agency, _role in access.acting)

    def view_of(unseen: frozenset[str]) -> PathView:
        def sees(name: str) -> bool:
            category = rules.category_of(fields.fields.get(name, RESTRICTED))
            decision = rules.decide_value(
                access,
                category,
                consents,
                field_name=name,
                source_agency_id=sources.get(name),
                shared_fields=fields.shared_fields,
            )
            return name not in unseen and bool(decision)

        return _view_of(runtime, sees, kinds, agencies)

    return _widened(view_of).fields


def iter_case_file_events(case, view: PathView, categories: Collection[str], chunk: int = 2000) -> Iterator[Event]:
    """The case's events as the case file's reader (``view``: ``case_file_path_view``; the
    ``categories`` the case file holds) is shown them: the timeline's rule (``_timeline_without``,
    ``PathView.events``), a note of a category left out of it as masked (``masked_note_corrections``:
    no "note corrected" and no "safety confirmed" events, decided by the note's id and its
    category now, as the timeline decides them). Until 2026-12-07 the case file listed when and
    by which agency a health note was corrected, each time, though no note of health is in it;
    until h-safety4 when a safety note (``safety`` is not in the default case file) was
    confirmed again, each time, and a note corrected out of ``safety`` into a category left out
    kept its confirmations there. A lapsed warning is not masked: the case file keeps the
    record as it stood, its notes a lapsed warning marked (``archive.iter_case_file_notes``),
    as its keepers (the coordinator) read it. Read ``chunk`` rows at a time: a case has no
    bound on its events, and the archive export reads them all (``retention.case_file_timeline``)."""
    corrected = (
        Note.objects.filter(Q(corrected_at__isnull=False) | Q(confirmed_at__isnull=False), case=case.pk)
        .exclude(category__in=list(categories))
        .order_by()
        .values_list("category", "agency_id")
        .distinct()
    )
    masked = [value for kind in sorted(corrected) for value in kind]
    queryset = _timeline_without(case.pk, sorted(view.hidden), sorted(view.handed), sorted(view.fields), (), masked)
    if policy.SAFETY not in categories:
        # A safety file's confirmations (its category is fixed when it is added, and only a
        # safety file is confirmed), as a note's of a category left out (h-safety5).
        queryset = queryset.exclude(kind=EventKind.SAFETY_CONFIRMED, detail__has_key="attachment")
    rows: list[Event] = []
    for event in queryset.iterator(chunk_size=chunk):
        rows.append(event)
        if len(rows) == chunk:
            yield from view.events(rows)
            rows = []
    yield from view.events(rows)


@dataclass(frozen=True)
class Diagram:
    process_key: str
    version: int
    definition_id: int  # the deployed version: the page's script fetches its model by it
    bpmn_xml: str
    completed: list[str]
    active: list[str]
    waiting: tuple[Any, ...] | list[Any] = ()  # engine.WaitingEvent: the timers and messages the case waits on


def case_diagram_for(case, user, path_view: PathView | None = None) -> Diagram:
    """The case's BPMN model with the elements done and in progress marked (``path_view``:
    the reader's, when the caller has it)."""
    if not rules.can_view_case(user, case):
        raise NotFound("case.not_found")
    # The version's model, forms and spec come from the registry (read once per version).
    latest = _LATEST_STATE.rows(case.pk)
    if not latest:
        raise NotFound("case.no_instance")
    definition_id, state = latest[0]
    runtime = runtime_for(definition_id)
    # Read only: restored from the text, never taken from the cache of workflows to step.
    workflow = engine.load_workflow(runtime.bundle, state)
    path_view = path_view if path_view is not None else path_view_for(user, case)
    completed, active = path_view.diagram(*engine.element_states(workflow))
    return Diagram(
        process_key=runtime.key,
        version=runtime.version,
        definition_id=runtime.definition_id,
        bpmn_xml=runtime.bpmn_xml,
        completed=sorted(completed),
        active=sorted(active - completed),
        # What the case waits on, but not on a branch hidden from the reader (its name and
        # time would tell the branch), nor a timer whose time is read from a field the reader
        # does not see (it would tell the value).
        waiting=[
            event
            for event in engine.waiting_events(workflow)
            if not path_view.hides(event.element_id) and event.element_id not in path_view.timers
        ],
    )


def process_model_for(user, definition_id: int) -> DefinitionRuntime:
    """One deployed version of a process, whose model (``bpmn_xml``) the case and task pages'
    diagram fetches: for process admins, and for whoever sees a case that runs or ran it.
    The model is the process as deployed, nobody's data; which way a case went is personal
    and stays on its page. NotFound for everyone else (nothing said about its existence)."""
    if not rules.is_process_admin(user):
        runs = ProcessInstance.objects.filter(case=OuterRef("pk"), definition=definition_id)
        runs_it = Case.objects.filter(Exists(runs))
        if not rules.visible_cases(user, runs_it).exists():
            raise NotFound("process.not_found")
    try:
        return runtime_for(definition_id)
    except ProcessDefinition.DoesNotExist:
        raise NotFound("process.not_found") from None


# --- tasks -----------------------------------------------------------------------------


# The task-reader index's columns as a task list reads them (``TaskReader``): its deadline,
# equal to the task's, orders the list and bounds a cursor's page; its flag of an active task
# picks the index of active rows. Named so ``TaskFilter`` and the cursor find them.
LIST_DUE_AT = "list_due_at"
LIST_ACTIVE = "list_active"


def task_inbox_for(user, *, descending: bool = False, own: bool = False, own_agencies: bool = False):
    """Tasks of the cases ``user`` sees, soonest due first (``descending``: latest first).
    Narrow it with ``workflows.filters.TaskFilter`` (assigned to me or my agency, status,
    overdue, case); ``own``: it will be narrowed to the user's own or their agency's tasks
    (``assigned``), which the task's own indexes hold in the list's order. Tasks without a
    deadline come last on every database (PostgreSQL's own place for NULLs in an ascending
    index, so its plans are unchanged; SQLite would put them first).

    Any other list of a reader in one agency (``rules.task_reader_agency``) reads the
    task-reader index: the tasks of that agency's cases only, in the list's order, so a page
    costs about a page of rows however small the agency's share of all tasks (a quiet office
    walked ~3,000 rows of the whole table's order for 51; README "Read paths at scale"). The
    rules still decide every row, checked as it comes (``per_row``).

    ``own_agencies``: only the tasks that landed on the user's own agencies (the agency inbox,
    ``assigned=agency``), each of which a list shows them whatever its path read; so the rule
    for other agencies' tasks is not added. Its conditions, an OR over the task's agency, its
    path and its case's coordinator, took 0.6 of the 1.0 ms PostgreSQL spent planning each
    inbox read."""
    tasks = Task.objects.select_related("agency", "assignee", "case", "case__person")
    # A one-agency reader's rows are checked as they come in every list: those it reads from
    # the task-reader index, and its own or its agency's tasks, all of its own cases.
    per_row = rules.task_reader_agency(user) is not None
    agency_id = _task_reader_agency(user, own)
    if agency_id is not None:
        # One filter() and the annotations after it: one join, to the agency's row of each task.
        tasks = (
            tasks.filter(readers__agency_id=agency_id)
            .annotate(**{LIST_DUE_AT: F("readers__due_at")})
            .alias(**{LIST_ACTIVE: F("readers__active")})
        )
    queryset = rules.visible_case_rows(user, tasks, per_row=per_row)
    listed = rules.own_agency_task_rows if own_agencies else rules.listed_task_rows
    queryset = listed(user, queryset)
    return queryset.order_by(*task_list_order(user, descending=descending, own=own or own_agencies))


def _task_reader_agency(user, own: bool) -> int | None:
    return None if own or user is None else rules.task_reader_agency(user)


def task_list_order(user=None, *, descending: bool = False, own: bool = False) -> tuple:
    """The task lists' order: soonest due first, those without a deadline last, then by id
    (``descending``: the reverse). For a list read from the task-reader index, its deadline
    (the task's own, kept equal), which its index holds in this order."""
    due = LIST_DUE_AT if _task_reader_agency(user, own) is not None else "due_at"
    if descending:
        return (f"-{due}", "-id")
    return (F(due).asc(nulls_last=True), "id")


def task_list_keys(user, *, descending: bool = False, own: bool = False):
    """A queryset in the order of ``user``'s task list, for its keys (never read)."""
    queryset = Task.objects.all()
    if _task_reader_agency(user, own) is not None:
        queryset = queryset.annotate(**{LIST_DUE_AT: F("readers__due_at")})
    return queryset.order_by(*task_list_order(user, descending=descending, own=own))


# Read on every request that opens or works a task: compiled once (``permissions.prepared``).
_TASK_BY_ID = Prepared(
    lambda task_id: Task.objects.select_related("case", "case__person", "agency", "assignee").filter(pk=task_id)[:1],
    kinds=(int,),
)
_OPEN_CASE_TASKS = Prepared(
    lambda case_id: (
        Task.objects.filter(case=case_id, status__in=ACTIVE_TASK_STATUSES)
        .select_related("agency", "assignee", "case")
        .order_by("id")
    ),
    kinds=(int,),
)


def _open_case_tasks_reading_policy(case_id, user_id, at):
    """``_OPEN_CASE_TASKS`` with, on each row, the version the case runs (as ``case_runtime``
    reads it) and the policy's reads for ``user_id`` at ``at`` (``rules.policy_reads``)."""
    latest = ProcessInstance.objects.filter(case=OuterRef("case_id")).order_by("-id").values("definition_id")[:1]
    return (
        Task.objects.filter(case=case_id, status__in=ACTIVE_TASK_STATUSES)
        .select_related("agency", "assignee", "case")
        .annotate(
            case_definition_id=Subquery(latest),
            **rules.policy_reads(user_id, at, case="case_id", person="case__person_id"),
        )
        .order_by("id")
    )


_OPEN_CASE_TASKS_READING_POLICY = Prepared(_open_case_tasks_reading_policy, kinds=(int, int, datetime.datetime))


def open_case_tasks(case) -> list[Task]:
    """``case_tasks(case)`` as a list, by a statement compiled once (the API's answers)."""
    return _OPEN_CASE_TASKS.objects(case.pk)


def task_for(user, task_id) -> Task:
    """The task if ``user`` sees its case, and its path tells them nothing they may not see
    (another agency's task on a branch their ``PathView`` hides); NotFound otherwise. On
    PostgreSQL it is opened as ``task_view_for`` opens it (``_opened_task``: a task of a case
    the reader does not see is no row, and the path view asks the database nothing more)."""
    if folds_rows(connection) and getattr(user, "is_authenticated", False):
        with rules.read_once():
            return _opened_task(user, task_id)[0]
    found = _TASK_BY_ID.objects(lookup_id(task_id))
    task = found[0] if found else None
    if task is None or not rules.can_view_task(user, task) or path_hides_task(user, task):
        raise NotFound("task.not_found")
    return task


def path_hides_task(user, task) -> bool:
    """Whether ``task`` is another agency's on a branch ``user``'s ``PathView`` hides: such a
    task answers as one that does not exist (404), read or worked (``services.tasks``), since
    a refusal naming it would tell the branch."""
    if task.agency_id in rules.case_agency_ids(user) or not task.path_categories:
        return False
    return path_view_for(user, task.case).hides(task.element_id)


def task_colleagues_for(user, task) -> list:
    """Whom ``user`` may give ``task`` to: the people with a case role in its agency, for the
    agency's lead (``rules.can_assign_task``); nobody for everyone else."""
    if not rules.can_assign_task(user, task, user):
        return []
    users = get_user_model().objects.filter(
        is_active=True, memberships__agency_id=task.agency_id, memberships__role__in=CASE_ROLES
    )
    return list(users.distinct().order_by("first_name", "last_name", "username"))


_DEFINITION_OF_INSTANCE = Prepared(
    lambda instance_id: ProcessInstance.objects.filter(pk=instance_id).values_list("definition_id"), kinds=(int,)
)


def task_runtime(task) -> DefinitionRuntime:
    """The process version the task's instance runs."""
    (definition_id,) = _DEFINITION_OF_INSTANCE.rows(task.instance_id)[0]
    return runtime_for(definition_id)


def task_form(task) -> dict | None:
    """The JSON schema of the task's form (None for a task without one)."""
    return case_outcomes.live_form(*task_runtime(task).form_for(task.element_id))[0]


# --- incidents -------------------------------------------------------------------------


def _incidents():
    return Incident.objects.select_related("case__person", "resolved_by", "job").order_by("-created_at", "-id")


def incidents_for(user):
    """Incidents, newest first, for process admins; Forbidden for everyone else. Narrow it
    with ``workflows.filters.IncidentFilter`` (resolved or still open)."""
    if not rules.can_view_incidents(user):
        raise Forbidden("process_admin.works_cases" if rules.is_process_admin(user) else "incident.view_forbidden")
    return _incidents()


_INCIDENT_SHOWN = (
    *(field.name for field in Incident._meta.concrete_fields),
    "case__reference",
    "case__data",
    "case__data_common",
    "case__person_name",
    "case__person__name",
    "case__person__national_id",
    "resolved_by__username",
    "job__kind",
    "job__status",
    "job__attempts",
    "job__last_error",
    "job__last_error_message",
)


def incidents_listing(user, filterset) -> PreparedList:
    """``incidents_for`` narrowed by the valid filters of ``filterset`` (a bound
    ``IncidentFilter``), read by compiled statements (the API's list): a filter's choice is
    part of the statement's text, so of its shape."""
    if not rules.can_view_incidents(user):
        raise Forbidden("process_admin.works_cases" if rules.is_process_admin(user) else "incident.view_forbidden")
    chosen = filterset.cleaned_data
    given = tuple((name, chosen[name]) for name in filterset.base_filters if chosen.get(name) not in (None, ""))
    filters = type(filterset)(queryset=Incident.objects.none()).filters  # not the request's: kept with the statement

    def build():
        # Of the related rows only what ``IncidentSerializer`` shows (and the case's data its
        # error text is scrubbed of): a case's every column made into an object per row was
        # most of a page's Python.
        queryset = _incidents().only(*_INCIDENT_SHOWN)
        for name, value in given:
            queryset = filters[name].filter(queryset, value)
        return queryset

    return PreparedList(_PAGED_LISTS, ("incidents", given), build, model=Incident, order=("-created_at", "-id"))


# --- what one user sees of one case or task (through permissions.policy: logged) ---------


@dataclass(frozen=True)
class CaseView:
    case: Case
    participants: list
    person: dict
    data: dict
    open_tasks: list
    next_timer_at: datetime.datetime | None  # the case's next timer
    outcome: case_outcomes.OutcomeView | None = None  # masked as its housing data is
    path_view: PathView = NO_PATH_HIDDEN  # what the reader may infer of the case's path
    tasks: list | None = None  # every task the path view shows (``every_task``), else None

    @property
    def next_deadline(self) -> datetime.datetime | None:
        """The case's next deadline: its next timer or an open task's due date, the earlier."""
        dates = [task.due_at for task in self.open_tasks if task.due_at] + [self.next_timer_at]
        return min((d for d in dates if d), default=None)


def case_runtime(case) -> DefinitionRuntime | None:
    """The process version the case runs (its latest instance); remembered on the case object."""
    if "_brobygger_runtime" not in case.__dict__:
        if "latest_definition_id" in case.__dict__:  # read with the case (``_case_by_id``)
            definition_id = case.latest_definition_id
        else:
            latest = _LATEST_DEFINITION.rows(case.pk)
            definition_id = latest[0][0] if latest else None
        case.__dict__["_brobygger_runtime"] = runtime_for(definition_id) if definition_id else None
    return case.__dict__["_brobygger_runtime"]


def remember_runtimes(cases) -> None:
    """``case_runtime`` for many cases in one query (a list that shows something of each
    case's forms): each case object remembers its process version."""
    pending = [case for case in cases if "_brobygger_runtime" not in case.__dict__]
    if not pending:
        return
    # ordered by id, the latest instance of a case is the last one written into the dict
    latest = dict(
        ProcessInstance.objects.filter(case_id__in={case.pk for case in pending})
        .order_by("id")
        .values_list("case_id", "definition_id")
    )
    for case in pending:
        definition_id = latest.get(case.pk)
        case.__dict__["_brobygger_runtime"] = runtime_for(definition_id) if definition_id else None


def case_field_rules(case) -> policy.FieldRules:
    runtime = case_runtime(case)
    return runtime.field_rules if runtime is not None else policy.NO_FIELDS


def case_view_for(user, case_id, *, every_task: bool = False) -> CaseView:
    """The case with its data grouped by category, shown or masked for ``user``. Every
    revealed category is written to the access log by ``permissions.policy``. With
    ``every_task`` the completed tasks come too (``tasks``), in the same query."""
    case = case_for(user, case_id)
    fields = case_field_rules(case)
    with rules.read_once():  # the path view's reads and the data's: the same consents
        path_view = path_view_for(user, case)
        data = policy.case_data_for(user, case, fields, hidden=path_view.fields, show_earlier=True)
    tasks = path_view.tasks(_CASE_TASKS.objects(case.pk) if every_task else open_case_tasks(case))
    return CaseView(
        case=case,
        participants=_CASE_PARTICIPANTS.objects(case.pk),
        person=policy.person_for(user, case, fields),
        data=data,
        open_tasks=[task for task in tasks if task.status in ACTIVE_TASK_STATUSES] if every_task else tasks,
        next_timer_at=case_next_timer_at(case, user, path_view),
        outcome=case_outcomes.outcome_view(case, data, runtime.forms if (runtime := case_runtime(case)) else {}),
        path_view=path_view,
        tasks=tasks if every_task else None,
    )


@dataclass(frozen=True)
class TaskView:
    task: Task
    form_schema: dict | None
    person: dict
    case_data: dict


def task_view_for(user, task_id) -> TaskView:
    """The task, its form and the case data ``user`` may see while working it (logged): the
    API's task and the task page. Its policy's reads come with the task (``_opened_task``)."""
    with rules.read_once():
        task, definition_id, at = _opened_task(user, task_id)
        runtime = runtime_for(definition_id)
        fields = runtime.field_rules
        # The national id's read (a form that needs it in full) goes into the one INSERT of
        # the case data's reads: it was an INSERT of its own.
        person_read: list = []
        person = policy.person_for(user, task.case, fields, task=task, logged=person_read, at=at)
        return TaskView(
            task=task,
            form_schema=case_outcomes.live_form(*runtime.form_for(task.element_id))[0],
            person=person,
            case_data=_opened_case_data(user, task, runtime, at, person_read),
        )


def _opened_case_data(user, task, runtime, at, person_read: list) -> dict:
    """The case data ``user`` sees while working ``task`` (``policy.case_data_for``, logged
    with ``person_read``), what a step on a branch their path view hides wrote left out.

    The path view decides from what the reader sees of the case data: the same views, but for
    the hidden fields and the logging. So when the case runs the task's model (its field
    rules) those views are made once, with the task and ``at``, their log rows not made yet;
    the path view decides from them, and when it hides no field they are the answer and their
    rows are made and inserted (one policy pass, not two: the first was about a tenth of an
    opened task's instructions). When it hides fields the answer is made again without them,
    as before."""
    case, fields = task.case, runtime.field_rules
    path_runtime = case_runtime(case) if runtime.branch_writers else None
    if (
        path_runtime is not None
        and path_runtime.field_rules is fields
        and (path_runtime.gateway_paths or path_runtime.timer_reads)
    ):
        log: list = []
        views = policy.case_data_for(user, case, fields, task=task, at=at, also_log=person_read, log_into=log)
        hidden = path_view_for(user, case, views=views).fields
        if not hidden:
            (rows,) = log
            insert_rows(rows())
            return views
    else:
        hidden = branch_fields_hidden(user, case, runtime)
    return policy.case_data_for(user, case, fields, task=task, at=at, also_log=person_read, hidden=hidden)


def _task_opening(task_id, user_id, at):
    """The task (as ``_TASK_BY_ID``), its instance's definition and the policy's reads for
    ``user_id`` at ``at`` (``rules.policy_reads``), in one statement."""
    return (
        Task.objects.select_related("case", "case__person", "agency", "assignee")
        # A task of a case the reader does not see is no row, as an id no task has
        # (docs/security.md "404 alike"): not a row, its reads and then a 404.
        .filter(rules.sees_case_of_row(user_id), pk=task_id)
        .annotate(
            opened_definition_id=F("instance__definition_id"),
            # The version the case runs (``case_runtime``, for the path view), in the same round trip.
            case_definition_id=_latest_definition(OuterRef("case_id")),
            **rules.policy_reads(user_id, at, case="case_id", person="case__person_id"),
        )
        .order_by()
    )


_TASK_OPENING = Prepared(_task_opening, kinds=(int, int, datetime.datetime))


def _opened_task(user, task_id):
    """``task_for``, the id of the definition its instance runs and the moment the policy's
    rows were read at. On PostgreSQL one statement reads them all and the reader's standing,
    the consents and the openings are remembered for the answer
    (``rules.remember_policy_reads``); elsewhere each is read when asked, as before, but at
    the same moment: the read's access-log rows (the national id's and the case data's) are
    one read, logged at one time."""
    if not (folds_rows(connection) and getattr(user, "is_authenticated", False)):
        task = task_for(user, task_id)
        return task, _DEFINITION_OF_INSTANCE.rows(task.instance_id)[0][0], timezone.now()
    at = timezone.now()
    found = _TASK_OPENING.objects(lookup_id(task_id), user.pk, at)
    task = found[0] if found else None
    if task is None:
        raise NotFound("task.not_found")
    memberships = getattr(user, "_brobygger_memberships", None)
    rules.remember_policy_reads(user, task.case, task)
    for name in rules.POLICY_READS:  # rows for the rules only: nothing else reads them off the task
        delattr(task, name)
    task.case.__dict__.setdefault("latest_definition_id", task.__dict__.pop("case_definition_id"))
    if not rules.can_view_task(user, task) or path_hides_task(user, task):
        # Answered as no row: the memberships this row read are not kept either, so what the
        # answer reads after (the 404 page's menu) is what it reads for an id no task has.
        user._brobygger_memberships = memberships
        raise NotFound("task.not_found")
    return task, task.opened_definition_id, at


# --- consents and the access log ---------------------------------------------------------


def consents_for_case(*, actor, case):
    """All consents recorded in the case (active, expired and revoked), newest first."""
    case = case_for(actor, case)
    return (
        Consent.objects.filter(case=case)
        .select_related("agency", "legal_basis", "recorded_by", "revoked_by")
        .annotate(
            note_shown=ExpressionWrapper(rules.consent_note_shown(actor, case), output_field=BooleanField()),
            purpose_shown=ExpressionWrapper(rules.consent_purpose_shown(actor, case), output_field=BooleanField()),
        )
        .order_by("-given_at", "-id")
    )


def consent_as_read(*, actor, consent: Consent) -> Consent:
    """One consent (an answer to its recording or withdrawal) read again with ``note_shown``
    and ``purpose_shown`` for ``actor``, as ``consents_for_case`` gives each: anyone who works the case may
    withdraw it."""
    shown = ExpressionWrapper(rules.consent_note_shown(actor, consent.case), output_field=BooleanField())
    purpose = ExpressionWrapper(rules.consent_purpose_shown(actor, consent.case), output_field=BooleanField())
    return (
        Consent.objects.select_related("agency", "legal_basis", "recorded_by", "revoked_by")
        .annotate(note_shown=shown, purpose_shown=purpose)
        .get(pk=consent.pk)
    )


# Every case page lists them: compiled once (``permissions.prepared``).
_CASE_CONSENTS = Prepared(
    lambda case_id: (
        Consent.objects.filter(case=case_id)
        .select_related("agency", "legal_basis", "recorded_by", "revoked_by")
        .order_by("-given_at", "-id")
    ),
    kinds=(int,),
)


def case_consents_for(*, actor, case) -> list[Consent]:
    """``consents_for_case`` as a list (the case page's), its statement compiled once; each
    with ``purpose_shown`` for ``actor`` (``rules.consent_purposes_shown``)."""
    case = case_for(actor, case)
    consents = _CASE_CONSENTS.objects(case.pk)
    shown = rules.consent_purposes_shown(actor, case, consents)
    for consent in consents:
        consent.purpose_shown = consent.pk in shown
    return consents


def _access_log(case_id):
    return AccessLog.objects.filter(case=case_id).select_related("agency", "user", "break_glass").order_by("-at", "-id")


def access_log_for_case(*, actor, case):
    """The case's access log, for its coordinators and auditors (design §7)."""
    return _access_log(case_whose_access_log_reads(actor, case).pk)


def mask_hidden_bases(actor, rows, case=None) -> list:
    """``rows`` (access-log rows, read) as a list, each whose basis names a service task that
    ``actor``'s path view of its case hides with that element left out of its basis
    (``rules.masked_basis``, in memory only): the row stays (who got which category is the
    person's to know), which element ran does not (it tells the branch, as the diagram and
    the timeline would). One path view per case among the rows that name an element; ``case``:
    the rows' one case, when the caller has it (else each row's, read with it)."""
    rows = list(rows)
    views: dict[int, PathView] = {}
    for row in rows:
        element = rules.basis_element(row.basis)
        if not element or row.case_id is None:
            continue
        if row.case_id not in views:
            views[row.case_id] = path_view_for(actor, case if case is not None else row.case)
        if views[row.case_id].hides(element):
            row.basis = rules.masked_basis(row.basis)
    return rows


def access_log_listing(*, actor, case) -> PreparedList:
    """``access_log_for_case`` read by compiled statements (the API's access log)."""
    case = case_whose_access_log_reads(actor, case)
    return PreparedList(_PAGED_LISTS, "access log", _access_log, (case.pk,), model=AccessLog, order=("-at", "-id"))


def _with_reads(openings):
    """Openings annotated with ``reads``: the access-log rows of reads and downloads made under
    each (case data, notes, attachments), for whoever reviews what an opening was used for."""
    reads = (
        AccessLog.objects.filter(break_glass_id=OuterRef("pk"), action__in=(AccessAction.READ, AccessAction.EXPORT))
        .order_by()
        .values("break_glass_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return openings.annotate(reads=Coalesce(Subquery(reads, output_field=IntegerField()), 0))


def break_glass_for_case(*, actor, case):
    """The case's break-glass openings with their reasons, for its coordinators and auditors
    (``rules.can_view_break_glass``; others who see the case: 403, the rest 404)."""
    case = case_whose_access_log_reads(actor, case)
    return _with_reads(
        BreakGlass.objects.filter(case=case)
        .select_related("case", "user", "agency", "reviewed_by")
        .order_by("-opened_at", "-id")
    )


# The case page shows a coordinator the newest openings: compiled once.
CASE_OPENINGS_SHOWN = 100
_CASE_OPENINGS = Prepared(
    lambda case_id: _with_reads(
        BreakGlass.objects.filter(case=case_id).select_related("user", "agency", "reviewed_by")
    ).order_by("-opened_at", "-id")[:CASE_OPENINGS_SHOWN],
    kinds=(int,),
)


def case_openings_for(*, actor, case) -> list[BreakGlass]:
    """The newest ``break_glass_for_case`` as a list (the case page's), compiled once."""
    return _CASE_OPENINGS.objects(case_whose_access_log_reads(actor, case).pk)


def break_glass_to_review(actor):
    """The auditor's review list: openings not yet reviewed in cases where an agency in
    which ``actor`` is an auditor takes part (``rules.reviewable_break_glass``), oldest first."""
    if not rules.is_auditor(actor):
        raise Forbidden("break_glass.review_forbidden")
    reviewable = rules.reviewable_break_glass(actor, BreakGlass.objects.filter(reviewed_at__isnull=True))
    return _with_reads(
        rules.with_auditing_agency(actor, reviewable)  # the standing its read is logged on
        .select_related("case", "user", "agency")
        .order_by("opened_at", "id")
    )


def break_glass_review_page(actor):
    """The auditor's review page: ``break_glass_to_review``'s openings and, with them in the
    same statement, the reviewed ones still in force (an auditor ends one there once it is
    needed no longer, as from the API: ``services.end_break_glass``), oldest first. Split by
    ``reviewed_at``."""
    if not rules.is_auditor(actor):
        raise Forbidden("break_glass.review_forbidden")
    in_force = Q(reviewed_at__isnull=False, ended_at__isnull=True, expires_at__gt=timezone.now())
    reviewable = rules.reviewable_break_glass(actor, BreakGlass.objects.filter(Q(reviewed_at__isnull=True) | in_force))
    return _with_reads(
        rules.with_auditing_agency(actor, reviewable)
        .select_related("case", "user", "agency")
        .order_by("opened_at", "id")
    )


class _NamedByItsCases:
    """A page about a person names them as its ``cases`` do (``case_names``), never by
    ``Person.name``."""

    cases: list

    @property
    def names(self) -> list[str]:
        """The person's names as the cases of this page give them, the latest case's first."""
        return case_names(self.cases)

    @property
    def name(self) -> str:
        return self.names[0]


@dataclass(frozen=True)
class PersonAccessReport(_NamedByItsCases):
    """Who saw the data of a person, when and on what basis: the person's right to know
    (domain.md), given to them by a coordinator or auditor of one of their cases."""

    person: object  # workflows.Person: its name is not shown (``names``)
    cases: list  # the person's cases whose access log is in the report
    entries: object  # the access-log rows grouped (``access_groups``), the line read last first: unread
    lines: AccessLines  # the same, read a page at a time over the days a page spans
    generated_at: datetime.datetime


# What the report tells of each read (GDPR art. 15: who, which agency, what, when, on what
# basis): the reads alike in all of these on one day are one line, with their number and
# first and last time. A participant who reads the case page 600 times a minute adds one
# line a day, not 1,800 rows a minute.
ACCESS_GROUP_KEYS = (
    "day",
    "agency_id",
    "user_id",
    "username",
    "role",
    "case_id",
    "category",
    "action",
    "shown_basis",  # the basis as the reader is shown it (``shown_bases``), not as stored
    "break_glass_id",
)


@dataclass
class AccessGroup:
    """One line of the report: ``reads`` access-log rows alike in ``ACCESS_GROUP_KEYS``,
    the first at ``first_at``, the last at ``last_at``."""

    day: datetime.date
    first_at: datetime.datetime
    last_at: datetime.datetime
    reads: int
    user: object | None
    username: str
    role: str
    agency: Agency | None
    case: Case
    case_id: int
    category: str
    action: str
    basis: str  # masked where the reader's path view hides its element (``mask_hidden_bases``)
    break_glass: BreakGlass | None

    @property
    def action_label(self) -> str:
        return str(AccessAction(self.action).label)


def shown_bases(actor, rows, cases):
    """The basis of each of ``rows`` (access-log rows of ``cases``) as ``actor`` is shown it,
    as an SQL expression: ``rules.masked_basis`` of a basis naming an element that the
    reader's path view of its case hides, else the basis as stored. Lines grouped by it are
    grouped as the reader reads them: grouped by the stored basis and masked afterwards, two
    hidden elements made two lines where one element twice made one, which told the reader
    how many hidden elements ran (h-attack32). A path view only for the cases whose rows
    name an element at all (one statement over the rows' index tells which)."""
    # One probe a case into the few rows that name a task (``accesslog_task_basis``), which
    # stops at the first: DISTINCT over the person's rows read all of them (0.05 s at 200,000).
    named_rows = rows.filter(Q(basis__startswith="external-task:") | Q(basis__startswith="service-task:"))
    named = set(
        Case.objects.filter(pk__in=[case.pk for case in cases])
        .filter(Exists(named_rows.filter(case_id=OuterRef("pk"))))
        .values_list("pk", flat=True)
    )
    masks = []
    for case in cases:
        if case.pk not in named:
            continue
        for element in sorted(path_view_for(actor, case).hidden):
            # ``external-task:<element>`` and ``service-task:<process>:<element>`` (element ids
            # hold no colon): the basis less ``:<element>``, as ``rules.masked_basis`` leaves it.
            masks.append(When(case_id=case.pk, basis=f"external-task:{element}", then=Value("external-task")))
            masks.append(
                When(
                    Q(case_id=case.pk, basis__startswith="service-task:", basis__endswith=f":{element}"),
                    then=Left("basis", Length("basis") - len(element) - 1),
                )
            )
    if not masks:
        return F("basis")
    return CaseWhen(*masks, default=F("basis"), output_field=CharField())


def access_groups(rows, shown_basis=None) -> QuerySet:
    """``rows`` (access-log rows) grouped by ``ACCESS_GROUP_KEYS`` (the day in ``TIME_ZONE``),
    each with its number of reads, first and last time and ``last_id``: the group's newest
    row, unique, what a page's cursor names (``api.pagination.GroupKeysetPagination``). The
    group read last comes first (rows are written as they are read: the newest row is the
    last read), so a new read moves its line to the top. One statement a page over the
    rows' index (``accesslog_person_time``): what it sends grows with the lines, not the reads.
    ``shown_basis``: the basis each row shows the reader (``shown_bases``); without it, as stored."""
    zone = timezone.get_default_timezone()
    return (
        rows.annotate(
            day=TruncDate("at", tzinfo=zone),
            shown_basis=F("basis") if shown_basis is None else shown_basis,
        )
        .order_by()
        .values(*ACCESS_GROUP_KEYS)
        .annotate(
            reads=Count("id"),
            first_at=Min("at"),
            last_at=Max("at"),
            last_id=Max("id"),
            # ``day`` again, as an aggregate: a cursor's condition on it is then HAVING as the
            # one on ``last_id`` is (the grouped ``day`` there, its zone a second parameter,
            # is not the grouped expression to PostgreSQL).
            line_day=Max(TruncDate("at", tzinfo=zone)),
        )
        # By day first: a page's lines then lie within as many of the person's days as it has
        # lines (``AccessLines``), whatever the rows' ids say of their times.
        .order_by("-line_day", "-last_id")
    )


def _midnight(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=timezone.get_default_timezone())


# The n-th day (in TIME_ZONE) with a row of the person in the cases, from a bound on: one
# index probe a day and case (``accesslog_case_time_id`` read backwards, or forwards), never
# the rows of a day. Older: the newest row before the bound; newer: the oldest at or after it.
_DAY_WALK = """
WITH RECURSIVE days(day, n) AS (
    SELECT (SELECT ({edge}(a.at) AT TIME ZONE %(zone)s)::date
            FROM unnest(%(cases)s::bigint[]) AS c(id),
            LATERAL (SELECT {edge}(l.at) AS at FROM permissions_accesslog l
                     WHERE l.case_id = c.id AND l.person_id = %(person)s AND l.at {beyond} %(from)s) a), 1
  UNION ALL
    SELECT (SELECT ({edge}(a.at) AT TIME ZONE %(zone)s)::date
            FROM unnest(%(cases)s::bigint[]) AS c(id),
            LATERAL (SELECT {edge}(l.at) AS at FROM permissions_accesslog l
                     WHERE l.case_id = c.id AND l.person_id = %(person)s
                       AND l.at {beyond} ((days.day + {step})::timestamp AT TIME ZONE %(zone)s)) a), days.n + 1
    FROM days WHERE days.day IS NOT NULL AND days.n < %(days)s
)
SELECT day FROM days WHERE n = %(days)s
"""


def nth_day_of_reads(*, person_id, case_ids, start: datetime.datetime, days: int, newer: bool = False):
    """The ``days``-th day (in ``TIME_ZONE``) on which the person has access-log rows in
    ``case_ids``, counting from ``start`` (older days: rows before it; ``newer``: at or after
    it); None when they have fewer such days, or on SQLite (the demo's small log: no bound)."""
    if connection.vendor != "postgresql" or not case_ids:
        return None
    sql = _DAY_WALK.format(edge="min" if newer else "max", beyond=">=" if newer else "<", step=1 if newer else 0)
    params = {
        "zone": str(timezone.get_default_timezone()),
        "cases": list(case_ids),
        "person": person_id,
        "from": start,
        "days": days,
    }
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        found = cursor.fetchone()
    return found[0] if found else None


@dataclass(frozen=True)
class AccessLines:
    """The report's lines (``access_groups`` of the person's rows in ``case_ids``), read a page
    at a time over the rows of the days the page can span: every day with a row has a line,
    so ``n`` lines in the order of ``access_groups`` (the newest day first) lie within the
    ``n`` newest days with rows past the page's start. Found by ``nth_day_of_reads`` (an
    index probe a day), the bound keeps the statement off the rows of all the person's other
    days: a page grouped all of them, 0.9 s at 200,000 rows (perf23), and more with every read.
    Narrowed for a cursor (``narrow_page``: the keyset pages of the API and of the report's page)."""

    groups: QuerySet
    person_id: int
    case_ids: tuple

    def narrowed(self, groups: QuerySet, *, day: datetime.date | None, newer: bool, lines: int) -> QuerySet:
        """``groups`` bounded to the days of the ``lines`` lines past a page's start: the lines
        of ``day`` and the days older than it (``newer``: it and the days newer), from the
        newest day when ``day`` is None."""
        if day is None:
            start = datetime.datetime.max.replace(tzinfo=datetime.UTC)
        elif newer:
            start = _midnight(day)
            groups = groups.filter(at__gte=start)
        else:
            start = _midnight(day + datetime.timedelta(days=1))
            groups = groups.filter(at__lt=start)
        # The start's own day may have no line left to read: one day more than lines.
        edge = nth_day_of_reads(
            person_id=self.person_id, case_ids=self.case_ids, start=start, days=lines + 1, newer=newer
        )
        if edge is None:
            return groups
        if newer:
            return groups.filter(at__lt=_midnight(edge + datetime.timedelta(days=1)))
        return groups.filter(at__gte=_midnight(edge))

    def narrow_page(self, groups: QuerySet, keys, values, limit: int) -> QuerySet:
        """A keyset page's statement (``workflows.keyset.read_narrowed``: the API's pages and
        the report's page) bounded to the days its ``limit`` lines lie within: older than the
        cursor's day going forward (the keys descending), newer going back."""
        day = None if values is None else values[0]  # ``line_day``, the order's first key
        return self.narrowed(groups, day=day, newer=not keys[0].descending, lines=limit)


def access_groups_shown(actor, groups, cases) -> list[AccessGroup]:
    """A page of ``access_groups`` (dicts) as ``AccessGroup``s, their agencies, users and
    emergency accesses read for the page at once (three statements at most, whatever the
    rows), each basis masked as ``mask_hidden_bases`` masks a row's."""
    groups = list(groups)
    by_case = {case.pk: case for case in cases}

    def bulk(model, key):
        wanted = {group[key] for group in groups if group[key] is not None}
        return model.objects.in_bulk(wanted) if wanted else {}

    agencies = bulk(Agency, "agency_id")
    users = bulk(get_user_model(), "user_id")
    openings = bulk(BreakGlass, "break_glass_id")
    shown = [
        AccessGroup(
            day=group["day"],
            first_at=group["first_at"],
            last_at=group["last_at"],
            reads=group["reads"],
            user=users.get(group["user_id"]),
            username=group["username"],
            role=group["role"],
            agency=agencies.get(group["agency_id"]),
            case=by_case[group["case_id"]],
            case_id=group["case_id"],
            category=group["category"],
            action=group["action"],
            basis=group["shown_basis"],
            break_glass=openings.get(group["break_glass_id"]),
        )
        for group in groups
    ]
    return mask_hidden_bases(actor, shown)


def case_names(cases) -> list[str]:
    """The person's names as ``cases`` (at least one) give them, each once, the latest
    case's first. A page about a person shows these, never ``Person.name``: that is the name
    the person's first case was started with, by whichever agency, and a reader who reaches
    the person only through a case they started with another name must not learn it."""
    latest_first = sorted(cases, key=lambda case: (case.opened_at, case.pk), reverse=True)
    return list(dict.fromkeys(case.person_name for case in latest_first))


def person_access_report(*, actor, case, log: bool = True) -> PersonAccessReport:
    """The access report of the person of ``case``: the access-log rows about them in each
    of their cases whose log ``actor`` may read (``rules.can_view_access_log``), grouped
    (``access_groups``: the caller reads a page of them, ``access_groups_shown``). Its read
    is logged (``log_person_access_report``) here, or with ``log=False`` by the caller once
    it has read the request's cursor (a refused one logs nothing), before the page is read.

    The person's other cases are neither shown nor counted: they may be with agencies that
    the reader must not learn of (that someone is in treatment is itself confidential), and
    a count would tell anyone who starts a case with a national id whether its person is
    already a client elsewhere. So the report says, whatever the person has, that it covers
    its cases only and that other services keep their own logs.
    """
    case = case_whose_access_log_reads(actor, case)
    theirs = Case.objects.filter(person_id=case.person_id)
    readable = list(
        rules.with_access_log_standing(actor, rules.cases_with_readable_access_log(actor, theirs)).order_by(
            "opened_at", "pk"
        )
    )
    if log:
        policy.log_access_report(actor, readable)
    # Grouped and read a page at a time (``access_groups``): the rows, one for every read,
    # are as many as a participant cares to make (1,800 a minute at the page rate limit),
    # and all of them answered at once took seconds and megabytes at 20,000.
    rows = AccessLog.objects.filter(person_id=case.person_id, case__in=[c.pk for c in readable])
    entries = access_groups(rows, shown_bases(actor, rows, readable))
    return PersonAccessReport(
        person=case.person,
        cases=readable,
        entries=entries,
        lines=AccessLines(entries, case.person_id, tuple(c.pk for c in readable)),
        generated_at=timezone.now(),
    )


def log_person_access_report(actor, report: PersonAccessReport) -> None:
    """The read of ``report`` (``person_access_report(log=False)``) in the access log of each
    case it covers (``policy.log_access_report``)."""
    policy.log_access_report(actor, report.cases)


def case_whose_access_log_reads(actor, case):
    """The case (given, or by id) if ``actor`` reads its access log (``rules.can_view_access_log``:
    its coordinators, and auditors who see no case); 403 for others who see the case, 404 for
    the rest. What the page's access-log section and the API both read the case by."""
    if not isinstance(case, Case):
        case = case_of_standing(actor, case)  # None too for a case with no standing of theirs
    if case is None:
        raise NotFound("case.not_found")
    # Every answer below rests on the reader's standing in the case: read first, it comes with
    # their memberships in one statement (``rules._read_standing``), not after them.
    rules.case_access(actor, case)
    if rules.can_view_access_log(actor, case):
        return case
    if not rules.can_view_case(actor, case):
        raise NotFound("case.not_found")
    raise Forbidden("access_log.forbidden")


# --- caseload -------------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseloadRow:
    user: object | None  # None: the open cases nobody is responsible for
    open_cases: int
    open_tasks: int
    overdue_tasks: int
    closed_last_year: int


@dataclass(frozen=True)
class Caseload:
    agency: Agency
    rows: list[CaseloadRow]


def caseload_for(user, *, now=None) -> list[Caseload]:
    """Per housing agency the user leads: each contact's open cases, the open and overdue
    tasks of those cases, and the cases closed in the past year. Counts only: no case data,
    no person; the cases counted are those the agency takes part in with its grant
    (``rules.caseload_cases``), its tasks those the lead may see."""
    if not rules.can_view_caseload(user):
        raise Forbidden("caseload.forbidden")
    now = now or timezone.now()
    loads = []
    for agency in rules.caseload_agencies(user).order_by("name"):
        cases = rules.caseload_cases(user, agency, Case.objects.all()).order_by()
        open_cases = cases.filter(status=CaseStatus.OPEN)
        by_user = _counts(open_cases, "responsible")
        closed = _counts(
            cases.filter(status=CaseStatus.COMPLETED, closed_at__gte=now - datetime.timedelta(days=365)), "responsible"
        )
        tasks = (
            rules.listed_task_rows(user, Task.objects.filter(case__in=open_cases, status__in=ACTIVE_TASK_STATUSES))
            .order_by()
            .values_list("case__responsible")
            .annotate(n=Count("id"), late=Count("id", filter=Q(due_at__lt=now)))
        )
        task_counts = {responsible: (n, late) for responsible, n, late in tasks}
        contacts = list(rules.housing_contacts(agency))
        known = {contact.pk for contact in contacts}
        others = [pk for pk in {*by_user, *closed} if pk is not None and pk not in known]  # left the agency
        contacts += list(get_user_model().objects.filter(pk__in=others).order_by("username"))
        rows = [
            CaseloadRow(
                contact,
                by_user.get(contact.pk, 0),
                *task_counts.get(contact.pk, (0, 0)),
                closed.get(contact.pk, 0),
            )
            for contact in contacts
        ]
        rows.append(CaseloadRow(None, by_user.get(None, 0), *task_counts.get(None, (0, 0)), closed.get(None, 0)))
        loads.append(Caseload(agency, rows))
    return loads


def _counts(cases, field: str) -> dict:
    return dict(cases.values_list(field).annotate(n=Count("id", distinct=True)).values_list(field, "n"))


# --- one person, one path -------------------------------------------------------------------


@dataclass(frozen=True)
class PersonPath(_NamedByItsCases):
    person: Person  # its name is not shown (``names``)
    national_id: str  # masked
    cases: list  # the person's cases the user sees, oldest first, with ``process_name``

    @property
    def other_names(self) -> list[str]:
        return self.names[1:]


def person_path_for(user, person_id) -> PersonPath:
    """The person's cases over time that ``user`` may see (the same rules as each case page),
    each listing written to the access log; NotFound when the user sees none of them."""
    person = Person.objects.filter(pk=lookup_id(person_id)).first()
    cases = []
    if person is not None:
        cases = list(
            rules.visible_cases(user, Case.objects.filter(person=person))
            .select_related("coordinator_agency", "responsible", "follows")
            .order_by("opened_at", "id")
        )
    if person is None or not cases:
        raise NotFound("person.not_found")
    names = dict(
        ProcessDefinition.objects.filter(key__in={c.process_key for c in cases})
        .order_by("key", "version")
        .values_list("key", "name")
    )
    shown = {case.pk for case in cases}
    for case in cases:
        case.process_name = names.get(case.process_key) or case.process_key
        # The case it follows only when that one is on the path the user sees, too.
        case.shown_follows = case.follows if case.follows_id in shown else None
    policy.log_person_path(user, cases)
    return PersonPath(person, shown_masked(person.national_id), cases)
