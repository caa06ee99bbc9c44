"""Deploy-time lint: one small model per check, asserting code, element id and line."""

import copy

import pytest

from bpmn.engine.lint import DATA_CATEGORIES, extract_user_tasks, lint_definitions
from bpmn.engine.xml import parse_bpmn_xml
from tests.bpmn.engine.bpmn_snippets import (
    SIMPLE_FORM,
    definitions,
    lane_set,
    line_of,
    properties,
    valid_model,
)

FILE = "lint.bpmn"
FORMS = {"check.schema.json": SIMPLE_FORM}


def _lint(xml: str, *, forms=None, lane_map=None):
    root = parse_bpmn_xml(xml, filename=FILE)
    return lint_definitions(root, filename=FILE, forms=FORMS if forms is None else forms, lane_map=lane_map)


def _only(issues, code):
    found = [issue for issue in issues if issue.code == code]
    assert len(found) == 1, f"expected one {code}, got {issues}"
    assert found[0].file == FILE
    return found[0]


def _codes(issues):
    return sorted(issue.code for issue in issues)


def _process(body: str, *, pid: str = "P", executable: str = "true") -> str:
    return definitions(f'<bpmn:process id="{pid}" isExecutable="{executable}">\n{body}\n</bpmn:process>')


# --- the valid model -----------------------------------------------------------------------


def test_valid_model_has_no_issues():
    assert _lint(valid_model()) == []


def test_valid_model_is_accepted_by_spiffworkflow():
    from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser

    root = parse_bpmn_xml(valid_model())
    parser = SpiffBpmnParser()
    parser.add_bpmn_xml(root, filename=FILE)
    spec = parser.get_spec("Proc_valid")
    assert spec.task_specs["Task_check"].lane == "NAV"
    assert spec.task_specs["Task_find_home"].lane == "Boligkontakt"


def test_extract_user_tasks():
    xml = valid_model()
    tasks = extract_user_tasks(parse_bpmn_xml(xml))
    assert tasks == {
        "Task_check": {
            "name": "Check home",
            "lane": "NAV",
            "form": "check.schema.json",
            "due_in": "P5D",
            "line": line_of(xml, 'id="Task_check"'),
            "process": "Proc_valid",
            "type": "userTask",
        },
        "Task_find_home": {
            "name": "Find a home",
            "lane": "Boligkontakt",
            "form": None,
            "due_in": None,
            "line": line_of(xml, 'id="Task_find_home"'),
            "process": "Proc_valid",
            "type": "manualTask",
        },
    }


def test_extract_user_tasks_inside_a_subprocess_takes_the_subprocess_lane():
    xml = _process(
        f"""
        {lane_set({"NAV": ["Sub_1"], "Helse": ["Task_inner"]})}
        <bpmn:subProcess id="Sub_1">
          <bpmn:userTask id="Task_inner" name="Inner"/>
        </bpmn:subProcess>
        """
    )
    # SpiffWorkflow hands the sub-process's lane to everything inside it.
    assert extract_user_tasks(parse_bpmn_xml(xml))["Task_inner"]["lane"] == "NAV"


# --- file-wide ----------------------------------------------------------------------------


def test_duplicate_id():
    xml = _process(
        """
        <bpmn:scriptTask id="Task_dup"/>
        <bpmn:endEvent id="Task_dup"/>
        """
    )
    issue = _only(_lint(xml), "duplicate-id")
    assert issue.element_id == "Task_dup"
    assert issue.line == line_of(xml, '<bpmn:endEvent id="Task_dup"')
    assert "used twice" in issue.message and "unique" in issue.message


def test_no_executable_process():
    xml = definitions(
        """
        <bpmn:process id="Descriptive_A" isExecutable="false"/>
        <bpmn:process id="Descriptive_B" isExecutable="false"/>
        """
    )
    issues = _lint(xml)
    issue = _only(issues, "no-executable-process")
    assert issue.element_id == "Descriptive_A"
    assert issue.line == line_of(xml, 'id="Descriptive_A"')
    assert "'Descriptive_A', 'Descriptive_B'" in issue.message
    assert "descriptive models" in issue.message
    assert len(issues) == 1


