"""A process whose gateway reads a health field and sends the case down one of two branches:
the element under test (a message's catch or throw) stands on the branch taken when the
person needs treatment, hidden from every agency that does not see health."""

from tests.bpmn.engine.bpmn_snippets import definitions, lane_set, properties

HEALTH_FORM = {"type": "object", "properties": {"needs_treatment": {"type": "boolean", "x-category": "health"}}}
HOUSING_FORM = {"type": "object", "properties": {"home_found": {"type": "boolean", "x-category": "housing"}}}
ASSESS_FORM = properties(formJsonSchemaFilename="h.schema.json")
HOUSING = properties(formJsonSchemaFilename="b.schema.json")


def deploy_health_branch(*, process_id: str, name: str, message: str, element: str, element_xml: str, lane: str):
    """Deploy the process with ``element`` (its XML ``element_xml``) on the treatment branch,
    in ``lane`` ("Helse" or "Boligkontakt"); ``message`` is the model's message element."""
    lanes = {
        "Helse": ["StartEvent_1", "Task_assess", "Gateway_treatment"],
        "Boligkontakt": ["Task_ordinary_home", "Gateway_join", "Task_settle", "EndEvent_1"],
    }
    lanes[lane].append(element)
    xml = definitions(f"""
        {message}
        <bpmn:process id="{process_id}" name="{name}" isExecutable="true">
          {lane_set(lanes)}
          <bpmn:startEvent id="StartEvent_1"/>
          <bpmn:sequenceFlow id="Flow_1" sourceRef="StartEvent_1" targetRef="Task_assess"/>
          <bpmn:userTask id="Task_assess" name="Assess">{ASSESS_FORM}</bpmn:userTask>
          <bpmn:sequenceFlow id="Flow_2" sourceRef="Task_assess" targetRef="Gateway_treatment"/>
          <bpmn:exclusiveGateway id="Gateway_treatment" default="Flow_ordinary"/>
          <bpmn:sequenceFlow id="Flow_supported" sourceRef="Gateway_treatment" targetRef="{element}">
            <bpmn:conditionExpression>needs_treatment == True</bpmn:conditionExpression>
          </bpmn:sequenceFlow>
          <bpmn:sequenceFlow id="Flow_ordinary" sourceRef="Gateway_treatment" targetRef="Task_ordinary_home"/>
          {element_xml}
          <bpmn:userTask id="Task_ordinary_home" name="Ordinary home">{HOUSING}</bpmn:userTask>
          <bpmn:sequenceFlow id="Flow_3" sourceRef="{element}" targetRef="Gateway_join"/>
          <bpmn:sequenceFlow id="Flow_4" sourceRef="Task_ordinary_home" targetRef="Gateway_join"/>
          <bpmn:exclusiveGateway id="Gateway_join"/>
          <bpmn:sequenceFlow id="Flow_5" sourceRef="Gateway_join" targetRef="Task_settle"/>
          <bpmn:userTask id="Task_settle" name="Settle">{HOUSING}</bpmn:userTask>
          <bpmn:sequenceFlow id="Flow_6" sourceRef="Task_settle" targetRef="EndEvent_1"/>
          <bpmn:endEvent id="EndEvent_1"/>
        </bpmn:process>
    """)
    from bpmn.services import deploy_definition

    return deploy_definition(
        actor=None,
        bpmn_xml=xml,
        forms={"h.schema.json": HEALTH_FORM, "b.schema.json": HOUSING_FORM},
        check_permission=False,
    )
