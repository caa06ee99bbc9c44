"""Working a task: claim, unclaim, complete. ``workflows.services`` is the entry.

Each is one transaction with the instance row locked; completing is the hot path of the
whole system (see ``complete_task`` and ``workflows.steps.rows``).
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from bpmn.engine import runtime as engine
from bpmn.engine.errors import TaskStateError
from bpmn.registry import runtime_for
from core import hooks
from core.errors import Conflict, Forbidden, InvalidInput
from core.ids import lookup_id
from permissions import rules
from workflows import case_outcomes, input_limits, selectors, steps
from workflows.forms import form_errors
from workflows.models import (
    Event,
    EventKind,
    ProcessInstance,
    Task,
    TaskStatus,
)
from workflows.services import room
from workflows.steps import rows


def _task_for(actor, task_id) -> Task:
    """The task if the actor may work it; claiming and unclaiming. Opened as reading it opens
    it (``selectors.task_for``): NotFound when invisible, a task of a case the actor does not
    see being no row, as an id no task has; Forbidden when visible but another agency's."""
    task = selectors.task_for(actor, task_id)
    if not rules.can_work_task(actor, task):
        raise Forbidden("task.other_agency", agency=task.agency.name)
    return task


def check_task_workable(*, actor, task_id) -> None:
    """Refuse as working ``task_id`` would before its status is read: NotFound when the actor
    does not see it (or its branch), Forbidden when it is another agency's, also when the
    actor's own agency was withdrawn from the case (``_workable``). An ``Idempotency-Key``
    replay of a completion asks this first (``api.idempotency``): the stored answer is not
    given to someone who may no longer act on the task."""
    _task_for(actor, task_id)


def _lock_instance(task: Task, actor) -> ProcessInstance:
    """Lock the task's instance and case (``steps.lock_instance``), then re-read what may
    have changed while we waited: the task's status and assignee, and its agency (a version
    migration may have routed it to another one: then whether the actor may work it is
    decided again, as for anyone who comes after the migration)."""
    agency_id = task.agency_id
    instance = steps.lock_instance(task.instance_id)
    task.refresh_from_db(fields=["status", "assignee", "claimed_at", "completed_at", "completed_by", "agency"])
    task.case = instance.case
    if task.agency_id != agency_id:
        _workable(task, actor, task.pk)
    return instance


def _ensure_open_to(task: Task, actor) -> None:
    """Conflict, saying why, unless the task is still ``Task.is_open_to`` the actor."""
    if task.is_open_to(actor.pk):
        return
    if task.status in (TaskStatus.COMPLETED, TaskStatus.CANCELLED):
        raise Conflict("task.completed" if task.status == TaskStatus.COMPLETED else "task.cancelled")
    raise Conflict(
        "task.claimed_by_other",
        name=(task.assignee.get_full_name() or task.assignee.get_username()) if task.assignee else "?",
    )


def claim_task(*, actor, task_id) -> Task:
    task = _task_for(actor, task_id)
    with transaction.atomic():
        _lock_instance(task, actor)
        _ensure_open_to(task, actor)
        if task.status == TaskStatus.CLAIMED:
            return task  # already ours: claiming twice is harmless
        _check_claims_left(task, actor)
        task.status, task.assignee, task.claimed_at = TaskStatus.CLAIMED, actor, timezone.now()
        task.save(update_fields=["status", "assignee", "claimed_at"])
        _task_event(task, EventKind.TASK_CLAIMED, actor)
    return task


CLAIMS_WINDOW = timedelta(hours=24)


def _check_claims_left(task: Task, actor) -> None:
    """Conflict when ``actor`` has claimed ``task`` (taken it, taken it over, handed it on as
    its agency's lead) ``TASK_CLAIMS_PER_USER`` times in the last 24 hours. Each claim and each
    release is an event of the case's timeline: a member who took and released a task in a loop
    (two cheap requests) made a case file that kept a job worker busy for minutes to hours, every
    attempt (the case file now folds and caps its timeline, ``retention.case_file_timeline``; the
    timeline itself still grows). A release needs a claim before it, so this bounds both. A day,
    not the task's life: a caseworker who takes a long follow-up task each morning and puts it
    back at night is never refused. Read with the instance locked (``_lock_instance``): two claims
    at once are counted one after the other. The task stays open to everyone else, and to
    completing it unclaimed."""
    since = timezone.now() - CLAIMS_WINDOW
    made = Event.objects.filter(task=task, actor=actor, kind=EventKind.TASK_CLAIMED, created_at__gte=since)
    room.refuse_when_full(made, settings.TASK_CLAIMS_PER_USER, code="task.claims_full")


def _task_event(task: Task, kind: str, actor, **fields) -> None:
    """A claim or its release on the case timeline, naming the task's agency and element."""
    Event.objects.create(
        case=task.case,
        instance_id=task.instance_id,
        task=task,
        kind=kind,
        actor=actor,
        agency=task.agency,
        element_id=task.element_id,
        **fields,
    )


def unclaim_task(*, actor, task_id) -> Task:
    task = _task_for(actor, task_id)
    with transaction.atomic():
        _lock_instance(task, actor)
        _ensure_open_to(task, actor)
        if task.status != TaskStatus.CLAIMED:
            raise Conflict("task.not_claimed")
        task.status, task.assignee, task.claimed_at = TaskStatus.OPEN, None, None
        task.save(update_fields=["status", "assignee", "claimed_at"])
        _task_event(task, EventKind.TASK_UNCLAIMED, actor)
    return task


