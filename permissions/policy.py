"""The sensitive-data policy (design §6): which values of a case a user sees, and the log.

``case_data_for`` groups a case's data by category (the process's ``FieldRules``, which the
caller passes in: compiled once per definition version by ``bpmn.registry``), shows or
masks each value for the requesting user through the predicates of ``permissions.rules``,
and writes one ``AccessLog`` row per revealed category and basis other than ``identity``.
``person_for`` gives the person's name and the national id,
masked unless the user works a task of the case that needs identity in full.

Both assume the caller has already checked ``rules.can_view_case`` (answering 404
otherwise); for a user who cannot see the case every category comes back masked and
nothing is logged.

Consents are read from the database on every call (never cached), so a consent takes
effect, and a revocation is enforced, on the very next request.

When does a task need identity in full? When its form (JSON schema) declares it:
- a property named ``national_id`` (or ``fodselsnummer``/``fnr``) with
  ``"x-category": "identity"``, or
- ``"x-identity": "full"`` at the top level of the schema, or
- ``"identity": "full"`` in the task's ``metadata["user_tasks"]`` entry.
Only the people of the agency that holds the task, while the task is open or claimed,
see the number; the reveal is written to the access log (category ``identity``,
basis ``task:<task id>``) although identity reads are otherwise not logged.
"""

from __future__ import annotations

import contextlib
import datetime
import itertools
import re
import unicodedata
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS
from django.utils import timezone

from core.national_id import is_national_id, shown_masked
from permissions import rules
from permissions.models import ALL_CATEGORIES, RESTRICTED, SHAREABLE_CATEGORIES, AccessAction, AccessLog, Role
from permissions.prepared import insert_rows, quick_new

NATIONAL_ID_FIELDS = frozenset({"national_id", "fodselsnummer", "fnr"})
# The most items (strings, numbers, lists and objects, each nesting counted) or the deepest
# nesting of an identity value the policy looks through for national ids. A name, an address,
# a household's numbers are a few dozen; a value past either bound (a hostile form's list of
# 75,000 eleven-digit strings) is masked whole, unread, and so costs every read of the case
# the same as a small one.
SCAN_LIMIT = 1_000
SCAN_DEPTH = 20
UNLOGGED_CATEGORIES = frozenset({"identity"})


@dataclass(frozen=True)
class CategoryView:
    """One category of a case's data as one user sees it.

    ``visible``: the user sees values of this category (all of them, or with
    ``reason`` set, only those their own agency wrote or their form shares). ``values`` is
    empty when the category is masked. ``reason`` says why values are masked (None when
    nothing is). ``basis`` is the ground on which values are shown (e.g. ``"consent:12"``).
    """

    category: str
    visible: bool
    values: dict = field(default_factory=dict)
    reason: str | None = None
    basis: str | None = None
    # Values the reader's own agency recorded before a step on a branch they see wrote over
    # them (``Case.data_common``): theirs to correct (``retention.services.earlier_value``).
    earlier: dict = field(default_factory=dict)
    # Safety warnings whose time is out (``lapsed_warnings``): field -> the Oslo date it lapsed
    # on. Its value is in ``values`` only for the agency that recorded it and the coordinator
    # (``rules.decide_lapsed_warning``), who confirm it again or remove it; the others learn
    # only that a warning lapsed, and when.
    lapsed: dict = field(default_factory=dict)
    # The safety warnings shown and still in force: field -> the last Oslo date they are shown.
    valid_until: dict = field(default_factory=dict)
    # The safety warnings shown that the reader may confirm again or remove (the agency that
    # recorded each, the coordinator: ``rules.decide_lapsed_warning``).
    confirmable: frozenset = frozenset()


@dataclass(frozen=True)
class FieldRules:
    """What the policy needs to know of a process version's forms."""

    fields: Mapping[str, str]  # form field -> category
    categories: tuple[str, ...]  # categories the definition uses, in ALL_CATEGORIES order
    full_identity_tasks: frozenset[str]  # element ids whose form needs identity in full
    shared_fields: frozenset[str] = frozenset()  # "x-share": "participants" in their form
    lane_kinds: frozenset[str] = frozenset()  # agency kinds that work tasks of the process
    # Safety field -> its form's ``"x-valid-days"`` (else ``SAFETY_WARNING_DAYS``), as pairs.
    valid_days: tuple[tuple[str, int], ...] = ()

    def needs_full_identity(self, task) -> bool:
        return task is not None and task.element_id in self.full_identity_tasks


NO_FIELDS = FieldRules({}, (), frozenset())


