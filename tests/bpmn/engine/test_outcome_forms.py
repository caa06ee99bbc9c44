"""Deploy-time checks of outcome forms and choice labels, and ``repeat()`` for bounded
cycles read from case data (issue 15). No database."""

import copy

import pytest

from bpmn.engine.errors import ExpressionError
from bpmn.engine.lint import lint_definitions
from bpmn.engine.timefuncs import MAX_REPEATS, repeat
from bpmn.engine.timers import parse_iso_cycle_text
from bpmn.engine.xml import parse_bpmn_xml
from tests.bpmn.engine.bpmn_snippets import definitions, lane_set, properties

OUTCOME = {
    "type": "object",
    "properties": {
        "outcome": {
            "type": "string",
            "enum": ["bosatt", "dod"],
            "x-category": "housing",
            "x-outcome": "kind",
            "x-enum-labels": {"bosatt": "Bosatt i egen bolig", "dod": "Død"},
        },
        "outcome_reason": {"type": "string", "x-category": "housing", "x-outcome": "reason"},
        "moved_in": {"type": "string", "format": "date", "x-category": "housing", "x-outcome": "housed_date"},
    },
    "required": ["outcome"],
}


def model():
    form = properties(formJsonSchemaFilename="outcome.schema.json")
    return definitions(f"""
        <bpmn:process id="P" isExecutable="true">
          {lane_set({"Boligkontakt": ["StartEvent_1", "Task_outcome", "End_1"]})}
          <bpmn:startEvent id="StartEvent_1"/>
          <bpmn:sequenceFlow id="F1" sourceRef="StartEvent_1" targetRef="Task_outcome"/>
          <bpmn:userTask id="Task_outcome" name="Utfall">{form}</bpmn:userTask>
          <bpmn:sequenceFlow id="F2" sourceRef="Task_outcome" targetRef="End_1"/>
          <bpmn:endEvent id="End_1"/>
        </bpmn:process>
    """)


def lint(schema):
    root = parse_bpmn_xml(model(), filename="outcome.bpmn")
    return [
        (i.code, i.element_id, i.message)
        for i in lint_definitions(root, filename="outcome.bpmn", forms={"outcome.schema.json": schema}, lane_map=None)
    ]


def test_a_valid_outcome_form_passes():
    assert lint(OUTCOME) == []


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda s: s["properties"]["outcome_reason"].update({"x-outcome": "why"}), "'why'; use one of kind, tenure"),
        (lambda s: s["properties"]["moved_in"].update({"x-outcome": "reason"}), "marks both 'outcome_reason' and"),
        (lambda s: s["properties"]["outcome"].pop("x-outcome"), 'none marked "x-outcome": "kind"'),
        (
            lambda s: s["properties"]["outcome"].update({"type": "integer", "enum": [1, 2], "x-enum-labels": {}}),
            "must be a string field",
        ),
        (
            lambda s: s["properties"]["outcome"]["x-enum-labels"].update({"flyttet": "Flyttet"}),
            "does not have (flyttet)",
        ),
        (lambda s: s["properties"]["outcome"].update({"x-enum-labels": ["Bosatt"]}), "not an object of texts"),
    ],
)
def test_outcome_roles_and_labels_are_checked_naming_the_task(change, expected):
    schema = copy.deepcopy(OUTCOME)
    change(schema)
    ((code, element_id, message),) = lint(schema)
    assert code in ("invalid-outcome-role", "invalid-enum-labels")
    assert element_id == "Task_outcome" and expected in message, message


def test_repeat_gives_a_bounded_cycle_the_timer_parser_accepts():
    assert repeat(6, "P14D") == "R6/P14D"
    count, _first, interval = parse_iso_cycle_text(repeat(3, "P1W"))
    assert count == 3 and interval.days == 7


@pytest.mark.parametrize(
    ("times", "every"),
    [
        (0, "P1D"),
        (MAX_REPEATS + 1, "P1D"),
        (-1, "P1D"),
        (True, "P1D"),
        (2.0, "P1D"),
        ("3", "P1D"),
        (3, "PT1H"),
        (3, "P0D"),
        (3, "R/P1D"),
        (3, "P1D/P1D"),
        (3, None),
        (3, "P1DT1H"),
    ],
)
def test_repeat_refuses_what_would_spin_or_run_away(times, every):
    with pytest.raises(ExpressionError, match="repeat"):
        repeat(times, every)
