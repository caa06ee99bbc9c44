"""Every access rule, as a named predicate. Nothing else in the code base decides access.

Views, API permission classes and services call these; they never inspect memberships
themselves. Superusers get no bypass: case data is sensitive and the law asks for a
role and an assignment, not a flag. (django-guardian's own checker answers True for
superusers, so it is never used here: the object permission is read straight from its
table, ``CaseGroupObjectPermission``, guardian's direct foreign-key model for cases.)

Seeing a case needs both (design §6):
- a case role (member, lead, coordinator) in an agency, and
- that agency participates in the case *and* its group holds the django-guardian
  object permission ``workflows.view_case`` on it (granted by ``permissions.grants``
  when the case starts or the agency joins).
Membership is the source of truth for who works where; the agency's group is the
holder of the object permission, so a process admin or auditor who is in the group
still sees nothing.

Seeing a value of case data needs one of these grounds, each a named predicate below:
- for the whole category (``decide_category``): ``participant`` (identity, coordination,
  safety), ``own-service`` (the category is the agency kind's own service),
  ``coordinator`` (economy and restricted fields for the case's coordinator agency), or an
  active consent / recorded legal basis of the person for that agency and category;
- for one value (``decide_value``): those, or ``own-data`` (the user's agency wrote the
  value: ``decide_own_value``), or ``shared-field`` (its form shares the field with every
  participant: ``decide_shared_field``).
``permissions.policy`` shows and logs case data through exactly these functions.
Consents are read from the database on every call: a consent takes effect and is
withdrawn immediately.
"""

from __future__ import annotations

import contextlib
import datetime
from collections.abc import Callable, Collection
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.core.signals import setting_changed
from django.db import connection
from django.db.models import (
    BooleanField,
    Exists,
    ExpressionWrapper,
    F,
    FilteredRelation,
    Func,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Value,
    When,
)
from django.db.models import Case as Cases
from django.db.models.lookups import GreaterThan, GreaterThanOrEqual, In, IsNull
from django.utils import timezone, translation
from django.utils.functional import Promise, lazy
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from django.utils.translation import trans_real

from core import public_ids
from permissions.models import (
    ALL_CATEGORIES,
    CASE_ROLES,
    CATEGORIES,
    CATEGORY_LABELS,
    RESTRICTED,
    Agency,
    AgencyKind,
    BreakGlass,
    CaseGroupObjectPermission,
    CaseParticipant,
    Consent,
    Membership,
    Role,
)
from permissions.prepared import Prepared, RowsInJSON, values_in_json

# --- the category table (design §6, domain.md "Data categories and access") -----------

# Open to every participating agency (the national id excepted: see policy.person_for).
OPEN_CATEGORIES = frozenset({"identity", "coordination", "safety"})
# The agency kinds whose own service a category is.
OWN_SERVICE_KINDS = {
    "economy": frozenset({AgencyKind.NAV}),
    "health": frozenset({AgencyKind.HEALTH, AgencyKind.HOSPITAL}),
    "justice": frozenset({AgencyKind.PRISON}),
    "housing": frozenset({AgencyKind.HOUSING}),
}
# Categories the case's coordinator agency sees without consent.
COORDINATOR_CATEGORIES = frozenset({"economy", RESTRICTED})

# Access bases as written in the access log.
BASIS_OWN_DATA = "own-data"
BASIS_OWN_SERVICE = "own-service"
BASIS_PARTICIPANT = "participant"
BASIS_COORDINATOR = "coordinator"
# A field its form marks ``"x-share": "participants"``: domain.md shares the release date and
# the housing conditions of parole with every participant, though justice is the prison's.
BASIS_SHARED_FIELD = "shared-field"
BASIS_ARCHIVE_DUTY = "archive-duty"  # the case file sent to the archive, or the order to send it
BASIS_CORRECTION = "correction"  # data corrected on the person's request (GDPR art. 16)
BASIS_ERASURE_REQUEST = "erasure-request"  # data erased on the person's request (GDPR art. 17)
BASIS_ACCESS_REQUEST = "access-request"  # the person's access report read (GDPR art. 15)
BASIS_AUDIT = "audit"  # an auditor of a participating agency read the case's access log

ROLE_RANK: dict[str, int] = {Role.COORDINATOR: 3, Role.LEAD: 2, Role.MEMBER: 1}

BASIS_LABELS = {
    BASIS_OWN_DATA: _("data their agency wrote"),
    BASIS_OWN_SERVICE: _("their agency's own service"),
    BASIS_PARTICIPANT: _("takes part in the case"),
    BASIS_COORDINATOR: _("coordinates the case"),
    BASIS_SHARED_FIELD: _("shared with everyone in the case"),
    BASIS_ARCHIVE_DUTY: _("the archive duty (arkivlova)"),
    BASIS_CORRECTION: _("the person's request for correction"),
    BASIS_ERASURE_REQUEST: _("the person's request for erasure"),
    BASIS_ACCESS_REQUEST: _("the person's right to know who saw their data"),
    BASIS_AUDIT: _("audits the case's access log"),
}


def basis_label(basis: str):
    """An access-log basis in words: ``consent:7`` -> "the person's consent (no. 7)",
    ``task:12`` -> "works task no. 12", ``legal:<law> (#3)`` -> "legal basis: <law>",
    ``service-task:<process>:<element>`` -> sent by the process's connector."""
    if basis in BASIS_LABELS:
        return BASIS_LABELS[basis]
    kind, _sep, rest = (basis or "").partition(":")
    if kind == "consent" and rest:
        return format_lazy(_("the person's consent (no. {number})"), number=rest)
    if kind == "task" and rest:  # by its public id (a key counts what is hidden)
        number = public_ids.public_basis(basis).partition(":")[2]
        return format_lazy(_("works a task that needs it (no. {number})"), number=number)
    if kind == "legal" and rest:
        return format_lazy(_("legal basis: {law}"), law=rest)
    if kind == "break-glass" and rest:
        return format_lazy(_("emergency access (no. {number})"), number=rest)
    if kind == "version-migration" and rest:
        return format_lazy(_("a move of the process's cases to another version (no. {number})"), number=rest)
    if kind == "service-task" and rest:
        process, _sep, element = rest.partition(":")
        if not element:  # on a branch the reader may not see (``masked_basis``)
            return format_lazy(_("sent by the process {process} (a service task)"), process=process)
        return format_lazy(
            _("sent by the process {process} (service task {element})"), process=process, element=element
        )
    if kind == "external-task" and rest:
        return format_lazy(_("fetched for the process's external task {element}"), element=rest)
    if basis == "external-task":
        return _("fetched for one of the process's external tasks")
    return basis


def basis_element(basis: str) -> str:
    """The model element an access-log basis names (a service task's), or ''."""
    kind, _sep, rest = (basis or "").partition(":")
    if kind == "external-task":
        return rest
    if kind == "service-task":
        return rest.partition(":")[2]
    return ""


def masked_basis(basis: str) -> str:
    """``basis`` without the element it names: ``external-task:<element>`` -> ``external-task``,
    ``service-task:<process>:<element>`` -> ``service-task:<process>`` (for a reader from whom
    the element is hidden: which service task ran tells the branch the case took)."""
    kind, _sep, rest = (basis or "").partition(":")
    if kind == "external-task":
        return kind
    if kind == "service-task":
        return f"{kind}:{rest.partition(':')[0]}"
    return basis


ROLE_CONNECTOR = "connector"  # an access-log row of a service task's connector call
ROLE_ARCHIVE = "archive"  # an access-log row of the case file delivered to the archive
ROLE_MESSAGE = "message"  # an access-log row of a message another case of the person threw into this one
# Where an access-log row with no user went: the archive's delivery (``retention.archive``).
SYSTEM_RECEIVERS = {
    "archive-endpoint": _("the archive's reception"),
    "archive-folder": _("the archive's folder"),
}


def role_label(role: str):
    """A membership role in words (``coordinator`` -> "koordinator")."""
    if role == ROLE_CONNECTOR:
        return _("the agency's system")
    if role == ROLE_ARCHIVE:
        return _("the municipality's archive")
    if role == ROLE_MESSAGE:
        return _("a message from another case")
    return Role(role).label if role in Role.values else role


def receiver_label(username: str):
    """Who an access-log row with no user names, in words (``archive-folder`` -> "the
    archive's folder"); a connector's own name as it is."""
    return SYSTEM_RECEIVERS.get(username, username)


@dataclass(frozen=True)
class Decision:
    """The answer of a data rule. ``basis`` says why it is allowed, ``reason`` why not.

    ``agency``/``role``/``consent`` name the membership and consent through which the
    access was granted (for the access log).
    """

    allowed: bool
    basis: str | None = None
    reason: str | Promise | None = None  # lazily translated: shown in the reader's language
    agency: Agency | None = field(default=None, compare=False)
    role: str | None = None
    consent: Consent | None = field(default=None, compare=False)
    break_glass: BreakGlass | None = field(default=None, compare=False)

    def __bool__(self) -> bool:
        return self.allowed


@dataclass(frozen=True)
class CaseAccess:
    """The user's standing in one case: the memberships through which they see it."""

    case: Any  # a workflows.Case: a higher layer, so named by what is read of it
    acting: tuple[tuple[Agency, str], ...]  # (agency, best case role), participating only
    has_memberships: bool  # any membership at all (to explain a refusal)

    @property
    def agency_ids(self) -> set[int]:
        return {agency.pk for agency, _role in self.acting}

    def __bool__(self) -> bool:
        return bool(self.acting)


# --- memberships (cached per request on the user object) -------------------------------


_MEMBERSHIP_COLUMNS = ("agency_id", "role", "agency__group_id", "agency__kind")
_MEMBERSHIP_ROWS = Prepared(
    lambda user_id: Membership.objects.filter(user=user_id).values_list(*_MEMBERSHIP_COLUMNS),
    kinds=(int,),
)


def membership_rows_in_json(user_ref: str):
    """The rows ``_membership_rows`` reads, of the user whose id is the outer statement's
    column ``user_ref``, as one value of that statement (PostgreSQL: ``folds_rows``): an API
    request's token read carries them (``accounts.tokens``), one statement less a request."""
    return values_in_json(Membership.objects.filter(user=OuterRef(user_ref)), *_MEMBERSHIP_COLUMNS)


def remember_membership_rows(user, rows) -> None:
    """``membership_rows_in_json``'s value, read for ``user`` with the request's first
    statement: the memberships of this request, as ``_membership_rows`` would read them."""
    user._brobygger_memberships = [tuple(row) for row in rows]


def _membership_rows(user) -> list[tuple[int, str, int, str]]:
    """(agency id, role, the agency's group id, the agency's kind) of each membership: one
    query per request."""
    if not user or not getattr(user, "is_authenticated", False):
        return []
    cache = getattr(user, "_brobygger_memberships", None)
    if cache is None:
        cache = _MEMBERSHIP_ROWS.rows(user.pk)
        user._brobygger_memberships = cache
    return cache


def membership_rows_read(user) -> tuple[str, list, Callable] | None:
    """The statement ``_membership_rows`` would send for ``user``, to go among others in one
    round trip (``(sql, params, on_result)``, as ``workflows.steps.rows.Batch.add`` takes
    it: the result is remembered for the request); None when there is nothing to read."""
    if not user or not getattr(user, "is_authenticated", False):
        return None
    if getattr(user, "_brobygger_memberships", None) is not None:
        return None
    sql, params = _MEMBERSHIP_ROWS.statement(user.pk)

    def remember(cursor) -> None:
        user._brobygger_memberships = _MEMBERSHIP_ROWS.rows_from(cursor)

    return sql, params, remember


def _memberships(user) -> list[tuple[int, str]]:
    return [(agency_id, role) for agency_id, role, _group, _kind in _membership_rows(user)]


def _agency_groups(user) -> set[tuple[int, int]]:
    return {(agency_id, group_id) for agency_id, _role, group_id, _kind in _membership_rows(user)}


def _case_agency_kinds(user) -> set[str]:
    """The kinds of the agencies in which the user works cases."""
    return {kind for _agency, role, _group, kind in _membership_rows(user) if role in CASE_ROLES}


def assignable_kinds(assigner, usernames) -> dict[str, set[str]]:
    """User name -> the kinds of the agencies in which ``assigner`` may hand that active user
    tasks (``can_assign_task``: a lead or coordinator there, the user with a case role there):
    whom a routing map's users may name (``bpmn.services``). One query, only about agencies
    the assigner leads: people they already see, as they hand them tasks; of everyone else
    the answer says nothing (unknown, inactive and foreign users all look alike: absent)."""
    leads = agency_ids_with_role(assigner, Role.LEAD, Role.COORDINATOR)
    names = {name for name in usernames if isinstance(name, str)}
    if not leads or not names:
        return {}
    kinds: dict[str, set[str]] = {}
    rows = Membership.objects.filter(
        agency_id__in=sorted(leads), user__username__in=names, user__is_active=True, role__in=CASE_ROLES
    ).values_list("user__username", "agency__kind")
    for username, kind in rows:
        kinds.setdefault(username, set()).add(kind)
    return kinds


def case_agency_ids(user) -> set[int]:
    """Agencies in which the user works cases (member, lead or coordinator)."""
    return {agency_id for agency_id, role in _memberships(user) if role in CASE_ROLES}


def agency_ids_with_role(user, *roles) -> set[int]:
    return {agency_id for agency_id, role in _memberships(user) if role in roles}


def holds_only(user, *roles) -> bool:
    """Every role the user holds, in any agency, is one of ``roles``."""
    return all(role in roles for _agency_id, role in _memberships(user))


def is_process_admin(user) -> bool:
    return bool(agency_ids_with_role(user, Role.PROCESS_ADMIN))


def is_auditor(user) -> bool:
    return bool(agency_ids_with_role(user, Role.AUDITOR))


# --- insight: aggregates for leaders ----------------------------------------------------

# The scope of the whole municipality's figures (``insight.models.WHOLE_MUNICIPALITY``).
WHOLE_MUNICIPALITY_SCOPE = 0


def insight_scopes(user) -> list[int]:
    """Whose figures the user may read: ``[0]`` (the whole municipality) for a municipality
    leader, else the ids of the agencies they lead. Leaders see aggregates only: neither
    role is a case role, so every case, task and person predicate refuses them."""
    if agency_ids_with_role(user, Role.MUNICIPAL_LEADER):
        return [WHOLE_MUNICIPALITY_SCOPE]
    return sorted(agency_ids_with_role(user, Role.LEADER))


def can_view_insight(user) -> bool:
    return bool(insight_scopes(user))


def can_view_insight_scope(user, scope: int) -> bool:
    return scope in insight_scopes(user)


def can_view_process_heatmap(user) -> bool:
    """Wait times on a process diagram: leaders, and process admins on their process pages
    (aggregates of the whole municipality, no case)."""
    return can_view_insight(user) or is_process_admin(user)


def can_use_directory(user) -> bool:
    """The agency directory and the list of processes: for anyone who works in an agency."""
    return bool(_memberships(user))


# --- the guardian object permission -----------------------------------------------------


def _granted(case_id, group_id):
    """``view_case`` on the case held by the group (both may be ``OuterRef``s): guardian's
    direct foreign-key model, looked up by integer keys."""
    return CaseGroupObjectPermission.objects.filter(
        content_object_id=case_id,
        group_id=group_id,
        permission__codename="view_case",
        permission__content_type__app_label="workflows",
    )


