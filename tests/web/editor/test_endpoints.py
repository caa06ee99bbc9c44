"""The editor's JSON endpoints: drafts, validate, deploy, form preview; who may call them."""

import pytest
from django.urls import reverse

from bpmn.models import DeployRecord, ProcessDefinition, ProcessDraft
from tests.bpmn.editor.conftest import PRISON, post_json, without_default
from tests.workflows.helpers import start_prison_case

pytestmark = pytest.mark.django_db

ENDPOINTS = [
    "process-draft-save",
    "process-draft-discard",
    "process-validate",
    "process-deploy",
    "process-form-preview",
]


@pytest.mark.parametrize("name", ENDPOINTS)
def test_nils_gets_403_from_every_endpoint_and_nothing_changes(web, shipped, prison_content, name):
    response = post_json(web("nils"), reverse(name), prison_content)
    assert response.status_code == 403
    assert response.json()["detail"]
    assert ProcessDefinition.objects.count() == len(shipped) and not ProcessDraft.objects.exists()


@pytest.mark.parametrize("name", ENDPOINTS)
def test_anonymous_calls_are_sent_to_the_login_page(web, prison_content, name):
    response = post_json(web(None), reverse(name), prison_content)
    assert response.status_code == 302


@pytest.mark.parametrize("name", ENDPOINTS)
def test_every_endpoint_needs_the_csrf_token(web, prison_content, name):
    response = post_json(web("ada", csrf=True), reverse(name), prison_content)
    assert response.status_code == 403 and response.json()["code"] == "csrf.failed"  # the script reads it


@pytest.mark.parametrize("name", ENDPOINTS)
def test_get_is_not_allowed(web, shipped, name):
    assert web("ada").get(reverse(name)).status_code == 405


def test_a_body_that_is_not_a_json_object_is_400(web, shipped):
    ada = web("ada")
    assert ada.post(reverse("process-validate"), "nope", content_type="application/json").status_code == 400
    assert post_json(ada, reverse("process-validate"), [1]).status_code == 400
    response = post_json(ada, reverse("process-validate"), {"bpmn_xml": 5, "forms": []})
    assert response.status_code == 400
    assert {e["field"] for e in response.json()["errors"]} == {"bpmn_xml", "forms"}


def test_validate_names_the_gateway_without_a_default_flow(web, prison_content):
    content = {**prison_content, "bpmn_xml": without_default(prison_content["bpmn_xml"])}
    body = post_json(web("ada"), reverse("process-validate"), content).json()
    assert body["valid"] is False
    by_code = {issue["code"]: issue for issue in body["issues"]}
    assert by_code["missing-default-flow"]["element_id"] == "Gateway_has_home"
    assert by_code["missing-default-flow"]["line"] > 1
    assert by_code["missing-condition"]["element_id"] == "Flow_no_home"


def test_validate_accepts_the_shipped_process_and_deploys_nothing(web, prison_content):
    body = post_json(web("ada"), reverse("process-validate"), prison_content).json()
    assert body == {"valid": True, "process_id": PRISON, "issues": []}
    assert ProcessDefinition.objects.filter(key=PRISON).count() == 1


def test_validate_reports_a_missing_form_and_an_unknown_lane(web, prison_content):
    forms = dict(prison_content["forms"])
    del forms["prison_secure_rent.schema.json"]
    xml = prison_content["bpmn_xml"].replace('name="NAV"', 'name="Trygdekontoret"')
    body = post_json(
        web("ada"), reverse("process-validate"), {**prison_content, "bpmn_xml": xml, "forms": forms}
    ).json()
    issues = {(issue["code"], issue.get("element_id")) for issue in body["issues"]}
    assert ("missing-form", "Task_secure_rent") in issues
    assert any(element == "Lane_nav" for _code, element in issues)
    # The lane map the editor sends fixes the lane.
    body = post_json(
        web("ada"), reverse("process-validate"), {**prison_content, "bpmn_xml": xml, "lanes": {"Trygdekontoret": "nav"}}
    ).json()
    assert body["valid"] is True


