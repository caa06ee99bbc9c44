"""What a gateway's path gives away (issue 11: inference through the diagram and timeline).

Which branch an exclusive or inclusive gateway took tells the value its condition read:
``has_home == True`` taken says the person has a home. For every such gateway this module
finds the names its conditions read and the elements that lie on only some of its
branches (taken or not, they show the path); elements every branch reaches (after the
branches meet) and elements before the gateway do not. A reader who may not see every
name a gateway reads sees the gateway as in progress or done, and nothing of those
elements (``workflows.selectors.path_view_for``).

A message thrown on a branch and caught in the same case (another pool of a collaboration,
or the same pool) carries the branch with it: the catch, and what follows it, happen only
when the branch was taken. Every message a throw names is taken to reach every catch of
that name in the model (SpiffWorkflow delivers by name, whatever the diagram's message
flows say), and the message flows drawn between a throw and a catch count too.

A timer whose moment is computed from case data tells that data when it fires (the
eviction process's ``days_before(eviction_date, 7)``): ``timer_paths`` treats it as a gateway
between "not yet" and "fired", whose branch is the timer and what its firing does at that
moment (``path_splits``: both together, as ``DefinitionRuntime.gateway_paths``).
"""

from __future__ import annotations

import ast
from collections.abc import Collection
from dataclasses import dataclass

from lxml import etree

from .element_needs import data_names_loaded
from .lint.model import FLOW_CONTAINERS, HUMAN_TASKS, _local, _q
from .timers import looks_like_iso_literal
from .xml import parse_bpmn_xml

GATEWAYS = frozenset({"exclusiveGateway", "inclusiveGateway", "complexGateway"})
TIMER_EXPRESSIONS = ("timeDate", "timeDuration", "timeCycle")
MESSAGE_THROWS = ("intermediateThrowEvent", "endEvent", "sendTask")
MESSAGE_CATCHES = ("intermediateCatchEvent", "boundaryEvent", "startEvent", "receiveTask")
# Where what a timer's firing does stops at its moment: work a person does, a message
# another sends (a timer reached on the way fires a known time after: it is followed).
MOMENT_STOPS = frozenset({*HUMAN_TASKS, "receiveTask", "intermediateCatchEvent", "boundaryEvent"})


@dataclass(frozen=True)
class GatewayPath:
    reads: frozenset[str]  # the names its conditions read
    branch_elements: frozenset[str]  # elements on only some of its branches


def gateway_paths(bpmn_xml: str | bytes) -> dict[str, GatewayPath]:
    """Gateway id -> what its path gives away, for every gateway whose conditions read data.
    A branch reaches on through the messages it throws (``_message_edges``)."""
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
        paths[gateway_id] = GatewayPath(reads, _elements(branch))
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
    return _timer_reads(parse_bpmn_xml(bpmn_xml))


def _timer_reads(root: etree._Element) -> dict[str, frozenset[str]]:
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


def timer_paths(bpmn_xml: str | bytes, shared: Collection[str] = frozenset()) -> dict[str, GatewayPath]:
    """Timer event id -> what its firing gives away, for every timer whose expression reads
    data other than ``shared`` (fields every participant sees): ``reads``, those names;
    ``branch_elements``, the timer and what would show when it fired: what its firing does
    at its moment (the tasks it creates, their creation and a deadline counted from it; the
    messages it throws and what their catches do then; the timers those arm, which fire a
    known time after; the activity an interrupting timer cancels), and everything reached
    only through it, as a gateway's branch (an escalation task's end, done a day after the
    moment when its deadline is a day, would tell the moment too). What the case reaches
    otherwise as well, it reaches whether the timer fired or not."""
    root = parse_bpmn_xml(bpmn_xml)
    reads = {timer: names - set(shared) for timer, names in _timer_reads(root).items()}
    if not any(reads.values()):
        return {}
    flows: dict[str, set[str]] = {}
    for flow in root.iter(_q("sequenceFlow")):
        flows.setdefault(flow.get("sourceRef") or "", set()).add(flow.get("targetRef") or "")
    boundaries: dict[str, set[str]] = {}
    for boundary in root.iter(_q("boundaryEvent")):
        boundaries.setdefault(boundary.get("attachedToRef") or "", set()).add(boundary.get("id") or "")
    messages = _message_edges(root)
    successors, inside = _graph(root)
    elements = {el.get("id"): el for el in root.iter(etree.Element) if el.get("id")}
    caught = {catch for catches in messages.values() for catch in catches}
    entries = [node for node in elements if _local(elements[node]) == "startEvent" and node not in caught]

    def is_timer(node: str) -> bool:
        element = elements.get(node)
        return element is not None and element.find(_q("timerEventDefinition")) is not None

    paths = {}
    for timer, names in reads.items():
        if not names:
            continue
        found = {timer}
        timer_element = elements.get(timer)
        if (
            timer_element is not None
            and _local(timer_element) == "boundaryEvent"
            and timer_element.get("cancelActivity", "true") != "false"
        ):
            found.add(timer_element.get("attachedToRef") or "")  # cancelled at the moment
        todo = [(node, False) for node in flows.get(timer, ())] + [(node, True) for node in messages.get(timer, ())]
        seen: set[tuple[str, bool]] = set()
        while todo:
            node, by_message = todo.pop()
            if not node or (node, by_message) in seen:
                continue
            seen.add((node, by_message))
            found.add(node)
            found |= inside.get(node, set())
            for boundary in boundaries.get(node, ()):  # armed at the moment
                found.add(boundary)
                if is_timer(boundary):
                    todo.append((boundary, True))
            element = elements.get(node)
            if element is not None and _local(element) in MOMENT_STOPS and not by_message and not is_timer(node):
                continue
            todo.extend((target, False) for target in flows.get(node, ()))
            todo.extend((target, True) for target in messages.get(node, ()))
        otherwise: set[str] = set()
        for entry in entries:
            otherwise |= _reach(entry, successors, inside, avoid=timer)
        found |= _reach(timer, successors, inside) - otherwise
        paths[timer] = GatewayPath(frozenset(names), _elements(found))
    return paths


