"""A connector call (or an external task) the case no longer waits for holds no agency in it
(h-review). NAV's connector step "Look up income" has an interrupting deadline: when the
connector does not answer in time, the deadline takes the case on to the housing contact's own
step. The call's job stays as it was (pending for its next attempt, or failed with its
incident, whose retry only fails again: the step is gone), as does an external task NAV's
system never fetched. The withdrawal of NAV was refused for it for good, naming a step the case
had left; now only a call whose step still waits is counted."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.tokens import issue
from bpmn.services import deploy_definition
from permissions.models import CaseParticipant, Membership, Role
from tests.bpmn.engine.bpmn_snippets import definitions, lane_set, properties
from tests.clock import Clock
from tests.workflows.helpers import PERSON, open_tasks
from tests.workflows.jobs.test_connector_answers_attacked import SECRET, RawAnswer
from tests.workflows.service_models import FORMS
from workflows import services
from workflows.jobs.worker import Worker
from workflows.models import Incident, Job, JobKind, JobStatus, ServiceConnector

pytestmark = pytest.mark.django_db

OPERATOR = """<bpmn:serviceTask id="Service_1" name="Look up income"><bpmn:extensionElements>
    <spiffworkflow:serviceTaskOperator id="income-register" resultVariable="income,income_source">
      <spiffworkflow:parameters>
        <spiffworkflow:parameter id="applicant_id" type="str" value="applicant_id"/>
      </spiffworkflow:parameters>
    </spiffworkflow:serviceTaskOperator>
    <spiffworkflow:properties>
      <spiffworkflow:property name="formJsonSchemaFilename" value="income.schema.json"/>
    </spiffworkflow:properties></bpmn:extensionElements></bpmn:serviceTask>"""

EXTERNAL = """<bpmn:serviceTask id="Service_1" name="Look up income" camunda:type="external"
    camunda:topic="income-register" xmlns:camunda="http://camunda.org/schema/1.0/bpmn">
    <bpmn:extensionElements><camunda:inputOutput>
      <camunda:inputParameter name="applicant_id">${applicant_id}</camunda:inputParameter>
      <camunda:outputParameter name="income">${income}</camunda:outputParameter>
    </camunda:inputOutput>
    <spiffworkflow:properties>
      <spiffworkflow:property name="formJsonSchemaFilename" value="income.schema.json"/>
    </spiffworkflow:properties></bpmn:extensionElements></bpmn:serviceTask>"""


def _model(process_id: str, service: str) -> str:
    lanes = {
        "Boligkontakt": ["StartEvent_1", "Task_ask", "Task_manual", "Task_check", "EndEvent_1", "EndEvent_2"],
        "NAV": ["Service_1", "Boundary_1"],
    }
    ask, check = (
        properties(formJsonSchemaFilename="ask.schema.json"),
        properties(formJsonSchemaFilename="check.schema.json"),
    )
    return definitions(f"""
        <bpmn:process id="{process_id}" name="Income with a deadline" isExecutable="true">
          {lane_set(lanes)}
          <bpmn:startEvent id="StartEvent_1"/>
          <bpmn:sequenceFlow id="F1" sourceRef="StartEvent_1" targetRef="Task_ask"/>
          <bpmn:userTask id="Task_ask" name="Spør">{ask}</bpmn:userTask>
          <bpmn:sequenceFlow id="F2" sourceRef="Task_ask" targetRef="Service_1"/>
          {service}
          <bpmn:boundaryEvent id="Boundary_1" attachedToRef="Service_1" cancelActivity="true">
            <bpmn:timerEventDefinition><bpmn:timeDuration>PT1H</bpmn:timeDuration></bpmn:timerEventDefinition>
          </bpmn:boundaryEvent>
          <bpmn:sequenceFlow id="F3" sourceRef="Service_1" targetRef="Task_check"/>
          <bpmn:userTask id="Task_check" name="Kontroll">{check}</bpmn:userTask>
          <bpmn:sequenceFlow id="F4" sourceRef="Task_check" targetRef="EndEvent_1"/>
          <bpmn:sequenceFlow id="F5" sourceRef="Boundary_1" targetRef="Task_manual"/>
          <bpmn:userTask id="Task_manual" name="Manuell inntekt">{check}</bpmn:userTask>
          <bpmn:sequenceFlow id="F6" sourceRef="Task_manual" targetRef="EndEvent_2"/>
          <bpmn:endEvent id="EndEvent_1"/>
          <bpmn:endEvent id="EndEvent_2"/>
        </bpmn:process>
    """)


def _member(username, agency, role):
    user = get_user_model().objects.create_user(username)
    Membership.objects.create(user=user, agency=agency, role=role)
    return user


def _withdraw_nav(user, case, agencies):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {issue(user)[0]}")
    body = {"agency": agencies["nav"].pk, "reason": "NAV svarer ikke, inntekten er hentet manuelt"}
    return client.post(reverse("api-case-withdrawals", args=[case.pk]), body, format="json", HTTP_ACCEPT_LANGUAGE="nb")


@pytest.mark.parametrize(
    ("service", "kind", "left_as"),
    [
        (OPERATOR, JobKind.SERVICE, JobStatus.FAILED),  # its incident's retry calls a silent connector
        (OPERATOR, JobKind.SERVICE, JobStatus.PENDING),  # waiting for its next attempt
        (EXTERNAL, JobKind.EXTERNAL_TASK, JobStatus.PENDING),  # NAV's system never fetched it
    ],
)
def test_a_call_whose_step_the_deadline_cancelled_does_not_hold_the_agency(
    agencies, monkeypatch, service, kind, left_as
):
    process_id = f"Proc_income_deadline_{kind}"
    deploy_definition(actor=None, bpmn_xml=_model(process_id, service), forms=FORMS, check_permission=False)
    clock = Clock(monkeypatch, datetime(2026, 11, 2, 9, 0, tzinfo=UTC))
    coordinator = _member("boligkoordinator-rv", agencies["housing"], Role.COORDINATOR)
    contact = _member("boligkontakt-rv", agencies["housing"], Role.MEMBER)
    case = services.start_case(
        actor=coordinator,
        process_key=process_id,
        person=PERSON,
        participants={"nav": agencies["nav"].pk, "housing": agencies["housing"].pk},
    )
    (ask,) = open_tasks(case)
    services.complete_task(actor=contact, task_id=ask.pk, data={"applicant_id": "A-rv"})
    job = Job.objects.get(case=case, kind=kind)
    Job.objects.filter(pk=job.pk).update(status=left_as)
    refused = _withdraw_nav(coordinator, case, agencies)
    assert refused.status_code == 409, refused.content  # the step waits: NAV stays

    clock.advance(hours=1, seconds=1)
    assert services.fire_timer("w-rv")[0] == "fired"
    assert [task.element_id for task in open_tasks(case)] == ["Task_manual"]  # the housing contact's
    assert Job.objects.get(pk=job.pk).status == left_as  # the job is as it was

    answer = _withdraw_nav(coordinator, case, agencies)

    assert answer.status_code == 201, answer.content
    assert not CaseParticipant.objects.filter(case=case, agency=agencies["nav"]).exists()


def test_a_call_whose_step_the_deadline_cancelled_is_closed_when_a_worker_takes_it(agencies, monkeypatch, settings):
    """The worker that takes the call after the deadline finds the step gone before sending
    anything: the job is closed (cancelled), not retried into an incident. It was a failed
    attempt, retried until an incident opened whose own retry failed the same way: the process
    admin had an incident she could never resolve (and the agency was held in the case)."""
    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    process_id = "Proc_income_deadline_worker"
    deploy_definition(actor=None, bpmn_xml=_model(process_id, OPERATOR), forms=FORMS, check_permission=False)
    system = RawAnswer(b'{"income": 41000}')
    ServiceConnector.objects.create(name="income-register", url=system.url, secret=SECRET, agency=agencies["nav"])
    clock = Clock(monkeypatch, datetime(2026, 11, 2, 9, 0, tzinfo=UTC))
    contact = _member("boligkontakt-rw", agencies["housing"], Role.MEMBER)
    case = services.start_case(
        actor=_member("boligkoordinator-rw", agencies["housing"], Role.COORDINATOR),
        process_key=process_id,
        person=PERSON,
        participants={"nav": agencies["nav"].pk, "housing": agencies["housing"].pk},
    )
    (ask,) = open_tasks(case)
    services.complete_task(actor=contact, task_id=ask.pk, data={"applicant_id": "A-rw"})
    clock.advance(hours=1, seconds=1)
    assert services.fire_timer("w-rw")[0] == "fired"
    try:
        Worker(name="w-rw").run(once=True)
    finally:
        system.close()

    job = Job.objects.get(case=case, kind=JobKind.SERVICE)
    assert (job.status, job.last_error_message["code"]) == (JobStatus.CANCELLED, "job.task_no_longer_waits")
    assert system.calls == 0 and not Incident.objects.filter(case=case).exists()