def reassign_task(*, actor, task_id, assignee=None) -> Task:
    """Take over a task a colleague has claimed (``assignee`` None: the actor takes it), or,
    for the agency's lead, hand it to a named colleague (``assignee``: a user or their id).

    Logged as a claim whose ``detail`` names who had it, so the timeline shows the handover.
    Refused for a task that is not claimed (claim it instead) or no longer open.
    """
    task = _task_for(actor, task_id)
    if assignee is None:
        new_assignee = actor
        if not rules.can_take_over_task(actor, task):
            raise Forbidden("task.other_agency", agency=task.agency.name)
    else:
        new_assignee = _colleague(assignee)
        if new_assignee is None or not rules.can_assign_task(actor, task, new_assignee):
            raise Forbidden("task.assign_forbidden")
    with transaction.atomic():
        _lock_instance(task, actor)
        if task.status in (TaskStatus.COMPLETED, TaskStatus.CANCELLED):
            raise Conflict("task.completed" if task.status == TaskStatus.COMPLETED else "task.cancelled")
        if task.status != TaskStatus.CLAIMED:
            raise Conflict("task.not_claimed")
        if task.assignee_id == new_assignee.pk:
            return task
        _check_claims_left(task, actor)
        previous = task.assignee
        task.assignee, task.claimed_at = new_assignee, timezone.now()
        task.save(update_fields=["assignee", "claimed_at"])
        _task_event(
            task,
            EventKind.TASK_CLAIMED,
            actor,
            detail={"from_user": previous.pk if previous else None, "to_user": new_assignee.pk},
        )
    return task


def _colleague(assignee):
    if not isinstance(assignee, int | str):
        return assignee
    return get_user_model().objects.filter(pk=lookup_id(assignee), is_active=True).first()


def complete_task(*, actor, task_id, data: dict, open_tasks: selectors.OpenTasksRead | None = None) -> Task:
    """Complete an open user task of the actor's agency with the data of its form.

    The hot path of the whole system: three round trips to the database. The first locks
    the instance and case rows, reads them with the task, and marks the task completed if
    it is still open and not claimed by someone else (``rows.lock_and_complete``); the
    checks below decide, and any refusal rolls that back. The step's writes go in one
    batch (two when it creates tasks), then the commit.
    """
    input_limits.check_data(data)
    with transaction.atomic():
        now = timezone.now()
        completion = rows.lock_and_complete(lookup_id(task_id), actor.pk, now)
        if completion.task is not None:
            # The work rule below and the answer's visibility check read these, not the database.
            rules.remember_standing(actor, completion.task.case, completion.memberships)
        if completion.moved:
            # A version migration moved the task while we waited for the lock (the task row
            # read with it is the one from before): decide on the task as it is now.
            moved = completion.task
            assert moved is not None  # ``moved`` says so
            moved.refresh_from_db(fields=["agency", "element_id", "name", "lane", "form"])
            completion.agency_standing = any(
                membership.agency_id == moved.agency_id and membership.stands
                for membership in completion.memberships or ()
            )
        task = _workable(completion.task, actor, task_id, agency_standing=completion.agency_standing)
        instance = task.instance
        runtime = runtime_for(instance.definition_id)
        schema, validator = case_outcomes.live_form(*runtime.form_for(task.element_id))
        errors = form_errors(schema, validator, data) + case_outcomes.rule_errors(schema, data)
        if errors:
            raise InvalidInput("form.invalid", errors=errors)
        if not completion.completed:
            # Someone else completed or claimed it while we waited for the lock: say which.
            task.refresh_from_db(fields=["status", "assignee", "claimed_at", "completed_at", "completed_by"])
            _ensure_open_to(task, actor)
            raise Conflict("task.not_open")
        task.status, task.completed_at, task.completed_by = TaskStatus.COMPLETED, now, actor
        if task.assignee_id is None:
            task.assignee = actor

        def act(workflow):
            try:
                engine.complete_user_task(workflow, str(task.spiff_task_id), data)
            except TaskStateError as exc:
                # The projection said open but the engine disagrees: the state moved on.
                raise Conflict("task.not_open") from exc

        # Nothing reads or writes after the step: it commits in its last batch (``Step.commits``).
        step = steps.Step(
            instance, actor=actor, acting_agency=task.agency, participants=completion.participants, commits=True
        )
        step.merge_case_data(data, task.agency_id, (task.element_id,))
        case_outcomes.record_outcome(
            schema, data, case=instance.case, actor=actor, agency_id=task.agency_id, element_id=task.element_id
        )
        step.event(
            EventKind.TASK_COMPLETED,
            task=task,
            agency_id=task.agency_id,
            element_id=task.element_id,
            detail={"fields": sorted(data)},
        )
        if open_tasks is not None:
            open_tasks.queue(step, task.case_id, now)
        steps.run_step(step, act, completes=str(task.spiff_task_id))
        facts = {"process": task.case.process_key, "agency_kind": task.agency.kind}
        transaction.on_commit(lambda: hooks.emit(hooks.TASK_COMPLETED, **facts))
    return task


def _workable(task: Task | None, actor, task_id, *, agency_standing: bool | None = None) -> Task:
    """``task`` (the row read for ``task_id``) if the actor may work it: NotFound when
    invisible (no existence leak), Forbidden when visible but another agency's.
    ``agency_standing``: whether the task's agency still takes part in the case with its
    grant, when the caller read it already."""
    # Working it needs the agency's current grant on the case, so it implies seeing it.
    if task is not None and rules.can_work_task(actor, task, agency_standing=agency_standing):
        return task
    # Otherwise whether it is there for the actor at all is decided as reading it decides
    # (``selectors.task_for``), for a row and for no row alike: a task of a case they do not
    # see, another agency's task on a branch their path view hides (a 403 naming its agency
    # would tell which way the case went) and an id no task has answer the same 404 after the
    # same statements (docs/security.md "404 alike").
    seen = selectors.task_for(actor, task_id)
    raise Forbidden("task.other_agency", agency=seen.agency.name)
