"""Which agency kind a task is routed to: lanes, pools, candidate groups, assignees, a default.

Brobygger hands every user task, manual task and plain ``bpmn:task`` (SpiffWorkflow runs
a plain task as a manual task: it waits for a person, so it is routed like one) to an
agency of the case. Models say who does a task in several ways; the routing map given
at import says which agency kind each name means::

    {
      "lanes":     {"Saksbehandler": "nav"},        # lane name (any pool's lanes)
      "pools":     {"Kommunen": "municipality"},    # participant (pool) name
      "groups":    {"accounting": "nav"},           # camunda:candidateGroups (also Activiti, Flowable)
      "assignees": {"demo": "housing"},             # camunda:assignee
      "users":     {"demo": "bjorn"},               # camunda:assignee -> a Brobygger user
      "default":   "housing"                        # every task that none of the above routes
    }

``users`` is not about the agency kind: a task whose assignee it names is handed to that
user (claimed by them) when it is created, if the user works for the agency the task was
routed to in that case and the version's deployer leads that agency (handing a task to a
named person is a lead's power); otherwise the task waits in the agency's inbox like any
other. The engine stores the user's name per task (``assignee_user``); who the user is and
whether the deployer may hand them the task is for the services, which know users.

A task is routed by the first of these that resolves: its lane (the lane map, then the
lane aliases of ``lanes.py``), its candidate groups (in order), its assignee, its pool,
the default. The older flat lane map (lane name -> kind) is the ``lanes`` part.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from .errors import ValidationIssue
from .lanes import AGENCY_KINDS, normalize_lane_name, resolve_lane_kind
from .xml import parse_bpmn_xml

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SECTIONS = ("lanes", "pools", "groups", "assignees")
ROUTED_TASKS = ("userTask", "manualTask", "task")
# The attribute's local name is what matters: Camunda, Activiti and Flowable each use their
# own namespace for the same attributes.
GROUP_ATTRIBUTE = "candidateGroups"
ASSIGNEE_ATTRIBUTE = "assignee"


@dataclass(frozen=True)
class RoutingMap:
    lanes: dict[str, str] = field(default_factory=dict)
    pools: dict[str, str] = field(default_factory=dict)
    groups: dict[str, str] = field(default_factory=dict)
    assignees: dict[str, str] = field(default_factory=dict)
    users: dict[str, str] = field(default_factory=dict)
    default: str | None = None

    @classmethod
    def from_parts(cls, routing: Mapping[str, Any] | None = None, lanes: Mapping[str, Any] | None = None) -> RoutingMap:
        """From the structured map and/or the older flat lane map (both optional).

        Call ``validate_routing`` first: entries with unknown kinds are kept as given here.
        """
        routing = dict(routing or {})
        merged_lanes = {**dict(lanes or {}), **dict(routing.get("lanes") or {})}
        return cls(
            lanes=merged_lanes,
            pools=dict(routing.get("pools") or {}),
            groups=dict(routing.get("groups") or {}),
            assignees=dict(routing.get("assignees") or {}),
            users=dict(routing.get("users") or {}),
            default=_kind(routing.get("default")),
        )

    def as_dict(self) -> dict[str, Any]:
        """The stored form: only the parts that say something."""
        result: dict[str, Any] = {name: dict(getattr(self, name)) for name in SECTIONS if getattr(self, name)}
        if self.users:
            result["users"] = dict(self.users)
        if self.default:
            result["default"] = self.default
        return result

    def is_empty(self) -> bool:
        return not self.as_dict()


def _kind(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    value = value.strip().lower()
    return value if value in AGENCY_KINDS else None


def _lookup(section: Mapping[str, str], name: str) -> str | None:
    if name in section:
        return _kind(section[name])
    wanted = normalize_lane_name(name)
    for key, kind in section.items():
        if isinstance(key, str) and normalize_lane_name(key) == wanted:
            return _kind(kind)
    return None


def validate_routing(routing: object) -> list[ValidationIssue]:
    """Problems in a structured routing map given at import (None: no map)."""
    if routing is None:
        return []
    kinds = ", ".join(AGENCY_KINDS)
    if not isinstance(routing, Mapping):
        return [
            ValidationIssue(
                "invalid-lane-map",
                f"the routing map must be an object with {', '.join(SECTIONS)} "
                f"and default, not a {type(routing).__name__}",
            )
        ]
    issues = []
    unknown = sorted(str(key) for key in routing if key not in (*SECTIONS, "users", "default"))
    if unknown:
        issues.append(
            ValidationIssue(
                "invalid-lane-map",
                f"the routing map has the part(s) {', '.join(map(repr, unknown))}; its parts are "
                f"{', '.join(SECTIONS)} (name -> agency kind), users (assignee -> user name) "
                "and default (an agency kind); remove the others",
            )
        )
    users = routing.get("users")
    well_formed = isinstance(users, Mapping) and all(
        isinstance(name, str) and name.strip() and isinstance(user, str) and user.strip()
        for name, user in users.items()
    )
    if users is not None and not well_formed:
        issues.append(
            ValidationIssue(
                "invalid-lane-map",
                "the routing map's 'users' must map assignee names to user names; write each as "
                '"assignee": "user name"',
            )
        )
    for section in SECTIONS:
        entries = routing.get(section)
        if entries is None:
            continue
        if not isinstance(entries, Mapping):
            issues.append(
                ValidationIssue(
                    "invalid-lane-map", f"the routing map's {section!r} must map names to agency kinds ({kinds})"
                )
            )
            continue
        for name, kind in entries.items():
            if not isinstance(name, str) or not name.strip():
                issues.append(
                    ValidationIssue(
                        "invalid-lane-map", f"the routing map's {section!r} has the entry {name!r}, which is not a name"
                    )
                )
            elif _kind(kind) is None:
                issues.append(
                    ValidationIssue(
                        "unknown-lane-kind",
                        f"the routing map sends {section[:-1]} {name!r} to {kind!r}, which is not an agency kind; "
                        f"use one of {kinds}",
                        params={"name": str(name), "kind": str(kind), "kinds": kinds},
                    )
                )
    default = routing.get("default")
    if default not in (None, "") and _kind(default) is None:
        issues.append(
            ValidationIssue(
                "unknown-lane-kind",
                f"the routing map's default {default!r} is not an agency kind; use one of {kinds}",
                params={"name": "default", "kind": str(default), "kinds": kinds},
            )
        )
    return issues


# --- reading the model -------------------------------------------------------------------


def _q(name: str) -> str:
    return f"{{{BPMN_NS}}}{name}"


def _extension_attribute(el: etree._Element, local_name: str) -> str | None:
    for key, value in el.attrib.items():
        if isinstance(key, str) and key.startswith("{") and key.rsplit("}", 1)[1] == local_name:
            return str(value)
    return None


def task_groups(el: etree._Element) -> list[str]:
    value = _extension_attribute(el, GROUP_ATTRIBUTE) or ""
    return [group.strip() for group in value.split(",") if group.strip()]


def task_assignee(el: etree._Element) -> str | None:
    value = (_extension_attribute(el, ASSIGNEE_ATTRIBUTE) or "").strip()
    return value or None


def pool_names(root: etree._Element) -> dict[str, str]:
    """Process id -> the name of the pool (participant) that shows it."""
    pools = {}
    for participant in root.iter(_q("participant")):
        process_ref, name = participant.get("processRef"), participant.get("name")
        if process_ref and name and name.strip():
            pools[process_ref] = name
    return pools


@dataclass(frozen=True)
class TaskRouting:
    kind: str | None
    source: str | None  # "lane", "group", "assignee", "pool", "default"; None when unrouted
    lane: str | None
    groups: tuple[str, ...]
    assignee: str | None
    pool: str | None


def route(
    lane: str | None, groups: Iterable[str] | None, assignee: str | None, pool: str | None, routing: RoutingMap
) -> TaskRouting:
    """The agency kind of one task, by the first of lane, groups, assignee, pool, default."""
    groups = tuple(groups or ())
    if lane and lane.strip():
        kind = resolve_lane_kind(lane, routing.lanes)
        if kind:
            return TaskRouting(kind, "lane", lane, groups, assignee, pool)
    for group in groups:
        kind = _lookup(routing.groups, group) or resolve_lane_kind(group, None)
        if kind:
            return TaskRouting(kind, "group", lane, groups, assignee, pool)
    if assignee:
        kind = _lookup(routing.assignees, assignee)
        if kind:
            return TaskRouting(kind, "assignee", lane, groups, assignee, pool)
    if pool:
        kind = _lookup(routing.pools, pool) or resolve_lane_kind(pool, None)
        if kind:
            return TaskRouting(kind, "pool", lane, groups, assignee, pool)
    if routing.default:
        return TaskRouting(routing.default, "default", lane, groups, assignee, pool)
    return TaskRouting(None, None, lane, groups, assignee, pool)


def assignee_user(assignee: str | None, routing: RoutingMap) -> str | None:
    """The user name the routing map hands a task with this assignee to (None: nobody)."""
    if not assignee:
        return None
    if assignee in routing.users:
        return routing.users[assignee].strip()
    wanted = normalize_lane_name(assignee)
    for name, user in routing.users.items():
        if normalize_lane_name(name) == wanted:
            return user.strip()
    return None


def unrouted_fix(routing_of_task: TaskRouting, kinds: str = "|".join(AGENCY_KINDS)) -> str:
    """How to route a task that nothing routes: the map entries that would."""
    return "add to the routing map at import " + " or ".join(routing_entries(routing_of_task, kinds))


def routing_entries(routing_of_task: TaskRouting, kinds: str = "|".join(AGENCY_KINDS)) -> list[str]:
    """The routing map entries that would route a task that nothing routes (JSON)."""
    fixes = []
    if routing_of_task.lane:
        fixes.append(f'"lanes": {{"{" ".join(routing_of_task.lane.split())}": "<{kinds}>"}}')
    for group in routing_of_task.groups:
        fixes.append(f'"groups": {{"{group}": "<kind>"}}')
    if routing_of_task.assignee:
        fixes.append(f'"assignees": {{"{routing_of_task.assignee}": "<kind>"}}')
    if routing_of_task.pool:
        fixes.append(f'"pools": {{"{routing_of_task.pool}": "<kind>"}}')
    fixes.append('"default": "<kind>"')
    return fixes


def routing_names(bpmn_xml: bytes | str) -> dict[str, list[str]]:
    """Every name in the model that a routing map may send to an agency kind, and whether
    some routed task names nothing at all (then only ``default`` routes it)."""
    root = parse_bpmn_xml(bpmn_xml, filename="model.bpmn")
    lanes_with_tasks: set[str] = set()
    doc_lanes = {}
    for ref in root.iter(_q("flowNodeRef")):
        if ref.text:
            doc_lanes[ref.text.strip()] = ref.getparent().get("name")
    names: dict[str, set[str]] = {section: set() for section in SECTIONS}
    needs_default = False
    pools = pool_names(root)
    for process in root.iter(_q("process")):
        pool = pools.get(process.get("id") or "")
        for el in process.iter(*(_q(kind) for kind in ROUTED_TASKS)):
            lane = doc_lanes.get(el.get("id") or "")
            if lane and lane.strip():
                lanes_with_tasks.add(lane)
            names["groups"].update(task_groups(el))
            assignee = task_assignee(el)
            if assignee:
                names["assignees"].add(assignee)
            if pool:
                names["pools"].add(pool)
            if not (lane and lane.strip()) and not task_groups(el) and not task_assignee(el) and not pool:
                needs_default = True
    names["lanes"] = lanes_with_tasks
    result: dict[str, Any] = {section: sorted(values) for section, values in names.items()}
    result["needs_default"] = needs_default
    return result


def suggested_routing_map(names: Mapping[str, Any], kinds: Iterable[str] = AGENCY_KINDS) -> dict[str, Any]:
    """A routing map that sends every name of ``routing_names`` to an agency kind, in turn,
    and sets a default: what an admin fills in first, to be corrected by hand."""
    kinds = list(kinds)
    routing: dict[str, Any] = {}
    index = 0
    for section in SECTIONS:
        entries = {}
        for name in names.get(section, []):
            if section in ("lanes", "pools", "groups") and resolve_lane_kind(name, None):
                continue  # already a known agency name
            entries[name] = kinds[index % len(kinds)]
            index += 1
        if entries:
            routing[section] = entries
    routing["default"] = kinds[0]
    return routing
