"""Lanes: which agency a task is routed to, as SpiffWorkflow resolves it, and the lane checks."""

from __future__ import annotations

from collections.abc import Mapping

from lxml import etree

from ..lanes import AGENCY_KINDS, resolve_lane_kind
from .model import SUBPROCESSES, _describe, _human_tasks, _local, _q, _quoted_list

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


class RoutingChecks:
    """Lane checks of ``_Linter`` (see ``linter.py``)."""

    def check_lanes(self, process) -> None:
        lanes = list(process.iter(_q("lane")))
        tasks = list(_human_tasks(process))
        kinds = ", ".join(AGENCY_KINDS)
        if not lanes:
            if tasks:
                names = _quoted_list(t.get("id") for t in tasks[:5])
                more = f" and {len(tasks) - 5} more" if len(tasks) > 5 else ""
                self.add(
                    "no-lanes",
                    f"process '{process.get('id')}' has user or manual tasks ({names}{more}) "
                    "but no lanes; Brobygger routes every task to an agency by its lane, so "
                    "put each task in a lane named after the agency that does it",
                    process,
                )
            return
        for lane in lanes:
            name = lane.get("name")
            if name and name.strip() and resolve_lane_kind(name, self.lane_map) is not None:
                continue
            is_leaf = lane.find(_q("childLaneSet")) is None
            routes = any(
                self.doc_lanes.get((ref.text or "").strip()) == name
                for ref in lane.findall(_q("flowNodeRef"))
            )
            if not (is_leaf or routes):
                continue  # a parent lane whose own name never reaches a task
            if not name or not name.strip():
                self.add(
                    "unknown-lane",
                    f"lane '{lane.get('id')}' has no name; Brobygger routes tasks by the lane "
                    f"name to an agency kind ({kinds}); name the lane or give a lane map at "
                    "deploy",
                    lane,
                )
            else:
                self.add(
                    "unknown-lane",
                    f"lane '{lane.get('id')}' is named {' '.join(name.split())!r}, which is not a "
                    f"known agency; Brobygger routes tasks by lane to one of {kinds}; rename "
                    "the lane (e.g. NAV, Helse, Boligkontakt, Kriminalomsorgen, Sykehus, "
                    "Kommune) or give a lane map at deploy (lane name -> kind)",
                    lane,
                )
        for task in tasks:
            if _effective_lane(task, self.doc_lanes) is None:
                self.add(
                    "task-without-lane",
                    f"{_describe(task)} is in process '{process.get('id')}', which has "
                    "lanes, but the task is in none of them; put it in the lane of the agency "
                    "that does it",
                    task,
                )
