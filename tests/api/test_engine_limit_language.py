"""The engine's own words for a limit (the expression sandbox's, the data a script leaves,
the parallel multi-instance cap, a computed cycle's rounds) reach the process admin in their
language: the engine raises them as a code with params (``bpmn.engine.errors.ENGINE_CODES``),
said from ``core.messages`` "engine.*" in the incidents API, on the admin's incident page, on
the case's timeline and in a job's error. Before, only the frame was bokmål ("et uttrykk
eller skript i modellen feilet: range of 9,999,999 items exceeds the limit of 1,000,000"),
and the count typed into the case's form stood in it. Rows stored before keep their English
text inside the frame (no migration: the engine's old words are not parsed back)."""

import html
import uuid

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from bpmn.engine.errors import ENGINE_CODES
from bpmn.services import deploy_definition
from core.messages import MESSAGES, Message
from tests.api.test_external_tasks import waiting_on_nav_system
from tests.api.test_incident_language import LANGUAGES, admin_page, listed
from tests.api.test_step_incident_language import admin_at_work, timeline_incident  # noqa: F401 - fixture
from tests.bpmn.engine.bpmn_snippets import definitions, lane_set, properties
from tests.clients import api
from tests.english import english_in
from tests.workflows import test_multi_instance_limit as multi_instance
from tests.workflows import test_timer_cycle_limit as cycle
from tests.workflows.helpers import PERSON, open_tasks
from tests.workflows.jobs.test_service_tasks import Registry
from tests.workflows.service_models import FORMS, connector_model
from workflows import services
from workflows.jobs.worker import Worker
from workflows.models import Incident, Job, JobKind, ServiceConnector

pytestmark = pytest.mark.django_db

SAID = [("nb", "nb"), ("en", "en"), ("default", "en")]

MANY = {
    "nb": "dataene oppgaven trenger, mangler eller har feil type: den parallelle flerinstansen ville laget mer "
    "enn 500 instanser på én gang, mer enn grensen; gjør samlingen eller løkkekardinaliteten mindre, eller "
    "kjør den sekvensielt",
    "en": "the data the task needs is missing or of the wrong type: the parallel multi-instance would make more "
    "than 500 instances at once, more than the limit; make the collection or the loop cardinality smaller, or "
    "run it sequentially",
}
LONG_LIST = {
    "nb": "et uttrykk eller skript i modellen feilet: en tekst eller liste ville fått mer enn 1\xa0000\xa0000 "
    "elementer, mer enn grensen",
    "en": "an expression or script of the model failed: a text or list would have more than 1,000,000 items, "
    "more than the limit",
}
ROUNDS = {
    "nb": "et uttrykk eller skript i modellen feilet: syklusen gjentas uten slutt eller mer enn 52 ganger, mer "
    "enn grensen; oppgi et begrenset antall som R3/P30D, eller bruk repeat()",
    "en": "an expression or script of the model failed: the cycle repeats without end or more than 52 times, "
    "more than the limit; give a bounded count such as R3/P30D, or use repeat()",
}
COUNT = 9_999_999  # typed into the start form: never in the text, however written
COUNT_WRITTEN = ("9999999", "9,999,999", "9\xa0999\xa0999", "9 999 999")


@pytest.fixture
def many_incident(users, agencies):
    multi_instance._deploy(multi_instance.CARDINALITY)
    return Incident.objects.get(case=multi_instance._start(users, agencies, {"count": 100_000}))


