"""Every deployed form is checked, named by a task or not (``lint.forms.lint_other_forms``).

Until 2026-12-05 a form no start event or task named was stored with the version unchecked,
yet its fields still set the validators of message payloads and the field rules
(``permissions.policy.field_rules``: categories, x-share): an invalid schema, a pattern RE2
cannot run, a remote or recursive $ref, too deep a schema or an x-share on health data got in
beside a model that passed. The API, the editor and ``deploy_bpmn`` all refuse it now."""

import json

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from bpmn.engine.definition import compile_definition
from bpmn.engine.errors import BpmnValidationError
from bpmn.models import ProcessDefinition

from .conftest import SMALL_FORM, small_model


def _chain(length):
    """A chain of references: shallow as text, too deep to validate."""
    defs = {f"d{i}": {"$ref": f"#/$defs/d{i + 1}"} for i in range(length)}
    defs[f"d{length}"] = {"type": "string"}
    return {"type": "object", "$defs": defs, "properties": {"code": {"$ref": "#/$defs/d0"}}}


def _form(**fields):
    return {"type": "object", "properties": fields}


BAD_FORMS = [
    ({"type": "object", "properties": {"a": {"type": "nonsense"}}}, "invalid-form"),
    (_form(a={"type": "string"}) | {"type": "array"}, "invalid-form"),
    (_form(diagnosis={"type": "string", "x-category": "health", "x-share": "participants"}), "invalid-share"),
    (_form(a={"type": "string", "x-category": "gossip"}), "invalid-category"),
    (_form(code={"type": "string", "pattern": r"^(a)\1$"}), "invalid-pattern"),
    (_form(address={"$ref": "https://example.org/address.schema.json"}), "remote-ref"),
    ({"type": "object", "$defs": {"n": {"$ref": "#/$defs/n"}}, "properties": {"a": {"$ref": "#/$defs/n"}}}, None),
    (_chain(500), "schema-too-deep"),
]


@pytest.mark.parametrize(("form", "code"), BAD_FORMS)
def test_a_form_no_task_names_is_checked_like_one_a_task_names(form, code):
    forms = {"small.schema.json": SMALL_FORM, "extra.schema.json": form}
    with pytest.raises(BpmnValidationError) as raised:
        compile_definition(small_model(), forms=forms)
    issues = raised.value.issues
    assert issues and all(issue.params.get("form") == "extra.schema.json" for issue in issues), issues
    assert all(issue.element_id is None and "'extra.schema.json'" in issue.message for issue in issues)
    if code:
        assert code in {issue.code for issue in issues}


def test_unused_forms_that_pass_the_checks_are_accepted_and_each_form_is_checked_once():
    compile_definition(small_model(), forms={"small.schema.json": SMALL_FORM, "extra.schema.json": SMALL_FORM})
    with pytest.raises(BpmnValidationError) as raised:
        compile_definition(small_model(), forms={"small.schema.json": _form(a={"type": "string", "x-category": "x"})})
    assert [issue.element_id for issue in raised.value.issues] == ["Task_prison", "Task_hospital"]


def test_the_api_refuses_an_unused_bad_form_naming_it(users, client_for, db):
    forms = {"small.schema.json": SMALL_FORM, "extra.schema.json": BAD_FORMS[2][0]}
    response = client_for("ada").post(
        "/api/v1/process-definitions/", {"bpmn_xml": small_model(), "forms": forms}, format="json"
    )
    assert response.status_code == 400
    (error,) = response.json()["errors"]
    assert error["field"] == "forms" and error["code"] == "invalid-share"
    assert "extra.schema.json" in error["message"], error
    assert not ProcessDefinition.objects.exists()


def test_the_editor_refuses_an_unused_bad_form(users, client, db):
    client.force_login(users["ada"])
    body = {"bpmn_xml": small_model(), "forms": {"small.schema.json": SMALL_FORM, "extra.schema.json": BAD_FORMS[4][0]}}
    response = client.post(reverse("process-validate"), json.dumps(body), content_type="application/json")
    assert "invalid-pattern" in response.content.decode() and "extra.schema.json" in response.content.decode()


def test_deploy_bpmn_refuses_an_unused_bad_form_beside_the_model(db, tmp_path):
    (tmp_path / "small.bpmn").write_text(small_model())
    (tmp_path / "forms").mkdir()
    (tmp_path / "forms" / "small.schema.json").write_text(json.dumps(SMALL_FORM))
    (tmp_path / "forms" / "extra.schema.json").write_text(json.dumps(BAD_FORMS[5][0]))
    with pytest.raises(CommandError):
        call_command("deploy_bpmn", str(tmp_path / "small.bpmn"))
    assert not ProcessDefinition.objects.exists()
    (tmp_path / "forms" / "extra.schema.json").write_text(json.dumps(SMALL_FORM))
    call_command("deploy_bpmn", str(tmp_path / "small.bpmn"))
    assert ProcessDefinition.objects.exists()
