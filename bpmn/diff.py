"""The difference between two versions of a process: elements added, removed and changed,
matched by id, comparing the parsed semantic trees (the diagram layout is ignored).

A user task also counts as changed when the content of the form it names changed, even if
the XML did not.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from lxml import etree

from bpmn.engine.xml import parse_bpmn_xml

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
LAYOUT_NS = "http://www.omg.org/spec/BPMN/20100524/DI"
FORM_PROPERTY = "formJsonSchemaFilename"


@dataclass(frozen=True)
class ElementChange:
    element_id: str
    kind: str  # the BPMN element type, e.g. "userTask"
    name: str
    details: tuple[str, ...] = ()


@dataclass(frozen=True)
class VersionDiff:
    added: list[ElementChange] = field(default_factory=list)
    removed: list[ElementChange] = field(default_factory=list)
    changed: list[ElementChange] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed)

    def as_dict(self) -> dict:
        return {
            "added": [change.element_id for change in self.added],
            "removed": [change.element_id for change in self.removed],
            "changed": [change.element_id for change in self.changed],
        }


def _local(tag) -> str:
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def _is_own_element(node) -> bool:
    """An element of its own (compared by id). Event definitions belong to their event."""
    return (
        isinstance(node.tag, str)
        and bool(node.get("id"))
        and etree.QName(node).namespace == BPMN_NS
        and not etree.QName(node).localname.endswith("EventDefinition")
    )


def _semantic_elements(root) -> dict[str, etree._Element]:
    """Every BPMN element with an id, outside the diagram interchange (layout) part."""
    return {node.get("id"): node for node in root.iter(etree.Element) if _is_own_element(node)}


def _parts(node) -> dict[str, list[tuple]]:
    parts: dict[str, list[tuple]] = {}
    for child in node:
        if isinstance(child.tag, str) and not _is_own_element(child) and etree.QName(child).namespace != LAYOUT_NS:
            parts.setdefault(_local(child.tag), []).append(_shape(child))
    return parts


def _shape(node) -> tuple:
    """What an element says, without its children that are elements of their own.
    Ids of parts (event definitions) are left out: bpmn-js regenerates them."""
    attrs = tuple(sorted((k, v) for k, v in node.attrib.items() if not (k == "id" and not _is_own_element(node))))
    children = tuple(sorted((name, tuple(shapes)) for name, shapes in _parts(node).items()))
    return (node.tag, attrs, (node.text or "").strip(), children)


def _details(old, new) -> tuple[str, ...]:
    details = []
    names = sorted(set(old.attrib) | set(new.attrib))
    changed_attrs = [_local(name) for name in names if old.get(name) != new.get(name)]
    if changed_attrs:
        details.append("attributes: " + ", ".join(changed_attrs))
    old_parts, new_parts = _parts(old), _parts(new)
    details += [part for part in sorted(set(old_parts) | set(new_parts)) if old_parts.get(part) != new_parts.get(part)]
    if (old.text or "").strip() != (new.text or "").strip():
        details.append("text")
    return tuple(details)


def _form_name(node) -> str | None:
    for prop in node.iter("{*}property"):
        if prop.get("name") == FORM_PROPERTY:
            return prop.get("value")
    return None


def _change(node, details=()) -> ElementChange:
    return ElementChange(
        element_id=node.get("id"), kind=_local(node.tag), name=node.get("name") or "", details=tuple(details)
    )


def diff_versions(
    old_xml: str, new_xml: str, old_forms: dict | None = None, new_forms: dict | None = None
) -> VersionDiff:
    old = _semantic_elements(parse_bpmn_xml(old_xml))
    new = _semantic_elements(parse_bpmn_xml(new_xml))
    old_forms, new_forms = old_forms or {}, new_forms or {}
    diff = VersionDiff(
        added=[_change(new[element_id]) for element_id in new if element_id not in old],
        removed=[_change(old[element_id]) for element_id in old if element_id not in new],
    )
    for element_id, node in new.items():
        before = old.get(element_id)
        if before is None:
            continue
        details = list(_details(before, node)) if _shape(before) != _shape(node) else []
        form = _form_name(node)
        if form and form == _form_name(before) and _canonical(old_forms.get(form)) != _canonical(new_forms.get(form)):
            details.append(f"form {form}")
        if details:
            diff.changed.append(_change(node, details))
    return diff


def _canonical(schema) -> str:
    return json.dumps(schema, sort_keys=True)
