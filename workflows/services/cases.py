"""Starting a case: validate the person, the participants and the start data, open the
case with its reference, grant the participating agencies access, and run the process to
its first tasks, in one transaction. ``workflows.services.start_case`` is the entry."""

from __future__ import annotations

from functools import cache
from typing import Any, cast

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Field, Q
from django.utils import timezone

from bpmn.engine import events as engine_events
from bpmn.engine import runtime as engine
from bpmn.engine.forms_validation import work_budget
from bpmn.models import ProcessDefinition
from bpmn.registry import runtime_for
from core import hooks
from core.errors import Forbidden, InvalidInput, field_error
from core.ids import lookup_id
from core.national_id import InvalidNationalId, validate_national_id
from permissions import policy, rules
from permissions.grants import grant_case_access, grant_insert_sql
from permissions.models import Agency, AgencyKind, CaseParticipant
from permissions.prepared import Prepared, PreparedShapes, execute_through, prepares_statements, quick_new, save_values
from workflows import input_limits, selectors, steps
from workflows.forms import schema_errors
from workflows.models import (
    LIVE_INSTANCE_STATUSES,
    Case,
    CaseReferenceCounter,
    EventKind,
    Person,
    ProcessInstance,
)
from workflows.services.caseload import responsible_at_start
from workflows.steps import rows


