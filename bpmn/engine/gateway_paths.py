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
flows say), and the message flows drawn between a throw and a catch count too. A boundary
event such a throw sets off lies on the branch, with what it leads to and, interrupting, its
activity (``_caught_on_branches``).

A call activity is a sub-process whose elements are another process's (of the model's file,
or of a file deployed with it: ``with_called``): on a branch, what the called process does
lies on the branch too (its tasks told a reader the branch the call was on), and a gateway
inside it splits like one of the model's own.

A timer whose moment is computed from case data tells that data when it fires (the
eviction process's ``days_before(eviction_date, 7)``): ``timer_paths`` treats it as a gateway
between "not yet" and "fired", whose branch is the timer and what its firing does at that
moment (``path_splits``: both together, as ``DefinitionRuntime.gateway_paths``).
"""

from __future__ import annotations

import ast
import copy
from bisect import bisect_left
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeAlias

from lxml import etree

from .element_needs import data_names_loaded, names_set_by, script_sources, with_sources
from .lint.model import FLOW_CONTAINERS, HUMAN_TASKS, SPIFF_NS, _local, _q
from .message_payloads import catch_correlation_reads, payload_reads
from .timers import looks_like_iso_literal
from .xml import parse_bpmn_xml

GATEWAYS = frozenset({"exclusiveGateway", "inclusiveGateway", "complexGateway"})
TIMER_EXPRESSIONS = ("timeDate", "timeDuration", "timeCycle")
MESSAGE_THROWS = ("intermediateThrowEvent", "endEvent", "sendTask")
MESSAGE_CATCHES = ("intermediateCatchEvent", "boundaryEvent", "startEvent", "receiveTask")
# Event definition -> (the element it refers to, the attribute that names it for a catch).
SIGNAL_LIKE = {
    "signalEventDefinition": ("signal", "name"),
    "escalationEventDefinition": ("escalation", "escalationCode"),
    "errorEventDefinition": ("error", "errorCode"),
    # A transaction's cancel end event is caught by the cancel boundary event on it: it names
    # nothing, so every cancel throw reaches every cancel catch (the safe side). Until
    # h-attack38 none did, and a cancel end on a branch inside a transaction set off the task
    # after its cancel boundary on no branch.
    "cancelEventDefinition": ("cancel", "name"),
}
# Where what a timer's firing does stops at its moment: work a person does, a message
# another sends (a timer reached on the way fires a known time after: it is followed).
MOMENT_STOPS = frozenset({*HUMAN_TASKS, "receiveTask", "intermediateCatchEvent", "boundaryEvent"})


# A model as the functions here take it: its text, or a document already parsed (``with_called``).
Model: TypeAlias = str | bytes | etree._Element
Sources: TypeAlias = dict[str, frozenset[str]]  # name -> the names of data it may carry


def model_root(bpmn_xml: Model) -> etree._Element:
    """The model's ``definitions`` element (a parsed one as it is: read, never changed here)."""
    return bpmn_xml if isinstance(bpmn_xml, etree._Element) else parse_bpmn_xml(bpmn_xml)


def with_called(bpmn_xml: Model, called: Iterable[str | bytes]) -> Model:
    """The model with the processes (and messages, signals, ...) of ``called``, the files its
    call activities call (``ProcessDefinition.called_json``), as one document: what a case
    of it runs through. The model itself when there are none. An element of a called file
    whose id an element read before has takes another id here (``_rename_taken``)."""
    called = list(called)
    if not called:
        return bpmn_xml
    root = copy.deepcopy(model_root(bpmn_xml))
    taken = {element.get("id") for element in root.iter(etree.Element) if element.get("id")}
    for index, text in enumerate(called, start=1):
        file_root = parse_bpmn_xml(text)
        _rename_taken(file_root, taken, index)
        taken |= {element.get("id") for element in file_root.iter(etree.Element) if element.get("id")}
        for child in list(file_root):  # (appended elsewhere, each leaves the file's root)
            if isinstance(child.tag, str) and _local(child) != "BPMNDiagram":
                root.append(child)
    return root


# Where an element names another by id (attributes), and the children whose text is an id.
_ID_REFERENCES = (
    "sourceRef",
    "targetRef",
    "attachedToRef",
    "default",
    "messageRef",
    "signalRef",
    "errorRef",
    "escalationRef",
)
_ID_TEXTS = frozenset({"incoming", "outgoing", "flowNodeRef"})
# Elements that keep their id, shared or not: a process (a call activity names it; which of
# two of one id a case runs is the engine's), and data, named in expressions by its id.
_KEEP_ID = frozenset(
    {"definitions", "process", "dataObject", "dataObjectReference", "dataStoreReference", "dataInput", "dataOutput"}
)
# What a shared id takes: ``@called-N`` for a start or end event (apart in every answer, as
# deploy lets them share an id), ``@shared-N`` for another element (the answers name it by
# the id it shares: ``original_id``).
_SHARED = "@shared-"


def _rename_taken(file_root: etree._Element, taken: set[str], index: int) -> None:
    """An element of a called file whose id an element read before has, and what names it,
    take another id in this document (never in what runs).

    bpmn-js names every new diagram's start ``StartEvent_1``, so a called file often shares it
    with its caller (deployed so: ``definition._ids_shared_with_called`` lets start and end
    events share an id). Joined by id, the called process's flows would leave the model's own
    start and its tasks be reached without the branch that calls them. Versions deployed
    before that check refused other shared ids share tasks, flows, gateways too (their
    analysis joined them: a task after the called process's namesake was reached from the
    model's, on every branch); and messages, signals and errors, outside any process, may
    still share one (``Message_1`` of two names: a throw in one file was taken for the other
    file's message). An answer names a renamed start or end event by its new id, as before,
    and another element by the id it shares (``original_id``): both of that id are hidden
    where either is, as a task of that id in a case may be either."""
    renamed = {}
    for element in file_root.iter(etree.Element):
        element_id = element.get("id")
        if element_id not in taken or _local(element) in _KEEP_ID:
            continue
        events = _local(element) in ("startEvent", "endEvent")
        renamed[element_id] = f"{element_id}@called-{index}" if events else f"{element_id}{_SHARED}{index}"
    if not renamed:
        return
    for element in file_root.iter(etree.Element):
        if element.get("id") in renamed and _local(element) not in _KEEP_ID:
            element.set("id", renamed[element.get("id")])
        for attribute in _ID_REFERENCES:
            if element.get(attribute) in renamed:
                element.set(attribute, renamed[element.get(attribute)])
        if _local(element) in _ID_TEXTS and (element.text or "").strip() in renamed:
            element.text = renamed[(element.text or "").strip()]


def original_id(element_id: str) -> str:
    """The id an element of a called file shares with another (``_rename_taken``)."""
    return element_id.split(_SHARED, 1)[0] if _SHARED in element_id else element_id


def _originals(paths: dict[str, GatewayPath]) -> dict[str, GatewayPath]:
    """``paths`` by the ids elements share (``original_id``): of two of one id, what either
    reads and what lies on either's branches."""
    if not any(_SHARED in key or any(_SHARED in e for e in path.branch_elements) for key, path in paths.items()):
        return paths
    found: dict[str, GatewayPath] = {}
    for key, path in paths.items():
        elements = frozenset(original_id(element) for element in path.branch_elements)
        before = found.get(original_id(key))
        if before is None:
            found[original_id(key)] = GatewayPath(path.reads, elements)
        else:
            found[original_id(key)] = GatewayPath(before.reads | path.reads, before.branch_elements | elements)
    return found


@dataclass(frozen=True)
class GatewayPath:
    reads: frozenset[str]  # the names its conditions read
    branch_elements: frozenset[str]  # elements on only some of its branches


def gateway_paths(bpmn_xml: Model, sources: Sources | None = None) -> dict[str, GatewayPath]:
    """Gateway id -> what its path gives away, for every gateway whose conditions read data.
    A branch reaches on through the messages it throws (``_message_edges``). ``sources``:
    what each name carries (default: the model's ``script_sources``; ``paths_and_sources``
    gives what a name set on a branch carries too).

    What a branch reaches (``_Reach``) is its target, the elements inside each sub-process it
    reaches, and on through every node next to one it reaches; the gateway's branch elements
    are what some branch reaches but not every one, less the gateway and what reaches it.
    A boundary event that only a throw on the branch sets off lies on the branch with what
    it leads to (``_caught_on_branches``)."""
    root = model_root(bpmn_xml)
    successors, inside = _graph(root)
    splits = _gateway_splits(root, sources)
    if not splits:
        return {}
    return _caught_on_branches(root, _branch_paths(splits, successors, inside), splits, successors, inside)


def _gateway_splits(root: etree._Element, sources: Sources | None) -> dict[str, tuple[frozenset[str], list[str]]]:
    """Gateway id -> (the names its conditions read, its flows' targets), for every gateway
    of two flows or more whose conditions read data."""
    # Each gateway's outgoing flows, in document order, found in one pass over the flows: a
    # pass per gateway was as many lxml steps as gateways times flows (1,500 gateways: 6 s).
    leaving: dict[str | None, list[etree._Element]] = {}
    for flow in root.iter(_q("sequenceFlow")):
        leaving.setdefault(flow.get("sourceRef"), []).append(flow)
    splits: dict[str, tuple[frozenset[str], list[str]]] = {}
    if sources is None:
        sources = script_sources(root)  # a script's variable carries what it was computed from
    for gateway in root.iter(*(_q(kind) for kind in GATEWAYS)):
        gateway_id = gateway.get("id") or ""
        outgoing = leaving.get(gateway_id, [])
        reads = with_sources((name for flow in outgoing for name in _condition_names(flow)), sources)
        if len(outgoing) >= 2 and reads:
            splits[gateway_id] = (reads, [flow.get("targetRef") or "" for flow in outgoing])
    return splits


def _branch_paths(
    splits: dict[str, tuple[frozenset[str], list[str]]], successors: dict[str, set[str]], inside: dict[str, set[str]]
) -> dict[str, GatewayPath]:
    """Each gateway's path by what its branches reach in the graph (``gateway_paths``)."""
    if not _closed(successors, inside):  # a walk per branch (``_closed``)
        return _walked_gateway_paths(splits, successors, inside)
    # A gateway without an id reaches no node (no flow names it) and nothing reaches it: it
    # stands for itself as a node no element's id can be, whose nodes next are its targets.
    keys = {gateway: gateway or _NO_ID for gateway in splits}
    if "" in splits:
        successors = {**successors, _NO_ID: set(splits[""][1])}
    graph = _Reach(successors, inside, keys.values())
    upstream = graph.upstream({graph.index[key] for key in keys.values()})
    found: dict[int, set[str]] = {}  # as ids at once: a set of bits is as long as the model

    def visit(node: int, reach_of: Callable[[int], int]) -> None:
        reached = [reach_of(graph.index[target]) if target else 0 for target in splits[wanted[node]][1]]
        union, common = 0, reached[0]
        for bits in reached:
            union |= bits
            common &= bits
        found[node] = graph.ids(union & ~common & ~upstream[node])

    wanted = {graph.index[key]: gateway for gateway, key in keys.items()}
    graph.forward(set(wanted), visit)
    return {
        gateway: GatewayPath(reads, _elements(found[graph.index[keys[gateway]]]))
        for gateway, (reads, _targets) in splits.items()
    }


@dataclass(frozen=True)
class _Caught:
    activity: str  # the activity a boundary event is attached to ("": a catch on a flow)
    throws: frozenset[str]  # the model's throws whose event it catches
    interrupting: bool
    # An event sub-process's start: the event sub-process (its ``activity``, the sub-process
    # or process holding it, which an interrupting one cancels).
    container: str = ""


def _caught_events(root: etree._Element) -> dict[str, _Caught]:
    """Boundary event, intermediate catch event or receive task id -> what sets it off, for
    every one a throw of the model reaches (a message, a signal, an escalation, an error:
    ``_message_edges``)."""
    kinds = ("boundaryEvent", "intermediateCatchEvent", "receiveTask", "startEvent")
    boundaries = [
        boundary
        for boundary in root.iter(*(_q(kind) for kind in kinds))
        if boundary.get("id") and (_local(boundary) != "startEvent" or _event_sub_process(boundary) is not None)
    ]
    if not boundaries:
        return {}
    before: dict[str, set[str]] = {}  # node -> the throws and message names' nodes leading to it
    for node, targets in _message_edges(root).items():
        for target in targets:
            before.setdefault(target, set()).add(node)
    # A name's throws, one set for all its catches (3,000 throws and catches of one name: not
    # a set of 3,000 for each catch).
    named = {node: frozenset(throws) for node, throws in before.items() if node.startswith(_VIA)}
    throws: dict[str, frozenset[str]] = {}
    for boundary in boundaries:
        boundary_id = boundary.get("id") or ""
        sources = before.get(boundary_id, set())
        if len(sources) == 1 and next(iter(sources)) in named:
            shared = named[next(iter(sources))]
            throws[boundary_id] = shared - {boundary_id} if boundary_id in shared else shared
            continue
        found_throws: set[str] = set()
        for node in sources:
            found_throws |= named.get(node, frozenset()) if node.startswith(_VIA) else {node}
        throws[boundary_id] = frozenset(found_throws - {boundary_id})
    found = {}
    for boundary in boundaries:
        boundary_id = boundary.get("id") or ""
        if throws.get(boundary_id):
            container = _event_sub_process(boundary)
            if container is not None:  # it cancels what holds it, unless said not to
                holder = container.getparent()
                found[boundary_id] = _Caught(
                    (holder.get("id") or "") if holder is not None else "",
                    throws[boundary_id],
                    boundary.get("isInterrupting") != "false",
                    container.get("id") or "",
                )
                continue
            found[boundary_id] = _Caught(
                boundary.get("attachedToRef") or "",
                throws[boundary_id],
                # An error or cancel boundary event always interrupts (BPMN); others unless said not to.
                _local(boundary) == "boundaryEvent"
                and (
                    boundary.find(_q("errorEventDefinition")) is not None
                    or boundary.find(_q("cancelEventDefinition")) is not None
                    or boundary.get("cancelActivity") != "false"
                ),
            )
    return found


def _event_sub_process(start: etree._Element) -> etree._Element | None:
    """The event sub-process ``start`` begins, if it is the start of one."""
    parent = start.getparent()
    if _local(start) == "startEvent" and parent is not None and _local(parent) == "subProcess":
        return parent if parent.get("triggeredByEvent") == "true" else None
    return None


def _holders(root: etree._Element, inside: dict[str, set[str]]) -> dict[str, set[str]]:
    """``inside``, and each process -> every element in it (an interrupting event
    sub-process cancels what its process does)."""
    return {**{process.get("id") or "": _contents(process) for process in root.iter(_q("process"))}, **inside}


def _caught_on_branches(
    root: etree._Element,
    paths: dict[str, GatewayPath],
    splits: dict[str, tuple[frozenset[str], list[str]]],
    successors: dict[str, set[str]],
    inside: dict[str, set[str]],
) -> dict[str, GatewayPath]:
    """``paths`` with what an event caught from a gateway's branch gives away.

    The graph leads from an activity to each of its boundary events: reached where the
    activity is. A boundary event that catches a message, signal, escalation or error does not
    fire there, but when a throw of it comes: where every throw of its event lies on the
    gateway's branches, it fires only on those, and the activity reached on every branch (the
    branches meet before a task whose boundary a throw on one of them interrupts) made it and
    what it leads to count as reached on every branch: NAV's urgent task after it was shown.
    For such a gateway the branches are walked again, the boundary reached by its throws
    alone; an interrupting one's activity is on the branch too (cancelled, or not, it tells
    the branch, as a timer's: ``timer_paths``), and when the throw is inside that activity
    (an error end event), what follows the activity is reached by its other ends only (the
    ordinary branch's next task is never made when the error ends it). So too a catch event on
    a flow (after the branches meet, or an event-based gateway) whose every throw lies on the
    branches: it waits on every branch, and goes on only where the throw came."""
    caught = _caught_events(root)
    if not caught:
        return paths
    entered = _entered(successors, inside)
    ends = {end.get("id") or "" for end in root.iter(_q("endEvent"))}
    boundaries = {boundary.get("id") or "" for boundary in root.iter(_q("boundaryEvent"))}
    alternatives = _event_alternatives(root)
    holders = _holders(root, inside)
    by_throws: dict[frozenset[str], list[str]] = {}  # (catches of one name share one set)
    for catch, how in caught.items():
        by_throws.setdefault(how.throws, []).append(catch)
    before: dict[str, set[str]] = {}
    for node, nexts in successors.items():
        for target in nexts:
            before.setdefault(target, set()).add(node)
    fast = _caught_on_branches_at_once(
        paths, splits, caught, successors, before, inside, ends, boundaries, alternatives, holders
    )
    if fast is not None:
        return fast
    found = dict(paths)
    for gateway, path in paths.items():
        branch = set(path.branch_elements)
        done: set[str] = set()
        while dependent := {c for throws, cs in by_throws.items() if throws <= branch for c in cs} - done:
            done |= dependent
            edges, others = _cut_caught(successors, before, inside, caught, done, ends, boundaries, alternatives)
            predecessors: dict[str, set[str]] = {}
            for node, nexts in edges.items():
                for target in nexts:
                    predecessors.setdefault(target, set()).add(node)
            upstream = _reach(gateway, predecessors, {}) if gateway else set()
            reached = [_reach(target, edges, inside, entered=entered) for target in splits[gateway][1]]
            # A branch that throws none of a catch's events comes, instead, to what the case
            # does when it never comes (``others``): an event-based gateway's other events, an
            # interrupting boundary's activity ending as usual.
            for way in reached:
                for catch in done:
                    if not caught[catch].throws & way:
                        way |= _reach_all(others.get(catch, ()), edges, inside, entered)
            branch |= set().union(*reached) - reached[0].intersection(*reached[1:]) - upstream - {gateway}
            branch |= set().union(*others.values()) - upstream - {gateway}
            branch |= _caught_activities(caught, done, holders, inside) - upstream - {gateway}
        found[gateway] = GatewayPath(path.reads, _elements(branch))
    return found


def _caught_activities(
    caught: dict[str, _Caught], done: Collection[str], holders: dict[str, set[str]], inside: dict[str, set[str]]
) -> set[str]:
    """What the catches ``done`` set off besides what they lead to: an event sub-process's
    elements (held inside what holds it, reached wherever that is), and the activity an
    interrupting one cancels with what is inside it (cancelled, or not, it tells the branch)."""
    found: set[str] = set()
    for catch in done:
        how = caught[catch]
        if how.container:
            found |= {how.container} | holders.get(how.container, set())
        if how.interrupting and how.activity:
            found |= holders.get(how.activity, set())
            if how.activity in inside or how.activity not in holders:  # (a process is no element)
                found.add(how.activity)
    return found


def _caught_on_branches_at_once(
    paths: dict[str, GatewayPath],
    splits: dict[str, tuple[frozenset[str], list[str]]],
    caught: dict[str, _Caught],
    successors: dict[str, set[str]],
    before: dict[str, set[str]],
    inside: dict[str, set[str]],
    ends: Collection[str],
    boundaries: Collection[str],
    alternatives: dict[str, set[str]],
    holders: dict[str, set[str]],
) -> dict[str, GatewayPath] | None:
    """``_caught_on_branches`` on one graph for every gateway (None: it needs the walks, as
    something inside a sub-process leads out, ``_closed``): the catches whose every throw
    lies on some gateway's branches cut from what else leads to them. A walk per branch of
    each such gateway was as many steps as gateways times nodes (600 gateways each with a
    boundary its branch sets off: 5 s)."""
    union = set().union(*(path.branch_elements for path in paths.values()))
    cut = {c for c, how in caught.items() if how.throws <= union}
    if not cut:
        return dict(paths)
    edges, others = _cut_caught(successors, before, inside, caught, cut, ends, boundaries, alternatives)
    if not _closed(edges, inside) or "" in splits:
        return None
    instead_nodes = set().union(*others.values())
    targets = {target for _reads, targets in splits.values() for target in targets if target}
    graph = _Reach(edges, inside, [*splits, *targets, *instead_nodes])
    reach: dict[str, int] = {}
    wanted = {graph.index[node]: node for node in (*targets, *instead_nodes)}

    def visit(node: int, reach_of: Callable[[int], int]) -> None:
        reach[wanted[node]] = reach_of(node)

    graph.forward(set(wanted), visit)
    upstream = graph.upstream({graph.index[gateway] for gateway in splits})
    throws_bits = {c: _bits(graph, caught[c].throws) for c in cut}
    found = dict(paths)
    for gateway, path in paths.items():
        branch = set(path.branch_elements)
        done: set[str] = set()
        while dependent := {c for c in cut if caught[c].throws <= branch} - done:
            done |= dependent
            branch |= _added_on_branches(graph, reach, upstream, throws_bits, splits, gateway, done, others)
            branch |= _caught_activities(caught, done, holders, inside) - graph.ids(upstream[graph.index[gateway]])
            branch -= {gateway}
        if done:
            found[gateway] = GatewayPath(path.reads, _elements(branch))
    return found


def _added_on_branches(
    graph: _Reach,
    reach: dict[str, int],
    upstream: dict[int, int],
    throws_bits: dict[str, int],
    splits: dict[str, tuple[frozenset[str], list[str]]],
    gateway: str,
    done: Collection[str],
    others: dict[str, set[str]],
) -> set[str]:
    """What some branch of ``gateway`` reaches and another does not, in the cut graph, a branch
    that throws none of a catch's events coming to what the case does instead (``others``)."""
    reached = [reach.get(target, 0) if target else 0 for target in splits[gateway][1]]
    for index, bits in enumerate(reached):
        for catch in done:
            if not bits & throws_bits[catch]:
                for node in others.get(catch, ()):
                    reached[index] |= reach.get(node, 0)
    union_bits, common = 0, reached[0]
    for bits in reached:
        union_bits |= bits
        common &= bits
    up = upstream[graph.index[gateway]]
    added = graph.ids(union_bits & ~common & ~up)
    added |= set().union(*(others.get(c, set()) for c in done)) - graph.ids(up)
    return added


def _bits(graph: _Reach, nodes: Collection[str]) -> int:
    bits = 0
    for node in nodes:
        if node in graph.index:
            bits |= 1 << graph.bit[graph.index[node]]
    return bits


def _event_alternatives(root: etree._Element) -> dict[str, set[str]]:
    """Event id -> the other events an event-based gateway before it waits for beside it."""
    leaving: dict[str, set[str]] = {}
    for flow in root.iter(_q("sequenceFlow")):
        leaving.setdefault(flow.get("sourceRef") or "", set()).add(flow.get("targetRef") or "")
    found: dict[str, set[str]] = {}
    for gateway in root.iter(_q("eventBasedGateway")):
        targets = leaving.get(gateway.get("id") or "", set()) - {""}
        for target in targets:
            found.setdefault(target, set()).update(targets - {target})
    return found


def _reach_all(
    starts: Iterable[str],
    edges: dict[str, set[str]],
    inside: dict[str, set[str]],
    entered: dict[str, set[str]],
    avoid: str = "",
) -> set[str]:
    """What any of ``starts`` reaches (``_reach``)."""
    found: set[str] = set()
    for start in starts:
        found |= _reach(start, edges, inside, avoid=avoid, entered=entered)
    return found


def _cut_caught(
    successors: dict[str, set[str]],
    before: dict[str, set[str]],
    inside: dict[str, set[str]],
    caught: dict[str, _Caught],
    done: Collection[str],
    ends: Collection[str],
    boundaries: Collection[str],
    alternatives: dict[str, set[str]],
) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """``_cut`` for the catches ``done`` (each set off by throws on a branch only), and what
    the case comes to when one of them is never set off (catch -> those nodes), cut from the
    edges too, so that only a branch that throws none of its events reaches them: the other
    events of an event-based gateway before a catch (its timer fires where no message came),
    and the way on of the activity an interrupting boundary event is attached to when the
    throw is not inside it (a race: thrown on a parallel path, it may come after the activity
    ended, or cancel it; what follows the activity as usual tells which)."""
    edges = _cut(successors, before, inside, {c: caught[c] for c in done}, ends, boundaries)
    others: dict[str, set[str]] = {}
    for catch in done:
        how = caught[catch]
        if not how.activity:
            for other in alternatives.get(catch, ()):
                for node in before.get(other, ()):
                    edges.get(node, set()).discard(other)
                others.setdefault(catch, set()).add(other)
        elif how.interrupting and not how.throws & inside.get(how.activity, set()):
            leaving = edges.get(how.activity, set()) - set(boundaries)
            edges[how.activity] = edges.get(how.activity, set()) - leaving
            others.setdefault(catch, set()).update(leaving)
    return edges, others


def _cut(
    successors: dict[str, set[str]],
    before: dict[str, set[str]],
    inside: dict[str, set[str]],
    caught: dict[str, _Caught],
    ends: Collection[str],
    boundaries: Collection[str],
) -> dict[str, set[str]]:
    """``successors`` without the edges from an activity to the boundary events of ``caught``
    and the flows to its other catches (reached by their throws alone); and an activity that
    such an interrupting event thrown inside it may end leaves by its flows only from the end
    events (``ends``) directly inside it that throw none of them: its flows' targets are next
    to those ends, not to it. ``before``: node -> the nodes ``successors`` leads to it from."""
    edges = {node: set(nexts) for node, nexts in successors.items()}
    for boundary, how in caught.items():
        if how.activity:
            edges.get(how.activity, set()).discard(boundary)
            continue
        for node in before.get(boundary, ()):  # but from its throws, by name or message flow
            if not node.startswith(_VIA) and node not in how.throws:
                edges[node].discard(boundary)
    for activity in {how.activity for how in caught.values()} - {""}:
        elements = inside.get(activity, set())
        thrown = {
            throw for how in caught.values() if how.activity == activity and how.interrupting for throw in how.throws
        }
        if not thrown & elements:
            continue
        nested = set().union(*(inside[element] for element in elements if element in inside))
        leaving = edges.get(activity, set()) - set(boundaries)
        edges[activity] = edges.get(activity, set()) - leaving
        for end in (elements - nested - thrown) & set(ends):
            edges.setdefault(end, set()).update(leaving)
    return edges


def _walked_gateway_paths(
    splits: dict[str, tuple[frozenset[str], list[str]]], successors: dict[str, set[str]], inside: dict[str, set[str]]
) -> dict[str, GatewayPath]:
    """``gateway_paths`` by a walk from each branch and one back from each gateway."""
    entered = _entered(successors, inside)
    predecessors: dict[str, set[str]] = {}
    for node, nexts in successors.items():
        for target in nexts:
            predecessors.setdefault(target, set()).add(node)
    paths = {}
    for gateway, (reads, targets) in splits.items():
        upstream = _reach(gateway, predecessors, {})
        reached = [_reach(target, successors, inside, entered=entered) for target in targets]
        branch = set().union(*reached) - reached[0].intersection(*reached[1:]) - upstream - {gateway}
        paths[gateway] = GatewayPath(reads, _elements(branch))
    return paths


def timer_elements(bpmn_xml: Model) -> frozenset[str]:
    """The ids of the model's events that wait on a timer (a timer's branch tells as a task's)."""
    root = model_root(bpmn_xml)
    return frozenset(
        original_id(parent.get("id") or "")
        for timer in root.iter(_q("timerEventDefinition"))
        if (parent := timer.getparent()) is not None
    )


def handed_from(bpmn_xml: Model) -> dict[str, frozenset[str]]:
    """Human task id -> the human tasks whose completion may create it: the nearest ones
    upstream, walking back through gateways, events and other flow nodes (a task none
    precedes, reached from the start, maps to none). Whoever did one of those hands the task
    over: its agency and person name the branch the case came by.

    A sub-process or call activity upstream is walked through: any human task inside it may
    be the last one done before the case leaves it (its hospital task handed NAV's task over
    on one branch, the health service's assessment on the other), and a task inside it that
    nothing inside precedes is handed over by what precedes the container."""
    root = model_root(bpmn_xml)
    successors, inside = _graph(root)
    predecessors: dict[str, set[str]] = {}
    for node, nexts in successors.items():
        for target in nexts:
            predecessors.setdefault(target, set()).add(node)
    entered: dict[str, set[str]] = {}  # an element nothing inside precedes -> its containers
    for container, elements in inside.items():
        for element in elements:
            if not predecessors.get(element):
                entered.setdefault(element, set()).add(container)
    tasks = {el.get("id") or "" for kind in HUMAN_TASKS for el in root.iter(_q(kind))}
    found = {}
    for task in tasks:
        seen: set[tuple[str, bool]] = set()
        # (node, whether the walk enters it from inside: then what is in it came after)
        todo = [(node, False) for node in predecessors.get(task, ())]
        todo += [(container, True) for container in entered.get(task, ())]
        sources = set()
        while todo:
            node, from_inside = todo.pop()
            if (node, from_inside) in seen or not node:
                continue
            seen.add((node, from_inside))
            if node in tasks and not from_inside:
                sources.add(node)
                continue
            if not from_inside:
                sources |= inside.get(node, set()) & tasks
            todo += [(before, False) for before in predecessors.get(node, ())]
            todo += [(container, True) for container in entered.get(node, ())]
        found[task] = frozenset(sources)
    return _by_original(found)


def timer_reads(bpmn_xml: Model, sources: Sources | None = None) -> dict[str, frozenset[str]]:
    """Timer event id -> the names of data its expression reads, for every timer that reads
    some (``local_datetime(days_before(eviction_date, 7), "09:00")`` reads ``eviction_date``).
    When such a timer fires is the value moved by a known amount: it tells the value as a
    gateway's branch does. An ISO-8601 literal (``P14D``, quoted or not) reads nothing."""
    return _by_original(_timer_reads(model_root(bpmn_xml), sources))


def _by_original(found: dict[str, frozenset[str]]) -> dict[str, frozenset[str]]:
    """``found`` by the ids elements share (``original_id``), in keys and values: of two of
    one id, what either has."""
    if not any(_SHARED in key or any(_SHARED in value for value in values) for key, values in found.items()):
        return found
    merged: dict[str, set[str]] = {}
    for key, values in found.items():
        merged.setdefault(original_id(key), set()).update(original_id(value) for value in values)
    return {key: frozenset(values) for key, values in merged.items()}


def _timer_reads(root: etree._Element, sources: Sources | None = None) -> dict[str, frozenset[str]]:
    found = {}
    if sources is None:
        sources = script_sources(root)  # a script's variable carries what it was computed from
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
            found[parent.get("id") or ""] = with_sources(names, sources)
    return found


def _conditional_reads(root: etree._Element, sources: Sources | None = None) -> dict[str, frozenset[str]]:
    """Conditional event id -> the names of data its condition reads."""
    if sources is None:
        sources = script_sources(root)
    found = {}
    for definition in root.iter(_q("conditionalEventDefinition")):
        event = definition.getparent()
        names: set[str] = set()
        for condition in definition.iter(_q("condition")):
            names |= _expression_names((condition.text or "").strip())
        if event is not None and names:
            found[event.get("id") or ""] = with_sources(names, sources)
    return found


def _correlation_reads(root: etree._Element, sources: Sources | None = None) -> dict[str, frozenset[str]]:
    """Message catch id -> the names of data whether it catches reads: a catch whose message's
    correlation values are computed from data catches only a message whose values equal those
    its process holds (``message_payloads.catch_correlation_reads``), so it fires, or never,
    as a conditional event on that data does (h-attack38)."""
    if root.find(f".//{_q('correlationProperty')}") is None and not any(
        True for _ in root.iter(f"{{{SPIFF_NS}}}processVariableCorrelation")
    ):
        return {}
    if sources is None:
        sources = script_sources(root)
    return catch_correlation_reads(root, payload_reads(root, sources), sources)


def timer_paths(
    bpmn_xml: Model, shared: Collection[str] = frozenset(), sources: Sources | None = None
) -> dict[str, GatewayPath]:
    """``_timer_paths`` with, for a message catch whose correlation reads data, the model's
    throws of its message: a throw its process catches leaves the case no message (no "message
    sent" on the timeline, no message to another case, no failed delivery), one it does not
    catch does, so whether it went out tells what the catch's correlation read (h-attack38)."""
    root = model_root(bpmn_xml)
    paths = _timer_paths(root, shared, sources)
    correlated = _correlation_reads(root, sources).keys() & paths.keys()
    if not correlated:
        return paths
    caught = _caught_events(root)
    found = dict(paths)
    for catch in correlated:
        throws = caught[catch].throws if catch in caught else frozenset()
        if throws:
            path = found[catch]
            found[catch] = GatewayPath(path.reads, _elements(path.branch_elements | throws))
    return found


def _timer_paths(
    bpmn_xml: Model, shared: Collection[str] = frozenset(), sources: Sources | None = None
) -> dict[str, GatewayPath]:
    """Timer event id -> what its firing gives away, for every timer whose expression reads
    data other than ``shared`` (fields every participant sees), and every conditional event
    whose condition does (``_conditional_reads``): ``reads``, those names;
    ``branch_elements``, the timer and what would show when it fired: what its firing does
    at its moment (the tasks it creates, their creation and a deadline counted from it; the
    messages it throws and what their catches do then; the timers those arm, which fire a
    known time after; the activity an interrupting timer cancels), and everything reached
    only through it, as a gateway's branch (an escalation task's end, done a day after the
    moment when its deadline is a day, would tell the moment too). What the case reaches
    otherwise as well, it reaches whether the timer fired or not."""
    root = model_root(bpmn_xml)
    # A conditional event fires at the moment its condition holds: a timer whose moment is
    # the data's (``needs_treatment == True`` made NAV's task after it, or never). So does a
    # message catch whose correlation is computed from data (``_correlation_reads``).
    timed: dict[str, frozenset[str]] = {}
    for kind in (_timer_reads(root, sources), _conditional_reads(root, sources), _correlation_reads(root, sources)):
        for event, names in kind.items():
            timed[event] = timed.get(event, frozenset()) | names
    reads = {timer: names - set(shared) for timer, names in timed.items()}
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
    # Where a case begins: a process's own start, not one inside a sub-process or a process a
    # call activity calls (entered only through them: what is inside one that only the timer's
    # firing leads to is reached through the timer alone), nor one a message starts.
    contained = set().union(*inside.values())
    called = {call.get("calledElement") for call in root.iter(_q("callActivity"))}
    entries = [
        node
        for node, element in elements.items()
        if _local(element) == "startEvent"
        and node not in caught
        and node not in contained
        and (element.getparent() is None or element.getparent().get("id") not in called)
    ]

    def is_timer(node: str) -> bool:
        element = elements.get(node)
        return element is not None and element.find(_q("timerEventDefinition")) is not None

    moments: dict[str, set[str]] = {}  # timer -> the timer and what its firing does at its moment
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
            cancelled = timer_element.get("attachedToRef") or ""
            found.add(cancelled)  # cancelled at the moment, and what is inside it with it
            found |= inside.get(cancelled, set())
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
        moments[timer] = found
    if not _closed(successors, inside):  # walks per entry (``_closed``)
        paths = {}
        entered = _entered(successors, inside)
        for timer, found in moments.items():
            otherwise: set[str] = set()
            for entry in entries:
                otherwise |= _reach(entry, successors, inside, avoid=timer, entered=entered)
            found |= _reach(timer, successors, inside, entered=entered) - otherwise
            paths[timer] = GatewayPath(frozenset(reads[timer]), _elements(found))
        paths = _timer_alternatives(root, paths, successors, inside)
        return _caught_on_timer_branches(root, paths, successors, inside, entries)
    # What the case reaches otherwise, had the timer not fired: what its entries reach on any
    # path that does not pass the timer (and the elements inside the sub-processes those
    # are). The nodes on no such path are those the timer dominates (every path from an entry
    # to them passes it): its subtree of the dominator tree, one range of bits (``_Reach``).
    graph = _Reach(successors, inside, list(moments), entries)
    wanted = {graph.index[timer]: timer for timer in moments if timer}
    fired: dict[str, set[str]] = {}  # as ids at once: a set of bits is as long as the model

    def visit(node: int, reach_of: Callable[[int], int]) -> None:
        fired[wanted[node]] = graph.ids(reach_of(node) & ~graph.otherwise(node))

    graph.forward(set(wanted), visit)
    paths = {
        timer: GatewayPath(frozenset(reads[timer]), _elements(found | fired.get(timer, set())))
        for timer, found in moments.items()
    }
    return _caught_on_timer_branches(
        root, _timer_alternatives(root, paths, successors, inside), successors, inside, entries
    )


def _timer_alternatives(
    root: etree._Element, paths: dict[str, GatewayPath], successors: dict[str, set[str]], inside: dict[str, set[str]]
) -> dict[str, GatewayPath]:
    """``paths`` (``timer_paths``) with the other events an event-based gateway waits for
    beside a data timer, and what the case reaches only through them: the timer's firing
    withdraws them at its moment (what the case waits for lost the message's name at 09:00 a
    week before the masked date), and the task after one, made only while the timer had not
    fired, bounds the moment (2026-12-06, h-paths3). Only what nothing else leads to (every
    node before it among them), so a join after the two shows; a node in a loop after them
    counts, its nodes leading to one another (until 2026-12-06, h-paths4, a node was taken
    only once every node before it was, so a loop and what follows it lay on no branch)."""
    alternatives = _event_alternatives(root)
    if not alternatives or not paths.keys() & alternatives.keys():
        return paths
    before: dict[str, set[str]] = {}
    for node, nexts in successors.items():
        for target in nexts:
            before.setdefault(target, set()).add(node)
    found = dict(paths)
    for timer, path in paths.items():
        others = alternatives.get(timer, set())
        if not others:
            continue
        region = _only_through(others, successors, before)
        for node in list(region):
            region |= inside.get(node, set())
        found[timer] = GatewayPath(path.reads, _elements(path.branch_elements | region))
    return found


def _only_through(starts: Collection[str], successors: dict[str, set[str]], before: dict[str, set[str]]) -> set[str]:
    """``starts`` and what only they lead to: of what they reach, the largest part every node
    of which (but ``starts``) has all the nodes before it in that part. What a node outside
    leads to is taken out, and what only that led to after it, so a node in a loop stays when
    the loop is entered from ``starts`` alone."""
    region = set(starts)
    todo = [target for start in starts for target in successors.get(start, ())]
    while todo:
        node = todo.pop()
        if node and node not in region:
            region.add(node)
            todo.extend(successors.get(node, ()))
    todo = list(region - set(starts))
    while todo:
        node = todo.pop()
        if node in region and node not in starts and not before.get(node, set()) <= region:
            region.discard(node)
            todo.extend(target for target in successors.get(node, ()) if target in region)
    return region


def _caught_on_timer_branches(
    root: etree._Element,
    paths: dict[str, GatewayPath],
    successors: dict[str, set[str]],
    inside: dict[str, set[str]],
    entries: Collection[str],
) -> dict[str, GatewayPath]:
    """``paths`` (``timer_paths``) with what an event caught from a timer's branch gives away,
    as ``_caught_on_branches`` for a gateway's: a boundary event (or a catch on a flow) whose
    every throw lies on the timer's branch (beyond the first task its firing makes: a signal
    the escalation task's agency throws when done) fires only when the timer has, and what
    it leads to, an interrupting one's activity, an event-based gateway's other events beside
    it and what the activity does as usual tell the timer's moment. Before, the graph's edge
    from the activity reached the boundary wherever the activity was: NAV's urgent task after
    it showed the housing coordinator that the masked date had come."""
    caught = _caught_events(root)
    if not caught or not paths:
        return paths
    ends = {end.get("id") or "" for end in root.iter(_q("endEvent"))}
    boundaries = {boundary.get("id") or "" for boundary in root.iter(_q("boundaryEvent"))}
    alternatives = _event_alternatives(root)
    holders = _holders(root, inside)
    before: dict[str, set[str]] = {}
    for node, nexts in successors.items():
        for target in nexts:
            before.setdefault(target, set()).add(node)
    # One graph for every timer: the catches whose every throw lies on some timer's branch
    # cut from what else leads to them (a walk from the entries per timer was as many steps
    # as timers times nodes: 600 timers, 4 s). A timer's branch takes what its firing
    # reaches in it and the entries do not, without passing it (``_Reach.otherwise``).
    union = set().union(*(path.branch_elements for path in paths.values()))
    cut = {c for c, how in caught.items() if how.throws <= union}
    if not cut:
        return paths
    edges, others = _cut_caught(successors, before, inside, caught, cut, ends, boundaries, alternatives)
    instead_nodes = set().union(*others.values())
    if not _closed(edges, inside):
        return _walked_caught_on_timer_branches(paths, caught, edges, others, inside, entries, holders)
    graph = _Reach(edges, inside, [*paths, *instead_nodes], entries)
    reach: dict[str, int] = {}
    wanted = {graph.index[node]: node for node in (*paths, *instead_nodes) if node}

    def visit(node: int, reach_of: Callable[[int], int]) -> None:
        reach[wanted[node]] = reach_of(node)

    graph.forward(set(wanted), visit)
    found = dict(paths)
    for timer, path in paths.items():
        done = {c for c in cut if caught[c].throws <= path.branch_elements}
        if not done:
            continue
        at = graph.index[timer]
        otherwise = graph.otherwise(at)
        fired = reach.get(timer, 0)
        instead = 0
        for node in set().union(*(others.get(c, set()) for c in done)):
            instead |= reach.get(node, 0)
        branch = set(path.branch_elements) | graph.ids((fired | instead) & ~otherwise)
        branch |= set().union(*(others.get(c, set()) for c in done))
        branch |= _caught_activities(caught, done, holders, inside) - {timer}
        found[timer] = GatewayPath(path.reads, _elements(branch))
    return found


def _walked_caught_on_timer_branches(
    paths: dict[str, GatewayPath],
    caught: dict[str, _Caught],
    edges: dict[str, set[str]],
    others: dict[str, set[str]],
    inside: dict[str, set[str]],
    entries: Collection[str],
    holders: dict[str, set[str]],
) -> dict[str, GatewayPath]:
    """``_caught_on_timer_branches`` by walks, when something inside a sub-process leads out."""
    entered = _entered(edges, inside)
    found = dict(paths)
    for timer, path in paths.items():
        done = {c for c, how in caught.items() if how.throws <= path.branch_elements}
        if not done:
            continue
        otherwise = _reach_all(entries, edges, inside, entered, avoid=timer)
        starts = {timer} | set().union(*(others.get(c, set()) for c in done))
        branch = set(path.branch_elements) | (_reach_all(starts, edges, inside, entered, avoid="") - otherwise)
        branch |= set().union(*(others.get(c, set()) for c in done))
        branch |= _caught_activities(caught, done, holders, inside) - {timer}
        found[timer] = GatewayPath(path.reads, _elements(branch))
    return found


def path_splits(
    bpmn_xml: Model, shared: Collection[str] = frozenset(), writes: Mapping[str, Collection[str]] | None = None
) -> dict[str, GatewayPath]:
    """What the path of a case gives away: every gateway whose conditions read data
    (``gateway_paths``), every timer whose moment does (``timer_paths``) and every activity
    whose count of instances does (``loop_paths``), by id (``paths_and_sources``)."""
    return paths_and_sources(bpmn_xml, shared, writes)[0]


def paths_and_sources(
    bpmn_xml: Model, shared: Collection[str] = frozenset(), writes: Mapping[str, Collection[str]] | None = None
) -> tuple[dict[str, GatewayPath], Sources]:
    """``path_splits``, and name -> the names of data it may carry, wherever it is read.

    A name carries what a script computes it from (``script_sources``; with the processes its
    call activities call, ``with_called``: a called process's data is copied back into its
    caller's when it ends). And a name set on a split's branch (by a script or a catch there,
    or inside the process a call activity there calls, or, ``writes``: element id -> the
    fields it writes (``element_writes``), by a user task's form, a message catch's declared
    fields or a service task's outputs) carries what the split reads: ``home_found = False``
    on the branch a diagnosis chose tells the diagnosis to whoever sees ``home_found``, and so
    does ``treatment_home_plan``, which only that branch's housing task writes. Reading such a
    name makes a split of its own read that too, whose branches may set names in turn:
    repeated until nothing grows (most models: once). Without ``writes`` a form field carried
    only its own category (until 2026-12-06: a gateway after the branches met on
    ``treatment_home_plan`` listed its tasks to NAV in the lists across cases)."""
    root = model_root(bpmn_xml)
    base = script_sources(root)
    set_by = _names_set_with_calls(root)
    if writes:
        set_by = {
            element: frozenset(set_by.get(element, ())) | frozenset(writes.get(element, ()))
            for element in set_by.keys() | writes.keys()
        }
    sources = base
    while True:
        splits = _terminated_on_branches(
            root,
            {
                **gateway_paths(root, sources),
                **timer_paths(root, shared, sources),
                **loop_paths(root, shared, sources),
            },
        )
        widened = {name: set(names) for name, names in base.items()}
        for path in splits.values():
            for element in path.branch_elements & set_by.keys():
                for name in set_by[element]:
                    widened.setdefault(name, set()).update(path.reads - {name})
        found = {name: frozenset(names) for name, names in widened.items() if names}
        if found == sources:
            return _originals(splits), sources
        sources = found


def _terminated_on_branches(root: etree._Element, paths: dict[str, GatewayPath]) -> dict[str, GatewayPath]:
    """``paths`` with what a terminate end event on a split's branch ends: everything its
    process (or sub-process) does on its other paths, but what comes before the split. It ends
    them at once: NAV's waiting task on a parallel path, cancelled on the treatment branch and
    open (then its next task) on the other, told the branch (2026-12-06, h-paths3)."""
    terminates = {
        end.get("id") or "": end.getparent()
        for end in root.iter(_q("endEvent"))
        if end.find(_q("terminateEventDefinition")) is not None and end.getparent() is not None
    }
    if not terminates or not any(path.branch_elements & terminates.keys() for path in paths.values()):
        return paths
    successors, _inside = _graph(root)
    predecessors: dict[str, set[str]] = {}
    for node, nexts in successors.items():
        for target in nexts:
            predecessors.setdefault(target, set()).add(node)
    found = dict(paths)
    for split, path in paths.items():
        ends = path.branch_elements & terminates.keys()
        if not ends:
            continue
        upstream = _reach(split, predecessors, {})
        ended = set().union(*(_contents(terminates[end]) for end in ends))
        found[split] = GatewayPath(path.reads, _elements(path.branch_elements | (ended - upstream - {split})))
    return found


def _names_set_with_calls(root: etree._Element) -> dict[str, frozenset[str]]:
    """Element id -> the names having run sets (``names_set_by``); a call activity's are
    every name its process sets, and those of the processes it calls in turn."""
    set_by = {element: set(names) for element, names in names_set_by(root).items()}
    per_process: dict[str, set[str]] = {}
    calls: dict[str, set[str]] = {}  # process id -> the processes its call activities call
    activities: dict[str, str] = {}  # call activity id -> its process
    for process in root.iter(_q("process")):
        process_id = process.get("id") or ""
        set_here = per_process.setdefault(process_id, set())
        for element in process.iter(etree.Element):
            set_here.update(set_by.get(element.get("id") or "", ()))
        for activity in process.iter(_q("callActivity")):
            called = activity.get("calledElement") or ""
            calls.setdefault(process_id, set()).add(called)
            activities[activity.get("id") or ""] = called
    for activity, process_id in activities.items():
        seen, todo = set(), [process_id]
        while todo:
            current = todo.pop()
            if current in seen:
                continue
            seen.add(current)
            set_by.setdefault(activity, set()).update(per_process.get(current, ()))
            todo.extend(calls.get(current, ()))
    return {element: frozenset(names) for element, names in set_by.items() if names}


def loop_paths(
    bpmn_xml: Model, shared: Collection[str] = frozenset(), sources: Sources | None = None
) -> dict[str, GatewayPath]:
    """Activity id -> what its loop gives away, for every multi-instance or loop whose count
    reads data other than ``shared`` (and every ad-hoc sub-process whose completion condition
    does: when it ends, cancelling what still runs inside it): how many tasks it makes (``loopCardinality``, the items
    of ``loopDataInputRef``) and when it stops (``completionCondition``, ``loopCondition``)
    tell the value read, as a gateway's branch does (``2 if needs_treatment else 1`` tasks
    for NAV told the housing coordinator the health value). Its branch is the activity itself
    and, for a sub-process or a call activity, every element inside it (the tasks it makes):
    a reader who may not see what it reads is told nothing of its tasks, as of a hidden timer's
    (never drawn); what follows it, the case reaches whatever the count."""
    root = model_root(bpmn_xml)
    if sources is None:
        sources = script_sources(root)
    _successors, inside = _graph(root)
    found = {}
    for loop in root.iter(_q("multiInstanceLoopCharacteristics"), _q("standardLoopCharacteristics")):
        activity = loop.getparent()
        activity_id = activity.get("id") if activity is not None else None
        names: set[str] = set()
        for tag in ("loopCardinality", "completionCondition", "loopCondition"):
            for expression in loop.iter(_q(tag)):
                names |= _expression_names((expression.text or "").strip())
        names |= {(ref.text or "").strip() for ref in loop.iter(_q("loopDataInputRef"))} - {""}
        reads = with_sources(names, sources) - set(shared) if names else frozenset()
        if activity_id and reads:
            # A sub-process's or a call activity's elements are made as many times as it is.
            found[activity_id] = GatewayPath(reads, _elements({activity_id, *inside.get(activity_id, ())}))
    # An ad-hoc sub-process ends, cancelling what still runs inside it (unless it says not to),
    # when its completion condition holds after any of its tasks (SpiffWorkflow's
    # ``AdHocSubprocessSpec.path_complete``): whether the housing office's task inside it was
    # cancelled when the health service's was done told the value the condition read, as a
    # loop's count does (h-attack38).
    for ad_hoc in root.iter(_q("adHocSubProcess")):
        activity_id = ad_hoc.get("id")
        names = set()
        for condition in ad_hoc.findall(_q("completionCondition")):
            names |= _expression_names((condition.text or "").strip())
        reads = with_sources(names, sources) - set(shared) if names else frozenset()
        if activity_id and reads:
            earlier = found.get(activity_id)
            if earlier is not None:
                reads = reads | earlier.reads
            found[activity_id] = GatewayPath(reads, _elements({activity_id, *inside.get(activity_id, ())}))
    return found


# The node a message name is between its throws and its catches (``_message_edges``): no
# element's id (XML has no NUL), and never in an answer (``_elements``).
_VIA = "\x00message:"
# The node a gateway without an id is (``gateway_paths``): no element's id either.
_NO_ID = "\x00gateway"


def _elements(nodes: Collection[str]) -> frozenset[str]:
    """``nodes`` without the message names' nodes, the node of a gateway without an id (no
    element's id starts with NUL) and the empty id."""
    return frozenset(node for node in nodes if node and not node.startswith("\x00"))


def element_writes(
    bpmn_xml: Model,
    user_tasks: Mapping[str, Mapping[str, Any] | None],
    forms: Mapping[str, Mapping[str, Any] | None],
    message_rules: Mapping[str, Mapping[str, Any] | None],
    service_tasks: Mapping[str, Mapping[str, Any] | None],
) -> dict[str, frozenset[str]]:
    """Element id -> the case-data fields it writes, from a version's compiled metadata: a user
    task its form's fields, a message catch the fields its message declares (``message_rules``),
    a service task its outputs, else its form's fields. ``paths_and_sources(writes=)`` and
    ``DefinitionRuntime.branch_writers`` read it."""

    def form_fields(declared: Mapping[str, Any] | None) -> Iterable[str]:
        form = forms.get((declared or {}).get("form") or "") or {}
        return (form.get("properties") or {}).keys()

    writes: dict[str, set[str]] = {}
    for element, task in user_tasks.items():
        writes.setdefault(element, set()).update(form_fields(task))
    if message_rules:
        for element, names in message_catch_names(bpmn_xml).items():
            for name in names:
                writes.setdefault(element, set()).update((message_rules.get(name) or {}).get("fields") or ())
    for element, declared in service_tasks.items():  # its outputs, else its form's fields
        writes.setdefault(element, set()).update((declared or {}).get("outputs") or form_fields(declared))
    return {element: frozenset(names) for element, names in writes.items() if names}


def message_catch_names(bpmn_xml: Model) -> dict[str, frozenset[str]]:
    """Catch id (catch, boundary or start event, receive task) -> the names of the messages
    it waits for."""
    root = model_root(bpmn_xml)
    names = {message.get("id"): message.get("name") or message.get("id") for message in root.iter(_q("message"))}
    found = {}
    for catch in root.iter(*(_q(kind) for kind in MESSAGE_CATCHES)):
        refs = [catch.get("messageRef")] + [d.get("messageRef") for d in catch.findall(_q("messageEventDefinition"))]
        caught = frozenset(names.get(ref) or ref for ref in refs if ref)
        if caught:
            found[catch.get("id") or ""] = caught
    return found


def message_throw_names(bpmn_xml: Model) -> dict[str, frozenset[str]]:
    """Throw id (throw or end event, send task) -> the names of the messages it throws."""
    root = model_root(bpmn_xml)
    names = {message.get("id"): message.get("name") or message.get("id") for message in root.iter(_q("message"))}
    found = {}
    for throw in root.iter(*(_q(kind) for kind in MESSAGE_THROWS)):
        refs = [throw.get("messageRef")] + [d.get("messageRef") for d in throw.findall(_q("messageEventDefinition"))]
        thrown = frozenset(names.get(ref) or ref for ref in refs if ref)
        if thrown:
            found[original_id(throw.get("id") or "")] = thrown
    return found


def _message_edges(root: etree._Element) -> dict[str, set[str]]:
    """Throw id -> the catches in the model its message may reach: every catch (catch,
    boundary or start event, receive task) of a message the throw (throw or end event, send
    task) names, through the name's own node (``_VIA``), and the catches the diagram's
    message flows draw from it."""
    names = {message.get("id"): message.get("name") or message.get("id") for message in root.iter(_q("message"))}
    # Signals, escalations and errors go from a throw to their catches as a message does
    # (SpiffWorkflow delivers a signal to every catch of its name, an error or escalation to
    # the catches of its code and to those naming none): a branch throwing one reaches what
    # its catch does. Each kind by its own names, apart from the messages'.
    codes: dict[str, dict[str, str]] = {}
    for kind, attribute in SIGNAL_LIKE.values():
        codes[kind] = {
            el.get("id") or "": el.get(attribute) or el.get("name") or el.get("id") or "" for el in root.iter(_q(kind))
        }

    def named(element: etree._Element, *, throwing: bool) -> set[str]:
        refs = [element.get("messageRef")] + [
            d.get("messageRef") for d in element.findall(_q("messageEventDefinition"))
        ]
        found = {names.get(ref) or ref for ref in refs if ref}
        for tag, (kind, _attribute) in SIGNAL_LIKE.items():
            for definition in element.findall(_q(tag)):
                ref = definition.get(f"{kind}Ref")
                code = codes[kind].get(ref or "", ref or "")
                if kind == "signal":
                    found.add(f"\x00signal:{code}")
                elif code and throwing:  # reaches the catches of its code and those of none
                    found |= {f"\x00{kind}:{code}", f"\x00{kind}:"}
                elif throwing:  # one of no code: any catch of its kind may take it
                    found |= {f"\x00{kind}:{other}" for other in (*codes[kind].values(), "")}
                else:
                    found.add(f"\x00{kind}:{code}")
        return found

    throws = {el.get("id") or "": named(el, throwing=True) for el in root.iter(*(_q(kind) for kind in MESSAGE_THROWS))}
    catches = {
        el.get("id") or "": named(el, throwing=False) for el in root.iter(*(_q(kind) for kind in MESSAGE_CATCHES))
    }
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
            inside[container.get("id") or ""] = _contents(container)
    # A call activity holds what the process it calls does (when the document has it).
    processes = {process.get("id"): process for process in root.iter(_q("process")) if process.get("id")}
    for call in root.iter(_q("callActivity")):
        called = processes.get(call.get("calledElement") or "")
        if called is not None and call.get("id"):
            inside[call.get("id")] = _contents(called)
    return successors, _nested(inside)


def _contents(container: etree._Element) -> set[str]:
    return {el.get("id") or "" for el in container.iter(etree.Element) if el is not container and el.get("id")}


def _nested(inside: dict[str, set[str]]) -> dict[str, set[str]]:
    """``inside`` with what each container holds through the containers inside it: a call
    activity in a sub-process, a process called from a called process."""
    found: dict[str, set[str]] = {}

    def expand(container: str, path: frozenset[str]) -> set[str]:
        if container in found:
            return found[container]
        elements = set(inside[container])
        for element in inside[container]:
            if element in inside and element not in path:  # (a recursive call: lint refuses it)
                elements |= expand(element, path | {element})
        found[container] = elements
        return elements

    for container in inside:
        expand(container, frozenset({container}))
    return found


def _closed(successors: dict[str, set[str]], inside: dict[str, set[str]]) -> bool:
    """Whether nothing inside a sub-process leads out of it (no message thrown inside one
    reaches a catch, no flow crosses its edge). ``_Reach`` takes in what is inside a
    sub-process a node reaches without walking on from it: when nothing inside leads out,
    that is all it reaches. Otherwise the walks (``_reach``) answer."""
    return all(
        target in elements or not target
        for elements in inside.values()
        for node in elements
        for target in successors.get(node, ())
    )


def _entered(successors: dict[str, set[str]], inside: dict[str, set[str]]) -> dict[str, set[str]]:
    """Sub-process (or call activity) -> where a walk that reaches it goes on inside: the
    elements directly in it (not in a sub-process within) that no node leads to (its start,
    an event sub-process, ...); all of them when none is such."""
    targets = {target for nexts in successors.values() for target in nexts}
    found = {}
    for container, elements in inside.items():
        nested = set().union(*(inside[element] for element in elements if element in inside))
        direct = elements - nested
        found[container] = {element for element in direct if element not in targets} or direct
    return found


def _reach(
    start: str,
    edges: dict[str, set[str]],
    inside: dict[str, set[str]],
    avoid: str = "",
    entered: dict[str, set[str]] | None = None,
) -> set[str]:
    """What ``start`` reaches: every node a walk on ``edges`` comes to (never through
    ``avoid``), and the elements inside each sub-process it comes to. Inside those the walk
    goes on from where the sub-process is entered (``entered``): what a message thrown inside
    a call activity on a branch sets off elsewhere (a catch in another called file) is reached
    too. (Before, the walk took in the elements inside without walking on from them: such a
    catch, and the tasks after it, lay on no branch.)"""
    seen: set[str] = set()
    walked: set[str] = set()
    todo = [start]
    while todo:
        node = todo.pop()
        if node in walked or not node or (avoid and node == avoid):
            continue
        walked.add(node)
        seen.add(node)
        if node in inside:
            seen |= inside[node]
            if entered is not None:
                todo.extend(entered.get(node, ()))
        todo.extend(edges.get(node, ()))
    return seen


class _Reach:
    """What each node reaches in the flow graph (``_graph``: ``successors``, and ``inside``
    each sub-process), for every start at once: a walk from each gateway's branch or each
    timer was as many steps as gateways times nodes (1,500 gateways, 3,000 timers: 18 s each).

    A node reaches itself, the elements inside it (a sub-process) and what every node next to
    it reaches. Nodes that reach each other (a loop) reach the same: the graph's strongly
    connected components (Tarjan), each reaching itself and the components next to it, taken
    sinks first so that each is computed once from its successors'. A set of nodes is a
    Python int, bit ``bit[node]`` set for each: a union is one ``|`` over machine words. A
    component's set is dropped when every component before it has used it (a long chain keeps
    a few, not one per node).

    ``entries`` given, the bits follow the dominator tree from the entries (``otherwise``).
    """

    def __init__(
        self,
        successors: dict[str, set[str]],
        inside: dict[str, set[str]],
        starts: Collection[str],
        entries: Collection[str] = (),
    ) -> None:
        self.index: dict[str, int] = {}
        names: list[str] = []

        def number(node: str) -> int:
            if node not in self.index:
                self.index[node] = len(names)
                names.append(node)
            return self.index[node]

        # The empty id is no node: no walk takes it (a flow without a target goes nowhere).
        edges = [
            (number(node), number(target))
            for node, targets in successors.items()
            if node
            for target in targets
            if target
        ]
        contents = {
            number(container): [number(element) for element in elements]
            for container, elements in inside.items()
            if container
        }
        for start in (*starts, *entries):
            if start:
                number(start)
        size = len(names)
        nexts: list[list[int]] = [[] for _ in range(size)]
        for source, target in edges:
            nexts[source].append(target)
        self.components, self.component = _components(nexts)
        roots = [self.index[entry] for entry in entries if entry]
        self.span: dict[int, tuple[int, int]] = {}  # node -> its dominator subtree's positions
        self.reached = 0  # the positions the entries reach: 0 to this
        # Without entries, the components' order: a chain's neighbours get neighbouring bits.
        order = self._dominators(nexts, roots) if roots else [n for members in self.components for n in members]
        self.bit = [0] * size
        for position, at in enumerate(order):
            self.bit[at] = position
        self.names = [names[at] for at in order]
        self.inside = [0] * size
        for container, elements in contents.items():
            for element in elements:
                self.inside[container] |= 1 << self.bit[element]
        # The sub-processes the entries reach, by position, and the elements inside those
        # before each (``prefix``) and from each on (``suffix``), for ``otherwise``.
        containers = sorted(
            (self.bit[container], bits)
            for container, bits in enumerate(self.inside)
            if bits and self.bit[container] < self.reached
        )
        self.positions = [position for position, _bits in containers]
        self.prefix, self.suffix = [0], [0]
        for _position, bits in containers:
            self.prefix.append(self.prefix[-1] | bits)
        for _position, bits in reversed(containers):
            self.suffix.append(self.suffix[-1] | bits)
        self.suffix.reverse()
        self.after: list[set[int]] = [set() for _ in self.components]  # component -> those next
        self.before: list[set[int]] = [set() for _ in self.components]
        for source, target in edges:
            leaving, reached = self.component[source], self.component[target]
            if leaving != reached:
                self.after[leaving].add(reached)
                self.before[reached].add(leaving)

    def forward(self, wanted: Collection[int], visit: Callable[[int, Callable[[int], int]], None]) -> None:
        """Call ``visit(node, reach_of)`` for each wanted node, when ``reach_of`` gives what
        that node and every node next to it reach (their sets are kept until then)."""
        reach: dict[int, int] = {}
        waiting = [len(before) for before in self.before]
        for component, members in enumerate(self.components):  # sinks first (Tarjan)
            bits = 0
            for node in members:
                bits |= 1 << self.bit[node] | self.inside[node]
            for reached in self.after[component]:
                bits |= reach[reached]
            reach[component] = bits
            for node in members:
                if node in wanted:
                    visit(node, lambda node: reach[self.component[node]])
            for reached in self.after[component]:
                waiting[reached] -= 1
                if not waiting[reached]:
                    del reach[reached]
            if not waiting[component]:
                del reach[component]

    def upstream(self, wanted: Collection[int]) -> dict[int, int]:
        """Wanted node -> the nodes that reach it by the graph's edges, and itself (the
        elements inside a sub-process do not: a walk back enters none)."""
        found = {}
        back: dict[int, int] = {}
        waiting = [len(after) for after in self.after]
        for component in reversed(range(len(self.components))):  # sources first
            bits = 0
            for node in self.components[component]:
                bits |= 1 << self.bit[node]
            for source in self.before[component]:
                bits |= back[source]
            back[component] = bits
            for node in self.components[component]:
                if node in wanted:
                    found[node] = bits
            for source in self.before[component]:
                waiting[source] -= 1
                if not waiting[source]:
                    del back[source]
            if not waiting[component]:
                del back[component]
        return found

    def _dominators(self, nexts: list[list[int]], roots: list[int]) -> list[int]:
        """The nodes in preorder of the dominator tree from ``roots`` (node A dominates B when
        every path from a root to B passes A), then those no root reaches; and for
        ``otherwise``, each reached node's subtree as a range of those positions, the
        positions reached and the sub-processes among them. Cooper, Harvey and Kennedy's
        iterative algorithm ("A Simple, Fast Dominance Algorithm", 2001)."""
        size = len(nexts)
        top = size  # a node before every root, so that the roots have one
        postorder: list[int] = []
        number = [-1] * (size + 1)
        visited = [False] * (size + 1)
        visited[top] = True
        work = [(top, iter(roots))]
        while work:
            node, todo = work[-1]
            for target in todo:
                if not visited[target]:
                    visited[target] = True
                    work.append((target, iter(nexts[target])))
                    break
            else:
                work.pop()
                number[node] = len(postorder)
                postorder.append(node)
        before: list[list[int]] = [[] for _ in range(size + 1)]
        for node in postorder:
            for target in roots if node == top else nexts[node]:
                before[target].append(node)
        idom = [-1] * (size + 1)
        idom[top] = top
        changed = True
        while changed:
            changed = False
            for node in reversed(postorder):
                if node == top:
                    continue
                new = -1
                for source in before[node]:
                    if idom[source] == -1:
                        continue
                    if new == -1:
                        new = source
                        continue
                    one, two = source, new
                    while one != two:
                        while number[one] < number[two]:
                            one = idom[one]
                        while number[two] < number[one]:
                            two = idom[two]
                    new = one
                if idom[node] != new:
                    idom[node] = new
                    changed = True
        children: list[list[int]] = [[] for _ in range(size + 1)]
        for node in reversed(postorder):
            if node != top:
                children[idom[node]].append(node)
        order: list[int] = []
        stack = [(top, False)]
        while stack:
            node, done = stack.pop()
            if done:
                self.span[node] = (self.span[node][0], len(order))
                continue
            self.span[node] = (len(order), 0)
            if node != top:
                order.append(node)
            stack.append((node, True))
            stack.extend((child, False) for child in reversed(children[node]))
        self.reached = len(order)
        order.extend(node for node in range(size) if not visited[node])
        return order

    def otherwise(self, node: int) -> int:
        """What the entries reach on paths that do not pass ``node``: every node they reach
        but those ``node`` dominates (``_dominators``), and the elements inside the
        sub-processes among them."""
        low, high = self.span.get(node, (self.reached, self.reached))  # no root reaches it: none
        reached = ((1 << low) - 1) | ((1 << self.reached) - (1 << high))
        before = self.prefix[bisect_left(self.positions, low)]
        return reached | before | self.suffix[bisect_left(self.positions, high)]

    def ids(self, bits: int) -> set[str]:
        """The nodes of a set (from its lowest bit: a branch's nodes have bits near each other)."""
        if not bits:
            return set()
        low = (bits & -bits).bit_length() - 1
        text = bin(bits >> low)[:1:-1]
        found = set()
        at = text.find("1")
        while at != -1:
            found.add(self.names[low + at])
            at = text.find("1", at + 1)
        return found


def _components(nexts: list[list[int]]) -> tuple[list[list[int]], list[int]]:
    """The strongly connected components of the graph (Tarjan's algorithm, without recursion),
    each after every component it reaches, and node -> its component."""
    size = len(nexts)
    order, low, component = [-1] * size, [0] * size, [-1] * size
    on_stack = [False] * size
    stack: list[int] = []
    components: list[list[int]] = []
    counter = 0
    for start in range(size):
        if order[start] != -1:
            continue
        order[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack[start] = True
        work = [(start, 0)]
        while work:
            node, at = work[-1]
            if at < len(nexts[node]):
                work[-1] = (node, at + 1)
                target = nexts[node][at]
                if order[target] == -1:
                    order[target] = low[target] = counter
                    counter += 1
                    stack.append(target)
                    on_stack[target] = True
                    work.append((target, 0))
                elif on_stack[target]:
                    low[node] = min(low[node], order[target])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == order[node]:
                members = []
                while True:
                    member = stack.pop()
                    on_stack[member] = False
                    component[member] = len(components)
                    members.append(member)
                    if member == node:
                        break
                components.append(members)
    return components, component


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