def test_no_process_at_all():
    issue = _only(_lint(definitions("<bpmn:message id='M' name='m'/>")), "no-executable-process")
    assert issue.element_id is None
    assert "no process" in issue.message


def test_process_without_is_executable_counts_as_executable_like_spiffworkflow():
    xml = definitions('<bpmn:process id="P"><bpmn:startEvent id="S"/></bpmn:process>')
    assert _lint(xml) == []


def test_descriptive_processes_are_not_linted():
    xml = definitions(
        """
        <bpmn:process id="Descriptive" isExecutable="false">
          <bpmn:userTask id="Person_task"/>
          <bpmn:exclusiveGateway id="G"/>
          <bpmn:sequenceFlow id="F1" sourceRef="G" targetRef="Nowhere"/>
        </bpmn:process>
        <bpmn:process id="P" isExecutable="true"><bpmn:startEvent id="S"/></bpmn:process>
        """
    )
    assert _lint(xml) == []


def test_reserved_id():
    xml = _process('<bpmn:startEvent id="Start"/>')
    issue = _only(_lint(xml), "reserved-id")
    assert issue.element_id == "Start"
    assert issue.line == line_of(xml, 'id="Start"')
    assert "SpiffWorkflow" in issue.message


# --- flows --------------------------------------------------------------------------------


def test_dangling_flow_to_missing_element():
    xml = _process(
        """
        <bpmn:startEvent id="S"/>
        <bpmn:sequenceFlow id="Flow_lost" sourceRef="S" targetRef="Task_gone"/>
        """
    )
    issue = _only(_lint(xml), "dangling-flow")
    assert issue.element_id == "Flow_lost"
    assert issue.line == line_of(xml, 'id="Flow_lost"')
    assert "'Task_gone'" in issue.message and "no element with that id" in issue.message


def test_dangling_flow_into_another_process():
    xml = definitions(
        """
        <bpmn:process id="P" isExecutable="true">
          <bpmn:startEvent id="S"/>
          <bpmn:sequenceFlow id="Flow_cross" sourceRef="S" targetRef="Other_task"/>
        </bpmn:process>
        <bpmn:process id="Q" isExecutable="false">
          <bpmn:task id="Other_task"/>
        </bpmn:process>
        """
    )
    issue = _only(_lint(xml), "dangling-flow")
    assert issue.element_id == "Flow_cross"
    assert "process 'Q'" in issue.message and "not in process 'P'" in issue.message


def test_dangling_flow_without_source():
    xml = _process(
        """
        <bpmn:endEvent id="E"/>
        <bpmn:sequenceFlow id="Flow_half" targetRef="E"/>
        """
    )
    issue = _only(_lint(xml), "dangling-flow")
    assert issue.element_id == "Flow_half"
    assert "no sourceRef" in issue.message


def test_invalid_default_flow():
    xml = _process(
        """
        <bpmn:scriptTask id="Task_a" default="Flow_missing"/>
        <bpmn:sequenceFlow id="F1" sourceRef="Task_a" targetRef="E"/>
        <bpmn:endEvent id="E"/>
        """
    )
    issue = _only(_lint(xml), "invalid-default-flow")
    assert issue.element_id == "Task_a"
    assert issue.line == line_of(xml, 'id="Task_a"')
    assert "'Flow_missing'" in issue.message


def test_default_flow_that_does_not_leave_the_gateway():
    xml = _process(
        """
        <bpmn:startEvent id="S"/>
        <bpmn:sequenceFlow id="F0" sourceRef="S" targetRef="G"/>
        <bpmn:exclusiveGateway id="G" default="F0"/>
        <bpmn:sequenceFlow id="F1" sourceRef="G" targetRef="E"/>
        <bpmn:endEvent id="E"/>
        """
    )
    issue = _only(_lint(xml), "invalid-default-flow")
    assert issue.element_id == "G"
    assert "does not leave" in issue.message