@pytest.fixture
def long_list_incident(users, agencies):
    """A script makes a list as long as a count of the case's data says."""
    nodes = ["StartEvent_1", "Script_list", "Task_wait", "EndEvent_1"]
    xml = definitions(f"""
        <bpmn:process id="Proc_list" name="List" isExecutable="true">
          {lane_set({"NAV": nodes})}
          <bpmn:startEvent id="StartEvent_1">{properties(formJsonSchemaFilename="start.schema.json")}</bpmn:startEvent>
          <bpmn:sequenceFlow id="Flow_1" sourceRef="StartEvent_1" targetRef="Script_list"/>
          <bpmn:scriptTask id="Script_list" name="List"><bpmn:script>homes = [0] * count</bpmn:script></bpmn:scriptTask>
          <bpmn:sequenceFlow id="Flow_2" sourceRef="Script_list" targetRef="Task_wait"/>
          <bpmn:userTask id="Task_wait" name="Wait"/>
          <bpmn:sequenceFlow id="Flow_3" sourceRef="Task_wait" targetRef="EndEvent_1"/>
          <bpmn:endEvent id="EndEvent_1"/>
        </bpmn:process>""")
    deploy_definition(
        actor=None, bpmn_xml=xml, forms={"start.schema.json": multi_instance.START_FORM}, check_permission=False
    )
    case = services.start_case(
        actor=users["nils"],
        process_key="Proc_list",
        person=PERSON,
        participants={"nav": agencies["nav"].pk},
        data={"count": COUNT},
    )
    return Incident.objects.get(case=case)


@pytest.fixture
def rounds_incident(users, agencies):
    cycle._deploy("'R' + str(count) + '/PT1S'")
    case = services.start_case(
        actor=users["nils"],
        process_key=cycle.KEY,
        person=PERSON,
        participants={"nav": agencies["nav"].pk},
        data={"count": COUNT},
    )
    return Incident.objects.get(case=case)


INCIDENTS = [("many_incident", MANY), ("long_list_incident", LONG_LIST), ("rounds_incident", ROUNDS)]


@pytest.mark.parametrize(("language", "said"), SAID)
@pytest.mark.parametrize(("made", "text"), INCIDENTS)
def test_an_engine_limit_reads_in_the_clients_language(request, client_for, made, text, language, said):
    incident = request.getfixturevalue(made)
    row = listed(client_for, incident, language)
    assert row["error"] == text[said]
    if said == "nb":  # all of it, the engine's words too
        assert english_in(row["error"]) == []


@pytest.mark.parametrize(("made", "text"), INCIDENTS)
def test_the_incident_page_says_the_engine_limit_in_bokmal(request, made, text):
    page = html.unescape(admin_page(request.getfixturevalue(made), "nb"))
    assert text["nb"] in page and text["en"].split(": ", 1)[1] not in page


@pytest.mark.parametrize(("language", "said"), SAID)
def test_the_timeline_says_the_engine_limit_in_the_readers_language(admin_at_work, many_incident, language, said):  # noqa: F811
    assert timeline_incident(admin_at_work, many_incident.case, language)["error"] == MANY[said]


@pytest.mark.parametrize("made", ["long_list_incident", "rounds_incident"])
def test_the_count_from_the_case_is_in_no_text_of_the_limit(request, client_for, made):
    incident = request.getfixturevalue(made)
    shown = [listed(client_for, incident, language)["error"] for language in LANGUAGES]
    for text in [incident.error, str(incident.error_message), *shown]:
        assert not any(written in text for written in COUNT_WRITTEN), text


@pytest.mark.parametrize(("language", "said"), [("nb", "nb"), ("default", "en")])
def test_a_retry_that_fails_on_the_limit_again_answers_in_the_clients_language(
    client_for, many_incident, language, said
):
    """The error envelope's ``detail`` of the 409: our words, the engine's in them, all in one language."""
    answer = client_for("ada").post(f"/api/v1/incidents/{many_incident.pk}/retry/", **LANGUAGES[language])
    assert answer.status_code == 409
    again = {"nb": "steget feilet igjen", "en": "the step failed again"}[said]
    assert (answer.json()["code"], answer.json()["detail"]) == ("incident.failed_again", f"{again}: {MANY[said]}")
    if said == "nb":
        assert english_in(answer.json()["detail"]) == []


def test_the_incident_stores_the_engine_code_with_its_params(many_incident):
    assert many_incident.error == MANY["en"]
    assert many_incident.error_message == {
        "code": "incident.step.data_error",
        "params": {"detail": {"code": "engine.parallel-instances-limit", "params": {"limit": 500}}},
    }