def field_rules(metadata: Mapping, forms: Mapping[str, dict]) -> FieldRules:
    """The ``FieldRules`` of a definition version: its compiled ``metadata`` and its forms."""
    fields = dict(metadata.get("fields") or {})
    full = set()
    for element_id, task in (metadata.get("user_tasks") or {}).items():
        task = task or {}
        if task.get("identity") == "full" or _form_needs_full_identity(forms.get(task.get("form") or "")):
            full.add(element_id)
    used = set(fields.values())
    # Only where the law shares the category by default: a version deployed before the lint
    # refused x-share on other categories (a health field, say) shares nothing through it.
    # The field's category is the model's (``fields``, from the forms its tasks use), not the
    # marking form's own: a form no task uses (the lint reads only the used ones) that called
    # a health field justice and shared it shared the health field.
    shared = {
        name
        for schema in forms.values()
        for name, prop in ((schema or {}).get("properties") or {}).items()
        if (prop or {}).get("x-share") == "participants"
        and (prop or {}).get("x-category") in SHAREABLE_CATEGORIES
        and fields.get(name) in SHAREABLE_CATEGORIES
    }
    # A safety field's own time in force (``"x-valid-days"``, checked at deploy): the form of a
    # task that writes it says how long its warnings hold; the shortest where several say.
    valid_days: dict[str, int] = {}
    for schema in forms.values():
        for name, prop in ((schema or {}).get("properties") or {}).items():
            days = (prop or {}).get("x-valid-days") if isinstance(prop, dict) else None
            if fields.get(name) == "safety" and isinstance(days, int) and not isinstance(days, bool) and days > 0:
                valid_days[name] = min(days, valid_days.get(name, days))
    tasks = (metadata.get("user_tasks") or {}).values()
    lane_kinds = {kind for kind in (metadata.get("lanes") or {}).values() if kind}
    lane_kinds |= {task["agency_kind"] for task in tasks if (task or {}).get("agency_kind")}
    return FieldRules(
        fields,
        tuple(c for c in ALL_CATEGORIES if c in used),
        frozenset(full),
        frozenset(shared),
        frozenset(lane_kinds),
        tuple(sorted(valid_days.items())),
    )


def _form_needs_full_identity(schema) -> bool:
    schema = schema or {}
    if schema.get("x-identity") == "full":
        return True
    return any(
        name in NATIONAL_ID_FIELDS and (prop or {}).get("x-category") == "identity"
        for name, prop in (schema.get("properties") or {}).items()
    )


def log_row(user, case, decision, category, action, at, item: str = "") -> AccessLog:
    """The access-log row of ``user``'s ``action`` on ``category`` of ``case`` at ``at`` on the
    grounds of ``decision`` (its agency, role, basis, consent or opening), naming ``item``."""
    # The keys given by column (``user_id=``), the objects then kept as the relations' own
    # (what ``user=user`` does through each key's descriptor, less its router calls and
    # checks: 146,800 -> 121,600 instructions a row, callgrind; 2-3 rows an opened task), the
    # row made without ``Model.__init__`` (``quick_new``: the same object).
    agency, consent, break_glass = decision.agency, decision.consent, decision.break_glass
    row = quick_new(AccessLog)(
        user_id=user.pk,
        username=user.get_username(),
        role=decision.role or "",
        agency_id=None if agency is None else agency.pk,
        case_id=case.pk,
        person_id=case.person_id,
        category=category,
        action=action,
        basis=decision.basis or "",
        consent_id=None if consent is None else consent.pk,
        break_glass_id=None if break_glass is None else break_glass.pk,
        item=item,
        at=at,
    )
    state = row._state
    state.db = user._state.db or DEFAULT_DB_ALIAS  # as the user key's descriptor set it (no router answers)
    state.fields_cache.update(user=user, agency=agency, case=case, consent=consent, break_glass=break_glass)
    return row


def write_row(user, case, decision, category: str, item: str, at) -> AccessLog:
    """The access-log row of a write ``decision`` let ``user`` make to ``item`` of ``case``."""
    row = log_row(user, case, decision, category, AccessAction.WRITE, at)
    row.item = item
    return row


def log_person_path(user, cases) -> None:
    """The person page lists the person's cases that ``user`` sees (the fact of each case, its
    process and dates: coordination): one access-log row per case, ``item`` "person"."""
    now = timezone.now()
    rows = []
    rules.remember_case_access(user, cases)
    for case in cases:
        decision = rules.decide_category(rules.case_access(user, case), "coordination", ())
        row = log_row(user, case, decision, "coordination", AccessAction.READ, now)
        row.item = "person"
        rows.append(row)
    AccessLog.objects.bulk_create(rows)


# What a read of the case's coordination shows (``log_coordination_read``'s ``item``).
ITEM_TIMELINE, ITEM_CONSENTS, ITEM_ACCESS_LOG = "timeline", "consents", "access-log"


def log_coordination_read(user, case, *, item: str) -> None:
    """A read of the case's timeline or consents: who takes part, what was done when, who may
    see what for which purpose, the ``coordination`` of domain.md (an archive's case file
    carries them with it). Its entries name no value of another category (a field's name only
    where the reader sees the field, a note's or an attachment's category, never its
    content); the values are logged where they are shown. One row, ``item`` naming the list,
    on the reader's standing in the case."""
    decision = rules.decide_category(rules.case_access(user, case), "coordination", ())
    row = log_row(user, case, decision, "coordination", AccessAction.READ, timezone.now())
    row.item = item
    AccessLog.objects.bulk_create([row])


def _coordination_read(user, case, agency_id, role, basis: str, item: str, at=None) -> AccessLog:
    """One access-log row of a read of the case's coordination (who did what, and when)."""
    return AccessLog(
        user=user,
        username=user.get_username(),
        role=role,
        agency_id=agency_id,
        case=case,
        person_id=case.person_id,
        category="coordination",
        action=AccessAction.READ,
        basis=basis,
        item=item,
        at=at or timezone.now(),
    )


def log_earlier_read(user, case, category: str, recorded_by: int | None) -> None:
    """One value its own agency recorded before a step on a branch wrote over it (``Case.
    data_common``), shown to ``user`` outside ``case_data_for(show_earlier=)`` (the correction
    form): logged as that read is, their own data."""
    decision = rules.decide_own_value(rules.case_access(user, case), recorded_by)
    if decision and category not in UNLOGGED_CATEGORIES:
        insert_rows([log_row(user, case, decision, category, AccessAction.READ, timezone.now())])