def _view_case_id() -> Subquery:
    """The ``view_case`` permission's id, for a list's statement: looked up by its content
    type's and its own natural keys, each a unique index, without a join or an order.
    Guardian's ``Permission`` query (``codename`` and ``content_type__app_label``, its
    default order, ``LIMIT 1``) joined the two tables and sorted them, planned anew in every
    list read (lists are not prepared): this form costs PostgreSQL 70-140 microseconds less
    a read (README "Performance"). Named, not sent as a kept id: an id read once outlives
    the rows it was read from (a test's flush makes the permissions again, with new ids)."""
    content_type = ContentType.objects.filter(app_label="workflows", model="case").order_by().values("pk")
    return Subquery(
        Permission.objects.filter(content_type_id=Subquery(content_type), codename="view_case").order_by().values("pk")
    )


def _standing_in(case_pk) -> Q:
    """For a membership row: its agency participates in the case and its group holds
    ``view_case`` on it."""
    granted = _granted(case_pk, OuterRef("agency__group_id"))
    participates = CaseParticipant.objects.filter(case_id=case_pk, agency_id=OuterRef("agency_id"))
    return Q(Exists(granted), Exists(participates))


def _participating_memberships(user, case_pk, roles):
    """Memberships of ``user`` with one of ``roles`` in an agency that participates in the
    case and whose group holds ``view_case`` on it. One query."""
    return Membership.objects.filter(user=user, role__in=roles).filter(_standing_in(case_pk))


class _Found(Func):
    """``(subquery) IS NOT NULL``: true when the subquery (a ``LIMIT 1`` of a key) finds a
    row, as ``EXISTS`` does. Unlike ``EXISTS``, PostgreSQL never turns it into a join: it
    stays a check run per row of the list, so the list is read in the order of its index
    and stops after a page, and the plan does not hang on the planner's estimate of how
    many rows pass (it multiplies the participation's and the grant's selectivities,
    which are the same rows, and expects a busy agency to see almost nothing)."""

    template = "(%(expressions)s) IS NOT NULL"
    output_field = BooleanField()


# From how many cases an agency takes part in a list of rows is read in the list's order,
# each row's case checked as it comes (``_Found``): a page then costs about
# PAGE * cases / participations rows. An agency in fewer cases is read from its
# participations instead (``EXISTS``, which PostgreSQL joins): a page costs about its
# participations, fewer than this. README "Read paths at scale".
WALK_FROM_PARTICIPATIONS = 2000


def _takes_part_widely(user, agency_ids) -> bool:
    """Whether ``agency_ids`` together take part in ``WALK_FROM_PARTICIPATIONS`` cases or
    more: an index-only read that stops there, once per request and agencies."""
    remembered = user.__dict__.setdefault("_brobygger_widely", {})
    key = frozenset(agency_ids)
    if key not in remembered:
        participations = CaseParticipant.objects.filter(agency_id__in=key)
        # Is there a WALK_FROM_PARTICIPATIONS-th one (OFFSET in the agency's index; no count)?
        remembered[key] = participations[WALK_FROM_PARTICIPATIONS - 1 : WALK_FROM_PARTICIPATIONS].exists()
    return remembered[key]


def _participates_with_grant(user, agency_ids, case_id=None, *, per_row: bool = False) -> Q:
    """For a list's rows: one of ``agency_ids`` participates in the row's case (``case_id``,
    by default the row itself) *and its own group* holds ``view_case`` on it, as the case
    page decides (``_participating_memberships``): a user in one agency that takes part
    without the grant and another that holds a grant without taking part sees the case
    nowhere. Each check is an index lookup on integer keys per row (the case's
    participations; its grants), so a list read in the order of an index stops after a page
    (``_Found``, for agencies in many cases; ``EXISTS`` for the others, whose few
    participations PostgreSQL reads first). ``per_row``: the ``_Found`` form whatever the
    agencies' reach (rows already narrowed to the agency's cases by an index of their own)."""
    case_id = OuterRef("pk") if case_id is None else case_id
    group_of = {agency_id: group_id for agency_id, group_id in _agency_groups(user) if agency_id in agency_ids}
    if not group_of:
        return Q(pk__in=[])
    widely = per_row or _takes_part_widely(user, agency_ids)

    def participates_and_granted(agencies, groups) -> Q:
        participates = CaseParticipant.objects.filter(case_id=case_id, agency_id__in=agencies)
        granted = CaseGroupObjectPermission.objects.filter(
            content_object_id=case_id, group_id__in=groups, permission_id=_view_case_id()
        )
        if widely:
            return Q(_Found(Subquery(participates.values("pk")[:1]))) & Q(_Found(Subquery(granted.values("pk")[:1])))
        return Q(Exists(participates), Exists(granted))

    # Each agency with its own group; with one agency this is the whole condition.
    pairs = sorted(group_of.items())
    one_agency_each = Q()
    for agency_id, group_id in pairs:
        one_agency_each |= participates_and_granted([agency_id], [group_id])
    if widely or len(pairs) == 1:
        return one_agency_each
    # Several agencies, few cases: the conditions over them all as well, which PostgreSQL
    # joins (it reads their few participations first); the pairs then filter those rows.
    return participates_and_granted([a for a, _g in pairs], [g for _a, g in pairs]) & one_agency_each


def task_reader_agency(user) -> int | None:
    """The agency whose rows of the task-reader index (``workflows.models.TaskReader``: a
    task once for each agency taking part in its case) narrow ``user``'s task lists: their
    one case agency, on PostgreSQL, which keeps those rows. None (lists read as before): a
    user working cases in several agencies (a task would come once for each of them that
    takes part), or none, or SQLite. The rows only narrow: ``visible_case_rows`` still
    decides each one (``per_row``)."""
    mine = case_agency_ids(user)
    if len(mine) != 1 or connection.vendor != "postgresql":
        return None
    (agency_id,) = mine
    return agency_id


def reader_shape(user, *, widely: bool | None = None, reach: bool = True) -> tuple[tuple, tuple]:
    """What of ``user`` decides the text of a list's statement (its shape), and the ids the
    statement is sent with, for statements compiled once per shape (``permissions.prepared``).

    The shape: each membership's role and agency kind, which memberships share an agency or
    a group (by position, not id), and whether their case agencies take part in many cases
    (the form of ``_participates_with_grant``). The ids: the user's, then the agencies' and
    the groups', each in ascending order, then the moments the lists' rule for safety
    warnings compares with (``lists_clock``: now). ``reach=False``: a list whose statement does not
    depend on the agencies' reach (``listed_cases`` for one agency) leaves it out, and its
    look-up with it. ``reader_for(shape, ids)`` gives a reader that every
    rule here reads as it reads ``user``: a statement built for one with stand-in ids is
    ``user``'s own once their ids take the stand-ins' places.

    ``widely``: the form of the visibility check to use, when the caller knows the list's
    rows are few whatever the reader's reach (a case's tasks: each row checked as it comes);
    by default the reader's agencies' reach decides (``_takes_part_widely``, one probe)."""
    rows = _membership_rows(user)
    # In ascending order, as the stand-ins are: a rule that sorts ids sorts both alike.
    agencies = sorted({agency_id for agency_id, _role, _group, _kind in rows})
    groups = sorted({group_id for _agency, _role, group_id, _kind in rows})
    mine = case_agency_ids(user)
    if reach:
        if widely is None:  # the reach decides the form only without the task-reader index (one probe)
            widely = task_reader_agency(user) is None and bool(mine) and _takes_part_widely(user, mine)
        widely = bool(mine) and widely
    else:  # not part of the shape: a rule that asks reads the database (refused while building)
        widely = None
    memberships = tuple(
        (agencies.index(agency_id), str(role), groups.index(group_id), str(kind))
        for agency_id, role, group_id, kind in rows
    )
    # Last, the clock the lists' rule for safety warnings reads (``lists_clock``): values.
    return (memberships, widely), (user.pk, *agencies, *groups, *lists_clock(timezone.now()))


def reader_for(shape: tuple, ids: tuple) -> Any:
    """A user holding the memberships ``shape`` describes with ``ids`` (``reader_shape``): never
    saved, never read from the database; the rules find its memberships and its agencies'
    reach already remembered on it, as they are on a user after the first look."""
    memberships, widely = shape
    user_id, *rest, now, since_from = ids
    agency_count = len({agency for agency, _role, _group, _kind in memberships})
    agencies, groups = rest[:agency_count], rest[agency_count:]
    reader = get_user_model()(pk=user_id)
    reader.__dict__["_brobygger_memberships"] = [
        (agencies[agency], role, groups[group], kind) for agency, role, group, kind in memberships
    ]
    reader.__dict__[_LISTS_CLOCK] = (now, since_from)
    mine = case_agency_ids(reader)
    if mine and widely is not None:  # (not known: a rule that asks reads the database, refused)
        reader.__dict__["_brobygger_widely"] = {frozenset(mine): widely}
    return reader


def case_access(user, case) -> CaseAccess:
    """Through which of the user's agencies (and with which role) they see ``case``.

    Remembered on the case object per user, so a page that checks the case, shows the
    person and masks the data asks the database once; ``permissions.grants`` forgets it
    when participation or grants change (``forget_case_access``).
    """
    remembered = case.__dict__.setdefault("_brobygger_access", {})
    key = getattr(user, "pk", None)
    if key not in remembered:
        _read_standing(user, case, remembered)
    return remembered[key]


def _roles_in_case(user, case) -> frozenset[tuple[int, str]]:
    """(agency id, role) of each membership of ``user`` (a case role or auditor) in an agency
    that takes part in ``case`` and holds its grant: read with ``case_access`` and remembered
    with it, so the page's questions (coordinator? lead? auditor?) ask the database nothing more."""
    remembered = case.__dict__.setdefault("_brobygger_access", {})
    key = ("roles", getattr(user, "pk", None))
    if key not in remembered:
        _read_standing(user, case, remembered)
    return remembered[key]


def _has_role_in_case(user, case, roles, agency_id: int | None = None) -> bool:
    """A membership of ``user`` with one of ``roles`` (in ``agency_id``, if given) in an agency
    that takes part in ``case`` and holds its grant."""
    return any(role in roles and agency_id in (None, agency) for agency, role in _roles_in_case(user, case))


def remember_case_access(user, cases) -> None:
    """``case_access`` of ``user`` for each of ``cases``, read in one query for them all (a
    list that decides per case, such as the person's path, would otherwise ask per case)."""
    memberships = _memberships(user)
    by_case: dict[int, list[tuple[Agency, str]]] = {case.pk: [] for case in cases}
    if any(role in CASE_ROLES for _agency, role in memberships):
        rows = (
            Membership.objects.filter(user=user, role__in=CASE_ROLES)
            .select_related("agency")
            .annotate(case_id=F("agency__participations__case_id"))
            .filter(case_id__in=list(by_case))
            .filter(Exists(_granted(OuterRef("case_id"), OuterRef("agency__group_id"))))
        )
        for membership in rows:
            by_case[membership.case_id].append((membership.agency, membership.role))
    for case in cases:
        access = _access_from(case, by_case[case.pk], has_memberships=bool(memberships))
        case.__dict__.setdefault("_brobygger_access", {})[getattr(user, "pk", None)] = access


def forget_case_access(case) -> None:
    case.__dict__.pop("_brobygger_access", None)


# The roles asked about per case: the case roles (``case_access``) and the auditor's.
_ROLES_IN_CASE = (*CASE_ROLES, Role.AUDITOR)
# Read on every request that shows or works a case or task: compiled once (``prepared``).
_PARTICIPATING_CASE_MEMBERSHIPS = Prepared(
    lambda user_id, case_id: _participating_memberships(user_id, case_id, _ROLES_IN_CASE).select_related("agency"),
    kinds=(int, int),
)


# A request's first question about a case, before anything read the user's memberships (an
# API answer about one case): every membership with whether it stands in the case, so the
# memberships (remembered on the user, ``_membership_rows``) and the standing are one
# statement, not two.
def memberships_with_standing(user_id, case_id):
    """Every membership of the user (with its agency), each with ``stands``: whether its
    agency takes part in the case and holds the grant. ``case_id`` may be an expression (a
    subquery of the task's case: the completion's first round trip)."""
    return (
        Membership.objects.filter(user=user_id)
        .select_related("agency")
        .annotate(stands=ExpressionWrapper(_standing_in(case_id), output_field=BooleanField()))
    )


_MEMBERSHIPS_WITH_STANDING = Prepared(memberships_with_standing, kinds=(int, int))


def _read_standing(user, case, remembered: dict) -> None:
    """``case_access`` and ``_roles_in_case`` of ``user`` in ``case``, from one query (with the
    user's memberships, when they were not read yet)."""
    if getattr(user, "is_authenticated", False) and getattr(user, "_brobygger_memberships", None) is None:
        remember_standing(user, case, _MEMBERSHIPS_WITH_STANDING.objects(user.pk, case.pk))
        return
    rows: list[tuple[Agency, str]] = []
    memberships = _memberships(user)
    if any(role in _ROLES_IN_CASE for _agency, role in memberships):
        rows = [(m.agency, m.role) for m in _PARTICIPATING_CASE_MEMBERSHIPS.objects(user.pk, case.pk)]
    _remember_access(user, case, remembered, rows, memberships)


@dataclass(frozen=True)
class StandingRead:
    """``user``'s standing in a case read by the case's id, before (and instead of) its row:
    ``sees``, whether a case role of theirs stands there (``can_view_case``). A case they do
    not see and an id no case has read the same statement and both answer False, so the 404
    of either does the same work (docs/security.md "404 alike")."""

    rows: list
    with_memberships: bool  # ``rows``: every membership with ``stands``, else the standing ones
    sees: bool

    @property
    def stands(self) -> bool:
        """Whether any role of ``_ROLES_IN_CASE`` (a case role, or an auditor's) stands in the
        case: what every answer about it but a 404 rests on (its access log, its retention)."""
        if self.with_memberships:
            return any(m.stands and m.role in _ROLES_IN_CASE for m in self.rows)
        return bool(self.rows)


def read_standing_by_id(user, case_id: int) -> StandingRead:
    """``_read_standing`` by the case's id: one statement, the same whether the case exists or
    not. The user's memberships, when this read them, are remembered at once (a case or not)."""
    if getattr(user, "is_authenticated", False) and getattr(user, "_brobygger_memberships", None) is None:
        found = _MEMBERSHIPS_WITH_STANDING.objects(user.pk, case_id)
        user._brobygger_memberships = [(m.agency_id, m.role, m.agency.group_id, m.agency.kind) for m in found]
        sees = any(m.stands and m.role in CASE_ROLES for m in found)
        return StandingRead(found, True, sees)
    rows: list = []
    if any(role in _ROLES_IN_CASE for _agency, role in _memberships(user)):
        rows = _PARTICIPATING_CASE_MEMBERSHIPS.objects(user.pk, case_id)
    return StandingRead(rows, False, any(m.role in CASE_ROLES for m in rows))


def remember_standing_read(user, case, read: StandingRead) -> None:
    """Remember ``read`` (``read_standing_by_id`` of ``case``'s id) as ``case_access`` and
    ``_roles_in_case`` of ``user`` in ``case``: nothing more is asked of the database."""
    if read.with_memberships:
        remember_standing(user, case, read.rows)
        return
    remembered = case.__dict__.setdefault("_brobygger_access", {})
    _remember_access(user, case, remembered, [(m.agency, m.role) for m in read.rows], _memberships(user))


