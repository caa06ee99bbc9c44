"""Models with service tasks: an HTTP connector (SpiffWorkflow's operator or Camunda's
connector) and a Camunda external task."""

HEADER = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:camunda="http://camunda.org/schema/1.0/bpmn"
  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="Defs_service">"""

FORM = """<bpmn:extensionElements><spiffworkflow:properties>
  <spiffworkflow:property name="formJsonSchemaFilename" value="{form}"/>
</spiffworkflow:properties></bpmn:extensionElements>"""


def _process(process_id, service_task):
    return f"""{HEADER}
  <bpmn:process id="{process_id}" name="{process_id}" isExecutable="true">
    <bpmn:laneSet id="LaneSet_1"><bpmn:lane id="Lane_nav" name="NAV">
      <bpmn:flowNodeRef>Start_1</bpmn:flowNodeRef><bpmn:flowNodeRef>Task_ask</bpmn:flowNodeRef>
      <bpmn:flowNodeRef>Service_1</bpmn:flowNodeRef><bpmn:flowNodeRef>Task_check</bpmn:flowNodeRef>
      <bpmn:flowNodeRef>End_1</bpmn:flowNodeRef></bpmn:lane></bpmn:laneSet>
    <bpmn:startEvent id="Start_1"><bpmn:outgoing>F1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="Task_ask" name="Ask">{FORM.format(form="ask.schema.json")}
      <bpmn:incoming>F1</bpmn:incoming><bpmn:outgoing>F2</bpmn:outgoing></bpmn:userTask>
    {service_task}
    <bpmn:userTask id="Task_check" name="Check">{FORM.format(form="check.schema.json")}
      <bpmn:incoming>F3</bpmn:incoming><bpmn:outgoing>F4</bpmn:outgoing></bpmn:userTask>
    <bpmn:endEvent id="End_1"><bpmn:incoming>F4</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="F1" sourceRef="Start_1" targetRef="Task_ask"/>
    <bpmn:sequenceFlow id="F2" sourceRef="Task_ask" targetRef="Service_1"/>
    <bpmn:sequenceFlow id="F3" sourceRef="Service_1" targetRef="Task_check"/>
    <bpmn:sequenceFlow id="F4" sourceRef="Task_check" targetRef="End_1"/>
  </bpmn:process>
</bpmn:definitions>"""


def connector_model(connector="income-register"):
    """SpiffWorkflow's operator: send ``applicant_id`` and ``year``; take ``income``."""
    return _process(
        "income_check",
        f"""<bpmn:serviceTask id="Service_1" name="Look up income">
      <bpmn:extensionElements>
        <spiffworkflow:serviceTaskOperator id="{connector}" resultVariable="income,income_source">
          <spiffworkflow:parameters>
            <spiffworkflow:parameter id="applicant_id" type="str" value="applicant_id"/>
            <spiffworkflow:parameter id="year" type="int" value="2026"/>
          </spiffworkflow:parameters>
        </spiffworkflow:serviceTaskOperator>
        <spiffworkflow:properties>
          <spiffworkflow:property name="formJsonSchemaFilename" value="income.schema.json"/>
        </spiffworkflow:properties>
      </bpmn:extensionElements>
      <bpmn:incoming>F2</bpmn:incoming><bpmn:outgoing>F3</bpmn:outgoing></bpmn:serviceTask>""",
    )


def external_model(topic="housing-register"):
    """Camunda's external task: send ``applicant_id``; take ``register_status``."""
    return _process(
        "register_check",
        f"""<bpmn:serviceTask id="Service_1" name="Check the register" camunda:type="external"
        camunda:topic="{topic}">
      <bpmn:extensionElements>
        <camunda:inputOutput>
          <camunda:inputParameter name="applicant_id">${{applicant_id}}</camunda:inputParameter>
          <camunda:outputParameter name="register_status">${{register_status}}</camunda:outputParameter>
        </camunda:inputOutput>
        <spiffworkflow:properties>
          <spiffworkflow:property name="formJsonSchemaFilename" value="register.schema.json"/>
        </spiffworkflow:properties>
      </bpmn:extensionElements>
      <bpmn:incoming>F2</bpmn:incoming><bpmn:outgoing>F3</bpmn:outgoing></bpmn:serviceTask>""",
    )


def _form(**properties):
    return {"type": "object", "properties": properties, "additionalProperties": False}


FORMS = {
    "ask.schema.json": {
        **_form(applicant_id={"type": "string", "title": "Søker", "x-category": "economy"}),
        "required": ["applicant_id"],
    },
    "check.schema.json": _form(ok={"type": "boolean", "title": "OK", "x-category": "economy"}),
    "income.schema.json": {
        **_form(
            income={"type": "integer", "minimum": 0, "title": "Inntekt", "x-category": "economy"},
            income_source={"type": "string", "title": "Kilde", "x-category": "economy"},
        ),
        "required": ["income"],
    },
    "register.schema.json": {
        **_form(
            register_status={
                "type": "string",
                "enum": ["listed", "not_listed"],
                "title": "Status",
                "x-category": "housing",
            }
        ),
        "required": ["register_status"],
    },
}