def earlier_value_shown(name: str, category: str, value):
    """A value its own agency recorded before a step on a branch wrote over it, shown outside
    ``case_data_for(show_earlier=)`` (the correction form) as that answer shows it: each
    national id in an identity value masked, as for a reader on no task (until review2 the
    form printed the number in full, and identity reads are not logged)."""
    if category != "identity":
        return value
    return _masked_in({name: value}, _holding({name: value}))[name]


def log_audit_read(user, case, *, item: str) -> None:
    """A read of what the access log's readers read (``rules.access_log_standing``): the
    case's access log (``item`` "access-log": who saw the person's data, and when) or its
    emergency openings (``item`` "break-glass": who opened which masked category, why, and
    how much they read under it). Coordination, as the person's access report; one row on
    the standing the reader reads it on, so that the person learns who looked."""
    agency_id, role, basis = rules.access_log_standing(user, case)
    AccessLog.objects.bulk_create([_coordination_read(user, case, agency_id, role, basis, item)])


# The case's emergency openings (break-glass), read with their reasons.
ITEM_BREAK_GLASS = "break-glass"


def log_break_glass_review_read(user, openings) -> None:
    """The auditors' review list names for each opening its case, who opened which category
    and why: one row per case listed, ``item`` "break-glass", as an auditor of the agency the
    list's query found taking part in it (``rules.with_auditing_agency``: ``log_auditing``),
    basis audit. ``openings`` carry their case (``select_related``). One INSERT."""
    now = timezone.now()
    rows, listed = [], set()
    for grant in openings:
        if grant.case_id in listed:
            continue
        listed.add(grant.case_id)
        rows.append(
            _coordination_read(
                user, grant.case, grant.log_auditing, Role.AUDITOR, rules.BASIS_AUDIT, ITEM_BREAK_GLASS, now
            )
        )
    AccessLog.objects.bulk_create(rows)


def log_move_outcomes_told(user, migration_id: int, told) -> None:
    """A version move's answer names each case it refused with the elements the case waits
    on, and so where it stands: the branch its gateways chose, the value they read (a health
    assessment). ``told`` holds ``(instance, mask)``: the instance with its case, the
    categories (``rules.PATH_CATEGORY_BITS``) its standing tells. One row per category (the
    case's coordination when its path reads none), role process admin, basis
    ``version-migration:<id>``: a target version crafted to refuse one branch's cases read
    each case's branch in one request, and nothing recorded it (h-attack36). The cases such a
    move moved are given too (their moving tells the other branch)."""
    decision = rules.Decision(True, basis=f"version-migration:{migration_id}", role=Role.PROCESS_ADMIN)
    now = timezone.now()
    rows = []
    for instance, mask in told:
        categories = [c for c, bit in rules.PATH_CATEGORY_BITS.items() if mask & bit] or ["coordination"]
        rows += [
            log_row(user, instance.case, decision, category, AccessAction.READ, now, item="version-migration")
            for category in categories
        ]
    AccessLog.objects.bulk_create(rows)


def log_access_report(user, cases) -> None:
    """The person's access report lists their cases and who read what of each: a read of the
    person across their path, as the person page is. One row per case, ``item``
    "access-report", on the standing the reader reads the case's log on
    (``rules.with_access_log_standing``: its coordinator, or an auditor)."""
    now = timezone.now()
    rows = []
    for case in cases:
        if case.log_as_coordinator:
            agency_id, role = case.coordinator_agency_id, Role.COORDINATOR
        else:
            agency_id, role = case.log_auditing, Role.AUDITOR
        rows.append(_coordination_read(user, case, agency_id, role, rules.BASIS_ACCESS_REQUEST, "access-report", now))
    AccessLog.objects.bulk_create(rows)


def log_system_export(
    case,
    *,
    username: str,
    agency_id,
    categories,
    basis: str,
    item: str,
    role: str = "",
    consented: Mapping[str, list[rules.Decision]] | None = None,
) -> None:
    """A disclosure no person made (a connector's call, a delivery to the archive) in the
    access log: one ``export`` row per data category that left, and never a value. No user:
    ``username`` names the system that sent it (or where it went). ``consented``: the
    categories that left only on the person's consent or a recorded legal basis, each with
    its decisions (``consent_grounds``), logged on them instead of ``basis``."""
    AccessLog.objects.bulk_create(
        AccessLog(
            user=None,
            username=username[:150],
            role=role,
            agency_id=agency_id,
            case=case,
            person_id=case.person_id,
            category=category,
            action=AccessAction.EXPORT,
            basis=shown_basis[:300],
            consent=consent,
            item=item[:40],
        )
        for category in categories
        for shown_basis, consent in export_bases(consented or {}, category, basis)
    )


def export_bases(consented: Mapping[str, list[rules.Decision]], category: str, basis: str) -> list[tuple[str, Any]]:
    """(basis, consent) of each access-log row of a disclosure of ``category``: its consents'
    (``consent_grounds``) when it left only on them, else ``basis`` with no consent."""
    decisions = consented.get(category)
    if not decisions:
        return [(basis, None)]
    return [(decision.basis or basis, decision.consent) for decision in decisions]


