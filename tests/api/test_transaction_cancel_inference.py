"""A transaction cancelled on a gateway's branch: its cancel boundary event, and what follows
it, lie on that branch, and so does the transaction's normal way on (h-attack38).

Inside a transaction the health service assesses the person; a gateway on the assessment ends
the transaction at a cancel end event where the person needs treatment, at a plain end
elsewhere. The cancel boundary event on the transaction leads to a follow-up task, its normal
way on to the housing task. Signals, escalations and errors already went from a throw to their
catches in the path analysis (``gateway_paths._message_edges``); a cancel did not, so the
boundary counted as reached wherever the transaction was, and both tasks after it lay on no
branch: NAV, who does not see health, read the assessment off which of the two the case had
(open tasks, task lists and counts, timeline, diagram). A cancel end now reaches the cancel
boundary events as an error end reaches its catches."""

import pytest

from bpmn.engine.gateway_paths import path_splits
from tests.api.path_told import told
from tests.bpmn.engine.bpmn_snippets import definitions, lane_set, properties
from tests.workflows.helpers import PERSON
from workflows import services
from workflows.models import Task

pytestmark = pytest.mark.django_db

OTHER_PERSON = {"name": "Kari Nordmann", "national_id": "29822099635"}
HEALTH_FORM = {"type": "object", "properties": {"needs_treatment": {"type": "boolean", "x-category": "health"}}}
HOUSING_FORM = {"type": "object", "properties": {"home_found": {"type": "boolean", "x-category": "housing"}}}
FORM_H, FORM_B = properties(formJsonSchemaFilename="h.schema.json"), properties(formJsonSchemaFilename="b.schema.json")
HEALTH_LANE = ["Start_1", "Tx", "Tx_start", "Task_h", "G", "Cancel_end", "Ok_end", "Cancelled", "End_1", "End_2"]


def model() -> str:
    return definitions(f"""
        <bpmn:process id="Proc_tx" name="Vurdering i en transaksjon" isExecutable="true">
          {lane_set({"Helse": HEALTH_LANE, "Boligkontakt": ["Task_b", "Task_c"]})}
          <bpmn:startEvent id="Start_1"/>
          <bpmn:sequenceFlow id="F1" sourceRef="Start_1" targetRef="Tx"/>
          <bpmn:transaction id="Tx" name="Transaksjon">
            <bpmn:startEvent id="Tx_start"/>
            <bpmn:sequenceFlow id="T1" sourceRef="Tx_start" targetRef="Task_h"/>
            <bpmn:userTask id="Task_h" name="Vurdering">{FORM_H}</bpmn:userTask>
            <bpmn:sequenceFlow id="T2" sourceRef="Task_h" targetRef="G"/>
            <bpmn:exclusiveGateway id="G" default="T_ok"/>
            <bpmn:sequenceFlow id="T_cancel" sourceRef="G" targetRef="Cancel_end">
              <bpmn:conditionExpression>needs_treatment == True</bpmn:conditionExpression>
            </bpmn:sequenceFlow>
            <bpmn:sequenceFlow id="T_ok" sourceRef="G" targetRef="Ok_end"/>
            <bpmn:endEvent id="Cancel_end"><bpmn:cancelEventDefinition/></bpmn:endEvent>
            <bpmn:endEvent id="Ok_end"/>
          </bpmn:transaction>
          <bpmn:boundaryEvent id="Cancelled" attachedToRef="Tx"><bpmn:cancelEventDefinition/></bpmn:boundaryEvent>
          <bpmn:sequenceFlow id="F3" sourceRef="Cancelled" targetRef="Task_c"/>
          <bpmn:userTask id="Task_c" name="Etter avbrudd">{FORM_B}</bpmn:userTask>
          <bpmn:sequenceFlow id="F4" sourceRef="Task_c" targetRef="End_2"/>
          <bpmn:endEvent id="End_2"/>
          <bpmn:sequenceFlow id="F2" sourceRef="Tx" targetRef="Task_b"/>
          <bpmn:userTask id="Task_b" name="Bolig">{FORM_B}</bpmn:userTask>
          <bpmn:sequenceFlow id="F5" sourceRef="Task_b" targetRef="End_1"/>
          <bpmn:endEvent id="End_1"/>
        </bpmn:process>
    """)


def assessed(users, agencies, person, needs_treatment: bool):
    case = services.start_case(
        actor=users["helga"],
        process_key="Proc_tx",
        person=person,
        participants={kind: agencies[kind].pk for kind in ("health", "housing", "nav")},
    )
    task = Task.objects.get(case=case, element_id="Task_h")
    services.complete_task(actor=users["helga"], task_id=task.pk, data={"needs_treatment": needs_treatment})
    return case


def test_nav_is_told_the_same_whether_the_transaction_was_cancelled(users, agencies):
    from bpmn.services import deploy_definition

    forms = {"h.schema.json": HEALTH_FORM, "b.schema.json": HOUSING_FORM}
    deploy_definition(actor=None, bpmn_xml=model(), forms=forms, check_permission=False)
    cancelled = assessed(users, agencies, PERSON, True)
    ordinary = assessed(users, agencies, OTHER_PERSON, False)
    assert Task.objects.get(case=cancelled, status="open").element_id == "Task_c"
    assert Task.objects.get(case=ordinary, status="open").element_id == "Task_b"

    assert told(users["nils"], cancelled) == told(users["nils"], ordinary)
    assert "Task_c" in told(users["bjorn"], cancelled)["task list"]  # the housing office's own work


def test_the_cancel_boundary_what_follows_it_and_the_normal_way_on_lie_on_the_branch():
    branch = path_splits(model())["G"].branch_elements
    assert {"Cancel_end", "Cancelled", "Task_c", "Task_b"} <= branch