GATEWAY_WITHOUT_DEFAULT = """
<bpmn:startEvent id="S"/>
<bpmn:sequenceFlow id="F0" sourceRef="S" targetRef="Gateway_has_home"/>
<bpmn:{kind} id="Gateway_has_home"/>
<bpmn:sequenceFlow id="Flow_yes" sourceRef="Gateway_has_home" targetRef="E1">
  <bpmn:conditionExpression>has_home</bpmn:conditionExpression>
</bpmn:sequenceFlow>
<bpmn:sequenceFlow id="Flow_no" sourceRef="Gateway_has_home" targetRef="E2">
  <bpmn:conditionExpression>not has_home</bpmn:conditionExpression>
</bpmn:sequenceFlow>
<bpmn:endEvent id="E1"/>
<bpmn:endEvent id="E2"/>
"""


@pytest.mark.parametrize(
    ("kind", "word"),
    [("exclusiveGateway", "exclusive gateway"), ("inclusiveGateway", "inclusive gateway")],
)
def test_missing_default_flow(kind, word):
    xml = _process(GATEWAY_WITHOUT_DEFAULT.format(kind=kind))
    issues = _lint(xml)
    issue = _only(issues, "missing-default-flow")
    assert issue.element_id == "Gateway_has_home"
    assert issue.line == line_of(xml, 'id="Gateway_has_home"/>')
    assert issue.message.startswith(f"{word} 'Gateway_has_home' has 2 outgoing flows but no default flow")
    assert len(issues) == 1


def test_parallel_gateway_needs_no_default():
    xml = _process(
        GATEWAY_WITHOUT_DEFAULT.format(kind="parallelGateway").replace(
            "<bpmn:conditionExpression>not has_home</bpmn:conditionExpression>", ""
        )
    )
    assert _lint(xml) == []


def test_missing_condition():
    xml = _process(
        """
        <bpmn:exclusiveGateway id="G" default="Flow_default"/>
        <bpmn:sequenceFlow id="Flow_default" sourceRef="G" targetRef="E1"/>
        <bpmn:sequenceFlow id="Flow_bare" sourceRef="G" targetRef="E2"/>
        <bpmn:sequenceFlow id="Flow_empty" sourceRef="G" targetRef="E2">
          <bpmn:conditionExpression>  </bpmn:conditionExpression>
        </bpmn:sequenceFlow>
        <bpmn:endEvent id="E1"/>
        <bpmn:endEvent id="E2"/>
        """
    )
    issues = _lint(xml)
    assert [(i.code, i.element_id) for i in issues] == [
        ("missing-condition", "Flow_bare"),
        ("missing-condition", "Flow_empty"),
    ]
    assert issues[0].line == line_of(xml, 'id="Flow_bare"')
    assert "leaves exclusive gateway 'G' without a condition" in issues[0].message


def test_invalid_condition():
    xml = _process(
        """
        <bpmn:exclusiveGateway id="G" default="F1"/>
        <bpmn:sequenceFlow id="F1" sourceRef="G" targetRef="E"/>
        <bpmn:sequenceFlow id="Flow_broken" sourceRef="G" targetRef="E">
          <bpmn:conditionExpression>has_home ==</bpmn:conditionExpression>
        </bpmn:sequenceFlow>
        <bpmn:endEvent id="E"/>
        """
    )
    issue = _only(_lint(xml), "invalid-condition")
    assert issue.element_id == "Flow_broken"
    assert issue.line == line_of(xml, 'id="Flow_broken"')
    assert "'has_home =='" in issue.message and "not a valid expression" in issue.message


