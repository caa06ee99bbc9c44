"""Small models the engine refuses, one per kind of refusal a process admin meets, for the
tests that check what the admin reads (``test_refusals_in_bokmal`` and the editor's and the
API's): ``(code, bpmn_xml, forms, routing, element)``, ``element`` the id the refusal is
about (None: the file as a whole)."""

from __future__ import annotations

from tests.bpmn.engine.bpmn_snippets import SIMPLE_FORM, definitions, lane_set, valid_model

FORMS = {"check.schema.json": SIMPLE_FORM}


def _process(body: str, *, executable: str = "true", lanes: dict[str, list[str]] | None = None) -> str:
    laneset = lane_set(lanes) if lanes else ""
    return definitions(f'<bpmn:process id="P" isExecutable="{executable}">{laneset}\n{body}\n</bpmn:process>')


def _flow(flow_id: str, source: str, target: str, condition: str | None = None) -> str:
    if condition is None:
        return f'<bpmn:sequenceFlow id="{flow_id}" sourceRef="{source}" targetRef="{target}"/>'
    return (
        f'<bpmn:sequenceFlow id="{flow_id}" sourceRef="{source}" targetRef="{target}">'
        f"<bpmn:conditionExpression>{condition}</bpmn:conditionExpression></bpmn:sequenceFlow>"
    )


def _start_task_end(task: str, task_id: str = "Task_1") -> str:
    return "\n".join(
        [
            '<bpmn:startEvent id="Start_1"/>',
            _flow("F1", "Start_1", task_id),
            task,
            _flow("F2", task_id, "End_1"),
            '<bpmn:endEvent id="End_1"/>',
        ]
    )


NAV = {"NAV": ["Start_1", "Task_1", "End_1", "Gateway_1", "End_2", "Timer_1"]}

REFUSED = [
    ("not-well-formed", "<bpmn:definitions><unclosed>", {}, None, None),
    (
        "doctype",
        '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "x">]><x>&e;</x>',
        {},
        None,
        None,
    ),
    ("wrong-namespace", '<?xml version="1.0"?><definitions id="D"/>', {}, None, None),
    (
        "no-executable-process",
        _process(_start_task_end('<bpmn:manualTask id="Task_1"/>'), executable="false"),
        {},
        None,
        "P",
    ),
    (
        "duplicate-id",
        valid_model().replace(
            '<bpmn:endEvent id="End_ok"/>', '<bpmn:endEvent id="End_ok"/><bpmn:endEvent id="Flow_1"/>'
        ),
        FORMS,
        None,
        "Flow_1",
    ),
    (
        "dangling-flow",
        valid_model().replace('targetRef="Task_find_home"', 'targetRef="Task_gone"'),
        FORMS,
        None,
        "Flow_no",
    ),
    (
        "missing-condition",
        valid_model().replace(' default="Flow_yes"', ""),
        FORMS,
        None,
        "Flow_yes",
    ),
    (
        "invalid-condition",
        valid_model().replace("has_home == False", "${hasHome}"),
        FORMS,
        None,
        "Flow_no",
    ),
    (
        "unsafe-expression",
        valid_model().replace("has_home == False", "__import__('os').system('x')"),
        FORMS,
        None,
        "Flow_no",
    ),
    (
        "invalid-script",
        _process(
            _start_task_end(
                '<bpmn:scriptTask id="Task_1" name="Count"><bpmn:script>x = (</bpmn:script></bpmn:scriptTask>'
            )
        ),
        {},
        None,
        "Task_1",
    ),
    (
        "missing-script",
        _process(_start_task_end('<bpmn:scriptTask id="Task_1" name="Count"/>')),
        {},
        None,
        "Task_1",
    ),
    (
        "missing-form",
        valid_model().replace("check.schema.json", "absent.schema.json"),
        FORMS,
        None,
        "Task_check",
    ),
    (
        "remote-ref",
        valid_model(),
        {
            "check.schema.json": {
                **SIMPLE_FORM,
                "properties": {**SIMPLE_FORM["properties"], "address": {"$ref": "https://example.org/a.json"}},
            }
        },
        None,
        "Task_check",
    ),
    (
        "invalid-timer",
        _process(
            _start_task_end(
                '<bpmn:intermediateCatchEvent id="Task_1"><bpmn:timerEventDefinition>'
                "<bpmn:timeDuration>every monday</bpmn:timeDuration>"
                "</bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>"
            )
        ),
        {},
        None,
        "Task_1",
    ),
    (
        "unbounded-loop",
        _process(
            "\n".join(
                [
                    '<bpmn:startEvent id="Start_1"/>',
                    _flow("F1", "Start_1", "Task_1"),
                    '<bpmn:scriptTask id="Task_1"><bpmn:script>n = 1</bpmn:script></bpmn:scriptTask>',
                    _flow("F2", "Task_1", "Task_2"),
                    '<bpmn:scriptTask id="Task_2"><bpmn:script>n = 2</bpmn:script></bpmn:scriptTask>',
                    _flow("F3", "Task_2", "Task_1"),
                ]
            )
        ),
        {},
        None,
        "Task_1",
    ),
    (
        "no-lanes",
        _process(_start_task_end('<bpmn:userTask id="Task_1" name="Check"/>')),
        {},
        None,
        "P",
    ),
    (
        "unknown-lane",
        _process(_start_task_end('<bpmn:userTask id="Task_1" name="Check"/>'), lanes={"Politiet": ["Task_1"]}),
        {},
        None,
        "Lane_1",
    ),
    (
        "unrouted-connector",
        _process(
            _start_task_end(
                '<bpmn:serviceTask id="Task_1" name="Hent inntekt"><bpmn:extensionElements>'
                '<spiffworkflow:serviceTaskOperator id="inntektsregister"><spiffworkflow:parameters>'
                '<spiffworkflow:parameter id="sokerens_id" type="str" value="sokerens_id"/>'
                "</spiffworkflow:parameters></spiffworkflow:serviceTaskOperator>"
                "</bpmn:extensionElements></bpmn:serviceTask>"
            )
        ),
        {},
        None,
        "Task_1",
    ),
    (
        "unknown-lane-kind",
        valid_model(),
        FORMS,
        {"lanes": {"NAV": "police"}},
        None,
    ),
    (
        "bpmn-invalid",
        _process(
            '<bpmn:userTask id="Task_1" name="Check"/>'
            + _flow("F1", "Task_1", "End_1")
            + '<bpmn:endEvent id="End_1"/>',
            lanes={"NAV": ["Task_1", "End_1"]},
        ),
        {},
        None,
        None,
    ),
]
