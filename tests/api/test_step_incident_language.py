"""An incident an engine step opened is said in the reader's language, as a failed job's
(tests/api/test_incident_language.py): a lane nobody plays and a failed script or
expression read in bokmål on the incidents page (the admin), to an API client that asks
for it and on the case's timeline of a process admin who also works the case; in English
to one that asks for English or nothing. The engine's own words stay as they are inside
ours; rows and events stored before errors had codes read as they were stored."""

import html

import pytest
from django.contrib.auth import get_user_model
from django.utils import translation
from rest_framework.test import APIClient

from core.messages import Message
from permissions.models import CaseParticipant, Membership, Role
from retention.erasure import EVENT_DETAIL_VALUES
from tests.api.test_incident_language import LANGUAGES, admin_page, listed
from tests.english import english_in
from tests.workflows.helpers import open_tasks, stop_on_gateway_incident
from workflows import services
from workflows.models import Event, EventKind, Incident

pytestmark = pytest.mark.django_db

LANE = {
    "nb": "oppgaven «Hospital step» ligger i banen «Sykehus» (hospital), "
    "men ingen etat av typen hospital deltar i saken",
    "en": "task “Hospital step” is in lane “Sykehus” (hospital), but no hospital agency participates in the case",
}
# The engine's words (SpiffWorkflow's, about the model's expression) as they are, in ours.
ENGINE_SAID = "Error evaluating expression 'score > 3'.  Did you mean 'note'?"
SCRIPT = {
    "nb": f"et uttrykk eller skript i modellen feilet: {ENGINE_SAID}",
    "en": f"an expression or script of the model failed: {ENGINE_SAID}",
}
SAID = [("nb", "nb"), ("en", "en"), ("default", "en")]


@pytest.fixture
def lane_incident(users, agencies, small_case):
    """The hospital left the case before its task came: the task has nobody to do it."""
    CaseParticipant.objects.filter(case=small_case, kind="hospital").delete()
    (task,) = open_tasks(small_case)
    services.complete_task(actor=users["kari"], task_id=task.pk, data={"ready": True})
    return Incident.objects.get(case=small_case, kind="lane-without-participant")


@pytest.fixture
def script_incident(users, agencies):
    """A gateway's expression reads a name the case does not have (``score``)."""
    return stop_on_gateway_incident(users, agencies)


@pytest.fixture
def admin_at_work(agencies):
    """A process admin who also works cases in the prison and at NAV: their timelines show
    the incidents' errors (``rules.can_see_incident_errors``)."""
    user = get_user_model().objects.create_user("ada-at-work", password="x")
    for kind in ("prison", "nav"):
        Membership.objects.create(user=user, agency=agencies[kind], role=Role.MEMBER)
    Membership.objects.create(user=user, agency=agencies["housing"], role=Role.PROCESS_ADMIN)
    return user