def test_empty_condition_outside_a_gateway_is_invalid():
    xml = _process(
        """
        <bpmn:scriptTask id="T"/>
        <bpmn:sequenceFlow id="Flow_cond" sourceRef="T" targetRef="E">
          <bpmn:conditionExpression/>
        </bpmn:sequenceFlow>
        <bpmn:endEvent id="E"/>
        """
    )
    issue = _only(_lint(xml), "invalid-condition")
    assert issue.element_id == "Flow_cond"
    assert "empty condition" in issue.message


# --- loops --------------------------------------------------------------------------------


def test_unbounded_loop_without_wait_state():
    xml = _process(
        """
        <bpmn:startEvent id="S"/>
        <bpmn:sequenceFlow id="F0" sourceRef="S" targetRef="Task_spin"/>
        <bpmn:scriptTask id="Task_spin"/>
        <bpmn:sequenceFlow id="F1" sourceRef="Task_spin" targetRef="Gateway_again"/>
        <bpmn:exclusiveGateway id="Gateway_again" default="F_out"/>
        <bpmn:sequenceFlow id="F_back" sourceRef="Gateway_again" targetRef="Task_spin">
          <bpmn:conditionExpression>count &lt; 10</bpmn:conditionExpression>
        </bpmn:sequenceFlow>
        <bpmn:sequenceFlow id="F_out" sourceRef="Gateway_again" targetRef="E"/>
        <bpmn:endEvent id="E"/>
        """
    )
    issues = _lint(xml)
    issue = _only(issues, "unbounded-loop")
    assert issue.element_id == "Task_spin"
    assert issue.line == line_of(xml, 'id="Task_spin"/>')
    assert "script task 'Task_spin', exclusive gateway 'Gateway_again'" in issue.message
    assert "without a person in the loop" in issue.message
    assert len(issues) == 1


def test_loop_through_a_user_task_is_fine():
    # valid_model() loops Task_check -> Gateway -> Task_find_home -> Task_check.
    assert _lint(valid_model()) == []


def test_inner_spinning_loop_is_found_even_if_an_outer_loop_waits():
    xml = _process(
        f"""
        {lane_set({"NAV": ["Task_person", "G", "Task_spin", "S"]})}
        <bpmn:startEvent id="S"/>
        <bpmn:sequenceFlow id="F0" sourceRef="S" targetRef="Task_person"/>
        <bpmn:userTask id="Task_person"/>
        <bpmn:sequenceFlow id="F1" sourceRef="Task_person" targetRef="G"/>
        <bpmn:exclusiveGateway id="G" default="F_back"/>
        <bpmn:sequenceFlow id="F_back" sourceRef="G" targetRef="Task_person"/>
        <bpmn:sequenceFlow id="F_spin" sourceRef="G" targetRef="Task_spin">
          <bpmn:conditionExpression>x</bpmn:conditionExpression>
        </bpmn:sequenceFlow>
        <bpmn:scriptTask id="Task_spin"/>
        <bpmn:sequenceFlow id="F_spin_back" sourceRef="Task_spin" targetRef="G"/>
        """
    )
    issue = _only(_lint(xml), "unbounded-loop")
    assert issue.element_id == "G"
    assert "Task_person" not in issue.message


def test_loop_through_a_subprocess_with_a_user_task_waits():
    xml = _process(
        f"""
        {lane_set({"NAV": ["Sub", "G"]})}
        <bpmn:subProcess id="Sub">
          <bpmn:userTask id="Task_inner"/>
        </bpmn:subProcess>
        <bpmn:sequenceFlow id="F1" sourceRef="Sub" targetRef="G"/>
        <bpmn:exclusiveGateway id="G" default="F_back"/>
        <bpmn:sequenceFlow id="F_back" sourceRef="G" targetRef="Sub"/>
        """
    )
    assert _lint(xml) == []


