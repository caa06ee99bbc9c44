"""A lapsed safety warning does not leave for an agency's system (h-attack34).

An external task in NAV's lane sends NAV's own system the warning the prison recorded (its
input reads the field). While the warning is in force every participant sees it, and NAV's
system may receive it as NAV's members read it. Once it lapsed NAV's members learn only that
a warning lapsed, and when (``policy.warning_dates``); a message to another case leaves it
out (``jobs.messages``), but the external task's fetch decided by the category alone
(``rules.receipt_grounds``) and sent NAV's system the lapsed warning, logged as an export."""

import pytest
from django.urls import reverse

from bpmn.services import deploy_definition
from permissions.models import AccessLog
from tests.api.test_safety_warnings import PERSON, SAFETY, WARNING, _recorded_long_ago, people  # noqa: F401
from tests.bpmn.engine.bpmn_snippets import definitions, lane_set, properties
from tests.clients import api
from workflows import services
from workflows.models import Task

pytestmark = pytest.mark.django_db

FETCH = "/api/v1/external-tasks/fetch-and-lock/"
TOPIC = {"topicName": "nav-visit-check", "lockDuration": 60000}
NOTED = {"type": "object", "properties": {"notert": {"type": "boolean", "x-category": "coordination"}}}
FORMS = {"warn.schema.json": {"type": "object", "properties": {"trussel": SAFETY}}, "noted.schema.json": NOTED}


def _model() -> str:
    warn, noted = (properties(formJsonSchemaFilename=f) for f in ("warn.schema.json", "noted.schema.json"))
    lanes = {"Boligkontakt": ["S", "T_home", "E"], "Kriminalomsorgen": ["T_warn"], "NAV": ["Service_nav"]}
    return definitions(f"""
        <bpmn:process id="Proc_warn_system" name="Proc_warn_system" isExecutable="true">
          {lane_set(lanes)}
          <bpmn:startEvent id="S"/>
          <bpmn:sequenceFlow id="F1" sourceRef="S" targetRef="T_warn"/>
          <bpmn:userTask id="T_warn" name="Advarsel">{warn}</bpmn:userTask>
          <bpmn:sequenceFlow id="F2" sourceRef="T_warn" targetRef="Service_nav"/>
          <bpmn:serviceTask id="Service_nav" name="Meld til NAVs system" camunda:type="external"
              camunda:topic="nav-visit-check">
            <bpmn:extensionElements>
              <camunda:inputOutput>
                <camunda:inputParameter name="trussel">${{trussel}}</camunda:inputParameter>
                <camunda:outputParameter name="notert">${{notert}}</camunda:outputParameter>
              </camunda:inputOutput>
              <spiffworkflow:properties>
                <spiffworkflow:property name="formJsonSchemaFilename" value="noted.schema.json"/>
              </spiffworkflow:properties>
            </bpmn:extensionElements>
          </bpmn:serviceTask>
          <bpmn:sequenceFlow id="F3" sourceRef="Service_nav" targetRef="T_home"/>
          <bpmn:userTask id="T_home" name="Bolig">{noted}</bpmn:userTask>
          <bpmn:sequenceFlow id="F4" sourceRef="T_home" targetRef="E"/>
          <bpmn:endEvent id="E"/>
        </bpmn:process>
    """).replace("<bpmn:definitions ", '<bpmn:definitions xmlns:camunda="http://camunda.org/schema/1.0/bpmn" ', 1)


def _fetched(client, worker):
    answer = client.post(FETCH, {"workerId": worker, "maxTasks": 5, "topics": [TOPIC]}, format="json")
    assert answer.status_code == 200, answer.content
    return answer.json()


def test_nav_s_system_is_not_sent_a_warning_that_lapsed_for_nav(people, agencies):  # noqa: F811
    deploy_definition(actor=None, bpmn_xml=_model(), forms=FORMS, check_permission=False)
    case = services.start_case(
        actor=people["coordinator"],
        process_key="Proc_warn_system",
        person=PERSON,
        participants={kind: agencies[kind].pk for kind in ("housing", "prison", "nav")},
    )
    task = Task.objects.get(case=case, element_id="T_warn")
    services.complete_task(actor=people["recorder"], task_id=task.pk, data={"trussel": WARNING})
    _recorded_long_ago(case)
    nav = api(people["other"])
    assert WARNING not in nav.get(reverse("api-case", args=[case.pk])).content.decode()  # lapsed for NAV

    (fetched,) = _fetched(nav, "nav-system")

    assert fetched["activityId"] == "Service_nav"
    assert "trussel" not in fetched["variables"]
    assert WARNING not in str(fetched)
    assert not AccessLog.objects.filter(case=case, category="safety", action="export").exists()
