# ruff: noqa: S608 - the statements are built from integers and names computed here, never from input
"""Rows at scale for the read paths, written by PostgreSQL itself (``generate_series``).

``load(cases=300_000, tasks=1_000_000)`` adds agencies (20 NAV offices, 10 prisons, 10 health
services, 5 hospitals, 10 housing offices), one user per agency in the demo roles (member;
the housing office's coordinator), and the cases with everything the lists show: persons,
participations, the guardian grants, process instances, tasks (90 % completed, the rest in
the inboxes, many overdue), an event per task, an access-log row per case and an incident
per hundred open cases. Cases are spread unevenly over the agencies of a kind (the first is
busy, the last quiet: a share of about (i+1)^(1/3) - i^(1/3) of the kind's cases), as
offices of different size are. The cases are opened over the same year at every size
(``OPENED_OVER_SECONDS``), so a smaller load has the same shares of closed, open and
overdue rows as a million.

The rows are for reading: every instance of a process carries the saved state of one case
just started on it (the case page draws its diagram from it; nothing here steps them), and
the tasks name the real user tasks, lanes and forms of the shipped processes, so the task
page finds its form. PostgreSQL only. Needs the shipped processes deployed.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db import connection, transaction

from bench.scale.searched import SEARCHED_EVERY, SEARCHED_NAME, SEARCHED_UP_TO
from bpmn.models import ProcessDefinition
from bpmn.registry import runtime_for
from permissions.models import Agency, AgencyKind, Membership, Role
from workflows import services
from workflows.models import Case, CaseStatus, ProcessInstance

AGENCY_COUNTS = {
    AgencyKind.NAV: 20,
    AgencyKind.PRISON: 10,
    AgencyKind.HEALTH: 10,
    AgencyKind.HOSPITAL: 5,
    AgencyKind.HOUSING: 10,
}
PROCESS_KINDS = {
    "prison_release_to_housing": ("prison", "nav", "health", "housing"),
    "institution_discharge_to_housing": ("hospital", "health", "nav", "housing"),
}
DISCHARGE_EVERY = 5  # every fifth case is a discharge from hospital, the others prison releases
COMPLETED_CASES = 0.7  # the oldest 70 % of cases are closed; each open case has one task waiting
# The cases are opened over the same 312.5 days at every size (a million tasks' 300,000
# cases 90 s apart), the newest a day ago: a smaller load is the same year with fewer cases a
# day, not the last few days of it. So the shares the lists read are the same at every size:
# the oldest 70 % closed, the open ones opened over the last 94 days and about three in four
# of them past their deadline (21-28 days after opening), the rest due within four weeks.
OPENED_OVER_SECONDS = 300_000 * 90
# What the bench's readers list, the same at every size (README "Read paths at scale"): a
# quiet office's share of 3,000 cases (10,000 tasks) holds one open task in its inbox, where
# a million's holds a hundred, so "2x of 10,000" compared an empty page with a full one.
# Each of the bench's NAV readers (the first and the last NAV office) has a desk of
# DESK_CASES open cases waiting on it at every size, spread evenly over the open cases (so
# as many past their deadline as the others), every other one taken (claimed) by its user
# (a caseworker's own pile, not growing with the table: no other task is taken);
# they are part of the 30 % open, not added to it. The process admin's unresolved incidents
# are OPEN_INCIDENTS at every size (what is unresolved is current, not history); the others
# resolved. Each of the bench's housing readers coordinates a long case (its oldest open
# one) with LONG_CASE_VISITS follow-up visits done, each read in the access log.
DESK_CASES = 120
OPEN_INCIDENTS = 60
LONG_CASE_VISITS = 60
DESK_KIND = "nav"
DESK_KEYS = 10_000_000  # a desk's case picks its other agencies by its place, from here up


@dataclass(frozen=True)
class Loaded:
    cases: int
    tasks: int
    users: dict[str, str]  # "busy nav", "quiet nav", ... -> username


def username(kind: str, index: int) -> str:
    return f"scale-{kind}-{index:02d}"


def _cast(password: str | None) -> dict[str, list[tuple[int, int, int]]]:
    """The agencies and their users: kind -> [(agency id, group id, user id)], busiest first.
    ``password`` None: the users cannot sign in (``bench.http``'s history: no hashing)."""
    users = get_user_model()
    cast: dict[str, list[tuple[int, int, int]]] = {}
    for kind, count in AGENCY_COUNTS.items():
        rows = []
        for index in range(count):
            name = f"{kind.label} skala {index:02d}"
            group, _ = Group.objects.get_or_create(name=f"agency:{name}")
            agency, _ = Agency.objects.get_or_create(name=name, defaults={"kind": kind, "group": group})
            user, created = users.objects.get_or_create(username=username(kind, index))
            if created:
                if password is None:
                    user.set_unusable_password()
                else:
                    user.set_password(password)
                user.save()
            role = Role.COORDINATOR if kind == AgencyKind.HOUSING else Role.MEMBER
            Membership.objects.get_or_create(user=user, agency=agency, role=role)
            user.groups.add(group)
            rows.append((agency.pk, agency.group_id, user.pk))
        cast[kind] = rows
    return cast


def add_leaders(password: str) -> dict[str, str]:
    """The insight readers (as seed_demo's ``leif`` and ``nina``): the demo cast's municipality
    leader (the whole municipality's figures) and a leader of the busiest NAV office (its
    figures). Idempotent; role -> username."""
    users = get_user_model()
    agency = Agency.objects.get(name=f"{AgencyKind.NAV.label} skala 00")
    user, created = users.objects.get_or_create(username="scale-leader-nav-00")
    if created:
        user.set_password(password)
        user.save()
    Membership.objects.get_or_create(user=user, agency=agency, role=Role.LEADER)
    return {"municipal leader": "leif", "agency leader": user.username}


def _templates() -> list[tuple]:
    """(process key, position, element id, name, lane, agency kind, form, path categories) of
    each process's user tasks, from the deployed version."""
    rows = []
    for key in PROCESS_KINDS:
        definition = ProcessDefinition.objects.filter(key=key).order_by("-version").first()
        if definition is None:
            raise RuntimeError(f"deploy the shipped processes first ({key} is missing)")
        runtime = runtime_for(definition.pk)
        tasks = [task for task in runtime.user_tasks.items()]
        kinds = PROCESS_KINDS[key]
        usable = [(element, task) for element, task in tasks if task.get("agency_kind") in kinds]
        for position, (element, task) in enumerate(usable[:4]):
            rows.append(
                (
                    key,
                    position,
                    element,
                    task.get("name") or element,
                    task.get("lane") or "",
                    task["agency_kind"],
                    task.get("form") or "",
                    runtime.path_masks.get(element, 0),
                )
            )
    return rows


def _started_states(cast) -> dict[str, tuple[str, str, str]]:
    """The saved state of a case just started on each process (state, serializer and
    SpiffWorkflow versions): every generated instance of that process gets it, so the case
    page draws its diagram from a real workflow."""
    users = get_user_model().objects
    states = {}
    for number, (key, kinds) in enumerate(PROCESS_KINDS.items()):
        case = services.start_case(
            actor=users.get(pk=cast[kinds[0]][0][2]),
            process_key=key,
            person={"name": "Mal", "national_id": ("17912099997", "29822099635")[number]},
            participants={kind: cast[kind][0][0] for kind in kinds},
        )
        instance = ProcessInstance.objects.get(case=case)
        states[key] = (instance.state, instance.serializer_version, instance.spiff_version)
    return states


def _searched(number: int) -> bool:
    return number % SEARCHED_EVERY == 0 and number <= SEARCHED_UP_TO


def plan(cases: int) -> dict[str, list[int]]:
    """The numbers (``g``, 1 = oldest) of the cases given to the bench's readers at this size:
    "busy desk" and "quiet desk" (open, waiting on the first and the last NAV office), "long"
    (the busy and the quiet housing office's long case) and "open incidents"."""
    closed = int(cases * COMPLETED_CASES)
    long = [closed + 1, closed + 2]  # the two oldest open cases
    eligible = [g for g in range(closed + 3, cases + 1) if not _searched(g)]
    stride = max(1, len(eligible) // (2 * DESK_CASES))
    desk = eligible[::stride][: 2 * DESK_CASES]
    opened = list(range(closed + 1, cases + 1))
    stride = max(1, len(opened) // OPEN_INCIDENTS)
    incidents = [g for g in opened[stride // 2 :: stride] if g % 200][:OPEN_INCIDENTS]
    return {"busy desk": desk[0::2], "quiet desk": desk[1::2], "long": long, "open incidents": incidents}


def bench_case(user):
    """The case the bench reads as ``user`` (its tasks, timeline, access log, page): the
    oldest open case their agency coordinates (a housing office's long case), else the newest
    they take part in."""
    coordinated = Case.objects.filter(coordinator_agency__memberships__user=user, status=CaseStatus.OPEN)
    return (
        coordinated.order_by("opened_at", "id").first()
        or Case.objects.filter(participants__agency__memberships__user=user).order_by("-id").first()
    )


def _pick(kind: str, cast, salt: int) -> str:
    """SQL: the index (1-based) of the agency of ``kind`` for case ``g`` (for a desk's case
    its place in the desks, ``key``: the same agencies at every size), skewed to the first."""
    count = len(cast[kind])
    return f"1 + least({count - 1}, floor({count} * power(((key * {salt}) % 1000003) / 1000003.0, 3))::int)"


def load(*, cases: int, tasks: int, password: str | None, readers: bool = False) -> Loaded:
    """Add ``cases`` cases and about ``tasks`` tasks (3 or 4 per case). Minutes at a million.
    ``readers``: with the bench's readers' work (``plan``: ``python -m bench.scale``)."""
    per_case_extra = max(0.0, min(1.0, tasks / cases - 3))  # share of cases with a fourth task
    every_fourth = max(1, round(1 / per_case_extra)) if per_case_extra else 0
    with transaction.atomic():
        cast = _cast(password)
        templates = _templates()
        definitions = {
            key: ProcessDefinition.objects.filter(key=key).order_by("-version").values_list("pk", flat=True).first()
            for key in PROCESS_KINDS
        }
        view_case = Permission.objects.get(codename="view_case", content_type__app_label="workflows").pk
        states = _started_states(cast)
        with connection.cursor() as cursor:
            _write(cursor, cases, cast, templates, definitions, view_case, every_fourth, states, readers)
            cursor.execute("SELECT count(*) FROM workflows_task")
            total_tasks = cursor.fetchone()[0]
    with connection.cursor() as cursor:
        # VACUUM as autovacuum would have by the time a table is this size: it sets the
        # visibility map, without which an index-only read visits the table for every row.
        # (Inside a transaction, as in the plan tests, VACUUM cannot run: statistics only.)
        cursor.execute("ANALYZE" if connection.in_atomic_block else "VACUUM ANALYZE")
    users = {}
    for kind in AGENCY_COUNTS:
        users[f"busy {kind}"] = username(kind, 0)
        users[f"quiet {kind}"] = username(kind, AGENCY_COUNTS[kind] - 1)
    return Loaded(cases=cases, tasks=total_tasks, users=users)


def _array(values) -> str:
    return "ARRAY[" + ",".join(str(int(value)) for value in values) + "]::bigint[]"


def _write(cursor, cases, cast, templates, definitions, view_case, every_fourth, states, readers) -> None:
    agency = {kind: _array(row[0] for row in rows) for kind, rows in cast.items()}
    group = {kind: _array(row[1] for row in rows) for kind, rows in cast.items()}
    user = {kind: _array(row[2] for row in rows) for kind, rows in cast.items()}
    salts = {"prison": 7919, "nav": 104729, "health": 1299709, "housing": 15485863, "hospital": 32452843}
    picks = ", ".join(f"{_pick(kind, cast, salt)} AS {kind}" for kind, salt in salts.items())
    cursor.execute("SELECT coalesce(max(id), 0) FROM workflows_person")
    person_base = cursor.fetchone()[0]
    cursor.execute("SELECT coalesce(max(id), 0) FROM workflows_case")
    case_base = cursor.fetchone()[0]
    cursor.execute("SELECT coalesce(max(id), 0) FROM workflows_processinstance")
    instance_base = cursor.fetchone()[0]
    discharge, prison = "institution_discharge_to_housing", "prison_release_to_housing"
    closed = int(cases * COMPLETED_CASES)
    given = plan(cases) if readers else {"busy desk": [], "quiet desk": [], "long": [], "open incidents": []}
    navs, housings = len(cast["nav"]), len(cast["housing"])
    # The bench readers' cases (``plan``): g -> (desk: 1 busy, 2 quiet, 0 long case; its
    # place in the desk). Arrays of integers computed here.
    marks = [(g, 1, n) for n, g in enumerate(given["busy desk"])]
    marks += [(g, 2, n) for n, g in enumerate(given["quiet desk"])]
    marks += [(g, 0, n) for n, g in enumerate(given["long"])]
    marked = (
        f"SELECT * FROM unnest({_array(m[0] for m in marks)}, {_array(m[1] for m in marks)}, "
        f"{_array(m[2] for m in marks)}) AS m(g, desk, place)"
    )
    # One row per case: its number, process, agencies (1-based indexes into the arrays), times.
    # A desk's case is a prison release waiting on its NAV office; a long case a prison
    # release its housing office coordinates. ``claim``: its open task is taken.
    cursor.execute(
        f"""CREATE TEMP TABLE scale_case ON COMMIT DROP AS
        SELECT g, prison, health, hospital,
               CASE desk WHEN 1 THEN 1 WHEN 2 THEN {navs} ELSE nav END AS nav,
               CASE WHEN desk = 0 THEN CASE place WHEN 0 THEN 1 ELSE {housings} END ELSE housing END AS housing,
               CASE WHEN desk IS NOT NULL THEN '{prison}'
                    WHEN g % {DISCHARGE_EVERY} = 0 THEN '{discharge}' ELSE '{prison}' END AS process,
               g <= {closed} AS closed,
               coalesce(desk > 0, false) AS desk, coalesce(desk = 0, false) AS long,
               coalesce(desk > 0 AND place % 2 = 0, false) AS claim,
               -- the bench's case search finds the same cases at every size (bench.scale.searched),
               -- and the desks' cases (a full page for the quiet office)
               'Person ' || g || CASE WHEN (g % {SEARCHED_EVERY} = 0 AND g <= {SEARCHED_UP_TO}) OR desk > 0
                                      THEN ' {SEARCHED_NAME}' ELSE '' END AS name,
               now() - ({cases} - g) * ({OPENED_OVER_SECONDS} / {cases}::float8) * interval '1 second'
                     - interval '1 day' AS opened_at
        FROM (SELECT g, m.desk, m.place, {picks}
              FROM generate_series(1, {cases}) g LEFT JOIN ({marked}) m USING (g)
              CROSS JOIN LATERAL (SELECT CASE WHEN m.desk > 0 THEN {DESK_KEYS} + m.desk * {DESK_CASES} + m.place
                                              ELSE g::bigint END AS key) k) s"""
    )
    cursor.execute(
        f"""INSERT INTO workflows_person (id, name, national_id, created_at)
        SELECT {person_base} + g, name, 'S' || lpad(({person_base} + g)::text, 10, '0'), opened_at
        FROM scale_case"""
    )
    cursor.execute(
        f"""INSERT INTO workflows_case (id, reference, person_id, person_name, process_key, status,
                                        coordinator_agency_id, data, data_sources, opened_by_id, opened_at, closed_at)
        SELECT {case_base} + g, 'BK-S-' || lpad(({case_base} + g)::text, 8, '0'), {person_base} + g, name,
               process,
               CASE WHEN closed THEN 'completed' ELSE 'open' END, ({agency["housing"]})[housing],
               '{{}}'::jsonb, '{{}}'::jsonb, NULL, opened_at,
               CASE WHEN closed THEN opened_at + interval '60 days' END
        FROM scale_case"""
    )
    cursor.execute(
        f"""INSERT INTO workflows_processinstance (id, case_id, definition_id, state, serializer_version,
               spiff_version, status, next_timer_at, correlation_key, version, created_at, updated_at)
        SELECT {instance_base} + g, {case_base} + g, d.definition_id, d.state, d.serializer_version,
               d.spiff_version, CASE WHEN closed THEN 'completed' ELSE 'running' END,
               CASE WHEN closed THEN NULL ELSE opened_at + interval '30 days' END, '', 1, opened_at, opened_at
        FROM scale_case c JOIN (VALUES (%s, %s, %s, %s, %s), (%s, %s, %s, %s, %s))
             AS d(process, definition_id, state, serializer_version, spiff_version) ON d.process = c.process""",
        [value for key in (discharge, prison) for value in (key, definitions[key], *states[key])],
    )
    for process, kinds in PROCESS_KINDS.items():
        for kind in kinds:
            cursor.execute(
                f"""INSERT INTO workflows_caseparticipant (case_id, kind, agency_id, added_at)
                SELECT {case_base} + g, '{kind}', ({agency[kind]})[{kind}], opened_at
                FROM scale_case WHERE process = '{process}'"""
            )
            cursor.execute(
                f"""INSERT INTO permissions_casegroupobjectpermission (permission_id, group_id, content_object_id)
                SELECT {view_case}, ({group[kind]})[{kind}], {case_base} + g FROM scale_case
                WHERE process = '{process}'"""
            )
    # Merged in the client (a connection that binds on the server has no cursor.mogrify).
    compose = connection.ops.compose_sql  # type: ignore[attr-defined]  # (PostgreSQL's operations)
    values = ", ".join(compose("(%s, %s, %s, %s, %s, %s, %s, %s)", row) for row in templates)
    agency_of = " ".join(f"WHEN '{kind}' THEN ({agency[kind]})[c.{kind}]" for kind in salts)
    user_of = " ".join(f"WHEN '{kind}' THEN ({user[kind]})[c.{kind}]" for kind in salts)
    fourth = f"c.g % {every_fourth} = 0" if every_fourth else "false"
    # A desk's case waits on NAV's task: its tasks end there (the prison release's position).
    desk_count = 1 + min(row[1] for row in templates if row[0] == prison and row[5] == DESK_KIND)
    (visit,) = [row for row in templates if row[0] == prison and row[2] == "Task_follow_up_visit"]
    # Tasks 0..2 of every case, task 3 of some; an open case's last task waits in an inbox.
    # The participations are in: the task-reader index (``workflows.TaskReader``) gets its
    # rows from this statement's trigger, as from a step's.
    cursor.execute(
        f"""INSERT INTO workflows_task (spiff_task_id, instance_id, case_id, element_id, name, lane, agency_id,
               assignee_id, status, form, handed_over_by_id, due_at, created_at, claimed_at, completed_at,
               completed_by_id, path_categories)
        SELECT gen_random_uuid(), {instance_base} + c.g, {case_base} + c.g, t.element_id, t.name, t.lane,
               CASE t.kind {agency_of} END,
               CASE WHEN done OR c.claim THEN CASE t.kind {user_of} END END,
               CASE WHEN done THEN 'completed' WHEN c.claim THEN 'claimed' ELSE 'open' END, t.form, NULL,
               c.opened_at + (t.position + 1) * interval '7 days'
                   + CASE WHEN c.desk AND NOT done THEN interval '10 days' ELSE interval '0 days' END,
               c.opened_at + t.position * interval '1 day',
               CASE WHEN NOT done AND c.claim THEN c.opened_at + t.position * interval '1 day' + interval '1 hour' END,
               CASE WHEN done THEN c.opened_at + (t.position + 1) * interval '1 day' END,
               CASE WHEN done THEN CASE t.kind {user_of} END END, t.path_categories
        FROM scale_case c
        JOIN (VALUES {values}) AS t(process, position, element_id, name, lane, kind, form, path_categories)
          ON t.process = c.process
        CROSS JOIN LATERAL (SELECT CASE WHEN c.desk THEN {desk_count} WHEN c.long THEN 3
                                        WHEN {fourth} THEN 4 ELSE 3 END AS count) n
        CROSS JOIN LATERAL (SELECT c.closed OR t.position < n.count - 1 AS done) d
        WHERE t.position < n.count
        ORDER BY c.g, t.position"""
    )
    # A long case's follow-up visits, done one a day from its third day (its open task waits).
    cursor.execute(
        f"""INSERT INTO workflows_task (spiff_task_id, instance_id, case_id, element_id, name, lane, agency_id,
               assignee_id, status, form, handed_over_by_id, due_at, created_at, claimed_at, completed_at,
               completed_by_id, path_categories)
        SELECT gen_random_uuid(), {instance_base} + c.g, {case_base} + c.g, %s, %s, %s,
               ({agency["housing"]})[c.housing], ({user["housing"]})[c.housing], 'completed', %s, NULL,
               c.opened_at + (v + 9) * interval '1 day', c.opened_at + (v + 2) * interval '1 day', NULL,
               c.opened_at + (v + 2) * interval '1 day' + interval '3 hours', ({user["housing"]})[c.housing], %s
        FROM scale_case c CROSS JOIN generate_series(1, {LONG_CASE_VISITS}) v WHERE c.long
        ORDER BY c.g, v""",
        [visit[2], visit[3], visit[4], visit[6], visit[7]],
    )
    # What each step keeps current (``Case.next_due_at``), written once for the rows above.
    cursor.execute(
        f"""UPDATE workflows_case SET next_due_at = earliest.due
        FROM (SELECT case_id, min(due_at) AS due FROM workflows_task
              WHERE case_id > {case_base} AND status IN ('open', 'claimed') AND due_at IS NOT NULL
              GROUP BY case_id) earliest
        WHERE earliest.case_id = workflows_case.id"""
    )
    cursor.execute(
        f"""INSERT INTO workflows_event (case_id, instance_id, task_id, kind, actor_id, agency_id, from_agency_id,
               to_agency_id, element_id, detail, created_at)
        SELECT t.case_id, t.instance_id, t.id, CASE WHEN t.status = 'completed' THEN 'task_completed'
               ELSE 'task_created' END, t.completed_by_id, t.agency_id, NULL, NULL, t.element_id, '{{}}'::jsonb,
               coalesce(t.completed_at, t.created_at)
        FROM workflows_task t WHERE t.case_id > {case_base}"""
    )
    cursor.execute(
        f"""INSERT INTO permissions_accesslog (user_id, username, role, agency_id, case_id, person_id, person_key,
               category, action, basis, consent_id, item, at)
        SELECT ({user["housing"]})[housing], 'scale', 'coordinator', ({agency["housing"]})[housing], {case_base} + g,
               {person_base} + g, '', 'housing', 'read', 'own-service', NULL, '',
               opened_at + interval '1 hour' + r * interval '1 day'
        FROM scale_case CROSS JOIN LATERAL generate_series(0, CASE WHEN long THEN {LONG_CASE_VISITS} ELSE 0 END) r"""
    )
    # One incident per hundred cases, half of them resolved; with the readers' plan one
    # resolved per 200 and its unresolved ones, as many at every size.
    incidents = f"g % 200 = 0 OR g = ANY({_array(given['open incidents'])})" if readers else "g % 100 = 0"
    cursor.execute(
        f"""INSERT INTO workflows_incident (instance_id, case_id, element_id, kind, error, attempts, job_id,
               created_at, resolved_at, resolved_by_id)
        SELECT {instance_base} + g, {case_base} + g, '', 'expression', 'generated', 1, NULL, opened_at,
               CASE WHEN g % 200 = 0 THEN opened_at + interval '1 day' END, NULL
        FROM scale_case WHERE {incidents}"""
    )
    for table in ("workflows_person", "workflows_case", "workflows_processinstance"):
        cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