def sees_case_of_row(user_id, case: str = "case_id") -> Exists:
    """For a row that names a case (a task's ``case_id``): a case role of ``user_id`` stands in
    that case (``can_view_case``), decided in the statement that reads the row. A row of a
    case the user does not see is then no row at all, as an id that no row has."""
    return Exists(_participating_memberships(user_id, OuterRef(OuterRef(case)), CASE_ROLES))


def stands_in_case_of_row(user_id, case: str = "case_id") -> Exists:
    """``sees_case_of_row`` for the rows whose every answer but a 404 rests on a role standing
    in their case, a case role or an auditor's (``StandingRead.stands``): an emergency opening
    reviewed or ended, an erasure reviewed, a national id decided. Such a row of a case the
    user has no part in is then no row at all, as an id no row has: until h-attack27 the row
    was read, then the user's standing in its case, and an outside auditor's 404 came a
    statement later for an opening or correction that was there."""
    return Exists(_participating_memberships(user_id, OuterRef(OuterRef(case)), _ROLES_IN_CASE))


def remember_standing(user, case, found) -> None:
    """Remember ``user``'s memberships (``_membership_rows``) and their ``case_access`` and
    ``_roles_in_case`` in ``case`` from ``found``: every membership of the user as
    ``memberships_with_standing`` reads them. A caller that read them in a round trip of its
    own (the completion's first: ``workflows.steps.rows.lock_and_complete``) then asks the
    database nothing more about the user's memberships or standing in the case, until
    participation or grants change (``forget_case_access``)."""
    user._brobygger_memberships = [(m.agency_id, m.role, m.agency.group_id, m.agency.kind) for m in found]
    rows = [(m.agency, m.role) for m in found if m.stands and m.role in _ROLES_IN_CASE]
    remembered = case.__dict__.setdefault("_brobygger_access", {})
    _remember_access(user, case, remembered, rows, _memberships(user))


def _remember_access(user, case, remembered: dict, rows: list[tuple[Agency, str]], memberships) -> None:
    key = getattr(user, "pk", None)
    case_roles = [(agency, role) for agency, role in rows if role in CASE_ROLES]
    remembered[key] = _access_from(case, case_roles, has_memberships=bool(memberships))
    remembered[("roles", key)] = frozenset((agency.pk, role) for agency, role in rows)


def _access_from(case, memberships: list[tuple[Agency, str]], *, has_memberships: bool) -> CaseAccess:
    """The best role per participating agency, agencies in id order."""
    best: dict[int, tuple[Agency, str]] = {}
    for agency, role in memberships:
        current = best.get(agency.pk)
        if current is None or ROLE_RANK[role] > ROLE_RANK[current[1]]:
            best[agency.pk] = (agency, role)
    acting = tuple(sorted(best.values(), key=lambda item: item[0].pk))
    return CaseAccess(case=case, acting=acting, has_memberships=has_memberships)


def visible_cases(user, queryset):
    """``queryset`` (of cases) narrowed to the cases ``user`` may see: an agency where they
    have a case role participates in the case and holds the grant. One query."""
    mine = case_agency_ids(user)
    if not mine:
        return queryset.none()
    return queryset.filter(_participates_with_grant(user, mine))


# The reader's own participation in each case of a list read from its participations
# (``listed_cases``): a later page's cursor bounds this join too (``workflows.case_lists``).
WALK = "reader_participation"
_WALK_ID = "reader_participation_id"
WALK_CASE = "reader_participation_case"  # its case id: where a later page's walk starts


def walks_participations(user) -> bool:
    """Whether ``listed_cases`` reads ``user``'s cases from their one agency's participations."""
    return len(case_agency_ids(user)) == 1


def listed_cases(user, queryset, *, walk: bool = True):
    """``queryset`` (of cases) narrowed to the cases ``user`` may see, exactly as
    ``visible_cases`` decides, written for a list read newest first by id (``-id``).

    A reader with one case agency (nearly everyone): the cases are joined from that agency's
    own participations (``WALK``, one row per case: should the agency play two parts in a
    case, its first participation only) and each is checked for the grant of that agency's
    own group, per row (``_Found``). Read backwards in ``participant_agency_case`` (agency,
    case), a page costs a page of the agency's participations (and the filters' share of
    them), whatever the agency's share of all cases: walking the cases' own order instead
    cost a page divided by that share (about 3,000 rows for an office in 1.7 % of the cases).
    A reader in several agencies: ``visible_cases`` (each agency's pair tested per row).

    ``walk`` False (a search, whose cases come from the search index): the participation is
    looked up per case found, as the grant is, and never walked. Joined to the walk, the
    plan hung on how many cases the planner expected the search to find: the busiest NAV
    office compared each of 480 participations with the 112 cases found at 10,000 tasks
    (52,434 comparisons), the quietest walked its 5,083 at a million to merge them with its 6
    (README "Read paths at scale"). Per case found, a search costs its cases' lookups at
    every size. A search's pages are bounded by the case's id (``workflows.case_lists``)."""
    mine = case_agency_ids(user)
    if len(mine) != 1:
        return visible_cases(user, queryset)
    (agency_id,) = mine
    group_id = dict(_agency_groups(user))[agency_id]
    granted = CaseGroupObjectPermission.objects.filter(
        content_object_id=OuterRef("pk"), group_id=group_id, permission_id=_view_case_id()
    )
    if not walk:
        takes_part = CaseParticipant.objects.filter(case_id=OuterRef("pk"), agency_id=agency_id)
        return queryset.filter(
            _Found(Subquery(takes_part.values("pk")[:1])), _Found(Subquery(granted.values("pk")[:1]))
        )
    earlier = CaseParticipant.objects.filter(case_id=OuterRef("pk"), agency_id=agency_id, pk__lt=OuterRef(_WALK_ID))
    return (
        queryset.annotate(**{WALK: FilteredRelation("participants", condition=Q(participants__agency_id=agency_id))})
        # Named once, so every condition below reads this one join (a later filter on
        # ``WALK``'s fields would join the participations again); a case without the
        # agency's participation has no id there (PostgreSQL then joins, not outer-joins).
        .alias(**{_WALK_ID: F(f"{WALK}__id"), WALK_CASE: F(f"{WALK}__case_id")})
        .filter(Q(**{f"{WALK_CASE}__isnull": False}), ~Exists(earlier), _Found(Subquery(granted.values("pk")[:1])))
    )


def visible_case_rows(user, queryset, *, per_row: bool = False):
    """``queryset`` of rows with a ``case`` (tasks, events) narrowed to those of cases
    ``user`` may see, decided per row on its ``case_id`` (no list of visible cases built).
    ``per_row``: each row checked as it comes, whatever the agencies' reach (for rows an
    index already narrowed to the reader's agency's cases: ``task_reader_agency``)."""
    mine = case_agency_ids(user)
    if not mine:
        return queryset.none()
    return queryset.filter(_participates_with_grant(user, mine, OuterRef("case_id"), per_row=per_row))


def cases_with_readable_access_log(user, queryset):
    """``queryset`` (of cases) narrowed to those whose access log ``user`` reads, as
    ``can_view_access_log`` decides for one case. One query.

    Per agency, as the rule: a coordinator of the case's coordinating agency while *that*
    agency takes part with its grant (a coordinator of two agencies once read the log of a
    case whose coordinating agency had lost its grant, through the other one's standing),
    or an auditor of an agency that takes part with its grant, whichever agency coordinates."""
    readable = Q(pk__in=[])
    for agency_id in sorted(agency_ids_with_role(user, Role.COORDINATOR)):
        readable |= Q(coordinator_agency_id=agency_id) & _participates_with_grant(user, {agency_id})
    auditing = agency_ids_with_role(user, Role.AUDITOR)
    if auditing:
        readable |= _participates_with_grant(user, auditing)
    return queryset.filter(readable)


def with_access_log_standing(user, queryset):
    """``queryset`` (of cases whose log ``user`` reads: ``cases_with_readable_access_log``)
    annotated with the standing it is read on, as that rule decides, in the same query:
    ``log_as_coordinator`` (a coordinator of the coordinating agency, with its grant), else
    ``log_auditing``, the first of the user's auditing agencies that takes part with its grant."""
    coordinating = Q(pk__in=[])
    for agency_id in sorted(agency_ids_with_role(user, Role.COORDINATOR)):
        coordinating |= Q(coordinator_agency_id=agency_id) & _participates_with_grant(user, {agency_id})
    auditing = [
        When(_participates_with_grant(user, {a}), then=Value(a))
        for a in sorted(agency_ids_with_role(user, Role.AUDITOR))
    ]
    return queryset.annotate(
        log_as_coordinator=ExpressionWrapper(coordinating, output_field=BooleanField()),
        log_auditing=Cases(*auditing, default=None, output_field=IntegerField())
        if auditing
        else Value(None, output_field=IntegerField()),
    )


def audited_cases(user, queryset):
    """``queryset`` (of cases) narrowed to those whose access log ``user`` reads as an auditor
    (``can_view_access_log``: an auditor of a participating agency whose group holds
    ``view_case``). One query; empty for everyone who is not an auditor."""
    audits = agency_ids_with_role(user, Role.AUDITOR)
    if not audits:
        return queryset.none()
    return queryset.filter(_participates_with_grant(user, audits))


# --- cases and tasks --------------------------------------------------------------------


def can_view_case(user, case) -> bool:
    """A case role in an agency that participates in the case and holds ``view_case``."""
    return bool(case_access(user, case))


def can_view_task(user, task) -> bool:
    return can_view_case(user, task.case)


def agency_works_case(agency_id, group_id, case_id) -> Q:
    """The agency takes part in the case and its group still holds ``view_case`` on it: the
    standing every action on one of the case's tasks needs (``can_work_task``). The
    arguments may be ``OuterRef``s, so a statement that reads a task row decides it too
    (the completion's first round trip: ``workflows.steps.rows.lock_and_complete``)."""
    participates = CaseParticipant.objects.filter(case_id=case_id, agency_id=agency_id)
    return Q(Exists(participates), Exists(_granted(case_id, group_id)))


# --- a gateway's path in task lists (issue 11, point 7) -----------------------------------
# Which branch a gateway took tells the value its condition read; so does a task on that
# branch in a list. Within one case the reader's ``PathView`` (``workflows.selectors``)
# decides exactly, from what they see of that case's data (consents included). Across cases
# (the inbox, the case list's counts, "today", the caseload) that would cost a look at each
# case's data per row; those lists must stay index-ordered reads (issue 12: a million
# tasks), so they decide per row from columns instead: each task carries the categories
# read by the gateways whose branches it lies on (``Task.path_categories``, a bit mask set
# when the task is created), and another agency's task is listed only when the reader sees
# every one of those categories on their own standing (open categories, their agency's own
# service, the coordinator's). Consent and own-data are left out: a task they would reveal
# shows in the case's own lists, never in a list across cases. Own agency's tasks always
# show (the reader works them).

PATH_CATEGORY_BITS: dict[str, int] = {  # fixed: stored in Task.path_categories
    "identity": 1,
    "housing": 2,
    "economy": 4,
    "health": 8,
    "justice": 16,
    "coordination": 32,
    "safety": 64,
    RESTRICTED: 128,
}
PATH_ALL_BITS = sum(PATH_CATEGORY_BITS.values())


def path_mask(categories) -> int:
    """The bit mask of ``categories`` (anything unknown counts as restricted)."""
    mask = 0
    for category in categories:
        mask |= PATH_CATEGORY_BITS[category_of(category)]
    return mask


def path_categories(gateway_paths, fields) -> dict[str, list[str]]:
    """Element id -> the categories read by the gateways whose branches it lies on.
    ``gateway_paths``: ``bpmn.engine.gateway_paths`` of the model (``.reads``,
    ``.branch_elements``); ``fields``: form field -> category (a name no form has, such as a
    script's variable, is restricted)."""
    found: dict[str, set[str]] = {}
    for path in gateway_paths.values():
        read = {category_of(fields.get(name, RESTRICTED)) for name in path.reads}
        for element in path.branch_elements:
            found.setdefault(element, set()).update(read)
    return {element: sorted(categories) for element, categories in sorted(found.items())}


def _standing_categories(kinds) -> set[str]:
    categories = set(OPEN_CATEGORIES)
    if len(kinds) == 1:  # one kind: it acts in every case the user sees
        (kind,) = kinds
        categories |= {category for category, owners in OWN_SERVICE_KINDS.items() if kind in owners}
    return categories


def _submasks(mask: int) -> list[int]:
    """Every mask whose bits all lie within ``mask`` (0 included), in ascending order."""
    found, sub = [], mask
    while True:
        found.append(sub)
        if sub == 0:
            return sorted(found)
        sub = (sub - 1) & mask


def _shows_path(mask: int, column: str = "path_categories") -> Q:
    """Rows whose ``path_categories`` (or ``column``) lie within ``mask``: listed as the
    values that do (at most 2**7), not as a bit operation, so PostgreSQL estimates the
    condition from the column's statistics (most tasks are on no hidden path: 0) and keeps
    reading the list in its index's order instead of sorting it."""
    return Q(**{f"{column}__in": _submasks(mask)})


# A safety warning is open to every participant by standing only while it is in force
# (``policy.warning_dates``): once it lapsed, only the agency that recorded it and the case's
# coordinator see it (``decide_lapsed_warning``), and a task or timer on a branch its
# gateway chose tells the others its value as the value would. Until h-lists the lists took
# the safety category as open whatever the clock said: NAV's inbox listed the police visit
# that a lapsed warning of violence had chosen. A list across cases cannot read each case's
# data per row, so it reads when the case's warnings lapse from the case's own columns
# (``Case.safety_since``, ``Case.safety_until``, kept by every writer: ``policy.
# warning_columns``), and lists a path that read a safety field by standing only while every
# warning of the case is in force. A lapse of any of them hides it (one the gateway did not
# read too): hiding is safe, showing a lapsed value is not; the case's own lists decide
# exactly (``workflows.selectors.path_view_for``).
SAFETY_BIT = PATH_CATEGORY_BITS["safety"]
_LISTS_CLOCK = "_brobygger_lists_clock"


def local_midnight(day: datetime.date) -> datetime.datetime:
    """The moment the calendar date ``day`` starts where the users live (``TIME_ZONE``, Oslo)."""
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=ZoneInfo(settings.TIME_ZONE))


def warnings_in_force_from(now: datetime.datetime) -> datetime.datetime:
    """The earliest time in force a warning holding ``SAFETY_WARNING_DAYS`` may have and still
    be in force at ``now``: one recorded before the Oslo midnight ``SAFETY_WARNING_DAYS - 1``
    days before today's has lapsed (``policy.warning_window``: it lapses at the midnight
    starting the day ``SAFETY_WARNING_DAYS`` days after the day it was recorded on)."""
    today = now.astimezone(ZoneInfo(settings.TIME_ZONE)).date()
    return local_midnight(today - datetime.timedelta(days=settings.BROBYGGER["SAFETY_WARNING_DAYS"] - 1))


def lists_clock(now: datetime.datetime) -> tuple[datetime.datetime, datetime.datetime]:
    """What the lists' rule for safety warnings compares a case's columns with: ``now`` and
    ``warnings_in_force_from(now)``. Values of a list's statement, never part of its text
    (``reader_shape`` sends them as the reader's)."""
    return now, warnings_in_force_from(now)


def _lists_clock(user) -> tuple[Any, Any]:
    """``lists_clock`` of now, or the stand-ins of a reader made by ``reader_for``."""
    given = user.__dict__.get(_LISTS_CLOCK)
    return given if given is not None else lists_clock(timezone.now())


