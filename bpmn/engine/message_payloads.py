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

from .element_needs import CONSTANTS, data_names_loaded, script_sources, with_sources
from .lint.model import SPIFF_NS, _q
from .xml import parse_bpmn_xml


@dataclass(frozen=True)
class PayloadReads:
    """The names each field of one message's payload reads, over every element that throws
    it. ``rest``: what an expression that is not a plain dict literal reads, for any field."""

    fields: dict[str, frozenset[str]] = field(default_factory=dict)
    rest: frozenset[str] | None = None

    def of(self, name: str) -> frozenset[str] | None:
        """The names field ``name`` reads; None when no throw of the model gives it (the
        payload holds a field the model does not show: nothing is known of what it carries)."""
        if name not in self.fields and self.rest is None:
            return None
        return self.fields.get(name, frozenset()) | (self.rest or frozenset())


def payload_reads(bpmn_xml: str | bytes, sources: dict[str, frozenset[str]] | None = None) -> dict[str, PayloadReads]:
    """Message name -> what its payload's fields read, for every message the model throws
    with a payload expression. ``sources``: what each name carries (default: the model's
    ``script_sources``; ``gateway_paths.paths_and_sources`` for a deployed version)."""
    root = parse_bpmn_xml(bpmn_xml)
    names = {message.get("id"): message.get("name") or message.get("id") for message in root.iter(_q("message"))}
    fields: dict[str, dict[str, set[str]]] = {}
    rest: dict[str, set[str]] = {}
    for payload in root.iter(f"{{{SPIFF_NS}}}messagePayload"):
        thrower = next((el for el in payload.iterancestors() if el.get("messageRef")), None)
        if thrower is None:
            continue
        name = names.get(thrower.get("messageRef")) or thrower.get("messageRef") or ""
        per_field, other = _reads(payload.text or "")
        for key, read in per_field.items():
            fields.setdefault(name, {}).setdefault(key, set()).update(read)
        if other is not None:
            rest.setdefault(name, set()).update(other)
        fields.setdefault(name, {})
    if sources is None:
        sources = script_sources(root)  # a script's variable carries what it was computed from
    return {
        name: PayloadReads(
            {key: with_sources(read, sources) for key, read in per_field.items()},
            with_sources(rest[name], sources) if name in rest else None,
        )
        for name, per_field in fields.items()
    }


def _reads(text: str) -> tuple[dict[str, set[str]], set[str] | None]:
    """A payload expression's reads: per field of a dict literal, and the rest (None: none)."""
    try:
        tree = ast.parse(text.strip() or "{}", mode="eval")
    except SyntaxError:
        return {}, set()  # it cannot run either; should it, nothing is known of its fields
    body = tree.body
    if not isinstance(body, ast.Dict):
        return {}, _names(tree)
    per_field: dict[str, set[str]] = {}
    other: set[str] | None = None
    for key, value in zip(body.keys, body.values, strict=True):
        if isinstance(key, ast.Constant) and isinstance(key.value, str):
            per_field.setdefault(key.value, set()).update(_names(value))
        else:  # a computed key or a ** spread: any field may carry what it reads
            other = (other or set()) | _names(value) | (_names(key) if key is not None else set())
    return per_field, other


def _names(node: ast.AST) -> set[str]:
    stored = {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    return {name for name in data_names_loaded(node) - stored - CONSTANTS if name.isidentifier()}


def correlation_reads(
    bpmn_xml: str | bytes, payloads: dict[str, PayloadReads], sources: dict[str, frozenset[str]]
) -> dict[str, frozenset[str]]:
    """Correlation property id -> the case data its values are computed from (the keys of
    SpiffWorkflow's ``workflow.correlations[key]``). A retrieval expression reads the
    message's payload: for a message the model throws with a payload expression, a payload
    field carries what ``payloads`` says it reads; otherwise (a throw without one sends the
    task data; a catch copies the payload into the data under its names) a name is the
    field of that name. A ``spiffworkflow:processVariableCorrelation`` reads the process's
    data. Script variables carry what they are computed from (``sources``). A correction of
    a field replaces a correlation value of the properties that read it, and no other
    (``retention.services``): another property may hold an equal value of someone else."""
    root = parse_bpmn_xml(bpmn_xml)
    names = {message.get("id"): message.get("name") or message.get("id") for message in root.iter(_q("message"))}
    found: dict[str, set[str]] = {}
    for prop in root.iter(_q("correlationProperty")):
        reads = found.setdefault(prop.get("id") or "", set())
        for retrieval in prop.iter(_q("correlationPropertyRetrievalExpression")):
            message = names.get(retrieval.get("messageRef")) or retrieval.get("messageRef") or ""
            path = next(retrieval.iter(_q("messagePath")), None)
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


__all__ = ["PayloadReads", "correlation_reads", "payload_reads"]


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