def start_case(
    *,
    actor,
    process_key: str,
    person: dict,
    participants: dict,
    data: dict | None = None,
    correlation_key: str = "",
    start_message: str = "",
    message_id: str | None = None,
    responsible=None,
    open_tasks: selectors.OpenTasksRead | None = None,
) -> Case:
    """Open a case for ``person`` on the latest version of ``process_key``.

    ``participants`` maps agency kind -> Agency or agency id. Every lane of the process
    needs a participant of its kind. ``correlation_key``: an external system's own number
    for the case, which messages may name instead of the reference; no other live (running
    or stopped on an incident) case may have it, else a message could not find its case.

    ``start_message``: for a process whose start event waits for a message, its name
    (``correlate_message`` with ``start``); ``data`` is then the message's payload and
    ``message_id`` is recorded with it. Such a process starts only this way.

    ``responsible``: the housing contact (a user or id) who owns the case, chosen by someone
    of its housing agency; by default the starter, when a contact there, else its coordinator.

    ``open_tasks``: the new case's open tasks as the answer shows them to its reader, read
    after the step's writes in its last batch (``selectors.OpenTasksRead``).
    """
    input_limits.check_texts(
        process_key=process_key,
        correlation_key=correlation_key,
        **{"person.name": person.get("name") if isinstance(person, dict) else None},
    )
    # The transaction from the start's first reads on: their BEGIN travels with them
    # (``_StartReads``). A refusal below rolls back a transaction that wrote nothing.
    with transaction.atomic():
        reads = _StartReads(actor, process_key, participants, responsible)
        definition = reads.definition
        if definition is None:
            # The field, never its value: the caller chose the text.
            raise InvalidInput(
                "case.unknown_process", errors=[field_error("process_key", "case.unknown_process_field")]
            )
        runtime = runtime_for(definition)
        starts_on = runtime.start_messages
        if (start_message or starts_on) and start_message not in starts_on:
            if starts_on:
                problem = {"code": "case.process_starts_on_message", "name": sorted(starts_on)[0]}
            else:
                problem = {"code": "case.process_has_no_message_start"}
            raise InvalidInput(**problem, errors=[field_error("process_key", **problem)])
        errors = []
        try:
            name, national_id = _valid_person(person)
        except InvalidInput as exc:
            errors += exc.errors
        try:
            agencies = valid_participants(participants, definition, named=reads.agencies)
        except InvalidInput as exc:
            errors += exc.errors
        correlation_key = (correlation_key or "").strip()
        errors += _correlation_key_length_errors(correlation_key)
        if errors:  # all problems at once, not one per round trip
            raise InvalidInput("case.invalid", errors=errors)
        if not rules.can_start_case(actor, list(agencies.values())):
            raise Forbidden("case.start_forbidden")
        if start_message:
            # The message writes the start data: from the agency kinds it names, its fields only.
            rule = runtime.message_rules.get(start_message) or {"senders": (), "fields": ()}
            starter_agency = rules.message_starter_agency(actor, agencies.values(), rule["senders"])
            if starter_agency is None:
                raise Forbidden("message.sender_not_allowed", name=start_message)
            start_data = _valid_start_data(runtime, data, frozenset(rule["fields"]), code="message.field_not_declared")
        else:
            starter_agency = next(a for a in agencies.values() if a.pk in rules.case_agency_ids(actor))
            start_data = _valid_start_data(runtime, data, runtime.start_fields, code="field.not_in_start_form")
        responsible = responsible_at_start(
            actor, agencies.get(AgencyKind.HOUSING), responsible, coordinators=reads.coordinators
        )

        # A person already on file keeps their name, and it is not shown in this case: the
        # case has the name as typed (``Case.person_name``), else a starter who typed any
        # number would learn whose it is and that the services know them.
        numbered = not correlation_key and connection.vendor == "postgresql"
        # Numbered in one statement, the person is held in it too (``_insert_numbered``).
        person_row = None if numbered else _held_person(national_id, name)
        case = quick_new(Case)(
            person=person_row,
            person_name=name,
            process_key=definition.key,
            coordinator_agency=agencies.get(AgencyKind.HOUSING, starter_agency),
            data=start_data,
            data_sources={field: starter_agency.pk for field in start_data},
            data_recorded_at=policy.recorded_times(runtime.field_rules, start_data),
            # What a step on a branch may write over, as every case has it (``data_common``).
            data_common={
                field: [value, starter_agency.pk]
                for field, value in start_data.items()
                if field in runtime.branch_rewritten
            },
            opened_by=actor,
            responsible=responsible,
        )
        # When its warnings lapse, for the lists across cases (``policy.warning_columns``).
        policy.keep_warning_columns(case, runtime.field_rules)
        instance = quick_new(ProcessInstance)(
            definition=definition,
            state="{}",
            serializer_version=engine.SERIALIZER_VERSION,
            spiff_version=engine.SPIFFWORKFLOW_VERSION,
            version=0,
            # What the step writes over it (``steps.advance``); not the column's default.
            timer_path_categories=runtime.timer_path_categories,
            correlation_key=correlation_key,
            correlation_agency=starter_agency if correlation_key else None,
        )
        if not numbered:
            case.reference = _next_reference()  # locks the year's counter: case starts queue up here
            # Whether a running case holds the key (an external system's number for the person)
            # is told only here, under the lock: to one who may start this case and whose start
            # is otherwise valid, and only of the cases they see (``_correlation_key_errors``).
            if correlation_key and (errors := _correlation_key_errors(correlation_key, actor, starter_agency)):
                raise InvalidInput("case.invalid", errors=errors)
            case.save(force_insert=True)
            instance.case = case
            instance.save(force_insert=True)
            CaseParticipant.objects.bulk_create(
                [CaseParticipant(case=case, kind=kind, agency=agency) for kind, agency in agencies.items()]
            )
            grant_case_access(case, agencies.values())
        else:  # nothing to check under the counter's lock: numbered and written in one statement
            assert national_id is not None  # ``_valid_person`` says so
            _insert_numbered(case, instance, agencies, national_id, name)
        workflow = engine.new_workflow(runtime.bundle, start_data)
        caught = engine_events.deliver_start_message(workflow, start_message, start_data) if start_message else []
        instance.case = case
        # A new instance has no task rows yet: none to read (``ready_before``).
        # Nothing reads or writes after the step: it commits in its last batch (``Step.commits``).
        step = steps.Step(
            instance,
            actor=actor,
            acting_agency=starter_agency,
            participants=agencies,
            ready_before=set(),
            commits=True,
        )
        step.event(
            EventKind.CASE_STARTED,
            agency=starter_agency,
            detail={"process_key": definition.key, "version": definition.version},
        )
        if start_message:
            step.event(
                EventKind.MESSAGE_RECEIVED,
                agency=starter_agency,
                element_id=caught[0] if caught else "",
                detail={"name": start_message, "message_id": message_id, "fields": sorted(start_data)},
            )
        if open_tasks is not None:
            open_tasks.queue(step, case.pk, timezone.now())
        steps.advance(step, runtime, workflow)
        transaction.on_commit(lambda: hooks.emit(hooks.CASE_STARTED, process=definition.key))
    return case


