"""Two processes that talk: ``notice`` throws "housing_ready" carrying the applicant's id
(its correlation property); ``move_in`` waits for it in a receive task whose correlation
is the same applicant id."""

HEADER = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="Defs_{pid}">
  <bpmn:collaboration id="Collab_{pid}">
    <bpmn:participant id="Part_{pid}" name="NAV" processRef="{pid}"/>
    <bpmn:correlationKey name="applicant_key"><bpmn:correlationPropertyRef>applicant</bpmn:correlationPropertyRef>
    </bpmn:correlationKey>
  </bpmn:collaboration>
  <bpmn:message id="Message_ready" name="housing_ready"/>
  <bpmn:correlationProperty id="applicant" name="applicant">
    <bpmn:correlationPropertyRetrievalExpression messageRef="Message_ready">
      <bpmn:messagePath>applicant_id</bpmn:messagePath>
    </bpmn:correlationPropertyRetrievalExpression>
  </bpmn:correlationProperty>"""

FORM = """<bpmn:extensionElements><spiffworkflow:properties>
  <spiffworkflow:property name="formJsonSchemaFilename" value="{form}"/>
</spiffworkflow:properties></bpmn:extensionElements>"""


def _lanes(*nodes):
    refs = "".join(f"<bpmn:flowNodeRef>{node}</bpmn:flowNodeRef>" for node in nodes)
    return f'<bpmn:laneSet id="LaneSet_1"><bpmn:lane id="Lane_nav" name="NAV">{refs}</bpmn:lane></bpmn:laneSet>'


def notice_model(*, pid="notice"):
    return (
        HEADER.format(pid=pid)
        + f"""
  <bpmn:process id="{pid}" name="Notice" isExecutable="true">
    {_lanes("Start_1", "Task_prepare", "Throw_ready", "End_1")}
    <bpmn:startEvent id="Start_1"><bpmn:outgoing>F1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="Task_prepare" name="Prepare">{FORM.format(form="applicant.schema.json")}
      <bpmn:incoming>F1</bpmn:incoming><bpmn:outgoing>F2</bpmn:outgoing></bpmn:userTask>
    <bpmn:intermediateThrowEvent id="Throw_ready" name="Housing ready">
      <bpmn:incoming>F2</bpmn:incoming><bpmn:outgoing>F3</bpmn:outgoing>
      <bpmn:messageEventDefinition id="Def_throw" messageRef="Message_ready">
        <bpmn:extensionElements>
          <spiffworkflow:messagePayload>{{"applicant_id": applicant_id, "ready": True}}</spiffworkflow:messagePayload>
        </bpmn:extensionElements>
      </bpmn:messageEventDefinition>
    </bpmn:intermediateThrowEvent>
    <bpmn:endEvent id="End_1"><bpmn:incoming>F3</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="F1" sourceRef="Start_1" targetRef="Task_prepare"/>
    <bpmn:sequenceFlow id="F2" sourceRef="Task_prepare" targetRef="Throw_ready"/>
    <bpmn:sequenceFlow id="F3" sourceRef="Throw_ready" targetRef="End_1"/>
  </bpmn:process>
