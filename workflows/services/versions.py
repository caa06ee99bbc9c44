"""Moving running cases to a new version of their process (a process admin's action).

``migration_counts`` says how many running instances stand alike (wait on the same elements,
going to the same elements of the target version, kept from moving by the same reasons; each
instance in one such row): counts only, never a case (a model of the admin's making could route each case by
a value of its data, and a preview per case would read it back), shown only with the small
ones hidden (``insight.migration_preview``); ``migrate_instances`` moves
one case or every case of a version in one audited action (``VersionMigration``): each
instance is locked, moved with SpiffWorkflow's own diff and migration
(``bpmn.engine.migration``), advanced, and its task rows, timer job and timeline brought
up to date, in one transaction. An instance that cannot move stays where it is and is
listed with its reasons; nothing of a refused instance is written.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from django.db import DatabaseError, transaction

from bpmn.engine import migration as engine_migration
from bpmn.engine import runtime as engine
from bpmn.engine.service_tasks import EXTERNAL
from bpmn.models import ProcessDefinition
from bpmn.registry import runtime_for
from core.errors import Forbidden, InvalidInput, NotFound, field_error
from core.ids import parse_id
from permissions import policy, rules
from permissions.models import RESTRICTED
from workflows import steps
from workflows.jobs import queue
from workflows.models import (
    ACTIVE_TASK_STATUSES,
    EventKind,
    InstanceStatus,
    Job,
    JobKind,
    JobStatus,
    ProcessInstance,
    Task,
    TaskStatus,
    VersionMigration,
)
from workflows.steps import rows

# An instance on an incident is fixed first: its failed task's element may be what changed.
INCIDENT_REASON = "instance-has-incident"
# A waiting task whose element the new version routes to an agency kind the case lacks.
NO_PARTICIPANT_REASON = "lane-without-participant"
# A field the new version would show more widely (``rules.migration_opens_field``): no
# case moves, since its recorded values would be shown on the new grounds; ``element_id``
# is the field's name.
FIELD_OPENED_REASON = "field-category-changed"
# A gateway (or timer) whose path the new version would show to readers the old one hid it
# from (``_opened_paths``): no case moves, since the branch a case took (or the moment its
# timer fires) was decided by the values the old version read; ``element_id`` names it.
PATH_OPENED_REASON = "path-opened"
# The new version failed on the case as it was set up on it (a timer whose moment its
# expression computes from the case's data, and could not): the case stays where it is. Its
# failure may say what the data holds, so it is told as a refusal is (``migrate_instances``).
TARGET_FAILED_REASON = "target-failed"
REASONS = (
    *engine_migration.REASONS,
    INCIDENT_REASON,
    NO_PARTICIPANT_REASON,
    FIELD_OPENED_REASON,
    PATH_OPENED_REASON,
    TARGET_FAILED_REASON,
)


def reason_code(problem: engine_migration.MigrationProblem | Problem) -> str:
    """The message code of a problem (``core.messages``; its param is ``element``)."""
    return f"migration.reason.{problem.reason}"


@dataclass
class InstancePreview:
    """One instance's standing: for the move itself (``migrate_instances``), never shown."""

    instance_id: int
    case_id: int
    from_version: int
    waiting: list[engine_migration.TaskMapping] = field(default_factory=list)
    problems: list[engine_migration.MigrationProblem] = field(default_factory=list)

    @property
    def possible(self) -> bool:
        return not self.problems


# How a hidden count is marked: fewer than ``SMALL`` (1 to 4), or hidden so that such a
# count cannot be worked out from the numbers beside it (``insight.privacy``'s "\u00d7").
HIDDEN_SMALL = "small"
HIDDEN_COMPLEMENTARY = "complementary"


@dataclass(frozen=True)
class Count:
    """A number of cases as the preview shows it: ``value`` None where it is hidden."""

    value: int | None
    hidden: str = ""  # "", HIDDEN_SMALL or HIDDEN_COMPLEMENTARY


