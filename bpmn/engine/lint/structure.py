"""Structural checks: duplicate and reserved ids, executable processes, dangling and default flows."""

from __future__ import annotations

from collections.abc import Iterator

from lxml import etree

from ..errors import ValidationIssue
from .model import (
    CONDITIONAL_GATEWAYS,
    FLOW_CONTAINERS,
    FLOW_NODES,
    SUBPROCESSES,
    _children,
    _container_label,
    _describe,
    _local,
    _q,
    _quoted_list,
)
from .state import LintState

# Task spec names SpiffWorkflow creates itself: a flow node with such an id is silently
# replaced by (or collides with) the built-in spec, e.g. a start event with id "Start".
RESERVED_IDS = frozenset({"Start", "End", "StartEventSplit", "StartEventJoin"})
RESERVED_SUFFIXES = (".EndJoin", ".BoundaryEventSplit", ".BoundaryEventJoin", " [child]")


class StructureChecks(LintState):
    """File-wide and per-container checks of ``_Linter`` (see ``linter.py``)."""

    # file-wide ---------------------------------------------------------------------------

    def check_duplicate_ids(self) -> None:
        first: dict[str, etree._Element] = {}
        for el in self.root.iter(etree.Element):
            el_id = el.get("id")
            if el_id is None:
                continue
            if el_id in first:
                other = first[el_id]
                self.add(
                    "duplicate-id",
                    f"the id '{el_id}' is used twice: by a {etree.QName(other).localname} at "
                    f"line {other.sourceline} and by a {etree.QName(el).localname} at line "
                    f"{el.sourceline}; give one of them another id (every id in the file must be unique)",
                    el,
                    other_line=other.sourceline,
                )
            else:
                first[el_id] = el

    def check_executable(self) -> bool:
        if self.executable:
            return True
        if not self.processes:
            self.issues.append(
                ValidationIssue(
                    "no-executable-process",
                    f"the file {self.filename!r} contains no process; Brobygger needs one "
                    'bpmn:process with isExecutable="true"',
                    line=self.root.sourceline,
                    file=self.filename,
                    params={"variant": "no-process"},
                )
            )
            return False
        ids = _quoted_list(p.get("id") or "?" for p in self.processes)
        self.add(
            "no-executable-process",
            f"no process in {self.filename!r} is executable: found process {ids}, marked "
            'isExecutable="false", which makes them descriptive models only; set '
            'isExecutable="true" on the process Brobygger should run',
            self.processes[0],
            variant="none-executable",
            processes=ids,
        )
        return False

    def check_reserved_ids(self) -> None:
        for process in self.executable:
            for el in process.iter(etree.Element):
                el_id = el.get("id")
                if el_id is None or _local(el) not in FLOW_NODES:
                    continue
                if el_id in RESERVED_IDS or el_id.endswith(RESERVED_SUFFIXES):
                    self.add(
                        "reserved-id",
                        f"{_describe(el)} has an id that SpiffWorkflow uses for its own "
                        "internal steps, so the element would be silently replaced; rename it "
                        "(e.g. StartEvent_1)",
                        el,
                    )

    # per container (process or sub-process) --------------------------------------------

    def containers(self) -> Iterator[etree._Element]:
        for process in self.executable:
            yield process
            yield from process.iter(*(_q(kind) for kind in SUBPROCESSES))

    def check_container(self, container: etree._Element) -> None:
        nodes: dict[str, etree._Element] = {}
        flows: list[etree._Element] = []
        for kind, child in _children(container):
            if kind == "sequenceFlow":
                flows.append(child)
            elif kind in FLOW_NODES and child.get("id"):
                nodes.setdefault(child.get("id"), child)
        flows_by_id = {flow.get("id"): flow for flow in flows if flow.get("id")}
        outgoing: dict[str, list[etree._Element]] = {}
        edges: dict[str, set[str]] = {node_id: set() for node_id in nodes}
        where = _container_label(container)

        for flow in flows:
            ends = {}
            for attr, word in (("sourceRef", "source"), ("targetRef", "target")):
                ref = (flow.get(attr) or "").strip()
                if not ref:
                    self.add(
                        "dangling-flow",
                        f"{_describe(flow)} has no {attr}; connect it to an element of {where} (a sequence flow "
                        "connects two)",
                        flow,
                        variant="no-end",
                        attribute=attr,
                    )
                elif ref not in nodes:
                    message, variant = self._dangling(flow, word, ref, where)
                    self.add("dangling-flow", message, flow, variant=variant, attribute=attr, ref=ref)
                else:
                    ends[attr] = ref
            if "sourceRef" in ends:
                outgoing.setdefault(ends["sourceRef"], []).append(flow)
            if len(ends) == 2:
                edges[ends["sourceRef"]].add(ends["targetRef"])

        # A boundary event leaves the activity it is attached to.
        for node_id, node in nodes.items():
            if _local(node) == "boundaryEvent":
                attached = node.get("attachedToRef")
                if attached in edges:
                    edges[attached].add(node_id)

        for node_id, node in nodes.items():
            self.check_default(node, outgoing.get(node_id, []), flows_by_id)
            if _local(node) in CONDITIONAL_GATEWAYS:
                self.check_gateway(node, outgoing.get(node_id, []))
        for flow in flows:
            self.check_condition_syntax(flow)
        self.check_cycles(container, nodes, edges)

    def _dangling(self, flow: etree._Element, word: str, ref: str, where: str) -> tuple[str, str]:
        """The message and its variant (``ISSUE_CODES``)."""
        target = self.ids.get(ref)
        base = f"{_describe(flow)} has the {word} '{ref}'"
        if target is None:
            return f"{base}, but no element with that id exists in {where}; connect it to an element there", "unknown"
        container = target.getparent()
        if _local(target) not in FLOW_NODES:
            return (
                f"{base}, which is a {etree.QName(target).localname}, not a task, event or gateway; "
                "connect it to a task, event or gateway"
            ), "not-a-node"
        elsewhere = _container_label(container) if _local(container) in FLOW_CONTAINERS else None
        return (
            f"{base}, but that element is in {elsewhere or 'another part of the file'}, not in "
            f"{where}; a sequence flow cannot leave its process or sub-process: draw it inside one, "
            "or use a message between pools or an event that ends the sub-process"
        ), "other-container"

    def check_default(
        self, node: etree._Element, outgoing: list[etree._Element], flows_by_id: dict[str, etree._Element]
    ) -> None:
        default = node.get("default")
        if default is None:
            return
        default = default.strip()
        if default not in flows_by_id:
            self.add(
                "invalid-default-flow",
                f"{_describe(node)} names '{default}' as its default flow, but there is no "
                "sequence flow with that id next to it",
                node,
                variant="unknown",
                flow=default,
            )
        elif flows_by_id[default] not in outgoing:
            self.add(
                "invalid-default-flow",
                f"{_describe(node)} names '{default}' as its default flow, but that sequence "
                f"flow does not leave {_describe(node)}",
                node,
                variant="not-outgoing",
                flow=default,
            )
