"""Forms that cannot attack the server (issue 11, finding 4 and 5): deploy refuses remote and
recursive ``$ref`` and patterns RE2 cannot run; the run-time validator fetches nothing and
matches in linear time."""

import pytest

from bpmn.engine.forms_validation import (
    FORMAT_CHECKER,
    REGISTRY,
    UNUSABLE_FORM_MESSAGE,
    FormValidator,
    field_validator,
    form_validator,
    schema_problems,
)
from bpmn.engine.lint import lint_definitions
from bpmn.engine.xml import parse_bpmn_xml
from tests.bpmn.engine.bpmn_snippets import definitions, lane_set, properties
from tests.http_recorder import recording_server
from tests.timing import cpu_time

FILE = "forms.bpmn"


FORM = properties(formJsonSchemaFilename="f.schema.json")


def _lint_form(form):
    xml = definitions(f"""
        <bpmn:process id="P" isExecutable="true">
          {lane_set({"NAV": ["Start_1", "Task_form", "End_1"]})}
          <bpmn:startEvent id="Start_1"/>
          <bpmn:sequenceFlow id="F1" sourceRef="Start_1" targetRef="Task_form"/>
          <bpmn:userTask id="Task_form" name="Fill in">{FORM}</bpmn:userTask>
          <bpmn:sequenceFlow id="F2" sourceRef="Task_form" targetRef="End_1"/>
          <bpmn:endEvent id="End_1"/>
        </bpmn:process>
        """)
    return lint_definitions(
        parse_bpmn_xml(xml, filename=FILE), filename=FILE, forms={"f.schema.json": form}, lane_map=None
    )


def _form(**fields):
    return {"type": "object", "properties": fields}


def _only_issue(form, code):
    issues = _lint_form(form)
    assert [issue.code for issue in issues] == [code], issues
    (issue,) = issues
    assert issue.element_id == "Task_form" and issue.file == FILE
    assert "'f.schema.json'" in issue.message
    return issue


@pytest.mark.parametrize(
    "ref",
    [
        "http://127.0.0.1:8000/schema.json",
        "https://example.org/address.schema.json#/properties/street",
        "file:///etc/passwd",
        "urn:example:address",
        "address.schema.json",
        "//example.org/x",
    ],
)
def test_a_remote_ref_is_refused_at_deploy_naming_element_form_and_field(ref):
    issue = _only_issue(_form(address={"$ref": ref}), "remote-ref")
    assert "in the field 'address'" in issue.message and repr(ref) in issue.message


def test_a_remote_ref_deep_inside_a_field_names_the_nested_field():
    form = _form(home={"type": "object", "properties": {"street": {"allOf": [{"$ref": "http://x/y"}]}}})
    assert "in the field 'home.street'" in _only_issue(form, "remote-ref").message


@pytest.mark.parametrize(
    ("form", "field"),
    [
        (_form(x={"$ref": "#/properties/x"}), "x"),  # itself
        (_form(x={"allOf": [{"$ref": "#"}]}), "x"),  # the whole form, an ancestor
        (
            {
                "type": "object",
                "$defs": {"a": {"$ref": "#/$defs/b"}, "b": {"anyOf": [{"$ref": "#/$defs/a"}]}},
                "properties": {"x": {"$ref": "#/$defs/a"}},
            },
            None,
        ),  # a cycle through two definitions
        (
            {
                "type": "object",
                "$defs": {"node": {"type": "object", "properties": {"child": {"$ref": "#/$defs/node"}}}},
                "properties": {"tree": {"$ref": "#/$defs/node"}},
            },
            None,
        ),  # a recursive structure
    ],
)
def test_a_recursive_ref_is_refused_at_deploy(form, field):
    issues = _lint_form(form)
    assert issues and {issue.code for issue in issues} == {"recursive-ref"}, issues
    assert all(issue.element_id == "Task_form" and "leads back to itself" in issue.message for issue in issues)
    if field:
        assert f"in the field '{field}'" in issues[0].message


def test_a_ref_to_nothing_or_to_an_anchor_is_refused():
    assert "points at nothing" in _only_issue(_form(x={"$ref": "#/$defs/missing"}), "unresolvable-ref").message
    assert "JSON pointer" in _only_issue(_form(x={"$ref": "#street"}), "invalid-ref").message