def consent_grounds(grounds) -> dict[str, list[rules.Decision]]:
    """Of ``grounds`` ((category, decision) pairs: ``rules.receipt_grounds``), the decisions
    that rest on the person's consent or a recorded legal basis, one per category and consent:
    what a disclosure logs as its basis for that category (a value that left on a consent is
    logged on it, as a read of the page is)."""
    found: dict[str, dict[str, rules.Decision]] = {}
    for category, decision in grounds:
        if decision.consent is not None and category not in UNLOGGED_CATEGORIES:
            found.setdefault(category, {}).setdefault(decision.basis or "", decision)
    return {category: list(decisions.values()) for category, decisions in found.items()}


def log_message_fields(case, *, message_name: str, item: str, grounds) -> None:
    """Fields of a message another case of the person threw, let into ``case``
    (``rules.message_field_grounds``): one ``export`` row per agency of ``case``, category and
    ground (no user: the role ``message``, the message's name as who), never a value.
    ``identity`` is not logged, as everywhere."""
    rows: dict[tuple, rules.Decision] = {}
    for category, decision in grounds:
        if category in UNLOGGED_CATEGORIES:
            continue
        key = (decision.agency.pk if decision.agency else None, category, decision.basis)
        rows.setdefault(key, decision)
    now = timezone.now()
    AccessLog.objects.bulk_create(
        AccessLog(
            user=None,
            username=message_name[:150],
            role=rules.ROLE_MESSAGE,
            agency=decision.agency,
            case=case,
            person_id=case.person_id,
            category=category,
            action=AccessAction.EXPORT,
            basis=(decision.basis or "")[:300],
            consent=decision.consent,
            item=item[:40],
            at=now,
        )
        for (_agency, category, _basis), decision in rows.items()
    )


# --- safety warnings: minimal, factual, time-limited (domain.md) -----------------------------

SAFETY = "safety"


def holds_warning(value) -> bool:
    """Whether ``value`` of a safety field is a warning: not absent (``None``, a removal) and no
    text without words (empty or blank), which warns of nothing and is no warning either. Every
    read of whether a safety field holds one asks here (``warning_dates``, the confirmation, a
    correction's time in force: ``retention.services._warning_time_corrected``): until h-safety5
    a correction from or to an empty text kept the time of the warning it was not."""
    return value is not None and not (isinstance(value, str) and not value.strip())


def warning_days(fields: FieldRules, name: str) -> int:
    """How many days a safety warning in the field ``name`` holds after it was recorded or
    last confirmed: its form's ``"x-valid-days"``, else ``SAFETY_WARNING_DAYS``."""
    return dict(fields.valid_days).get(name) or default_warning_days()


def default_warning_days() -> int:
    """How many days a safety warning with no time of its own holds (a note's, a field's whose
    form gives no ``"x-valid-days"``): ``SAFETY_WARNING_DAYS``."""
    return settings.BROBYGGER["SAFETY_WARNING_DAYS"]


def _local_date(moment: datetime.datetime) -> datetime.date:
    """The calendar date of ``moment`` in the municipality's zone (``TIME_ZONE``, Oslo)."""
    return moment.astimezone(ZoneInfo(settings.TIME_ZONE)).date()


local_date = _local_date


def recorded_at(case, name: str) -> datetime.datetime | None:
    """When the safety value ``name`` of ``case`` was recorded or last confirmed
    (``Case.data_recorded_at``); a value with no time written (none should be: the migration
    filled them) counts from the case's start, the earliest it can have been recorded."""
    text = (getattr(case, "data_recorded_at", None) or {}).get(name)
    if isinstance(text, str):
        with contextlib.suppress(ValueError):
            moment = datetime.datetime.fromisoformat(text)
            return moment if timezone.is_aware(moment) else moment.replace(tzinfo=datetime.UTC)
    return case.opened_at


def lapses_on(moment: datetime.datetime, days: int) -> datetime.date:
    """The first Oslo date a warning recorded at ``moment`` is no longer shown on: counted in
    calendar days where the users live (a warning recorded at 00:30 on 25 October, summer
    time, lapses at midnight starting the day ``days`` later there, whatever the UTC clock or
    a change of summer time says)."""
    return _local_date(moment) + datetime.timedelta(days=days)


def warning_window(moment: datetime.datetime, days: int, at=None) -> tuple[datetime.date | None, datetime.date]:
    """A safety warning recorded or last confirmed at ``moment`` that holds ``days`` days:
    ``(the date it lapsed on, or None while in force at at (default now), the last date it is
    shown on)``. The rule every safety warning follows, a case's field (``warning_dates``) or a
    note (``permissions.notes_policy``). Pure: no queries."""
    ends = lapses_on(moment, days)
    return (ends if _local_date(at or timezone.now()) >= ends else None), ends - datetime.timedelta(days=1)


def carried_warning_start(moment: datetime.datetime, days: int, new_days: int) -> datetime.datetime:
    """The start of the time in force a warning recorded at ``moment`` and holding ``days``
    days keeps when carried into a field holding ``new_days``: ``moment`` itself unless the new
    field holds it longer, then as many Oslo calendar days earlier as make it lapse on the date
    it lapsed on before (the earlier of the two dates). A carry is the same warning, never a
    longer one (a confirmation in the new case is what starts a new time in force)."""
    if new_days <= days:
        return moment
    local = moment.astimezone(ZoneInfo(settings.TIME_ZONE))
    # Wall-clock arithmetic in Oslo: the local date moves by exactly the difference, whatever
    # summer time does in between (``lapses_on`` counts Oslo dates).
    return (local - datetime.timedelta(days=new_days - days)).astimezone(datetime.UTC)


