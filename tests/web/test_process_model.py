"""The diagram's model comes from its version's URL, kept by the browser (issue 12: the case
page no longer carries 50 KB of model in every answer). Only the readers of a case that runs
the version, and process admins, get it; the case's path stays on its page."""

import json
import re

import pytest

from bpmn.models import ProcessDefinition
from workflows.models import ProcessInstance

pytestmark = pytest.mark.django_db


def _diagram_data(page: str) -> dict:
    found = re.search(r'<script id="diagram-data" type="application/json">(.*?)</script>', page, re.S)
    assert found, "no diagram data on the page"
    return json.loads(found.group(1))


def _model_url(case) -> str:
    return f"/process-models/{ProcessInstance.objects.get(case=case).definition_id}.bpmn"


def test_the_case_page_names_the_models_url_and_carries_only_the_cases_path(web, prison_case):
    page = web("bjorn").get(f"/cases/{prison_case.pk}/").content.decode()
    data = _diagram_data(page)
    assert data["model"] == _model_url(prison_case)
    assert "Task_intake_interview" in data["active"]  # the case's own path, on its page
    assert "xml" not in data and "bpmn:definitions" not in page and "bpmndi" not in page


def test_a_reader_of_the_case_gets_the_model_kept_for_a_year_by_their_browser_alone(web, prison_case):
    definition = ProcessInstance.objects.get(case=prison_case).definition
    nils = web("nils")
    response = nils.get(_model_url(prison_case))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/xml; charset=utf-8"
    assert response.content.decode() == definition.bpmn_xml
    assert response["Cache-Control"] == "private, max-age=31536000, immutable"
    etag = response["ETag"]
    assert etag.startswith(f'"{definition.pk}-')

    again = nils.get(_model_url(prison_case), HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304 and again.content == b"" and again["ETag"] == etag
    other = nils.get(_model_url(prison_case), HTTP_IF_NONE_MATCH='"1-0000"')
    assert other.status_code == 200 and other.content.decode() == definition.bpmn_xml


def test_a_process_admin_gets_it_without_a_case(web, shipped):
    definition = ProcessDefinition.objects.get(key="prison_release_to_housing")
    response = web("ada").get(f"/process-models/{definition.pk}.bpmn")
    assert response.status_code == 200 and response.content.decode() == definition.bpmn_xml
    assert web("ada").get("/process-models/999999.bpmn").status_code == 404


def test_nobody_else_gets_it_not_even_by_its_tag(web, prison_case):
    url = _model_url(prison_case)
    etag = web("nils").get(url)["ETag"]
    # The hospital takes part in no prison case; oscar works in no agency.
    for username in ("siri", "oscar"):
        for headers in ({}, {"HTTP_IF_NONE_MATCH": etag}):
            refused = web(username).get(url, **headers)
            assert refused.status_code == 404, username
            assert b"bpmn:" not in refused.content and "ETag" not in refused
            # The refusal is kept by no cache (config.private_answers), least of all for a year.
            assert set(refused["Cache-Control"].split(", ")) == {"private", "no-store"}
    anonymous = web(None).get(url)
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/accounts/login/")


def test_a_reader_of_one_process_does_not_get_anothers_model(web, prison_case, shipped):
    """A version that runs none of the reader's cases is refused, though they see a case."""
    other = ProcessDefinition.objects.exclude(key="prison_release_to_housing").first()
    assert other is not None
    assert web("nils").get(f"/process-models/{other.pk}.bpmn").status_code == 404


def test_the_model_is_refused_once_the_agency_is_withdrawn(web, users, prison_case):
    from workflows import services

    url = _model_url(prison_case)
    assert web("siri").get(url).status_code == 404
    health = prison_case.participants.get(agency__kind="health").agency
    services.withdraw_agency(actor=users["bjorn"], case=prison_case.pk, agency=health.pk, reason="Ikke lenger aktuelt")
    assert web("helga").get(url).status_code == 404


def test_the_model_is_a_file_in_which_nothing_runs(web, prison_case):
    """Its markup is a process admin's: opened by its URL, it is downloaded, not drawn, and
    nothing in it runs (tests/browser/test_model_markup_inert.py opens it in Chromium)."""
    response = web("nils").get(_model_url(prison_case))
    assert response.status_code == 200
    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert response["Content-Disposition"] == "attachment"
    assert response["X-Content-Type-Options"] == "nosniff"
