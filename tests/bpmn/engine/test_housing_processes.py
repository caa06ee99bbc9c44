"""The housing-work processes of issue 15 run end to end in the engine (no database).

Henvendelse om bolig (every housing path), Etablering og oppfølging i bolig (visits at the
interval the housing contact chooses, early warnings by message) and Forebygging av
utkastelse (deadlines from the eviction date). The static checks of every shipped process
are in ``test_shipped_processes.py``; the same runs through the services are in
``tests/workflows/test_housing_processes_flow.py``.
"""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.util.task import TaskState

from bpmn.engine import events as engine_events
from tests.clock import Clock

from .test_shipped_processes import (
    EVICTION,
    REFERRAL,
    SETTLING_IN,
    complete,
    new_workflow,
    ready_map,
    ready_user_tasks,
    run_steps,
)

OSLO = ZoneInfo("Europe/Oslo")
H, N, K, HE = "Boligkontakt", "NAV", "Kommune", "Helse"
OUTCOME = {"Task_record_outcome": H}


def waiting(wf, element_id):
    return [t for t in wf.get_tasks(state=TaskState.WAITING) if t.task_spec.bpmn_id == element_id]


def timer_due(wf, element_id) -> datetime:
    """When the waiting timer fires (SpiffWorkflow keeps it in the task: ISO text, or for a
    cycle ``{"cycles", "next", "duration"}``)."""
    (task,) = waiting(wf, element_id)
    value = task._get_internal_data("event_value")
    return datetime.fromisoformat(value["next"] if isinstance(value, dict) else value).astimezone(UTC)


def fire(wf, element_id, monkeypatch):
    """Move the clock just past the timer and let it fire."""
    Clock(monkeypatch, timer_due(wf, element_id) + timedelta(seconds=1))
    wf.refresh_timers()
    wf.do_engine_steps()


# ------------------------------------------------------------------ Henvendelse om bolig

REFERRAL_START = [
    {"Task_register_referral": H},
    {"Task_needs_assessment": H},
    {"Task_economy_assessment": N},
    {"Task_choose_path": H},
]
PATHS = {
    "eid_med_startlan": [{"Task_apply_startlan": H}, {"Task_decide_startlan": K}],
    "kommunal_utleiebolig": [{"Task_apply_municipal": H}, {"Task_decide_municipal": K}],
    "omsorgsbolig": [{"Task_apply_municipal": H}, {"Task_decide_municipal": K}],
    "privat_leie": [{"Task_rent_support": N}],
}


@pytest.mark.parametrize("path", PATHS)
def test_referral_runs_every_housing_path_to_the_outcome(path):
    wf = new_workflow(REFERRAL)
    data = {"housing_path": path, "home_secured": True, "apply_housing_allowance": True}
    steps = [*REFERRAL_START, *PATHS[path], {"Task_viewing_contract": H}, {"Task_decide_housing_allowance": K}, OUTCOME]
    run_steps(wf, REFERRAL, steps, data)
    assert wf.is_completed()
    assert wf.last_task.data["housing_path"] == path


@pytest.mark.parametrize(("home_secured", "allowance"), [(False, True), (True, False)])
def test_referral_without_a_home_or_allowance_goes_straight_to_the_outcome(home_secured, allowance):
    wf = new_workflow(REFERRAL)
    data = {"housing_path": "privat_leie", "home_secured": home_secured, "apply_housing_allowance": allowance}
    steps = [*REFERRAL_START, *PATHS["privat_leie"], {"Task_viewing_contract": H}, OUTCOME]
    run_steps(wf, REFERRAL, steps, data)
    assert wf.is_completed()


def test_a_late_decision_on_municipal_housing_escalates_without_interrupting(monkeypatch):
    wf = new_workflow(REFERRAL)
    data = {"housing_path": "kommunal_utleiebolig", "home_secured": True, "apply_housing_allowance": False}
    run_steps(wf, REFERRAL, [*REFERRAL_START, {"Task_apply_municipal": H}], data)
    assert ready_map(wf) == {"Task_decide_municipal": K}
    due = timer_due(wf, "BoundaryEvent_decision_timer")
    assert abs(due - (datetime.now(UTC) + timedelta(days=21))) < timedelta(minutes=5)

    fire(wf, "BoundaryEvent_decision_timer", monkeypatch)
    assert ready_map(wf) == {"Task_decide_municipal": K, "Task_escalate_decision": K}
    for task in ready_user_tasks(wf):
        complete(wf, task, REFERRAL, data)
    run_steps(wf, REFERRAL, [{"Task_viewing_contract": H}, OUTCOME], data)
    assert wf.is_completed()


