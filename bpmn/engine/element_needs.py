"""The names of case data one element of a model needs (issue 11: the process admin sets
missing data so a failed element can be retried, and may set only these).

An element needs what it reads or declares: a multi-instance's input collection and
cardinality, the data objects and data inputs/outputs it is associated with, the names its
script, pre- and post-script read (or write: a data output the script should have set),
and the names the conditions on its outgoing flows read (a gateway that failed on them).
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping

from lxml import etree

from .expressions import SAFE_FUNCTION_NAMES
from .lint.model import SPIFF_NS, _property_value, _q
from .xml import parse_bpmn_xml

CONSTANTS = frozenset({"True", "False", "None"})


def element_needs(bpmn_xml: str | bytes, element_id: str) -> frozenset[str]:
    """The names ``element_id`` reads or declares; empty when the model has no such element."""
    root = parse_bpmn_xml(bpmn_xml)
    element = next((el for el in root.iter(etree.Element) if el.get("id") == element_id), None)
    if element is None:
        return frozenset()
    names: set[str] = set()
    objects = _data_object_names(root)
    for loop in element.iter(_q("multiInstanceLoopCharacteristics")):
        for tag in ("loopDataInputRef", "loopDataOutputRef"):
            for ref in loop.iter(_q(tag)):
                names.add((ref.text or "").strip())
        for tag in ("loopCardinality", "completionCondition"):
            for expression in loop.iter(_q(tag)):
                names |= expression_names(expression.text or "", mode="eval")
    for tag in ("dataInputAssociation", "dataOutputAssociation"):
        for association in element.iter(_q(tag)):
            for ref in (*association.iter(_q("sourceRef")), *association.iter(_q("targetRef"))):
                names |= objects.get((ref.text or "").strip(), set())
    for tag in ("dataInput", "dataOutput"):
        for declared in element.iter(_q(tag)):
            names |= {value for value in (declared.get("name"), declared.get("id")) if value}
    for script in element.iter(_q("script"), f"{{{SPIFF_NS}}}preScript", f"{{{SPIFF_NS}}}postScript"):
        names |= expression_names(script.text or "", mode="exec", assigned=True)
    for flow in root.iter(_q("sequenceFlow")):
        if flow.get("sourceRef") == element_id:
            for condition in flow.iter(_q("conditionExpression")):
                names |= expression_names(condition.text or "", mode="eval")
    return frozenset(name for name in names if name.isidentifier() and not name.startswith("_"))


def _data_object_names(root: etree._Element) -> dict[str, set[str]]:
    """A data object (or its reference) id -> the names its value goes by in the data."""
    objects: dict[str, set[str]] = {}
    for obj in root.iter(_q("dataObject")):
        objects[obj.get("id") or ""] = {value for value in (obj.get("id"), obj.get("name")) if value}
    for ref in root.iter(_q("dataObjectReference"), _q("dataStoreReference")):
        target = objects.get(ref.get("dataObjectRef") or "", set())
        objects[ref.get("id") or ""] = set(target) or {value for value in (ref.get("id"),) if value}
    return objects


def expression_names(text: str, *, mode: str, assigned: bool = False) -> set[str]:
    """The free names an expression or script reads (and, with ``assigned``, those it sets)."""
    text = text.strip()
    if not text:
        return set()
    try:
        tree = ast.parse(text, mode=mode)
    except SyntaxError:
        return set()
    loaded = data_names_loaded(tree)
    stored = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    free = loaded - stored - CONSTANTS
    return free | stored if assigned else free


def script_sources(root: etree._Element) -> dict[str, frozenset[str]]:
    """Name -> the names of data a script of the model may compute it from (a script task's
    script, a pre- or post-script). A name no form has is restricted, which its coordinator
    sees; computed from a form's field, it carries that field's value on: ``flag =
    needs_treatment`` read by a gateway tells the health value to whoever sees ``flag``.
    Counted whole per script: every name it sets (``x = ...``) or changes in place
    (``summary["x"] = ...``, ``found.append(...)``) may carry every other name it reads. A
    multi-instance's item carries its input collection, its output collection its items."""
    sources: dict[str, set[str]] = {}
    changed: set[str] = set()
    for script in root.iter(_q("script"), f"{{{SPIFF_NS}}}preScript", f"{{{SPIFF_NS}}}postScript"):
        try:
            tree = ast.parse((script.text or "").strip(), mode="exec")
        except SyntaxError:
            continue
        read = data_names_loaded(tree) - CONSTANTS
        for name in _set_names(tree):
            sources.setdefault(name, set()).update(read - {name})
        changed |= _changed_in_place(tree)
    # A multi-instance's item is an element of its input collection; its output collection
    # gathers the items its instances leave.
    for loop in root.iter(_q("multiInstanceLoopCharacteristics")):
        for collection, item in (("loopDataInputRef", "inputDataItem"), ("loopDataOutputRef", "outputDataItem")):
            collections = {(ref.text or "").strip() for ref in loop.iter(_q(collection))} - {""}
            items = {value for el in loop.iter(_q(item)) for value in (el.get("name"), el.get("id")) if value}
            target, source = (items, collections) if collection == "loopDataInputRef" else (collections, items)
            for name in target:
                sources.setdefault(name, set()).update(source - {name})
    # A catch's variable holds the payload of the event it caught.
    for name, carried in _event_variable_sources(root).items():
        sources.setdefault(name, set()).update(carried - {name})
    _share_changes(sources, changed)
    return {name: frozenset(found) for name, found in sources.items() if found}


