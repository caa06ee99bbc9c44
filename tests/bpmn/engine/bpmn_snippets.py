"""Tiny BPMN builders for engine tests.

``definitions(body)`` wraps process XML in a BPMN 2.0 ``definitions`` root with the
usual namespaces. ``line_of(xml, needle)`` finds the 1-based line of the first line
containing ``needle``, so tests can assert the line an issue points at.
"""

from __future__ import annotations

import textwrap

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"

HEADER = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    f'<bpmn:definitions xmlns:bpmn="{BPMN_NS}" '
    'xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" '
    'xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" '
    f'xmlns:spiffworkflow="{SPIFF_NS}" '
    'id="Definitions_1" targetNamespace="http://bpmn.io/schema/bpmn">\n'
)
FOOTER = "</bpmn:definitions>\n"


def definitions(body: str) -> str:
    return HEADER + textwrap.dedent(body).strip("\n") + "\n" + FOOTER


def line_of(xml: str, needle: str) -> int:
    for number, line in enumerate(xml.splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} not in the XML")


def properties(**props: str) -> str:
    items = "".join(f'<spiffworkflow:property name="{name}" value="{value}"/>' for name, value in props.items())
    return (
        f"<bpmn:extensionElements><spiffworkflow:properties>{items}</spiffworkflow:properties></bpmn:extensionElements>"
    )


def lane_set(lanes: dict[str, list[str]], *, lane_set_id: str = "LaneSet_1") -> str:
    """``{lane name: [flow node ids]}`` -> a laneSet; lane ids are Lane_1, Lane_2, ..."""
    parts = [f'<bpmn:laneSet id="{lane_set_id}">']
    for number, (name, refs) in enumerate(lanes.items(), start=1):
        parts.append(f'  <bpmn:lane id="Lane_{number}" name="{name}">')
        parts.extend(f"    <bpmn:flowNodeRef>{ref}</bpmn:flowNodeRef>" for ref in refs)
        parts.append("  </bpmn:lane>")
    parts.append("</bpmn:laneSet>")
    return "\n".join(parts)


def user_task(task_id: str, name: str = "Do it", **props: str) -> str:
    inner = properties(**props) if props else ""
    return f'<bpmn:userTask id="{task_id}" name="{name}">{inner}</bpmn:userTask>'


SIMPLE_FORM = {
    "type": "object",
    "properties": {
        "has_home": {"type": "boolean", "x-category": "housing"},
        "note": {"type": "string"},
    },
    "required": ["has_home"],
}


def valid_model() -> str:
    """A small, correct model: start, two user tasks in two lanes, a gateway, two ends."""
    return definitions(
        f"""
        <bpmn:process id="Proc_valid" name="Valid" isExecutable="true">
          {
            lane_set(
                {
                    "NAV": ["Task_check", "StartEvent_1", "Gateway_has_home", "End_ok"],
                    "Boligkontakt": ["Task_find_home"],
                }
            )
        }
          <bpmn:startEvent id="StartEvent_1"/>
          <bpmn:sequenceFlow id="Flow_1" sourceRef="StartEvent_1" targetRef="Task_check"/>
          <bpmn:userTask id="Task_check" name="Check home">
            {properties(formJsonSchemaFilename="check.schema.json", dueIn="P5D")}
          </bpmn:userTask>
          <bpmn:sequenceFlow id="Flow_2" sourceRef="Task_check" targetRef="Gateway_has_home"/>
          <bpmn:exclusiveGateway id="Gateway_has_home" default="Flow_yes"/>
          <bpmn:sequenceFlow id="Flow_yes" sourceRef="Gateway_has_home" targetRef="End_ok"/>
          <bpmn:sequenceFlow id="Flow_no" sourceRef="Gateway_has_home" targetRef="Task_find_home">
            <bpmn:conditionExpression>has_home == False</bpmn:conditionExpression>
          </bpmn:sequenceFlow>
          <bpmn:manualTask id="Task_find_home" name="Find a home"/>
          <bpmn:sequenceFlow id="Flow_3" sourceRef="Task_find_home" targetRef="Task_check"/>
          <bpmn:endEvent id="End_ok"/>
        </bpmn:process>
        """
    )
