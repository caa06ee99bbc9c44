"""A date a form accepts must be one case work can have (h-dates): ``0001-01-01`` entered as the
expected release date passed the form and stopped the prison-release case on an expression
error of ``BoundaryEvent_no_home_timer`` (two months before year 1), pausing every agency's
work until a process admin stepped in. Now every date and date-time field of every form takes
1900-01-01 to 2199-12-31 unless the form sets its own range (``formatMinimum``/``formatMaximum``),
on completion, case start and correction alike: 400 naming the field, with the range; and a
timer whose computed date is out of range stops on its own incident naming the timer."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import translation
from rest_framework.test import APIClient

from accounts.tokens import issue
from bpmn.services import InvalidModel, deploy_definition
from core.messages import Message
from permissions.models import Membership, Role
from tests.bpmn.engine.bpmn_snippets import definitions, lane_set, properties
from tests.workflows.helpers import PRISON_PARTICIPANTS, open_tasks
from workflows import services
from workflows.models import Incident, InstanceStatus, ProcessInstance, TaskStatus

pytestmark = pytest.mark.django_db

PERSON = {"name": "Dato Datosen", "national_id": "29822099635"}
TYPOS = ["0001-01-01", "9999-12-31", "1899-12-31", "2200-01-01"]
INTAKE = {
    "housing_situation": "uten_bolig",
    "has_home": False,
    "consent_municipality": True,
    "consent_nav": True,
}


def client_of(user, language="en"):
    client = APIClient(HTTP_ACCEPT_LANGUAGE=language)
    client.credentials(HTTP_AUTHORIZATION=f"Token {issue(user)[0]}")
    return client


def member(agencies, kind, username, role=Role.MEMBER):
    user = get_user_model().objects.create_user(username)
    Membership.objects.create(user=user, agency=agencies[kind], role=role)
    return user


@pytest.fixture
def prison_worker(agencies):
    return member(agencies, "prison", "fengsel-dato")


@pytest.fixture
def intake(shipped, agencies, prison_worker):
    case = services.start_case(
        actor=prison_worker,
        process_key="prison_release_to_housing",
        person=PERSON,
        participants={kind: agencies[kind].pk for kind in PRISON_PARTICIPANTS},
    )
    (task,) = open_tasks(case)
    assert task.element_id == "Task_intake_interview"
    return task


def _complete(user, task, release_date, language="en"):
    url = reverse("api-task-complete", args=[task.pk])
    body = {"data": {**INTAKE, "expected_release_date": release_date}}
    return client_of(user, language).post(url, body, format="json")


@pytest.mark.parametrize("release_date", TYPOS)
def test_a_release_date_no_case_can_have_is_400_naming_the_field(intake, prison_worker, release_date):
    answer = _complete(prison_worker, intake, release_date)
    assert answer.status_code == 400, answer.json()
    (error,) = answer.json()["errors"]
    assert error["field"] == "expected_release_date" and error["code"] == "schema.date_range"
    assert error["message"] == "must be a date from 1900-01-01 to 2199-12-31"
    assert release_date not in answer.content.decode()
    # the case goes on: the task waits for a real date, nothing stopped on an incident
    intake.refresh_from_db()
    assert intake.status not in (TaskStatus.COMPLETED,)
    assert not Incident.objects.filter(case=intake.case).exists()
    assert ProcessInstance.objects.get(case=intake.case).status != InstanceStatus.INCIDENT


def test_the_range_is_said_in_bokmal(intake, prison_worker):
    answer = _complete(prison_worker, intake, "0001-01-01", language="nb")
    assert answer.status_code == 400
    (error,) = answer.json()["errors"]
    assert error["message"] == "må være en dato fra og med 1900-01-01 til og med 2199-12-31"


@pytest.mark.parametrize("release_date", ["1900-01-01", "2199-12-31"])
def test_the_first_and_last_date_of_the_range_pass_and_the_case_goes_on(intake, prison_worker, release_date):
    answer = _complete(prison_worker, intake, release_date)
    assert answer.status_code == 200, answer.json()
    assert not Incident.objects.filter(case=intake.case).exists()


def test_a_correction_to_a_date_no_case_can_have_is_400(intake, prison_worker):
    assert _complete(prison_worker, intake, "2031-05-17").status_code == 200
    case = intake.case
    url = reverse("api-case-corrections", args=[case.pk])
    client = client_of(prison_worker)
    body = {"field": "expected_release_date", "value": "0001-01-01", "reason": "Feil dato registrert"}
    answer = client.post(url, body, format="json")
    assert answer.status_code == 400, answer.json()
    assert [(e["field"], e["code"]) for e in answer.json()["errors"]] == [("value", "schema.date_range")]
    assert "0001-01-01" not in answer.content.decode()
    case.refresh_from_db()
    assert case.data["expected_release_date"] == "2031-05-17"
    assert not Incident.objects.filter(case=case).exists()
    assert client.post(url, {**body, "value": "2031-06-01"}, format="json").status_code == 201


# --- a model's own range, and case start ---------------------------------------------------

KEY = "Proc_dates"


def _model(timer: str = "", script: str = "") -> str:
    nodes = ["StartEvent_1", "Script_set", "Task_wait", "EndEvent_1"] + (["Timer_due", "End_due"] if timer else [])
    boundary = (
        f"""<bpmn:boundaryEvent id="Timer_due" attachedToRef="Task_wait" cancelActivity="false">
            <bpmn:timerEventDefinition id="Def_due">{timer}</bpmn:timerEventDefinition>
          </bpmn:boundaryEvent>
          <bpmn:sequenceFlow id="Flow_t" sourceRef="Timer_due" targetRef="End_due"/>
          <bpmn:endEvent id="End_due"/>"""
        if timer
        else ""
    )
    return definitions(f"""
        <bpmn:process id="{KEY}" name="Dates" isExecutable="true">
          {lane_set({"NAV": nodes})}
          <bpmn:startEvent id="StartEvent_1">{properties(formJsonSchemaFilename="start.schema.json")}</bpmn:startEvent>
          <bpmn:sequenceFlow id="Flow_0" sourceRef="StartEvent_1" targetRef="Script_set"/>
          <bpmn:scriptTask id="Script_set"><bpmn:script>{script or "noted = 1"}</bpmn:script></bpmn:scriptTask>
          <bpmn:sequenceFlow id="Flow_1" sourceRef="Script_set" targetRef="Task_wait"/>
          <bpmn:userTask id="Task_wait" name="Wait"/>
          {boundary}
          <bpmn:sequenceFlow id="Flow_2" sourceRef="Task_wait" targetRef="EndEvent_1"/>
          <bpmn:endEvent id="EndEvent_1"/>
        </bpmn:process>
        """)


def _deploy(prop=None, **model):
    prop = prop or {"type": "string", "format": "date"}
    form = {"type": "object", "properties": {"when": {**prop, "x-category": "coordination"}}}
    deploy_definition(actor=None, bpmn_xml=_model(**model), forms={"start.schema.json": form}, check_permission=False)


def _start(agencies, user, data):
    body = {"process_key": KEY, "person": PERSON, "participants": {"nav": agencies["nav"].pk}, "data": data}
    return client_of(user).post(reverse("api-cases"), body, format="json")


@pytest.mark.parametrize(
    ("prop", "refused", "accepted"),
    [
        ({"type": "string", "format": "date"}, ["0001-01-01", "2200-01-01"], ["1900-01-01", "2199-12-31"]),
        (  # a model's own range wins, narrower or wider
            {"type": "string", "format": "date", "formatMinimum": "2020-01-01", "formatMaximum": "2030-12-31"},
            ["2019-12-31", "2031-01-01"],
            ["2020-01-01", "2030-12-31"],
        ),
        ({"type": "string", "format": "date", "formatMinimum": "1850-01-01"}, ["1849-12-31"], ["1850-01-01"]),
        (
            {"type": "string", "format": "date-time"},
            ["0001-01-01T00:00:00+00:00", "9999-12-31T23:59:59Z"],
            ["1900-01-01T00:00:00+01:00", "2199-12-31T23:59:59Z"],
        ),
    ],
)
def test_case_start_data_keeps_to_the_field_s_range(agencies, prop, refused, accepted):
    _deploy(prop)
    nav = member(agencies, "nav", "nav-dato")
    for value in refused:
        answer = _start(agencies, nav, {"when": value})
        assert answer.status_code == 400, value
        (error,) = answer.json()["errors"]
        assert error["field"] == "data.when" and error["code"] == "schema.date_range"
        minimum, maximum = prop.get("formatMinimum", "1900-01-01"), prop.get("formatMaximum", "2199-12-31")
        assert error["message"] == f"must be a date from {minimum} to {maximum}"
    for value in accepted:
        assert _start(agencies, nav, {"when": value}).status_code == 201, value


@pytest.mark.parametrize(
    "bounds",
    [
        {"formatMinimum": "i fjor"},
        {"formatMaximum": 2030},
        {"formatMinimum": "2031-01-01", "formatMaximum": "2030-12-31"},
    ],
)
def test_a_model_s_own_range_that_is_no_range_is_refused_at_deploy(db, bounds):
    with pytest.raises(InvalidModel) as refused:
        _deploy({"type": "string", "format": "date", **bounds})
    (issue,) = [issue for issue in refused.value.issues if issue.code == "invalid-date-range"]
    assert issue.element_id == "StartEvent_1" and "'when'" in issue.message


# --- a timer whose computed date is out of range --------------------------------------------


@pytest.mark.parametrize(
    "script",
    [
        "release = '9999-12-31'",  # past the year 9999 once 30 days are added
        "release = '0001-01-01'",  # before the year 1 once 30 days are taken
        "release = '2500-01-01'",  # a real date, past the dates a timer may have
    ],
)
@pytest.mark.parametrize("kind", ["timeDate", "timeCycle"])
def test_a_timer_whose_computed_date_is_out_of_range_is_its_own_incident(agencies, script, kind):
    sign = "before" if "0001" in script else "after"
    when = f'local_datetime(days_{sign}(release, 30), "09:00")'
    expression = when if kind == "timeDate" else f'"R3/" + {when} + "/P1D"'  # a cycle from that date
    timer = f"<bpmn:{kind}>{expression}</bpmn:{kind}>"
    _deploy(timer=timer, script=script)
    nav = member(agencies, "nav", "nav-tidtaker")
    answer = _start(agencies, nav, {})
    assert answer.status_code == 201, answer.json()
    incident = Incident.objects.get(case_id=answer.json()["id"])
    assert (incident.element_id, incident.kind) == ("Timer_due", "timer-date-out-of-range")
    assert "Timer_due" in incident.error and "1900-01-01 to 2199-12-31" in incident.error
    message = Message.from_json(incident.error_message)
    assert message.code == "engine.timer-date-out-of-range"
    with translation.override("nb"):
        said = message.render(translation.gettext)
    assert said.startswith("tidtakeren «Timer_due» faller på en dato utenfor tidsrommet 1900-01-01 til 2199-12-31")
    value = script.split("'")[1]
    assert value not in incident.error and value[:4] not in str(incident.error_message) + said
