"""``"x-valid-days"`` on a safety field: how long its warning is shown (domain.md: time-limited).
Checked at deploy like the other x- keys, each error naming the element and the field."""

import copy

import pytest

from tests.bpmn.engine.test_lint import SIMPLE_FORM, _lint, _only, _task_model


def _form(field):
    schema = copy.deepcopy(SIMPLE_FORM)
    schema["properties"]["trussel"] = field
    return {"check.schema.json": schema}


def test_a_safety_field_may_say_how_many_days_its_warning_holds():
    xml = _task_model(formJsonSchemaFilename="check.schema.json")
    assert _lint(xml, forms=_form({"type": "string", "x-category": "safety", "x-valid-days": 90})) == []


@pytest.mark.parametrize("days", [0, -5, 1.5, "90", True, None, 100000])
def test_x_valid_days_that_is_no_whole_number_of_days_is_refused(days):
    xml = _task_model(formJsonSchemaFilename="check.schema.json")
    field = {"type": "string", "x-category": "safety", "x-valid-days": days}
    issue = _only(_lint(xml, forms=_form(field)), "invalid-valid-days")
    assert issue.element_id == "Task_form"
    assert issue.params["variant"] == "value" and issue.params["field"] == "trussel"


@pytest.mark.parametrize("category", [None, "health", "justice", "coordination"])
def test_x_valid_days_on_a_field_that_is_no_safety_warning_is_refused(category):
    xml = _task_model(formJsonSchemaFilename="check.schema.json")
    field = {"type": "string", "x-valid-days": 30}
    if category:
        field["x-category"] = category
    issue = _only(_lint(xml, forms=_form(field)), "invalid-valid-days")
    assert issue.element_id == "Task_form" and issue.params["variant"] == "category"
    assert "'trussel'" in issue.message
