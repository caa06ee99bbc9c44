"""Forms that make validation recurse past Python's stack or run for seconds, and a deploy
check that was quadratic (resource-exhaustion review):

- a chain of 500 ``$ref``s was accepted at deploy and a RecursionError (a 500) on every
  submit; checking a chain of 8,000 for recursion took 5 s (16,000: 24 s);
- ``allOf`` chains repeated at each level of the data through references passed every
  check and ran out of stack on 19 levels of data (a 500);
- ``unevaluatedProperties`` under ``anyOf`` validates each level twice: 17 levels of data
  took 4 s, 19 took 15 s.
"""

import pytest

from bpmn.engine import forms_validation
from bpmn.engine.forms_validation import form_validator, schema_problems
from bpmn.services import InvalidModel
from core.errors import InvalidInput
from tests.timing import cpu_time
from workflows import services
from workflows.models import TaskStatus

from . import form_safety
from .helpers import open_tasks

pytestmark = pytest.mark.django_db

NOTE = form_safety.FILL_FORM["properties"]["note"]  # the message of the test model writes it


def _chain(length: int) -> dict:
    defs = {f"d{i}": {"$ref": f"#/$defs/d{i + 1}"} for i in range(length)}
    defs[f"d{length}"] = {"type": "string"}
    return {
        "type": "object",
        "$defs": defs,
        "properties": {"code": {"$ref": "#/$defs/d0", "x-category": "coordination"}, "note": NOTE},
    }


def _nested(levels: int, wrapped: int) -> dict:
    """Each level of the data through ``wrapped`` allOfs, each level its own definition."""

    def level(index: int) -> dict:
        schema: dict = {"type": "object", "properties": {"a": {"$ref": f"#/$defs/l{index + 1}"}}}
        for _ in range(wrapped):
            schema = {"allOf": [schema]}
        return schema

    defs = {f"l{index}": level(index) for index in range(levels)}
    defs[f"l{levels}"] = {"type": "string"}
    code = {"$ref": "#/$defs/l0", "x-category": "coordination"}
    return {"type": "object", "$defs": defs, "properties": {"code": code, "note": NOTE}}


def _closed(levels: int) -> dict:
    """Closed objects with alternatives, nested: a common way to say "no other keys"."""
    schema: dict = {"type": "string"}
    for _ in range(levels):
        schema = {
            "type": "object",
            "anyOf": [{"properties": {"a": schema}}, {"properties": {"b": {"type": "string"}}}],
            "unevaluatedProperties": False,
        }
    return {"type": "object", "properties": {"code": {**schema, "x-category": "coordination"}, "note": NOTE}}


def _deep(levels: int):
    value = "v"
    for _ in range(levels):
        value = {"a": value}
    return value


def _task(users, agencies, form):
    form_safety.deploy(form)
    (task,) = open_tasks(form_safety.start(users, agencies))
    return task


def test_a_chain_of_references_is_checked_in_linear_time():
    with cpu_time() as used:
        problems = schema_problems(_chain(8_000))
    assert used.seconds < 1.5  # 5.3 s before
    assert [(problem.code, problem.field) for problem in problems] == [("schema-too-deep", "code")]


def test_deploy_refuses_a_chain_of_references_too_long_to_validate(db):
    with pytest.raises(InvalidModel) as raised:
        form_safety.deploy(_chain(500))
    (issue,) = raised.value.issues
    assert (issue.code, issue.element_id) == ("schema-too-deep", "Task_fill")
    assert "in the field 'code'" in issue.message


def test_a_stored_chain_refuses_the_submit_instead_of_running_out_of_stack():
    validator = form_validator(_chain(500))
    assert [error.validator for error in validator.iter_errors({"code": "abc"})] == [
        forms_validation.UNUSABLE_FORM_KEYWORD
    ]


def test_short_chains_and_nesting_through_the_data_are_fine():
    assert schema_problems(_chain(50)) == []
    assert schema_problems(_nested(20, 40)) == []


def test_validation_past_the_stack_is_a_400_naming_the_field_not_a_500(users, agencies):
    task = _task(users, agencies, _nested(20, 40))
    with pytest.raises(InvalidInput) as raised:
        services.complete_task(actor=users["nils"], task_id=task.pk, data={"code": _deep(19)})
    ((field, code),) = {(error["field"], error["code"]) for error in raised.value.errors}
    assert code == "schema.too_costly" and field.startswith("code.a")
    task.refresh_from_db()
    assert task.status == TaskStatus.OPEN


def test_a_validation_that_runs_long_stops_on_its_time_budget(users, agencies, monkeypatch):
    monkeypatch.setattr(forms_validation, "VALIDATION_CPU_SECONDS", 0.3, raising=False)
    task = _task(users, agencies, _closed(17))
    with cpu_time() as used, pytest.raises(InvalidInput) as raised:
        services.complete_task(actor=users["nils"], task_id=task.pk, data={"code": _deep(17)})
    assert used.seconds < 1.5  # 4 s before (19 levels: 15 s)
    ((field, code),) = {(error["field"], error["code"]) for error in raised.value.errors}
    assert code == "schema.too_costly" and field.startswith("code")


def test_a_large_ordinary_submission_is_within_the_budget(users, agencies):
    row = {
        "type": "object",
        "properties": {key: {"type": "string", "maxLength": 200} for key in "abcde"},
        "required": ["a", "b"],
        "additionalProperties": False,
    }
    rows_field = {"type": "array", "items": row, "x-category": "coordination"}
    form = {"type": "object", "properties": {"rows": rows_field, **form_safety.FILL_FORM["properties"]}}
    task = _task(users, agencies, form)
    rows = [{key: f"verdi {index}" for key in "abcde"} for index in range(8_000)]  # about 0.8 MB
    services.complete_task(actor=users["nils"], task_id=task.pk, data={"rows": rows})
    task.refresh_from_db()
    assert task.status == TaskStatus.COMPLETED


def test_many_references_deep_in_a_form_are_checked_in_linear_time():
    """5,000 references 200 levels down (a 160 kB form): each prefix of each was made and
    hashed, quadratic in the depth (8 s)."""
    fields: dict = {"properties": {f"p{index}": {"$ref": "#/$defs/a"} for index in range(5_000)}}
    for _ in range(200):
        fields = {"type": "object", "properties": {"a": fields}}
    form = {"type": "object", "$defs": {"a": {"type": "string"}}, "properties": {"code": fields}}
    with cpu_time() as used:
        schema_problems(form)
    assert used.seconds < 2.0
