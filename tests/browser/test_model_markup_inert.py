"""A process model is served as a file, never as a page of the site. A model is markup a
process admin wrote: an XHTML ``<script src>`` inside it ran in Chromium when a reader
opened the model's URL (the site's policy stops inline script, not the site's own files),
in the reader's session."""

import pytest

from bpmn.models import ProcessDefinition
from bpmn.services import deploy_definition

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PlaywrightError = pytest.importorskip("playwright.sync_api").Error

SCRIPT = '<h:script xmlns:h="http://www.w3.org/1999/xhtml" src="/static/brobygger/diagram.js"></h:script>'


def test_a_script_element_in_a_model_does_not_run_when_its_url_is_opened(as_user, live_server, users, shipped):
    shipped_model = ProcessDefinition.objects.get(key="prison_release_to_housing")
    head, marker, rest = shipped_model.bpmn_xml.partition("</bpmn:definitions>")
    assert marker
    xml = f"{head}<bpmn:extension>{SCRIPT}</bpmn:extension>{marker}{rest}"
    result = deploy_definition(actor=users["ada"], bpmn_xml=xml, forms=shipped_model.forms, lanes=shipped_model.lanes)
    assert SCRIPT in result.definition.bpmn_xml

    ada = as_user("ada")
    loaded = []
    ada.on("request", lambda request: loaded.append(request.url) if request.url.endswith("diagram.js") else None)
    try:
        ada.goto(f"{live_server.url}/process-models/{result.definition.pk}.bpmn")
    except PlaywrightError as exc:  # a download: nothing is drawn, nothing runs
        assert "Download is starting" in str(exc)
    ada.wait_for_timeout(300)
    assert loaded == []