def test_deploy_refuses_an_invalid_model_and_creates_no_version(web, prison_content):
    content = {**prison_content, "bpmn_xml": without_default(prison_content["bpmn_xml"])}
    response = post_json(web("ada"), reverse("process-deploy"), content)
    assert response.status_code == 400
    assert "Gateway_has_home" in {e.get("element_id") for e in response.json()["errors"]}
    assert ProcessDefinition.objects.filter(key=PRISON).count() == 1
    assert not DeployRecord.objects.filter(key=PRISON, created=True).exclude(version=1).exists()


def test_deploy_creates_version_2_once_and_running_cases_stay_on_version_1(web, users, agencies, prison_content):
    before = start_prison_case(users, agencies)
    xml = prison_content["bpmn_xml"].replace('name="Finn bolig"', 'name="Finn en bolig"')
    ada = web("ada")
    post_json(ada, reverse("process-draft-save"), {**prison_content, "bpmn_xml": xml})
    response = post_json(ada, reverse("process-deploy"), {**prison_content, "bpmn_xml": xml})
    assert response.status_code == 201
    assert response.json()["version"] == 2 and response.json()["created"] is True
    assert not ProcessDraft.objects.exists()  # deployed: the draft is done with
    again = post_json(ada, reverse("process-deploy"), {**prison_content, "bpmn_xml": xml})
    assert again.status_code == 200 and again.json()["version"] == 2 and again.json()["created"] is False
    assert ProcessDefinition.objects.filter(key=PRISON).count() == 2
    record = DeployRecord.objects.filter(key=PRISON).first()
    assert (record.actor, record.version, record.created) == (users["ada"], 2, False)
    after = start_prison_case(users, agencies)
    assert before.instances.get().definition.version == 1
    assert after.instances.get().definition.version == 2


def test_a_draft_survives_a_reload_and_is_shared_per_process(web, prison_content, users):
    xml = without_default(prison_content["bpmn_xml"])
    response = post_json(web("ada"), reverse("process-draft-save"), {**prison_content, "bpmn_xml": xml})
    assert response.status_code == 200 and response.json()["saved"]
    post_json(web("ada"), reverse("process-draft-save"), {**prison_content, "bpmn_xml": xml + " "})
    draft = ProcessDraft.objects.get()
    assert draft.key == PRISON and draft.bpmn_xml == xml + " " and draft.updated_by == users["ada"]
    page = web("ada").get(reverse("process-edit", kwargs={"key": PRISON}))
    assert page.context["config"]["bpmn_xml"] == xml + " "
    base = ProcessDraft.objects.get().updated_at.isoformat()
    discarded = post_json(web("ada"), reverse("process-draft-discard"), {"key": PRISON, "base": base})
    assert discarded.json() == {"discarded": True}
    assert not ProcessDraft.objects.exists()


def test_a_draft_of_a_new_process_belongs_to_the_admin_who_started_it(web, prison_content, users):
    from django.contrib.auth import get_user_model

    from permissions.models import Membership, Role

    other = get_user_model().objects.create_user("ida")
    Membership.objects.create(user=other, agency=users["ada"].memberships.first().agency, role=Role.PROCESS_ADMIN)
    post_json(web("ada"), reverse("process-draft-save"), {**prison_content, "key": ""})
    assert web("ada").get(reverse("process-new")).context["config"]["from_draft"] is True
    ida = web(None)
    ida.force_login(other)
    assert ida.get(reverse("process-new")).context["config"]["from_draft"] is False


def test_deploying_a_new_process_drops_the_new_process_draft(web, prison_content, shipped):
    xml = prison_content["bpmn_xml"].replace('id="prison_release_to_housing"', 'id="prison_copy"')
    content = {**prison_content, "key": "", "bpmn_xml": xml}
    ada = web("ada")
    post_json(ada, reverse("process-draft-save"), content)
    response = post_json(ada, reverse("process-deploy"), content)
    assert response.status_code == 201 and response.json()["key"] == "prison_copy"
    assert response.json()["edit_url"] == "/processes/prison_copy/edit/"
    assert not ProcessDraft.objects.exists()


