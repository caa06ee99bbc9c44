"""Timers due "in days" at a working hour (bpmn/engine/working_hours.py), in the engine alone:
the calendar arithmetic, daylight saving, weekends, what stays exact, and that stored
definitions and states keep SpiffWorkflow's type names."""

import json
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition,
    DurationTimerEventDefinition,
)
from SpiffWorkflow.util.task import TaskState

from bpmn.engine import public_holidays, working_hours
from bpmn.engine import runtime as engine
from bpmn.engine.clock import moved_clock
from bpmn.engine.definition import compile_definition
from bpmn.engine.working_hours import DayDuration, WorkingHours, day_duration

from .bpmn_snippets import definitions

OSLO = ZoneInfo("Europe/Oslo")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("P1D", DayDuration(0, 1)),
        ("P2W", DayDuration(0, 14)),
        ("P1M", DayDuration(1, 0)),
        ("P1Y2M3D", DayDuration(14, 3)),
        ("p14d", DayDuration(0, 14)),
        ("PT2H", None),
        ("PT30M", None),
        ("P1DT2H", None),
        ("P0D", None),
        ("P1.5D", None),
        ("2027-03-01T09:00:00+01:00", None),
        ("R6/P1M", None),
        ("nonsense", None),
        (14, None),
    ],
)
def test_which_durations_are_in_days(text, expected):
    assert day_duration(text) == expected


@pytest.mark.parametrize(
    ("start", "duration", "times", "expected"),
    [
        (date(2027, 1, 31), DayDuration(1, 0), 1, date(2027, 2, 28)),  # day clamped
        (date(2027, 1, 31), DayDuration(1, 0), 2, date(2027, 3, 31)),  # counted from the start, not the clamp
        (date(2028, 1, 31), DayDuration(1, 0), 1, date(2028, 2, 29)),  # leap year
        (date(2027, 12, 15), DayDuration(1, 0), 1, date(2028, 1, 15)),
        (date(2027, 3, 9), DayDuration(0, 14), 3, date(2027, 4, 20)),
        (date(2027, 1, 15), DayDuration(12, 1), 1, date(2028, 1, 16)),
    ],
)
def test_calendar_arithmetic(start, duration, times, expected):
    assert duration.after(start, times) == expected


def test_nine_oslo_time_on_both_sides_of_daylight_saving():
    hours = WorkingHours()
    assert hours.on(date(2027, 3, 19)) == datetime(2027, 3, 19, 8, 0, tzinfo=UTC)  # winter time, Friday
    assert hours.on(date(2027, 4, 5)) == datetime(2027, 4, 5, 7, 0, tzinfo=UTC)  # summer time, Monday
    assert hours.on(date(2027, 11, 1)) == datetime(2027, 11, 1, 8, 0, tzinfo=UTC)


def test_a_weekend_day_moves_to_monday_unless_told_otherwise():
    saturday, sunday = date(2027, 3, 13), date(2027, 3, 14)
    assert WorkingHours().on(saturday) == WorkingHours().on(sunday) == datetime(2027, 3, 15, 8, 0, tzinfo=UTC)
    assert WorkingHours(skip_weekends=False).on(saturday) == datetime(2027, 3, 13, 8, 0, tzinfo=UTC)


def test_easter_sunday_by_the_gregorian_computus():
    # Easter Sundays from the Church of Norway's calendar
    assert [public_holidays.easter_sunday(year) for year in (2024, 2025, 2026, 2027, 2038)] == [
        date(2024, 3, 31),
        date(2025, 4, 20),
        date(2026, 4, 5),
        date(2027, 3, 28),
        date(2038, 4, 25),
    ]


def test_norway_s_public_holidays_in_2027():
    assert sorted(public_holidays.norwegian_public_holidays(2027)) == [
        date(2027, 1, 1),  # 1. nyttårsdag
        date(2027, 3, 25),  # skjærtorsdag
        date(2027, 3, 26),  # langfredag
        date(2027, 3, 28),  # 1. påskedag
        date(2027, 3, 29),  # 2. påskedag
        date(2027, 5, 1),  # 1. mai
        date(2027, 5, 6),  # Kristi himmelfartsdag
        date(2027, 5, 16),  # 1. pinsedag
        date(2027, 5, 17),  # grunnlovsdagen (and 2. pinsedag)
        date(2027, 12, 25),  # 1. juledag
        date(2027, 12, 26),  # 2. juledag
    ]


