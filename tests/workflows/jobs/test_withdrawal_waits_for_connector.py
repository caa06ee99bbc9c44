"""An agency whose connector the case still waits for is not withdrawn (h-outgoing2).

A service task in NAV's lane calls NAV's connector. Before, the coordinator could withdraw
NAV while the call was owed (a connector job is no external task): the worker's next call, or
the answer of one under way, was then refused (``job.service.other_agency``), the case waited
on an incident, and the process admin had nothing to retry it with but adding NAV back. Now
the withdrawal is refused (409, in bokmål, naming the step) while the call is pending, leased
to a worker or failed with an incident whose retry would call again, through the API and the
case page alike (``services.withdraw_agency``); decided under the case's locks."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.tokens import issue
from bpmn.services import deploy_definition
from permissions.models import CaseParticipant, Membership, Role
from tests.bpmn.engine.bpmn_snippets import definitions, lane_set, properties
from tests.workflows.helpers import PERSON, open_tasks
from tests.workflows.jobs.test_connector_answers_attacked import SECRET, RawAnswer
from tests.workflows.service_models import FORMS, connector_model
from workflows import services
from workflows.jobs import queue, service
from workflows.jobs.worker import Worker
from workflows.models import Event, EventKind, Incident, Job, JobKind, JobStatus, ServiceConnector

pytestmark = pytest.mark.django_db

REFUSAL_NB = (
    "Saken venter fortsatt på svar fra systemet til {agency}: «Look up income». "
    "Systemet må svare før etaten trekkes ut av saken"
)


def _member(username, agency, role):
    user = get_user_model().objects.create_user(username)
    Membership.objects.create(user=user, agency=agency, role=role)
    return user


@pytest.fixture
def owed(settings, agencies):
    """A case the housing agency coordinates, waiting for NAV's connector (``income-register``)."""
    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    settings.BROBYGGER = {**settings.BROBYGGER, "JOB_MAX_ATTEMPTS": 3, "WEBHOOK_TIMEOUT_SECONDS": 5}
    deploy_definition(actor=None, bpmn_xml=connector_model(), forms=FORMS, check_permission=False)
    system = RawAnswer(b'{"income": 41000, "income_source": "a-ordningen"}')
    ServiceConnector.objects.create(name="income-register", url=system.url, secret=SECRET, agency=agencies["nav"])
    coordinator = _member("boligkoordinator-o2", agencies["housing"], Role.COORDINATOR)
    caseworker = _member("nav-saksbehandler-o2", agencies["nav"], Role.MEMBER)
    case = services.start_case(
        actor=coordinator,
        process_key="income_check",
        person=PERSON,
        participants={"nav": agencies["nav"].pk, "housing": agencies["housing"].pk},
    )
    (ask,) = open_tasks(case)
    services.complete_task(actor=caseworker, task_id=ask.pk, data={"applicant_id": "A-o2"})
    assert open_tasks(case) == []
    yield case, coordinator, system
    system.close()