def test_loop_through_an_error_boundary_event_spins():
    xml = _process(
        """
        <bpmn:scriptTask id="Task_call"/>
        <bpmn:boundaryEvent id="Boundary_error" attachedToRef="Task_call">
          <bpmn:errorEventDefinition id="ErrDef"/>
        </bpmn:boundaryEvent>
        <bpmn:sequenceFlow id="F_retry" sourceRef="Boundary_error" targetRef="Task_call"/>
        """
    )
    issue = _only(_lint(xml), "unbounded-loop")
    assert issue.element_id == "Task_call"
    assert "boundary event 'Boundary_error'" in issue.message


def test_self_loop_spins():
    xml = _process(
        """
        <bpmn:scriptTask id="Task_self"/>
        <bpmn:sequenceFlow id="F" sourceRef="Task_self" targetRef="Task_self"/>
        """
    )
    assert _only(_lint(xml), "unbounded-loop").element_id == "Task_self"


def test_standard_loop_without_maximum():
    xml = _process(
        """
        <bpmn:scriptTask id="Task_repeat">
          <bpmn:standardLoopCharacteristics>
            <bpmn:loopCondition>not done</bpmn:loopCondition>
          </bpmn:standardLoopCharacteristics>
        </bpmn:scriptTask>
        """
    )
    issue = _only(_lint(xml), "unbounded-loop")
    assert issue.element_id == "Task_repeat"
    assert issue.line == line_of(xml, 'id="Task_repeat"')
    assert "loopMaximum" in issue.message


def test_standard_loop_with_maximum_is_fine():
    xml = _process('<bpmn:scriptTask id="T"><bpmn:standardLoopCharacteristics loopMaximum="5"/></bpmn:scriptTask>')
    assert _lint(xml) == []


def test_recursive_call_activity():
    xml = _process('<bpmn:callActivity id="Call_self" calledElement="P"/>')
    issue = _only(_lint(xml), "recursive-call-activity")
    assert issue.element_id == "Call_self"
    assert issue.line == line_of(xml, 'id="Call_self"')
    assert "calls its own process 'P'" in issue.message


def test_indirectly_recursive_call_activity():
    xml = definitions(
        """
        <bpmn:process id="A" isExecutable="true">
          <bpmn:callActivity id="Call_b" calledElement="B"/>
        </bpmn:process>
        <bpmn:process id="B" isExecutable="true">
          <bpmn:callActivity id="Call_a" calledElement="A"/>
        </bpmn:process>
        """
    )
    issues = [i for i in _lint(xml) if i.code == "recursive-call-activity"]
    assert [i.element_id for i in issues] == ["Call_b", "Call_a"]
    assert "calls back into process 'A'" in issues[0].message


# --- lanes --------------------------------------------------------------------------------


def test_unknown_lane():
    xml = _process(
        f"""
        {lane_set({"NAV": ["Task_a"], "Saksbehandler": ["Task_b"]})}
        <bpmn:userTask id="Task_a"/>
        <bpmn:userTask id="Task_b"/>
        """
    )
    issue = _only(_lint(xml), "unknown-lane")
    assert issue.element_id == "Lane_2"
    assert issue.line == line_of(xml, 'name="Saksbehandler"')
    assert "'Saksbehandler'" in issue.message
    assert "prison, nav, health, housing, hospital, municipality" in issue.message
    assert "lane map" in issue.message


def test_lane_map_makes_a_lane_known():
    xml = _process(
        f"""
        {lane_set({"Saksbehandler": ["Task_b"]})}
        <bpmn:userTask id="Task_b"/>
        """
    )
    assert _lint(xml, lane_map={"Saksbehandler": "nav"}) == []


def test_lane_without_name():
    xml = _process(
        """
        <bpmn:laneSet id="LS"><bpmn:lane id="Lane_anon"><bpmn:flowNodeRef>T</bpmn:flowNodeRef>
        </bpmn:lane></bpmn:laneSet>
        <bpmn:userTask id="T"/>
        """
    )
    issue = _only(_lint(xml), "unknown-lane")
    assert issue.element_id == "Lane_anon"
    assert "has no name" in issue.message


