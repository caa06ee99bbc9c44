"""Namespaces, element kinds and small lxml tree helpers shared by the lint checks."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from lxml import etree

BPMN_MODEL_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
NSMAP = {"bpmn": BPMN_MODEL_NS, "spiffworkflow": SPIFF_NS}

FORM_PROPERTY = "formJsonSchemaFilename"
DUE_IN_PROPERTY = "dueIn"

# A plain bpmn:task waits for a person too: SpiffWorkflow runs it as a manual task, so it
# is routed, given a form and counted as a wait state like one.
HUMAN_TASKS = ("userTask", "manualTask", "task")
WAIT_STATES = frozenset(
    {"userTask", "manualTask", "task", "receiveTask", "intermediateCatchEvent", "eventBasedGateway"}
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
    return bool(process.get("isExecutable", "true") == "true")


def _processes(root: etree._Element) -> list[etree._Element]:
    return list(root.findall(_q("process")))


def _property(el: etree._Element, name: str) -> etree._Element | None:
    for prop in el.iterfind("bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property", NSMAP):
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


def _human_tasks(process: etree._Element) -> Iterator[etree._Element]:
    yield from process.iter(*(_q(kind) for kind in HUMAN_TASKS))
