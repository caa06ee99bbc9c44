"""Files from other modelers (the MIWG exports of the shared corpus, read in place, never
copied) go through the editor's validate endpoint and the version diff: each answers with
a verdict and named issues, never a server error."""

from pathlib import Path

import pytest
from django.urls import reverse

from bpmn.diff import diff_versions
from bpmn.engine.errors import BpmnValidationError
from tests.bpmn.editor.conftest import post_json
from tests.conftest import SHARED

EXPORTS = SHARED / "bpmn-corpus" / "miwg" / "exports"
FILES = sorted(EXPORTS.rglob("*.bpmn")) if EXPORTS.is_dir() else []

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(not FILES, reason=f"BPMN corpus not found at {EXPORTS} (../shared/bpmn-corpus beside the repo)"),
]


def _name(path: Path) -> str:
    return str(path.relative_to(EXPORTS))


@pytest.fixture
def ada_client(web):
    return web("ada")


@pytest.mark.parametrize("path", FILES, ids=_name)
def test_a_file_from_another_modeler_gets_a_verdict_with_named_issues(ada_client, path):
    xml = path.read_bytes().decode("utf-8", errors="replace")
    response = post_json(ada_client, reverse("process-validate"), {"bpmn_xml": xml, "forms": {}})
    assert response.status_code == 200, response.content[:300]
    body = response.json()
    assert body["valid"] is (not body["issues"])
    for issue in body["issues"]:
        assert issue["code"] and issue["message"]


@pytest.mark.parametrize("path", FILES, ids=_name)
def test_a_file_from_another_modeler_has_no_difference_from_itself(path):
    xml = path.read_bytes().decode("utf-8", errors="replace")
    try:
        assert diff_versions(xml, xml).empty
    except BpmnValidationError as exc:  # refused by the hardened parser: named, not a crash
        assert exc.issues[0].code
