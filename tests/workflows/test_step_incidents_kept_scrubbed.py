"""An engine step's incident is KEPT scrubbed of every value its case holds and held, and of what
the person's other cases hold, as a job's failure is (``selectors.error_kept``, h-scrub5).
Before (h-scrub6), ``Step.incident`` stored the text as the engine scrubbed it: of the
workflow's current values only. A value corrected away (the state holds the new one), the
person's name as the register spells it, their national id printed 6 + 5, another case's
applicant id: the incident row, its timeline event's detail and the retry's answer kept them
(the incident list scrubbed them again when shown; an export of the rows, a query by hand
or the retry's 409 did not)."""

import json

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from bpmn.engine import runtime as engine
from bpmn.engine.errors import TaskFailed
from bpmn.services import deploy_definition
from permissions.models import Membership, Role
from retention import services as retention_services
from tests.bpmn.engine.bpmn_snippets import definitions, lane_set, properties
from tests.clients import api
from tests.workflows.helpers import open_tasks
from workflows import services
from workflows.models import Case, Event, EventKind, Incident

pytestmark = pytest.mark.django_db

PERSON = {"name": "Ola Nordmann", "national_id": "17912099997"}
OLD_ID, NEW_ID, OTHER_ID = "A-447133", "A-990245", "A-310877"
# What an engine text may quote that the workflow no longer (or never) held: the applicant id
# corrected away, the person's name before its correction as a register writes it, their
# national id printed 6 + 5, the applicant id of the person's other case.
SAID = f"lookup failed: applicant {OLD_ID} unknown (NORDMANN, OLA, 179120 99997; see {OTHER_ID})"
NOT_KEPT = (OLD_ID, "447133", "NORDMANN", "Nordmann", "99997", OTHER_ID)

FORMS = {
    "a.schema.json": {
        "type": "object",
        "properties": {"applicant_id": {"type": "string", "x-category": "economy"}},
        "required": ["applicant_id"],
    },
    "b.schema.json": {"type": "object", "properties": {"ok": {"type": "boolean", "x-category": "economy"}}},
}


def model() -> str:
    form_a, form_b = (properties(formJsonSchemaFilename=f"{name}.schema.json") for name in "ab")
    return definitions(f"""
        <bpmn:process id="Proc_lookup" name="Look up" isExecutable="true">
          {lane_set({"NAV": ["Start_1", "Task_a", "Script_s", "Task_b", "End_1"]})}
          <bpmn:startEvent id="Start_1"/>
          <bpmn:sequenceFlow id="F1" sourceRef="Start_1" targetRef="Task_a"/>
          <bpmn:userTask id="Task_a" name="Applicant">{form_a}</bpmn:userTask>
          <bpmn:sequenceFlow id="F2" sourceRef="Task_a" targetRef="Script_s"/>
          <bpmn:scriptTask id="Script_s"><bpmn:script>checked = applicant_id</bpmn:script></bpmn:scriptTask>
          <bpmn:sequenceFlow id="F3" sourceRef="Script_s" targetRef="Task_b"/>
          <bpmn:userTask id="Task_b" name="Check">{form_b}</bpmn:userTask>
          <bpmn:sequenceFlow id="F4" sourceRef="Task_b" targetRef="End_1"/>
          <bpmn:endEvent id="End_1"/>
        </bpmn:process>
    """)


def _user(name: str, agency, role: str):
    user = get_user_model().objects.create_user(name, password="x")
    Membership.objects.create(user=user, agency=agency, role=role)
    return user


@pytest.fixture
def people(agencies) -> dict:
    """A NAV caseworker (starts the cases, records and corrects the applicant id), the housing
    coordinator (corrects the person's name) and a process admin."""
    deploy_definition(actor=None, bpmn_xml=model(), forms=FORMS, check_permission=False)
    return {
        "worker": _user("t-scrub6-nav", agencies["nav"], Role.MEMBER),
        "coordinator": _user("t-scrub6-coord", agencies["housing"], Role.COORDINATOR),
        "admin": _user("t-scrub6-padmin", agencies["housing"], Role.PROCESS_ADMIN),
    }


def start_lookup(people, agencies, applicant_id: str) -> Case:
    """A case of the person, its applicant id given (the script ran; ``Task_b`` waits)."""
    case = services.start_case(
        actor=people["worker"],
        process_key="Proc_lookup",
        person=PERSON,
        participants={kind: agencies[kind].pk for kind in ("nav", "housing")},
    )
    (ask,) = open_tasks(case)
    services.complete_task(actor=people["worker"], task_id=ask.pk, data={"applicant_id": applicant_id})
    return case


def corrected_case(people, agencies) -> Case:
    """The person's other case (``OTHER_ID``), and this one with its applicant id and the
    person's name corrected: the old values are in the corrections only."""
    start_lookup(people, agencies, OTHER_ID)
    case = start_lookup(people, agencies, OLD_ID)
    for who, field, value in (("worker", "applicant_id", NEW_ID), ("coordinator", "person.name", "Ola Nordby")):
        retention_services.correct_value(
            actor=people[who], case_id=case.pk, field=field, value=value, reason="Feil i registreringen"
        )
    return Case.objects.get(pk=case.pk)


def _failure(*_args, **_kwargs):
    # The engine's TaskFailed as ``runtime.task_failure`` makes it: scrubbed of the workflow's
    # values (the new applicant id), not of what the case held before or the other case holds.
    raise TaskFailed(
        f"Error evaluating expression: {SAID}",
        element_id="Script_s",
        kind="expression-error",
        error_class="LookupError",
        detail=SAID,
    )


def _assert_not_kept(text: str) -> None:
    assert "lookup failed" in text and "unknown" in text, text  # what went wrong stays
    for value in NOT_KEPT:
        assert value not in text, (value, text)


def test_a_failed_steps_incident_and_event_keep_no_value_the_case_held(people, agencies, monkeypatch):
    case = corrected_case(people, agencies)
    assert OLD_ID not in json.dumps(case.data) and "Nordmann" not in case.person_name
    monkeypatch.setattr(engine, "advance", _failure)
    (check,) = open_tasks(case)
    services.complete_task(actor=people["worker"], task_id=check.pk, data={"ok": True})

    incident = Incident.objects.get(case=case)
    assert incident.element_id == "Script_s" and incident.job_id is None
    _assert_not_kept(f"{incident.error} {json.dumps(incident.error_message)}")
    event = Event.objects.get(case=case, kind=EventKind.INCIDENT)
    _assert_not_kept(json.dumps(event.detail))


def test_a_failed_retry_keeps_and_answers_no_value_the_case_held(people, agencies, monkeypatch):
    case = corrected_case(people, agencies)
    monkeypatch.setattr(engine, "advance", _failure)
    (check,) = open_tasks(case)
    services.complete_task(actor=people["worker"], task_id=check.pk, data={"ok": True})
    incident = Incident.objects.get(case=case)

    monkeypatch.setattr(engine, "rerun_errored_tasks", _failure)
    answer = api(people["admin"]).post(reverse("api-incident-retry", args=[incident.pk]), HTTP_ACCEPT_LANGUAGE="en")
    assert answer.status_code == 409 and answer.json()["code"] == "incident.failed_again"
    _assert_not_kept(answer.content.decode())
    incident.refresh_from_db()
    assert incident.attempts == 2
    _assert_not_kept(f"{incident.error} {json.dumps(incident.error_message)}")