def _api(user):
    client = APIClient()
    token, _expiry = issue(user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def _withdraw_nav(client, case, agencies):
    body = {"agency": agencies["nav"].pk, "reason": "NAV er ferdig i saken"}
    url = reverse("api-case-withdrawals", args=[case.pk])
    return client.post(url, body, format="json", HTTP_ACCEPT_LANGUAGE="nb")


def _nav_takes_part(case, agencies) -> bool:
    return CaseParticipant.objects.filter(case=case, agency=agencies["nav"]).exists()


def test_an_agency_whose_connector_the_case_waits_for_is_not_withdrawn(owed, agencies, settings):
    case, coordinator, system = owed
    api = _api(coordinator)
    job = Job.objects.get(case=case, kind=JobKind.SERVICE)
    expected = REFUSAL_NB.format(agency=agencies["nav"].name)

    pending = _withdraw_nav(api, case, agencies)
    assert pending.status_code == 409, pending.content
    assert (pending.json()["code"], pending.json()["detail"]) == ("participant.waiting_service_calls", expected)

    claimed = queue.claim_external("w-elsewhere")  # a worker has it, its call under way
    assert job.pk in {row.pk for row in claimed}
    assert _withdraw_nav(api, case, agencies).json()["code"] == "participant.waiting_service_calls"

    # Failed with an incident: its retry would call NAV's connector again.
    Job.objects.filter(pk=job.pk).update(status=JobStatus.FAILED, locked_by="", lease_until=None)
    assert _withdraw_nav(api, case, agencies).status_code == 409
    assert _nav_takes_part(case, agencies)
    assert not Event.objects.filter(case=case, kind=EventKind.AGENCY_WITHDRAWN).exists()

    # Answered: what holds NAV now is its own user task, named as always.
    Job.objects.filter(pk=job.pk).update(status=JobStatus.PENDING, attempts=0)
    Worker(name="w-o2").run(once=True)
    assert system.calls == 1 and Job.objects.get(pk=job.pk).status == JobStatus.DONE
    assert not Incident.objects.filter(case=case).exists()
    assert _withdraw_nav(api, case, agencies).json()["code"] == "participant.open_tasks"


def test_the_case_page_refuses_it_alike_in_bokmal(owed, agencies):
    case, coordinator, _system = owed
    page = Client()
    page.force_login(coordinator)
    body = {"agency": agencies["nav"].pk, "reason": "NAV er ferdig i saken"}

    answer = page.post(reverse("case-withdraw-agency", args=[case.pk]), body, follow=True, HTTP_ACCEPT_LANGUAGE="nb")

    assert answer.status_code == 200
    shown = [str(message) for message in answer.context["messages"]]
    assert shown == [REFUSAL_NB.format(agency=agencies["nav"].name)]
    assert _nav_takes_part(case, agencies)


def test_a_withdrawal_while_the_call_is_under_way_is_refused_and_the_answer_taken(owed, agencies, monkeypatch):
    """The worker has claimed the job and its call is out (no transaction held): the withdrawal
    meets the leased job and is refused; the answer is then taken as NAV's. Before, NAV was
    withdrawn there, and its system's answer refused with an incident."""
    case, coordinator, system = owed
    exchange = service.webhook_transport.exchange
    during = []

    def withdrawal_meanwhile(*args, **kwargs):
        answer = exchange(*args, **kwargs)
        during.append(_withdraw_nav(_api(coordinator), case, agencies))
        return answer

    monkeypatch.setattr(service.webhook_transport, "exchange", withdrawal_meanwhile)
    Worker(name="w-o2").run(once=True)

    (refused,) = during
    assert (refused.status_code, refused.json()["code"]) == (409, "participant.waiting_service_calls")
    assert system.calls == 1 and Job.objects.get(case=case, kind=JobKind.SERVICE).status == JobStatus.DONE
    case.refresh_from_db()
    assert case.data["income"] == 41000 and not Incident.objects.filter(case=case).exists()
    assert _nav_takes_part(case, agencies)


# --- a service task on a branch the coordinator's path view hides ------------------------------

HEALTH_FORM = {"type": "object", "properties": {"needs_treatment": {"type": "boolean", "x-category": "health"}}}


def _hidden_connector_model() -> str:
    """Health assesses; ``needs_treatment`` (health) sends the case to NAV's connector task
    "Look up income", else straight to NAV's final task."""
    service = """<bpmn:serviceTask id="Service_1" name="Look up income"><bpmn:extensionElements>
        <spiffworkflow:serviceTaskOperator id="income-register" resultVariable="income,income_source">
          <spiffworkflow:parameters>
            <spiffworkflow:parameter id="year" type="int" value="2026"/>
          </spiffworkflow:parameters>
        </spiffworkflow:serviceTaskOperator>
        <spiffworkflow:properties>
          <spiffworkflow:property name="formJsonSchemaFilename" value="income.schema.json"/>
        </spiffworkflow:properties></bpmn:extensionElements></bpmn:serviceTask>"""
    lanes = {
        "Helse": ["StartEvent_1", "Task_assess", "Gateway_treatment"],
        "NAV": ["Service_1", "Task_final", "EndEvent_1"],
    }
    return definitions(f"""
        <bpmn:process id="Proc_hidden_call" name="Hidden call" isExecutable="true">
          {lane_set(lanes)}
          <bpmn:startEvent id="StartEvent_1"/>
          <bpmn:sequenceFlow id="F1" sourceRef="StartEvent_1" targetRef="Task_assess"/>
          <bpmn:userTask id="Task_assess" name="Vurdering">{properties(formJsonSchemaFilename="h.schema.json")}
          </bpmn:userTask>
          <bpmn:sequenceFlow id="F2" sourceRef="Task_assess" targetRef="Gateway_treatment"/>
          <bpmn:exclusiveGateway id="Gateway_treatment" default="F_other"/>
          <bpmn:sequenceFlow id="F_yes" sourceRef="Gateway_treatment" targetRef="Service_1">
            <bpmn:conditionExpression>needs_treatment == True</bpmn:conditionExpression>
          </bpmn:sequenceFlow>
          <bpmn:sequenceFlow id="F_other" sourceRef="Gateway_treatment" targetRef="Task_final"/>
          {service}
          <bpmn:sequenceFlow id="F3" sourceRef="Service_1" targetRef="Task_final"/>
          <bpmn:userTask id="Task_final" name="Avslutning">{properties(formJsonSchemaFilename="check.schema.json")}
          </bpmn:userTask>
          <bpmn:sequenceFlow id="F4" sourceRef="Task_final" targetRef="EndEvent_1"/>
          <bpmn:endEvent id="EndEvent_1"/>
        </bpmn:process>
    """)


def test_a_waiting_step_on_a_branch_hidden_from_the_coordinator_is_not_named(owed, agencies):
    """The coordinator (health masked) does not see whether the health answer sent the case to
    NAV's connector: the refusal names no step and answers as for a hidden user task."""
    _case, coordinator, _system = owed
    forms = {"h.schema.json": HEALTH_FORM, "check.schema.json": FORMS["check.schema.json"]}
    forms["income.schema.json"] = FORMS["income.schema.json"]
    deploy_definition(actor=None, bpmn_xml=_hidden_connector_model(), forms=forms, check_permission=False)
    assessor = _member("helse-o2", agencies["health"], Role.MEMBER)
    case = services.start_case(
        actor=assessor,
        process_key="Proc_hidden_call",
        person={"name": "Kari Nordmann", "national_id": "29822099635"},
        participants={kind: agencies[kind].pk for kind in ("health", "housing", "nav")},
    )
    (assess,) = open_tasks(case)
    services.complete_task(actor=assessor, task_id=assess.pk, data={"needs_treatment": True})
    assert Job.objects.filter(case=case, kind=JobKind.SERVICE, status=JobStatus.PENDING).exists()

    refused = _withdraw_nav(_api(coordinator), case, agencies)

    assert refused.status_code == 409
    assert refused.json()["code"] == "participant.open_tasks_unseen"
    assert "Look up income" not in refused.json()["detail"] and _nav_takes_part(case, agencies)
