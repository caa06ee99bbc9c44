"""Engine helpers for timers and start events (no database)."""

from datetime import datetime

import pytest

from bpmn.engine.definition import compile_definition
from bpmn.engine.errors import BpmnValidationError, ExpressionError
from bpmn.engine.expressions import SCRIPT_ENGINE
from bpmn.engine.timefuncs import days_before, local_datetime, months_after, months_before
from tests.bpmn.engine.bpmn_snippets import definitions


def evaluate(expression, **data):
    return SCRIPT_ENGINE.environment.evaluate(expression, data)


def test_local_datetime_is_aware_on_both_sides_of_daylight_saving():
    assert local_datetime("2026-10-24", "09:00") == "2026-10-24T09:00:00+02:00"
    assert local_datetime("2026-10-26", "09:00") == "2026-10-26T09:00:00+01:00"
    # 02:30 on 28 March 2027 does not exist in Oslo: it moves forward by the gap
    assert local_datetime("2027-03-28", "02:30") == "2027-03-28T03:30:00+02:00"
    assert local_datetime("2026-10-26", "09:00", "UTC") == "2026-10-26T09:00:00+00:00"
    assert datetime.fromisoformat(local_datetime("2026-01-01")).tzinfo is not None


def test_month_arithmetic_clamps_the_day():
    assert months_before("2027-04-30", 2) == "2027-02-28"
    assert months_after("2026-12-31", 2) == "2027-02-28"
    assert months_before("2027-01-15", 2) == "2026-11-15"
    assert days_before("2027-03-01", 1) == "2027-02-28"


def test_timer_helpers_in_the_sandbox_refuse_bad_input():
    assert evaluate('local_datetime(months_before(d, 2), "09:00")', d="2026-12-26") == "2026-10-26T09:00:00+01:00"
    for expression, data in [
        ('local_datetime(d, "9 o\'clock")', {"d": "2026-10-26"}),
        ("months_before(d, 2)", {"d": None}),
        ("months_before(d, 2)", {"d": "soon"}),
        ('local_datetime(d, "09:00", "Mars/Olympus")', {"d": "2026-10-26"}),
    ]:
        with pytest.raises(ExpressionError):
            evaluate(expression, **data)


def test_timer_start_events_are_refused_with_advice():
    xml = definitions("""
        <bpmn:process id="Proc_start" isExecutable="true">
          <bpmn:startEvent id="StartEvent_1">
            <bpmn:timerEventDefinition><bpmn:timeDuration>"P1D"</bpmn:timeDuration></bpmn:timerEventDefinition>
          </bpmn:startEvent>
          <bpmn:sequenceFlow id="Flow_1" sourceRef="StartEvent_1" targetRef="EndEvent_1"/>
          <bpmn:endEvent id="EndEvent_1"/>
        </bpmn:process>
    """)
    with pytest.raises(BpmnValidationError) as raised:
        compile_definition(xml)
    issues = [issue for issue in raised.value.issues if issue.code == "timer-start-event"]
    assert issues and issues[0].element_id == "StartEvent_1"
    assert "opens cases explicitly" in issues[0].message
    assert "Only message start events are allowed" in issues[0].message


def test_a_lone_message_start_event_is_allowed():
    xml = definitions("""
        <bpmn:message id="Message_1" name="go"/>
        <bpmn:process id="Proc_start" isExecutable="true">
          <bpmn:startEvent id="StartEvent_1"><bpmn:messageEventDefinition messageRef="Message_1"/></bpmn:startEvent>
          <bpmn:sequenceFlow id="Flow_1" sourceRef="StartEvent_1" targetRef="EndEvent_1"/>
          <bpmn:endEvent id="EndEvent_1"/>
        </bpmn:process>
    """)
    compile_definition(xml)
