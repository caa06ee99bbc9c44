"""What a gateway's path gives away (issue 11: inference through the diagram and timeline).

Which branch an exclusive or inclusive gateway took tells the value its condition read:
``has_home == True`` taken says the person has a home. For every such gateway this module
finds the names its conditions read and the elements that lie on only some of its
branches (taken or not, they show the path); elements every branch reaches (after the
branches meet) and elements before the gateway do not. A reader who may not see every
name a gateway reads sees the gateway as in progress or done, and nothing of those
elements (``workflows.selectors.path_view_for``).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from lxml import etree

from .element_needs import data_names_loaded
from .lint.model import FLOW_CONTAINERS, HUMAN_TASKS, _local, _q
from .timers import looks_like_iso_literal
from .xml import parse_bpmn_xml

GATEWAYS = frozenset({"exclusiveGateway", "inclusiveGateway", "complexGateway"})
TIMER_EXPRESSIONS = ("timeDate", "timeDuration", "timeCycle")


@dataclass(frozen=True)
class GatewayPath:
    reads: frozenset[str]  # the names its conditions read
    branch_elements: frozenset[str]  # elements on only some of its branches


def gateway_paths(bpmn_xml: str | bytes) -> dict[str, GatewayPath]:
    """Gateway id -> what its path gives away, for every gateway whose conditions read data."""
    root = parse_bpmn_xml(bpmn_xml)
    successors, inside = _graph(root)
    predecessors: dict[str, set[str]] = {}
    for node, nexts in successors.items():
        for target in nexts:
            predecessors.setdefault(target, set()).add(node)
    paths = {}
    for gateway in root.iter(*(_q(kind) for kind in GATEWAYS)):
        gateway_id = gateway.get("id") or ""
        outgoing = [flow for flow in root.iter(_q("sequenceFlow")) if flow.get("sourceRef") == gateway_id]
        reads = frozenset(name for flow in outgoing for name in _condition_names(flow))
        if len(outgoing) < 2 or not reads:
            continue
        upstream = _reach(gateway_id, predecessors, {})
        reached = [_reach(flow.get("targetRef") or "", successors, inside) for flow in outgoing]
        common = set.intersection(*reached)
        branch = set().union(*reached) - common - upstream - {gateway_id}
        paths[gateway_id] = GatewayPath(reads, frozenset(branch))
    return paths


def timer_elements(bpmn_xml: str | bytes) -> frozenset[str]:
    """The ids of the model's events that wait on a timer (a timer's branch tells as a task's)."""
    root = parse_bpmn_xml(bpmn_xml)
    return frozenset(
        parent.get("id") or ""
        for timer in root.iter(_q("timerEventDefinition"))
        if (parent := timer.getparent()) is not None
    )


def handed_from(bpmn_xml: str | bytes) -> dict[str, frozenset[str]]:
    """Human task id -> the human tasks whose completion may create it: the nearest ones
    upstream, walking back through gateways, events and other flow nodes (a task none
    precedes, reached from the start, maps to none). Whoever did one of those hands the task
    over: its agency and person name the branch the case came by."""
    root = parse_bpmn_xml(bpmn_xml)
    successors, _inside = _graph(root)
    predecessors: dict[str, set[str]] = {}
    for node, nexts in successors.items():
        for target in nexts:
            predecessors.setdefault(target, set()).add(node)
    tasks = {el.get("id") or "" for kind in HUMAN_TASKS for el in root.iter(_q(kind))}
    found = {}
    for task in tasks:
        seen: set[str] = set()
        todo = list(predecessors.get(task, ()))
        sources = set()
        while todo:
            node = todo.pop()
            if node in seen or not node:
                continue
            seen.add(node)
            if node in tasks:
                sources.add(node)
            else:
                todo.extend(predecessors.get(node, ()))
        found[task] = frozenset(sources)
    return found


def timer_reads(bpmn_xml: str | bytes) -> dict[str, frozenset[str]]:
    """Timer event id -> the names of data its expression reads, for every timer that reads
    some (``local_datetime(days_before(eviction_date, 7), "09:00")`` reads ``eviction_date``).
    When such a timer fires is the value moved by a known amount: it tells the value as a
    gateway's branch does. An ISO-8601 literal (``P14D``, quoted or not) reads nothing."""
    root = parse_bpmn_xml(bpmn_xml)
    found = {}
    for timer in root.iter(_q("timerEventDefinition")):
        parent = timer.getparent()
        if parent is None:
            continue
        names: set[str] = set()
        for kind in TIMER_EXPRESSIONS:
            for expression in timer.iter(_q(kind)):
                text = (expression.text or "").strip()
                if text and not looks_like_iso_literal(text):
                    names |= _expression_names(text)
        if names:
            found[parent.get("id") or ""] = frozenset(names)
    return found


def _graph(root: etree._Element) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """Flow node -> the nodes next to it (its flows' targets and its boundary events), and
    sub-process -> every element inside it."""
    successors: dict[str, set[str]] = {}
    for flow in root.iter(_q("sequenceFlow")):
        successors.setdefault(flow.get("sourceRef") or "", set()).add(flow.get("targetRef") or "")
    for boundary in root.iter(_q("boundaryEvent")):
        successors.setdefault(boundary.get("attachedToRef") or "", set()).add(boundary.get("id") or "")
    inside = {}
    for container in root.iter(etree.Element):
        if _local(container) in FLOW_CONTAINERS - {"process"}:
            inside[container.get("id") or ""] = {
                el.get("id") or "" for el in container.iter(etree.Element) if el is not container and el.get("id")
            }
    return successors, inside


def _reach(start: str, edges: dict[str, set[str]], inside: dict[str, set[str]]) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        node = todo.pop()
        if node in seen or not node:
            continue
        seen.add(node)
        seen |= inside.get(node, set())
        todo.extend(edges.get(node, ()))
    return seen


def _condition_names(flow: etree._Element) -> set[str]:
    condition = flow.find(_q("conditionExpression"))
    text = (condition.text or "").strip() if condition is not None else ""
    return _expression_names(text) if text else set()


def _expression_names(text: str) -> set[str]:
    """The names of data the expression ``text`` reads (none when it does not parse)."""
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError:
        return set()
    loaded = data_names_loaded(tree)  # ``date == ...`` reads a field named date; ``date(...)`` does not
    bound = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    return loaded - bound - {"True", "False", "None"}
