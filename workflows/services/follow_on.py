"""One person, one path (issue 15): a case starts the next case of the person's path
(prison release -> settling in -> keeping the home), carrying the fields the next
process declares as inherited.

The next process's start form marks each field it takes over with ``"x-inherit"``: the
names of the earlier case's fields to take it from, first found first. A value is carried
only when the starter sees it in the earlier case (read through ``permissions.policy``,
so the read is in the access log), its field has the same category in both processes,
and every agency of the new case may see that category: an agency of the earlier case on
its standing or the person's consent there (``rules.may_carry``), an agency new to the
path on its own standing only (its own service, an open category), or because the person
consents now (``consent_categories``: recorded in the new case, for those agencies, in the
same transaction). What is not carried is named, never its value.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.db import transaction

from bpmn.models import ProcessDefinition
from bpmn.registry import runtime_for
from core.errors import Conflict, Forbidden, InvalidInput, field_error
from permissions import policy, rules
from permissions.models import CATEGORIES, RESTRICTED, AccessAction, Agency
from workflows import selectors
from workflows.models import Case, CaseStatus, Event, EventKind
from workflows.services.caseload import housing_agency_of
from workflows.services.cases import start_case, valid_participants
from workflows.services.consents import person_consent_basis, record_consent

INHERIT_KEY = "x-inherit"
# The purpose of the person's consent recorded as the case starts (stored as written, in
# bokmål like the purposes users type). It names no earlier case: every participant of the
# new case reads it, an agency new to the path too, which is not told where the person
# comes from (a prison case's reference named it).
CONSENT_PURPOSE = "Samtykke til deling gitt da saken ble startet"


@dataclass
class FollowOn:
    case: Case
    carried: list[str] = field(default_factory=list)
    withheld: list[str] = field(default_factory=list)  # fields of the start form not carried: no consent


def inherited_fields(definition: ProcessDefinition) -> dict[str, list[str]]:
    """Start-form field -> the earlier case's fields it is taken from; empty when the
    process declares none (it is then no follow-on process)."""
    start_form = (definition.metadata or {}).get("start_form")
    schema = runtime_for(definition).forms.get(start_form or "") or {}
    return {
        name: list(prop[INHERIT_KEY])
        for name, prop in (schema.get("properties") or {}).items()
        if isinstance(prop, dict) and isinstance(prop.get(INHERIT_KEY), list)
    }


def follow_on_processes() -> list[ProcessDefinition]:
    """The latest version of each process whose start form inherits fields."""
    latest: dict[str, ProcessDefinition] = {}
    for definition in ProcessDefinition.objects.defer("spec_json", "bpmn_xml").order_by("key", "-version"):
        latest.setdefault(definition.key, definition)
    return [d for d in latest.values() if inherited_fields(d)]


def start_follow_on(
    *, actor, case, process_key: str, participants: dict | None = None, responsible=None, consent_categories=()
) -> FollowOn:
    """Start ``process_key`` for the person of ``case`` as the next case of their path.

    ``participants`` (agency kind -> agency or id) defaults to the earlier case's agency of
    each kind the new process needs. Only a housing contact of the earlier case's housing
    agency starts one (403 for other participants, 404 for everyone else).
    """
    source = selectors.case_for(actor, case)
    if not rules.can_start_follow_on(actor, source, housing_agency_of(source)):
        raise Forbidden("case.follow_on_forbidden")
    definition = (
        ProcessDefinition.objects.filter(key=process_key).defer("spec_json", "bpmn_xml").order_by("-version").first()
        if isinstance(process_key, str)
        else None
    )
    plan = inherited_fields(definition) if definition is not None else {}
    if definition is None or not plan:
        problem = {"code": "case.not_a_follow_on"}
        raise InvalidInput(**problem, errors=[field_error("process_key", **problem)])
    # The agencies checked before anything reads them (as ``start_case`` checks them): a
    # participant given as text that is no id ("abc" in the page's form) reached the read of
    # its row and was a 500 (until h-attack28).
    agencies = valid_participants(_participants(source, definition, participants), definition)
    consented = _valid_consent_categories(consent_categories)
    with transaction.atomic():  # a refused start takes its export's log rows back with it
        # The earlier case held first: an erasure of it (which holds it, then the person) waits
        # for this start and then sees the person's new case, instead of each waiting for the
        # other (the new case follows it: its key is needed at the commit).
        source.status = Case.objects.select_for_update().filter(pk=source.pk).values_list("status", flat=True).get()
        if selectors.case_is_erased(source):
            # Its person is a tombstone (no national id): the start took it for the person's
            # and answered 400 naming ``person.national_id``, a field no request here has.
            raise Conflict("retention.erased", errors=[field_error("process_key", "retention.erased")])
        # One open next case of a process per case, checked under that lock: a double submit
        # of the form (or the page and the API at once) started two settling-in cases, each
        # with its own tasks in every agency's inbox. A closed one may be followed again.
        if Case.objects.filter(follows=source, process_key=definition.key, status=CaseStatus.OPEN).exists():
            raise Conflict("case.follow_on_open", errors=[field_error("process_key", "case.follow_on_open")])
        carried, withheld, needs_consent, recorded_by, carried_from = _carry(
            actor, source, definition, plan, agencies, consented
        )
        new_case = start_case(
            actor=actor,
            process_key=definition.key,
            person={"name": source.person_name, "national_id": source.person.national_id},
            participants=agencies,
            data=carried,
            responsible=responsible,
        )
        # A carried value stays the value of the agency that recorded it in the earlier case
        # (``Case.data_sources``): as the starter's own it opened it to the starter's agency in
        # the new case on "own data" whatever its category, with no consent there, after the
        # person withdrew theirs, and made that agency its corrector. One that agency does not
        # take part in the new case is no agency's there (the coordinator corrects it).
        taking_part = set(new_case.participants.values_list("agency_id", flat=True))
        sources = {target: origin for target, origin in recorded_by.items() if origin in taking_part}
        common = {name: [value, sources.get(name)] for name, (value, _by) in (new_case.data_common or {}).items()}
        # A carried safety warning keeps the time it was recorded or confirmed at in the earlier
        # case: carried, it is the same warning, not a new one (``policy.warning_dates``). Nor
        # does the carry lengthen it: it lapses on the earlier of its date there and the date
        # the new field's ``x-valid-days`` gives (``policy.carried_warning_start``; until
        # h-safetynotes a field given 3,650 days kept a 30-day warning in force for ten years).
        recorded = dict(new_case.data_recorded_at or {})
        source_fields, target_fields = selectors.case_field_rules(source), runtime_for(definition).field_rules
        for target, name in carried_from.items():
            if target in recorded and (moment := policy.recorded_at(source, name)) is not None:
                start = policy.carried_warning_start(
                    moment, policy.warning_days(source_fields, name), policy.warning_days(target_fields, target)
                )
                recorded[target] = start.astimezone(datetime.UTC).isoformat()
        new_case.data_recorded_at = recorded
        policy.keep_warning_columns(new_case, target_fields)  # from the times carried
        Case.objects.filter(pk=new_case.pk).update(
            follows=source,
            data_sources=sources,
            data_common=common,
            data_recorded_at=recorded,
            **{name: getattr(new_case, name) for name in policy.WARNING_COLUMNS},
        )
        new_case.follows, new_case.data_sources, new_case.data_common = source, sources, common
        rules.forget_case_access(new_case)
        for agency, categories in needs_consent.items():
            record_consent(
                actor=actor,
                case=new_case,
                agency=agency,
                categories=sorted(categories),
                purpose=CONSENT_PURPOSE,
                legal_basis=person_consent_basis(),
            )
        Event.objects.create(
            case=source,
            kind=EventKind.FOLLOW_ON_STARTED,
            actor=actor,
            agency=housing_agency_of(source),
            detail={"case": new_case.pk, "reference": new_case.reference, "process_key": definition.key},
        )
    return FollowOn(new_case, sorted(carried), sorted(withheld))


def _participants(source: Case, definition: ProcessDefinition, given) -> dict:
    if given is None:
        given = {}
    if not isinstance(given, dict):
        raise InvalidInput("case.invalid", errors=[field_error("participants", "field.expected_object")])
    needed = set((definition.metadata or {}).get("lanes", {}).values())
    earlier = {p.kind: p.agency for p in selectors.case_participants(source)}
    chosen = {kind: earlier[kind] for kind in needed if kind in earlier}
    chosen.update({kind: agency for kind, agency in given.items() if kind in needed and agency not in (None, "")})
    return chosen  # start_case checks kinds, agencies and that every lane has one


def _valid_consent_categories(categories) -> set[str]:
    if not isinstance(categories, list | tuple | set) or not all(c in CATEGORIES for c in categories):
        problem = {"code": "consent.categories_invalid"}
        raise InvalidInput(**problem, errors=[field_error("consent_categories", **problem)])
    return set(categories)


def _carry(actor, source: Case, definition, plan: dict[str, list[str]], agencies: dict, consented: set[str]):
    """(values carried, start-form fields withheld, agency -> categories its carrying needs the
    person's consent for now, carried field -> the agency that recorded its value in the
    earlier case: None when none did, carried field -> the earlier case's field it came from)."""
    source_fields = selectors.case_field_rules(source)
    target_fields = runtime_for(definition).field_rules.fields
    # What the starter sees of the earlier case, read (and logged) as an export: it leaves the case.
    # Not what a step on a branch hidden from the starter wrote: carried, it told the branch.
    hidden = selectors.branch_fields_hidden(actor, source)
    views = policy.case_data_for(actor, source, source_fields, action=AccessAction.EXPORT, hidden=hidden)
    visible = selectors.views_values(views)
    lapsed = {name for view in views.values() for name in view.lapsed}
    recipients = [a if isinstance(a, Agency) else Agency.objects.filter(pk=a).first() for a in agencies.values()]
    consents = rules.active_consents(source)
    earlier = {p.agency_id for p in selectors.case_participants(source)}
    carried: dict = {}
    withheld: list[str] = []
    needs_consent: dict[Agency, set[str]] = {}
    recorded_by: dict[str, int | None] = {}
    carried_from: dict[str, str] = {}
    earlier_sources = source.data_sources or {}
    common = source.data_common or {}
    source_runtime = selectors.case_runtime(source)
    for target, names in plan.items():
        name = next((n for n in names if visible.get(n) not in (None, "")), None)
        if name is None:
            continue
        # A safety warning out of time is not carried: it stops labelling the person in the
        # earlier case, and would start again in the next one (``policy.warning_dates``).
        if name in lapsed:
            withheld.append(target)
            continue
        category = rules.category_of(source_fields.fields.get(name, RESTRICTED))
        if category == RESTRICTED or category != rules.category_of(target_fields.get(target, RESTRICTED)):
            withheld.append(target)
            continue
        # Only a value shown as stored is carried: one the starter was shown altered (a national
        # id masked, "290822*****") went into the next case as if it were the value.
        if visible[name] not in _stored_forms(source, common, name):
            withheld.append(target)
            continue
        decisions = {
            agency: rules.may_carry(source, agency, category, consents if agency.pk in earlier else ())
            for agency in recipients
            if agency is not None
        }
        lacking = [agency for agency, decision in decisions.items() if not decision]
        if lacking and category not in consented:
            withheld.append(target)
            continue
        # A value a step on a split's branch wrote (the starter sees the branch) tells that
        # branch to an agency of the new case that sees the value's category by its standing
        # but may not see what the split read: withheld (``split_reads_of``, from the model:
        # the same whichever branch the case took). Not one that sees it by the person's
        # consent, which shows a category whole (``policy.case_data_for``, docs/security.md
        # "What a hidden step wrote"), nor the agency that wrote it; nor a value shown as
        # every case's steps left it.
        shown_common = name in hidden and name in common and visible[name] == common[name][0]
        split = set() if shown_common or source_runtime is None else source_runtime.split_reads_of({name})
        split_categories = {rules.category_of(source_fields.fields.get(read, RESTRICTED)) for read in split}
        if any(
            decision
            and decision.consent is None
            and decision.break_glass is None
            and agency.pk != earlier_sources.get(name)  # its own step wrote it: it knows the branch
            and not all(
                rules.may_carry(source, agency, split_category, consents if agency.pk in earlier else ())
                for split_category in split_categories
            )
            for agency, decision in decisions.items()
        ):
            withheld.append(target)
            continue
        carried[target] = visible[name]
        carried_from[target] = name
        recorded_by[target] = earlier_sources.get(name)
        if name in hidden and name in common and visible[name] == common[name][0]:
            # The value the steps every case passes left (``Case.data_common``), shown for the
            # branch's: the agency that recorded that one, not the branch's writer (who then
            # answered for it in the new case, and the branch told by who did).
            recorded_by[target] = common[name][1]
        for agency in lacking:
            needs_consent.setdefault(agency, set()).add(category)
    return carried, withheld, needs_consent, recorded_by, carried_from


__all__ = ["FollowOn", "follow_on_processes", "inherited_fields", "start_follow_on"]


def _stored_forms(source: Case, common: dict, name: str) -> list:
    """The values ``name`` is stored as in ``source``: the case's, and the one every case's
    steps left (``Case.data_common``) that a reader not shown a hidden branch is shown."""
    forms = [(source.data or {}).get(name)]
    if name in common:
        forms.append(common[name][0])
    return forms