def _case_column(of_case_row: bool) -> Callable[[str], Any]:
    """A column of a task's (or an instance's) case: the list's own case row when the rows
    are correlated with it (``OuterRef``, a subquery per case), else joined."""
    if of_case_row:
        return OuterRef
    return lambda name: F(f"case__{name}")


def _warnings_in_force(user, column: Callable[[str], Any]) -> Q:
    """The case's safety warnings are all in force at the list's clock (NULL: none holds so)."""
    now, since_from = _lists_clock(user)
    since, until = column("safety_since"), column("safety_until")
    return (Q(IsNull(since, True)) | Q(GreaterThanOrEqual(since, since_from))) & (
        Q(IsNull(until, True)) | Q(GreaterThan(until, now))
    )


def case_warnings_in_force(user, case) -> bool:
    """``_warnings_in_force`` for one case already read."""
    now, since_from = _lists_clock(user)
    since, until = case.safety_since, case.safety_until
    return (since is None or since >= since_from) and (until is None or until > now)


def _shows_path_by_standing(mask: int, in_force: Q, column: str = "path_categories", *, keeps: bool = False) -> Q:
    """``_shows_path(mask, column)``, a path that read a safety field only while the case's
    warnings are in force (``in_force``), unless the reader keeps lapsed ones (``keeps``)."""
    if keeps or not mask & SAFETY_BIT:
        return _shows_path(mask, column)
    with_safety = [sub for sub in _submasks(mask) if sub & SAFETY_BIT]
    return _shows_path(mask & ~SAFETY_BIT, column) | (Q(**{f"{column}__in": with_safety}) & in_force)


def _path_shown_by_standing(user, path: int, mask: int, case, *, keeps: bool = False) -> bool:
    """``_shows_path_by_standing`` for one row's ``path`` and its ``case``."""
    if path & PATH_ALL_BITS & ~mask:
        return False
    return keeps or not path & SAFETY_BIT or case_warnings_in_force(user, case)


@dataclass(frozen=True)
class _ListedMasks:
    mine: set[int]  # the user's case agencies
    always: int  # the categories (as bits) another agency's task may have read and still be listed
    coordinating: int | None  # those where their one agency coordinates the case (None: not counted)
    keeps: bool  # they keep the lapsed warnings of the cases their agency coordinates


def _listed_masks(user) -> _ListedMasks | None:
    """The user's case agencies, the categories (as bits) another agency's task may have
    read on its path and still be listed to them, and those where their one agency
    coordinates the case (None: not counted), and whether they keep the lapsed safety
    warnings there (a coordinator of that agency: ``decide_lapsed_warning``). None: the
    user works no cases."""
    mine = case_agency_ids(user)
    if not mine:
        return None
    standing = _standing_categories(_case_agency_kinds(user))
    # With one agency, it acts in every case the user sees: in those it coordinates, its categories.
    coordinating = path_mask(standing | COORDINATOR_CATEGORIES) if len(mine) == 1 else None
    keeps = coordinating is not None and bool(agency_ids_with_role(user, Role.COORDINATOR) & mine)
    return _ListedMasks(mine, path_mask(standing), coordinating, keeps)


def _listed(user, column: Callable[[str], Any]) -> tuple[Q, Q | None] | None:
    """``_listed_masks`` as conditions on a task's own columns and its case's (``column``)."""
    masks = _listed_masks(user)
    if masks is None:
        return None
    in_force = _warnings_in_force(user, column)
    return (
        # sorted: one text for a shape
        Q(agency_id__in=sorted(masks.mine)) | _shows_path_by_standing(masks.always, in_force),
        _shows_path_by_standing(masks.coordinating, in_force, keeps=masks.keeps)
        if masks.coordinating is not None
        else None,
    )


def task_listed(user, task, case) -> bool:
    """``listed_task_rows`` for one task already read, of ``case`` (its coordinator agency and
    its safety warnings' columns)."""
    masks = _listed_masks(user)
    if masks is None:
        return False
    if task.agency_id in masks.mine:
        return True
    return _mask_listed(user, masks, task.path_categories, case)


def _mask_listed(user, masks: _ListedMasks, path: int, case) -> bool:
    if _path_shown_by_standing(user, path, masks.always, case):
        return True
    return (
        masks.coordinating is not None
        and case.coordinator_agency_id in masks.mine
        and _path_shown_by_standing(user, path, masks.coordinating, case, keeps=masks.keeps)
    )


# A waiting timer tells its branch as a task does: the case waits, and until when. Which
# timer waits depends on the branch taken; which timers the model has does not. So each
# process instance carries the categories read by the gateways on whose branches any timer
# of its model lies (``ProcessInstance.timer_path_categories``, ``DefinitionRuntime``), and
# a list across cases ("next deadline", "today") shows an instance's next timer only to a
# reader who sees every one of them by standing, as for another agency's task. Hiding only
# the timers on a hidden branch would not do: a case showing no timer, or a later one, would
# tell that one waits there.


def handed_over_by_listed(user, task, runtime) -> bool:
    """Whether a list across cases may say who handed ``task`` over: not when a task on a
    branch of a gateway whose fields the reader does not see by standing may have handed it
    over (``DefinitionRuntime.handed_masks``): the agency named would tell the branch. The
    rule of ``timer_listed``, for the task's own mask."""
    mask = runtime.handed_masks.get(task.element_id, 0)
    return not mask or timer_listed(user, mask, task.case)


def timer_listed(user, timer_path_categories: int, case) -> bool:
    """``listed_timer_rows`` for one instance's ``timer_path_categories``, of ``case``."""
    masks = _listed_masks(user)
    if masks is None:
        return False
    return _mask_listed(user, masks, timer_path_categories, case)


def listed_timer_rows(user, instances):
    """``instances`` (process instances of cases ``user`` sees, correlated with the list's case
    row: ``OuterRef``) narrowed to those whose timers a list across cases may show them (see
    above)."""
    masks = _listed_masks(user)
    if masks is None:
        return instances.none()
    in_force = _warnings_in_force(user, OuterRef)
    shown = _shows_path_by_standing(masks.always, in_force, "timer_path_categories")
    if masks.coordinating is not None:
        coordinated = In(OuterRef("coordinator_agency_id"), sorted(masks.mine))
        shown |= Q(coordinated) & _shows_path_by_standing(
            masks.coordinating, in_force, "timer_path_categories", keeps=masks.keeps
        )
    return instances.filter(shown)


def listed_task_rows(user, queryset, *, of_case_row: bool = False):
    """``queryset`` of tasks (of cases ``user`` sees) narrowed to those a list across cases
    may show them: their own agencies' tasks, and other agencies' tasks whose path tells the
    reader nothing they do not see by standing (see above). A per-row condition on the
    task's columns and its case's (its coordinator, when its safety warnings lapse): no
    list of cases or tasks is built.

    ``of_case_row``: the tasks are correlated with the list's case row (``OuterRef``, a
    subquery per case), whose columns the condition reads; by default the task's case is
    joined for them."""
    column = _case_column(of_case_row)
    listed = _listed(user, column)
    if listed is None:
        return queryset.none()
    always, coordinating = listed
    if coordinating is None:
        return queryset.filter(always)
    coordinates: In = In(column("coordinator_agency_id"), sorted(case_agency_ids(user)))
    return queryset.filter(always | (Q(coordinates) & coordinating))


def own_agency_task_rows(user, queryset):
    """``queryset`` of tasks (of cases ``user`` sees) narrowed to those that landed on the
    user's own agencies: all of them ``listed_task_rows`` shows (its first condition), so a
    list of these needs none of its others."""
    return queryset.filter(agency_id__in=sorted(case_agency_ids(user)))  # sorted: one text for a shape


def has_listed_task(user, tasks) -> Q:
    """For a list of cases: the case has one of ``tasks`` (a queryset correlated with the
    case row through ``OuterRef``) that ``listed_task_rows`` would show. The case's own
    coordinator column is tested outside the subqueries, so each stays an index lookup, run
    per case row (``_Found``): as ``EXISTS`` under an ``OR``, PostgreSQL may instead read
    every matching task of the table into a hash first (the overdue cases: 51,000 active
    tasks past their deadline at a million, 300 ms, for a page of 50 cases). Its safety
    warnings' columns are read in them from the case row (a value per case, as the key)."""
    listed = _listed(user, OuterRef)
    if listed is None:
        return Q(pk__in=[])
    always, coordinating = listed
    found = Q(_Found(Subquery(tasks.filter(always).values("pk")[:1])))
    if coordinating is not None:
        in_coordinated = Q(_Found(Subquery(tasks.filter(coordinating).values("pk")[:1])))
        found |= Q(coordinator_agency_id__in=sorted(case_agency_ids(user))) & in_coordinated
    return found


def can_work_task(user, task, *, agency_standing: bool | None = None) -> bool:
    """Claim, unclaim, complete, take over and assign: only people with a case role in the
    agency the task landed on, while that agency still takes part in the case and holds its
    grant (``agency_works_case``). An agency whose access to the case was withdrawn
    (``permissions.grants.revoke_agency_access``) works none of its tasks any more.

    ``agency_standing``: that standing when the caller has already read it with the task
    (the completion's hot path); otherwise it is read through ``case_access`` (remembered
    on the case object: free on a page that has checked the case already), which holds
    the user's agencies that take part in the case with its grant: the same condition."""
    if task.agency_id not in case_agency_ids(user):
        return False
    if agency_standing is not None:
        return agency_standing
    return task.agency_id in case_access(user, task.case).agency_ids


def can_take_over_task(user, task) -> bool:
    """A task someone else has claimed is taken over by a colleague in its agency (the
    claimant may be away): the same people who may work it."""
    return can_work_task(user, task)


def can_assign_task(user, task, assignee) -> bool:
    """Handing a task to a named colleague: the agency's lead (or coordinator) does that, to
    someone with a case role in the agency the task landed on."""
    leads = agency_ids_with_role(user, Role.LEAD, Role.COORDINATOR)
    if task.agency_id not in leads or task.agency_id not in case_agency_ids(assignee):
        return False
    return can_work_task(user, task)  # the agency still holds its grant on the case


def can_send_message(user, case, senders) -> bool:
    """A message a process waits for (a changed release or discharge date) is sent from the
    page by people of a participating agency whose kind the model names as its sender."""
    return any(agency.kind in set(senders or ()) for agency, _role in case_access(user, case).acting)


def can_start_case(user, participant_agencies: list[Agency]) -> bool:
    """A case is started by someone who works cases in one of its participating agencies."""
    mine = case_agency_ids(user)
    return any(agency.pk in mine for agency in participant_agencies)


def can_deploy_process(user) -> bool:
    return is_process_admin(user)


def can_see_routing_users(user) -> bool:
    """The routing map's users (assignee -> user name) name people of the agencies that lead
    them: for the process admins who edit maps. Everyone else who reads a process (to start
    its cases) reads where its tasks go, not to whom."""
    return is_process_admin(user)


def can_manage_retention_rules(user) -> bool:
    """How long each process's data and access log are kept, and what the archive gets, is
    set by process admins (docs/data-protection.md); nobody else writes the rules."""
    return is_process_admin(user)


def can_read_retention_rules(user) -> bool:
    """The rules in force are read by the process admins who set them and by auditors, who
    check what erasures followed. The rules hold no case data and apply to every agency's
    cases alike, so an auditor of any agency reads them all."""
    return is_process_admin(user) or is_auditor(user)


def can_view_retention_rule_changes(user) -> bool:
    """Who changed which retention rule, when, from what to what: the auditors' control
    trail (docs/data-protection.md). A process admin reads the rules as they stand, not the
    trail of their own and their colleagues' changes."""
    return is_auditor(user)


def can_manage_legal_bases(user) -> bool:
    """The list of legal bases (paragraph, law, what it covers) is kept by process admins:
    they list retired ones too, add, edit, retire and delete unused ones. Nobody else writes it."""
    return is_process_admin(user)