def warning_dates(case, fields: FieldRules, names, at=None) -> tuple[dict, dict]:
    """Of the safety fields among ``names`` (fields of ``case``), ``(lapsed, valid_until)``:
    field -> the date it lapsed on for those out of time at ``at`` (default now), field ->
    the last date it is shown on for the others. The one place the time limit is decided:
    every channel that shows, sends or carries case data asks here (through ``case_data_for``
    or ``lapsed_warnings``). Pure: no queries."""
    at = at or timezone.now()
    lapsed, valid = {}, {}
    data = case.data or {}
    for name in names:
        if rules.category_of(fields.fields.get(name, RESTRICTED)) != SAFETY or not holds_warning(data.get(name)):
            continue  # no warning (or one removed: corrected to no value, or to no words)
        moment = recorded_at(case, name)
        if moment is None:
            continue
        lapsed_on, last = warning_window(moment, warning_days(fields, name), at)
        if lapsed_on is not None:
            lapsed[name] = lapsed_on
        else:
            valid[name] = last
    return lapsed, valid


def recorded_times(fields: FieldRules, names, at: datetime.datetime | None = None) -> dict[str, str]:
    """``Case.data_recorded_at`` entries for the safety fields among ``names`` written at ``at``
    (default now): what a step, a start or a correction merges into the case row with the
    fields' sources, in the same update."""
    moment = (at or timezone.now()).astimezone(datetime.UTC).isoformat()
    return {name: moment for name in names if rules.category_of(fields.fields.get(name, RESTRICTED)) == SAFETY}


def warnings_to_remind(case, fields: FieldRules, days: int, at=None) -> dict[str, tuple[str, datetime.date]]:
    """The safety warnings of ``case`` in force at ``at`` (default now) that lapse within
    ``days`` days and whose keepers have not been reminded of it in this time in force
    (``Case.safety_reminded``): field -> (the time in force, as ``Case.data_recorded_at``
    holds it: the key of the reminder; the date it lapses on). Decided by ``warning_dates``,
    as every read is. Pure: no queries."""
    if days < 1:
        return {}
    today = _local_date(at or timezone.now())
    reminded = getattr(case, "safety_reminded", None) or {}
    due = {}
    for name, last in warning_dates(case, fields, (case.data or {}).keys(), at)[1].items():
        lapses = last + datetime.timedelta(days=1)
        moment = recorded_at(case, name)
        written = (getattr(case, "data_recorded_at", None) or {}).get(name)
        period = str(written or (moment.isoformat() if moment else ""))
        if today >= lapses - datetime.timedelta(days=days) and reminded.get(name) != period:
            due[name] = (period, lapses)
    return due


def lapsed_warnings(case, fields: FieldRules, at=None) -> dict[str, datetime.date]:
    """The safety warnings of ``case`` out of time at ``at`` (``warning_dates``): field -> the
    date it lapsed on. Not sent to another case nor carried into a follow-on."""
    return warning_dates(case, fields, (case.data or {}).keys(), at)[0]


WARNING_COLUMNS = ("safety_since", "safety_until")


def warning_columns(case, fields: FieldRules) -> dict[str, datetime.datetime | None]:
    """``Case.safety_since`` and ``Case.safety_until`` as ``case``'s data and times in force
    stand (its process's ``fields``): the earliest time in force among its warnings holding
    ``SAFETY_WARNING_DAYS``, the earliest moment one holding its form's ``"x-valid-days"``
    lapses (None: none), by the rule of ``warning_dates`` (a warning removed is none). What
    the lists across cases read to tell whether a case's warnings are all in force
    (``rules.listed_task_rows``). Pure: no queries."""
    since = until = None
    own = dict(fields.valid_days)
    for name, value in (case.data or {}).items():
        if not holds_warning(value) or rules.category_of(fields.fields.get(name, RESTRICTED)) != SAFETY:
            continue
        moment = recorded_at(case, name)
        if moment is None:
            continue
        if own.get(name):
            ends = rules.local_midnight(lapses_on(moment, own[name]))
            until = ends if until is None else min(until, ends)
        else:
            since = moment if since is None else min(since, moment)
    return {"safety_since": since, "safety_until": until}


def keep_warning_columns(case, fields: FieldRules) -> tuple[str, ...]:
    """``warning_columns`` set on ``case``; answers the names of those that changed (for the
    writer's update, sent with the data or times it wrote)."""
    changed = []
    for name, value in warning_columns(case, fields).items():
        if getattr(case, name, None) != value:
            setattr(case, name, value)
            changed.append(name)
    return tuple(changed)