@dataclass(frozen=True)
class Waiting:
    """An element a case waits on, and the element it would wait on in the target version."""

    element_id: str
    name: str
    new_element_id: str | None
    changed: tuple[str, ...]


@dataclass(frozen=True)
class Problem:
    """A reason (at an element) that keeps a case from moving."""

    element_id: str
    reason: str


@dataclass(frozen=True)
class StandingRow:
    """The cases that stand alike: they wait on the same elements (going to the same elements
    of the target version) and the same reasons keep them from moving (none: they can move).
    Each case is in exactly one row, so the rows add up to the cases, those without a reason
    to the cases that can move and those with one to the cases that cannot, and no other sum
    ties them (``insight.migration_preview``)."""

    waiting: tuple[Waiting, ...]
    problems: tuple[Problem, ...]
    cases: Count

    @property
    def possible(self) -> bool:
        return not self.problems


@dataclass
class MigrationPlan:
    key: str
    from_version: int
    to_version: int
    cases: Count  # running on the source version (incidents included)
    movable: Count
    refused: Count
    standings: list[StandingRow]


def _require_admin(actor) -> None:
    if not rules.can_use_directory(actor):
        raise NotFound("process.not_found")  # who sees no process learns nothing of them
    if not rules.can_migrate_cases(actor):
        raise Forbidden("process_admin.works_cases" if rules.is_process_admin(actor) else "migration.forbidden")


def _versions(key: str, from_version, to_version) -> tuple[ProcessDefinition, ProcessDefinition]:
    definitions = ProcessDefinition.objects.defer("spec_json", "bpmn_xml").filter(key=key)
    source = definitions.filter(version=parse_id(from_version) or 0).first()
    if source is None:
        raise NotFound("process.not_found")
    if to_version is None:
        target = definitions.order_by("-version").first()
        if target is None:  # the source itself is one of them
            raise NotFound("process.not_found")
    else:
        target = definitions.filter(version=parse_id(to_version) or 0).first()
        if target is None:
            raise InvalidInput("migration.no_target", errors=[field_error("to_version", "migration.no_target")])
    if target.pk == source.pk:
        raise InvalidInput("migration.same_version", errors=[field_error("to_version", "migration.same_version")])
    return source, target


def _candidates(source: ProcessDefinition, case_id=None):
    instances = ProcessInstance.objects.filter(
        definition=source, status__in=(InstanceStatus.RUNNING, InstanceStatus.INCIDENT)
    )
    if case_id is not None:
        instances = instances.filter(case_id=parse_id(case_id) or 0)
    return instances.order_by("id")


def _preview_one(
    instance: ProcessInstance, workflow, source, target_runtime, participants: set[str] | None = None
) -> InstancePreview:
    """``participants``: the agency kinds of the case, when read already (else read here)."""
    result = engine_migration.preview(workflow, target_runtime.bundle)
    preview = InstancePreview(
        instance_id=instance.pk,
        case_id=instance.case_id,
        from_version=source.version,
        waiting=result.waiting,
        problems=list(result.problems),
    )
    if instance.status == InstanceStatus.INCIDENT:
        preview.problems.insert(0, engine_migration.MigrationProblem("", INCIDENT_REASON))
    # Of every case alike, whatever it holds: which fields a case has values of is case data.
    source_runtime = runtime_for(source)
    preview.problems += [
        engine_migration.MigrationProblem(name, FIELD_OPENED_REASON)
        for name in _opened_fields(source_runtime.field_rules, target_runtime.field_rules)
    ]
    preview.problems += [
        engine_migration.MigrationProblem(element, PATH_OPENED_REASON)
        for element in _opened_paths(source_runtime, target_runtime)
    ]
    for mapping in result.waiting:
        routed = _routed_in(target_runtime, mapping.new_element_id)
        if routed is None:
            continue
        if participants is None:
            participants = set(rows.participant_agencies(instance.case_id))
        if routed.get("agency_kind") not in participants:
            preview.problems.append(
                engine_migration.MigrationProblem(mapping.new_element_id or "", NO_PARTICIPANT_REASON)
            )
    return preview