def test_the_form_preview_renders_the_fields_as_the_task_page_does(web, shipped):
    schema = {
        "type": "object",
        "required": ["move_in"],
        "properties": {
            "move_in": {"type": "string", "format": "date", "title": "Innflytting", "x-category": "housing"},
            "benefit": {"type": "string", "enum": ["sosialhjelp", "uføretrygd"], "x-category": "economy"},
            "checked": {"type": "boolean", "title": "Sjekket"},
        },
    }
    page = post_json(web("ada"), reverse("process-form-preview"), {"schema": schema}).content.decode()
    assert 'id="field-move_in"' in page and 'type="date"' in page and 'aria-required="true"' in page
    assert "Innflytting" in page and '<option value="sosialhjelp"' in page and 'id="field-checked"' in page


def test_the_form_preview_explains_a_schema_that_is_not_valid(web, shipped):
    page = post_json(
        web("ada"),
        reverse("process-form-preview"),
        {"schema": {"type": "object", "properties": {"a": {"type": "texty"}}}},
    ).content.decode()
    problem = page[page.index('class="field-error"') :]
    assert "JSON Schema" in problem[: problem.index("</p>")] and "texty" in problem[: problem.index("</p>")]


def _second_admin(users):
    from django.contrib.auth import get_user_model

    from permissions.models import Membership, Role

    other = get_user_model().objects.create_user("ida", first_name="Ida", last_name="Modellerer")
    Membership.objects.create(user=other, agency=users["ada"].memberships.first().agency, role=Role.PROCESS_ADMIN)
    return other


def test_a_save_after_someone_elses_answers_409_and_keeps_their_work(web, prison_content, users):
    ida = web(None)
    ida.force_login(_second_admin(users))
    url = reverse("process-draft-save")
    ada_opened = web("ada").get(reverse("process-edit", kwargs={"key": PRISON})).context["config"]
    assert ada_opened["draft_saved_at"] is None  # no draft when ada opened the editor
    ida_saved = post_json(ida, url, {**prison_content, "bpmn_xml": prison_content["bpmn_xml"] + " ", "base": None})
    assert ida_saved.status_code == 200

    refused = post_json(web("ada"), url, {**prison_content, "bpmn_xml": "<ada/>", "base": None})

    assert refused.status_code == 409
    body = refused.json()
    assert body["current"] == ida_saved.json()["updated_at"]
    assert body["detail"].startswith("Ida Modellerer lagret dette utkastet")
    assert ProcessDraft.objects.get().bpmn_xml == prison_content["bpmn_xml"] + " "  # ida's work is kept

    # Ada chooses to replace it: she saves again from the draft the 409 named.
    replaced = post_json(web("ada"), url, {**prison_content, "bpmn_xml": "<ada/>", "base": body["current"]})
    assert replaced.status_code == 200
    draft = ProcessDraft.objects.get()
    assert draft.bpmn_xml == "<ada/>" and draft.updated_by == users["ada"]
    # ...and her next save builds on her own.
    again = post_json(web("ada"), url, {**prison_content, "bpmn_xml": "<ada2/>", "base": replaced.json()["updated_at"]})
    assert again.status_code == 200