def _lapse_applied(access, case, view: CategoryView, decisions: list, fields: FieldRules, sources, at):
    """The safety ``view`` with the warnings out of time taken out for everyone but the agency
    that recorded each and the coordinator (``rules.decide_lapsed_warning``), who keep it (read
    on that ground, logged so); each lapsed one named with the date it lapsed on."""
    lapsed, valid = warning_dates(case, fields, view.values.keys(), at)
    if not lapsed and not valid:
        return view, decisions
    values: dict = {}
    kept: dict[str | None, rules.Decision] = {}
    confirmable: set[str] = set()
    for name, value in view.values.items():
        decision = rules.decide_lapsed_warning(access, case, sources.get(name))
        if decision and (name in lapsed or name in valid):
            confirmable.add(name)
        if name not in lapsed:
            values[name] = value
        elif decision:
            values[name] = value
            kept.setdefault(decision.basis, decision)
    current = decisions if any(name not in lapsed for name in values) else []
    shown = CategoryView(
        view.category,
        view.visible,
        values,
        view.reason,
        view.basis,
        view.earlier,
        lapsed,
        valid,
        frozenset(confirmable),
    )
    return shown, [*current, *(d for d in kept.values() if all(d.basis != c.basis for c in current))]


def case_data_for(
    user,
    case,
    fields: FieldRules,
    *,
    task=None,
    log=True,
    action=AccessAction.READ,
    at=None,
    also_log=(),
    hidden: Collection[str] = (),
    show_earlier: bool = False,
    log_into: list[Callable[[], list[AccessLog]]] | None = None,
) -> dict[str, CategoryView]:
    """``case.data`` grouped by category, each value shown or masked for ``user``.

    Every category of the process appears (masked ones too, so the absence of a
    category never reveals anything). Fields the definition does not know are
    ``restricted``. A category closed to the user still shows the values that
    ``rules.decide_value`` opens one by one (own data, shared fields); ``reason`` then
    explains the rest is masked.

    ``at``: the moment the consents and openings are read at and the reads logged at
    (default now); a caller that read them already (``rules.remember_policy_reads``) gives
    the moment it read them at.

    ``also_log``: access-log rows of the same read written by the caller's other parts (the
    person's national id, ``person_for(logged=...)``), inserted with these in one statement;
    a row of this read that says the same (the national id in the case data, revealed on the
    same task) is not written twice.

    ``hidden``: fields written on a branch the reader's path view hides
    (``workflows.selectors.PathView.fields``). Such a value is left out as if the case did not
    have it, unless the reader's own agency recorded it or a consent or an emergency opening
    (break-glass) shows its category to them: that it is there, or what it says, tells the
    branch (and so the value its gateway read) as the step that wrote it would.

    ``show_earlier``: each category's ``earlier`` holds the values the reader's own agency recorded
    (``Case.data_common``) that a step on a branch they see (not in ``hidden``: the caller
    gives the reader's ``PathView.fields``) wrote over, their read logged as their own data.

    ``log_into``: nothing is inserted; a function that makes this read's access-log rows (with
    ``also_log``'s) is appended to it, for the caller to insert them (``prepared.insert_rows``)
    once it knows these views are its answer (an opened task whose path view hides nothing:
    ``workflows.selectors._opened_case_data``), and not to make them when they are not.
    """
    access = rules.case_access(user, case)
    data = case.data or {}
    sources = case.data_sources or {}
    own = access.agency_ids if hidden else set()
    # A field a step every case passes wrote and a hidden branch may have written over shows
    # as that step left it (``Case.data_common``): the value the branch wrote, or that it
    # changed, tells the branch. Not the reader's own agency's value.
    common = (case.data_common or {}) if hidden else {}
    earlier = {name: common[name] for name in hidden if name in common and sources.get(name) not in own}
    grouped: dict[str, dict] = {category: {} for category in fields.categories}
    for name, value in data.items():
        grouped.setdefault(rules.category_of(fields.fields.get(name, RESTRICTED)), {})[name] = value

    consents = emergency = None
    views: dict[str, CategoryView] = {}
    logged = []
    now = at or timezone.now()
    for category in (c for c in ALL_CATEGORIES if c in grouped):
        values = grouped[category]
        decision = rules.decide_category(access, category, ())
        if not decision and access and category != RESTRICTED:
            if consents is None:
                consents = rules.active_consents(case, now)
                emergency = rules.active_break_glass(case, user, now)
            decision = rules.decide_category(access, category, consents, emergency)
        if hidden and not (decision and (decision.break_glass is not None or decision.consent is not None)):
            # By standing only: a consent or an emergency opening shows the category whole (a
            # gap left for a decision: docs/security.md "What a hidden step wrote").
            values = {
                name: earlier[name][0] if name in earlier else value
                for name, value in values.items()
                if name not in hidden or name in earlier or sources.get(name) in own
            }
            category_sources = {**sources, **{name: earlier[name][1] for name in values.keys() & earlier.keys()}}
        else:
            category_sources = sources
        # A key no form declares is its writer's only (``rules.decide_value``), even where the
        # category (restricted, for the coordinator) is open.
        undeclared = category == RESTRICTED and any(name not in fields.fields for name in values)
        if decision and not undeclared:
            view, decisions = CategoryView(category, True, dict(values), None, decision.basis), [decision]
        else:
            masked = decision if not decision else rules.undeclared_refusal(access)
            view, decisions = _values_one_by_one(access, category, values, category_sources, fields, masked)
        if show_earlier and access:
            view, decisions = _with_earlier(access, case, view, decisions, grouped[category].keys(), hidden)
        if category == "identity" and (view.values or view.earlier):
            # after the earlier values: a number the reader's agency recorded is masked alike
            view, reveal = _national_id_as_allowed(user, case, view, fields, task)
            if reveal:
                decisions.append(reveal)
        if category == SAFETY and view.values:
            view, decisions = _lapse_applied(access, case, view, decisions, fields, category_sources, now)
        views[category] = view
        if log and (view.values or view.earlier):
            logged += [
                (d, category)
                for d in decisions
                if category not in UNLOGGED_CATEGORIES or (d.basis or "").startswith("task:")
            ]

    def rows() -> list[AccessLog]:
        made = [log_row(user, case, d, category, action, now) for d, category in logged]
        if also_log:
            said = {_said(row) for row in also_log}
            made = [*also_log, *(row for row in made if _said(row) not in said)]
        return made

    if log_into is not None:
        log_into.append(rows)
    else:
        insert_rows(rows())
    return views


