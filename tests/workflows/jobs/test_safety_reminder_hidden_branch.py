"""A safety reminder tells no agency of a warning a branch hidden from it recorded (review2).

A gateway chooses, by the health service's assessment (health data), a branch on which the
prison records a safety warning. The coordinating housing agency, without the person's
consent to health, is not shown that branch, nor the warning its step wrote
(``selectors.branch_fields_hidden``): its case page shows no warning and it may not confirm
it. The reminder before the warning lapses (h-safety2) asked only whether the agency would
keep the warning once lapsed (``rules.decide_lapsed_warning``: the coordinator does), and
mailed the coordinating agency the warning's label and date: that the branch ran, and so
what the health service had assessed."""

import datetime

import pytest
from django.core import mail
from django.utils import timezone

from bpmn.services import deploy_definition
from permissions.models import Agency, Membership, Role
from tests.api.test_safety_warnings import PERSON, WARNING, people  # noqa: F401 (fixture)
from tests.bpmn.engine.bpmn_snippets import definitions, lane_set, properties
from tests.clients import api
from workflows import services
from workflows.jobs import handlers
from workflows.jobs.safety_reminders import enqueue_safety_reminders
from workflows.models import Case, Task

pytestmark = pytest.mark.django_db

FORMS = {
    "assess.schema.json": {"type": "object", "properties": {"rus": {"type": "boolean", "x-category": "health"}}},
    "warn.schema.json": {"type": "object", "properties": {"trussel": {"type": "string", "x-category": "safety"}}},
}
ADDRESSES = {"prison": "fengsel@example.test", "health": "helse@example.test", "housing": "bolig@example.test"}


def _model() -> str:
    assess, warn = (properties(formJsonSchemaFilename=f) for f in ("assess.schema.json", "warn.schema.json"))
    lanes = {"Boligkontakt": ["S", "J", "T_home", "E"], "Helse": ["T_assess", "G"], "Kriminalomsorgen": ["T_warn"]}
    return definitions(f"""
        <bpmn:process id="Proc_hidden_warn" name="Proc_hidden_warn" isExecutable="true">
          {lane_set(lanes)}
          <bpmn:startEvent id="S"/>
          <bpmn:sequenceFlow id="F1" sourceRef="S" targetRef="T_assess"/>
          <bpmn:userTask id="T_assess" name="Vurdering">{assess}</bpmn:userTask>
          <bpmn:sequenceFlow id="F2" sourceRef="T_assess" targetRef="G"/>
          <bpmn:exclusiveGateway id="G" default="F_plain"/>
          <bpmn:sequenceFlow id="F_warn" sourceRef="G" targetRef="T_warn">
            <bpmn:conditionExpression>rus == True</bpmn:conditionExpression>
          </bpmn:sequenceFlow>
          <bpmn:sequenceFlow id="F_plain" sourceRef="G" targetRef="J"/>
          <bpmn:userTask id="T_warn" name="Advarsel">{warn}</bpmn:userTask>
          <bpmn:sequenceFlow id="F3" sourceRef="T_warn" targetRef="J"/>
          <bpmn:exclusiveGateway id="J"/>
          <bpmn:sequenceFlow id="F4" sourceRef="J" targetRef="T_home"/>
          <bpmn:userTask id="T_home" name="Bolig"/>
          <bpmn:sequenceFlow id="F5" sourceRef="T_home" targetRef="E"/>
          <bpmn:endEvent id="E"/>
        </bpmn:process>
    """)


def test_the_coordinator_is_not_reminded_of_a_warning_on_a_branch_hidden_from_it(people, agencies, django_user_model):  # noqa: F811
    nurse = django_user_model.objects.create_user("helse-advarsel-skjult")
    Membership.objects.create(user=nurse, agency=agencies["health"], role=Role.MEMBER)
    deploy_definition(actor=None, bpmn_xml=_model(), forms=FORMS, check_permission=False)
    case = services.start_case(
        actor=people["coordinator"],
        process_key="Proc_hidden_warn",
        person=PERSON,
        participants={kind: agencies[kind].pk for kind in ("housing", "health", "prison")},
    )
    assess = Task.objects.get(case=case, element_id="T_assess")
    services.complete_task(actor=nurse, task_id=assess.pk, data={"rus": True})
    task = Task.objects.filter(case=case, element_id="T_warn").first()
    assert task is not None, list(Task.objects.filter(case=case).values_list("element_id", "status"))
    services.complete_task(actor=people["recorder"], task_id=task.pk, data={"trussel": WARNING})
    # The coordinating agency is not shown the warning (the branch is hidden from it) ...
    answer = api(people["coordinator"]).get(f"/api/v1/cases/{case.pk}/")
    assert answer.status_code == 200
    assert "trussel" not in answer.content.decode() and WARNING not in answer.content.decode()
    for kind, address in ADDRESSES.items():
        Agency.objects.filter(pk=agencies[kind].pk).update(notification_email=address)
    recorded = timezone.now() - datetime.timedelta(days=355)  # 10 days left, of 14
    Case.objects.filter(pk=case.pk).update(data_recorded_at={"trussel": recorded.isoformat()})

    enqueue_safety_reminders()
    while handlers.run_one("w"):
        pass

    # ... nor told of it by mail: the prison that recorded it is.
    assert [message.to for message in mail.outbox] == [[ADDRESSES["prison"]]]