def api(user) -> APIClient:
    from accounts.tokens import issue

    client = APIClient()
    token, _expiry = issue(user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def timeline_incident(user, case, language) -> dict:
    answer = api(user).get(f"/api/v1/cases/{case.pk}/timeline/", **LANGUAGES[language])
    assert answer.status_code == 200, answer.content
    (event,) = [event for event in answer.json()["results"] if event["kind"] == "incident"]
    return event["detail"]


@pytest.mark.parametrize(("language", "said"), SAID)
def test_a_lane_nobody_plays_reads_in_the_clients_language(client_for, lane_incident, language, said):
    row = listed(client_for, lane_incident, language)
    assert (row["error"], row["element_id"]) == (LANE[said], "Task_hospital")
    if said == "nb":
        assert english_in(row["error"]) == []


@pytest.mark.parametrize(("language", "said"), SAID)
def test_a_failed_expression_frames_the_engines_words_in_the_clients_language(
    client_for, script_incident, language, said
):
    row = listed(client_for, script_incident, language)
    assert row["error"] == SCRIPT[said]
    if said == "nb":  # ours in bokmål; the engine's, after the colon, as it said it
        assert english_in(row["error"].split(":")[0]) == []


@pytest.mark.parametrize("language", ["nb", "en"])
@pytest.mark.parametrize(("made", "text"), [("lane_incident", LANE), ("script_incident", SCRIPT)])
def test_the_incidents_page_says_the_steps_incidents_in_the_users_language(request, made, text, language):
    page = admin_page(request.getfixturevalue(made), language)
    assert text[language] in html.unescape(page)


@pytest.mark.parametrize(("language", "said"), SAID)
def test_the_timeline_says_the_incident_in_the_readers_language(
    admin_at_work, lane_incident, script_incident, language, said
):
    for incident, text in ((lane_incident, LANE), (script_incident, SCRIPT)):
        detail = timeline_incident(admin_at_work, incident.case, language)
        assert detail["error"] == text[said] and "error_message" not in detail
        assert "incident" not in detail  # a key counting other incidents (docs/security.md "Ids count nothing")


def test_a_case_worker_is_still_shown_no_error_on_the_timeline(users, script_incident):
    detail = timeline_incident(users["nils"], script_incident.case, "nb")
    assert "error" not in detail and "error_message" not in detail
    assert detail["kind"] == "expression-error"


def test_the_incident_and_its_event_store_the_english_text_and_the_message(lane_incident):
    event = Event.objects.get(case=lane_incident.case, kind=EventKind.INCIDENT)
    message = {
        "code": "incident.step.lane_without_participant",
        "params": {"task": "Hospital step", "lane": "Sykehus", "kind": "hospital"},
    }
    assert (lane_incident.error, lane_incident.error_message) == (LANE["en"], message)
    assert (event.detail["error"], event.detail["error_message"]) == (LANE["en"], message)
    assert "error_message" in EVENT_DETAIL_VALUES  # an erasure drops it with the text


@pytest.mark.parametrize(("language", "said"), [("nb", "nb"), ("default", "en")])
def test_the_retry_of_a_step_that_fails_again_answers_in_the_clients_language(
    client_for, script_incident, language, said
):
    answer = client_for("ada").post(f"/api/v1/incidents/{script_incident.pk}/retry/", **LANGUAGES[language])
    assert answer.status_code == 409
    again = {"nb": "steget feilet igjen", "en": "the step failed again"}[said]
    assert (answer.json()["code"], answer.json()["detail"]) == ("incident.failed_again", f"{again}: {SCRIPT[said]}")
    script_incident.refresh_from_db()
    assert script_incident.attempts == 2 and script_incident.error == SCRIPT["en"]
    assert listed(client_for, script_incident, "nb")["error"] == SCRIPT["nb"]


def test_an_incident_and_its_event_stored_before_errors_had_codes_read_as_they_were(
    client_for, admin_at_work, script_incident
):
    old = f"Error evaluating expression 'score > 3'. (stored {script_incident.pk})"
    Incident.objects.filter(pk=script_incident.pk).update(error=old, error_message=None)
    event = Event.objects.get(case=script_incident.case, kind=EventKind.INCIDENT)
    event.detail = {key: value for key, value in event.detail.items() if key != "error_message"} | {"error": old}
    event.save(update_fields=["detail"])
    assert listed(client_for, script_incident, "nb")["error"] == old
    assert timeline_incident(admin_at_work, script_incident.case, "nb")["error"] == old


def test_the_engines_limits_are_said_in_the_readers_words_with_their_numbers():
    too_large = Message(
        "incident.step.state_too_large_at", {"size_bytes": 312_345, "limit_bytes": 100_000, "element": "Script_make"}
    )
    loop = Message("incident.step.step_limit", {"limit": 1000, "element": "Task_loop"})
    assert str(too_large).startswith("the workflow state would be 312,345 bytes, more than the 100,000 allowed")
    with translation.override("nb"):
        said = too_large.render(translation.gettext)
        assert said.startswith("tilstanden til prosessen ville blitt 312\xa0345 byte, mer enn de 100\xa0000 som")
        assert "elementet «Script_make» holder mest data" in said and english_in(said) == []
        assert loop.render(translation.gettext) == (
            "mer enn 1000 steg i prosessmotoren uten å vente på en person eller en tidsfrist "
            "(siste element «Task_loop»)"
        )