def _said(row: AccessLog) -> tuple:
    """What an access-log row tells (its id and moment aside)."""
    return tuple(
        getattr(row, field.attname) for field in AccessLog._meta.concrete_fields if field.name not in ("id", "at")
    )


def sees_field(views: Mapping[str, CategoryView], fields: FieldRules, name: str) -> bool:
    """Whether the user whose ``views`` (``case_data_for``) these are sees the value of the
    field ``name``: its whole category is shown, or this value is (own data, shared). A
    name no form has (a script's variable) is restricted."""
    view = views.get(rules.category_of(fields.fields.get(name, RESTRICTED)))
    if view is None or not view.visible:
        return False
    if name in view.lapsed:  # a safety warning out of time: only its keepers still see it
        return name in view.values
    return view.reason is None or name in view.values


def _with_earlier(access, case, view: CategoryView, decisions: list, names, hidden) -> tuple[CategoryView, list]:
    """``view`` with the earlier values of ``names`` its reader's agency recorded (see
    ``case_data_for(show_earlier=)``), and the own-data decision that logs their read."""
    data, sources = case.data or {}, case.data_sources or {}
    found, read = {}, None
    for name in names:
        pair = (case.data_common or {}).get(name)
        if name in hidden or not isinstance(pair, list) or len(pair) != 2:
            continue
        if data.get(name) == pair[0] and sources.get(name) == pair[1]:
            continue  # no step on a branch wrote over it
        decision = rules.decide_own_value(access, pair[1])
        if decision:
            found[name], read = pair[0], read or decision
    if read is None:
        return view, decisions
    shown = CategoryView(
        view.category,
        view.visible,
        view.values,
        view.reason,
        view.basis,
        found,
        view.lapsed,
        view.valid_until,
        view.confirmable,
    )
    return shown, [*decisions, read] if all(d.basis != read.basis for d in decisions) else decisions


def _values_one_by_one(access, category, values, sources, fields, refusal):
    shown, decisions = {}, {}
    for name, value in values.items():
        decision = rules.decide_value(
            access,
            category,
            (),
            field_name=name,
            source_agency_id=sources.get(name),
            shared_fields=fields.shared_fields,
            declared=name in fields.fields,
        )
        if decision:
            shown[name] = value
            decisions.setdefault(decision.basis, decision)
    if not shown:
        return CategoryView(category, False, {}, _text(refusal.reason), None), []
    first = next(iter(decisions.values()))
    return CategoryView(category, True, shown, _text(refusal.reason), first.basis), list(decisions.values())


def _national_id_as_allowed(user, case, view, fields, task):
    """The identity view with the national id masked unless ``rules.can_see_national_id``: a
    field named as one, and any other value of the category that is one (a form's
    ``barnets_fodselsnr``, a guardian's number in a list): known by what it is, not by what
    the model calls its field. The earlier values the reader's agency recorded alike."""
    held, held_earlier = _holding(view.values), _holding(view.earlier)
    if not held and not held_earlier:
        return view, None
    full = rules.can_see_national_id(user, case, task, needs_full_identity=fields.needs_full_identity(task))
    if full:
        return view, full
    values, earlier = _masked_in(view.values, held), _masked_in(view.earlier, held_earlier)
    return CategoryView(view.category, view.visible, values, view.reason, view.basis, earlier), None


def _holding(values: dict) -> set[str]:
    """The names of ``values`` that hold a national id: by their name, or by what they hold
    (a value masked whole counts as holding one)."""
    return {
        name
        for name, value in values.items()
        if name in NATIONAL_ID_FIELDS or _masked_whole(value) or _holds_national_id(value)
    }


def _masked_in(values: dict, held: set[str]) -> dict:
    return {name: (value if name not in held else _masked_value(name, value)) for name, value in values.items()}


def _masked_value(name: str, value):
    if name in NATIONAL_ID_FIELDS:
        return _mask(value)
    if _masked_whole(value):
        return shown_masked(value)  # eleven stars
    return _masked_within(value)