def test_a_public_holiday_moves_to_the_next_working_day_unless_told_otherwise():
    hours = WorkingHours()
    # Skjærtorsdag 25 March 2027: Thursday to 2. påskedag are closed; Tuesday, in summer time
    assert hours.on(date(2027, 3, 25)) == datetime(2027, 3, 30, 9, 0, tzinfo=OSLO)
    assert hours.on(date(2027, 3, 29)) == datetime(2027, 3, 30, 9, 0, tzinfo=OSLO)
    # 17 May 2027 is a Monday: the Tuesday
    assert hours.on(date(2027, 5, 17)) == datetime(2027, 5, 18, 9, 0, tzinfo=OSLO)
    # Christmas Eve is a working day; 25-26 December (a weekend in 2027) move to Monday the 27th
    assert hours.on(date(2027, 12, 24)) == datetime(2027, 12, 24, 9, 0, tzinfo=OSLO)
    assert hours.on(date(2027, 12, 25)) == datetime(2027, 12, 27, 9, 0, tzinfo=OSLO)
    # the holidays alone, without weekends: 2. juledag (a Sunday) still moves
    weekdays_too = WorkingHours(skip_weekends=False)
    assert weekdays_too.on(date(2027, 12, 26)) == datetime(2027, 12, 27, 9, 0, tzinfo=OSLO)
    assert weekdays_too.on(date(2027, 3, 27)) == datetime(2027, 3, 27, 9, 0, tzinfo=OSLO)  # a Saturday
    assert WorkingHours(skip_public_holidays=False).on(date(2027, 5, 17)) == datetime(2027, 5, 17, 9, 0, tzinfo=OSLO)


def test_days_are_counted_in_the_working_zone():
    """00:30 on 9 March in Oslo is 23:30 on the 8th in UTC: one day later is the 10th."""
    started = datetime(2027, 3, 9, 0, 30, tzinfo=OSLO)
    assert WorkingHours().due_after(started, DayDuration(0, 1)) == datetime(2027, 3, 10, 9, 0, tzinfo=OSLO)
    hours = WorkingHours(at=time(7, 30), zone="UTC")
    assert hours.due_after(started, DayDuration(0, 1)) == datetime(2027, 3, 9, 7, 30, tzinfo=UTC)


def test_bad_working_hours_fail_at_start_up():
    from zoneinfo import ZoneInfoNotFoundError

    with pytest.raises(ZoneInfoNotFoundError):
        WorkingHours(zone="Europe/Nowhere")
    with pytest.raises(ValueError):
        WorkingHours(at=time(9, 0, tzinfo=UTC))


# --- in a workflow ---------------------------------------------------------------------


def _model(timer: str) -> str:
    return definitions(f"""
        <bpmn:process id="Proc_days" isExecutable="true">
          <bpmn:startEvent id="StartEvent_1"/>
          <bpmn:sequenceFlow id="F1" sourceRef="StartEvent_1" targetRef="Wait"/>
          <bpmn:intermediateCatchEvent id="Wait">
            <bpmn:timerEventDefinition>{timer}</bpmn:timerEventDefinition>
          </bpmn:intermediateCatchEvent>
          <bpmn:sequenceFlow id="F2" sourceRef="Wait" targetRef="EndEvent_1"/>
          <bpmn:endEvent id="EndEvent_1"/>
        </bpmn:process>
    """)


def _started(timer: str, at: datetime):
    compiled = compile_definition(_model(timer).encode(), filename="days.bpmn")
    bundle = engine.restore_spec(compiled.spec_json)
    with moved_clock(lambda: at):
        workflow = engine.new_workflow(bundle)
        engine.advance(workflow)
    return compiled, bundle, workflow


def test_stored_definitions_keep_spiffworkflows_type_names_and_restore_as_ours():
    compiled, bundle, _ = _started(
        "<bpmn:timeDuration>P1D</bpmn:timeDuration>", datetime(2027, 3, 9, 2, 39, tzinfo=UTC)
    )
    assert '"typename":"DurationTimerEventDefinition"' in compiled.spec_json.replace(" ", "")
    wait = bundle.spec.task_specs["Wait"]
    assert type(wait.event_definition) is working_hours.WorkingDayDurationTimer
    assert isinstance(wait.event_definition, DurationTimerEventDefinition)
    cycle = _started('<bpmn:timeCycle>"R2/P1D"</bpmn:timeCycle>', datetime(2027, 3, 9, 2, 39, tzinfo=UTC))[1]
    assert isinstance(cycle.spec.task_specs["Wait"].event_definition, CycleTimerEventDefinition)
    assert type(cycle.spec.task_specs["Wait"].event_definition) is working_hours.WorkingDayCycleTimer