# The reads every start makes, compiled once per process (``permissions.prepared``): building
# them was about a tenth of a start's Python.
_LATEST_DEFINITION = Prepared(
    lambda key: ProcessDefinition.objects.filter(key=key).defer("spec_json", "bpmn_xml").order_by("-version")[:1],
    kinds=(str,),
)
_HELD_PERSON = Prepared(
    lambda national_id: (
        Person.objects.select_for_update(no_key=True).filter(national_id=national_id).order_by("pk")[:1]
    ),
    kinds=(str,),
)


# The participants' agencies by id, one statement per number of ids (a case has a few).
_AGENCIES_BY_ID = PreparedShapes(most=len(AgencyKind.values))


def _agencies_by_id(ids: set[int]) -> dict[int, Agency]:
    """``Agency.objects.in_bulk(ids)``, compiled once per number of ids up to one per kind."""
    if not ids:
        return {}
    if len(ids) > len(AgencyKind.values):  # no valid start names more: read as it comes
        return Agency.objects.in_bulk(ids)
    return {agency.pk: agency for agency in _agencies_member(len(ids)).objects(*sorted(ids))}


class _StartReads:
    """What a start reads before it writes, in one round trip with the transaction's BEGIN
    (``rows.Batch``: one pipeline on PostgreSQL): the process's latest definition, the
    participants' agencies named by id, the starter's memberships (``rules``), when the
    request has not read them yet, and, when nobody is named responsible, the first
    coordinator of the agency named as housing (``responsible_at_start``: read whether or
    not the starter turns out to be a contact there, and whether or not the agency is a
    housing one; not used then). Each was a round trip of its own, and under load each
    round trip waits twice for a core (issue 12)."""

    def __init__(self, actor, process_key, participants, responsible=None) -> None:
        self.definition: ProcessDefinition | None = None
        self.agencies: dict[int, Agency] | None = None
        self.coordinators: dict[int, Any] = {}
        batch = rows.Batch()
        if isinstance(process_key, str):  # not a key any definition has (the API's is text)
            sql, params = _LATEST_DEFINITION.statement(process_key)
            batch.add(sql, params, self._read_definition)
        ids = _named_agency_ids(participants)
        if ids and len(ids) <= len(AgencyKind.values):
            member = _agencies_member(len(ids))
            sql, params = member.statement(*sorted(ids))
            batch.add(sql, params, lambda cursor: self._read_agencies(member, cursor))
        elif not ids:
            self.agencies = {}
        if (memberships := rules.membership_rows_read(actor)) is not None:
            batch.add(*memberships)
        housing = participants.get(AgencyKind.HOUSING) if isinstance(participants, dict) else None
        if responsible is None and housing is not None and not isinstance(housing, Agency) and lookup_id(housing):
            batch.add(*rules.first_housing_coordinator_read(lookup_id(housing), self.coordinators))
        batch.flush()

    def _read_definition(self, cursor) -> None:
        found = _LATEST_DEFINITION.objects_from(cursor)
        self.definition = found[0] if found else None

    def _read_agencies(self, member: Prepared, cursor) -> None:
        self.agencies = {agency.pk: agency for agency in member.objects_from(cursor)}


