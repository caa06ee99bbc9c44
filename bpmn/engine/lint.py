"""Deploy-time lint of BPMN models: the checks SpiffWorkflow does not make.

Runs over the raw lxml tree returned by ``xml.parse_bpmn_xml``. Every issue names the
element and the reason in plain English and carries the element's source line.

Which processes are checked: SpiffWorkflow treats a process as executable unless it says
``isExecutable="false"`` (the attribute defaults to true), so the same rule is used here.
Non-executable processes are descriptive models: only the file-wide checks (duplicate
ids) apply to them. The lane map itself is checked by ``lanes.validate_lane_map`` and
timer expressions are checked by ``timers.normalize_timer_expressions``,
which the caller runs too (it rewrites the tree).
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator, Mapping

import jsonschema
from lxml import etree

from .errors import ValidationIssue
from .lanes import AGENCY_KINDS, resolve_lane_kind
from .timers import TimerValueError, parse_iso_duration_text

BPMN_MODEL_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
NSMAP = {"bpmn": BPMN_MODEL_NS, "spiffworkflow": SPIFF_NS}

FORM_PROPERTY = "formJsonSchemaFilename"
DUE_IN_PROPERTY = "dueIn"

DATA_CATEGORIES = ("identity", "housing", "economy", "health", "justice", "coordination", "safety")

HUMAN_TASKS = ("userTask", "manualTask")
WAIT_STATES = frozenset(
    {"userTask", "manualTask", "receiveTask", "intermediateCatchEvent", "eventBasedGateway"}
)
SUBPROCESSES = frozenset({"subProcess", "transaction", "adHocSubProcess"})
FLOW_CONTAINERS = frozenset({"process"}) | SUBPROCESSES
CONDITIONAL_GATEWAYS = frozenset({"exclusiveGateway", "inclusiveGateway"})
FLOW_NODES = (
    frozenset(
        {
            "task",
            "userTask",
            "manualTask",
            "serviceTask",
            "scriptTask",
            "sendTask",
            "receiveTask",
            "businessRuleTask",
            "callActivity",
            "startEvent",
            "endEvent",
            "intermediateCatchEvent",
            "intermediateThrowEvent",
            "boundaryEvent",
            "exclusiveGateway",
            "inclusiveGateway",
            "parallelGateway",
            "eventBasedGateway",
            "complexGateway",
        }
    )
    | SUBPROCESSES
)

# Task spec names SpiffWorkflow creates itself: a flow node with such an id is silently
# replaced by (or collides with) the built-in spec, e.g. a start event with id "Start".
RESERVED_IDS = frozenset({"Start", "End", "StartEventSplit", "StartEventJoin"})
RESERVED_SUFFIXES = (".EndJoin", ".BoundaryEventSplit", ".BoundaryEventJoin", " [child]")

_KIND_WORDS = {
    "userTask": "user task",
    "manualTask": "manual task",
    "serviceTask": "service task",
    "scriptTask": "script task",
    "sendTask": "send task",
    "receiveTask": "receive task",
    "businessRuleTask": "business rule task",
    "callActivity": "call activity",
    "subProcess": "sub-process",
    "adHocSubProcess": "ad-hoc sub-process",
    "startEvent": "start event",
    "endEvent": "end event",
    "intermediateCatchEvent": "catch event",
    "intermediateThrowEvent": "throw event",
    "boundaryEvent": "boundary event",
    "exclusiveGateway": "exclusive gateway",
    "inclusiveGateway": "inclusive gateway",
    "parallelGateway": "parallel gateway",
    "eventBasedGateway": "event-based gateway",
    "complexGateway": "complex gateway",
    "sequenceFlow": "sequence flow",
}


# --- small tree helpers ------------------------------------------------------------------


def _local(el: object) -> str | None:
    """The local name of a BPMN model element, None for anything else (comments, DI)."""
    tag = getattr(el, "tag", None)
    if not isinstance(tag, str) or not tag.startswith(f"{{{BPMN_MODEL_NS}}}"):
        return None
    return tag[len(BPMN_MODEL_NS) + 2 :]


def _q(name: str) -> str:
    return f"{{{BPMN_MODEL_NS}}}{name}"


def _describe(el: etree._Element) -> str:
    kind = _local(el) or etree.QName(el).localname
    return f"{_KIND_WORDS.get(kind, kind)} '{el.get('id')}'"


def _container_label(container: etree._Element) -> str:
    kind = _local(container)
    word = "process" if kind == "process" else _KIND_WORDS.get(kind or "", "sub-process")
    return f"{word} '{container.get('id')}'"


def _children(container: etree._Element) -> Iterator[tuple[str, etree._Element]]:
    for child in container:
        kind = _local(child)
        if kind is not None:
            yield kind, child


def _is_executable(process: etree._Element) -> bool:
    # Exactly SpiffWorkflow's rule (ProcessParser.process_executable).
    return process.get("isExecutable", "true") == "true"


def _processes(root: etree._Element) -> list[etree._Element]:
    return root.findall(_q("process"))


def _property(el: etree._Element, name: str) -> etree._Element | None:
    for prop in el.iterfind(
        "bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property", NSMAP
    ):
        if prop.get("name") == name:
            return prop
    return None


def _property_value(el: etree._Element, name: str) -> str | None:
    prop = _property(el, name)
    if prop is None:
        return None
    value = prop.get("value")
    if value is None:
        value = prop.text
    return value.strip() if value is not None else None


def _quoted_list(values: Iterable[str]) -> str:
    return ", ".join(f"'{value}'" for value in values)


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


# --- public: task metadata ---------------------------------------------------------------


def _human_tasks(process: etree._Element) -> Iterator[etree._Element]:
    yield from process.iter(*(_q(kind) for kind in HUMAN_TASKS))


def extract_user_tasks(root: etree._Element) -> dict[str, dict]:
    """Every user and manual task of the executable processes, by element id.

    Each value: ``name`` (or None), ``lane`` (lane name as SpiffWorkflow sees it, or
    None), ``form`` (form file name or None), ``due_in`` (ISO duration text or None),
    ``line``, plus ``process`` (process id) and ``type`` (userTask / manualTask).
    """
    doc_lanes = _document_lanes(root)
    tasks: dict[str, dict] = {}
    for process in _processes(root):
        if not _is_executable(process):
            continue
        for el in _human_tasks(process):
            task_id = el.get("id")
            if not task_id or task_id in tasks:
                continue
            tasks[task_id] = {
                "name": el.get("name"),
                "lane": _effective_lane(el, doc_lanes),
                "form": _property_value(el, FORM_PROPERTY) or None,
                "due_in": _property_value(el, DUE_IN_PROPERTY) or None,
                "line": el.sourceline,
                "process": process.get("id"),
                "type": _local(el),
            }
    return tasks


# --- the lint ----------------------------------------------------------------------------


class _Linter:
    def __init__(self, root, filename, forms, lane_map):
        self.root = root
        self.filename = filename
        self.forms = forms or {}
        self.lane_map = lane_map
        self.issues: list[ValidationIssue] = []
        self.processes = _processes(root)
        self.executable = [p for p in self.processes if _is_executable(p)]
        self.doc_lanes = _document_lanes(root)
        self.ids: dict[str, etree._Element] = {}
        for el in root.iter(etree.Element):
            el_id = el.get("id")
            if el_id is not None and el_id not in self.ids:
                self.ids[el_id] = el
        self._form_problems: dict[str, list[tuple[str, str]]] = {}

    def add(self, code: str, message: str, el: etree._Element | None = None) -> None:
        self.issues.append(
            ValidationIssue(
                code,
                message,
                element_id=el.get("id") if el is not None else None,
                line=el.sourceline if el is not None else None,
                file=self.filename,
            )
        )

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
                    f"{el.sourceline}; every id in the file must be unique",
                    el,
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
                        f"{_describe(flow)} has no {attr}; a sequence flow must connect two "
                        f"elements of {where}",
                        flow,
                    )
                elif ref not in nodes:
                    self.add("dangling-flow", self._dangling(flow, word, ref, where), flow)
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

    def _dangling(self, flow, word, ref, where) -> str:
        target = self.ids.get(ref)
        base = f"{_describe(flow)} has the {word} '{ref}'"
        if target is None:
            return f"{base}, but no element with that id exists in {where}"
        container = target.getparent()
        if _local(target) not in FLOW_NODES:
            return (
                f"{base}, which is a {etree.QName(target).localname}, not a task, event or gateway"
            )
        elsewhere = _container_label(container) if _local(container) in FLOW_CONTAINERS else None
        return (
            f"{base}, but that element is in {elsewhere or 'another part of the file'}, not in "
            f"{where}; a sequence flow cannot leave its process or sub-process"
        )

    def check_default(self, node, outgoing, flows_by_id) -> None:
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
            )
        elif flows_by_id[default] not in outgoing:
            self.add(
                "invalid-default-flow",
                f"{_describe(node)} names '{default}' as its default flow, but that sequence "
                f"flow does not leave {_describe(node)}",
                node,
            )

    def check_gateway(self, gateway, outgoing) -> None:
        if len(outgoing) <= 1:
            return
        default = (gateway.get("default") or "").strip()
        if not default:
            self.add(
                "missing-default-flow",
                f"{_describe(gateway)} has {len(outgoing)} outgoing flows but no default "
                "flow; mark one flow as the default so the case never gets stuck when no "
                "condition holds",
                gateway,
            )
        for flow in outgoing:
            if flow.get("id") == default:
                continue
            condition = flow.find(_q("conditionExpression"))
            if condition is None or not (condition.text or "").strip():
                self.add(
                    "missing-condition",
                    f"{_describe(flow)} leaves {_describe(gateway)} without a condition; give "
                    "it a condition or make it the gateway's default flow",
                    flow,
                )

    def check_condition_syntax(self, flow) -> None:
        condition = flow.find(_q("conditionExpression"))
        if condition is None:
            return
        text = (condition.text or "").strip()
        if not text:
            source = self.ids.get((flow.get("sourceRef") or "").strip())
            if source is not None and _local(source) in CONDITIONAL_GATEWAYS:
                return  # reported as missing-condition (or it is the default flow)
            self.add(
                "invalid-condition",
                f"{_describe(flow)} has an empty condition; write the condition or remove it",
                flow,
            )
            return
        try:
            ast.parse(text, mode="eval")
        except SyntaxError as exc:
            shown = " ".join(text.split())
            if len(shown) > 80:
                shown = shown[:77] + "..."
            self.add(
                "invalid-condition",
                f"{_describe(flow)} has the condition {shown!r}, which is not a valid "
                f"expression: {exc.msg}",
                flow,
            )

    # loops ------------------------------------------------------------------------------

    def _waits(self, node: etree._Element, seen: set[str]) -> bool:
        kind = _local(node)
        if kind in WAIT_STATES:
            return True
        if kind in SUBPROCESSES:
            return any(True for _ in node.iter(*(_q(k) for k in WAIT_STATES))) or any(
                self._waits(call, seen) for call in node.iter(_q("callActivity"))
            )
        if kind == "callActivity":
            called = self.find_process(node.get("calledElement"))
            if called is None or called.get("id") in seen:
                return False
            seen = seen | {called.get("id")}
            return any(True for _ in called.iter(*(_q(k) for k in WAIT_STATES))) or any(
                self._waits(call, seen) for call in called.iter(_q("callActivity"))
            )
        return False

    def check_cycles(self, container, nodes, edges) -> None:
        spinning = {node_id for node_id, node in nodes.items() if not self._waits(node, set())}
        graph = {n: {m for m in edges[n] if m in spinning} for n in spinning}
        order = {node_id: index for index, node_id in enumerate(nodes)}
        for component in _strongly_connected(graph):
            if len(component) == 1:
                (only,) = component
                if only not in graph[only]:
                    continue
            members = sorted(component, key=order.__getitem__)
            first = nodes[members[0]]
            path = ", ".join(_describe(nodes[m]) for m in members)
            self.add(
                "unbounded-loop",
                f"the sequence flows of {_container_label(container)} loop through {path} "
                "without a wait state (user task, manual task, receive task, catch event or "
                "event-based gateway); it would spin without a person in the loop",
                first,
            )

    def check_standard_loops(self, process) -> None:
        for loop in process.iter(_q("standardLoopCharacteristics")):
            activity = loop.getparent()
            maximum = (loop.get("loopMaximum") or "").strip()
            if not maximum:
                self.add(
                    "unbounded-loop",
                    f"{_describe(activity)} repeats (standard loop) without loopMaximum; set "
                    "loopMaximum to bound the number of rounds",
                    activity,
                )
            elif not maximum.isdigit() or int(maximum) < 1:
                self.add(
                    "unbounded-loop",
                    f"{_describe(activity)} has loopMaximum '{maximum}', which is not a "
                    "positive whole number",
                    activity,
                )

    # call activities ---------------------------------------------------------------------

    def find_process(self, called: str | None) -> etree._Element | None:
        # SpiffWorkflow looks a called element up by process id, then by name.
        if not called:
            return None
        called = called.strip()
        for process in self.processes:
            if process.get("id") == called:
                return process
        for process in self.processes:
            if process.get("name") == called:
                return process
        return None

    def check_recursion(self) -> None:
        calls: dict[str, set[str]] = {}
        for process in self.processes:
            targets = set()
            for call in process.iter(_q("callActivity")):
                called = self.find_process(call.get("calledElement"))
                if called is not None:
                    targets.add(called.get("id"))
            calls[process.get("id")] = targets

        def reaches(start: str, goal: str) -> bool:
            stack, seen = [start], set()
            while stack:
                current = stack.pop()
                if current == goal:
                    return True
                if current in seen:
                    continue
                seen.add(current)
                stack.extend(calls.get(current, ()))
            return False

        for process in self.executable:
            pid = process.get("id")
            for call in process.iter(_q("callActivity")):
                called = self.find_process(call.get("calledElement"))
                if called is None:
                    continue
                cid = called.get("id")
                if cid == pid:
                    self.add(
                        "recursive-call-activity",
                        f"{_describe(call)} calls its own process '{pid}', which would start "
                        "itself again without end",
                        call,
                    )
                elif reaches(cid, pid):
                    self.add(
                        "recursive-call-activity",
                        f"{_describe(call)} calls process '{cid}', which calls back into "
                        f"process '{pid}'; recursive calls have no bound",
                        call,
                    )

    # lanes -------------------------------------------------------------------------------

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

    # forms and due dates -----------------------------------------------------------------

    def _check_form(self, form_name: str) -> list[tuple[str, str]]:
        """Problems of one form, as (code, reason) pairs; cached per form."""
        if form_name in self._form_problems:
            return self._form_problems[form_name]
        problems: list[tuple[str, str]] = []
        schema = self.forms[form_name]
        if not isinstance(schema, dict):
            problems.append(("invalid-form", f"is a {type(schema).__name__}, not a JSON object"))
        else:
            try:
                jsonschema.Draft202012Validator.check_schema(schema)
            except jsonschema.SchemaError as exc:
                where = "/".join(str(part) for part in exc.absolute_path)
                at = f" at '{where}'" if where else ""
                problems.append(
                    (
                        "invalid-form",
                        f"is not a valid JSON Schema (draft 2020-12){at}: {exc.message}",
                    )
                )
            else:
                properties = schema.get("properties")
                if schema.get("type") != "object" or not isinstance(properties, dict):
                    problems.append(
                        ("invalid-form", 'must be a schema with "type": "object" and "properties"')
                    )
                else:
                    for prop_name, prop in properties.items():
                        if not isinstance(prop, dict) or "x-category" not in prop:
                            continue  # no category: the field is restricted
                        category = prop["x-category"]
                        if category not in DATA_CATEGORIES:
                            problems.append(
                                (
                                    "invalid-category",
                                    f"gives the field '{prop_name}' the category "
                                    f"{category!r}, which is not a data category; use one of "
                                    f"{', '.join(DATA_CATEGORIES)} (or leave x-category out "
                                    "to keep the field restricted)",
                                )
                            )
        self._form_problems[form_name] = problems
        return problems

    def check_task_properties(self, process) -> None:
        for task in _human_tasks(process):
            form_prop = _property(task, FORM_PROPERTY)
            if form_prop is not None:
                form_name = _property_value(task, FORM_PROPERTY)
                if not form_name:
                    self.add(
                        "missing-form",
                        f"{_describe(task)} has an empty {FORM_PROPERTY}; name the form file "
                        "or remove the property",
                        task,
                    )
                elif form_name not in self.forms:
                    given = _quoted_list(sorted(self.forms)) or "none"
                    self.add(
                        "missing-form",
                        f"{_describe(task)} uses the form '{form_name}', which was not "
                        f"deployed with the model (forms given: {given})",
                        task,
                    )
                else:
                    for code, reason in self._check_form(form_name):
                        self.add(
                            code,
                            f"the form '{form_name}' of {_describe(task)} {reason}",
                            task,
                        )
            if _property(task, DUE_IN_PROPERTY) is not None:
                due_in = _property_value(task, DUE_IN_PROPERTY) or ""
                try:
                    parse_iso_duration_text(due_in)
                except TimerValueError as exc:
                    detail = str(exc)
                    reason = (
                        "which is not an ISO-8601 duration such as P5D or PT4H"
                        if "not an ISO-8601 duration" in detail
                        else f"which cannot be used: {detail}"
                    )
                    self.add(
                        "invalid-due-in", f"{_describe(task)} has dueIn {due_in!r}, {reason}", task
                    )

    # ------------------------------------------------------------------------------------

    def run(self) -> list[ValidationIssue]:
        self.check_duplicate_ids()
        if self.check_executable():
            self.check_reserved_ids()
            for container in self.containers():
                self.check_container(container)
            for process in self.executable:
                self.check_standard_loops(process)
                self.check_lanes(process)
                self.check_task_properties(process)
            self.check_recursion()
        return sorted(self.issues, key=lambda issue: (issue.line is None, issue.line or 0))


def _strongly_connected(graph: Mapping[str, set[str]]) -> list[set[str]]:
    """Tarjan's algorithm, iterative (models can be larger than the recursion limit)."""
    index_of: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    result: list[set[str]] = []
    counter = 0
    for start in graph:
        if start in index_of:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index_of[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, successors = work[-1]
            advanced = False
            for succ in successors:
                if succ not in index_of:
                    index_of[succ] = low[succ] = counter
                    counter += 1
                    stack.append(succ)
                    on_stack.add(succ)
                    work.append((succ, iter(sorted(graph[succ]))))
                    advanced = True
                    break
                if succ in on_stack:
                    low[node] = min(low[node], index_of[succ])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index_of[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                result.append(component)
    return result


def lint_definitions(
    root: etree._Element,
    *,
    filename: str,
    forms: dict[str, dict],
    lane_map: dict[str, str] | None,
) -> list[ValidationIssue]:
    """Deploy-time checks beyond SpiffWorkflow's own; returns every issue found.

    ``forms`` maps form file names to JSON schemas; ``lane_map`` maps lane names to
    agency kinds (it takes precedence over the default aliases).
    """
    return _Linter(root, filename, forms, lane_map).run()