def test_a_deploy_keeps_the_draft_someone_else_saved_after_the_editor_opened(web, prison_content, users):
    """Ada opened the editor with no draft; Ida saved hers since. Ada's deploy dropped Ida's
    unsaved-elsewhere work without a word; now it deploys Ada's model and keeps Ida's draft."""
    ida = web(None)
    ida.force_login(_second_admin(users))
    ada_opened = web("ada").get(reverse("process-edit", kwargs={"key": PRISON})).context["config"]
    ida_xml = prison_content["bpmn_xml"] + " "
    ida_saved = post_json(ida, reverse("process-draft-save"), {**prison_content, "bpmn_xml": ida_xml, "base": None})
    assert ida_saved.status_code == 200

    deployed = post_json(
        web("ada"), reverse("process-deploy"), {**prison_content, "base": ada_opened["draft_saved_at"]}
    )

    assert deployed.status_code in (200, 201)
    draft = ProcessDraft.objects.filter(key=PRISON).first()
    assert draft is not None and draft.bpmn_xml == ida_xml  # Ida's work is kept
    assert deployed.json()["draft_kept"] is True

    # From the draft she saved, the deploy drops it.
    mine = post_json(
        web("ada"), reverse("process-draft-save"), {**prison_content, "base": ida_saved.json()["updated_at"]}
    )
    deployed = post_json(web("ada"), reverse("process-deploy"), {**prison_content, "base": mine.json()["updated_at"]})
    assert deployed.json()["draft_kept"] is False and not ProcessDraft.objects.exists()


def test_the_editor_is_told_which_draft_it_opened(web, prison_content):
    saved = post_json(web("ada"), reverse("process-draft-save"), prison_content).json()
    config = web("ada").get(reverse("process-edit", kwargs={"key": PRISON})).context["config"]
    assert config["from_draft"] is True and config["draft_saved_at"] == saved["updated_at"]


def test_a_base_that_is_not_a_time_is_400_naming_it(web, prison_content):
    response = post_json(web("ada"), reverse("process-draft-save"), {**prison_content, "base": 12})
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "base"


def test_a_discard_after_someone_elses_save_answers_409_and_keeps_their_work(web, prison_content, users):
    """Ada opened the editor on her own draft; Ida saved hers over it since. Ada's discard
    dropped Ida's newer work unseen; now it answers 409 naming who saved it, in bokmål, and
    drops it only when Ada discards again from the draft the 409 named."""
    ida = web(None)
    ida.force_login(_second_admin(users))
    mine = post_json(web("ada"), reverse("process-draft-save"), {**prison_content, "base": None}).json()
    ada_opened = web("ada").get(reverse("process-edit", kwargs={"key": PRISON})).context["config"]
    assert ada_opened["draft_saved_at"] == mine["updated_at"]
    ida_xml = prison_content["bpmn_xml"] + " "
    ida_saved = post_json(
        ida, reverse("process-draft-save"), {**prison_content, "bpmn_xml": ida_xml, "base": mine["updated_at"]}
    )
    assert ida_saved.status_code == 200

    url = reverse("process-draft-discard")
    refused = post_json(web("ada"), url, {"key": PRISON, "base": ada_opened["draft_saved_at"]})

    assert refused.status_code == 409
    body = refused.json()
    assert body["current"] == ida_saved.json()["updated_at"]
    assert body["detail"].startswith("Ida Modellerer lagret dette utkastet") and "ikke forkastet" in body["detail"]
    assert body["errors"][0]["field"] == "base"
    assert ProcessDraft.objects.get().bpmn_xml == ida_xml  # Ida's work is kept
    # With no draft seen at all (``base`` null), a draft there is someone else's too.
    assert post_json(web("ada"), url, {"key": PRISON, "base": None}).status_code == 409

    dropped = post_json(web("ada"), url, {"key": PRISON, "base": body["current"]})
    assert dropped.status_code == 200 and dropped.json() == {"discarded": True}
    assert not ProcessDraft.objects.exists()
    # Nothing left to discard: no conflict, nothing discarded.
    assert post_json(web("ada"), url, {"key": PRISON, "base": None}).json() == {"discarded": False}


@pytest.mark.parametrize("body", [{"key": PRISON}, {"key": PRISON, "base": 12}, {"key": PRISON, "base": "x"}])
def test_a_discard_without_a_base_time_is_400_naming_it_and_drops_nothing(web, prison_content, body):
    post_json(web("ada"), reverse("process-draft-save"), prison_content)
    response = post_json(web("ada"), reverse("process-draft-discard"), body)
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "base"
    assert ProcessDraft.objects.exists()
