"""A parallel multi-instance creates every instance at once: a count of 100,000 typed into a
form (or a list of 200,000 zeros, under the 1 MB data limit) was 5 s of CPU and 100,000
ready tasks in one request, ten million a worker out of memory. It is an incident naming
the element instead, and nothing is created (resource-exhaustion review)."""

import pytest

from bpmn.engine.multi_instance import MAX_PARALLEL_INSTANCES
from bpmn.services import deploy_definition
from tests.bpmn.engine.bpmn_snippets import definitions, lane_set, properties
from tests.timing import cpu_time
from workflows import services
from workflows.models import Incident, InstanceStatus, ProcessInstance, Task

from .helpers import PERSON

pytestmark = pytest.mark.django_db

KEY = "Proc_visits"
START_FORM = {
    "type": "object",
    "properties": {
        "count": {"type": "integer", "x-category": "coordination"},
        "homes": {"type": "array", "x-category": "coordination"},
    },
}


def _deploy(loop: str):
    nodes = ["StartEvent_1", "Task_visit", "EndEvent_1"]
    xml = definitions(f"""
        <bpmn:process id="{KEY}" name="Visits" isExecutable="true">
          {lane_set({"NAV": nodes})}
          <bpmn:startEvent id="StartEvent_1">{properties(formJsonSchemaFilename="start.schema.json")}</bpmn:startEvent>
          <bpmn:sequenceFlow id="Flow_1" sourceRef="StartEvent_1" targetRef="Task_visit"/>
          <bpmn:userTask id="Task_visit" name="Visit">
            <bpmn:multiInstanceLoopCharacteristics isSequential="false">{loop}</bpmn:multiInstanceLoopCharacteristics>
          </bpmn:userTask>
          <bpmn:sequenceFlow id="Flow_2" sourceRef="Task_visit" targetRef="EndEvent_1"/>
          <bpmn:endEvent id="EndEvent_1"/>
        </bpmn:process>
        """)
    deploy_definition(actor=None, bpmn_xml=xml, forms={"start.schema.json": START_FORM}, check_permission=False)


CARDINALITY = "<bpmn:loopCardinality>count</bpmn:loopCardinality>"
COLLECTION = '<bpmn:loopDataInputRef>homes</bpmn:loopDataInputRef><bpmn:inputDataItem id="home" name="home"/>'


def _start(users, agencies, data):
    return services.start_case(
        actor=users["nils"], process_key=KEY, person=PERSON, participants={"nav": agencies["nav"].pk}, data=data
    )


@pytest.mark.parametrize(
    ("loop", "data"),
    [(CARDINALITY, {"count": 100_000}), (COLLECTION, {"homes": [0] * 200_000})],
)
def test_a_huge_parallel_multi_instance_is_an_incident_in_bounded_time(users, agencies, loop, data):
    _deploy(loop)
    with cpu_time() as used:
        case = _start(users, agencies, data)
    assert used.seconds < 3  # before: 5 s (cardinality) and more, 100,000 open tasks
    incident = Incident.objects.get(case=case)
    assert (incident.element_id, incident.kind) == ("Task_visit", "data-error")
    assert f"{MAX_PARALLEL_INSTANCES:,}" in incident.error
    assert "100000" not in incident.error and "100,000" not in incident.error
    assert ProcessInstance.objects.get(case=case).status == InstanceStatus.INCIDENT
    assert not Task.objects.filter(case=case).exists()


@pytest.mark.parametrize(("loop", "data"), [(CARDINALITY, {"count": 3}), (COLLECTION, {"homes": ["a", "b", "c"]})])
def test_a_parallel_multi_instance_within_the_limit_runs(users, agencies, loop, data):
    _deploy(loop)
    case = _start(users, agencies, data)
    assert not Incident.objects.filter(case=case).exists()
    assert Task.objects.filter(case=case, element_id="Task_visit").count() == 3