class RoleGrantRefused(Exception):
    """Why ``actor`` may not give, change or take this role: ``self`` (their own) or ``agency``."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


# Roles held in an agency whose reach is not the agency's: a process admin edits and deploys
# every process, its retention rules and legal bases, and moves every running case; a
# municipality leader reads the figures of the whole municipality. Given and taken by a
# superuser only, never by an agency's access administrator (docs/security.md, "Who gives roles").
ROLES_BEYOND_THE_AGENCY = frozenset({Role.PROCESS_ADMIN, Role.MUNICIPAL_LEADER})


def may_grant_roles_in(actor, agency_id, roles=()) -> bool:
    """Who gives, changes and takes roles in an agency (its memberships, the identity-provider
    group mappings that give them): a superuser, or the agency's access administrator
    (``Role.ACCESS_ADMIN``), but for ``roles`` (those given or taken) reaching beyond the
    agency (``ROLES_BEYOND_THE_AGENCY``): a superuser's alone. Django's model permissions (add,
    change, delete membership) are asked as well, but alone they let any staff user holding
    them give any role in any agency, themselves included (docs/security.md, "Who gives roles")."""
    if actor is None or not getattr(actor, "is_authenticated", False) or not actor.is_active:
        return False
    if actor.is_superuser:
        return True
    if ROLES_BEYOND_THE_AGENCY & set(roles):
        return False
    return agency_id is not None and (agency_id, Role.ACCESS_ADMIN) in _memberships(actor)


def holds_a_service_account(user_ids) -> bool:
    """One of ``user_ids`` is an agency's system that signs in with API keys alone
    (``accounts.service_accounts``; read through the user's reverse relation, one query)."""
    ids = {user_id for user_id in user_ids if user_id is not None}
    return bool(ids) and get_user_model().objects.filter(pk__in=ids, service_account__isnull=False).exists()


def check_role_grant(actor, *, agency_ids, to_self: bool, roles=(), to_service_account: bool = False) -> None:
    """Refuse (``RoleGrantRefused``) a grant, change or removal of a role in every agency of
    ``agency_ids`` (the one a row names now and the one it named before) unless ``actor`` may
    (``may_grant_roles_in``; ``roles``: the role the row gives now and the one it gave before).
    ``to_self``: the role is (or was) the actor's own, which nobody gives, widens or moves, a
    superuser neither: a role opens case data, and who has one is decided by someone else,
    whose name the admin's history keeps. ``to_service_account``: the role is given to (or
    changed or moved on) a service account, whose keys read the agency's cases with no second
    factor and for whatever system holds them (another agency's, a partner's): a superuser's
    alone, never an access administrator's (docs/security.md, "Who gives roles")."""
    if to_self:
        raise RoleGrantRefused("self")
    if to_service_account and not may_give_admin_powers(actor):
        raise RoleGrantRefused("service_account")
    if not all(may_grant_roles_in(actor, agency_id, roles) for agency_id in agency_ids):
        raise RoleGrantRefused("beyond" if ROLES_BEYOND_THE_AGENCY & set(roles) else "agency")


# Roles whose grant by a non-superuser is a request a second person approves
# (``permissions.role_requests``): the roles that read cases (``CASE_ROLES``), the auditor's
# (access logs: whose data which agency read) and the access administrator's (a second one
# approves requests). Until 2026-12-06 an access administrator alone could add a user, give
# them a case role, set their password and sign in as them (docs/security.md, "Who gives roles").
ROLES_NEEDING_A_SECOND_PERSON = frozenset({*CASE_ROLES, Role.AUDITOR, Role.ACCESS_ADMIN})
# A change of one's role within the agency that only narrows it: one person, as taking it away.
_NARROWER = {Role.LEAD: frozenset({Role.MEMBER}), Role.COORDINATOR: frozenset({Role.MEMBER})}


def grant_needs_second_person(actor, *, role, user_id, agency_id, before=None) -> bool:
    """Whether ``actor`` giving ``role`` in ``agency_id`` to ``user_id`` is a request that waits
    for a second person (``may_decide_role_request``) rather than a role given at once.
    ``before``: (user id, agency id, role) of the membership being changed, if one is. A
    superuser gives roles at once; a role taken away, or narrowed (``_NARROWER``), or one opening
    no case data (``ROLES_NEEDING_A_SECOND_PERSON``), is one person's act."""
    if may_give_admin_powers(actor) or role not in ROLES_NEEDING_A_SECOND_PERSON:
        return False
    if before is not None:
        old_user, old_agency, old_role = before
        same_place = (old_user, old_agency) == (user_id, agency_id)
        if same_place and (role == old_role or role in _NARROWER.get(old_role, ())):
            return False
    return True


def may_decide_role_request(actor, request) -> bool:
    """Who approves or refuses a role request: a second person, neither the one who asked nor
    the user it is for; a superuser, or a staff user who is the access administrator of the
    request's agency (staff status is a superuser's to give: an account the requester made and
    controls is never staff, so cannot approve for them)."""
    if actor is None or not getattr(actor, "is_authenticated", False) or not actor.is_active:
        return False
    if actor.pk in {request.user_id, request.requested_by_id}:
        return False
    if actor.is_superuser:
        return True
    if holds_a_service_account({request.user_id}):  # made one since: a superuser's (``check_role_grant``)
        return False
    return bool(actor.is_staff) and may_grant_roles_in(actor, request.agency_id, {request.role})


def _may_still_ask(requester) -> bool:
    """The one who asked is still an active staff user (``may_decide_role_request``)."""
    return requester is not None and requester.is_active and bool(requester.is_staff or requester.is_superuser)


def role_request_still_asked(request) -> bool:
    """Whether the one who asked for ``request`` may still ask for it: active, staff, and a
    superuser or still allowed to give the role in its agency (``may_grant_roles_in``). A
    request is approved only then (``role_requests.approve_role_request``): until 2026-12-06
    the requests of an access administrator who had since lost the role (or staff status, or
    been made inactive) waited and were approved as any, on another's word that no longer
    held. Refused, it may still be."""
    requester = request.requested_by
    return _may_still_ask(requester) and may_grant_roles_in(requester, request.agency_id, {request.role})


def account_request_still_asked(request) -> bool:
    """``role_request_still_asked`` for an account request: the one who asked may still manage
    the user's account (``may_manage_user``). Until 2026-12-06 a password asked for by an
    access administrator who had since lost the role was set on approval: a password she
    chose, on an account she may no longer manage."""
    requester = request.requested_by
    return _may_still_ask(requester) and may_manage_user(requester, request.user)


def account_change_needs_second_person(actor, target) -> bool:
    """Whether ``actor`` setting ``target``'s password, removing their second-factor device or
    making them an enrolment link is a request that waits for a second person
    (``may_decide_account_request``) rather than done at once: so when ``target`` holds a role
    opening case data (``ROLES_NEEDING_A_SECOND_PERSON``) in any agency and ``actor`` is not a
    superuser. Each of the three takes the account over, and with it its roles: one access
    administrator alone read the agency's cases as one of its caseworkers. A user without such
    a role keeps the one-person help desk (a forgotten password, a lost phone)."""
    if may_give_admin_powers(actor) or target is None or target.pk is None:
        return False
    return Membership.objects.filter(user_id=target.pk, role__in=ROLES_NEEDING_A_SECOND_PERSON).exists()


def may_decide_account_request(actor, request) -> bool:
    """Who approves or refuses an account request (``accounts.AccountRequest``): a second person,
    as for a role request (``may_decide_role_request``): neither the one who asked nor the user
    it is for; a superuser, or a staff user who may manage the user's account now
    (``may_manage_user``: the access administrator of every agency the user has a role in).
    A service account's: a superuser's alone, as its roles are."""
    if actor is None or not getattr(actor, "is_authenticated", False) or not actor.is_active:
        return False
    if actor.pk in {request.user_id, request.requested_by_id}:
        return False
    if actor.is_superuser:
        return True
    if holds_a_service_account({request.user_id}):
        return False
    return bool(actor.is_staff) and may_manage_user(actor, request.user)


def role_request_agency_ids(actor) -> set[int] | None:
    """The agencies whose role requests ``actor`` reads (None: every agency, a superuser's):
    the agencies whose access administrator they are."""
    if may_give_admin_powers(actor):
        return None
    if actor is None or not getattr(actor, "is_authenticated", False) or not actor.is_active:
        return set()
    return agency_ids_with_role(actor, Role.ACCESS_ADMIN)


# The fields of a user that are powers in the admin itself: staff status opens the admin,
# superuser status every power, groups and permissions each model's pages.
ADMIN_POWER_FIELDS = ("is_superuser", "is_staff", "groups", "user_permissions")


def may_give_admin_powers(actor) -> bool:
    """Who changes a user's staff or superuser status, groups or permissions, or a group's
    permissions: an active superuser alone. Django's ``auth.change_user`` (or
    ``auth.change_group``) let whoever held it make themselves a superuser
    (docs/security.md, "Who may change users in the admin")."""
    return bool(
        actor is not None and getattr(actor, "is_authenticated", False) and actor.is_active and actor.is_superuser
    )


def _added_by(actor, target) -> bool:
    """The admin's history records ``actor`` adding the user ``target`` (its add page)."""
    from django.contrib.admin.models import ADDITION, LogEntry
    from django.contrib.contenttypes.models import ContentType

    return LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(get_user_model()),
        object_id=str(target.pk),
        action_flag=ADDITION,
        user_id=actor.pk,
    ).exists()


def may_manage_user(actor, target) -> bool:
    """Who changes a user's account in the admin (names, e-mail, active, its password without
    the old one, an enrolment link for a second factor, the deletion of its device or of the
    account): each of these takes the account over, and with it its roles' case data. So:

    - an active superuser, on any account;
    - else the access administrator (``Role.ACCESS_ADMIN``) of **every** agency the user has a
      role in (``may_grant_roles_in`` for each), on a user who is neither staff nor a superuser
      and is not themselves, nor holds a role reaching beyond the agency
      (``ROLES_BEYOND_THE_AGENCY``, given by a superuser alone): another operator's account (an
      access administrator's, a superuser's, a process admin's) is a superuser's to change, and
      nobody changes their own here (their password changes on their own page, with the old one);
    - a user with no role yet: only the access administrator who added them in the admin
      (its history says so), until someone gives them a role.

    Django's ``auth.change_user`` (``delete_user``, ``delete_totpdevice``) is asked as well:
    it decides which pages the operator sees, not whose accounts."""
    if actor is None or not getattr(actor, "is_authenticated", False) or not actor.is_active:
        return False
    if actor.is_superuser:
        return True
    if target is None or target.pk is None or target.pk == actor.pk or target.is_superuser or target.is_staff:
        return False
    reach = agency_ids_with_role(actor, Role.ACCESS_ADMIN)
    if not reach:
        return False
    held = set(Membership.objects.filter(user_id=target.pk).values_list("agency_id", "role"))
    if any(role in ROLES_BEYOND_THE_AGENCY for _agency, role in held):
        # Its password set (and a link for a second factor), the account's process-admin or
        # municipality-leader role was the access administrator's, a role only a superuser
        # gives (``may_grant_roles_in``).
        return False
    agencies = {agency for agency, _role in held}
    if agencies:
        return agencies <= reach
    return _added_by(actor, target)


def users_managed_by(actor, users):
    """``users`` (a queryset of users) narrowed to those ``actor`` may manage: ``may_manage_user``
    as a filter, for the admin's lists of what belongs to an account (``accounts.admin.UserRowsAdmin``:
    its authenticator apps, API tokens, known browsers, enrolment links, ...). Until 2026-12-07 any
    access administrator read every agency's users' rows there."""
    if actor is None or not getattr(actor, "is_authenticated", False) or not actor.is_active:
        return users.none()
    if actor.is_superuser:
        return users
    reach = agency_ids_with_role(actor, Role.ACCESS_ADMIN)
    if not reach:
        return users.none()
    from django.contrib.admin.models import ADDITION, LogEntry
    from django.db.models import TextField
    from django.db.models.functions import Cast

    held = Membership.objects.filter(user_id=OuterRef("pk"))
    added = LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(get_user_model()),
        object_id=Cast(OuterRef("pk"), TextField()),
        action_flag=ADDITION,
        user_id=actor.pk,
    )
    return (
        users.filter(is_superuser=False, is_staff=False)
        .exclude(pk=actor.pk)
        .exclude(Exists(held.filter(role__in=ROLES_BEYOND_THE_AGENCY)))
        .exclude(Exists(held.exclude(agency_id__in=reach)))
        .filter(Exists(held) | Exists(added))
    )