def _routed_in(runtime, element_id: str | None) -> dict | None:
    """The element's routing in ``runtime``, when it goes to an agency: a user task, or a
    service task whose fields go to the system of the agency of its lane (an external task
    that system fetches, or a connector the worker calls, which refuses an agency the case
    lacks: ``jobs.service.receiver_refusal``)."""
    if element_id is None:
        return None
    if element_id in runtime.user_tasks:
        return runtime.user_tasks[element_id]
    declared = runtime.service_tasks.get(element_id)
    return declared if declared is not None and declared.get("agency_kind") else None


def _opened_paths(source, target) -> list[str]:
    """The gateways and timers of the source version whose path the target would show more
    widely. A reader is shown an element on a gateway's branch only when they see every
    field the gateway reads (``selectors.path_view_for``, from the case's current version),
    and a timer's moment only when they see the fields its expression reads. A case moved
    keeps the branch its old gateway chose and the moment its old timer computed, so each
    element the source hides behind a gateway must stay behind a target gateway reading at
    least those fields, and each timer read at least those fields, none of them shown more
    widely (``rules.migration_opens_field``: a script's variable made a form field)."""
    source_fields, target_fields = source.field_rules, target.field_rules

    def covers(reads, wider) -> bool:
        return reads <= wider and not any(
            rules.migration_opens_field(name, source_fields, target_fields) for name in reads
        )

    opened = set()
    for gateway, path in source.gateway_paths.items():
        for element in path.branch_elements:
            if not any(
                element in other.branch_elements and covers(path.reads, other.reads)
                for other in target.gateway_paths.values()
            ):
                opened.add(gateway)
                break
    for timer, reads in source.timer_reads.items():
        if reads and not covers(reads, target.timer_reads.get(timer, frozenset())):
            opened.add(timer)
    return sorted(opened)


def _opened_fields(source_fields, target_fields) -> list[str]:
    """The fields the target version would show more widely than the source version
    (``rules.migration_opens_field``): values recorded under the old category stay there."""
    # Only the source's fields hold recorded values: a field new in the target holds none yet.
    return sorted(
        name for name in source_fields.fields if rules.migration_opens_field(name, source_fields, target_fields)
    )


def migration_counts(*, actor, key: str, from_version, to_version=None) -> MigrationPlan:
    """How many running instances of ``key`` version ``from_version`` stand alike: wait on the
    same elements, going to the same elements of the target version (the latest when
    ``to_version`` is None), and are kept from moving by the same reasons (a row per such
    standing, each case in one row). Counts of cases, never a case. Exact, so never shown as
    they are: the preview (``insight.migration_preview.preview_migration``) hides the small
    ones. Writes nothing."""
    _require_admin(actor)
    source, target = _versions(key, from_version, to_version)
    target_runtime, source_bundle = runtime_for(target), runtime_for(source).bundle
    candidates = _candidates(source)
    kinds = rows.participant_kinds(candidates.values("case_id"))
    standings: Counter[tuple[tuple[Waiting, ...], tuple[Problem, ...]]] = Counter()
    total = movable = 0
    for instance in candidates:
        workflow = engine.load_workflow(source_bundle, instance.state)
        preview = _preview_one(instance, workflow, source, target_runtime, kinds.get(instance.case_id, set()))
        total += 1
        movable += preview.possible
        waiting = {Waiting(m.element_id, m.name, m.new_element_id, m.changed) for m in preview.waiting}
        problems = {Problem(p.element_id, p.reason) for p in preview.problems}
        standings[tuple(sorted(waiting, key=_waiting_order)), tuple(sorted(problems, key=_problem_order))] += 1
    return MigrationPlan(
        key=key,
        from_version=source.version,
        to_version=target.version,
        cases=Count(total),
        movable=Count(movable),
        refused=Count(total - movable),
        standings=[
            StandingRow(waiting, problems, Count(n))
            for (waiting, problems), n in sorted(standings.items(), key=_standing_order)
        ],
    )


