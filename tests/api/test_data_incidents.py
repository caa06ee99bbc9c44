"""Missing data in a model's own data handling is an incident on its element, never a 500
(issue 14): a multi-instance task without its input collection, a user task whose data
object is not in the data given. The process admin sets the missing data (logged: which
fields, never the values) and retries; the case goes on."""

from __future__ import annotations

import pytest

from tests.ids import tid
from workflows.models import Event, Incident, InstanceStatus, ProcessInstance, Task

from .conftest import PERSON

pytestmark = pytest.mark.django_db

NS = 'xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="D" targetNamespace="http://bpmn.io/schema/bpmn"'

MULTI_INSTANCE = f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions {NS}>
  <bpmn:process id="each_item" isExecutable="true">
    <bpmn:startEvent id="StartEvent_1"/>
    <bpmn:sequenceFlow id="F1" sourceRef="StartEvent_1" targetRef="double"/>
    <bpmn:scriptTask id="double" name="Double each item">
      <bpmn:multiInstanceLoopCharacteristics>
        <bpmn:loopDataInputRef>items</bpmn:loopDataInputRef>
        <bpmn:loopDataOutputRef>doubled</bpmn:loopDataOutputRef>
        <bpmn:inputDataItem id="item" name="item"/>
        <bpmn:outputDataItem id="twice" name="twice"/>
      </bpmn:multiInstanceLoopCharacteristics>
      <bpmn:script>twice = item * 2</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:sequenceFlow id="F2" sourceRef="double" targetRef="EndEvent_1"/>
    <bpmn:endEvent id="EndEvent_1"/>
  </bpmn:process>
</bpmn:definitions>
"""

DATA_OBJECT = f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions {NS}>
  <bpmn:process id="with_data_object" isExecutable="true">
    <bpmn:dataObject id="obj_1"/>
    <bpmn:dataObjectReference id="Ref_out" dataObjectRef="obj_1"/>
    <bpmn:startEvent id="StartEvent_1"/>
    <bpmn:sequenceFlow id="F1" sourceRef="StartEvent_1" targetRef="generate"/>
    <bpmn:userTask id="generate" name="Generate">
      <bpmn:dataOutputAssociation id="Out_1"><bpmn:targetRef>Ref_out</bpmn:targetRef></bpmn:dataOutputAssociation>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="F2" sourceRef="generate" targetRef="check"/>
    <bpmn:userTask id="check" name="Check"/>
    <bpmn:sequenceFlow id="F3" sourceRef="check" targetRef="EndEvent_1"/>
    <bpmn:endEvent id="EndEvent_1"/>
  </bpmn:process>
</bpmn:definitions>
"""
ROUTING = {"default": "nav"}


def _deploy(client_for, xml):
    response = client_for("ada").post(
        "/api/v1/process-definitions/", {"bpmn_xml": xml, "routing": ROUTING}, format="json"
    )
    assert response.status_code == 201, response.json()