def _named_agency_ids(participants) -> set[int]:
    """The ids of the agencies ``participants`` names by id (not as Agency rows)."""
    if not isinstance(participants, dict):
        return set()
    return {lookup_id(agency) for agency in participants.values() if not isinstance(agency, Agency)} - {0}


def _agencies_member(count: int) -> Prepared:
    return _AGENCIES_BY_ID.member(count, lambda *standins: Agency.objects.filter(pk__in=standins), kinds=(int,) * count)


def _latest_definition(process_key) -> ProcessDefinition | None:
    if not isinstance(process_key, str):  # not a key any definition has (the API's is text)
        return None
    found = _LATEST_DEFINITION.objects(process_key)
    return found[0] if found else None


def keyed_by(correlation_key: str, agency_ids) -> Q:
    """Instances (a condition) whose key is ``correlation_key`` as one of ``agency_ids``'s, or
    as nobody's in particular (set before keys had agencies)."""
    return Q(correlation_key=correlation_key) & (
        Q(correlation_agency_id__in=agency_ids) | Q(correlation_agency__isnull=True)
    )


CORRELATION_KEY_MAX_LENGTH: int = ProcessInstance._meta.get_field("correlation_key").max_length or 0


def _correlation_key_length_errors(correlation_key: str) -> list[dict]:
    if len(correlation_key) > CORRELATION_KEY_MAX_LENGTH:
        return [field_error("correlation_key", "field.too_long", limit=CORRELATION_KEY_MAX_LENGTH)]
    return []


def _correlation_key_errors(correlation_key: str, actor, starter_agency) -> list[dict]:
    """The key is refused when a running case the starter sees holds it as the key of the
    agency the case is started through (``ProcessInstance.correlation_agency``). A key is an
    external system's own number, often one per person (the prison's for its inmate):
    refused for a case the starter does not see, it told them that the person is in a
    process elsewhere; counted across agencies, any agency could block another's key by
    naming it on a case of its own. So each agency's keys are its own; a message naming one
    finds the case its sender's agency gave it (``services.messages``)."""
    if errors := _correlation_key_length_errors(correlation_key):
        return errors
    holding = Case.objects.filter(
        pk__in=ProcessInstance.objects.filter(
            keyed_by(correlation_key, [starter_agency.pk]), status__in=LIVE_INSTANCE_STATUSES
        ).values("case_id")
    )
    if correlation_key and rules.visible_cases(actor, holding).exists():
        return [field_error("correlation_key", "case.correlation_key_taken")]
    return []


def _valid_person(person) -> tuple[str, str | None]:
    if not isinstance(person, dict):
        raise InvalidInput("case.invalid", errors=[field_error("person", "field.expected_object")])
    errors = []
    name = person.get("name")
    if not isinstance(name, str) or not name.strip():
        errors.append(field_error("person.name", "field.required"))
    national_id = None
    try:
        national_id = validate_national_id(person.get("national_id") or "")
    except InvalidNationalId as exc:
        errors.append(field_error("person.national_id", exc.code, **exc.params))
    if errors:
        raise InvalidInput("case.invalid", errors=errors)
    return str(name).strip(), national_id


