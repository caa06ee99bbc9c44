"""Routing that fits the model (issue 14): lanes, pools, candidate groups, assignees, a default."""

from __future__ import annotations

import itertools

import pytest

from bpmn.engine.definition import compile_definition
from bpmn.engine.errors import BpmnValidationError
from bpmn.engine.routing import RoutingMap, route, routing_names, suggested_routing_map, validate_routing
from tests.bpmn.engine.bpmn_snippets import definitions, lane_set, line_of

CAMUNDA = 'xmlns:camunda="http://camunda.org/schema/1.0/bpmn"'


def _flow(*tasks: str, pid="P", extra="", attrs="") -> str:
    """start -> each task (given as XML) in turn -> end; task ids are taken from the XML."""
    ids = [task.split('id="', 1)[1].split('"', 1)[0] for task in tasks]
    chain = ["S", *ids, "E"]
    flows = "\n".join(
        f'<bpmn:sequenceFlow id="F{n}" sourceRef="{a}" targetRef="{b}"/>'
        for n, (a, b) in enumerate(itertools.pairwise(chain))
    )
    body = f"""
    {extra}
    <bpmn:process id="{pid}" isExecutable="true" {attrs}>
      <bpmn:startEvent id="S"/>
      {"".join(tasks)}
      <bpmn:endEvent id="E"/>
      {flows}
    </bpmn:process>"""
    return definitions(body).replace("<bpmn:definitions ", f"<bpmn:definitions {CAMUNDA} ", 1)


def _compile(xml, forms=None, **kwargs):
    return compile_definition(xml, forms=forms or {}, filename="routing.bpmn", **kwargs)


def test_candidate_group_routes_by_the_map():
    xml = _flow('<bpmn:userTask id="Approve" camunda:candidateGroups="accounting"/>')
    compiled = _compile(xml, routing={"groups": {"accounting": "nav"}})
    assert compiled.user_tasks["Approve"]["agency_kind"] == "nav"
    assert compiled.user_tasks["Approve"]["routed_by"] == "group"


def test_unmapped_candidate_group_is_refused_naming_the_task_and_the_entry_to_add():
    xml = _flow('<bpmn:userTask id="Approve" camunda:candidateGroups="management, accounting"/>')
    with pytest.raises(BpmnValidationError) as caught:
        _compile(xml)
    (issue,) = caught.value.issues
    assert (issue.code, issue.element_id) == ("unknown-group", "Approve")
    assert issue.line == line_of(xml, 'id="Approve"')
    assert "'management', 'accounting'" in issue.message
    assert '"groups": {"accounting": "<kind>"}' in issue.message and '"default"' in issue.message


def test_second_candidate_group_routes_when_the_first_is_unknown():
    xml = _flow('<bpmn:userTask id="Approve" camunda:candidateGroups="management, accounting"/>')
    compiled = _compile(xml, routing={"groups": {"accounting": "health"}})
    assert compiled.user_tasks["Approve"]["agency_kind"] == "health"


def test_assignee_routes_by_the_map():
    xml = _flow('<bpmn:userTask id="Review" camunda:assignee="demo"/>')
    with pytest.raises(BpmnValidationError) as caught:
        _compile(xml)
    assert '"assignees": {"demo": "<kind>"}' in caught.value.issues[0].message
    assert _compile(xml, routing={"assignees": {"demo": "housing"}}).user_tasks["Review"]["agency_kind"] == "housing"


def test_default_kind_routes_a_model_without_any_routing():
    xml = _flow('<bpmn:userTask id="A"/>', '<bpmn:manualTask id="B"/>', '<bpmn:task id="C"/>', pid="Bare")
    with pytest.raises(BpmnValidationError) as caught:
        _compile(xml)
    (issue,) = caught.value.issues
    assert (issue.code, issue.element_id) == ("no-lanes", "Bare")
    assert "'A', 'B', 'C'" in issue.message and '"default": "<kind>"' in issue.message
    compiled = _compile(xml, routing={"default": "municipality"})
    assert {task["agency_kind"] for task in compiled.user_tasks.values()} == {"municipality"}
    assert set(compiled.user_tasks) == {"A", "B", "C"}  # a plain task waits for a person: routed