def _start(client_for, agencies, key):
    response = client_for("nils").post(
        "/api/v1/cases/",
        {
            "process_key": key,
            "person": PERSON,
            "participants": {"nav": agencies["nav"].pk},
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    return response.json()["id"]


def test_multi_instance_without_its_collection_is_an_incident_fixed_by_setting_the_data(client_for, agencies):
    _deploy(client_for, MULTI_INSTANCE)
    case_id = _start(client_for, agencies, "each_item")  # was a 500 (TypeError from SpiffWorkflow)
    incident = Incident.objects.get(case_id=case_id)
    assert (incident.element_id, incident.kind) == ("double", "data-error")
    assert ProcessInstance.objects.get(case_id=case_id).status == InstanceStatus.INCIDENT

    admin = client_for("ada")
    again = admin.post(f"/api/v1/incidents/{incident.pk}/retry/")
    assert again.status_code == 409  # nothing fixed yet: the step fails again, nothing saved
    assert (
        client_for("nils")
        .post(f"/api/v1/incidents/{incident.pk}/data/", {"data": {"items": [1]}}, format="json")
        .status_code
        == 404
    )  # only process admins
    assert (
        admin.post(f"/api/v1/incidents/{incident.pk}/data/", {"data": {"__class__": 1}}, format="json").status_code
        == 400
    )
    response = admin.post(f"/api/v1/incidents/{incident.pk}/data/", {"data": {"items": [1, 2, 3]}}, format="json")
    assert response.status_code == 200, response.json()
    logged = Event.objects.get(case_id=case_id, kind="incident_data_set")
    assert logged.element_id == "double" and logged.detail["fields"] == ["items"]
    assert "1, 2, 3" not in str(logged.detail)  # which fields, never the values

    retried = admin.post(f"/api/v1/incidents/{incident.pk}/retry/")
    assert retried.status_code == 200, retried.json()
    assert ProcessInstance.objects.get(case_id=case_id).status == InstanceStatus.COMPLETED


def test_missing_data_object_on_completion_is_an_incident_not_a_500(client_for, agencies):
    _deploy(client_for, DATA_OBJECT)
    case_id = _start(client_for, agencies, "with_data_object")
    task = Task.objects.get(case_id=case_id, status="open")
    done = client_for("nils").post(f"/api/v1/tasks/{tid(task.pk)}/complete/", {"data": {}}, format="json")
    assert done.status_code == 200, done.json()  # the user's part is done; the model's data is not
    incident = Incident.objects.get(case_id=case_id)
    assert (incident.element_id, incident.kind) == ("generate", "data-error")
    assert "obj_1" in incident.error
    assert not Task.objects.filter(case_id=case_id, status="open").exists()

    admin = client_for("ada")
    assert admin.post(f"/api/v1/incidents/{incident.pk}/retry/").status_code == 409
    assert (
        admin.post(f"/api/v1/incidents/{incident.pk}/data/", {"data": {"obj_1": "report"}}, format="json").status_code
        == 200
    )
    assert admin.post(f"/api/v1/incidents/{incident.pk}/retry/").status_code == 200
    (check,) = Task.objects.filter(case_id=case_id, status="open")
    assert check.element_id == "check"
    assert (
        client_for("nils").post(f"/api/v1/tasks/{tid(check.pk)}/complete/", {"data": {}}, format="json").status_code
        == 200
    )
    assert ProcessInstance.objects.get(case_id=case_id).status == InstanceStatus.COMPLETED
    resolved = admin.post(f"/api/v1/incidents/{incident.pk}/data/", {"data": {"obj_1": "x"}}, format="json")
    assert resolved.status_code == 409


# --- only the data the failed element needs (issue 11) ----------------------------------

SPIFF = 'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"'
SCRIPT_READS = f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions {NS} {SPIFF}>
  <bpmn:process id="script_reads" isExecutable="true">
    <bpmn:startEvent id="StartEvent_1"/>
    <bpmn:sequenceFlow id="F1" sourceRef="StartEvent_1" targetRef="register"/>
    <bpmn:userTask id="register" name="Register">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="formJsonSchemaFilename" value="register.schema.json"/>
      </spiffworkflow:properties></bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="F2" sourceRef="register" targetRef="compute"/>
    <bpmn:scriptTask id="compute" name="Compute">
      <bpmn:script>total = count * 2 + bonus</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:sequenceFlow id="F3" sourceRef="compute" targetRef="EndEvent_1"/>
    <bpmn:endEvent id="EndEvent_1"/>
  </bpmn:process>
</bpmn:definitions>
"""
REGISTER_FORM = {
    "type": "object",
    "properties": {
        "count": {"type": "integer", "minimum": 0, "x-category": "coordination"},
        "health_note": {"type": "string", "x-category": "health"},
    },
    "required": ["count"],
}


@pytest.fixture
def script_incident(client_for, agencies, users):
    """The script of ``compute`` reads ``bonus``, which nothing set: an incident on it."""
    from bpmn.services import deploy_definition
    from workflows import services

    deploy_definition(
        actor=None,
        bpmn_xml=SCRIPT_READS,
        forms={"register.schema.json": REGISTER_FORM},
        routing=ROUTING,
        check_permission=False,
    )
    case_id = _start(client_for, agencies, "script_reads")
    task = Task.objects.get(case_id=case_id, status="open")
    services.complete_task(actor=users["nils"], task_id=task.pk, data={"count": 2, "health_note": "LAR"})
    incident = Incident.objects.get(case_id=case_id, resolved_at__isnull=True)
    assert incident.element_id == "compute"
    return incident


def _unchanged(incident):
    instance = ProcessInstance.objects.get(pk=incident.instance_id)
    return instance.state, instance.version, Event.objects.filter(case_id=incident.case_id).count()


def test_the_admin_sets_only_what_the_failed_element_reads(client_for, script_incident):
    admin, url = client_for("ada"), f"/api/v1/incidents/{script_incident.pk}/data/"
    before = _unchanged(script_incident)
    # A health field the element does not read, alone or beside a needed one: refused whole.
    for data in ({"health_note": "overwritten"}, {"bonus": 1, "health_note": "overwritten"}):
        answer = admin.post(url, {"data": data}, format="json")
        assert answer.status_code == 400, answer.content
        assert [e["field"] for e in answer.json()["errors"]] == ["data.health_note"]
        assert "overwritten" not in answer.content.decode()
        assert _unchanged(script_incident) == before  # nothing half-written, nothing logged
    # A needed field that a form defines is checked against it; the value is never echoed.
    answer = admin.post(url, {"data": {"count": "forty-two"}}, format="json")
    assert answer.status_code == 400 and [e["field"] for e in answer.json()["errors"]] == ["data.count"]
    assert "forty-two" not in answer.content.decode()
    assert admin.post(url, {"data": {"count": -1}}, format="json").status_code == 400
    assert _unchanged(script_incident) == before

    answer = admin.post(url, {"data": {"bonus": 1}}, format="json")
    assert answer.status_code == 200, answer.content
    logged = Event.objects.get(case_id=script_incident.case_id, kind="incident_data_set")
    assert logged.actor.username == "ada" and logged.detail["fields"] == ["bonus"]
    assert admin.post(f"/api/v1/incidents/{script_incident.pk}/retry/").status_code == 200
    from workflows.models import Case

    data = Case.objects.get(pk=script_incident.case_id).data
    assert data["health_note"] == "LAR"  # the health service's value, untouched
    assert ProcessInstance.objects.get(pk=script_incident.instance_id).status == InstanceStatus.COMPLETED


def test_element_needs_reads_the_model():
    from bpmn.engine.element_needs import element_needs

    assert element_needs(SCRIPT_READS, "compute") == {"count", "bonus", "total"}
    assert element_needs(MULTI_INSTANCE, "double") == {"items", "doubled", "item", "twice"}
    assert element_needs(DATA_OBJECT, "generate") == {"obj_1"}
    assert element_needs(SCRIPT_READS, "nowhere") == frozenset()
