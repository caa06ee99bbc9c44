"""A collaboration with two executable pools: NAV assesses the person's income and says
whether they need a home; the message "housing_needed" carries only that answer (its
payload ``needs_housing``, caught into the same name) to the housing office's pool, which
offers a home when it is needed. The housing office's pool is named "Boligkontoret", which
no alias knows: the routing map's ``pools`` routes it."""

COLLABORATION = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI"
  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="Defs_rehousing">
  <bpmn:collaboration id="rehousing" name="Bolig etter NAV-vurdering">
    <bpmn:participant id="Pool_nav" name="NAV" processRef="nav_assessment"/>
    <bpmn:participant id="Pool_housing" name="Boligkontoret" processRef="housing_offer"/>
    <bpmn:messageFlow id="Flow_need" sourceRef="Throw_need" targetRef="Catch_need"/>
  </bpmn:collaboration>
  <bpmn:message id="Message_need" name="housing_needed"/>
  <bpmn:process id="nav_assessment" name="NAV-vurdering" isExecutable="true">
    <bpmn:startEvent id="Start_nav"><bpmn:outgoing>N1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="Task_assess" name="Vurder inntekt og boligbehov">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="formJsonSchemaFilename" value="assess.schema.json"/>
      </spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:incoming>N1</bpmn:incoming><bpmn:outgoing>N2</bpmn:outgoing></bpmn:userTask>
    <bpmn:intermediateThrowEvent id="Throw_need" name="Meld boligbehov">
      <bpmn:incoming>N2</bpmn:incoming><bpmn:outgoing>N3</bpmn:outgoing>
      <bpmn:messageEventDefinition id="Def_throw_need" messageRef="Message_need">
        <bpmn:extensionElements>
          <spiffworkflow:messagePayload>needs_housing</spiffworkflow:messagePayload>
        </bpmn:extensionElements>
      </bpmn:messageEventDefinition>
    </bpmn:intermediateThrowEvent>
    <bpmn:endEvent id="End_nav"><bpmn:incoming>N3</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="N1" sourceRef="Start_nav" targetRef="Task_assess"/>
    <bpmn:sequenceFlow id="N2" sourceRef="Task_assess" targetRef="Throw_need"/>
    <bpmn:sequenceFlow id="N3" sourceRef="Throw_need" targetRef="End_nav"/>
  </bpmn:process>
  <bpmn:process id="housing_offer" name="Boligtilbud" isExecutable="true">
    <bpmn:startEvent id="Start_housing"><bpmn:outgoing>H1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:intermediateCatchEvent id="Catch_need" name="Boligbehov meldt">
      <bpmn:incoming>H1</bpmn:incoming><bpmn:outgoing>H2</bpmn:outgoing>
      <bpmn:messageEventDefinition id="Def_catch_need" messageRef="Message_need">
        <bpmn:extensionElements>
          <spiffworkflow:messageVariable>needs_housing</spiffworkflow:messageVariable>
        </bpmn:extensionElements>
      </bpmn:messageEventDefinition>
    </bpmn:intermediateCatchEvent>
    <bpmn:exclusiveGateway id="Gateway_need" name="Trengs bolig?" default="H_none">
      <bpmn:incoming>H2</bpmn:incoming><bpmn:outgoing>H_offer</bpmn:outgoing><bpmn:outgoing>H_none</bpmn:outgoing>
    </bpmn:exclusiveGateway>
    <bpmn:userTask id="Task_offer" name="Tilby bolig">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="formJsonSchemaFilename" value="offer.schema.json"/>
      </spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:incoming>H_offer</bpmn:incoming><bpmn:outgoing>H3</bpmn:outgoing></bpmn:userTask>
    <bpmn:endEvent id="End_offered"><bpmn:incoming>H3</bpmn:incoming></bpmn:endEvent>
    <bpmn:endEvent id="End_not_needed"><bpmn:incoming>H_none</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="H1" sourceRef="Start_housing" targetRef="Catch_need"/>
    <bpmn:sequenceFlow id="H2" sourceRef="Catch_need" targetRef="Gateway_need"/>
    <bpmn:sequenceFlow id="H_offer" sourceRef="Gateway_need" targetRef="Task_offer">
      <bpmn:conditionExpression>needs_housing == True</bpmn:conditionExpression></bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="H_none" sourceRef="Gateway_need" targetRef="End_not_needed"/>
    <bpmn:sequenceFlow id="H3" sourceRef="Task_offer" targetRef="End_offered"/>
  </bpmn:process>
</bpmn:definitions>"""

ROUTING = {"pools": {"Boligkontoret": "housing"}}


def _form(required, **properties):
    return {"type": "object", "properties": properties, "required": required, "additionalProperties": False}


FORMS = {
    "assess.schema.json": _form(
        ["income", "needs_housing"],
        income={"type": "integer", "minimum": 0, "title": "Inntekt", "x-category": "economy"},
        needs_housing={"type": "boolean", "title": "Trenger bolig", "x-category": "housing"},
    ),
    "offer.schema.json": _form(
        ["address"], address={"type": "string", "maxLength": 200, "title": "Adresse", "x-category": "housing"}
    ),
}