def path_splits(bpmn_xml: str | bytes, shared: Collection[str] = frozenset()) -> dict[str, GatewayPath]:
    """What the path of a case gives away: every gateway whose conditions read data
    (``gateway_paths``) and every timer whose moment does (``timer_paths``), by id."""
    return {**gateway_paths(bpmn_xml), **timer_paths(bpmn_xml, shared)}


# The node a message name is between its throws and its catches (``_message_edges``): no
# element's id (XML has no NUL), and never in an answer (``_elements``).
_VIA = "\x00message:"


def _elements(nodes: Collection[str]) -> frozenset[str]:
    """``nodes`` without the message names' nodes (and the empty id)."""
    return frozenset(node for node in nodes if node and not node.startswith(_VIA))


def _message_edges(root: etree._Element) -> dict[str, set[str]]:
    """Throw id -> the catches in the model its message may reach: every catch (catch,
    boundary or start event, receive task) of a message the throw (throw or end event, send
    task) names, through the name's own node (``_VIA``), and the catches the diagram's
    message flows draw from it."""
    names = {message.get("id"): message.get("name") or message.get("id") for message in root.iter(_q("message"))}

    def named(element: etree._Element) -> set[str]:
        refs = [element.get("messageRef")] + [
            d.get("messageRef") for d in element.findall(_q("messageEventDefinition"))
        ]
        return {names.get(ref) or ref for ref in refs if ref}

    throws = {el.get("id") or "": named(el) for el in root.iter(*(_q(kind) for kind in MESSAGE_THROWS))}
    catches = {el.get("id") or "": named(el) for el in root.iter(*(_q(kind) for kind in MESSAGE_CATCHES))}
    # Through one node per message name (``_VIA``), not an edge from each throw to each catch:
    # those were as many as throws times catches (2,000 of each, one name: 4 million edges,
    # 1.8 s at deploy and at each worker's first use; a 5 MB model, gigabytes).
    by_name: dict[str, set[str]] = {}
    for catch, caught in catches.items():
        for name in caught:
            if catch:
                by_name.setdefault(name, set()).add(catch)
    edges: dict[str, set[str]] = {}
    for throw, thrown in throws.items():
        for name in thrown:
            if throw and by_name.get(name, set()) - {throw}:
                edges.setdefault(throw, set()).add(_VIA + name)
    for name, caught_by in by_name.items():
        edges[_VIA + name] = caught_by
    for flow in root.iter(_q("messageFlow")):
        source, target = flow.get("sourceRef") or "", flow.get("targetRef") or ""
        if source in throws and target in catches and source != target:
            edges.setdefault(source, set()).add(target)
    return edges


def _graph(root: etree._Element) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """Flow node -> the nodes next to it (its flows' targets, its boundary events, the
    catches its message reaches: ``_message_edges``), and sub-process -> every element
    inside it."""
    successors: dict[str, set[str]] = {}
    for flow in root.iter(_q("sequenceFlow")):
        successors.setdefault(flow.get("sourceRef") or "", set()).add(flow.get("targetRef") or "")
    for throw, catches in _message_edges(root).items():
        successors.setdefault(throw, set()).update(catches)
    for boundary in root.iter(_q("boundaryEvent")):
        successors.setdefault(boundary.get("attachedToRef") or "", set()).add(boundary.get("id") or "")
    inside = {}
    for container in root.iter(etree.Element):
        if _local(container) in FLOW_CONTAINERS - {"process"}:
            inside[container.get("id") or ""] = {
                el.get("id") or "" for el in container.iter(etree.Element) if el is not container and el.get("id")
            }
    return successors, inside


def _reach(start: str, edges: dict[str, set[str]], inside: dict[str, set[str]], avoid: str = "") -> set[str]:
    seen, todo = set(), [start]
    while todo:
        node = todo.pop()
        if node in seen or not node or (avoid and node == avoid):
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