def _share_changes(sources: dict[str, set[str]], changed: set[str]) -> None:
    """A value changed in place is changed under every name that holds it: ``alias =
    summary`` then ``alias["note"] = diagnosis`` writes the diagnosis into ``summary``, which
    no script set by its own name. So each name a value changed in place may have come from
    (its sources, as far as they go) carries that name, and with it what was written, until
    nothing grows. More than the values a run shares (``n = len(summary)`` is no alias), never
    less: a name the analysis takes for a literal must never hold a value a reader may not see
    (2026-12-06: the housing office's system was sent the health service's diagnosis so)."""
    grew = bool(changed)
    while grew:
        grew = False
        for name in changed:
            for other in with_sources([name], sources) - {name}:
                held = sources.setdefault(other, set())
                if name not in held:
                    held.add(name)
                    grew = True


# What an event carries and where its catch puts it: SpiffWorkflow's payload expression and
# variable, on the message, signal, error or escalation (or a message's throw and catch).
_ITEMS = ("message", "signal", "error", "escalation")
_ITEM_TAGS = frozenset(_q(item) for item in _ITEMS)
# Inside a flow element, holding its scripts and extensions: not the element itself.
_NOT_ELEMENTS = frozenset({_q("extensionElements"), *(_q(f"{item}EventDefinition") for item in _ITEMS)})
_DEFINITION_TAGS = tuple(_q(f"{item}EventDefinition") for item in _ITEMS)
_REFS = tuple(f"{item}Ref" for item in _ITEMS)
_PAYLOADS = ("messagePayload", "payloadExpression")
_VARIABLES = ("messageVariable", "variableName")


def _event_variable_sources(root: etree._Element) -> dict[str, set[str]]:
    """A catch's variable -> what the event it catches may carry: the names read by the
    payload expressions of every throw of it (the same item, or one of its name or code) and
    the fields a message declares (sent by an agency's system through the API). The variable
    holds the payload whole (``notice["diagnosis"]``), so it carries those values under its
    own name: a name no form has is restricted, which the coordinator sees."""
    items = {el.get("id") or "": el for tag in _ITEMS for el in root.iter(_q(tag))}
    payloads: dict[str, set[str]] = {ref: set() for ref in items}
    variables: dict[str, set[str]] = {}
    for ref, item in items.items():
        declared = _property_value(item, "fields") if item.tag == _q("message") else None
        payloads[ref].update(part.strip() for part in (declared or "").split(",") if part.strip())
    for tag in (*_PAYLOADS, *_VARIABLES):
        for el in root.iter(f"{{{SPIFF_NS}}}{tag}"):
            ref = _item_ref(el)
            if tag in _PAYLOADS:
                payloads.setdefault(ref, set()).update(expression_names(el.text or "", mode="eval"))
            elif (el.text or "").strip():
                variables.setdefault(ref, set()).add((el.text or "").strip())
    found: dict[str, set[str]] = {}
    for ref, names in variables.items():
        carried = set().union(*(read for other, read in payloads.items() if _same_event(items, ref, other)))
        for name in names:
            found.setdefault(name, set()).update(carried)
    return found


def _same_event(items: dict[str, etree._Element], ref: str, other: str) -> bool:
    """Whether a throw of item ``other`` may be caught as item ``ref``: the same item, or
    one of the same kind with its name or its code."""
    if ref == other:
        return True
    a, b = items.get(ref), items.get(other)
    if a is None or b is None or a.tag != b.tag:
        return False
    keys = ("name", "errorCode", "escalationCode")
    return any(a.get(key) and a.get(key) == b.get(key) for key in keys)