def test_a_duration_in_days_is_due_at_nine_and_survives_a_save():
    _, bundle, workflow = _started(
        "<bpmn:timeDuration>P1D</bpmn:timeDuration>", datetime(2027, 3, 9, 3, 39, tzinfo=OSLO)
    )
    assert engine.next_timer_due(workflow) == datetime(2027, 3, 10, 9, 0, tzinfo=OSLO)
    restored = engine.load_workflow(bundle, engine.dump_workflow(workflow))
    assert engine.next_timer_due(restored) == datetime(2027, 3, 10, 9, 0, tzinfo=OSLO)
    for moment, done in (
        (datetime(2027, 3, 10, 8, 59, 59, tzinfo=OSLO), False),
        (datetime(2027, 3, 10, 9, 0, 1, tzinfo=OSLO), True),
    ):
        with moved_clock(lambda moment=moment: moment):
            engine.advance(restored)
        assert restored.is_completed() is done


def test_a_timer_due_on_17_may_falls_due_the_day_after():
    _, _, workflow = _started("<bpmn:timeDuration>P1D</bpmn:timeDuration>", datetime(2027, 5, 16, 22, 10, tzinfo=OSLO))
    assert engine.next_timer_due(workflow) == datetime(2027, 5, 18, 9, 0, tzinfo=OSLO)


def test_a_monthly_cycle_skips_easter():
    # R3/P1M from Thursday 25 February 2027: the first month ends on Skjærtorsdag 25 March,
    # so it falls due on Tuesday 30 March, after Easter
    _, _, workflow = _started('<bpmn:timeCycle>"R3/P1M"</bpmn:timeCycle>', datetime(2027, 2, 25, 10, 0, tzinfo=OSLO))
    assert engine.next_timer_due(workflow) == datetime(2027, 3, 30, 9, 0, tzinfo=OSLO)


def test_explicit_dates_and_cycles_with_a_start_date_stay_exact():
    start = datetime(2027, 3, 9, 3, 39, tzinfo=OSLO)
    _, _, workflow = _started('<bpmn:timeDate>"2027-03-13T03:39:00+01:00"</bpmn:timeDate>', start)
    assert engine.next_timer_due(workflow) == datetime(2027, 3, 13, 3, 39, tzinfo=OSLO)
    _, _, workflow = _started('<bpmn:timeCycle>"R3/2027-03-13T03:39:00+01:00/P1D"</bpmn:timeCycle>', start)
    assert engine.next_timer_due(workflow) == datetime(2027, 3, 13, 3, 39, tzinfo=OSLO)


def test_working_hours_off_gives_spiffworkflows_exact_durations():
    start = datetime(2027, 3, 9, 3, 39, 12, tzinfo=OSLO)
    working_hours.configure(None)
    try:
        _, _, workflow = _started("<bpmn:timeDuration>P1D</bpmn:timeDuration>", start)
        assert engine.next_timer_due(workflow) == start + timedelta(days=1)
        _, _, workflow = _started('<bpmn:timeCycle>"R2/P1D"</bpmn:timeCycle>', start)
        assert engine.next_timer_due(workflow) == start + timedelta(days=1)
    finally:
        working_hours.configure(WorkingHours())


def test_a_cycle_stored_before_keeps_running_as_spiffworkflow_ran_it():
    """A state saved before working hours (no ``anchor`` in the cycle's value) goes on with
    SpiffWorkflow's fixed interval rather than jumping."""
    start = datetime(2027, 3, 9, 3, 39, tzinfo=OSLO)
    _, bundle, workflow = _started('<bpmn:timeCycle>"R2/P1D"</bpmn:timeCycle>', start)
    (wait,) = [t for t in workflow.get_tasks(state=TaskState.WAITING) if t.task_spec.bpmn_id == "Wait"]
    old = {"cycles": 2, "next": (start + timedelta(days=1)).astimezone(UTC).isoformat(), "duration": 86400.0}
    wait._set_internal_data(event_value=old)
    restored = engine.load_workflow(bundle, engine.dump_workflow(workflow))
    with moved_clock(lambda: start + timedelta(days=1, seconds=1)):
        engine.advance(restored)
    (wait,) = [t for t in restored.get_tasks(state=TaskState.WAITING) if t.task_spec.bpmn_id == "Wait"]
    value = wait._get_internal_data("event_value")
    assert value["cycles"] == 1 and "anchor" not in value
    assert datetime.fromisoformat(value["next"]) == start + timedelta(days=2)
    assert json.loads(json.dumps(value)) == value
