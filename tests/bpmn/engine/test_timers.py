"""Timer expressions: ISO-8601 literals are quoted, bad ones refused at deploy."""

import ast
import json
from datetime import UTC, datetime, timedelta

import pytest

from bpmn.engine.timers import (
    TimerValueError,
    is_timezone_aware_iso,
    normalize_timer_expressions,
    parse_iso_cycle_text,
    parse_iso_datetime_text,
    parse_iso_duration_text,
)
from bpmn.engine.xml import parse_bpmn_xml
from tests.bpmn.engine.bpmn_snippets import BPMN_NS, definitions, line_of

FILE = "timers.bpmn"


def _model(kind: str, text: str, *, event: str = "boundary") -> str:
    timer = f'<bpmn:timerEventDefinition id="TimerDef_1"><bpmn:{kind}>{text}</bpmn:{kind}></bpmn:timerEventDefinition>'
    if event == "boundary":
        element = f'<bpmn:boundaryEvent id="Timer_wait" attachedToRef="Task_1">{timer}</bpmn:boundaryEvent>'
    elif event == "catch":
        element = f'<bpmn:intermediateCatchEvent id="Timer_wait">{timer}</bpmn:intermediateCatchEvent>'
    else:
        element = f'<bpmn:startEvent id="Timer_wait">{timer}</bpmn:startEvent>'
    return definitions(
        f"""
        <bpmn:process id="P" isExecutable="true">
          <bpmn:userTask id="Task_1"/>
          {element}
        </bpmn:process>
        """
    )


def _run(kind: str, text: str, **kwargs):
    root = parse_bpmn_xml(_model(kind, text, **kwargs))
    issues = normalize_timer_expressions(root, filename=FILE)
    node = root.find(f".//{{{BPMN_NS}}}{kind}")
    return issues, node.text


@pytest.mark.parametrize(
    ("kind", "text"),
    [
        ("timeDuration", "P14D"),
        ("timeDuration", "PT1H"),
        ("timeDuration", "P1Y2M"),
        ("timeDuration", "P2W"),
        ("timeDuration", "  P14D\n  "),
        ("timeDate", "2026-12-01T09:00:00+01:00"),
        ("timeDate", "2026-12-01T09:00:00Z"),
        ("timeCycle", "R3/P30D"),
        ("timeCycle", "R3/2026-12-01T09:00:00Z/P1D"),
        ("timeCycle", "R2/P1D/2026-12-01T09:00:00+01:00"),
    ],
)
def test_iso_literals_are_accepted_and_quoted(kind, text):
    issues, new_text = _run(kind, text)
    assert issues == []
    assert new_text == json.dumps(text.strip())
    # Now a Python string literal, as SpiffWorkflow evaluates it.
    assert ast.literal_eval(new_text) == text.strip()


@pytest.mark.parametrize("event", ["boundary", "catch", "start"])
def test_issue_points_at_the_enclosing_event(event):
    xml = _model("timeDate", "2026-12-01T09:00", event=event)
    root = parse_bpmn_xml(xml)
    issues = normalize_timer_expressions(root, filename=FILE)
    assert [issue.code for issue in issues] == ["naive-timer-date"]
    assert issues[0].element_id == "Timer_wait"
    assert issues[0].line == line_of(xml, 'id="Timer_wait"')
    assert issues[0].file == FILE


def test_naive_date_is_refused_with_a_plain_message():
    issues, text = _run("timeDate", "2026-12-01T09:00")
    assert [issue.code for issue in issues] == ["naive-timer-date"]
    assert issues[0].message == (
        "timer 'Timer_wait' has the date 2026-12-01T09:00 without a time zone; write it with an offset such as +01:00"
    )
    assert text == "2026-12-01T09:00"  # left untouched when refused


def test_date_only_is_naive():
    issues, _ = _run("timeDate", "2026-12-01")
    assert [issue.code for issue in issues] == ["naive-timer-date"]


def test_naive_start_date_in_a_cycle_is_refused():
    issues, _ = _run("timeCycle", "R3/2026-12-01T09:00:00/P1D")
    assert [issue.code for issue in issues] == ["naive-timer-date"]
    assert "2026-12-01T09:00:00 without a time zone" in issues[0].message