def _item_ref(el: etree._Element) -> str:
    """The id of the message, signal, error or escalation that ``el`` (a payload or variable)
    belongs to: the item it sits in, or the one its element or event definition refers to."""
    for ancestor in el.iterancestors():
        if ancestor.tag in _ITEM_TAGS:
            return ancestor.get("id") or ""
        for candidate in (ancestor, *ancestor.iterchildren(*_DEFINITION_TAGS)):
            ref = next((str(candidate.get(name)) for name in _REFS if candidate.get(name)), "")
            if ref:
                return ref
    return ""


def names_set_by(root: etree._Element) -> dict[str, frozenset[str]]:
    """Element id -> the names its scripts set or change (a script task's script, a pre- or
    post-script) and the variable its catch puts a message's payload in: what having run
    writes into the data."""
    found: dict[str, set[str]] = {}
    sources: dict[str, frozenset[str]] | None = None
    for script in root.iter(_q("script"), f"{{{SPIFF_NS}}}preScript", f"{{{SPIFF_NS}}}postScript"):
        element = _element_of(script)
        try:
            tree = ast.parse((script.text or "").strip(), mode="exec")
        except SyntaxError:
            continue
        if element:
            found.setdefault(element, set()).update(_set_names(tree))
            if changed := _changed_in_place(tree):
                # Changed in place: so is every name that may hold the same value (``_share_changes``).
                sources = script_sources(root) if sources is None else sources
                found[element] |= with_sources(changed, sources)
    for variable in root.iter(f"{{{SPIFF_NS}}}messageVariable"):
        element = _element_of(variable)
        if element and (variable.text or "").strip():
            found.setdefault(element, set()).add((variable.text or "").strip())
    return {element: frozenset(names) for element, names in found.items() if names}


def _element_of(el: etree._Element) -> str:
    """The id of the flow element ``el`` (a script or an extension) belongs to."""
    for ancestor in el.iterancestors():
        if ancestor.tag not in _NOT_ELEMENTS and ancestor.get("id"):
            return ancestor.get("id") or ""
    return ""


def _set_names(tree: ast.AST) -> set[str]:
    """The names a script sets or changes in place: stored, the base of a stored item or
    attribute, or the object of a method call. A base that is no name (``[summary][0]["x"]``,
    ``box.get("s")["x"]``) may be any value a name it reads holds: each of those names."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store | ast.Del):
            found.add(node.id)
    return found | _changed_in_place(tree)


# The augmented assignments that change a list, a dictionary or a set itself (``+=``, ``*=``,
# ``|=``, ``&=``, ``^=``, ``-=``); the others make a new value (``days //= 7``).
_IN_PLACE_OPS = (ast.Add, ast.Mult, ast.BitOr, ast.BitAnd, ast.BitXor, ast.Sub)


def _changed_in_place(tree: ast.AST) -> set[str]:
    """The names whose values a script may change without setting the name: the base of a
    stored or deleted item or attribute, the object of a method call, the target of an
    augmented assignment (``items += [x]`` extends the list itself, ``d |= {...}`` the
    dictionary), and every name read by a base that is no plain name."""
    found = set()
    for node in ast.walk(tree):
        target = None
        if isinstance(node, ast.Subscript | ast.Attribute) and isinstance(node.ctx, ast.Store | ast.Del):
            target = node.value
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            target = node.func.value
        elif isinstance(node, ast.AugAssign) and isinstance(node.op, _IN_PLACE_OPS):
            target = node.target
        while isinstance(target, ast.Subscript | ast.Attribute):
            target = target.value
        if isinstance(target, ast.Name):
            found.add(target.id)
        elif target is not None:
            found |= data_names_loaded(target) - CONSTANTS
    return found


def with_sources(names: Iterable[str], sources: Mapping[str, Iterable[str]]) -> frozenset[str]:
    """``names`` and every name a script computes any of them from, over any number of
    scripts (``script_sources``): what a value read by those names may carry."""
    found = set(names)
    todo = list(found)
    while todo:
        for source in sources.get(todo.pop(), ()):
            if source not in found:
                found.add(source)
                todo.append(source)
    return frozenset(found)


def data_names_loaded(tree: ast.AST) -> set[str]:
    """The names ``tree`` loads as data: a function of the expressions (``len``, ``date``)
    only where it is called; used as a value it is a field of that name (the task data
    hides the function), which the expression reads."""
    called = {
        id(node.func)
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in SAFE_FUNCTION_NAMES
    }
    return {
        n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load) and id(n) not in called
    }


__all__ = [
    "data_names_loaded",
    "element_needs",
    "expression_names",
    "names_set_by",
    "script_sources",
    "with_sources",
]
