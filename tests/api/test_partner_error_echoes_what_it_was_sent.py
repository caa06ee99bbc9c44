"""An external task sends the agency's system the task's data it names, a script's variable
among them (a total of debts), a value no field of the case holds. The system's failure text
echoed one ("gjeld 12 500 over grensen") and the scrub, given the case's fields only, let it
through to the process admin, who sees no case data (h-scrub2). The failure is scrubbed of
what the task sent too."""

import pytest

from bpmn.services import deploy_definition
from tests.workflows.helpers import PERSON, open_tasks
from tests.workflows.service_models import FORMS, _process
from workflows import services
from workflows.models import Incident, Job

from .test_external_tasks import fetch

pytestmark = pytest.mark.django_db

COMPUTED = """<bpmn:serviceTask id="Service_1" name="Check the register" camunda:type="external"
        camunda:topic="housing-register">
      <bpmn:extensionElements>
        <camunda:inputOutput>
          <camunda:inputParameter name="debt_total">${debt_total}</camunda:inputParameter>
          <camunda:outputParameter name="register_status">${register_status}</camunda:outputParameter>
        </camunda:inputOutput>
        <spiffworkflow:properties>
          <spiffworkflow:property name="formJsonSchemaFilename" value="register.schema.json"/>
        </spiffworkflow:properties>
      </bpmn:extensionElements>
      <bpmn:incoming>F2b</bpmn:incoming><bpmn:outgoing>F3</bpmn:outgoing></bpmn:serviceTask>
    <bpmn:scriptTask id="Script_sum" name="Sum the debts"><bpmn:incoming>F2</bpmn:incoming>
      <bpmn:outgoing>F2b</bpmn:outgoing><bpmn:script>debt_total = len(applicant_id) * 3000 + 500</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:sequenceFlow id="F2b" sourceRef="Script_sum" targetRef="Service_1"/>"""


def _model() -> str:
    """``service_models._process`` with a script summing the debts before the external task."""
    xml = _process("register_check", COMPUTED)
    xml = xml.replace('<bpmn:sequenceFlow id="F2" sourceRef="Task_ask" targetRef="Service_1"/>', "")
    xml = xml.replace(
        "<bpmn:flowNodeRef>Service_1</bpmn:flowNodeRef>",
        "<bpmn:flowNodeRef>Script_sum</bpmn:flowNodeRef><bpmn:flowNodeRef>Service_1</bpmn:flowNodeRef>",
    )
    return xml.replace(
        "</bpmn:process>", '<bpmn:sequenceFlow id="F2" sourceRef="Task_ask" targetRef="Script_sum"/>\n</bpmn:process>'
    )


@pytest.mark.parametrize("message", ["gjeld 12 500 over grensen", "gjeld 12500 over grensen", "gjeld 12.500,-"])
def test_a_value_the_task_computed_and_the_system_echoes_reaches_nobody(client_for, users, agencies, message):
    deploy_definition(actor=None, bpmn_xml=_model(), forms=FORMS, check_permission=False)
    case = services.start_case(
        actor=users["nils"], process_key="register_check", person=PERSON, participants={"nav": agencies["nav"].pk}
    )
    (ask,) = open_tasks(case)
    services.complete_task(actor=users["nils"], task_id=ask.pk, data={"applicant_id": "A-17"})
    nils = client_for("nils")
    (task,) = fetch(nils)
    assert task["variables"] == {"debt_total": {"value": 12500}}  # a script's: no field of the case
    body = {"workerId": "w1", "errorMessage": message, "retries": 0}
    assert nils.post(f"/api/v1/external-tasks/{task['id']}/failure/", body, format="json").status_code == 204

    job = Job.objects.get(delivery_key=task["id"])
    incident = Incident.objects.get(job=job)
    shown = str(client_for("ada").get("/api/v1/incidents/").json()["results"])
    for text in (shown, job.last_error, incident.error):
        for value in ("12 500", "12500", "12.500"):
            assert value not in text, (value, text)
    assert "gjeld" in shown
