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
