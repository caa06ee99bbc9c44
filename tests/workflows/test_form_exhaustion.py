"""Forms and data that make one submission burn seconds of CPU or fail with a 500
(resource-exhaustion review): uniqueItems over objects, references that fan out, and a
multipleOf check of a huge integer."""

import pytest

from bpmn.engine.forms_validation import FormValidator, form_validator, schema_problems
from bpmn.services import InvalidModel
from core.errors import InvalidInput
from tests.timing import cpu_time
from workflows import services
from workflows.models import TaskStatus

from . import form_safety
from .helpers import open_tasks

pytestmark = pytest.mark.django_db

LIST_FORM = {
    "type": "object",
    "properties": {
        "contacts": {"type": "array", "uniqueItems": True, "x-category": "coordination"},
        "amount": {"type": "number", "multipleOf": 2.5, "x-category": "coordination"},
        **form_safety.FILL_FORM["properties"],
    },
}


def _fill_task(case):
    (task,) = open_tasks(case)
    assert task.element_id == "Task_fill"
    return task


def test_unique_items_over_thousands_of_objects_is_checked_in_linear_time(users, agencies):
    form_safety.deploy(LIST_FORM)
    case = form_safety.start(users, agencies)
    task = _fill_task(case)
    contacts = [{"name": f"kontakt {i}", "phone": str(i)} for i in range(3000)]  # about 110 kB

    with cpu_time() as used, pytest.raises(InvalidInput) as raised:
        services.complete_task(actor=users["nils"], task_id=task.pk, data={"contacts": [*contacts, contacts[7]]})
    assert used.seconds < 1.5  # quadratic before: about 10 s
    assert [(error["field"], error["code"]) for error in raised.value.errors] == [("contacts", "schema.uniqueItems")]

    with cpu_time() as used:
        services.complete_task(actor=users["nils"], task_id=task.pk, data={"contacts": contacts})
    assert used.seconds < 1.5
    task.refresh_from_db()
    assert task.status == TaskStatus.COMPLETED


@pytest.mark.parametrize(
    ("items", "unique"),
    [
        ([1, 1.0], False),
        ([1, True], True),
        ([0, False], True),
        ([{"a": [1, {"b": None}]}, {"a": [1, {"b": None}]}], False),
        ([{"a": 1, "b": 2}, {"b": 2, "a": 1}], False),
        ([{"a": 1}, {"a": 1, "b": 2}], True),
        ([[1, 2], [2, 1]], True),
        ([[True], [1]], True),
        (["1", 1], True),
        ([None, None], False),
        ([{"a": 1.0}, {"a": 1}], False),
    ],
)
def test_unique_items_keeps_json_schema_equality(items, unique):
    schema = {"type": "array", "uniqueItems": True}
    assert form_validator(schema).is_valid(items) is unique
    assert FormValidator(schema).is_valid(items) is unique


def _fanout_form(levels: int) -> dict:
    defs = {f"d{i}": {"allOf": [{"$ref": f"#/$defs/d{i + 1}"}, {"$ref": f"#/$defs/d{i + 1}"}]} for i in range(levels)}
    defs[f"d{levels}"] = {"type": "string", "pattern": "^a"}
    return {
        "type": "object",
        "$defs": defs,
        "properties": {"code": {"$ref": "#/$defs/d0", "x-category": "coordination"}},
    }


def test_deploy_refuses_references_that_fan_out_exponentially(db):
    with cpu_time() as used, pytest.raises(InvalidModel) as raised:
        form_safety.deploy(_fanout_form(40))  # 2**40 schemas to check for one value
    assert used.seconds < 2
    (issue,) = raised.value.issues
    assert (issue.code, issue.element_id) == ("ref-fanout", "Task_fill")
    assert "in the field 'code'" in issue.message


def test_a_stored_fanning_form_refuses_the_submit_at_once():
    with cpu_time() as used:
        validator = form_validator(_fanout_form(40))
        assert not validator.is_valid({"code": "abc"})
    assert used.seconds < 1


