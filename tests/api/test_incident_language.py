"""A failed job's incident is said in the reader's language: bokmål on the incidents page
(the admin) and to an API client that asks for it, English to one that asks for English
(and to one that asks for nothing: the API's default); the retry's 409 too. What another
system said stays as it is inside our words; rows stored before errors had codes read as
they were stored."""

from datetime import UTC, datetime
from importlib import import_module

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from bpmn.services import deploy_definition
from tests.clock import Clock
from tests.english import english_in
from tests.workflows.helpers import open_tasks
from tests.workflows.jobs.conftest import START_FORM, TIMER_FORM, start_timer_case, timer_model
from tests.workflows.message_models import FORMS, move_in_model, notice_model
from workflows import services, steps
from workflows.jobs import handlers, timers
from workflows.models import Incident, Job, JobKind, JobStatus, ProcessInstance

pytestmark = pytest.mark.django_db

NOTHING_WAITS = {
    "nb": "ingen sak venter nå på meldingen «housing_ready» med denne korrelasjonen",
    "en": "no case waits for the message “housing_ready” with its correlation now",
}
TIMER_FAILED = {
    "nb": "tidsfristen ble utløst, men steget etter den feilet: database went away",
    "en": "the timer fired, but the step after it failed: database went away",
}
TIMER_BUSY = {
    "nb": "jobben feilet igjen: tidsfristen kunne ikke utløses nå (prosessinstansen er opptatt); prøv igjen",
    "en": "the job failed again: the timer could not be fired now (its instance is busy); try again",
}
LANGUAGES = {"nb": {"HTTP_ACCEPT_LANGUAGE": "nb"}, "en": {"HTTP_ACCEPT_LANGUAGE": "en"}, "default": {}}


@pytest.fixture
def few_attempts(settings):
    settings.BROBYGGER = {**settings.BROBYGGER, "JOB_MAX_ATTEMPTS": 2, "JOB_BACKOFF_BASE_SECONDS": 10}


@pytest.fixture
def message_incident(few_attempts, users, agencies, monkeypatch):
    """A thrown message no case waits for, after its last attempt."""
    for xml in (notice_model(), move_in_model()):
        deploy_definition(actor=None, bpmn_xml=xml, forms=FORMS, check_permission=False)
    clock = Clock(monkeypatch, datetime.now(UTC))
    sender = services.start_case(
        actor=users["nils"],
        process_key="notice",
        person={"name": "Ola Nordmann", "national_id": "17912099997"},
        participants={"nav": agencies["nav"].pk},
    )
    (task,) = open_tasks(sender)
    services.complete_task(actor=users["nils"], task_id=task.pk, data={"applicant_id": "A-17"})
    for _ in range(2):
        assert handlers.run_one("w") == 1
        clock.advance(seconds=30)
    return Incident.objects.get(case=sender, kind="message-failed")


@pytest.fixture
def timer_incident(few_attempts, users, agencies, monkeypatch):
    """A timer whose step failed at both attempts (the engine's words: "database went away")."""
    deploy_definition(
        actor=None,
        bpmn_xml=timer_model(),
        forms={"after.schema.json": TIMER_FORM, "start.schema.json": START_FORM},
        check_permission=False,
    )
    clock = Clock(monkeypatch, datetime(2026, 9, 1, 12, tzinfo=UTC))
    case = start_timer_case(users, agencies, "2026-09-01T14:05:00+02:00")

    def broken(*args, **kwargs):
        raise RuntimeError("database went away")

    with monkeypatch.context() as patched:
        patched.setattr(steps, "run_step", broken)
        clock.advance(minutes=6)
        assert timers.fire_timer("w")[0] == timers.FAILED
        clock.advance(seconds=11)
        assert timers.fire_timer("w")[0] == timers.FAILED
    return Incident.objects.get(case=case, kind="timer-failed")


def listed(client_for, incident, language):
    answer = client_for("ada").get("/api/v1/incidents/", **LANGUAGES[language])
    assert answer.status_code == 200, answer.content
    body = answer.json()
    rows = body["results"] if isinstance(body, dict) else body
    (row,) = [row for row in rows if row["id"] == incident.pk]
    return row


def admin_page(incident, language) -> str:
    staff = Client()
    staff.force_login(get_user_model().objects.create_superuser(f"root-{language}", "r@example.org", "pw-1234567"))
    page = staff.get(f"/admin/workflows/incident/{incident.pk}/change/", **LANGUAGES[language])
    assert page.status_code == 200
    return page.content.decode()