def test_local_refs_that_do_not_loop_are_accepted():
    form = {
        "type": "object",
        "$defs": {"text": {"type": "string", "maxLength": 5}},
        "properties": {"a": {"$ref": "#/$defs/text"}, "b": {"$ref": "#/properties/a"}},
    }
    assert _lint_form(form) == []
    validator = form_validator(form)
    assert [e.message for e in validator.iter_errors({"a": "abc", "b": "abcdef"})] == ["'abcdef' is too long"]


@pytest.mark.parametrize(
    ("form", "field", "fragment"),
    [
        (_form(code={"type": "string", "pattern": r"^(a)\1$"}), "code", "backreferences"),
        (_form(code={"type": "string", "pattern": "^(?=a)"}), "code", "lookaround"),
        (_form(code={"type": "string", "pattern": "(?<!x)y"}), "code", "lookaround"),
        (_form(map={"type": "object", "patternProperties": {r"^(\w)\1": {}}}), "map", "patternProperties"),
    ],
)
def test_a_pattern_re2_cannot_run_is_refused_at_deploy(form, field, fragment):
    issue = _only_issue(form, "invalid-pattern")
    assert f"in the field '{field}'" in issue.message and fragment in issue.message


def test_pattern_properties_with_unevaluated_properties_are_refused():
    form = _form(map={"type": "object", "patternProperties": {"^a": {}}, "unevaluatedProperties": False})
    assert "unevaluatedProperties" in _only_issue(form, "invalid-pattern").message


def test_a_catastrophic_pattern_is_matched_in_linear_time():
    validator = form_validator(
        _form(
            code={"type": "string", "pattern": "^(a+)+$"},
            map={
                "type": "object",
                "patternProperties": {"^(a+)+$": {"type": "integer"}},
                "additionalProperties": False,
            },
        )
    )
    attack = "a" * 40 + "!"
    with cpu_time() as used:
        errors = list(validator.iter_errors({"code": attack, "map": {attack: 1, "a" * 30: "x"}}))
    assert used.seconds < 0.1
    assert sorted(list(error.path) for error in errors) == [["code"], ["map"], ["map", "a" * 30]]
    assert not list(validator.iter_errors({"code": "aaaa", "map": {"aa": 1}}))


def test_format_regex_is_checked_by_re2():
    validator = form_validator(_form(rule={"type": "string", "format": "regex"}))
    assert [e.message for e in validator.iter_errors({"rule": r"(a)\1"})] == [r"'(a)\\1' is not a 'regex'"]
    assert not list(validator.iter_errors({"rule": "^[0-9]{4}$"}))


def test_the_validator_never_fetches_a_remote_schema():
    with recording_server() as (base, hits):
        # Built past the deploy checks (as an older deploy would have stored it): refused, not fetched.
        raw = FormValidator(_form(x={"$ref": f"{base}/x.json"}), registry=REGISTRY, format_checker=FORMAT_CHECKER)
        assert [e.message for e in raw.iter_errors({"x": 1})] == [UNUSABLE_FORM_MESSAGE]
        # What the registry hands out refuses the whole form up front.
        guarded = form_validator(_form(x={"$ref": f"{base}/x.json"}))
        assert [e.message for e in guarded.iter_errors({"x": 1})] == [UNUSABLE_FORM_MESSAGE]
        assert [e.message for e in field_validator(guarded, {"type": "integer"}).iter_errors(1)] == [
            UNUSABLE_FORM_MESSAGE
        ]
    assert hits == []


def test_a_self_referencing_form_refuses_instead_of_recursing():
    validator = form_validator(_form(x={"$ref": "#/properties/x"}))
    assert [e.message for e in validator.iter_errors({"x": 1})] == [UNUSABLE_FORM_MESSAGE]


def test_field_validators_resolve_refs_against_their_form():
    form = {
        "type": "object",
        "$defs": {"day": {"type": "string", "format": "date"}},
        "properties": {"when": {"$ref": "#/$defs/day"}},
    }
    validator = field_validator(form_validator(form), form["properties"]["when"])
    assert [e.message for e in validator.iter_errors("soon")] == ["'soon' is not a 'date'"]
    assert not list(validator.iter_errors("2027-01-15"))


def test_problems_are_found_in_a_deeply_nested_form_without_recursion():
    node = {"type": "string", "pattern": "(?=x)"}
    for _ in range(5000):
        node = {"type": "object", "properties": {"n": node}}
    (problem,) = schema_problems(node)
    assert problem.code == "invalid-pattern"