def _masked_whole(value) -> bool:
    """Whether ``value`` is masked whole, not national id by national id: it holds more than
    ``SCAN_LIMIT`` items and numbers written in its texts together or nests deeper than
    ``SCAN_DEPTH`` (unread, so none of it can be shown), or an object in it has a national id
    for a key (two masked keys could fall together, one entry lost). Stops there: its own
    work is bounded too. The texts' numbers count against the same limit as the items: with a
    limit a text, a list of a thousand texts of a thousand eleven-digit numbers each cost a
    million checks a read (review2)."""
    left, stack = SCAN_LIMIT, [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            # its first number rides on its place among the items (a list of ids is no bigger)
            left -= max(len(list(itertools.islice(NATIONAL_ID_IN_TEXT.finditer(item), max(left, 0) + 2))) - 1, 0)
            if left < 0:
                return True
            continue
        if not isinstance(item, list | dict):
            continue
        if depth >= SCAN_DEPTH:
            return True
        left -= len(item)
        if left < 0 or (isinstance(item, dict) and any(map(_text_holds_id, item))):
            return True
        children = item.values() if isinstance(item, dict) else item
        stack.extend((child, depth + 1) for child in children if isinstance(child, str | list | dict))
    return False


# A national id as people write one into a text: eleven digits, or six and five apart by a
# space or a hyphen ("298220-99635"), anywhere in it ("Mor: Kari, fnr 298220 99635"). Until
# h-attack34 only a text that was a number as a whole was known as one: written so, a child's
# or a guardian's number was shown in full to every participant, and its read not logged.
# Until review2 only a space or a hyphen-minus was known between the two parts, and only ASCII
# digits: a number pasted from a letter or a web page (a no-break space, an en dash, a dot
# between its parts) or typed in full-width digits was shown in full. ``\d`` is any decimal
# digit (Unicode), read as its ASCII digit (``_ascii_digits``) before the check digits are.
_DASHES = r"\-\u2010-\u2015\u2212"
NATIONAL_ID_IN_TEXT = re.compile(rf"(?<!\d)(\d{{6}})(?:[\s.{_DASHES}]|\s[{_DASHES}]\s)?(\d{{5}})(?!\d)")


def _ascii_digits(digits: str) -> str:
    return digits if digits.isascii() else "".join(str(unicodedata.decimal(digit)) for digit in digits)


def _number_is_id(value) -> bool:
    """Whether a JSON number is a national id: a form that asks for one as a number (``"type":
    "integer"``) keeps it so, its leading zero lost (``01019012345`` as ``1019012345``)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    if isinstance(value, float) and not value.is_integer():
        return False
    return 0 < value < 10**11 and is_national_id(f"{int(value):011d}")


def _ids_in_text(text: str) -> list[re.Match] | None:
    """The national ids written in ``text`` (``NATIONAL_ID_IN_TEXT``); None when it holds more
    than ``SCAN_LIMIT`` candidates: masked whole, unread, as a value of too many items is."""
    candidates = list(itertools.islice(NATIONAL_ID_IN_TEXT.finditer(text), SCAN_LIMIT + 1))
    if len(candidates) > SCAN_LIMIT:
        return None
    return [found for found in candidates if is_national_id(_ascii_digits(found[1] + found[2]))]


def _text_holds_id(text) -> bool:
    if not isinstance(text, str):
        return is_national_id(text) or _number_is_id(text)
    return is_national_id(text) or (found := _ids_in_text(text)) is None or bool(found)


def _text_masked(text: str) -> str:
    """``text`` with each national id written in it masked as ``_mask`` does; eleven stars for
    a text with too many candidates to look through."""
    found = _ids_in_text(text)
    if found is None:
        return shown_masked(text)
    parts, at = [], 0
    for each in found:
        parts += [text[at : each.start()], _mask(each[1] + each[2])]
        at = each.end()
    return "".join([*parts, text[at:]])


def _holds_national_id(value) -> bool:
    """Whether ``value`` (a text, or a list or object of them) holds a national id."""
    if isinstance(value, str):
        return _text_holds_id(value)
    if _number_is_id(value):
        return True
    if isinstance(value, list):
        return any(_holds_national_id(item) for item in value)
    if isinstance(value, dict):
        return any(_holds_national_id(item) for item in value.values())
    return False


def _masked_within(value):
    """``value`` with each national id in it masked (``_mask``), the rest as it is."""
    if isinstance(value, str):
        return _mask(value) if is_national_id(value) else _text_masked(value)
    if _number_is_id(value):
        return _mask(f"{int(value):011d}")
    if isinstance(value, list):
        return [_masked_within(item) for item in value]
    if isinstance(value, dict):
        return {key: _masked_within(item) for key, item in value.items()}
    return value


def person_for(user, case, fields: FieldRules, *, task=None, log=True, logged: list | None = None, at=None) -> dict:
    """The person's ``name`` and ``national_id`` as ``user`` may see them.

    The name is identity, open to every participant: the case's own (``Case.person_name``),
    never the person row's, which another case's starter gave. The national id is masked
    (``170920*****``) unless ``rules.can_see_national_id`` allows it for ``task``;
    ``national_id_masked`` says which. A user who cannot see the case gets None.

    The read of the national id in full is logged (``identity``, on the task's basis), at
    ``at`` (default now): inserted here, or appended to ``logged`` for the caller to insert
    with the rest of the read (``case_data_for(also_log=...)``: one statement).
    """
    access = rules.case_access(user, case)
    if not access:
        return {"name": None, "national_id": None, "national_id_masked": True}
    person = case.person
    decision = rules.can_see_national_id(user, case, task, needs_full_identity=fields.needs_full_identity(task))
    if decision:
        if log:
            row = log_row(user, case, decision, "identity", AccessAction.READ, at or timezone.now())
            if logged is None:
                insert_rows([row])
            else:
                logged.append(row)
        return {"name": case.person_name, "national_id": person.national_id, "national_id_masked": False}
    return {"name": case.person_name, "national_id": _mask(person.national_id), "national_id_masked": True}


def _mask(value):
    return shown_masked(value) if isinstance(value, str) else None  # a value that cannot be masked: stars


def _text(reason) -> str | None:
    return None if reason is None else str(reason)