</bpmn:definitions>"""
    )


def move_in_model():
    return (
        HEADER.format(pid="move_in")
        + f"""
  <bpmn:process id="move_in" name="Move in" isExecutable="true">
    {_lanes("Start_1", "Task_register", "Receive_ready", "Task_move", "End_1")}
    <bpmn:startEvent id="Start_1"><bpmn:outgoing>F1</bpmn:outgoing></bpmn:startEvent>
{MOVE_IN_FLOW}"""
    )


def settling_model():
    """``move_in`` as the next case of the person's path (``services.start_follow_on``): its
    start form takes the applicant's id over from the case it follows, and the housing
    contact (its own lane) moves the person in."""
    return (
        HEADER.format(pid="settling")
        + f"""
  <bpmn:process id="settling" name="Settling in" isExecutable="true">
    <bpmn:laneSet id="LaneSet_1">
      <bpmn:lane id="Lane_nav" name="NAV"><bpmn:flowNodeRef>Start_1</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>Task_register</bpmn:flowNodeRef><bpmn:flowNodeRef>Receive_ready</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>End_1</bpmn:flowNodeRef></bpmn:lane>
      <bpmn:lane id="Lane_housing" name="Boligkontakt"><bpmn:flowNodeRef>Task_move</bpmn:flowNodeRef></bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="Start_1">{FORM.format(form="settling_start.schema.json")}
      <bpmn:outgoing>F1</bpmn:outgoing></bpmn:startEvent>
{MOVE_IN_FLOW}"""
    )


MOVE_IN_FLOW = f"""\
    <bpmn:userTask id="Task_register" name="Register">{FORM.format(form="applicant.schema.json")}
      <bpmn:incoming>F1</bpmn:incoming><bpmn:outgoing>F2</bpmn:outgoing></bpmn:userTask>
    <bpmn:receiveTask id="Receive_ready" name="Wait for the home" messageRef="Message_ready">
      <bpmn:extensionElements>
        <spiffworkflow:messageVariable>notice</spiffworkflow:messageVariable>
        <spiffworkflow:processVariableCorrelation>
          <spiffworkflow:propertyId>applicant</spiffworkflow:propertyId>
          <spiffworkflow:expression>applicant_id</spiffworkflow:expression>
        </spiffworkflow:processVariableCorrelation>
      </bpmn:extensionElements>
      <bpmn:incoming>F2</bpmn:incoming><bpmn:outgoing>F3</bpmn:outgoing></bpmn:receiveTask>
    <bpmn:userTask id="Task_move" name="Move in">{FORM.format(form="move.schema.json")}
      <bpmn:incoming>F3</bpmn:incoming><bpmn:outgoing>F4</bpmn:outgoing></bpmn:userTask>
    <bpmn:endEvent id="End_1"><bpmn:incoming>F4</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="F1" sourceRef="Start_1" targetRef="Task_register"/>
    <bpmn:sequenceFlow id="F2" sourceRef="Task_register" targetRef="Receive_ready"/>
    <bpmn:sequenceFlow id="F3" sourceRef="Receive_ready" targetRef="Task_move"/>
    <bpmn:sequenceFlow id="F4" sourceRef="Task_move" targetRef="End_1"/>
  </bpmn:process>
</bpmn:definitions>"""


FORMS = {
    "applicant.schema.json": {
        "type": "object",
        "properties": {"applicant_id": {"type": "string", "title": "Søker", "x-category": "coordination"}},
        "required": ["applicant_id"],
        "additionalProperties": False,
    },
    "move.schema.json": {
        "type": "object",
        "properties": {"moved": {"type": "boolean", "title": "Flyttet", "x-category": "housing"}},
        "additionalProperties": False,
    },
    "settling_start.schema.json": {
        "type": "object",
        "properties": {
            "applicant_id": {
                "type": "string",
                "title": "Søker",
                "x-category": "coordination",
                "x-inherit": ["applicant_id"],
            }
        },
        "additionalProperties": False,
    },
}


def notice_ending_with_the_message():
    """``notice`` whose message end event throws the message (no intermediate throw)."""
    return (
        HEADER.format(pid="notice_end")
        + f"""
  <bpmn:process id="notice_end" name="Notice at the end" isExecutable="true">
    {_lanes("Start_1", "Task_prepare", "End_ready")}
    <bpmn:startEvent id="Start_1"><bpmn:outgoing>F1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="Task_prepare" name="Prepare">{FORM.format(form="applicant.schema.json")}
      <bpmn:incoming>F1</bpmn:incoming><bpmn:outgoing>F2</bpmn:outgoing></bpmn:userTask>
    <bpmn:endEvent id="End_ready" name="Housing ready">
      <bpmn:incoming>F2</bpmn:incoming>
      <bpmn:messageEventDefinition id="Def_end" messageRef="Message_ready">
        <bpmn:extensionElements>
          <spiffworkflow:messagePayload>{{"applicant_id": applicant_id, "ready": True}}</spiffworkflow:messagePayload>
        </bpmn:extensionElements>
      </bpmn:messageEventDefinition>
    </bpmn:endEvent>
    <bpmn:sequenceFlow id="F1" sourceRef="Start_1" targetRef="Task_prepare"/>
    <bpmn:sequenceFlow id="F2" sourceRef="Task_prepare" targetRef="End_ready"/>
  </bpmn:process>
</bpmn:definitions>"""
    )
