"""Forms people already wrote: ``camunda:formData`` fields as Brobygger's JSON-schema forms.

A Camunda Modeler user task carries its form in the model::

    <camunda:formData>
      <camunda:formField id="amount" label="Amount" type="long" defaultValue="0">
        <camunda:validation><camunda:constraint name="required"/></camunda:validation>
      </camunda:formField>
      <camunda:formField id="decision" type="enum">
        <camunda:value id="approve" name="Approve"/><camunda:value id="reject" name="Reject"/>
      </camunda:formField>
    </camunda:formData>

At import each such task gets the form ``<element id>.form.json``: one property per field
(``string``, ``long`` -> integer, ``boolean``, ``date`` -> ISO date text, ``enum`` -> the
value ids, with their names as ``x-enum-labels``), its label as title, its default,
``required``/``minlength``/``maxlength``/``min``/``max`` constraints. A form of the same
name given at import wins: that is how the admin, after reviewing the conversion in the
editor, gives the fields their data categories. Until then a field has no ``x-category``
and is ``restricted`` like every uncategorised field (see README).
"""

from __future__ import annotations

from typing import Any

from lxml import etree

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"
FORM_SUFFIX = ".form.json"
TYPES = {"string": "string", "long": "integer", "boolean": "boolean", "date": "string", "enum": "string"}


def form_name_for(element_id: str) -> str:
    return f"{element_id}{FORM_SUFFIX}"


def camunda_form_schemas(root: etree._Element) -> dict[str, dict[str, Any]]:
    """Element id -> the JSON schema converted from its ``camunda:formData`` (tasks with
    at least one field; a field of a type with no JSON equivalent becomes text)."""
    schemas = {}
    for task in root.iter(f"{{{BPMN_NS}}}userTask"):
        fields = task.findall(f"{{{BPMN_NS}}}extensionElements/{{{CAMUNDA_NS}}}formData/{{{CAMUNDA_NS}}}formField")
        properties, required = {}, []
        for field in fields:
            field_id = (field.get("id") or "").strip()
            if not field_id or field_id in properties:
                continue
            prop, is_required = _property(field)
            properties[field_id] = prop
            if is_required:
                required.append(field_id)
        if properties and task.get("id"):
            schema = {
                "type": "object",
                "title": task.get("name") or task.get("id"),
                "properties": properties,
                "additionalProperties": False,
                "x-converted-from": "camunda:formData",
            }
            if required:
                schema["required"] = required
            schemas[task.get("id")] = schema
    return schemas


def _property(field: etree._Element) -> tuple[dict[str, Any], bool]:
    kind = (field.get("type") or "string").strip()
    prop: dict[str, Any] = {"type": TYPES.get(kind, "string")}
    if field.get("label"):
        prop["title"] = field.get("label")
    if kind == "date":
        prop["format"] = "date"
    if kind == "enum":
        values = [
            (value.get("id"), value.get("name")) for value in field.iter(f"{{{CAMUNDA_NS}}}value") if value.get("id")
        ]
        if values:
            prop["enum"] = [value_id for value_id, _ in values]
            prop["x-enum-labels"] = {value_id: name or value_id for value_id, name in values}
    default = _default(field.get("defaultValue"), prop)
    if default is not None:
        prop["default"] = default
    is_required = False
    for constraint in field.iter(f"{{{CAMUNDA_NS}}}constraint"):
        name, config = (constraint.get("name") or "").strip(), constraint.get("config")
        if name == "required":
            is_required = True
        elif name == "readonly":
            prop["readOnly"] = True
        elif name in ("minlength", "maxlength", "min", "max"):
            number = _number(config)
            if number is None:
                continue
            if name in ("minlength", "maxlength") and prop["type"] == "string":
                prop["minLength" if name == "minlength" else "maxLength"] = max(int(number), 0)
            elif name in ("min", "max") and prop["type"] == "integer":
                prop["minimum" if name == "min" else "maximum"] = int(number)
    return prop, is_required


def _number(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        return float(text)
    except ValueError:
        return None


def _default(text: str | None, prop: dict[str, Any]) -> object:
    """The default in the property's own type; None when it cannot be one (an expression)."""
    if text is None or text == "" or "${" in text or "#{" in text:
        return None
    if prop["type"] == "integer":
        number = _number(text)
        return int(number) if number is not None and number == int(number) else None
    if prop["type"] == "boolean":
        return {"true": True, "false": False}.get(text.strip().lower())
    if "enum" in prop and text not in prop["enum"]:
        return None
    return text
