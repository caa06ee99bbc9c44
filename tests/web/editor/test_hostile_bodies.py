"""The editor's JSON endpoints under attack: deep nesting, NUL characters and drafts over the
deploy limit are 400 with a clear error, never a 500, and store nothing (issue 11)."""

import pytest
from django.urls import reverse

from bpmn.engine.xml import MAX_BPMN_BYTES
from bpmn.models import ProcessDraft
from tests.bpmn.editor.conftest import PRISON, post_json

pytestmark = pytest.mark.django_db

ENDPOINTS = [
    "process-draft-save",
    "process-draft-discard",
    "process-validate",
    "process-deploy",
    "process-form-preview",
]


@pytest.mark.parametrize("name", ENDPOINTS)
@pytest.mark.parametrize("depth", [100, 100_000])
def test_deeply_nested_json_is_400(web, shipped, name, depth):
    body = '{"forms": ' + "[" * depth + "]" * depth + "}"
    response = web("ada").post(reverse(name), body, content_type="application/json")
    assert response.status_code == 400
    assert "nøstet for dypt" in response.json()["detail"]  # the editor speaks bokmål
    assert not ProcessDraft.objects.exists()


@pytest.mark.parametrize("name", ENDPOINTS)
def test_a_nul_anywhere_in_the_body_is_400_naming_the_field(web, prison_content, name):
    content = {**prison_content, "bpmn_xml": prison_content["bpmn_xml"].replace("Kriminalomsorgen", "Krim\x00")}
    response = post_json(web("ada"), reverse(name), content)
    assert response.status_code == 400
    assert [error["field"] for error in response.json()["errors"]] == ["bpmn_xml"]
    assert response.json()["errors"][0]["message"] == "inneholder et NUL-tegn (U+0000), som ikke kan lagres"
    assert not ProcessDraft.objects.exists()
    response = post_json(web("ada"), reverse(name), {**prison_content, "key": "x\x00"})
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "key"


def test_a_draft_over_the_deploy_limit_is_refused_at_save(web, prison_content):
    padding = "<!--" + "x" * (MAX_BPMN_BYTES + 1 - len(prison_content["bpmn_xml"].encode()) - 7) + "-->"
    huge = prison_content["bpmn_xml"].replace("</bpmn:definitions>", padding + "</bpmn:definitions>")
    assert len(huge.encode()) == MAX_BPMN_BYTES + 1
    response = post_json(web("ada"), reverse("process-draft-save"), {**prison_content, "bpmn_xml": huge})
    assert response.status_code == 400
    too_large = f"modellen er større enn de {MAX_BPMN_BYTES} bytene som kan tas i bruk"
    assert response.json()["errors"] == [{"field": "bpmn_xml", "code": "draft.model_too_large", "message": too_large}]
    assert not ProcessDraft.objects.exists()
    # Exactly at the limit is still a draft.
    at_limit = huge.replace("x-->", "-->")
    response = post_json(web("ada"), reverse("process-draft-save"), {**prison_content, "bpmn_xml": at_limit})
    assert response.status_code == 200 and ProcessDraft.objects.get(key=PRISON)


def test_the_form_preview_names_a_remote_ref(web, shipped):
    schema = {"type": "object", "properties": {"home": {"$ref": "http://127.0.0.1:1/x.json"}}}
    response = post_json(web("ada"), reverse("process-form-preview"), {"schema": schema})
    assert response.status_code == 200
    assert "«home» i skjemaet har en $ref til en annen fil eller adresse" in response.content.decode()


def _with_field(content, schema):
    """The prison content with one more field in its first form, whose schema is ``schema``."""
    forms = {name: dict(form) for name, form in content["forms"].items()}
    first = sorted(forms)[0]
    forms[first]["properties"] = {**forms[first]["properties"], "free": schema}
    return {**content, "forms": forms}, first


@pytest.mark.parametrize("schema", [True, False])
@pytest.mark.parametrize("name", ["process-validate", "process-deploy"])
def test_a_field_whose_schema_is_true_or_false_is_refused_naming_the_form_and_field(web, prison_content, schema, name):
    """JSON Schema allows ``true`` and ``false`` as a property's schema; the deploy read each
    field as an object, so validate, deploy and the API's POST answered 500."""
    content, form = _with_field(prison_content, schema)
    response = post_json(web("ada"), reverse(name), content)
    assert response.status_code in (200, 400)
    issues = response.json().get("issues") or response.json()["errors"]
    refused = [issue for issue in issues if issue["code"] == "invalid-field-schema"]
    assert refused and "gir feltet «free» skjemaet true eller false" in refused[0]["message"]
    assert form in refused[0]["message"]


def test_the_api_refuses_a_field_whose_schema_is_true(web, prison_content):
    content, _form = _with_field(prison_content, True)
    body = {"bpmn_xml": content["bpmn_xml"], "forms": content["forms"]}
    response = post_json(web("ada"), "/api/v1/process-definitions/", body)
    assert response.status_code == 400
    assert "invalid-field-schema" in {error.get("code") for error in response.json()["errors"]}


@pytest.mark.parametrize(
    "field", [True, {"type": "string", "enum": ["a"], "x-enum-labels": ["A"]}], ids=["true", "labels-list"]
)
def test_the_form_preview_draws_a_field_it_cannot_read_as_a_text_field(web, shipped, field):
    schema = {"type": "object", "properties": {"free": field}}
    response = post_json(web("ada"), reverse("process-form-preview"), {"schema": schema})
    assert response.status_code == 200
    assert 'name="free"' in response.content.decode()