# ----------------------------------------------------------- Etablering og oppfølging i bolig

SETTLING_START = [
    {"Task_plan_move_in": H},
    {"Task_furniture_support": N, "Task_home_services": HE, "Task_move_in": H},
    {"Task_follow_up_plan": H},
]


def _settle_in(wf, plan):
    run_steps(wf, SETTLING_IN, SETTLING_START, plan)
    assert ready_map(wf) == {}


@pytest.mark.parametrize(("interval", "count", "days"), [("P2W", 3, 14), ("P1W", 2, 7), ("P1M", 2, 28)])
def test_visits_come_at_the_interval_and_as_often_as_the_plan_says(interval, count, days, monkeypatch):
    clock = Clock(monkeypatch, datetime.now(UTC))
    wf = new_workflow(SETTLING_IN)
    _settle_in(wf, {"visit_interval": interval, "visit_count": count})
    for _ in range(count):
        due = timer_due(wf, "Event_visit_cycle")
        # one interval after the plan, then after each visit's round (P1M: 28 to 31 days)
        assert timedelta(days=days, seconds=-5) <= due - clock.moment <= timedelta(days=days + 3)
        clock.set(due - timedelta(minutes=1))
        wf.refresh_timers()
        wf.do_engine_steps()
        assert ready_map(wf) == {}  # not before its time
        clock.set(due + timedelta(seconds=1))
        wf.refresh_timers()
        wf.do_engine_steps()
        assert ready_map(wf) == {"Task_follow_up_visit": H}
        complete(wf, ready_user_tasks(wf)[0], SETTLING_IN, {})
    # after the last visit the follow-up ends and the outcome is asked for
    assert ready_map(wf) == OUTCOME
    run_steps(wf, SETTLING_IN, [OUTCOME], {"outcome": "bolig_beholdt"})
    assert wf.is_completed()


def _deliver(wf, name, payload):
    engine_events.update_active_data(wf, payload)
    engine_events.reschedule_date_timers(wf)
    caught = engine_events.deliver_message(wf, name, payload)
    wf.do_engine_steps()
    return caught


def test_rent_arrears_reported_during_follow_up_warns_nav_and_the_visits_go_on(monkeypatch):
    clock = Clock(monkeypatch, datetime.now(UTC))
    wf = new_workflow(SETTLING_IN)
    _settle_in(wf, {"visit_interval": "P2W", "visit_count": 2})
    assert _deliver(wf, "rent_arrears_reported", {"arrears_amount": 14500}) == ["BoundaryEvent_rent_arrears"]
    assert ready_map(wf) == {"Task_arrears_plan": N}
    # NAV cannot solve it: the housing contact agrees measures (an early warning, no interruption)
    run_steps(
        wf,
        SETTLING_IN,
        [{"Task_arrears_plan": N}, {"Task_arrears_risk": H}],
        {"arrears_amount": 14500, "arrears_covered": False, "arrears_payment_plan": False},
    )
    # a second report while following up is caught again (the boundary stays armed)
    assert _deliver(wf, "rent_arrears_reported", {}) == ["BoundaryEvent_rent_arrears"]
    run_steps(wf, SETTLING_IN, [{"Task_arrears_plan": N}], {"arrears_covered": True})
    for _ in range(2):
        clock.set(timer_due(wf, "Event_visit_cycle") + timedelta(seconds=1))
        wf.refresh_timers()
        wf.do_engine_steps()
        run_steps(wf, SETTLING_IN, [{"Task_follow_up_visit": H}], {})
    run_steps(wf, SETTLING_IN, [OUTCOME], {})
    assert wf.is_completed()


def test_a_complaint_from_the_landlord_goes_to_the_housing_contact():
    wf = new_workflow(SETTLING_IN)
    _settle_in(wf, {"visit_interval": "P1M", "visit_count": 1})
    assert _deliver(wf, "tenancy_complaint_reported", {"complaint_summary": "Støy om natten"}) == [
        "BoundaryEvent_complaint"
    ]
    assert ready_map(wf) == {"Task_complaint_follow_up": H}


