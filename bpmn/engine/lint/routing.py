"""Lanes: which agency a task is routed to, as SpiffWorkflow resolves it, and the lane checks."""

from __future__ import annotations

from collections.abc import Mapping

from lxml import etree

from ..lanes import AGENCY_KINDS
from ..routing import TaskRouting, pool_names, route, routing_entries, task_assignee, task_groups, unrouted_fix
from .model import SUBPROCESSES, _describe, _human_tasks, _local, _q, _quoted_list
from .state import LintState

# --- lanes (mirrors SpiffWorkflow's lane lookup) -------------------------------------------


def _document_lanes(root: etree._Element) -> dict[str, str | None]:
    """flowNodeRef id -> lane name, the last reference in document order winning.

    This is what ``BpmnParser._add_diagram_indexes`` builds; with nested lanes the
    innermost lane wins because child lane sets follow the parent's references.
    """
    lanes: dict[str, str | None] = {}
    for ref in root.iter(_q("flowNodeRef")):
        if ref.text:
            lanes[ref.text.strip()] = ref.getparent().get("name")
    return lanes


def _effective_lane(node: etree._Element, doc_lanes: Mapping[str, str | None]) -> str | None:
    """The lane name SpiffWorkflow puts on the task spec of ``node``.

    Inside a sub-process, SpiffWorkflow passes the sub-process's lane down to every
    node in it, so the outermost sub-process that is in a lane decides.
    """
    ancestors = []
    parent = node.getparent()
    while parent is not None and _local(parent) != "process":
        if _local(parent) in SUBPROCESSES:
            ancestors.append(parent)
        parent = parent.getparent()
    for sub in reversed(ancestors):  # outermost first
        lane = doc_lanes.get(sub.get("id") or "")
        if lane is not None:
            return lane
    return doc_lanes.get(node.get("id") or "")


class RoutingChecks(LintState):
    """Routing checks of ``_Linter`` (see ``linter.py``): every task that waits for a
    person must reach an agency kind, by lane, candidate group, assignee, pool or the
    routing map's default (``routing.route``). Each problem names what to add to the map."""

    def check_lanes(self, process: etree._Element) -> None:
        routing = self.routing
        kinds = ", ".join(AGENCY_KINDS)
        pool = pool_names(self.root).get(process.get("id") or "")
        has_lanes = any(True for _ in process.iter(_q("lane")))
        unrouted = []
        for task in _human_tasks(process):
            lane = _effective_lane(task, self.doc_lanes)
            result = route(lane, task_groups(task), task_assignee(task), pool, routing)
            if result.kind is None:
                unrouted.append((task, result))
        if not unrouted:
            return
        lanes_by_name: dict[str | None, etree._Element] = {}
        for lane in self.root.iter(_q("lane")):
            lanes_by_name.setdefault(lane.get("name"), lane)
        reported_lanes = set()
        nameless = []
        for task, result in unrouted:
            if result.lane is not None and result.lane.strip():
                if result.lane in reported_lanes:
                    continue
                reported_lanes.add(result.lane)
                lane = lanes_by_name.get(result.lane)
                self.add(
                    "unknown-lane",
                    f"lane '{lane.get('id') if lane is not None else result.lane}' is named "
                    f"{' '.join(result.lane.split())!r}, which is not a known agency; Brobygger routes "
                    f"tasks to one of {kinds}; rename the lane (e.g. NAV, Helse, Boligkontakt, "
                    f"Kriminalomsorgen, Sykehus, Kommune) or {unrouted_fix(result)} "
                    "(the lane map: lane name -> kind)",
                    lane if lane is not None else task,
                    variant="unknown",
                    entries=", ".join(routing_entries(result)),
                    lane=" ".join(result.lane.split()),
                    kinds=kinds,
                )
            elif task.get("id") in self.doc_lanes:  # in a lane that has no name
                lane = _lane_holding(self.root, task.get("id"))
                if lane is not None and lane.get("id") not in reported_lanes:
                    reported_lanes.add(lane.get("id"))
                    self.add(
                        "unknown-lane",
                        f"lane '{lane.get('id')}' has no name; Brobygger routes tasks by the lane name to "
                        f"an agency kind ({kinds}); name the lane or {unrouted_fix(result)} (the lane map)",
                        lane,
                        variant="unnamed",
                        entries=", ".join(routing_entries(result)),
                        kinds=kinds,
                    )
            elif result.groups or result.assignee:
                self.add(
                    "unknown-group",
                    f"{_describe(task)} is for {_who(result)}, which is not an agency kind; {unrouted_fix(result)}",
                    task,
                    entries=", ".join(routing_entries(result)),
                    who=", ".join([*result.groups, *([result.assignee] if result.assignee else [])]),
                    kinds=kinds,
                )
            elif has_lanes:
                self.add(
                    "task-without-lane",
                    f"{_describe(task)} is in process '{process.get('id')}', which has lanes, but the "
                    f"task is in none of them; put it in the lane of the agency that does it, or "
                    f"{unrouted_fix(result)}",
                    task,
                    process=process.get("id") or "",
                    entries=", ".join(routing_entries(result)),
                )
            else:
                nameless.append((task, result))
        if nameless:
            tasks = [task for task, _ in nameless]
            names = _quoted_list(t.get("id") for t in tasks[:5])
            more = f" and {len(tasks) - 5} more" if len(tasks) > 5 else ""
            self.add(
                "no-lanes",
                f"process '{process.get('id')}' has tasks that wait for a person ({names}{more}) but no lane, "
                "candidate group or assignee says which agency does them; put each task in a lane "
                "named after its agency, or " + unrouted_fix(nameless[0][1]),
                process,
                tasks=f"{names}{more}",
                entries=", ".join(routing_entries(nameless[0][1])),
            )


def _lane_holding(root: etree._Element, element_id: str) -> etree._Element | None:
    for lane in root.iter(_q("lane")):
        if any((ref.text or "").strip() == element_id for ref in lane.findall(_q("flowNodeRef"))):
            return lane
    return None


def _who(result: TaskRouting) -> str:
    parts = [f"candidate group(s) {_quoted_list(result.groups)}"] if result.groups else []
    if result.assignee:
        parts.append(f"assignee '{result.assignee}'")
    return " and ".join(parts)