def test_parent_lane_name_need_not_resolve():
    xml = _process(
        """
        <bpmn:laneSet id="LS">
          <bpmn:lane id="Lane_parent" name="Sarpsborg">
            <bpmn:flowNodeRef>T</bpmn:flowNodeRef>
            <bpmn:childLaneSet id="CLS">
              <bpmn:lane id="Lane_child" name="NAV"><bpmn:flowNodeRef>T</bpmn:flowNodeRef>
              </bpmn:lane>
            </bpmn:childLaneSet>
          </bpmn:lane>
        </bpmn:laneSet>
        <bpmn:userTask id="T"/>
        """
    )
    assert _lint(xml) == []
    assert extract_user_tasks(parse_bpmn_xml(xml))["T"]["lane"] == "NAV"


def test_task_without_lane():
    xml = _process(
        f"""
        {lane_set({"NAV": ["Task_a"]})}
        <bpmn:userTask id="Task_a"/>
        <bpmn:manualTask id="Task_orphan"/>
        """
    )
    issue = _only(_lint(xml), "task-without-lane")
    assert issue.element_id == "Task_orphan"
    assert issue.line == line_of(xml, 'id="Task_orphan"')
    assert "manual task 'Task_orphan'" in issue.message and "none of them" in issue.message


def test_no_lanes():
    xml = _process('<bpmn:userTask id="Task_a"/>', pid="Proc_no_lanes")
    issue = _only(_lint(xml), "no-lanes")
    assert issue.element_id == "Proc_no_lanes"
    assert issue.line == line_of(xml, 'id="Proc_no_lanes"')
    assert "'Task_a'" in issue.message and "lane" in issue.message


# --- forms and due dates ------------------------------------------------------------------


def _task_model(**props):
    return _process(
        f"""
        {lane_set({"NAV": ["Task_form"]})}
        <bpmn:userTask id="Task_form" name="Fill in">{properties(**props)}</bpmn:userTask>
        """
    )


def test_missing_form():
    xml = _task_model(formJsonSchemaFilename="nowhere.schema.json")
    issue = _only(_lint(xml), "missing-form")
    assert issue.element_id == "Task_form"
    assert issue.line == line_of(xml, 'id="Task_form"')
    assert "'nowhere.schema.json'" in issue.message and "'check.schema.json'" in issue.message


def test_user_task_without_form_is_allowed():
    xml = _process(f'{lane_set({"NAV": ["T"]})}<bpmn:userTask id="T"/>')
    assert _lint(xml, forms={}) == []


@pytest.mark.parametrize(
    ("schema", "reason"),
    [
        ({"type": "object", "properties": {"x": {"type": "no-such-type"}}}, "not a valid"),
        ({"type": "string"}, '"type": "object"'),
        ({"type": "object"}, '"properties"'),
        (["not", "a", "schema"], "not a JSON object"),
    ],
)
def test_invalid_form(schema, reason):
    xml = _task_model(formJsonSchemaFilename="bad.schema.json")
    issue = _only(_lint(xml, forms={"bad.schema.json": schema}), "invalid-form")
    assert issue.element_id == "Task_form"
    assert issue.line == line_of(xml, 'id="Task_form"')
    assert "'bad.schema.json'" in issue.message and reason in issue.message


def test_a_form_checked_again_is_judged_as_the_first_time_and_a_changed_one_anew():
    """The meta-schema check is kept per form text (``lint.forms._schema_error``): the same
    invalid form is refused the same way on every deploy, a corrected one passes, and one
    given with a tuple (no JSON array) is checked as it is, not as its text would read."""
    from bpmn.engine.lint import forms as form_checks

    xml = _task_model(formJsonSchemaFilename="bad.schema.json")
    bad = {"type": "object", "properties": {"x": {"type": "no-such-type"}}}
    first, again = (_only(_lint(xml, forms={"bad.schema.json": copy.deepcopy(bad)}), "invalid-form") for _ in "12")
    assert first.message == again.message and "not a valid" in first.message
    assert form_checks._meta_schema_error_of_text.cache_info().hits >= 1
    fixed = copy.deepcopy(bad)
    fixed["properties"]["x"]["type"] = "string"
    assert not [issue for issue in _lint(xml, forms={"bad.schema.json": fixed}) if issue.code == "invalid-form"]
    as_tuple = {"type": "object", "properties": {"x": {"type": "string", "enum": ("a", "b")}}}
    issue = _only(_lint(xml, forms={"bad.schema.json": as_tuple}), "invalid-form")
    assert "not a valid" in issue.message