def test_shared_definitions_used_a_few_times_are_fine():
    address = {"type": "object", "properties": {"street": {"type": "string"}, "zip": {"type": "string"}}}
    form = {
        "type": "object",
        "$defs": {
            "address": address,
            "person": {"type": "object", "properties": {"home": {"$ref": "#/$defs/address"}}},
        },
        "properties": {f"p{i}": {"$ref": "#/$defs/person"} for i in range(20)},
    }
    assert schema_problems(form) == []


def test_multiple_of_a_huge_integer_is_a_field_error_not_a_crash(users, agencies):
    form_safety.deploy(LIST_FORM)
    case = form_safety.start(users, agencies)
    task = _fill_task(case)
    with pytest.raises(InvalidInput) as raised:
        services.complete_task(actor=users["nils"], task_id=task.pk, data={"amount": 10**4000 + 1})
    assert [(error["field"], error["code"]) for error in raised.value.errors] == [("amount", "schema.multipleOf")]
    services.complete_task(actor=users["nils"], task_id=task.pk, data={"amount": 10**4000})
    task.refresh_from_db()
    assert task.status == TaskStatus.COMPLETED


POSTAL_CODES = [f"{code:04d}" for code in range(5000)]


def test_enum_of_thousands_checked_against_a_long_list_in_linear_time(users, agencies):
    """A postal-code list (5,000 values) on a list field: each item was compared with every
    value, 10,000 items (70 kB) 3.7 s of CPU."""
    form = {
        "type": "object",
        "properties": {
            "codes": {"type": "array", "items": {"enum": POSTAL_CODES}, "x-category": "coordination"},
            **form_safety.FILL_FORM["properties"],
        },
    }
    form_safety.deploy(form)
    case = form_safety.start(users, agencies)
    task = _fill_task(case)
    with cpu_time() as used, pytest.raises(InvalidInput) as raised:
        services.complete_task(actor=users["nils"], task_id=task.pk, data={"codes": ["4999"] * 20_000 + ["x"]})
    assert used.seconds < 1.5
    assert [(error["field"], error["code"]) for error in raised.value.errors] == [("codes.20000", "schema.enum")]


@pytest.mark.parametrize(
    ("enum", "value", "valid"),
    [
        ([1, "a"], 1.0, True),
        ([1, "a"], True, False),
        ([True], 1, False),
        ([False, None], 0, False),
        ([None], None, True),
        ([{"a": [1, 2]}], {"a": [1, 2]}, True),
        ([{"a": [1, 2]}], {"a": [2, 1]}, False),
        ([[1, {"b": 2.0}]], [1, {"b": 2}], True),
        (["1"], 1, False),
    ],
)
def test_enum_keeps_json_schema_equality(enum, value, valid):
    schema = {"enum": enum}
    assert form_validator(schema).is_valid(value) is valid
    assert FormValidator(schema).is_valid(value) is valid


def test_a_form_of_thousands_of_references_is_checked_in_linear_time():
    """Every reference was compared with every target (quadratic: 6,000 took 2 s)."""
    count = 6000
    form = {
        "type": "object",
        "$defs": {f"d{i}": {"type": "string"} for i in range(count)},
        "properties": {f"p{i}": {"$ref": f"#/$defs/d{i}"} for i in range(count)},
    }
    with cpu_time() as used:
        assert schema_problems(form) == []
    assert used.seconds < 1


def test_definitions_count_only_where_they_are_referred_to():
    """A chain of definitions each referring to the next once is linear, not refused."""
    count = 300
    defs = {f"d{i}": {"type": "object", "properties": {"x": {"$ref": f"#/$defs/d{i + 1}"}}} for i in range(count)}
    defs[f"d{count}"] = {"type": "string"}
    assert schema_problems({"type": "object", "$defs": defs, "properties": {"p": {"$ref": "#/$defs/d0"}}}) == []