@pytest.mark.parametrize("text", ["R/P1D", "R-1/P1D", "R/2026-12-01T09:00:00Z/P1D", "'R/P1D'"])
def test_unbounded_cycle_is_refused(text):
    issues, _ = _run("timeCycle", text)
    assert [issue.code for issue in issues] == ["unbounded-timer-cycle"]
    assert "repeats forever" in issues[0].message
    assert "bounded count" in issues[0].message


def test_quoted_literal_is_validated_and_kept():
    issues, text = _run("timeDuration", '"P7D"')
    assert issues == []
    assert text == '"P7D"'
    issues, text = _run("timeDuration", "'PT30M'")
    assert issues == []
    assert ast.literal_eval(text) == "PT30M"


def test_quoted_naive_date_is_refused():
    issues, _ = _run("timeDate", '"2026-12-01T09:00"')
    assert [issue.code for issue in issues] == ["naive-timer-date"]


def test_quoted_nonsense_is_refused():
    issues, _ = _run("timeDuration", '"fourteen days"')
    assert [issue.code for issue in issues] == ["invalid-timer"]
    assert "ISO-8601 duration" in issues[0].message


@pytest.mark.parametrize(
    "text",
    [
        "due_in",
        "'P' + str(days) + 'D'",
        "release_date",
        "f'P{days}D'",
    ],
)
def test_python_expression_is_left_as_written(text):
    issues, new_text = _run("timeDuration", text)
    assert issues == []
    assert new_text == text


def test_expression_is_only_stripped_of_surrounding_white_space():
    issues, new_text = _run("timeDate", "\n      release_date\n    ")
    assert issues == []
    assert new_text == "release_date"


@pytest.mark.parametrize("text", ["P14X", "P1H", "PT", "P", "2026-13-01T09:00:00Z", "in 3 days"])
def test_invalid_text_is_refused(text):
    kind = "timeDate" if text.startswith("2026") else "timeDuration"
    issues, _ = _run(kind, text)
    assert [issue.code for issue in issues] == ["invalid-timer"], text
    assert issues[0].message.startswith("timer 'Timer_wait' ")


def test_syntax_error_names_the_reason():
    issues, _ = _run("timeDuration", "days * (")
    assert [issue.code for issue in issues] == ["invalid-timer"]
    assert "neither an ISO-8601 value" in issues[0].message
    assert "nor a valid expression" in issues[0].message


def test_number_is_refused():
    issues, _ = _run("timeDuration", "3600")
    assert [issue.code for issue in issues] == ["invalid-timer"]
    assert "not text" in issues[0].message


@pytest.mark.parametrize(
    ("kind", "text", "reason"),
    [
        ("timeDate", "P14D", "use timeDuration"),
        ("timeDuration", "2026-12-01T09:00:00Z", "not an ISO-8601 duration"),
        ("timeCycle", "P1D", "not an ISO-8601 repeating interval"),
    ],
)
def test_value_of_the_wrong_kind_is_refused(kind, text, reason):
    issues, _ = _run(kind, text)
    assert [issue.code for issue in issues] == ["invalid-timer"]
    assert reason in issues[0].message


def test_absurd_duration_is_refused():
    issues, _ = _run("timeDuration", "P100000000Y")
    assert [issue.code for issue in issues] == ["invalid-timer"]
    assert "longer than 100 years" in issues[0].message


@pytest.mark.parametrize("text", ["", "   "])
def test_empty_timer_is_refused(text):
    issues, _ = _run("timeDuration", text)
    assert [issue.code for issue in issues] == ["empty-timer"]
    assert "empty" in issues[0].message


def test_timer_without_a_time_is_refused():
    xml = definitions(
        """
        <bpmn:process id="P" isExecutable="true">
          <bpmn:intermediateCatchEvent id="Timer_wait">
            <bpmn:timerEventDefinition id="TimerDef_1"/>
          </bpmn:intermediateCatchEvent>
        </bpmn:process>
        """
    )
    issues = normalize_timer_expressions(parse_bpmn_xml(xml), filename=FILE)
    assert [issue.code for issue in issues] == ["empty-timer"]
    assert issues[0].element_id == "Timer_wait"