def test_invalid_category():
    schema = copy.deepcopy(SIMPLE_FORM)
    schema["properties"]["diagnosis"] = {"type": "string", "x-category": "medical"}
    xml = _task_model(formJsonSchemaFilename="check.schema.json")
    issue = _only(_lint(xml, forms={"check.schema.json": schema}), "invalid-category")
    assert issue.element_id == "Task_form"
    assert "'diagnosis'" in issue.message and "'medical'" in issue.message
    assert ", ".join(DATA_CATEGORIES) in issue.message


def test_every_data_category_and_none_is_accepted():
    schema = {
        "type": "object",
        "properties": {name: {"type": "string", "x-category": name} for name in DATA_CATEGORIES},
    }
    schema["properties"]["restricted_note"] = {"type": "string"}
    xml = _task_model(formJsonSchemaFilename="all.schema.json")
    assert _lint(xml, forms={"all.schema.json": schema}) == []


def test_invalid_due_in():
    xml = _task_model(dueIn="5 days")
    issue = _only(_lint(xml), "invalid-due-in")
    assert issue.element_id == "Task_form"
    assert issue.line == line_of(xml, 'id="Task_form"')
    assert "'5 days'" in issue.message and "ISO-8601 duration" in issue.message


def test_valid_due_in():
    assert _lint(_task_model(dueIn="P5D")) == []
    assert _lint(_task_model(dueIn="PT4H")) == []


def test_issues_come_sorted_by_line():
    xml = _process(
        """
        <bpmn:scriptTask id="Task_self"/>
        <bpmn:sequenceFlow id="F" sourceRef="Task_self" targetRef="Task_self"/>
        <bpmn:endEvent id="Task_self"/>
        """
    )
    lines = [issue.line for issue in _lint(xml)]
    assert lines == sorted(lines)


def test_x_share_names_who_else_sees_a_field():
    schema = copy.deepcopy(SIMPLE_FORM)
    schema["properties"]["release_date"] = {"type": "string", "x-category": "justice", "x-share": "participants"}
    xml = _task_model(formJsonSchemaFilename="check.schema.json")
    assert _lint(xml, forms={"check.schema.json": schema}) == []

    schema["properties"]["release_date"]["x-share"] = "everyone"
    issue = _only(_lint(xml, forms={"check.schema.json": schema}), "invalid-share")
    assert issue.element_id == "Task_form"
    assert "'release_date'" in issue.message and "'everyone'" in issue.message
    assert issue.params["variant"] == "value"


@pytest.mark.parametrize("category", [None, "health", "economy", "housing", "identity", "coordination"])
def test_x_share_is_refused_on_a_field_the_law_does_not_share_by_default(category):
    """A process admin cannot share a health value (or economy, housing, a restricted field)
    with every participant: that needs the person's consent or a legal basis (domain.md)."""
    schema = copy.deepcopy(SIMPLE_FORM)
    field = {"type": "string", "x-share": "participants"}
    if category:
        field["x-category"] = category
    schema["properties"]["diagnosis"] = field
    xml = _task_model(formJsonSchemaFilename="check.schema.json")
    issue = _only(_lint(xml, forms={"check.schema.json": schema}), "invalid-share")
    assert issue.element_id == "Task_form" and issue.params["variant"] == "category"
    assert "'diagnosis'" in issue.message