def valid_participants(participants, definition, *, named: dict[int, Agency] | None = None) -> dict[str, Agency]:
    """``participants`` (agency kind -> Agency or id) as Agency rows, every lane's kind among
    them; 400 naming each ``participants.<kind>`` that is not (also for a follow-on case).
    ``named``: the agencies it names by id, read already (``_StartReads``)."""
    if not isinstance(participants, dict):
        raise InvalidInput("case.invalid", errors=[field_error("participants", "field.expected_object")])
    errors, agencies = [], {}
    if named is None:  # the agencies named by id, read in one statement (not one per participant)
        named = _agencies_by_id(_named_agency_ids(participants))
    for kind, agency in participants.items():
        if kind not in AgencyKind.values:
            errors.append(
                field_error(f"participants.{kind}", "agency.unknown_kind", kinds=", ".join(AgencyKind.values))
            )
            continue
        agency_row = agency if isinstance(agency, Agency) else named.get(lookup_id(agency))
        if agency_row is None:
            errors.append(field_error(f"participants.{kind}", "agency.not_found"))
        elif agency_row.kind != kind:
            errors.append(field_error(f"participants.{kind}", "agency.wrong_kind", agency=agency_row.name, kind=kind))
        else:
            agencies[kind] = agency_row
    # Every agency kind a task is routed to (by lane, candidate group, assignee, pool or
    # the routing map's default) must participate: else the task would reach nobody.
    routed: dict[str, list[str]] = {}
    for element_id, task in definition.metadata.get("user_tasks", {}).items():
        if task.get("agency_kind"):
            routed.setdefault(task["agency_kind"], []).append(task.get("lane") or element_id)
    for lane, kind in definition.metadata.get("lanes", {}).items():
        routed.setdefault(kind, []).append(lane)
    for kind in sorted(set(routed) - set(participants)):
        names = ", ".join(sorted(set(routed[kind]))[:3])
        errors.append(field_error(f"participants.{kind}", "agency.routed_needs_participant", names=names))
    if errors:
        raise InvalidInput("case.invalid", errors=errors)
    return agencies


def _valid_start_data(runtime, data, writable: frozenset[str], *, code: str) -> dict:
    """The start data: only ``writable`` fields (the start form's, or the start message's),
    each valid; 400 naming every other field."""
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise InvalidInput("case.invalid", errors=[field_error("data", "field.expected_object")])
    input_limits.check_data(data, "data")
    errors = []
    with work_budget():  # one pattern budget for all the start data, not one per field
        for name, value in data.items():
            if name not in writable:
                errors.append(field_error(f"data.{name}", code))
            else:
                errors += schema_errors(runtime.field_validators[name].iter_errors(value), prefix=f"data.{name}")
    if errors:
        raise InvalidInput("case.data_invalid", errors=errors)
    return dict(data)


def _held_person(national_id: str | None, name: str) -> Person:
    """The person with ``national_id`` (made when new), locked until the case commits.

    An erasure deletes the person row once no case of theirs is left (``retention.erasure``),
    which it can tell only once this case is committed: held, the erasure waits for it and
    then sees it. A row an erasure was deleting is waited for and then made again.

    ``FOR NO KEY UPDATE``, not ``FOR UPDATE``: it keeps out the erasure's ``DELETE`` all the
    same, but not the foreign-key checks of rows that name the person (every access-log row
    of a read of their cases takes ``FOR KEY SHARE`` on it at its commit). Held ``FOR UPDATE``,
    a completion that had bumped the leaders' figures and then checked its access-log rows
    waited for this start, while this start waited for the figures' row: a deadlock a second,
    as ``make bench-http`` (three people, eight clients) found."""
    found = _HELD_PERSON.objects(national_id) if isinstance(national_id, str) else []
    held = found[0] if found else None
    if held is None:
        held, made = Person.objects.get_or_create(national_id=national_id, defaults={"name": name})
        if not made:  # another start made it meanwhile, and committed
            held = Person.objects.select_for_update(no_key=True).get(pk=held.pk)
    return held


def _reference_parts() -> tuple[int, str]:
    """The counter's year and the reference's text before the year's number."""
    year = timezone.localdate().year
    return year, f"{settings.BROBYGGER['CASE_REFERENCE_PREFIX']}-{year}-"


def _next_reference() -> str:
    """The year's next number in one statement (was three: create the year's row if new,
    lock it, update it). The upsert locks the row until the start commits, so case starts
    still queue up here and a rolled-back start gives its number back."""
    year, prefix = _reference_parts()
    with connection.cursor() as cursor:
        cursor.execute(f"{_counted_sql()} RETURNING {connection.ops.quote_name('last')}", [year])
        (number,) = cursor.fetchone()
    return f"{prefix}{number:06d}"