def test_a_job_whose_field_breaks_a_limit_reads_in_the_readers_language(settings, client_for, users, agencies):
    """A connector's declared field makes a text past the limit: the job's error and its
    incident say why in the reader's words (the API's incident list, the admin's job page)."""
    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    settings.BROBYGGER = {**settings.BROBYGGER, "JOB_MAX_ATTEMPTS": 1}
    model = connector_model().replace('value="2026"', "value=\"'x' * 2000000\"")
    deploy_definition(actor=None, bpmn_xml=model, forms=FORMS, check_permission=False)
    registry = Registry([(200, {"income": 1})])
    ServiceConnector.objects.create(name="income-register", url=registry.url, secret="s", agency=agencies["nav"])
    case = services.start_case(
        actor=users["nils"], process_key="income_check", person=PERSON, participants={"nav": agencies["nav"].pk}
    )
    (ask,) = open_tasks(case)
    services.complete_task(actor=users["nils"], task_id=ask.pk, data={"applicant_id": "A-17"})
    Worker(name="w").run(once=True)
    job = Job.objects.get(case=case, kind=JobKind.SERVICE)
    (incident,) = Incident.objects.filter(job=job)
    assert registry.calls == []
    said = {
        "nb": "et deklarert felt kan ikke beregnes: en tekst eller liste ville fått mer enn 1\xa0000\xa0000 elementer, "
        "mer enn grensen",
        "en": "a declared field cannot be computed: a text or list would have more than 1,000,000 items, more than "
        "the limit",
    }
    assert listed(client_for, incident, "nb")["error"] == said["nb"]
    assert listed(client_for, incident, "en")["error"] == said["en"]
    staff = Client()
    staff.force_login(get_user_model().objects.create_superuser("root", "r@example.org", "pw-1234567"))
    page = staff.get(f"/admin/workflows/job/{job.pk}/change/", HTTP_ACCEPT_LANGUAGE="nb")
    assert said["nb"] in html.unescape(page.content.decode())


def test_a_job_whose_task_no_longer_waits_says_why_in_the_readers_language(users, agencies):
    """An external task fetched after its task went away: the job is cancelled, and its error
    on the admin's job page is bokmål throughout (the engine's "does not exist in this
    workflow" stood in English inside it before; and SpiffWorkflow's TaskNotFoundException
    escaped the fetch, a 500 on every try for the agency's system)."""
    case = waiting_on_nav_system(users, agencies)
    job = Job.objects.get(case=case, kind=JobKind.EXTERNAL_TASK)
    job.payload = {**job.payload, "task_id": str(uuid.uuid4())}
    job.save(update_fields=["payload"])
    answer = api(users["nils"]).post(
        "/api/v1/external-tasks/fetch-and-lock/",
        {"workerId": "w", "topics": [{"topicName": "housing-register", "lockDuration": 60000}]},
        format="json",
    )
    assert answer.status_code == 200 and answer.json() == []
    job.refresh_from_db()
    assert job.last_error == "the service task no longer waits: the service task is no longer in the case's process"
    staff = Client()
    staff.force_login(get_user_model().objects.create_superuser("root", "r@example.org", "pw-1234567"))
    page = html.unescape(
        staff.get(f"/admin/workflows/job/{job.pk}/change/", HTTP_ACCEPT_LANGUAGE="nb").content.decode()
    )
    assert "tjenesteoppgaven venter ikke lenger: tjenesteoppgaven finnes ikke lenger i sakens prosess" in page


def test_an_incident_stored_with_the_engines_older_english_words_still_reads(client_for, long_list_incident):
    """Rows written before the engine's words had codes: the frame in the reader's language,
    the engine's English as it was stored, the count from the case masked when shown."""
    old = "ExpressionError:range of 9,999,999 items exceeds the limit of 1,000,000. "
    message = Message("incident.step.expression_error", {"detail": old})
    Incident.objects.filter(pk=long_list_incident.pk).update(error=str(message), error_message=message.as_json())
    said = listed(client_for, long_list_incident, "nb")["error"]
    frame = "et uttrykk eller skript i modellen feilet"
    assert said == f"{frame}: ExpressionError:range of … items exceeds the limit of 1,000,000. "


def test_every_engine_code_has_a_text():
    assert {f"engine.{code}" for code in ENGINE_CODES} == {code for code in MESSAGES if code.startswith("engine.")}
