"""What a thrown message's payload carries out of its case: for each field of the payload,
the names of the case data its value is computed from.

A message throw (an intermediate throw or end event, a send task) gives its payload as an
expression, SpiffWorkflow's ``spiffworkflow:messagePayload``, usually a dict literal such as
``{"applicant_id": applicant_id, "diagnosis_summary": diagnosis, "ready": True}``. A field
then carries the data its value reads, whatever the field is called (``diagnosis_summary``
carries ``diagnosis``; ``ready`` reads nothing). Any other expression (a name, a call, a
``**`` spread) is taken to carry everything it reads into every field. The receiving side
(``workflows.jobs.messages``) decides from these names which fields may arrive.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from lxml import etree

from .element_needs import CONSTANTS, data_names_loaded, script_sources, with_sources
from .lint.model import SPIFF_NS, _local, _q
from .xml import parse_bpmn_xml

# SpiffWorkflow's name for the key that correlation properties no ``correlationKey`` names
# belong to (``spiff/parser/event_parsers.py``).
MAIN_CORRELATION_KEY = "MainCorrelationKey"
# Where a message is caught (a receive task names it itself; an event through its definition).
_CATCHES = frozenset({"intermediateCatchEvent", "boundaryEvent", "startEvent", "receiveTask"})


def _root(bpmn_xml: str | bytes | etree._Element) -> etree._Element:
    return bpmn_xml if isinstance(bpmn_xml, etree._Element) else parse_bpmn_xml(bpmn_xml)


@dataclass(frozen=True)
class PayloadReads:
    """The names each field of one message's payload reads, over every element that throws
    it. ``rest``: what an expression that is not a plain dict literal reads, for any field."""

    fields: dict[str, frozenset[str]] = field(default_factory=dict)
    rest: frozenset[str] | None = None
    # Fields no computed key or ``**`` spread of any throw can write over: a dict literal's
    # later key wins, so ``{**extra, "applicant_id": applicant_id}`` holds the applicant's id
    # whatever ``extra`` reads. Such a field reads only its own value's names.
    final: frozenset[str] = frozenset()

    def of(self, name: str) -> frozenset[str] | None:
        """The names field ``name`` reads; None when no throw of the model gives it (the
        payload holds a field the model does not show: nothing is known of what it carries)."""
        if name not in self.fields and self.rest is None:
            return None
        if name in self.final:
            return self.fields.get(name, frozenset())
        return self.fields.get(name, frozenset()) | (self.rest or frozenset())


def payload_reads(
    bpmn_xml: str | bytes | etree._Element, sources: dict[str, frozenset[str]] | None = None
) -> dict[str, PayloadReads]:
    """Message name -> what its payload's fields read, for every message the model throws
    with a payload expression. ``sources``: what each name carries (default: the model's
    ``script_sources``; ``gateway_paths.paths_and_sources`` for a deployed version)."""
    root = _root(bpmn_xml)
    names = {message.get("id"): message.get("name") or message.get("id") for message in root.iter(_q("message"))}
    fields: dict[str, dict[str, set[str]]] = {}
    rest: dict[str, set[str]] = {}
    throws: dict[str, list[tuple[set[str], bool, set[str]]]] = {}  # per throw: keys, rest or not, final
    for payload in root.iter(f"{{{SPIFF_NS}}}messagePayload"):
        thrower = next((el for el in payload.iterancestors() if el.get("messageRef")), None)
        if thrower is None:
            continue
        name = names.get(thrower.get("messageRef")) or thrower.get("messageRef") or ""
        per_field, other, final = _reads(payload.text or "")
        for key, read in per_field.items():
            fields.setdefault(name, {}).setdefault(key, set()).update(read)
        if other is not None:
            rest.setdefault(name, set()).update(other)
        fields.setdefault(name, {})
        throws.setdefault(name, []).append((set(per_field), other is not None, final))
    if sources is None:
        sources = script_sources(root)  # a script's variable carries what it was computed from
    return {
        name: PayloadReads(
            {key: with_sources(read, sources) for key, read in per_field.items()},
            with_sources(rest[name], sources) if name in rest else None,
            _final(per_field, throws.get(name, [])),
        )
        for name, per_field in fields.items()
    }


def _final(per_field: dict[str, set[str]], throws: list[tuple[set[str], bool, set[str]]]) -> frozenset[str]:
    """The fields of a message no throw's computed key or spread can write: in each throw a
    key written after its last computed key, or a key a throw without any leaves out."""
    return frozenset(
        key
        for key in per_field
        if all(key in final or (not has_rest and key not in keys) for keys, has_rest, final in throws)
    )


def _reads(text: str) -> tuple[dict[str, set[str]], set[str] | None, set[str]]:
    """A payload expression's reads: per field of a dict literal, the rest (None: none), and
    the fields written after the last computed key or spread (which nothing writes over)."""
    try:
        tree = ast.parse(text.strip() or "{}", mode="eval")
    except SyntaxError:
        return {}, set(), set()  # it cannot run either; should it, nothing is known of its fields
    body = tree.body
    if not isinstance(body, ast.Dict):
        return {}, _names(tree), set()
    per_field: dict[str, set[str]] = {}
    other: set[str] | None = None
    final: set[str] = set()
    for key, value in zip(body.keys, body.values, strict=True):
        if isinstance(key, ast.Constant) and isinstance(key.value, str):
            per_field.setdefault(key.value, set()).update(_names(value))
            final.add(key.value)
        else:  # a computed key or a ** spread: any field may carry what it reads
            other = (other or set()) | _names(value) | (_names(key) if key is not None else set())
            final.clear()  # it may write over every field before it
    return per_field, other, final


def _names(node: ast.AST) -> set[str]:
    stored = {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    return {name for name in data_names_loaded(node) - stored - CONSTANTS if name.isidentifier()}


def correlation_reads(
    bpmn_xml: str | bytes | etree._Element, payloads: dict[str, PayloadReads], sources: dict[str, frozenset[str]]
) -> dict[str, frozenset[str]]:
    """Correlation property id -> the case data its values are computed from (the keys of
    SpiffWorkflow's ``workflow.correlations[key]``). A retrieval expression reads the
    message's payload: for a message the model throws with a payload expression, a payload
    field carries what ``payloads`` says it reads; otherwise (a throw without one sends the
    task data; a catch copies the payload into the data under its names) a name is the
    field of that name. A ``spiffworkflow:processVariableCorrelation`` reads the process's
    data. Script variables carry what they are computed from (``sources``). A correction of
    a field replaces a correlation value of the properties that read it, and no other
    (``retention.services``): another property may hold an equal value of someone else.
    A retrieval expression written as ``formalExpression`` (bpmn-js writes it so; SpiffWorkflow
    reads it as ``messagePath``) counts alike."""
    root = _root(bpmn_xml)
    names = {message.get("id"): message.get("name") or message.get("id") for message in root.iter(_q("message"))}
    found: dict[str, set[str]] = {}
    for prop in root.iter(_q("correlationProperty")):
        reads = found.setdefault(prop.get("id") or "", set())
        for retrieval in prop.iter(_q("correlationPropertyRetrievalExpression")):
            message = names.get(retrieval.get("messageRef")) or retrieval.get("messageRef") or ""
            path = next(retrieval.iter(_q("messagePath"), _q("formalExpression")), None)
            payload = payloads.get(message)
            for name in _expression_names(path.text if path is not None else ""):
                carried = payload.of(name) if payload is not None else None
                reads.update(carried if carried is not None else {name})
    for prop in root.iter(f"{{{SPIFF_NS}}}processVariableCorrelation"):
        prop_id = next(prop.iter(f"{{{SPIFF_NS}}}propertyId"), None)
        expression = next(prop.iter(f"{{{SPIFF_NS}}}expression"), None)
        if prop_id is not None and prop_id.text:
            found.setdefault(prop_id.text.strip(), set()).update(
                _expression_names(expression.text if expression is not None else "")
            )
    return {prop: with_sources(reads, sources) for prop, reads in found.items() if prop}


def _expression_names(text: str | None) -> set[str]:
    try:
        return _names(ast.parse((text or "").strip() or "None", mode="eval"))
    except SyntaxError:
        return set()


def correlation_keys(bpmn_xml: str | bytes | etree._Element) -> dict[str, frozenset[str]]:
    """Correlation property id -> the correlation keys it belongs to (a collaboration's
    ``correlationKey`` names them; a property none names is SpiffWorkflow's main key's)."""
    root = _root(bpmn_xml)
    keys: dict[str, set[str]] = {}
    for key in root.iter(_q("correlationKey")):
        for ref in key.iter(_q("correlationPropertyRef")):
            if ref.text and ref.text.strip():
                keys.setdefault(ref.text.strip(), set()).add(key.get("name") or "")
    props = {prop.get("id") or "" for prop in root.iter(_q("correlationProperty"))}
    for prop in root.iter(f"{{{SPIFF_NS}}}processVariableCorrelation"):
        prop_id = next(prop.iter(f"{{{SPIFF_NS}}}propertyId"), None)
        if prop_id is not None and prop_id.text and prop_id.text.strip():
            props.add(prop_id.text.strip())
    return {prop: frozenset(keys.get(prop) or {MAIN_CORRELATION_KEY}) for prop in props if prop}


def _in_event_sub_process(start: etree._Element) -> bool:
    parent = start.getparent()
    return parent is not None and _local(parent) == "subProcess" and parent.get("triggeredByEvent") == "true"


def catch_correlation_reads(
    bpmn_xml: str | bytes | etree._Element, payloads: dict[str, PayloadReads], sources: dict[str, frozenset[str]]
) -> dict[str, frozenset[str]]:
    """Message catch id -> the case data whether it catches a message is computed from.

    A catch of a message with correlation properties (or with a
    ``spiffworkflow:processVariableCorrelation`` of its own) catches a message only when the
    message's correlation values equal those its process holds already for the same keys
    (SpiffWorkflow's ``MessageEventDefinition.catches``): the values a throw computes from its
    payload and those its process computed before, from its own data or from an earlier
    message of a property of those keys. So the catch, and what follows it, tells whether
    the two are equal: a property computed from a health value against ``True`` opened the
    housing office's task only where the value held, as a gateway's branch would (h-attack38).
    Every property sharing a key with the catch's counts (``correlation_reads``: through the
    payloads the model throws, script variables with what they are computed from)."""
    root = _root(bpmn_xml)
    reads = correlation_reads(root, payloads, sources)
    if not reads:
        return {}
    keys = correlation_keys(root)
    by_key: dict[str, set[str]] = {}
    for prop, prop_keys in keys.items():
        for key in prop_keys:
            by_key.setdefault(key, set()).add(prop)
    of_message: dict[str, set[str]] = {}
    for prop in root.iter(_q("correlationProperty")):
        for retrieval in prop.iter(_q("correlationPropertyRetrievalExpression")):
            of_message.setdefault(retrieval.get("messageRef") or "", set()).add(prop.get("id") or "")
    found: dict[str, frozenset[str]] = {}
    for element in root.iter(*(_q(kind) for kind in _CATCHES)):
        element_id = element.get("id")
        if not element_id:
            continue
        if _local(element) == "receiveTask":
            refs = [element.get("messageRef") or ""] if element.get("messageRef") else []
        else:
            refs = [d.get("messageRef") or "" for d in element.findall(_q("messageEventDefinition"))]
            if not refs or (_local(element) == "startEvent" and not _in_event_sub_process(element)):
                continue  # a process's own start begins a case: nothing there to tell apart
        props: set[str] = set()
        for ref in refs:
            props |= of_message.get(ref, set())
        for prop in element.iter(f"{{{SPIFF_NS}}}processVariableCorrelation"):
            prop_id = next(prop.iter(f"{{{SPIFF_NS}}}propertyId"), None)
            if prop_id is not None and prop_id.text and prop_id.text.strip():
                props.add(prop_id.text.strip())
        related = set(props)
        for prop in props:
            for key in keys.get(prop, ()):
                related |= by_key.get(key, set())
        names = set().union(*(reads.get(prop, frozenset()) for prop in related)) if related else set()
        if names:
            found[element_id] = frozenset(names)
    return found


__all__ = [
    "PayloadReads",
    "catch_correlation_reads",
    "correlation_keys",
    "correlation_reads",
    "payload_reads",
]


THROWERS = ("intermediateThrowEvent", "endEvent", "sendTask")


def message_throwers(bpmn_xml: str | bytes) -> dict[str, list[str]]:
    """Message name -> the ids of the elements that throw it (an intermediate throw or end
    event with a message definition, a send task), in document order."""
    root = parse_bpmn_xml(bpmn_xml)
    names = {message.get("id"): message.get("name") or message.get("id") for message in root.iter(_q("message"))}
    found: dict[str, list[str]] = {}
    for element in root.iter(*(_q(kind) for kind in THROWERS)):
        refs = [element.get("messageRef")] + [d.get("messageRef") for d in element.iter(_q("messageEventDefinition"))]
        for ref in filter(None, refs):
            found.setdefault(names.get(ref) or ref, []).append(element.get("id") or "")
    return found