def _counted_sql() -> str:
    """The upsert that takes the year's next number (its parameter: the year)."""
    quote = connection.ops.quote_name
    table = quote(CaseReferenceCounter._meta.db_table)
    last = quote("last")
    return (
        f"INSERT INTO {table} ({quote('year')}, {last}) VALUES (%s, 1) "  # noqa: S608 (names from the model)
        f"ON CONFLICT ({quote('year')}) DO UPDATE SET {last} = {table}.{last} + 1"
    )


def _values_sql(model, fields) -> str:
    quote = connection.ops.quote_name
    return f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(quote(field.column) for field in fields)})"


def _held_person_sql() -> str:
    """``_held_person`` as ``WITH``s of the case's insert: ``found`` the person on file, held
    ``FOR NO KEY UPDATE``; else ``made``, inserted, or, when another start made them and
    committed meanwhile, held by the upsert, whose ``DO UPDATE`` writes a column no unique
    index has (the name, as it was), so it too takes ``FOR NO KEY UPDATE``'s lock, not
    ``FOR UPDATE``'s; ``held`` the one row of either. An erasure deleting the row is waited
    for and the person made again, as ``_held_person`` does. Parameters: the national id,
    the name, the national id, the moment."""
    quote = connection.ops.quote_name
    person = Person._meta
    table = quote(person.db_table)
    pk, name, national_id, created_at = (
        quote(cast(Field, person.get_field(field)).column) for field in ("id", "name", "national_id", "created_at")
    )
    columns = f"{pk}, {name}, {created_at}"
    return (
        f"found AS (SELECT {columns} FROM {table} WHERE {national_id} = %s FOR NO KEY UPDATE), "  # noqa: S608
        f"made AS (INSERT INTO {table} ({name}, {national_id}, {created_at}) "
        "SELECT %s, %s, %s WHERE NOT EXISTS (SELECT 1 FROM found) "
        f"ON CONFLICT ({national_id}) DO UPDATE SET {name} = {table}.{name} RETURNING {columns}), "
        "held AS (SELECT * FROM found UNION ALL SELECT * FROM made)"
    )


@cache
def _numbered_insert_sql() -> tuple[str, tuple, tuple, list]:
    """PostgreSQL: the case's and its process instance's inserts with the person's lock
    (``_held_person_sql``, first: a start holds the person, then the year's counter) and
    ``_next_reference``'s upsert as data-modifying ``WITH``s, the reference made from the
    number it returns (``{number:06d}``: six digits at least), and the case's participants
    and their groups' ``view_case`` grants (``permissions.grants.grant_insert_sql``) as two
    more; the case's id and reference, the instance's id and the person's row read.
    Parameters: the person's (``_held_person_sql``), the year, the reference's prefix, the
    case's fields' values (its person's id the held row's), the instance's (its case's id the
    case insert's), the participants' kinds, agencies and moment, the grant's own (returned
    last: the permission named by its keys, never a kept id), the groups' ids."""
    quote = connection.ops.quote_name
    meta = Case._meta
    case_fields = tuple(
        field for field in meta.concrete_fields if field is not meta.pk and field.name not in ("reference", "person")
    )
    instance_meta = ProcessInstance._meta
    instance_fields = tuple(
        field for field in instance_meta.concrete_fields if field is not instance_meta.pk and field.name != "case"
    )
    last = f"counted.{quote('last')}"
    reference = f"(SELECT %s::text || lpad({last}::text, greatest(6, length({last}::text)), '0') FROM counted)"  # noqa: S608
    case_id = f"(SELECT {quote(meta.pk.column)} FROM opened)"  # noqa: S608
    participant = CaseParticipant._meta
    participants = _values_sql(
        CaseParticipant, tuple(participant.get_field(name) for name in ("case", "kind", "agency", "added_at"))
    )
    grant_sql, grant_params = grant_insert_sql(case_id)
    held_id = f"(SELECT {quote(Person._meta.pk.column)} FROM held)"  # noqa: S608
    case_values = ", ".join([reference, held_id, *["%s"] * len(case_fields)])
    instance_values = ", ".join([case_id, *["%s"] * len(instance_fields)])
    # The counter's upsert reads ``held``: PostgreSQL takes the person's lock first.
    counted = _counted_sql().replace(" VALUES (%s, 1) ", " SELECT %s, 1 FROM held ")
    sql = (
        f"WITH {_held_person_sql()}, "  # noqa: S608 (names from the models)
        f"counted AS ({counted} RETURNING {quote('last')}), "
        f"opened AS ({_values_sql(Case, (meta.get_field('reference'), meta.get_field('person'), *case_fields))} "
        f"VALUES ({case_values}) "
        f"RETURNING {quote(meta.pk.column)}, {quote(meta.get_field('reference').column)}), "
        f"started AS ({_values_sql(ProcessInstance, (instance_meta.get_field('case'), *instance_fields))} "
        f"VALUES ({instance_values}) RETURNING {quote(instance_meta.pk.column)}), "
        # In the order given, as ``bulk_create`` numbered them (a case's first participation
        # is the one an agency's case list walks: ``rules.listed_cases``).
        f"joined AS ({participants} SELECT {case_id}, kind, agency, %s "
        "FROM UNNEST(%s::text[], %s::integer[]) WITH ORDINALITY AS given(kind, agency, place) ORDER BY place), "
        f"granted AS ({grant_sql}) "
        f"SELECT opened.{quote(meta.pk.column)}, opened.{quote(meta.get_field('reference').column)}, "
        f"started.{quote(instance_meta.pk.column)}, held.* FROM opened, started, held"
    )
    return sql, case_fields, instance_fields, grant_params