@pytest.mark.parametrize(("language", "said"), [("nb", "nb"), ("en", "en"), ("default", "en")])
def test_a_message_nobody_waits_for_reads_in_the_clients_language(client_for, message_incident, language, said):
    row = listed(client_for, message_incident, language)
    assert row["error"] == NOTHING_WAITS[said]
    assert row["job"]["last_error"] == NOTHING_WAITS[said]
    if said == "nb":
        assert english_in(row["error"]) == []


@pytest.mark.parametrize("language", ["nb", "en"])
def test_the_incidents_page_says_it_in_the_users_language(message_incident, language):
    assert NOTHING_WAITS[language] in admin_page(message_incident, language)


def test_the_retry_of_a_message_still_nobody_waits_for_answers_in_bokmal(client_for, message_incident):
    answer = client_for("ada").post(f"/api/v1/incidents/{message_incident.pk}/retry/", HTTP_ACCEPT_LANGUAGE="nb")
    assert answer.status_code == 409
    assert answer.json()["detail"] == f"jobben feilet igjen: {NOTHING_WAITS['nb']}"
    english = client_for("ada").post(f"/api/v1/incidents/{message_incident.pk}/retry/")
    assert english.json()["detail"] == f"the job failed again: {NOTHING_WAITS['en']}"


@pytest.mark.parametrize(("language", "said"), [("nb", "nb"), ("en", "en"), ("default", "en")])
def test_a_failed_timer_frames_the_engines_words_in_the_clients_language(client_for, timer_incident, language, said):
    assert listed(client_for, timer_incident, language)["error"] == TIMER_FAILED[said]


@pytest.mark.parametrize(("language", "said"), [("nb", "nb"), ("en", "en"), ("default", "en")])
def test_a_busy_timer_retry_answers_in_the_clients_language(client_for, timer_incident, monkeypatch, language, said):
    # A step holds the instance's lock: the worker skips it, and so does the retry.
    monkeypatch.setattr(steps, "locked_instances", lambda skip_locked=False: ProcessInstance.objects.none())
    answer = client_for("ada").post(f"/api/v1/incidents/{timer_incident.pk}/retry/", **LANGUAGES[language])
    assert answer.status_code == 409
    assert (answer.json()["code"], answer.json()["detail"]) == ("incident.job_failed_again", TIMER_BUSY[said])
    job = Job.objects.get(pk=timer_incident.job_id)
    assert job.status == JobStatus.FAILED and job.kind == JobKind.TIMER


def test_an_incident_stored_before_errors_had_codes_reads_as_it_was(client_for, message_incident):
    Incident.objects.filter(pk=message_incident.pk).update(error="webhook answered HTTP 503", error_message=None)
    Job.objects.filter(pk=message_incident.job_id).update(last_error="NothingWaits", last_error_message=None)
    row = listed(client_for, message_incident, "nb")
    assert (row["error"], row["job"]["last_error"]) == ("webhook answered HTTP 503", "NothingWaits")
    assert "webhook answered HTTP 503" in admin_page(message_incident, "nb")


def test_our_words_are_translated_and_the_values_of_the_case_scrubbed(client_for, message_incident):
    """Another system's words inside ours are scrubbed of the case's values as before."""
    message_incident.error_message = {
        "code": "job.call_failed",
        "params": {"detail": "connection to Ola Nordmann refused"},
    }
    message_incident.error = "the call failed: connection to Ola Nordmann refused"
    message_incident.save()
    row = listed(client_for, message_incident, "nb")
    assert row["error"].startswith("kallet feilet: connection to ")
    assert "Ola Nordmann" not in row["error"]


def test_an_old_row_of_a_message_nobody_waited_for_is_named_by_the_migration(client_for, message_incident):
    """The old worker stored only the exception's class; the job's payload names the message."""
    from django.apps import apps

    Incident.objects.filter(pk=message_incident.pk).update(error="NothingWaits", error_message=None)
    Job.objects.filter(pk=message_incident.job_id).update(last_error="NothingWaits", last_error_message=None)
    assert listed(client_for, message_incident, "nb")["error"] == "NothingWaits"

    assert import_module("workflows.migrations.0034_name_old_message_errors").name_the_messages(apps) == 1
    row = listed(client_for, message_incident, "nb")
    assert (row["error"], row["job"]["last_error"]) == (NOTHING_WAITS["nb"], NOTHING_WAITS["nb"])
    assert listed(client_for, message_incident, "en")["error"] == NOTHING_WAITS["en"]
