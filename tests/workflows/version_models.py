"""Small models in several versions, for moving running cases between versions."""

HEADER = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="Defs_versions">
  <bpmn:process id="versioned" name="Versioned" isExecutable="true">"""


def _task(task_id, name, incoming, outgoing, form="a.schema.json"):
    return f"""
    <bpmn:userTask id="{task_id}" name="{name}">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="formJsonSchemaFilename" value="{form}"/>
      </spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:incoming>{incoming}</bpmn:incoming><bpmn:outgoing>{outgoing}</bpmn:outgoing>
    </bpmn:userTask>"""


def _lane(lane_id, name, nodes):
    refs = "".join(f"<bpmn:flowNodeRef>{node}</bpmn:flowNodeRef>" for node in nodes)
    return f'<bpmn:lane id="{lane_id}" name="{name}">{refs}</bpmn:lane>'


def model(*, a_name="Assess", with_a=True, with_c=False, b_lane="NAV", timer="P10D"):
    """start -> [Task_a] -> Task_b (a boundary timer: Task_late) -> [Task_c] -> end."""
    nav = ["Start_1", "Task_late", "End_1", "End_late", "Timer_b"]
    health = []
    (nav if b_lane == "NAV" else health).append("Task_b")
    parts = [HEADER, '<bpmn:startEvent id="Start_1"><bpmn:outgoing>F_start</bpmn:outgoing></bpmn:startEvent>']
    flows = []
    if with_a:
        nav.append("Task_a")
        parts.append(_task("Task_a", a_name, "F_start", "F_a"))
        flows += [("F_start", "Start_1", "Task_a"), ("F_a", "Task_a", "Task_b")]
        into_b = "F_a"
    else:
        flows.append(("F_start", "Start_1", "Task_b"))
        into_b = "F_start"
    parts.append(_task("Task_b", "Decide", into_b, "F_b"))
    if with_c:
        nav.append("Task_c")
        parts.append(_task("Task_c", "Confirm", "F_b", "F_c"))
        flows += [("F_b", "Task_b", "Task_c"), ("F_c", "Task_c", "End_1")]
        into_end = "F_c"
    else:
        flows.append(("F_b", "Task_b", "End_1"))
        into_end = "F_b"
    parts.append(f'<bpmn:endEvent id="End_1"><bpmn:incoming>{into_end}</bpmn:incoming></bpmn:endEvent>')
    parts.append(
        f"""<bpmn:boundaryEvent id="Timer_b" cancelActivity="false" attachedToRef="Task_b">
      <bpmn:outgoing>F_timer</bpmn:outgoing>
      <bpmn:timerEventDefinition><bpmn:timeDuration xsi:type="bpmn:tFormalExpression">"{timer}"</bpmn:timeDuration>
      </bpmn:timerEventDefinition></bpmn:boundaryEvent>"""
    )
    parts.append(_task("Task_late", "Late", "F_timer", "F_late"))
    parts.append('<bpmn:endEvent id="End_late"><bpmn:incoming>F_late</bpmn:incoming></bpmn:endEvent>')
    flows += [("F_timer", "Timer_b", "Task_late"), ("F_late", "Task_late", "End_late")]
    parts += [f'<bpmn:sequenceFlow id="{i}" sourceRef="{s}" targetRef="{t}"/>' for i, s, t in flows]
    lanes = [_lane("Lane_nav", "NAV", nav)] + ([_lane("Lane_health", "Helse", health)] if health else [])
    parts.insert(1, f'<bpmn:laneSet id="LaneSet_1">{"".join(lanes)}</bpmn:laneSet>')
    parts.append("</bpmn:process></bpmn:definitions>")
    return "\n".join(parts)


FORMS = {
    "a.schema.json": {
        "type": "object",
        "properties": {"note": {"type": "string", "title": "Merknad", "x-category": "coordination"}},
    }
}