def test_no_early_warning_is_waited_for_before_the_follow_up_starts():
    wf = new_workflow(SETTLING_IN)
    assert "rent_arrears_reported" not in engine_events.waiting_message_names(wf)
    _settle_in(wf, {"visit_interval": "P1M", "visit_count": 1})
    assert engine_events.waiting_message_names(wf) == {"rent_arrears_reported", "tenancy_complaint_reported"}


def test_a_late_move_in_escalates_without_interrupting(monkeypatch):
    wf = new_workflow(SETTLING_IN)
    run_steps(wf, SETTLING_IN, SETTLING_START[:1], {})
    fire(wf, "BoundaryEvent_move_in_timer", monkeypatch)
    assert ready_map(wf) == {**SETTLING_START[1], "Task_escalate_move_in": H}


@pytest.mark.parametrize(("count", "interval"), [(0, "P1M"), (100, "P1W"), (3, "PT1S"), (-1, "P1D")])
def test_a_cycle_from_bad_data_stops_instead_of_spinning(count, interval):
    """The form bounds the count (1-24) and the interval (a list); data that slipped past
    it anyway (a start payload, an old version) must not make an unbounded or busy cycle."""
    wf = new_workflow(SETTLING_IN)
    run_steps(wf, SETTLING_IN, SETTLING_START[:2], {})
    (plan,) = ready_user_tasks(wf)
    plan.data.update({"visit_interval": interval, "visit_count": count, "follow_up_goals": "Bo trygt"})
    plan.run()
    with pytest.raises(WorkflowTaskException, match="repeat"):
        wf.do_engine_steps()


# ----------------------------------------------------------------- Forebygging av utkastelse

EVICTION_DATE = (date.today() + timedelta(days=40)).isoformat()
EVICTION_START = [
    {"Task_register_notice": H},
    {"Task_assess_arrears": N, "Task_assess_follow_up": HE},
    {"Task_negotiate": H},
]


def seven_days_before_at_nine(day: str) -> datetime:
    return datetime.combine(
        date.fromisoformat(day) - timedelta(days=7), datetime.min.time().replace(hour=9), tzinfo=OSLO
    ).astimezone(UTC)


@pytest.mark.parametrize(
    ("data", "rest"),
    [
        ({"agreement_reached": True}, []),
        ({"agreement_reached": False, "other_home_found": True}, [{"Task_find_other_home": H}]),
        (
            {"agreement_reached": False, "other_home_found": False},
            [{"Task_find_other_home": H}, {"Task_emergency_housing": N}],
        ),
    ],
    ids=["home-kept", "moved", "emergency-housing"],
)
def test_eviction_prevention_reaches_the_outcome_on_every_path(data, rest):
    wf = new_workflow(EVICTION)
    run_steps(wf, EVICTION, [*EVICTION_START, *rest, OUTCOME], {"eviction_date": EVICTION_DATE, **data})
    assert wf.is_completed()


def test_the_escalation_falls_a_week_before_the_eviction_date_and_moves_with_it(monkeypatch):
    wf = new_workflow(EVICTION)
    run_steps(wf, EVICTION, EVICTION_START[:2], {"eviction_date": EVICTION_DATE})
    assert ready_map(wf) == {"Task_negotiate": H}
    assert timer_due(wf, "BoundaryEvent_week_before") == seven_days_before_at_nine(EVICTION_DATE)

    # the enforcement officer sets a later date: the deadline moves, the plan is adjusted
    later = (date.fromisoformat(EVICTION_DATE) + timedelta(days=21)).isoformat()
    assert _deliver(wf, "eviction_date_changed", {"eviction_date": later}) == ["BoundaryEvent_eviction_date_changed"]
    assert ready_map(wf) == {"Task_negotiate": H, "Task_adjust_plan": H}
    assert timer_due(wf, "BoundaryEvent_week_before") == seven_days_before_at_nine(later)

    fire(wf, "BoundaryEvent_week_before", monkeypatch)
    assert ready_map(wf) == {"Task_negotiate": H, "Task_adjust_plan": H, "Task_escalate_eviction": H}
    for task in ready_user_tasks(wf):
        complete(wf, task, EVICTION, {"eviction_date": later, "agreement_reached": True})
    run_steps(wf, EVICTION, [OUTCOME], {})
    assert wf.is_completed()