def test_lane_wins_over_groups_and_default():
    xml = _flow('<bpmn:userTask id="A" camunda:candidateGroups="accounting"/>').replace(
        '<bpmn:startEvent id="S"/>', lane_set({"NAV": ["A", "S", "E"]}) + '<bpmn:startEvent id="S"/>'
    )
    compiled = _compile(xml, routing={"groups": {"accounting": "health"}, "default": "housing"})
    assert compiled.user_tasks["A"]["agency_kind"] == "nav"


def test_unknown_lane_names_the_lane_map_entry_to_add():
    xml = _flow('<bpmn:userTask id="A"/>').replace(
        '<bpmn:startEvent id="S"/>', lane_set({"Lane 1": ["A"]}) + '<bpmn:startEvent id="S"/>'
    )
    with pytest.raises(BpmnValidationError) as caught:
        _compile(xml)
    (issue,) = caught.value.issues
    assert (issue.code, issue.element_id) == ("unknown-lane", "Lane_1")
    assert '"lanes": {"Lane 1": "<' in issue.message
    assert _compile(xml, routing={"lanes": {"Lane 1": "prison"}}).user_tasks["A"]["agency_kind"] == "prison"
    assert _compile(xml, lanes={"Lane 1": "prison"}).user_tasks["A"]["agency_kind"] == "prison"  # the flat map


def test_pool_name_routes_tasks_of_its_process():
    collaboration = """<bpmn:collaboration id="C">
      <bpmn:participant id="Pool_nav" name="NAV Sarpsborg" processRef="P"/>
    </bpmn:collaboration>"""
    xml = _flow('<bpmn:userTask id="A"/>', extra=collaboration)
    assert _compile(xml, routing={"pools": {"NAV Sarpsborg": "nav"}}).user_tasks["A"]["agency_kind"] == "nav"
    with pytest.raises(BpmnValidationError) as caught:
        _compile(xml)
    assert '"pools": {"NAV Sarpsborg": "<kind>"}' in caught.value.issues[0].message


def test_routing_map_is_checked():
    assert validate_routing({"groups": {"x": "police"}})[0].code == "unknown-lane-kind"
    assert validate_routing({"default": "police"})[0].code == "unknown-lane-kind"
    assert validate_routing({"teams": {}})[0].code == "invalid-lane-map"
    assert validate_routing(["nav"])[0].code == "invalid-lane-map"
    assert validate_routing({"lanes": {"A": "NAV"}, "default": "housing"}) == []
    with pytest.raises(BpmnValidationError) as caught:
        _compile(_flow('<bpmn:userTask id="A"/>'), routing={"default": "police"})
    assert "'police' is not an agency kind" in caught.value.issues[0].message


def test_route_order_and_names():
    routing = RoutingMap.from_parts({"groups": {"g": "nav"}, "assignees": {"u": "health"}, "default": "housing"})
    assert route(None, ["g"], "u", None, routing).source == "group"
    assert route(None, [], "u", None, routing).source == "assignee"
    assert route(None, [], None, None, routing).source == "default"
    assert route("Helse", ["g"], None, None, routing).kind == "health"
    xml = _flow('<bpmn:userTask id="A" camunda:candidateGroups="g1" camunda:assignee="u1"/>', '<bpmn:task id="B"/>')
    names = routing_names(xml)
    assert names["groups"] == ["g1"] and names["assignees"] == ["u1"] and names["needs_default"] is True
    suggested = suggested_routing_map(names)
    assert validate_routing(suggested) == [] and suggested["default"]
    assert _compile(xml, routing=suggested).user_tasks["B"]["routed_by"] == "default"


# --- every element works or is refused at deploy --------------------------------------------