def _waiting_order(waiting: Waiting) -> tuple:
    return (waiting.element_id, waiting.new_element_id or "", waiting.changed, waiting.name)


def _problem_order(problem: Problem) -> tuple:
    return (problem.element_id, problem.reason)


def _standing_order(item) -> tuple:
    """Those that can move first, then by the elements they wait on and their reasons: an
    order of what the rows say, never of how many they count."""
    (waiting, problems), _n = item
    return (bool(problems), [_waiting_order(w) for w in waiting], [_problem_order(p) for p in problems])


def migrate_instances(*, actor, key: str, from_version, to_version=None, case_id=None) -> VersionMigration:
    """Move every running instance of ``key`` version ``from_version`` (or those of one
    case) to the target version, in one transaction with its audit record. Instances that
    cannot move stay and are listed in ``refused`` with their reasons."""
    _require_admin(actor)
    source, target = _versions(key, from_version, to_version)
    source_bundle, target_runtime = runtime_for(source).bundle, runtime_for(target)
    record = VersionMigration(key=key, from_definition=source, to_definition=target, actor=actor)
    told: list[tuple[ProcessInstance, int]] = []  # the cases whose outcome tells their branch, with its categories
    moved: list[tuple[ProcessInstance, int]] = []  # the cases moved, likewise
    failed_on_data = False  # the target failed on some case's data: refused (``TARGET_FAILED_REASON``) or an incident
    with transaction.atomic():
        for candidate_id in _candidates(source, case_id).values_list("id", flat=True):
            instance = _lock_jobs_then_instance(candidate_id)
            if instance.definition_id != source.pk or instance.status not in (
                InstanceStatus.RUNNING,
                InstanceStatus.INCIDENT,
            ):
                continue  # moved or finished meanwhile
            workflow = engine.load_workflow(source_bundle, instance.state)
            preview = _preview_one(instance, workflow, source, target_runtime)
            refused = preview.problems
            ran_on_data = False  # the target's expressions ran on this case's data and failed
            if not refused:
                try:
                    mapping = engine_migration.migrate(workflow, target_runtime.bundle)
                    # The state must restore onto the new version before anything is written.
                    engine.load_workflow(target_runtime.bundle, engine.dump_workflow(workflow))
                except engine_migration.MigrationRefused as exc:
                    refused = exc.problems
                except DatabaseError:
                    raise
                except Exception:
                    # SpiffWorkflow sets the waiting branches up again on the new model, and
                    # so computes a changed timer's moment from the case's data: a bare
                    # Exception when it cannot. It failed the whole move (a 500, nothing
                    # written, nothing logged), so a target whose timer failed on one value
                    # read each case's value, asked one case at a time, silently (h-attack37).
                    refused, ran_on_data = [engine_migration.MigrationProblem("", TARGET_FAILED_REASON)], True
                    failed_on_data = True
            if refused:
                record.refused.append(
                    {
                        "instance": instance.pk,
                        "case": instance.case.reference,
                        "problems": [{"element_id": p.element_id, "reason": p.reason} for p in refused],
                    }
                )
                mask = _standing_mask(source, preview.waiting, refused)
                told.append((instance, mask | _data_mask(source, instance.case) if ran_on_data else mask))
                continue
            _write_migrated(instance, workflow, mapping, actor=actor, source=source, target_runtime=target_runtime)
            record.migrated.append(instance.pk)
            mask = _standing_mask(source, preview.waiting, ())
            if instance.status == InstanceStatus.INCIDENT:
                # The new version's first step on the case failed (it was not on an incident
                # before: those are refused): the incident list names the case and the element,
                # so a target whose script failed on one value read each case's value in one
                # move that refused none (h-attack37). Told, with what its data holds.
                told.append((instance, mask | _data_mask(source, instance.case)))
                failed_on_data = True
            else:
                moved.append((instance, mask))
        record.save()
        if case_id is not None or record.refused or failed_on_data:
            # That a case moved tells where it stands as surely as a refusal would have (its
            # waiting elements are in the target version: a target crafted to refuse one
            # branch's cases moves the other's), when the move asked for it alone or refused
            # others beside it. A move refusing none of every case, and failing on none, tells
            # no case's branch.
            if failed_on_data:
                # Moved cleanly: the target did not fail on its data where it failed on another's.
                moved = [(instance, mask | _data_mask(source, instance.case)) for instance, mask in moved]
            told += moved
        policy.log_move_outcomes_told(actor, record.pk, told)
    return record


