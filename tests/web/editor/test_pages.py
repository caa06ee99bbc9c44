"""Process admin pages: who reaches them, and what they show."""

import pytest
from django.urls import reverse

from bpmn.models import DeployRecord
from bpmn.services import deploy_definition
from tests.bpmn.editor.conftest import PRISON, without_default
from tests.workflows.helpers import start_prison_case

pytestmark = pytest.mark.django_db

PAGES = [
    reverse("processes"),
    reverse("process-new"),
    reverse("process", kwargs={"key": PRISON}),
    reverse("process-edit", kwargs={"key": PRISON}),
    reverse("process-export", kwargs={"key": PRISON, "version": 1}),
    reverse("process-migrate", kwargs={"key": PRISON, "version": 1}),
]


@pytest.mark.parametrize("url", PAGES)
def test_ada_the_process_admin_opens_every_page(web, shipped, url):
    assert web("ada").get(url).status_code == 200


@pytest.mark.parametrize("username", ["nils", "kari", "bjorn", "aud", "oscar"])
@pytest.mark.parametrize("url", PAGES)
def test_users_without_the_process_admin_role_get_403(web, shipped, url, username):
    response = web(username).get(url)
    assert response.status_code == 403
    assert b"Gateway_has_home" not in response.content


@pytest.mark.parametrize("url", PAGES)
def test_anonymous_users_are_sent_to_the_login_page(web, shipped, url):
    response = web(None).get(url)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_an_unknown_process_or_version_is_404(web, shipped):
    ada = web("ada")
    assert ada.get(reverse("process", kwargs={"key": "nope"})).status_code == 404
    assert ada.get(reverse("process-edit", kwargs={"key": "nope"})).status_code == 404
    assert ada.get(reverse("process", kwargs={"key": PRISON}) + "?version=9").status_code == 404
    assert ada.get(reverse("process-export", kwargs={"key": PRISON, "version": 9})).status_code == 404
    assert ada.get(reverse("process-migrate", kwargs={"key": PRISON, "version": 9})).status_code == 404


def test_the_list_shows_versions_with_case_counts_and_deployer(web, users, agencies, shipped):
    start_prison_case(users, agencies)
    start_prison_case(users, agencies, person={"name": "Kari Hansen", "national_id": "17912099997"})
    xml = shipped[PRISON].bpmn_xml.replace("Innkomstsamtale: bosituasjon", "Innkomstsamtale: bolig")
    deploy_definition(actor=users["ada"], bpmn_xml=xml, forms=shipped[PRISON].forms)
    page = web("ada").get(reverse("processes")).content.decode()
    section = page[page.index(f'id="process-{PRISON}"') :]
    section = section[: section.index("</section>")]
    assert "v2" in section and "v1" in section and "Ada Prosessadministrator" in section
    rows = section.split("<tr>")[2:]  # header row first
    assert rows[0].count("<td") == 5 and ">0<" in rows[0]  # v2: no cases yet
    assert ">2<" in rows[1]  # v1: the two cases


def test_the_detail_page_lists_the_difference_and_the_deploy_history(web, users, shipped):
    v1 = shipped[PRISON]
    xml = v1.bpmn_xml.replace('name="Søknad om bolig"', 'name="Søk kommunal bolig"')
    forms = v1.forms
    forms["prison_secure_rent.schema.json"]["properties"]["extra_note"] = {"type": "string", "x-category": "economy"}
    deploy_definition(actor=users["ada"], bpmn_xml=xml, forms=forms)
    deploy_definition(actor=users["ada"], bpmn_xml=xml, forms=forms)  # identical: recorded, no v3
    response = web("ada").get(reverse("process", kwargs={"key": PRISON}))
    page = response.content.decode()
    assert response.context["shown"].version == 2 and response.context["compare"].version == 1
    changed = {change.element_id for change in response.context["diff"].changed}
    assert {"Task_housing_application", "Task_secure_rent"} <= changed
    assert 'data-element-id="Task_housing_application"' in page
    records = list(DeployRecord.objects.filter(key=PRISON))
    assert [(r.version, r.created) for r in records] == [(2, False), (2, True), (1, True)]
    assert page.count('data-created="false"') >= 1 and records[0].checksum[:10] in page


def test_the_editor_loads_the_draft_in_preference_to_the_latest_version(web, shipped, users):
    from bpmn.services import save_draft

    xml = without_default(shipped[PRISON].bpmn_xml)
    save_draft(actor=users["ada"], key=PRISON, bpmn_xml=xml, forms={}, lanes={"NAV": "nav"})
    config = web("ada").get(reverse("process-edit", kwargs={"key": PRISON})).context["config"]
    assert config["from_draft"] and config["bpmn_xml"] == xml and config["lanes"] == {"NAV": "nav"}
    assert config["base_version"] == 1 and "economy" in config["categories"]


def test_the_new_process_page_starts_from_a_blank_executable_process(web, shipped):
    config = web("ada").get(reverse("process-new")).context["config"]
    assert config["key"] == "" and not config["from_draft"] and 'isExecutable="true"' in config["bpmn_xml"]


def test_export_downloads_the_version_and_its_forms(web, shipped):
    ada = web("ada")
    response = ada.get(reverse("process-export", kwargs={"key": PRISON, "version": 1}))
    assert response["Content-Disposition"].endswith('.v1.bpmn"')
    assert response.content.decode() == shipped[PRISON].bpmn_xml
    forms = ada.get(reverse("process-export-forms", kwargs={"key": PRISON, "version": 1})).json()
    assert forms == shipped[PRISON].forms


def test_process_admins_see_the_nav_link_others_do_not(web, shipped):
    link = b'<a href="/processes/" aria-current="page">'
    assert link in web("ada").get(reverse("processes")).content
    assert b'href="/processes/"' not in web("nils").get(reverse("tasks")).content


def test_the_editor_lists_forms_converted_from_camunda_for_review(web, users):
    from bpmn import services
    from tests.api.test_routing_map import FORM_MODEL

    services.save_draft(actor=users["ada"], key="", bpmn_xml=FORM_MODEL, forms={}, routing={"default": "nav"})
    config = web("ada").get(reverse("process-new")).context["config"]
    assert config["converted_forms"] == ["Approve.form.json"]
    assert config["forms"]["Approve.form.json"]["properties"]["amount"]["type"] == "integer"
    assert config["routing"] == {"default": "nav"}
    reviewed = {"Approve.form.json": {**config["forms"]["Approve.form.json"]}}
    services.save_draft(actor=users["ada"], key="", bpmn_xml=FORM_MODEL, forms=reviewed)
    assert web("ada").get(reverse("process-new")).context["config"]["converted_forms"] == []  # now the admin's