def admin_shows_incidents(user) -> bool:
    """Incidents in the Django admin: for a superuser (who there sees every job and its case
    too), and else for whoever sees them outside it (``can_view_incidents``: the process admin
    who works no cases, every incident, as ``GET /api/v1/incidents/``). Django's
    ``workflows.view_incident`` alone showed every agency's incidents, their cases and where
    they failed, to any staff user holding it."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return bool(user.is_superuser) or can_view_incidents(user)


# The categories a legal basis can cover: those a consent can open (not the open ones).
LEGAL_BASIS_CATEGORIES = tuple(c for c in CATEGORIES if c not in OPEN_CATEGORIES)


def agency_keeps_case(agency_id, case_id) -> bool:
    """``agency_works_case`` for one agency and case, read now (an external task's agency)."""
    if agency_id is None or case_id is None:
        return False
    return (
        Agency.objects.filter(pk=agency_id)
        .filter(agency_works_case(OuterRef("pk"), OuterRef("group_id"), case_id))
        .exists()
    )


def external_tasks_kept(user) -> Q:
    """For job rows: an external task routed to one of ``external_task_agency_ids(user)`` in a
    case that agency still works (``agency_keeps_case``), decided in the statement that selects
    them. Decided after the select, a hundred tasks of cases the agency had lost filled the
    fetch's rows first, and its system was answered nothing while tasks it may fetch waited."""
    mine = external_task_agency_ids(user)
    groups = {agency_id: group_id for agency_id, group_id in _agency_groups(user) if agency_id in mine}
    kept = Q(pk__in=[])
    for agency_id in sorted(groups):
        kept |= Q(payload__agency_id=agency_id) & agency_works_case(agency_id, groups[agency_id], OuterRef("case_id"))
    return kept


def external_task_agency_ids(user) -> set[int]:
    """The agencies whose external tasks ``user``'s system may fetch and complete: those it
    works cases in (a task is routed to one agency, like a user task)."""
    return case_agency_ids(user)


def agency_may_receive(case, agency: Agency, names, fields, consents) -> bool:
    """Whether a value computed from the case data ``names`` may leave for ``agency``'s own
    system (an external task's field): each of them must be a value a member of the agency
    sees in the case (``decide_value``: its category's grounds, its own data, a shared
    field), as on the task page. ``fields``: the process's ``policy.FieldRules``;
    ``consents``: ``active_consents(case)``. A literal reads no data: it may always leave."""
    return receipt_grounds(case, agency, names, fields, consents) is not None


def receipt_grounds(case, agency: Agency, names, fields, consents) -> list[tuple[str, Decision]] | None:
    """The grounds on which each value of ``names`` may leave for ``agency``'s own system, as
    (category, decision) per name, for the access log (a value that went under the person's
    consent is logged on that consent); None when one of them may not
    (``agency_may_receive``)."""
    standing = CaseAccess(case=case, acting=((agency, Role.MEMBER),), has_memberships=True)
    sources = case.data_sources or {}
    grounds = []
    for name in names:
        category = fields.fields.get(name, RESTRICTED)
        decision = decide_value(
            standing,
            category,
            consents,
            field_name=name,
            source_agency_id=sources.get(name),
            shared_fields=fields.shared_fields,
            # a workflow's variable, not kept in the case, carries what it read (checked apart)
            declared=name in fields.fields or name not in sources,
        )
        if not decision:
            return None
        grounds.append((category_of(category), decision))
    return grounds


def works_cases(user) -> bool:
    """A case role (member, lead, coordinator) in some agency."""
    return bool(case_agency_ids(user))


def can_see_where_cases_stand(user) -> bool:
    """The process admin's views that name cases (moving running cases, incidents) show by
    each case's reference the element it waits at or failed at: where its path went, which
    a case page hides from a reader when a gateway read a value masked to them
    (``selectors.path_view_for``). For a process admin who works no cases a reference is an
    opaque number; one who also works cases would read there, of the cases they work, the
    branch a value they may not see chose. So these views are for a process admin who works
    no cases (separation of duties); one who does still edits and deploys."""
    return is_process_admin(user) and not works_cases(user)


def can_migrate_cases(user) -> bool:
    """Moving running cases to another version of their process: the process admin's (who
    sees element ids and case references, never case data), when they work no cases."""
    return can_see_where_cases_stand(user)


def migration_opens_field(name: str, source_fields, target_fields) -> bool:
    """Whether moving a case from the version of ``source_fields`` to that of
    ``target_fields`` (``policy.FieldRules``) would show a value of ``name`` on other grounds
    than those it was recorded under: another category (``restricted`` only narrows), or
    shared with every participant. A new version classifies new values, never those already
    recorded (a health value made ``coordination`` would reach every agency)."""
    old = category_of(source_fields.fields.get(name, RESTRICTED))
    new = category_of(target_fields.fields.get(name, RESTRICTED))
    if old != new and new != RESTRICTED:
        return True
    return name in target_fields.shared_fields and name not in source_fields.shared_fields


def can_view_incidents(user) -> bool:
    return can_see_where_cases_stand(user)


def can_retry_incident(user, incident=None) -> bool:
    return can_see_where_cases_stand(user)


def can_see_incident_errors(user) -> bool:
    """The text of an incident's error (values already scrubbed from it) is for the process
    admin, who fixes the model; a case participant sees that a step failed, where, and the
    error class, in the timeline."""
    return is_process_admin(user)


def can_view_access_log(user, case) -> bool:
    """The case's access log: coordinators of its coordinator agency, and auditors of an
    agency that participates in it. (Auditors read the log, never the case data.)"""
    if is_case_coordinator(user, case):
        return True
    return is_auditor(user) and _has_role_in_case(user, case, (Role.AUDITOR,))


# --- retention (issue 17): erasure and correction on request, their review ---------------


def access_log_standing(user, case) -> tuple[int | None, str, str]:
    """(agency id, role, basis) on which ``user`` reads the case's access log
    (``can_view_access_log``, already true): a coordinator of the coordinating agency, else an
    auditor of the first participating agency they audit (as ``with_access_log_standing``)."""
    if is_case_coordinator(user, case):
        return case.coordinator_agency_id, Role.COORDINATOR, BASIS_COORDINATOR
    audits = sorted(agency for agency, role in _roles_in_case(user, case) if role == Role.AUDITOR)
    return (audits[0] if audits else None), Role.AUDITOR, BASIS_AUDIT


def is_case_coordinator(user, case) -> bool:
    """A coordinator of the case's coordinating agency, which takes part in the case and
    holds its grant: the role and the standing in one agency (a coordinator of another
    agency in the case does not count)."""
    coordinating = case.coordinator_agency_id
    if not any(agency_id == coordinating and role == Role.COORDINATOR for agency_id, role in _memberships(user)):
        return False  # (no query: most readers are no coordinator of this agency)
    return _has_role_in_case(user, case, (Role.COORDINATOR,), agency_id=coordinating)


def reads_withdrawal_reason(user, case) -> bool:
    """The coordinator's written reason for withdrawing an agency from ``case``: free text with
    no category (restricted, design §6; "the health service ended the follow-up" tells of
    health), read by the coordinating agency that wrote it. The other participants read that
    the agency was withdrawn, not why."""
    return case.coordinator_agency_id in case_access(user, case).agency_ids


def reads_message_id(user, case, sender_agency_id: int | None) -> bool:
    """A message's ``message_id`` (``POST /api/v1/messages/``): chosen by the sender's system,
    so it may carry any text ("release-ola-nordmann", "schizofreni-henvisning"): free text
    with no category (restricted, design §6), read by the sending agency that wrote it and
    by the case's coordinator. The other participants read that the message came, its name
    and the fields they see, not its id."""
    if sender_agency_id is not None and sender_agency_id in case_access(user, case).agency_ids:
        return True
    return is_case_coordinator(user, case)


def can_erase_on_request(user, case) -> bool:
    """Erasing a person's data before its retention ends, on their request (GDPR art. 17):
    the coordinator of the case, who knows the person and the grounds."""
    return is_case_coordinator(user, case)


def can_correct_case_data(user, case) -> bool:
    """The coordinator's correction page (GDPR art. 16): the person's name and national id and
    the values ``can_correct_value`` gives them."""
    return is_case_coordinator(user, case)


def can_ask_correction(user, case) -> bool:
    """Asking to correct a value of ``case`` at all: whoever works it (each may then correct
    only what ``can_correct_value`` gives them) or its coordinator."""
    return bool(case_access(user, case)) or is_case_coordinator(user, case)


def can_correct_value(
    user,
    case,
    *,
    category: str,
    recorded_by: int | None,
    case_open: bool,
    in_case_file: bool,
    recorder_left: bool = False,
) -> bool:
    """Correcting one form value of ``case`` (GDPR art. 16). Each agency answers for the
    accuracy of what it recorded (``Case.data_sources``: the agency of the task or message
    that wrote it), so whoever works the case for that agency corrects it, open or closed.
    The coordinator corrects besides: identity data, values no agency recorded, and, once the
    case is closed, the values of the case file (``in_case_file``): that is the coordinating
    agency's own record handed to the archive (arkivlova), and nobody works the case any more
    to correct it. Another agency's health, justice or economy record stays theirs to correct,
    while it takes part in the case. When it no longer does (``recorder_left``: withdrawn
    from the case), nobody of it can, and the person's right would reach nobody: the
    coordinator corrects its values then, of any category, open or closed, with the reason
    every correction records (docs/data-protection.md)."""
    access = case_access(user, case)  # remembered on the case: no query per value
    if recorded_by is not None and recorded_by in access.agency_ids:
        return True
    if not any(agency.pk == case.coordinator_agency_id and role == Role.COORDINATOR for agency, role in access.acting):
        return False
    # A safety warning the coordinator answers for with the agency that recorded it (domain.md:
    # minimal, factual, time-limited): they confirm it again or remove it when it lapses.
    if category == "safety":
        return True
    return category == "identity" or recorded_by is None or recorder_left or (not case_open and in_case_file)


def can_review_national_id(user, case) -> bool:
    """Confirming a correction of the person's national id: auditors of the coordinating
    agency. They alone learn whether another person in Brobygger holds the number (that
    someone is a client of these services is itself confidential): a control function that
    works no case, not the coordinator who asked, nor another agency's auditor."""
    return (
        is_auditor(user)
        and _participating_memberships(user, case.pk, (Role.AUDITOR,))
        .filter(agency_id=case.coordinator_agency_id)
        .exists()
    )


def national_id_review_cases(user, queryset):
    """``queryset`` (of cases) narrowed to those whose national ids ``user`` decides
    (``can_review_national_id``): per agency they audit, the cases it coordinates and takes
    part in with the grant. One query."""
    decides = Q(pk__in=[])
    for agency_id in agency_ids_with_role(user, Role.AUDITOR):
        decides |= Q(coordinator_agency_id=agency_id) & _participates_with_grant(user, {agency_id})
    return queryset.filter(decides)


def can_review_retention(user, case) -> bool:
    """Reading and reviewing what was erased, corrected and exported in a case: auditors of
    an agency taking part in it (never its data)."""
    return is_auditor(user) and _has_role_in_case(user, case, (Role.AUDITOR,))


def can_view_consents(user, case) -> bool:
    return can_view_case(user, case)


# --- recording consent and legal bases ----------------------------------------------------
# domain.md: the person consents; the coordinator, or the agency that holds the data,
# records it; a receiving agency never records a sharing with itself. A provision of law
# (``LegalBasis.is_consent`` off) is invoked only by the agency that holds the data.
#
# Need to know (``need_to_know``): an agency receives, by consent or legal basis, only
# categories the case's process carries in its forms (there is nothing else to share), and
# only when its kind works a lane of the process (it has tasks there). An agency taking part
# beside the lanes receives nothing; open categories (identity, coordination, safety) need no
# consent, and restricted fields are never shared.


def consentable_categories(fields) -> tuple[str, ...]:
    """The categories a consent can open in a case of the process of ``fields``
    (``policy.FieldRules``): those its forms carry, except the open ones."""
    return tuple(c for c in fields.categories if c in CATEGORIES and c not in OPEN_CATEGORIES)


def need_to_know(kind: str, fields) -> frozenset[str]:
    """The categories an agency of ``kind`` may receive in a case of the process of ``fields``:
    its consentable categories when ``kind`` works a lane of it, none otherwise."""
    if kind not in fields.lane_kinds:
        return frozenset()
    return frozenset(consentable_categories(fields))


def holds_category(agency: Agency, category: str) -> bool:
    """The agency holds the data of ``category``: it is its kind's own service."""
    return agency.kind in OWN_SERVICE_KINDS.get(category, ())


def is_recipient(agency: Agency, *, recipient_id: int | None, recipient_kind: str) -> bool:
    """``agency`` is the receiver of a sharing (the agency itself, or of the kind named)."""
    if recipient_id is not None:
        return agency.pk == recipient_id
    return agency.kind == recipient_kind


def may_record_sharing(
    agency: Agency, case, *, recipient_id: int | None, recipient_kind: str, is_consent: bool, categories
) -> bool:
    """Whether ``agency`` may record sharing ``categories`` with the recipient: never the
    recipient itself; the person's consent by the coordinator agency or the holder of every
    category; a provision of law only by the holder of every category."""
    if is_recipient(agency, recipient_id=recipient_id, recipient_kind=recipient_kind):
        return False
    if is_consent and agency.pk == case.coordinator_agency_id:
        return True
    return bool(categories) and all(holds_category(agency, category) for category in categories)


def sharing_recorder(
    access: CaseAccess, *, recipient_id: int | None, recipient_kind: str, is_consent: bool, categories
) -> Agency | None:
    """The agency through which the user records this sharing (the coordinator agency first),
    or None when none of theirs may (``may_record_sharing``)."""
    if not access:
        return None
    case = access.case
    agencies = sorted((a for a, _role in access.acting), key=lambda a: a.pk != case.coordinator_agency_id)
    for agency in agencies:
        if may_record_sharing(
            agency,
            case,
            recipient_id=recipient_id,
            recipient_kind=recipient_kind,
            is_consent=is_consent,
            categories=categories,
        ):
            return agency
    return None


def can_record_consent(user, case) -> bool:
    """The consent form and the recording route: people of the case's coordinator agency and
    of an agency that holds a category (its own service) in the case. What they may record
    is then ``may_record_sharing``; an agency that holds nothing (the allocation office)
    records nothing."""
    access = case_access(user, case)
    return any(
        agency.pk == case.coordinator_agency_id or any(holds_category(agency, c) for c in CATEGORIES)
        for agency, _role in (access.acting if access else ())
    )


def consent_note_shown(user, case):
    """Whether ``user`` reads the note of a consent of ``case`` (an expression on consents).
    The note is free text with no category (the recording service's words about the person):
    restricted, as a field without a category is (design §6). The coordinating agency's
    people and those of the agency whose member recorded it read it; the other participants
    read the consent (recipient, categories, basis; its purpose: ``consent_purpose_shown``),
    not the note."""
    own = case_access(user, case).agency_ids
    if not own:
        return Value(False)
    if case.coordinator_agency_id in own:
        return Value(True)
    # The agency it was recorded for, not where its recorder works now (who moved from the
    # health service to the prison would take the health service's words with them).
    return ExpressionWrapper(Q(recorded_by_agency_id__in=own), output_field=BooleanField())


def consent_purpose_shown(user, case):
    """Whether ``user`` reads the purpose of a consent of ``case`` (an expression on consents).
    The purpose is free text the recorder types ("bolig etter behandling for rus" tells of
    health): the coordinating agency's people, those of the agency whose member recorded it
    (as ``consent_note_shown``), and those of its recipient (the agency named, or an agency
    of the kind named) read it. The other participants read that the consent exists, its
    recipient, categories and basis, not its purpose."""
    access = case_access(user, case)
    own = access.agency_ids
    if not own:
        return Value(False)
    if case.coordinator_agency_id in own:
        return Value(True)
    kinds = sorted({str(agency.kind) for agency, _role in access.acting})
    return ExpressionWrapper(
        Q(agency_id__in=own) | Q(agency__isnull=True, agency_kind__in=kinds) | Q(recorded_by_agency_id__in=own),
        output_field=BooleanField(),
    )


def consent_purposes_shown(user, case, consents) -> set[int]:
    """``consent_purpose_shown`` for consents already read (the case page's list): the ids of
    those whose purpose ``user`` reads, from the rows themselves (no query)."""
    access = case_access(user, case)
    own = access.agency_ids
    if not own:
        return set()
    if case.coordinator_agency_id in own:
        return {consent.pk for consent in consents}
    kinds = {str(agency.kind) for agency, _role in access.acting}
    return {
        consent.pk
        for consent in consents
        if consent.agency_id in own
        or (consent.agency_id is None and consent.agency_kind in kinds)
        or consent.recorded_by_agency_id in own
    }


def can_revoke_consent(user, consent) -> bool:
    """The person's withdrawal of a consent is recorded by anyone who works the consent's
    case: it must be easy. A provision of law is no consent the person withdraws: it is
    ended, like it is invoked, only by an agency that holds every category it shares (never
    the recipient, nor an agency that holds none of it)."""
    if not can_view_case(user, consent.case):
        return False
    if consent.legal_basis.is_consent:
        return True
    recorder = sharing_recorder(
        case_access(user, consent.case),
        recipient_id=consent.agency_id,
        recipient_kind=consent.agency_kind,
        is_consent=False,
        categories=consent.categories,
    )
    return recorder is not None


def needs_second_factor(user) -> bool:
    """Who gives a second factor when signing in with a password (docs/security.md): every
    user with any role, and staff. Case roles can be shown health and justice data (their
    agency's own service, or any agency through the person's consent); a process admin
    deploys the scripts that run on case data; an auditor reads who saw whose health data;
    staff reach the database rows through the admin. Only a user with no role sees nothing."""
    return bool(user.is_staff or user.is_superuser or _memberships(user))


# --- caseload: the housing contact responsible for a case ------------------------------


def housing_contacts(agency: Agency | None):
    """Who may be responsible for a case of the housing agency ``agency``: its members,
    leads and coordinators (never its process admins or auditors) whose accounts are
    active. Users, by name."""
    if agency is None or agency.kind != AgencyKind.HOUSING:
        return get_user_model().objects.none()
    people = Membership.objects.filter(agency=agency, role__in=CASE_ROLES).values("user_id")
    # Deactivated accounts are no contacts: a case given to one (by its lead, or at its start
    # as the agency's first coordinator) had nobody who could work it (until h-attack28).
    return (
        get_user_model().objects.filter(pk__in=people, is_active=True).order_by("first_name", "last_name", "username")
    )


# The first coordinator of a housing agency, as ``housing_contacts(agency).filter(...).first()``
# finds it: compiled once (a case start asks for it; building it was a seventh of a start's Python).
_FIRST_COORDINATOR = Prepared(
    lambda agency_id: (
        get_user_model()
        .objects.filter(pk__in=Membership.objects.filter(agency_id=agency_id, role__in=CASE_ROLES).values("user_id"))
        .filter(is_active=True, memberships__agency_id=agency_id, memberships__role=Role.COORDINATOR)
        .order_by("first_name", "last_name", "username")[:1]
    ),
    kinds=(int,),
)


def first_housing_coordinator(agency: Agency | None, read: dict | None = None):
    """The first (by name) coordinator among ``agency``'s ``housing_contacts``, or None.
    ``read``: agency id -> what ``first_housing_coordinator_read`` read already."""
    if agency is None or agency.kind != AgencyKind.HOUSING:
        return None
    if read is not None and agency.pk in read:
        return read[agency.pk]
    found = _FIRST_COORDINATOR.objects(agency.pk)
    return found[0] if found else None


def first_housing_coordinator_read(agency_id: int, read: dict) -> tuple[str, list, Callable]:
    """``first_housing_coordinator``'s statement for the agency ``agency_id``, to go among
    others in one round trip (``(sql, params, on_result)``): its answer goes in ``read``."""
    sql, params = _FIRST_COORDINATOR.statement(agency_id)

    def remember(cursor) -> None:
        found = _FIRST_COORDINATOR.objects_from(cursor)
        read[agency_id] = found[0] if found else None

    return sql, params, remember


def is_housing_contact(user, agency: Agency | None) -> bool:
    return agency is not None and agency.kind == AgencyKind.HOUSING and agency.pk in case_agency_ids(user)


def housing_agency_ids(user) -> set[int]:
    """The housing agencies in which ``user`` works cases (member, lead or coordinator)."""
    return {
        agency_id
        for agency_id, role, _group, kind in _membership_rows(user)
        if role in CASE_ROLES and kind == AgencyKind.HOUSING
    }


def can_use_today(user) -> bool:
    """The "today" page is the housing contact's: people who work cases in a housing agency."""
    return bool(housing_agency_ids(user))


def can_assign_responsible(user, case, housing_agency: Agency | None) -> bool:
    """The lead of the case's housing agency reassigns its responsible contact, when that
    agency takes part in the case and holds its grant."""
    if housing_agency is None or housing_agency.pk not in agency_ids_with_role(user, Role.LEAD):
        return False
    return _has_role_in_case(user, case, (Role.LEAD,), housing_agency.pk)


def caseload_agencies(user):
    """The housing agencies whose caseload ``user`` sees: those they lead."""
    return Agency.objects.filter(pk__in=agency_ids_with_role(user, Role.LEAD), kind=AgencyKind.HOUSING)


def can_view_caseload(user) -> bool:
    return bool(agency_ids_with_role(user, Role.LEAD)) and caseload_agencies(user).exists()


def caseload_cases(user, agency, queryset):
    """``queryset`` (of cases) narrowed to the caseload of ``agency``, one ``user`` leads: the
    cases it takes part in while its own group holds the grant, the standing its people
    work a case on (``agency_works_case``). A case the lead sees only through another of
    their agencies is none of this one's (the check over all their agencies once counted it)."""
    return queryset.filter(participants__agency=agency).filter(_participates_with_grant(user, {agency.pk}))


# --- a follow-on case: what may be carried into it --------------------------------------


def can_withdraw_agency(user, case) -> bool:
    """Withdrawing an agency from a case (its participation and grant end at once): the
    coordinator of the case's coordinating agency (``is_case_coordinator``); anyone else who
    sees the case, the withdrawn agency's own people included, may not (403)."""
    return is_case_coordinator(user, case)


def can_start_follow_on(user, case, housing_agency: Agency | None) -> bool:
    """A housing contact of the case's housing agency (who owns the person's path) starts the
    next case of it, when that agency takes part in the case and holds its grant."""
    if housing_agency is None or not is_housing_contact(user, housing_agency):
        return False
    return _has_role_in_case(user, case, CASE_ROLES, housing_agency.pk)


def may_carry(source_case, agency: Agency, category: str, consents) -> Decision:
    """Whether a value of ``category`` of ``source_case`` may be carried into a follow-on case
    in which ``agency`` takes part: only what that agency could already see there on its own
    standing (an open category, its own service, the coordinator's) or through the person's
    consent or a legal basis recorded there (``consents``: ``active_consents(source_case)``).
    Consent is given per case: a new participant gets nothing the person has not agreed to."""
    standing = CaseAccess(case=source_case, acting=((agency, Role.MEMBER),), has_memberships=True)
    return decide_category(standing, category, consents)


def message_field_grounds(
    case, agencies, names, fields, sources, consents, lapsed: Collection[str] = ()
) -> list[tuple[str, Decision]] | None:
    """Whether a field of a message thrown by another case of the person, computed from that
    case's data ``names``, may enter ``case``: the receiving workflow's data is masked for no
    reader (its gateways, scripts, timers and connectors read it), so each of ``agencies``
    (every agency taking part in ``case``) must see each of those values in ``case`` itself:
    its category open to it, its own service's or the coordinator's, the person's consent or
    a legal basis recorded in ``case`` (``consents``: ``active_consents(case)``; consent is
    given per case), a value it wrote (``sources``: the sending case's ``data_sources``) or
    a field shared with all participants (``decide_value``). ``fields``: the sending
    process's ``policy.FieldRules`` (a name no form declares is ``restricted``). ``lapsed``:
    the safety warnings of the sending case out of time (``policy.lapsed_warnings``): none
    enters another case, be the field carried in the payload or read by the split whose
    branch threw the message. Written there it would start a new time in force that no one
    confirmed, and agencies joining that case later would read it as current: the agency
    that recorded it confirms it first (``confirm_safety_warning``).

    The grounds, as (category, decision) per agency and name, for the access log; None when
    any agency has none for any name. A literal reads nothing: it always arrives."""
    grounds = []
    for name in sorted(names):
        category = category_of(fields.fields.get(name, RESTRICTED))
        for agency in agencies:
            standing = CaseAccess(case=case, acting=((agency, Role.MEMBER),), has_memberships=True)
            decision = decide_value(
                standing,
                category,
                consents,
                field_name=name,
                source_agency_id=sources.get(name),
                shared_fields=fields.shared_fields,
                declared=name in fields.fields or name not in sources,
            )
            if not decision or name in lapsed:
                return None
            grounds.append((category, decision))
    return grounds


# --- acting in a case -------------------------------------------------------------------


def acting_agency(user, case, *, prefer_coordinator: bool = False) -> Agency | None:
    """The agency through which ``user`` acts in ``case`` (sends a message, records a
    consent): one of theirs that participates and holds the grant; None when they have none.
    ``prefer_coordinator``: the case's coordinator agency when the user works there."""
    access = case_access(user, case)
    if not access:
        return None
    if prefer_coordinator:
        for agency, _role in access.acting:
            if agency.pk == case.coordinator_agency_id:
                return agency
    return access.acting[0][0]


def message_sender_agency(user, case, senders) -> Agency | None:
    """The agency through which ``user`` may send a message into ``case`` that the model
    lets the agency kinds ``senders`` send: one of theirs that participates and is of such
    a kind (``bpmn.engine.write_rules``). None: they may not send it."""
    access = case_access(user, case)
    return next((agency for agency, _role in (access.acting if access else ()) if agency.kind in senders), None)


def message_starter_agency(user, participants, senders) -> Agency | None:
    """Of the agencies a message would start a case with, the one through which ``user``
    may send it: theirs, with a case role, and of a kind in ``senders``."""
    mine = case_agency_ids(user)
    return next((a for a in participants if a.pk in mine and a.kind in senders), None)


# --- values of case data ----------------------------------------------------------------


def _agency_name(agency: Agency | None) -> str:
    return agency.name if agency is not None else ""


def refusal(access: CaseAccess, category: str) -> Decision:
    """Why ``category`` is masked for this user (no grant found)."""
    if not access:
        return Decision(False, reason=_no_case_reason(access))
    agency = access.acting[0][0]
    if category == RESTRICTED:
        return Decision(
            False,
            reason=format_lazy(
                _("this field has no data category: only the agency that wrote it and the coordinating agency see it"),
            ),
            agency=agency,
            role=access.acting[0][1],
        )
    return Decision(
        False,
        reason=_no_consent_reason(category, _agency_name(agency)),
        agency=agency,
        role=access.acting[0][1],
    )


# The no-consent reason's text by language, category and agency: an opened task shows it for
# every category masked to its reader (translating its two parts was a twentieth of an opened
# task's Python). Forgotten when the languages or catalogues change (tests).
_NO_CONSENT_TEXTS: dict[tuple, str] = {}
_NO_CONSENT_TEXTS_KEPT = 4096


def _no_consent_text(category: str, agency_name: str) -> str:
    # The catalogue in use, not only its language's code: with translation off
    # (``deactivate_all``) the code is the default language's but the text untranslated.
    active = getattr(trans_real._active, "value", None) if settings.USE_I18N else None  # type: ignore[attr-defined]
    key = (active, translation.get_language(), category, agency_name)
    text = _NO_CONSENT_TEXTS.get(key)
    if text is None:
        text = str(
            format_lazy(
                _("no consent from the person to share {category} data with {agency}"),
                category=CATEGORY_LABELS.get(category, category),
                agency=agency_name,
            )
        )
        if len(_NO_CONSENT_TEXTS) < _NO_CONSENT_TEXTS_KEPT:
            _NO_CONSENT_TEXTS[key] = text
    return text


# Lazy as before: the text is made in the language active where it is shown.
_no_consent_reason = lazy(_no_consent_text, str)


def _forget_no_consent_texts(setting: str, **kwargs) -> None:
    if setting in {"LANGUAGES", "LANGUAGE_CODE", "LOCALE_PATHS", "USE_I18N"}:
        _NO_CONSENT_TEXTS.clear()


setting_changed.connect(_forget_no_consent_texts, dispatch_uid="permissions.rules.no_consent_texts")


def _no_case_reason(access: CaseAccess):
    if access.has_memberships:
        return _(
            "your role does not give access to the data of this case: process "
            "administrators and auditors never see case data, and your agency must "
            "take part in the case"
        )
    return _("you work in no agency that takes part in this case")


def category_of(category: str) -> str:
    """A known category, or ``restricted`` for anything else (a field without one)."""
    return category if category in ALL_CATEGORIES else RESTRICTED


def decide_category(access: CaseAccess, category: str, consents, emergency=()) -> Decision:
    """The grounds that open a whole category for one user standing (``case_access``), given
    the person's active consents for the case (``active_consents``) and the user's active
    break-glass openings (``active_break_glass``). Pure: no queries."""
    category = category_of(category)
    return _category_grounds(access, category, consents, emergency) or refusal(access, category)


def _category_grounds(access: CaseAccess, category: str, consents, emergency) -> Decision | None:
    """``decide_category``'s grounds for a known category (``category_of``), None where it
    refuses: the refusal (its reason) is made only by a caller that answers with it."""
    if not access:
        return None
    case = access.case
    for agency, role in access.acting:
        if category in OPEN_CATEGORIES:
            return Decision(True, BASIS_PARTICIPANT, agency=agency, role=role)
        if agency.kind in OWN_SERVICE_KINDS.get(category, ()):
            return Decision(True, BASIS_OWN_SERVICE, agency=agency, role=role)
        if category in COORDINATOR_CATEGORIES and agency.pk == case.coordinator_agency_id:
            return Decision(True, BASIS_COORDINATOR, agency=agency, role=role)
    if category != RESTRICTED:
        for agency, role in access.acting:
            for consent in consents:
                if consent.covers(agency, category):
                    return Decision(True, consent.access_basis, agency=agency, role=role, consent=consent)
        opened = decide_break_glass(access, category, emergency)
        if opened:
            return opened
    return None


def decide_own_value(access: CaseAccess, source_agency_id: int | None) -> Decision:
    """``own-data``: a value the user's own agency wrote is theirs to see, whatever its category."""
    for agency, role in access.acting if access else ():
        if source_agency_id is not None and agency.pk == source_agency_id:
            return Decision(True, BASIS_OWN_DATA, agency=agency, role=role)
    return Decision(False)


def decide_shared_field(access: CaseAccess, field_name: str, shared_fields) -> Decision:
    """``shared-field``: a field its form marks ``"x-share": "participants"`` is shown to every
    participant (domain.md: the release date and the housing conditions of parole)."""
    if access and field_name in shared_fields:
        agency, role = access.acting[0]
        return Decision(True, BASIS_SHARED_FIELD, agency=agency, role=role)
    return Decision(False)


def decide_value(
    access: CaseAccess,
    category: str,
    consents,
    *,
    field_name: str,
    source_agency_id: int | None,
    shared_fields=frozenset(),
    emergency=(),
    declared: bool = True,
) -> Decision:
    """One value of case data: its category's grounds, else own-data, else a shared field.

    ``declared``: whether a form of the process has the field. A key none declares (a
    connector's answer under its result variable, a field of the version the case was moved
    from) has no category anyone chose: only the agency that wrote it sees it, not even the
    coordinator (who sees the fields a form declares without one)."""
    category = category_of(category)
    if not declared:
        return decide_own_value(access, source_agency_id) or undeclared_refusal(access)
    return (
        _category_grounds(access, category, consents, emergency)
        or decide_own_value(access, source_agency_id)
        or decide_shared_field(access, field_name, shared_fields)
        or refusal(access, category)
    )


def undeclared_refusal(access: CaseAccess) -> Decision:
    """Why a value under a key no form of the process declares is masked (``decide_value``)."""
    if not access:
        return refusal(access, RESTRICTED)
    agency, role = access.acting[0]
    reason = _("this value belongs to no field of the process's forms: only the agency that wrote it sees it")
    return Decision(False, reason=reason, agency=agency, role=role)


def decide_lapsed_warning(access: CaseAccess, case, source_agency_id: int | None) -> Decision:
    """A safety warning out of time (``policy.warning_dates``): still shown to the agency that
    recorded it (``own-data``) and to the case's coordinator (a coordinator of its
    coordinating agency), who answer for it and confirm it again or remove it; every other
    participant learns only that a warning lapsed (domain.md: minimal, factual,
    time-limited). Pure: no queries."""
    own = decide_own_value(access, source_agency_id)
    if own:
        return own
    for agency, role in access.acting if access else ():
        if agency.pk == case.coordinator_agency_id and role == Role.COORDINATOR:
            return Decision(True, BASIS_COORDINATOR, agency=agency, role=role)
    return Decision(False, reason=_("the safety warning has lapsed"))


def can_confirm_safety_warning(user, case, source_agency_id: int | None) -> bool:
    """Confirming a safety warning again (a new time in force): those who still see it when it
    has lapsed (``decide_lapsed_warning``), whether or not it has."""
    return bool(decide_lapsed_warning(case_access(user, case), case, source_agency_id))


# --- break-glass --------------------------------------------------------------------------
# domain.md: to avert danger to life or health a participant may open a masked category with a
# written reason, for a few hours (``BREAK_GLASS_HOURS``), logged and reviewed afterwards.
# The opening is personal: it shows the category to the user who opened it, through the agency
# they opened it for, while that agency still takes part and until it expires (by the clock).


def can_break_glass(user, case) -> bool:
    """Anyone who works the case (a case role in a participating agency) may open a masked
    category in an emergency; process admins, auditors and outsiders never."""
    return bool(case_access(user, case))


def break_glass_categories(access: CaseAccess, fields, consents, emergency=()) -> list[str]:
    """The categories ``access``'s user may open in an emergency: those of the process that a
    consent could share (``consentable_categories``) and that are masked for them now."""
    if not access:
        return []
    return [c for c in consentable_categories(fields) if not decide_category(access, c, consents, emergency)]


def decide_break_glass(access: CaseAccess, category: str, emergency) -> Decision:
    """``break-glass``: one of the user's own active openings of ``category`` in this case,
    through an agency they still act for. ``emergency`` is ``active_break_glass(case, user)``."""
    if not access:
        return Decision(False)
    now = None
    for grant in emergency:
        if now is None:  # the clock read once, and only with an opening to hold against it
            now = timezone.now()
        if grant.case_id != access.case.pk or grant.category != category or not grant.is_active(now):
            continue
        for agency, role in access.acting:
            if agency.pk == grant.agency_id:
                return Decision(True, grant.access_basis, agency=agency, role=role, break_glass=grant)
    return Decision(False)


_ACTIVE_BREAK_GLASS = Prepared(
    lambda at, case_id, user_id: BreakGlass.objects.active(at).filter(case_id=case_id, user_id=user_id),
    kinds=(datetime.datetime, int, int),
)


def active_break_glass(case, user, at=None) -> list[BreakGlass]:
    """The user's break-glass openings in force in this case, read fresh (never cached
    beyond one ``read_once`` answer). None once the case is closed: an opening ends with the
    case, as none is opened on a closed one (``workflows.services.break_glass``)."""
    if not getattr(user, "is_authenticated", False) or getattr(case, "closed_at", None) is not None:
        return []
    return _read_once(
        ("break_glass", case.pk, user.pk), lambda: _ACTIVE_BREAK_GLASS.objects(at or timezone.now(), case.pk, user.pk)
    )


def can_view_break_glass(user, case) -> bool:
    """The case's openings with their reasons: whoever reads its access log (the coordinator,
    an auditor of a participating agency)."""
    return can_view_access_log(user, case)


def reviewable_break_glass(user, queryset):
    """``queryset`` of break-glass openings narrowed to those ``user`` reviews, as
    ``can_review_break_glass`` decides for one. One query."""
    auditing = agency_ids_with_role(user, Role.AUDITOR)
    if not auditing:
        return queryset.none()
    return queryset.filter(_participates_with_grant(user, auditing, OuterRef("case_id"))).exclude(user_id=user.pk)


def with_auditing_agency(user, queryset):
    """``queryset`` of openings (rows with a ``case_id``) annotated with ``log_auditing``: the
    first of the user's auditing agencies that takes part in the row's case with its grant,
    the standing an auditor's read of the row is logged on (as ``with_access_log_standing``).
    In the same query."""
    auditing = [
        When(_participates_with_grant(user, {a}, OuterRef("case_id")), then=Value(a))
        for a in sorted(agency_ids_with_role(user, Role.AUDITOR))
    ]
    return queryset.annotate(
        log_auditing=Cases(*auditing, default=None, output_field=IntegerField())
        if auditing
        else Value(None, output_field=IntegerField())
    )


def can_review_break_glass(user, grant) -> bool:
    """Reviewing an opening: an auditor of an agency that takes part in its case, never the
    one who opened it (a caseworker who is an auditor too does not review themselves)."""
    return (
        is_auditor(user)
        and grant.user_id != user.pk
        and _participating_memberships(user, grant.case_id, (Role.AUDITOR,)).exists()
    )


def can_end_break_glass(user, grant) -> bool:
    """Ending an opening before its time: the user who opened it, while they work its case,
    or an auditor who may review it (reviewed already or not)."""
    if grant.user_id == user.pk:
        return can_break_glass(user, grant.case)
    return can_review_break_glass(user, grant)


_ACTIVE_CONSENTS = Prepared(
    lambda at, case_id, person_id: (
        Consent.objects.active(at).filter(case_id=case_id, person_id=person_id).order_by("given_at", "id")
    ),
    kinds=(datetime.datetime, int, int),
)


def active_consents(case, at=None) -> list[Consent]:
    """The person's consents in force for this case, read fresh (never cached beyond one
    ``read_once`` answer)."""
    return _read_once(
        ("consents", case.pk, case.person_id),
        lambda: _ACTIVE_CONSENTS.objects(at or timezone.now(), case.pk, case.person_id),
    )


# --- a point read's policy rows, read with it -------------------------------------------
# Opening a task asks the database for the task, then for the reader's memberships with
# their standing in its case, the person's consents and the reader's break-glass openings:
# four statements. ``policy_reads`` are the three as annotations of the task's own statement
# (each a JSON array of rows: ``permissions.prepared.RowsInJSON``), and ``remember_policy_reads``
# hands their rows to the questions that would have read them (``case_access``,
# ``active_consents``, ``active_break_glass``), which then decide from them exactly as from
# their own reads.

_MEMBERSHIPS_IN_JSON = RowsInJSON(Membership, related=("agency",), annotations=("stands",))
_CONSENTS_IN_JSON = RowsInJSON(Consent, related=("legal_basis",))
_BREAK_GLASS_IN_JSON = RowsInJSON(BreakGlass)
POLICY_READS = ("policy_memberships", "policy_consents", "policy_break_glass")


def policy_reads(user_id, at, *, case: str, person: str) -> dict[str, Any]:
    """Annotations of a statement whose row names a case (a task's: ``case`` and ``person``
    are the names of its case's and its person's ids in that row, such as ``"case_id"`` and
    ``"case__person_id"``): ``user_id``'s memberships with their standing in the case
    (``memberships_with_standing``), the person's consents in force at ``at``
    (``active_consents``) and the user's break-glass openings in force at ``at``
    (``active_break_glass``)."""
    # The standing's checks are subqueries of the memberships' subquery: two levels down.
    memberships = memberships_with_standing(user_id, OuterRef(OuterRef(case)))
    consents = Consent.objects.active(at).filter(case_id=OuterRef(case), person_id=OuterRef(person))
    openings = BreakGlass.objects.active(at).filter(case_id=OuterRef(case), user_id=user_id)
    return {
        "policy_memberships": _MEMBERSHIPS_IN_JSON.of(memberships),
        "policy_consents": _CONSENTS_IN_JSON.of(consents),
        "policy_break_glass": _BREAK_GLASS_IN_JSON.of(openings),
    }


def remember_policy_reads(user, case, row) -> None:
    """Remember what ``row`` (read with ``policy_reads`` for ``user`` and ``case``) read, for
    the rest of the answer: the standing (as ``case_access`` would read it, with the user's
    memberships when they were not read yet), and, within ``read_once``, the consents and
    openings (as ``active_consents`` and ``active_break_glass`` would read them, in their
    order). Outside ``read_once`` those two are read again when asked."""
    memberships = sorted(_MEMBERSHIPS_IN_JSON.objects(row.policy_memberships), key=lambda m: m.pk)
    if getattr(user, "_brobygger_memberships", None) is None:
        remember_standing(user, case, memberships)
    else:  # as ``_read_standing`` reads it when the memberships are known
        rows: list[tuple[Agency, str]] = []
        known = _memberships(user)
        if any(role in _ROLES_IN_CASE for _agency, role in known):
            rows = [(m.agency, m.role) for m in memberships if m.stands and m.role in _ROLES_IN_CASE]
        _remember_access(user, case, case.__dict__.setdefault("_brobygger_access", {}), rows, known)
    remembered = _READ_ONCE.get()
    if remembered is None:
        return
    consents = _CONSENTS_IN_JSON.objects(row.policy_consents)
    consents.sort(key=lambda consent: (consent.given_at, consent.pk))  # ``_ACTIVE_CONSENTS``'s order
    openings = _BREAK_GLASS_IN_JSON.objects(row.policy_break_glass)
    openings.sort(key=lambda grant: (grant.opened_at, grant.pk), reverse=True)  # ``BreakGlass``'s own
    remembered.setdefault(("consents", case.pk, case.person_id), consents)
    remembered.setdefault(("break_glass", case.pk, user.pk), openings)


_READ_ONCE: ContextVar[dict | None] = ContextVar("brobygger_read_once", default=None)


@contextlib.contextmanager
def read_once():
    """Within: ``active_consents`` and ``active_break_glass`` read each case's rows once and
    give the same rows to every later question (a page whose sections each decide from the
    consents and openings: its data, notes, forms and break-glass section). For an answer
    that only reads, so that nothing it asks about changes meanwhile; anything after it
    (another request, a write) reads fresh again. The rows are those in force at the
    answer's first question (its moment: ``at`` of later ones is milliseconds later)."""
    if _READ_ONCE.get() is not None:  # within one already: its rows, read once for both
        yield
        return
    token = _READ_ONCE.set({})
    try:
        yield
    finally:
        _READ_ONCE.reset(token)


def _read_once(key: tuple, read):
    remembered = _READ_ONCE.get()
    if remembered is None:
        return read()
    if key not in remembered:
        remembered[key] = read()
    return list(remembered[key])


def can_see_category(user, case, category: str, fields, *, field: str | None = None) -> Decision:
    """Whether ``user`` sees ``category`` of ``case``'s data, and on what basis. ``fields``
    is the process's ``policy.FieldRules``.

    With ``field``: that one value (``decide_value``). Without: the whole category, which
    own-data also opens when every value of it in the case was written by the user's agency.
    """
    access = case_access(user, case)
    if not access:
        return refusal(access, category)
    restricted = category_of(category) == RESTRICTED
    consents = () if restricted else active_consents(case)
    emergency = () if restricted else active_break_glass(case, user)
    sources = case.data_sources or {}
    if field is not None:
        return decide_value(
            access,
            category,
            consents,
            field_name=field,
            source_agency_id=sources.get(field),
            shared_fields=fields.shared_fields,
            emergency=emergency,
            declared=field in fields.fields or field not in sources,
        )
    decision = decide_category(access, category, consents, emergency)
    if decision:
        return decision
    names = [name for name in (case.data or {}) if category_of(fields.fields.get(name, RESTRICTED)) == category]
    owned = [decide_own_value(access, sources.get(name)) for name in names]
    if owned and all(owned) and len({d.agency.pk if d.agency else None for d in owned}) == 1:
        return owned[0]
    return decision


def can_see_national_id(user, case, task, *, needs_full_identity: bool) -> Decision:
    """The full national id: only for someone working an active task of the case whose
    form needs identity in full (``policy.FieldRules.full_identity_tasks``)."""
    reason = _("the national id is shown only to whoever works a task that needs it")
    if task is None or task.case_id != case.pk or not task.is_active:
        return Decision(False, reason=reason)
    if not needs_full_identity or not can_work_task(user, task):
        return Decision(False, reason=reason)
    access = case_access(user, case)
    for agency, role in access.acting:
        if agency.pk == task.agency_id:
            return Decision(True, f"task:{task.pk}", agency=agency, role=role)
    return Decision(False, reason=reason)


# --- notes and attachments --------------------------------------------------------------
# A note or an attachment is a value of its category written by its agency: shown on the
# grounds of its category (``decide_category``) or as the writer's own data
# (``decide_own_value``), through ``decide_value`` like any value of case data.

# Not ``identity``: reads of identity are not logged, and a free text is never only a name.
NOTE_CATEGORIES = tuple(category for category in ALL_CATEGORIES if category != "identity")
# What a note of each agency kind is about unless the writer chooses otherwise.
DEFAULT_NOTE_CATEGORY: dict[str, str] = {
    AgencyKind.PRISON: "justice",
    AgencyKind.NAV: "economy",
    AgencyKind.HEALTH: "health",
    AgencyKind.HOSPITAL: "health",
    AgencyKind.HOUSING: "housing",
}
FALLBACK_NOTE_CATEGORY = "coordination"


def decide_note(access: CaseAccess, category: str, consents, *, author_agency_id: int | None, emergency=()) -> Decision:
    """One note or attachment: its category's grounds (a break-glass opening among them:
    ``emergency`` is ``active_break_glass(case, user)``), else own-data (the writer's agency)."""
    return decide_value(
        access, category, consents, field_name="", source_agency_id=author_agency_id, emergency=emergency
    )


def note_agencies(access: CaseAccess) -> list[Agency]:
    """The agencies a user may write a note as in the case: theirs that take part in it."""
    return [agency for agency, _role in access.acting] if access else []


def note_categories(access: CaseAccess, agency: Agency, consents) -> list[str]:
    """The categories ``agency`` may write a note or attach a file in: those its own standing
    in the case opens (its own service, the open categories, the coordinator's, the person's
    consent to it), and ``restricted`` always (only the writer and the coordinator read it).

    An agency records what its mandate lets it know in this case (data minimisation); a
    writer who finds no fitting category has the closed one, never only more open ones.
    """
    own = CaseAccess(
        case=access.case,
        acting=tuple((a, role) for a, role in access.acting if a.pk == agency.pk) if access else (),
        has_memberships=True,
    )
    if not own:
        return []
    return [c for c in NOTE_CATEGORIES if c == RESTRICTED or decide_category(own, c, consents)]


def default_note_category(agency: Agency, writable) -> str:
    """The category a note of ``agency`` gets unless the writer chooses (a NAV note is economy)."""
    for category in (DEFAULT_NOTE_CATEGORY.get(agency.kind), FALLBACK_NOTE_CATEGORY, RESTRICTED):
        if category is not None and category in writable:
            return category
    return RESTRICTED


def can_add_note(user, case) -> bool:
    """Notes and attachments are written by anyone who works the case (a case role in an
    agency that takes part in it); process admins and auditors never."""
    return bool(case_access(user, case))


def can_add_attachment(user, case) -> bool:
    return can_add_note(user, case)


def can_change_note(user, note) -> bool:
    """Correct or withdraw a note: only its author, while still working the case in the
    agency that wrote it."""
    return (
        note.author_id is not None
        and note.author_id == getattr(user, "pk", None)
        and note.agency_id in case_access(user, note.case).agency_ids
    )


def can_withdraw_attachment(user, attachment) -> bool:
    """Withdraw an attachment (a wrong file): only who added it, while working the case in that agency."""
    return (
        attachment.uploaded_by_id is not None
        and attachment.uploaded_by_id == getattr(user, "pk", None)
        and attachment.agency_id in case_access(user, attachment.case).agency_ids
    )


# Who answers for what a departed writer of the agency wrote: the roles that already act over
# colleagues' work in the agency (``can_assign_task``: the lead, or the coordinator). An
# access administrator sees no case data; another agency's people never change its records.
AGENCY_STEWARD_ROLES = (Role.LEAD, Role.COORDINATOR)


def answers_for_agency(user, case, agency_id: int) -> bool:
    """``user`` is a lead or coordinator of ``agency_id``, which takes part in ``case`` and
    holds its grant (read with ``case_access``: no query of its own)."""
    return _has_role_in_case(user, case, AGENCY_STEWARD_ROLES, agency_id)


def writers_still_acting(pairs) -> set[tuple[int, int]]:
    """Of ``pairs`` ((writer's user id, agency id): a note's author or an attachment's
    uploader, and the agency it was written for), those whose writer can still act for that
    agency: an active account with a case role (member, lead, coordinator) there. The agency's
    own standing in the case is the caller's to check (``answers_for_agency``: the same
    agency's). One query, none for no pairs."""
    wanted = {(user_id, agency_id) for user_id, agency_id in pairs if user_id is not None}
    if not wanted:
        return set()
    rows = Membership.objects.filter(
        user_id__in=sorted({user_id for user_id, _agency in wanted}),
        agency_id__in=sorted({agency_id for _user, agency_id in wanted}),
        role__in=CASE_ROLES,
        user__is_active=True,
    ).values_list("user_id", "agency_id")
    return {pair for pair in rows if pair in wanted}


def may_change_for_agency(
    user, case, *, agency_id: int, writer_id: int | None, writer_acts: bool | None = None
) -> bool:
    """Correct or withdraw a note, or withdraw an attachment, that someone else wrote for
    ``agency_id``: only a lead or coordinator of that agency in the case
    (``answers_for_agency``), and only once its writer can no longer act for it there (left
    the agency, lost their case role, account deactivated or deleted). The agency remains
    controller of what its employee recorded, and the person's right to rectification (GDPR
    art. 16) must reach someone. While the writer can still act, only the writer may:
    authorship accountability. A note says what its writer observed and judged, under their
    name; a colleague, even their lead, who rewrites it puts words in the writer's mouth, and
    the writer is there to correct it themselves. ``writer_acts``: already read
    (``writers_still_acting``), else read here (one query)."""
    if writer_id is not None and writer_id == getattr(user, "pk", None):
        return False  # their own: the writer's path (``can_change_note``), not the agency's
    if not answers_for_agency(user, case, agency_id):
        return False
    if writer_acts is None:
        writer_acts = bool(writers_still_acting([(writer_id, agency_id)]))
    return not writer_acts


__all__ = [
    "ALL_CATEGORIES",
    "CaseAccess",
    "Decision",
    "acting_agency",
    "active_break_glass",
    "active_consents",
    "admin_shows_incidents",
    "agency_ids_with_role",
    "agency_keeps_case",
    "agency_works_case",
    "answers_for_agency",
    "assignable_kinds",
    "break_glass_categories",
    "can_add_attachment",
    "can_add_note",
    "can_break_glass",
    "can_change_note",
    "can_deploy_process",
    "can_manage_legal_bases",
    "can_record_consent",
    "can_retry_incident",
    "can_review_break_glass",
    "can_revoke_consent",
    "can_see_category",
    "can_see_national_id",
    "can_see_routing_users",
    "can_see_where_cases_stand",
    "can_start_case",
    "can_use_directory",
    "can_view_access_log",
    "can_view_break_glass",
    "can_view_case",
    "can_view_consents",
    "can_view_incidents",
    "can_view_task",
    "can_withdraw_agency",
    "can_withdraw_attachment",
    "can_work_task",
    "case_access",
    "case_agency_ids",
    "cases_with_readable_access_log",
    "consentable_categories",
    "decide_break_glass",
    "decide_category",
    "decide_note",
    "decide_own_value",
    "decide_shared_field",
    "decide_value",
    "default_note_category",
    "has_listed_task",
    "holds_category",
    "is_auditor",
    "is_process_admin",
    "is_recipient",
    "listed_cases",
    "listed_task_rows",
    "may_change_for_agency",
    "may_give_admin_powers",
    "may_manage_user",
    "may_record_sharing",
    "need_to_know",
    "note_agencies",
    "note_categories",
    "reader_for",
    "reader_shape",
    "reads_withdrawal_reason",
    "reviewable_break_glass",
    "sharing_recorder",
    "task_listed",
    "task_reader_agency",
    "users_managed_by",
    "visible_case_rows",
    "visible_cases",
    "walks_participations",
    "works_cases",
    "writers_still_acting",
]