def _standing_mask(source: ProcessDefinition, waiting, problems) -> int:
    """The categories (``rules.PATH_CATEGORY_BITS``) that where the case stands tells: those
    the gateways read on whose branches its waiting and refused elements lie."""
    masks = runtime_for(source).path_masks
    mask = 0
    for element_id in {*(w.element_id for w in waiting), *(p.element_id for p in problems)}:
        mask |= masks.get(element_id or "", 0)
    return mask


def _data_mask(source: ProcessDefinition, case) -> int:
    """The categories (``rules.PATH_CATEGORY_BITS``) of the values ``case`` holds, by the
    source version's fields: what a step of the target version that failed on them may tell."""
    fields = runtime_for(source).fields
    return rules.path_mask(fields.get(name, RESTRICTED) for name in (case.data or {}))


def _owed(instance_id: int):
    return Job.objects.filter(
        instance_id=instance_id,
        kind__in=queue.SERVICE_KINDS,
        status__in=(JobStatus.PENDING, JobStatus.RUNNING, JobStatus.FAILED),
    )


def _owed_service_jobs(instance_id: int):
    return _owed(instance_id).select_for_update()


def _lock_owed_service_jobs(instance_id: int) -> set[int]:
    """Hold the instance's owed service jobs before the instance, as every job runner takes
    them (the job, then the instance: an agency's system answering its external task, the
    connector worker). Taken after the instance, the rerouting met such an answer holding
    the job and waiting for the instance, and PostgreSQL failed one of the two
    (``tests/api/test_external_task_migration_races.py``). Returns their ids."""
    return set(_owed_service_jobs(instance_id).order_by("pk").values_list("pk", flat=True))


# How often the jobs and the instance are taken again when a step wrote a job between the two.
LOCK_ATTEMPTS = 5


class _JobWrittenMeanwhile(Exception):
    pass


def _lock_jobs_then_instance(instance_id: int):
    """The instance, locked after its owed service jobs, with none owed that is not held.

    A step holding the instance may write a job between the two locks (the task before the
    service task completed): the rerouting then took it after the instance, and an agency's
    system that had fetched it and was answering (its job held, waiting for the instance)
    met the migration in a circle, and PostgreSQL failed one of the two
    (``test_an_answer_to_a_task_created_while_the_migration_took_its_locks_neither_deadlocks_nor_fails``).
    Once the instance is held no step writes one; a job seen then that was not held lets go
    of both (a savepoint rolled back releases the locks taken in it) and takes them again in
    order. After ``LOCK_ATTEMPTS`` the instance is kept as it is (the rerouting then takes a
    later job after it, as before)."""
    for attempt in range(LOCK_ATTEMPTS):
        try:
            with transaction.atomic():
                held = _lock_owed_service_jobs(instance_id)
                instance = steps.lock_instance(instance_id)
                owed = set(_owed(instance_id).values_list("pk", flat=True))  # read, not taken
                if owed <= held or attempt == LOCK_ATTEMPTS - 1:
                    return instance
                raise _JobWrittenMeanwhile
        except _JobWrittenMeanwhile:
            continue
    raise AssertionError("unreachable: the last attempt returns")


