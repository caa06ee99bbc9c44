"""Time-of-day and date-and-time fields in the form editor: a draft keeps them, validate and
deploy take them as the task page draws them, and a date or time format the form would ignore
(on a field that is no text, or spelled otherwise) is refused, naming the field."""

import json

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from bpmn.models import ProcessDefinition, ProcessDraft
from permissions.models import Membership, Role
from tests.bpmn.editor.conftest import PRISON, post_json

pytestmark = pytest.mark.django_db

FORM = "prison_intake_interview.schema.json"
VISIT = {"type": "string", "format": "time", "title": "Tidspunkt for hjemmebesøk", "x-category": "housing"}
MEETING = {"type": "string", "format": "date-time", "title": "Samarbeidsmøte", "x-category": "coordination"}


@pytest.fixture
def admin(web, agencies):
    """A process admin of its own (the editor's user), logged in."""
    user = get_user_model().objects.create_user("tidsredaktor", first_name="Tora", last_name="Skjema")
    Membership.objects.create(user=user, agency=agencies["housing"], role=Role.PROCESS_ADMIN)
    client = web(None)
    client.force_login(user)
    return client


def _with_fields(prison_content, **fields):
    forms = json.loads(json.dumps(prison_content["forms"]))
    forms[FORM]["properties"].update(fields)
    return {**prison_content, "forms": forms}


def test_a_time_and_a_date_time_field_are_saved_validated_and_deployed_as_written(admin, prison_content):
    content = _with_fields(prison_content, home_visit_at=VISIT, meeting_at=MEETING)
    saved = post_json(admin, reverse("process-draft-save"), content)
    assert saved.status_code == 200, saved.json()
    page = admin.get(reverse("process-edit", kwargs={"key": PRISON}))
    fields = page.context["config"]["forms"][FORM]["properties"]
    assert (fields["home_visit_at"], fields["meeting_at"]) == (VISIT, MEETING)

    body = post_json(admin, reverse("process-validate"), content).json()
    assert body == {"valid": True, "process_id": PRISON, "issues": []}
    deployed = post_json(admin, reverse("process-deploy"), content)
    assert deployed.status_code == 201, deployed.json()
    version = ProcessDefinition.objects.get(key=PRISON, version=2)
    assert version.forms[FORM]["properties"]["home_visit_at"] == VISIT
    assert version.forms[FORM]["properties"]["meeting_at"] == MEETING


def test_the_preview_draws_a_time_and_a_date_time_field_as_the_task_page_does(admin, shipped):
    schema = {
        "type": "object",
        "required": ["home_visit_at"],
        "properties": {"home_visit_at": VISIT, "meeting_at": MEETING},
    }
    page = post_json(admin, reverse("process-form-preview"), {"schema": schema}).content.decode()
    assert 'class="field-error"' not in page
    visit = page[page.index('id="field-home_visit_at"') :]
    assert 'type="time"' in visit[: visit.index(">")] and 'aria-required="true"' in visit[: visit.index(">")]
    meeting = page[page.index('id="field-meeting_at"') :]
    assert 'type="datetime-local"' in meeting[: meeting.index(">")]
    assert "Tidspunkt for hjemmebesøk" in page


@pytest.mark.parametrize(
    ("prop", "variant"),
    [
        ({"type": "integer", "format": "time", "title": "Klokka"}, "type"),
        ({"type": ["integer", "null"], "format": "date-time"}, "type"),
        ({"type": "string", "format": "datetime"}, "spelling"),
        ({"type": "string", "format": "Time"}, "spelling"),
        ({"type": "string", "format": "date_time"}, "spelling"),
    ],
)
def test_a_date_or_time_format_the_form_would_ignore_is_refused_naming_the_field(admin, prison_content, prop, variant):
    content = _with_fields(prison_content, home_visit_at=prop)
    body = post_json(admin, reverse("process-validate"), content).json()
    assert body["valid"] is False
    (issue,) = [issue for issue in body["issues"] if issue["code"] == "invalid-field-format"]
    assert issue["element_id"] == "Task_intake_interview"
    assert "home_visit_at" in issue["message"]
    refused = post_json(admin, reverse("process-deploy"), content)
    assert refused.status_code == 400
    assert any("home_visit_at" in error["message"] for error in refused.json()["errors"])
    assert ProcessDefinition.objects.filter(key=PRISON).count() == 1
    # The draft keeps work in progress as it is: saving it is not refused.
    assert post_json(admin, reverse("process-draft-save"), content).status_code == 200
    assert ProcessDraft.objects.get().key == PRISON


def test_the_refusal_is_in_bokmal(admin, prison_content):
    content = _with_fields(prison_content, home_visit_at={"type": "string", "format": "datetime"})
    body = post_json(admin, reverse("process-validate"), content).json()
    (issue,) = [issue for issue in body["issues"] if issue["code"] == "invalid-field-format"]
    assert "gir feltet «home_visit_at» et format som er stavet feil" in issue["message"]