def test_normalized_timer_runs_in_spiffworkflow():
    """The rewritten tree parses and the timer's due time is what the literal says."""
    from SpiffWorkflow.bpmn import BpmnWorkflow
    from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser

    xml = definitions(
        """
        <bpmn:process id="P" isExecutable="true">
          <bpmn:startEvent id="StartEvent_1"/>
          <bpmn:sequenceFlow id="F1" sourceRef="StartEvent_1" targetRef="Wait"/>
          <bpmn:intermediateCatchEvent id="Wait">
            <bpmn:timerEventDefinition id="TD"><bpmn:timeDuration>P14D</bpmn:timeDuration>
            </bpmn:timerEventDefinition>
          </bpmn:intermediateCatchEvent>
          <bpmn:sequenceFlow id="F2" sourceRef="Wait" targetRef="End_1"/>
          <bpmn:endEvent id="End_1"/>
        </bpmn:process>
        """
    )
    root = parse_bpmn_xml(xml)
    assert normalize_timer_expressions(root, filename=FILE) == []
    parser = SpiffBpmnParser()
    parser.add_bpmn_xml(root, filename=FILE)
    workflow = BpmnWorkflow(parser.get_spec("P"))
    workflow.do_engine_steps()
    workflow.refresh_timers()
    waiting = [task for task in workflow.get_tasks() if task.task_spec.name == "Wait"]
    due = datetime.fromisoformat(waiting[0]._get_internal_data("event_value"))
    assert timedelta(days=13, hours=23) < due - datetime.now(UTC) <= timedelta(days=14)


# --- helpers ----------------------------------------------------------------------------


def test_parse_iso_duration_text():
    start = datetime(2026, 1, 31, tzinfo=UTC)
    assert parse_iso_duration_text("P5D") == timedelta(days=5)
    assert parse_iso_duration_text("PT1H30M") == timedelta(hours=1, minutes=30)
    assert parse_iso_duration_text("P2W") == timedelta(weeks=2)
    assert parse_iso_duration_text("P1M", start=start) == timedelta(days=31)
    for bad in ["5 days", "P", "PT", "P1H", "", "-P1D"]:
        with pytest.raises(ValueError):
            parse_iso_duration_text(bad)


def test_parse_iso_datetime_text_and_awareness():
    assert parse_iso_datetime_text("2026-12-01T09:00:00+01:00") == datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    assert is_timezone_aware_iso("2026-12-01T09:00:00Z")
    assert not is_timezone_aware_iso("2026-12-01T09:00:00")
    assert not is_timezone_aware_iso("P1D")
    with pytest.raises(TimerValueError) as info:
        parse_iso_datetime_text("2026-12-01T09:00")
    assert info.value.code == "naive-timer-date"


def test_parse_iso_cycle_text():
    count, first, interval = parse_iso_cycle_text("R3/2026-12-01T09:00:00Z/P1D")
    assert (count, first, interval) == (3, datetime(2026, 12, 1, 9, tzinfo=UTC), timedelta(days=1))
    with pytest.raises(TimerValueError) as info:
        parse_iso_cycle_text("R/P1D")
    assert info.value.code == "unbounded-timer-cycle"


@pytest.mark.parametrize(
    ("kind", "text", "date"),
    [
        ("timeDate", "0001-01-01T09:00:00Z", "0001-01-01T09:00:00Z"),
        ("timeDate", "2300-01-01T09:00:00+01:00", "2300-01-01T09:00:00+01:00"),
        ("timeDate", '"1899-12-31T23:59:59+01:00"', "1899-12-31T23:59:59+01:00"),
        ("timeCycle", "R3/9999-12-01T09:00:00Z/P1D", "9999-12-01T09:00:00Z"),
    ],
)
def test_a_literal_date_outside_the_dates_a_timer_may_have_is_refused(kind, text, date):
    issues, kept = _run(kind, text)
    assert [(issue.code, issue.element_id) for issue in issues] == [("timer-date-out-of-range", "Timer_wait")]
    assert issues[0].message == (
        f"timer 'Timer_wait' has the date {date}, outside 1900-01-01 to 2199-12-31, the dates a timer may have; "
        "write a date in that range"
    )
    assert kept == text  # left untouched when refused


@pytest.mark.parametrize(
    "text",
    ["1900-01-01T00:00:00+14:00", "2199-12-31T23:59:59-12:00", "1900-01-01T00:00:00Z", "2199-12-31T23:59:59Z"],
)
def test_the_first_and_last_day_a_timer_may_have_deploy_in_their_own_offset(text):
    # the date as written, as the engine checks a computed one (``date_range.check_timer_due``)
    issues, _ = _run("timeDate", text)
    assert issues == []