def _insert_numbered(case: Case, instance: ProcessInstance, agencies: dict, national_id: str, name: str) -> None:
    """``case.person = _held_person(national_id, name); case.reference = _next_reference();
    case.save(force_insert=True)``, then the instance's insert, the participants' (``agencies``:
    kind -> Agency) and their groups' grants (``grant_case_access``), in one statement (a
    case start sent six or more): the person's and the counter's rows are locked until the
    start commits all the same, so starts queue up on the counter, two at once get two
    numbers, a rolled-back start gives its number back, and two starts of one new person
    make one row of them (``_held_person_sql``)."""
    year, prefix = _reference_parts()
    sql, case_fields, instance_fields, grant_params = _numbered_insert_sql()
    db = connection
    now = db.ops.adapt_datetimefield_value(timezone.now())
    values: list = []  # as ``field.get_db_prep_save(field.pre_save(obj, True), db)`` gives them
    save_values(db, Case, case_fields, (case,), True, values)
    save_values(db, ProcessInstance, instance_fields, (instance,), True, values)
    params = [
        national_id,
        name,
        national_id,
        now,  # the person's ``created_at``, as ``auto_now_add`` sets it
        year,
        prefix,
        *values,
        now,  # ``added_at`` as ``auto_now_add`` sets it
        list(agencies),
        [agency.pk for agency in agencies.values()],
        *grant_params,
        sorted({agency.group_id for agency in agencies.values()}),
    ]
    with connection.cursor() as cursor:
        if prepares_statements(db):
            # Prepared on the server (``config.database``): its text never changes, and it
            # writes and reads by key, so the one plan PostgreSQL keeps serves every start.
            # It was planned on every start: 0.3 ms of PostgreSQL's CPU a start.
            execute_through(cursor, sql, params, lambda raw, sql, params: raw.execute(sql, params, prepare=True))
        else:
            cursor.execute(sql, params)
        case.pk, case.reference, instance.pk, person_id, person_name, created_at = cursor.fetchone()
    person = Person(pk=person_id, name=person_name, national_id=national_id, created_at=created_at)
    case.person = person
    instance.case = case
    for saved in (case, instance, person):
        saved._state.adding, saved._state.db = False, connection.alias