def _write_migrated(instance, workflow, mapping, *, actor, source, target_runtime) -> None:
    instance.definition_id = target_runtime.definition_id
    step = steps.Step(instance, actor=actor)
    step.batch.update(instance, ("definition",))
    # The new version's forms may give its safety fields other times in force: when the case's
    # warnings lapse is counted by them (``policy.warning_columns``), written with the step.
    moved = policy.keep_warning_columns(instance.case, target_runtime.field_rules)
    step.case_fields = tuple(dict.fromkeys((*step.case_fields, *moved)))
    step.event(
        EventKind.VERSION_MIGRATED,
        detail={
            "from_version": source.version,
            "to_version": target_runtime.version,
            "tasks": [{"from": m.element_id, "to": m.new_element_id} for m in mapping.waiting],
        },
    )
    _reproject_open_tasks(step, workflow, target_runtime)
    _reroute_service_jobs(step, mapping, target_runtime)
    # Advance on the new version: the timer job, the task rows (created and cancelled
    # against the rows that are open) and the instance are written like any step's.
    steps.advance(step, target_runtime, workflow)


def _reproject_open_tasks(step, workflow, target_runtime) -> None:
    """Open task rows whose engine task is still ready take the element, name, form, agency
    and path categories of its element in the new version (the engine task keeps its id)."""
    ready = {task.id: task for task in engine.ready_user_tasks(workflow)}
    participants = step.agencies()
    for row in Task.objects.filter(instance=step.instance, status__in=ACTIVE_TASK_STATUSES):
        ready_task = ready.get(str(row.spiff_task_id))
        if ready_task is None:
            continue  # withdrawn: the advance cancels the row
        kind = (target_runtime.user_tasks.get(ready_task.element_id) or {}).get("agency_kind")
        agency = participants.get(kind, row.agency)
        changes = {
            "element_id": ready_task.element_id,
            "name": ready_task.name,
            "lane": ready_task.lane or "",
            "form": ready_task.form or "",
            "agency": agency,
            # What the task's presence tells under the new version's gateways, as a task
            # created on it would carry (``steps.runner``): the lists across cases read it.
            "path_categories": target_runtime.path_masks.get(ready_task.element_id, 0),
        }
        if agency.pk != row.agency_id:
            # Another agency's inbox: nobody there holds it yet, so it waits there open (a
            # claimed task without an assignee could be neither claimed nor completed).
            changes.update(assignee=None, status=TaskStatus.OPEN, claimed_at=None)
        changed = [name for name, value in changes.items() if getattr(row, name) != value]
        if not changed:
            continue
        for name in changed:
            setattr(row, name, changes[name])
        row.save(update_fields=changed)


def _reroute_service_jobs(step, mapping, target_runtime) -> None:
    """Service calls still owed (pending, leased, or failed with an incident whose retry
    would send them) take the element, target and agency of their task's element in the
    new version: the old version's topic or agency would still fetch it, and another
    agency's system would receive what the new version sends to one agency only. A lease
    taken under the old routing ends when the agency or the kind of call changes: that
    system's answer is refused and the new agency fetches the task."""
    moved = {m.task_id: m.new_element_id for m in mapping.waiting if m.new_element_id}
    owed = _owed_service_jobs(step.instance.pk).order_by("pk")
    participants = None
    for job in owed:
        element = moved.get(job.payload.get("task_id"))
        declared = target_runtime.service_tasks.get(element or "")
        if declared is None:
            continue
        payload = {**job.payload, "element_id": element, "target": declared["target"]}
        payload.pop("agency_id", None)
        kind = JobKind.SERVICE
        if declared["kind"] == EXTERNAL:
            if participants is None:
                participants = step.agencies()
            # The preview refused a case without one (``_routed_in``), under the same lock.
            kind, payload["agency_id"] = JobKind.EXTERNAL_TASK, participants[declared["agency_kind"]].pk
        if (kind, payload) == (job.kind, job.payload):
            continue
        rerouted = kind != job.kind or payload.get("agency_id") != job.payload.get("agency_id")
        job.kind, job.payload = kind, payload
        if rerouted and job.status == JobStatus.RUNNING:
            job.status, job.lease_until, job.locked_by, job.due_at = JobStatus.PENDING, None, "", queue.now()
        job.save(update_fields=["kind", "payload", "status", "lease_until", "locked_by", "due_at"])