def test_script_task_without_an_inline_script_is_refused_naming_it():
    xml = _flow(
        '<bpmn:scriptTask id="Calc" scriptFormat="groovy" camunda:resource="calc.groovy"/>', '<bpmn:userTask id="A"/>'
    )
    with pytest.raises(BpmnValidationError) as caught:
        _compile(xml, routing={"default": "nav"})
    (issue,) = caught.value.issues
    assert (issue.code, issue.element_id) == ("missing-script", "Calc")
    assert "'calc.groovy'" in issue.message and "write the script into the task" in issue.message
    inline = xml.replace(
        '<bpmn:scriptTask id="Calc" scriptFormat="groovy" camunda:resource="calc.groovy"/>',
        '<bpmn:scriptTask id="Calc"><bpmn:script>x = 1</bpmn:script></bpmn:scriptTask>',
    )
    assert _compile(inline, routing={"default": "nav"}).process_id == "P"


def test_plain_task_is_a_manual_task_at_deploy_and_at_run():
    from bpmn.engine import runtime as engine

    xml = _flow('<bpmn:task id="Plain" name="Look it over"/>')
    compiled = _compile(xml, routing={"default": "health"})
    assert compiled.user_tasks["Plain"]["agency_kind"] == "health"
    workflow = engine.new_workflow(engine.restore_spec(compiled.spec_json))
    engine.advance(workflow)
    (ready,) = engine.ready_user_tasks(workflow)
    assert (ready.element_id, ready.kind) == ("Plain", "user")
    engine.complete_user_task(workflow, ready.id, {})
    engine.advance(workflow)
    assert workflow.is_completed()


# --- forms people already wrote ----------------------------------------------------------------

CAMUNDA_FORM_TASK = """<bpmn:userTask id="Approve" name="Approve invoice" camunda:candidateGroups="accounting">
  <bpmn:extensionElements><camunda:formData>
    <camunda:formField id="amount" label="Amount" type="long" defaultValue="100">
      <camunda:validation><camunda:constraint name="required"/><camunda:constraint name="min" config="1"/>
      </camunda:validation>
    </camunda:formField>
    <camunda:formField id="approved" label="Approved?" type="boolean" defaultValue="true"/>
    <camunda:formField id="decision" type="enum" defaultValue="reject">
      <camunda:value id="approve" name="Approve"/><camunda:value id="reject" name="Reject"/>
    </camunda:formField>
    <camunda:formField id="due" type="date"/>
    <camunda:formField id="note" type="string" defaultValue="${initiator}">
      <camunda:validation><camunda:constraint name="maxlength" config="200"/></camunda:validation>
    </camunda:formField>
  </camunda:formData></bpmn:extensionElements>
</bpmn:userTask>"""


def test_camunda_form_data_becomes_a_json_schema_form():
    import jsonschema

    compiled = _compile(_flow(CAMUNDA_FORM_TASK), routing={"groups": {"accounting": "nav"}})
    assert compiled.user_tasks["Approve"]["form"] == "Approve.form.json"
    schema = compiled.converted_forms["Approve.form.json"]
    jsonschema.Draft202012Validator.check_schema(schema)
    props = schema["properties"]
    assert list(props) == ["amount", "approved", "decision", "due", "note"]  # field order kept
    assert props["amount"] == {"type": "integer", "title": "Amount", "default": 100, "minimum": 1}
    assert props["approved"]["default"] is True
    assert props["decision"]["enum"] == ["approve", "reject"] and props["decision"]["default"] == "reject"
    assert props["decision"]["x-enum-labels"] == {"approve": "Approve", "reject": "Reject"}
    assert props["due"] == {"type": "string", "format": "date"}
    assert props["note"] == {"type": "string", "maxLength": 200}  # an expression is no default
    assert schema["required"] == ["amount"]
    # No category yet: restricted until the admin gives one (a form of the same name wins).
    assert set(compiled.fields.values()) == {"restricted"}
    reviewed = {**schema, "properties": {**props, "amount": {**props["amount"], "x-category": "economy"}}}
    recompiled = _compile(
        _flow(CAMUNDA_FORM_TASK), routing={"groups": {"accounting": "nav"}}, forms={"Approve.form.json": reviewed}
    )
    assert recompiled.fields["amount"] == "economy"
